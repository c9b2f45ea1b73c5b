"""Entry labels such as ``UPDATE 0745 GMT``, in the blog's own time zone. Pure."""

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from .models import Blog
from .models import Entry

DEFAULT_FORMAT = "UPDATE %H%M %Z"
DIRECTIVES = "HMIpdmyYbBaAeZ%"
_DIRECTIVE = re.compile(r"%(.?)")
# Newsrooms write Greenwich time as GMT even where the zone database says UTC.
_ABBREVIATIONS = {"UTC": "GMT"}


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises ValueError for unknown names."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Europe"
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/London"
        ) from None


def format_problem(label_format: str) -> str | None:
    """What is wrong with a label format, or None."""
    for match in _DIRECTIVE.finditer(label_format):
        if match.group(1) == "" or match.group(1) not in DIRECTIVES:
            allowed = " ".join(f"%{d}" for d in DIRECTIVES)
            return f"may only use the directives {allowed}"
    return None


def format_label(moment: datetime, timezone: str, label_format: str = DEFAULT_FORMAT) -> str:
    """The label of an entry published at ``moment`` on a blog in ``timezone``."""
    local = moment.astimezone(zone(timezone))
    abbreviation = local.tzname() or ""
    abbreviation = _ABBREVIATIONS.get(abbreviation, abbreviation)

    def expand(match: re.Match[str]) -> str:
        directive = match.group(1)
        if directive == "Z":
            return abbreviation
        if directive == "e":
            return str(local.day)
        return local.strftime(f"%{directive}")

    return _DIRECTIVE.sub(expand, label_format)


def entry_label(blog: Blog, entry: Entry) -> str | None:
    """The label an entry shows (``UPDATE 0745 GMT``); None until it has a publication time."""
    if entry.published_at is None:
        return None
    return format_label(entry.published_at, blog.timezone, blog.label_format)
