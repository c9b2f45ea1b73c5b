"""URL converters: a URL that names nothing that could exist is a 404 at routing."""

from werkzeug.routing import BaseConverter

from ..blogs import SLUG


class SlugConverter(BaseConverter):
    """``<slug:…>``: only what a blog's slug can be, so /favicon.ico and friends never match."""

    regex = SLUG.pattern
