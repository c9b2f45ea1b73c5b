"""The label an editor typed or pasted at the start of an update, read back into a time. Pure.

Newsrooms write "UPDATE 0745 GMT: Anti-Assad forces…" (or "0745 GMT —", "Update 07:45 BST:",
"MISE À JOUR 07h45 GMT :", "تحديث 0745 بتوقيت غرينتش:" …). ``read_label`` finds such a label,
takes its time as the moment the update is published (in the blog's zone, or the zone the
label names where that is unambiguous; the most recent such moment not in the future) and
gives back the text without it. ``PATTERNS`` is the one table of what is recognised: the
server reads labels with it, and the composer asks the server what it understood.
"""

import re
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone
from datetime import tzinfo

from .labels import DEFAULT_FORMAT
from .labels import format_label
from .labels import zone

# A label's minute is "now" for a minute: 0745 pasted at 07:44:50 (a slow clock) is today.
TOLERANCE = timedelta(minutes=1)

# Zones a label may name, by what it says: a fixed offset from UTC in minutes, or an IANA
# zone. Abbreviations that name several zones (CST, IST, AST…) are left out on purpose.
ZONES: dict[str, int | str] = {
    "GMT": 0,
    "UTC": 0,
    "UT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "CEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "EST": -300,
    "EDT": -240,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "JST": 540,
    "HKT": 480,
    "AEST": 600,
    "AEDT": 660,
    "heure de Paris": "Europe/Paris",
    "heure de Londres": "Europe/London",
    "heure française": "Europe/Paris",
    "بتوقيت غرينتش": 0,
    "بتوقيت جرينتش": 0,
    "بتوقيت غرينيتش": 0,
    "ت.غ": 0,
    "بتوقيت دمشق": "Asia/Damascus",
    "بتوقيت بيروت": "Asia/Beirut",
    "بتوقيت القاهرة": "Africa/Cairo",
    "بتوقيت بغداد": "Asia/Baghdad",
    "بتوقيت مكة المكرمة": "Asia/Riyadh",
    "بتوقيت مكة": "Asia/Riyadh",
}
AMBIGUOUS = frozenset({"CST", "IST", "AST", "BT", "ECT", "SST", "GST", "PKT"})

# The parts every pattern is made of. Digits are read as ASCII (Arabic-Indic ones too).
_TIME = (
    r"(?:(?P<hhmm>(?:[01]\d|2[0-3])[0-5]\d)"
    r"|(?P<hour>[01]?\d|2[0-3])\s?(?P<sep>[:.h])\s?(?P<minute>[0-5]\d))"
)
_AMPM = r"(?:\s?(?P<ampm>[ap]\.?m\.?)(?![a-z]))?"
_ABBREVIATION = r"(?-i:(?P<zone>[A-Z]{1,5}))"
_SPACE = r"[ \t\u00a0\u202f]"
_END = rf"(?:{_SPACE}*(?::|—|–|-{{1,2}}|\||،){_SPACE}*|{_SPACE}*(?:\n|$))"


def _zone_names(*names: str) -> str:
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


_FRENCH_ZONE = _zone_names(*(name for name in ZONES if name.startswith("heure")))
_ARABIC_ZONE = _zone_names(*(name for name in ZONES if not name.isascii()))


@dataclass(frozen=True)
class Pattern:
    language: str
    example: str
    regex: re.Pattern[str]


def _pattern(language: str, example: str, source: str) -> Pattern:
    return Pattern(language, example, re.compile(source, re.IGNORECASE))


PATTERNS = (
    _pattern(
        "en",
        "UPDATE 0745 GMT:",
        rf"(?P<word>UPDATE[DS]?|LATEST|BREAKING)[,:]?{_SPACE}+(?:at{_SPACE}+)?{_TIME}{_AMPM}"
        rf"(?:{_SPACE}+{_ABBREVIATION})?{_END}",
    ),
    _pattern(
        "fr",
        "MISE À JOUR 07h45 GMT :",
        rf"(?P<word>MISE{_SPACE}+À{_SPACE}+JOUR|MAJ|ACTUALISATION){_SPACE}*[,:]?{_SPACE}*"
        rf"(?:à{_SPACE}+)?{_TIME}(?:{_SPACE}+(?:{_ABBREVIATION}|(?P<zone_fr>{_FRENCH_ZONE})))?"
        rf"{_END}",
    ),
    _pattern(
        "ar",
        "تحديث 0745 بتوقيت غرينتش:",
        rf"(?P<word>آخر{_SPACE}+تحديث|تحديث|عاجل){_SPACE}*[:،]?{_SPACE}*(?:الساعة{_SPACE}+)?"
        rf"{_TIME}(?:{_SPACE}+(?:(?P<zone_ar>{_ARABIC_ZONE})|{_ABBREVIATION}))?{_END}",
    ),
    # A time alone, "0745 GMT —" or "07:45 —": with a zone or a colon, so "1945 — the war…"
    # stays text.
    _pattern(
        "",
        "0745 GMT —",
        rf"{_TIME}{_AMPM}{_SPACE}+(?-i:(?P<zone_alone>[A-Z]{{1,5}})){_END}"
        rf"|(?P<hour_alone>[01]?\d|2[0-3]):(?P<minute_alone>[0-5]\d){_END}",
    ),
)

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_DIRECTIVE = re.compile(r"%(.)")
_FORMAT_PARTS = {
    "H": r"(?P<hour>[01]\d|2[0-3])",
    "I": r"(?P<hour>0[1-9]|1[0-2])",
    "M": r"(?P<minute>[0-5]\d)",
    "p": r"(?P<ampm>[AP]M)",
    "Z": r"(?-i:(?P<zone>[A-Z]{1,5}|[+-]\d\d))",
    "d": r"\d\d",
    "e": r"\d{1,2}",
    "m": r"\d\d",
    "y": r"\d\d",
    "Y": r"\d{4}",
    "b": r"\w+",
    "B": r"\w+",
    "a": r"\w+",
    "A": r"\w+",
    "%": "%",
}


def format_pattern(label_format: str) -> re.Pattern[str] | None:
    """The blog's own label format as a pattern, or None when it says no time of day."""
    if "%H" not in label_format and "%I" not in label_format:
        return None
    parts: list[str] = []
    position = 0
    seen: set[str] = set()
    for match in _DIRECTIVE.finditer(label_format):
        parts.append(_literal(label_format[position : match.start()]))
        directive = match.group(1)
        part = _FORMAT_PARTS.get(directive, re.escape(match.group(0)))
        if directive in seen and "?P<" in part:
            part = re.sub(r"\?P<\w+>", "?:", part)  # a directive given twice is read once
        seen.add(directive)
        parts.append(part)
        position = match.end()
    parts.append(_literal(label_format[position:]))
    return re.compile("".join(parts) + _END, re.IGNORECASE)


def _literal(text: str) -> str:
    """Literal text of a label format, where any run of spaces matches any other."""
    return rf"{_SPACE}+".join(map(re.escape, text.split(" ")))


_ZONE_GROUPS = ("zone", "zone_fr", "zone_ar", "zone_alone")


@dataclass(frozen=True)
class WrittenLabel:
    """A label found at the start of a text, as written."""

    written: str
    """The label with what separates it from the text, e.g. ``UPDATE 0745 GMT:``."""
    hour: int
    minute: int
    zone: str | None
    """The zone as the label names it (``GMT``, ``بتوقيت غرينتش``), if it does."""
    word: str | None
    """The word before the time (``UPDATE``, ``MISE À JOUR``), if there is one."""
    end: int
    """Where the text after the label starts."""


def find_label(text: str, label_format: str = DEFAULT_FORMAT) -> WrittenLabel | None:
    """The label at the start of ``text`` (the blog's own format first, then ``PATTERNS``)."""
    digits = text.translate(_DIGITS)
    start = len(digits) - len(digits.lstrip())
    own = format_pattern(label_format)
    for regex in ([own] if own else []) + [pattern.regex for pattern in PATTERNS]:
        match = regex.match(digits, start)
        alone = match.group("zone_alone") if match and "zone_alone" in regex.groupindex else None
        if match is not None and (alone is None or alone in ZONES or alone in AMBIGUOUS):
            return _written(text, match)
    return None


def _written(text: str, match: re.Match[str]) -> WrittenLabel:
    found = {name: value for name, value in match.groupdict().items() if value}
    if "hhmm" in found:
        hour, minute = int(found["hhmm"][:2]), int(found["hhmm"][2:])
    else:
        hour = int(found.get("hour") or found["hour_alone"])
        minute = int(found.get("minute") or found["minute_alone"])
    ampm = found.get("ampm", "").replace(".", "").lower()
    if ampm and not 1 <= hour <= 12:
        hour = -1  # "19:45 pm" is no time
    elif ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    zone_name = next((found[name] for name in _ZONE_GROUPS if name in found), None)
    word = text[match.start("word") : match.end("word")] if found.get("word") else None
    return WrittenLabel(text[: match.end()].strip(), hour, minute, zone_name, word, match.end())


@dataclass(frozen=True)
class ReadLabel:
    """What a label at the start of an update says: when, and the text without it."""

    written: str
    published_at: datetime
    text: str
    note: str | None = None
    """Something the editor should know about how the time was read, or None."""


def read_label(
    text: str,
    timezone_name: str,
    now: datetime,
    label_format: str = DEFAULT_FORMAT,
) -> ReadLabel | None:
    """The label at the start of ``text`` read on a blog in ``timezone_name`` at ``now``;
    None when the text does not start with one (or names no time of day that exists)."""
    written = find_label(text, label_format)
    if written is None or not 0 <= written.hour <= 23:
        return None
    clock, note = _clock(written.zone, timezone_name, now)
    moment, gap_note = most_recent(written.hour, written.minute, clock, now)
    rest = text[written.end :].lstrip()
    if not rest.strip():
        return None  # a label with nothing after it is not an update yet
    return ReadLabel(written.written, moment, rest, note or gap_note)


def _clock(named: str | None, timezone_name: str, now: datetime) -> tuple[tzinfo, str | None]:
    """The clock a label's time is read on: the blog's, unless the label names another."""
    blog_zone = zone(timezone_name)
    if named is None or named == now.astimezone(blog_zone).tzname():
        return blog_zone, None
    known = ZONES.get(named)
    if isinstance(known, int):
        return timezone(timedelta(minutes=known), named), None
    if isinstance(known, str):
        return zone(known), None
    reason = "could name several time zones" if named in AMBIGUOUS else "is not a zone we know"
    return blog_zone, f"{named} {reason}: the time was read on the blog's clock ({timezone_name})."


def most_recent(
    hour: int, minute: int, clock: tzinfo, now: datetime
) -> tuple[datetime, str | None]:
    """The latest moment (in UTC) at ``hour:minute`` on ``clock`` that is not after ``now``
    (give or take ``TOLERANCE``), and a note when that time did not exist that day (clocks went
    forward), so it was read as the moment after the gap."""
    latest = now + TOLERANCE
    today = now.astimezone(clock).date()
    for day in (today, today - timedelta(days=1), today - timedelta(days=2)):
        readings = sorted(
            {_instant(day, hour, minute, clock, fold) for fold in (0, 1)}, reverse=True
        )
        for instant in readings:
            if instant <= latest:
                local = instant.astimezone(clock)
                if (local.hour, local.minute) != (hour, minute):
                    return instant, (
                        f"{hour:02d}:{minute:02d} did not exist on {day:%-d %B} (the clocks "
                        f"went forward), so it was read as {local:%H:%M %Z}."
                    )
                return instant, None
    raise AssertionError("a time of day is always found within two days")


def _instant(day: date, hour: int, minute: int, clock: tzinfo, fold: int) -> datetime:
    local = datetime.combine(day, time(hour, minute, fold=fold), clock)
    return local.astimezone(UTC)


def split_updates(
    text: str, timezone_name: str, now: datetime, label_format: str = DEFAULT_FORMAT
) -> list[ReadLabel]:
    """The updates in a pasted text whose paragraphs each begin with a label, oldest first;
    the paragraphs after a label belong to it. Empty unless there are two or more."""
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))]
    chunks: list[list[str]] = []
    for paragraph in filter(None, paragraphs):
        if find_label(paragraph, label_format) is not None or not chunks:
            chunks.append([paragraph])
        else:
            chunks[-1].append(paragraph)
    updates = [read_label("\n\n".join(chunk), timezone_name, now, label_format) for chunk in chunks]
    if len(updates) < 2 or None in updates:
        return []
    return sorted(filter(None, updates), key=lambda update: update.published_at)


def describe(
    label: ReadLabel, timezone_name: str, now: datetime, label_format: str = DEFAULT_FORMAT
) -> str:
    """How the composer says what it understood: "UPDATE 0745 GMT, today 1 December"."""
    local = label.published_at.astimezone(zone(timezone_name))
    today = now.astimezone(zone(timezone_name)).date()
    days = {today: "today", today - timedelta(days=1): "yesterday"}
    day = days.get(local.date(), local.strftime("%A"))
    shown = format_label(label.published_at, timezone_name, label_format)
    return f"{shown}, {day} {local.day} {local:%B}"
