"""Entry labels such as ``UPDATE 0745 GMT``, in the blog's own time zone and language. Pure."""

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from babel.dates import format_datetime

from .i18n import catalog_language
from .i18n import day_label
from .i18n import locale
from .i18n import translations
from .models import Blog
from .models import Entry

DEFAULT_FORMAT = "UPDATE %H%M %Z"
DIRECTIVES = "HMIpdmyYbBaAeZ%"
_DIRECTIVE = re.compile(r"%(.?)")
# Newsrooms write Greenwich time as GMT even where the zone database says UTC.
_ABBREVIATIONS = {"UTC": "GMT"}
# Names of days, months and AM/PM come from CLDR (Babel), in the blog's language.
_CLDR_PATTERNS = {"a": "EEE", "A": "EEEE", "b": "MMM", "B": "MMMM", "p": "a"}


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


def format_label(
    moment: datetime, timezone: str, label_format: str = DEFAULT_FORMAT, language: str = "en"
) -> str:
    """The label of an entry published at ``moment`` on a blog in ``timezone`` whose language
    is ``language`` (a tag such as ``ar``; one without a catalog reads in English)."""
    local = moment.astimezone(zone(timezone))
    language = catalog_language(language)
    abbreviation = local.tzname() or ""
    abbreviation = _ABBREVIATIONS.get(abbreviation, abbreviation)
    if abbreviation == "GMT":
        abbreviation = _greenwich(language)

    def expand(match: re.Match[str]) -> str:
        directive = match.group(1)
        if directive == "Z":
            return abbreviation
        if directive == "e":
            return str(local.day)
        if directive in _CLDR_PATTERNS:
            return format_datetime(local, _CLDR_PATTERNS[directive], locale=locale(language))
        return local.strftime(f"%{directive}")

    return _DIRECTIVE.sub(expand, label_format)


@cache
def _greenwich(language: str) -> str:
    """GMT as catalog ``language`` writes it (CLDR): ``GMT``, ``غرينتش``, ``UTC``…"""
    return str(locale(language).zone_formats["gmt"] % "")


def blog_label_format(blog: Blog) -> str:
    """The blog's label format; the default one is said in the blog's language."""
    return spoken_format(blog.label_format, blog.language)


def spoken_format(label_format: str, language: str) -> str:
    """``label_format`` as a blog in ``language`` uses it: the default one in that language."""
    if label_format != DEFAULT_FORMAT:
        return label_format
    # Translators: the default entry label, as strftime directives (%H%M hours and minutes,
    # %Z the zone); only the directives of DIRECTIVES may appear.
    return translations(catalog_language(language)).gettext("UPDATE %H%M %Z")


def local_datetime(moment: datetime, blog: Blog) -> str:
    """``moment`` as a reader reads a full date and time on ``blog``, on its clock and in its
    language: "Friday 24 March 2017, 07:45 GMT". The one place a date and time are put into
    words for readers."""
    language = catalog_language(blog.language)
    local = moment.astimezone(zone(blog.timezone))
    time = format_label(moment, blog.timezone, "%H:%M %Z", language)
    # Translators: a date and a time, e.g. "Friday 24 March 2017" and "07:45 GMT".
    pattern = translations(language).gettext("%(day)s, %(time)s")
    return pattern % {"day": day_label(local.date(), language), "time": time}


def entry_label(blog: Blog, entry: Entry) -> str | None:
    """The label an entry shows (``UPDATE 0745 GMT``); None until it has a publication time."""
    if entry.published_at is None:
        return None
    return format_label(entry.published_at, blog.timezone, blog_label_format(blog), blog.language)
