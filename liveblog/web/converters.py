"""URL converters: a URL that names nothing that could exist is a 404 at routing."""

from werkzeug.routing import BaseConverter

from ..blogs import SLUG
from ..store import MAX_ID


class SlugConverter(BaseConverter):
    """``<slug:…>``: only what a blog's slug can be, so /favicon.ico and friends never match."""

    regex = SLUG.pattern


def numbers_below(limit: int) -> str:
    """A regular expression for the decimal numbers from 1 to ``limit - 1``, no leading zeros."""
    top = str(limit - 1)
    shorter = [f"[1-9][0-9]{{0,{len(top) - 2}}}"] if len(top) > 1 else []
    same_length = [
        f"{top[:place]}[{int(place == 0)}-{int(digit) - 1}][0-9]{{{len(top) - place - 1}}}"
        for place, digit in enumerate(top)
        if int(digit) > int(place == 0)
    ]
    return "|".join([*shorter, *same_length, top])


class IdConverter(BaseConverter):
    """``<id:…>``: a row id, which the database keeps in 32 bits. Only numbers that fit
    match, so a larger one is a 404 for every method (werkzeug's ``int`` would hand 2**63
    to the query, and a converter refusing it after the path matched gives 405)."""

    regex = numbers_below(MAX_ID)

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))
