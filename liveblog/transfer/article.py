"""A plain-text or Markdown live-blog article read as the parts of an export document.

The first line is the title. The text before the first label is the standfirst and the
opening entry; each paragraph that starts with a label such as ``UPDATE 0745 GMT:`` begins
an entry stamped with that time on the given day, in the label's zone (the blog's zone is
the first label's), the label taken out of the text. No Flask.
"""

import re
from collections.abc import Iterator
from datetime import date
from datetime import datetime
from typing import Any

from ..blocks import blocks_from_markdown
from ..blogs import suggest_slug
from ..errors import LiveblogError
from ..label_reader import WrittenLabel
from ..label_reader import find_label
from ..labels import zone
from .document import Part

# The zones newsrooms name in labels, by abbreviation.
ZONES = {
    "GMT": "UTC",
    "UTC": "UTC",
    "BST": "Europe/London",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "MSK": "Europe/Moscow",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
}
DESK = {"id": 1, "name": "Live desk", "email": "live-desk@import.liveblog.invalid"}
"""Who an article's entries are by: one user, found again by every later import."""
MAX_STANDFIRST = 2000


def read_article(text: str, day: date | None = None) -> Iterator[Part]:
    """The parts of the export document that the article ``text`` makes; ``day`` is the
    date of its labels' times (default: today in the first label's zone)."""
    title, _, body = text.lstrip("\ufeff").replace("\r\n", "\n").strip().partition("\n")
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", body) if p.strip()]
    starts = [index for index, paragraph in enumerate(paragraphs) if _label(paragraph)]
    if not title.strip() or not starts:
        raise LiveblogError(
            "The text has no paragraph that starts with a label such as 'UPDATE 0745 GMT:', "
            "so it is not a live-blog article this import reads."
        )
    first = _label(paragraphs[starts[0]])
    assert first is not None and first.zone is not None
    timezone = _zone_name(first.zone)
    day = day or datetime.now(zone(timezone)).date()
    entries: list[tuple[datetime, str]] = []
    opening = "\n\n".join(paragraphs[: starts[0]])
    for start, end in zip(starts, [*starts[1:], len(paragraphs)], strict=True):
        label = _label(paragraphs[start])
        assert label is not None and label.zone is not None
        moment = datetime(
            day.year, day.month, day.day, label.hour, label.minute,
            tzinfo=zone(_zone_name(label.zone)),
        )  # fmt: skip
        words = "\n\n".join([paragraphs[start][label.end :], *paragraphs[start + 1 : end]])
        if words.strip():
            entries.append((moment, words.strip()))
    if opening:
        entries.insert(0, (entries[0][0] if entries else _start(day, timezone), opening))
    moments = [moment for moment, _words in entries]
    started, ended = min(moments, default=_start(day, timezone)), max(moments, default=None)
    yield (
        "blog",
        {
            "slug": suggest_slug(title) or "imported-article",
            "title": title.strip(),
            "standfirst": _standfirst(opening),
            "status": "ended",
            "timezone": timezone,
            "label_format": f"{first.word or 'UPDATE'} %H%M %Z",
            "created_at": started.isoformat(),
            "updated_at": (ended or started).isoformat(),
            "started_at": started.isoformat(),
            "ended_at": (ended or started).isoformat(),
        },
    )
    yield "authors", [DESK]
    for number, (moment, words) in enumerate(entries, 1):
        yield "entry", _entry(number, moment, words)
    yield "uploads", []


def _label(paragraph: str) -> WrittenLabel | None:
    """The label that begins an entry (label_reader's table), naming its zone: the blog's
    zone comes from the first."""
    found = find_label(paragraph)
    return found if found is not None and found.zone is not None and found.hour >= 0 else None


def _zone_name(abbreviation: str) -> str:
    if abbreviation not in ZONES:
        known = ", ".join(sorted(ZONES))
        raise LiveblogError(
            f"The label's time zone {abbreviation!r} is not one this import knows ({known})."
        )
    return ZONES[abbreviation]


def _start(day: date, timezone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone(timezone))


def _standfirst(opening: str) -> str:
    """The opening text, or as much of it as a standfirst holds, cut at a word."""
    text = " ".join(opening.split())
    if len(text) <= MAX_STANDFIRST:
        return text
    return text[: MAX_STANDFIRST - 1].rsplit(" ", 1)[0] + "…"


def _entry(number: int, moment: datetime, words: str) -> dict[str, Any]:
    stamp = moment.isoformat()
    return {
        "id": number,
        "author": DESK["id"],
        "headline": None,
        "blocks": blocks_from_markdown(words),
        "status": "published",
        "published_at": stamp,
        "pinned": False,
        "key_event": False,
        "review": None,
        "review_note": None,
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
        "edited_at": None,
        "revisions": [],
    }
