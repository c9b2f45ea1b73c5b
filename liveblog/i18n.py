"""The readers' languages: gettext catalogs, text direction, plural rules, CLDR dates. Pure.

A language is one file, ``liveblog/translations/<lang>/LC_MESSAGES/messages.po``, read as
it is (no compile step). A blog whose language has no catalog reads in English.
"""

import io
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel import UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

CATALOGS_DIR = Path(__file__).resolve().parent / "translations"
FALLBACK = "en"


@cache
def languages() -> tuple[str, ...]:
    """The languages that have a catalog."""
    return tuple(
        sorted(path.parent.parent.name for path in CATALOGS_DIR.glob("*/LC_MESSAGES/messages.po"))
    )


def language_names() -> dict[str, str]:
    """Each catalog's language by its own name (``ar``: ``العربية``), for editors to choose."""
    return {
        language: locale(language).get_display_name(language) or language
        for language in languages()
    }


def catalog_language(tag: str) -> str:
    """The catalog a blog in language ``tag`` reads in: ``ar-SY`` → ``ar``, ``pt-BR`` →
    ``pt_BR`` or else ``pt``, and English for a language without one."""
    parts = tag.replace("_", "-").split("-")
    shipped = languages()
    candidates = ["_".join([parts[0].lower(), parts[1].upper()])] if len(parts) > 1 else []
    candidates.append(parts[0].lower())
    return next((name for name in candidates if name in shipped), FALLBACK)


@cache
def translations(language: str) -> Translations:
    """The gettext translations of catalog ``language`` (see ``catalog_language``)."""
    with (CATALOGS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def translations_for(tag: str) -> Translations:
    """The translations a blog in language ``tag`` reads in."""
    return translations(catalog_language(tag))


@cache
def locale(language: str) -> Locale:
    """The CLDR locale of catalog ``language``."""
    return Locale.parse(language)


def text_direction(tag: str) -> str:
    """``rtl`` for a language written right to left (ar, fa, he, ur…), else ``ltr``;
    from CLDR, so it holds for languages without a catalog too."""
    try:
        return Locale.parse(tag.replace("-", "_")).text_direction
    except (UnknownLocaleError, ValueError):
        return "ltr"


def cldr_date(day: date, pattern: str, language: str) -> str:
    """``day`` in the CLDR date ``pattern`` (``d MMMM y``…) with ``language``'s names."""
    return format_date(day, str(pattern), locale=locale(language))


def day_label(day: date, language: str) -> str:
    """A day heading such as ``Friday 24 March 2017``; the pattern is the catalog's, so each
    language orders it as its readers expect."""
    # Translators: a CLDR date pattern (EEEE weekday, d day, MMMM month, y year).
    return cldr_date(day, translations(language).gettext("EEEE d MMMM y"), language)


def plural_samples(language: str) -> dict[str, int]:
    """A whole number in each CLDR plural category (``one``, ``few``…) of ``language`` that has
    one below 200 (French ``many`` has none: scripts fall back to ``other``)."""
    rule = locale(language).plural_form
    samples: dict[str, int] = {}
    for number in range(200):
        samples.setdefault(rule(number), number)
    return samples


def live_strings(language: str) -> dict[str, Any]:
    """What ``live.js`` says, which the page hands it: the script holds no words of its own.
    Plural messages come by CLDR category, for the script to choose with ``Intl.PluralRules``;
    ``%(num)s`` and ``%(label)s`` are filled in by the script. ``language`` is the catalog's,
    whose plural rules the forms follow."""
    catalog = translations(language)
    return {
        "language": language,
        "live": catalog.gettext("Live"),
        "ended": catalog.gettext("Ended"),
        "newUpdate": catalog.gettext("New update: %(label)s"),
        "newUpdates": {
            category: catalog.ngettext("%(num)s new update", "%(num)s new updates", number)
            for category, number in plural_samples(language).items()
        },
    }
