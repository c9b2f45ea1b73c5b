"""Readers read a blog in its own language: catalogs, direction, labels, dates and plurals."""

import ast
import json
import re
from datetime import UTC
from datetime import date
from datetime import datetime
from html.parser import HTMLParser

import pytest
from babel.dates import parse_pattern
from babel.messages.extract import DEFAULT_KEYWORDS
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

from liveblog import i18n
from liveblog import store
from liveblog.i18n import CATALOGS_DIR
from liveblog.i18n import catalog_language
from liveblog.i18n import day_label
from liveblog.i18n import languages
from liveblog.i18n import live_strings
from liveblog.i18n import text_direction
from liveblog.labels import DEFAULT_FORMAT
from liveblog.labels import blog_label_format
from liveblog.labels import format_label
from liveblog.labels import format_problem
from liveblog.models import Blog
from tests.editor_helpers import EditorClient
from tests.factories import open_blog
from tests.support import ROOT
from tests.support import soup

MORNING = datetime(2017, 3, 24, 7, 45, tzinfo=UTC)
TEMPLATES = sorted(ROOT.glob("themes/*/templates/**/*.html"))
SCRIPTS = sorted((ROOT / "themes/default/static").glob("*.js"))
GETTEXT = {"_", "gettext", "ngettext"}
# Words a person reads: two words with a space between (not class names or selectors such
# as "blog-status blog-status-live" or "figure li[data-lat]"), or one capitalised word.
PROSE = re.compile(r"(?<![\w-])[A-Za-z]{2,} [A-Za-z]{2,}(?![\w\[-])|^[A-Z][a-z]+[.!?]?$")
LETTER = re.compile(r"[^\W\d_]")
READ_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder"}
JS_TOKENS = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*.*?\*/', re.S)


def extracted() -> dict[str, tuple[str, ...]]:
    """Every message of the code and themes, extracted as babel.cfg says translators do."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    messages = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        ids = (message,) if isinstance(message, str) else tuple(message)
        messages[ids[0]] = ids
    return messages


def shipped(language: str):
    with (CATALOGS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=language)


def test_english_arabic_and_french_ship():
    assert {"en", "ar", "fr"} <= set(languages())


@pytest.mark.parametrize("language", languages())
def test_every_catalog_is_complete(language):
    messages = extracted()
    catalog = shipped(language)
    ids = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert set(ids) == set(messages), "run pybabel update (README: Translating)"
    assert not catalog.obsolete, "run pybabel update with --ignore-obsolete"
    for msgid, message in ids.items():
        assert not message.fuzzy, f"{language}: {msgid!r} is fuzzy"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: {msgid!r} is not translated"
        if isinstance(message.id, tuple):
            assert message.id == messages[msgid]
            assert len(strings) == catalog.num_plurals, f"{language}: {msgid!r} plural forms"
        assert list(catalog.check()) == []


@pytest.mark.parametrize("language", languages())
def test_patterns_in_catalogs_stay_patterns(language):
    translations = i18n.translations(language)
    assert format_problem(translations.gettext(DEFAULT_FORMAT)) is None
    for pattern in ("EEEE d MMMM y", "d MMMM y"):
        assert parse_pattern(translations.gettext(pattern)).format


class _Text(HTMLParser):
    """The words of a template's markup (Jinja's own parts replaced by a marker)."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def handle_data(self, data: str) -> None:
        self.words.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        read = [name for name in READ_ATTRIBUTES if values.get(name)]
        if tag == "meta" and values.get("name") == "description":
            read.append("content")
        self.words += [values[name] or "" for name in read]


def unwrapped(source: str) -> list[str]:
    """Reader-facing strings of a template that do not go through gettext."""
    found = []
    markup = []
    calls: list[bool] = []
    previous = None
    for _lineno, kind, value in Environment(extensions=["jinja2.ext.i18n"]).lex(source):
        if kind == "data":
            markup.append(value)
        elif kind in ("variable_begin", "block_begin"):
            markup.append("\x00")
        elif kind == "operator" and value == "(":
            calls.append(previous in GETTEXT)
        elif kind == "operator" and value == ")":
            calls.pop()
        elif kind == "string" and not (calls and calls[-1]):
            if PROSE.search(literal := ast.literal_eval(value)):
                found.append(literal)
        previous = value if kind == "name" else None
    text = _Text()
    text.feed("".join(markup))
    found += [w.strip() for w in text.words if LETTER.search(w.replace("\x00", ""))]
    return found


def unwrapped_in_script(source: str) -> list[str]:
    """Words a reader script would show that the page did not hand it: its string literals
    (read left to right with its comments, so that neither hides in the other)."""
    literals = [
        ast.literal_eval(match.group())
        for match in JS_TOKENS.finditer(source)
        if match.group()[0] in "\"'"
    ]
    return [literal for literal in literals if PROSE.search(literal) and literal != "use strict"]


def test_the_checks_find_a_string_left_in_english():
    assert unwrapped('<p class="x">Breaking news</p>') == ["Breaking news"]
    assert unwrapped('<nav aria-label="More">{{ _("Fine") }}</nav>') == ["More"]
    assert unwrapped("{{ 'Unknown author' if x else _('Known author') }}") == ["Unknown author"]
    assert unwrapped('<meta name="description" content="Live coverage">') == ["Live coverage"]
    assert unwrapped_in_script('el.textContent = "Ended";') == ["Ended"]
    assert unwrapped_in_script('el.textContent = count + " new updates";') == [" new updates"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_templates_say_nothing_outside_the_catalogs(template):
    assert unwrapped(template.read_text()) == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_reader_scripts_say_nothing_of_their_own(script):
    assert unwrapped_in_script(script.read_text()) == []


@pytest.mark.parametrize(
    ("tag", "catalog", "direction"),
    [
        ("ar", "ar", "rtl"),
        ("ar-SY", "ar", "rtl"),
        ("fr", "fr", "ltr"),
        ("fr-CA", "fr", "ltr"),
        ("en", "en", "ltr"),
        ("he", "en", "rtl"),  # no Hebrew catalog yet: English words, right to left
        ("pt-BR", "en", "ltr"),
        ("zz-qq", "en", "ltr"),
    ],
)
def test_languages_resolve_to_a_catalog_and_a_direction(tag, catalog, direction):
    assert catalog_language(tag) == catalog
    assert text_direction(tag) == direction


@pytest.mark.parametrize(
    ("language", "label_format", "timezone", "expected"),
    [
        ("ar", "تحديث %H%M بتوقيت %Z", "UTC", "تحديث 0745 بتوقيت غرينتش"),
        ("ar", "%A %e %B، %H:%M", "Asia/Damascus", "الجمعة 24 مارس، 09:45"),
        ("ar", "%I:%M %p", "UTC", "07:45 ص"),
        ("fr", "MISE À JOUR %Hh%M %Z", "UTC", "MISE À JOUR 07h45 UTC"),
        ("fr", "%a %e %b, %Hh%M %Z", "Europe/Paris", "ven. 24 mars, 08h45 CET"),
        ("fr", "%A %d/%m/%Y", "UTC", "vendredi 24/03/2017"),
        ("en", "%a %e %b, %H%M %Z", "UTC", "Fri 24 Mar, 0745 GMT"),
        ("pt-BR", "%A %H%M %Z", "UTC", "Friday 0745 GMT"),
    ],
)
def test_labels_in_the_blogs_language(language, label_format, timezone, expected):
    assert format_label(MORNING, timezone, label_format, language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "تحديث 0745 بتوقيت غرينتش"),
        ("fr", "MISE À JOUR 07h45 UTC"),
        ("en", "UPDATE 0745 GMT"),
        ("de", "UPDATE 0745 GMT"),
    ],
)
def test_a_blog_on_the_default_format_gets_its_languages_default(language, expected):
    blog = Blog(language=language, label_format=DEFAULT_FORMAT, timezone="UTC")
    assert format_label(MORNING, "UTC", blog_label_format(blog), language) == expected


def test_a_blog_with_its_own_format_keeps_it():
    blog = Blog(language="ar", label_format="عاجل %H:%M", timezone="UTC")
    assert format_label(MORNING, "UTC", blog_label_format(blog), "ar") == "عاجل 07:45"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "الجمعة، 24 مارس 2017"),
        ("fr", "vendredi 24 mars 2017"),
        ("en", "Friday 24 March 2017"),
    ],
)
def test_day_headings_in_the_blogs_language(language, expected):
    assert day_label(date(2017, 3, 24), language) == expected


def test_arabic_live_strings_have_its_six_plural_forms():
    strings = live_strings("ar")
    assert strings["language"] == "ar"
    assert strings["newUpdates"] == {
        "zero": "لا تحديثات جديدة",
        "one": "تحديث جديد واحد",
        "two": "تحديثان جديدان",
        "few": "%(num)s تحديثات جديدة",
        "many": "%(num)s تحديثًا جديدًا",
        "other": "%(num)s تحديث جديد",
    }
    assert strings["newUpdate"] == "تحديث جديد: %(label)s"
    assert live_strings("fr")["newUpdates"]["one"] == "%(num)s nouvelle mise à jour"


def test_a_new_language_is_one_catalog_file(tmp_path, monkeypatch):
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Key events"\nmsgstr "Momentos clave"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "CATALOGS_DIR", tmp_path)
    i18n.languages.cache_clear()
    i18n.translations.cache_clear()
    try:
        assert catalog_language("es-MX") == "es"
        assert i18n.translations_for("es").gettext("Key events") == "Momentos clave"
        assert i18n.translations_for("es").gettext("Older updates") == "Older updates"
    finally:
        i18n.languages.cache_clear()
        i18n.translations.cache_clear()


# Pages


def arabic_blog(api, **fields):
    open_blog(api, slug="hama-ar", title="هجوم حماة", status="live", language="ar", **fields)
    return "hama-ar"


def test_an_arabic_blogs_pages_read_right_to_left_in_arabic(client, api):
    slug = arabic_blog(api)
    api.post_entry(blog=slug, body="دخلت الفصائل قمحانة.", pinned=True, key_event=True)
    page = soup(client.get(f"/{slug}/"))
    assert (page.html["lang"], page.html["dir"]) == ("ar", "rtl")
    assert page.select_one(".blog-status").text == "مباشر"
    assert page.select_one("#key-events-title").text == "أبرز الأحداث"
    assert page.select_one(".entry-badge-pinned").text == "مثبّت"
    assert re.fullmatch(r"تحديث \d{4} بتوقيت غرينتش", page.select_one(".entry-label").text)
    assert page.select_one(".live-reveal").text == "عرض التحديثات الجديدة"
    strings = json.loads(page.select_one(".live")["data-strings"])
    assert strings == live_strings("ar")
    data = json.loads(page.select_one('script[type="application/ld+json"]').string)
    assert data["inLanguage"] == "ar"
    embed = soup(client.get(f"/{slug}/embed"))
    assert (embed.html["lang"], embed.html["dir"]) == ("ar", "rtl")


def test_a_french_permalink_reads_in_french(client, api):
    open_blog(api, slug="hama-fr", title="Hama", status="live", language="fr")
    first = api.post_entry(blog="hama-fr", body="Premier.", published_at="2017-03-24T07:45:00Z")
    api.post_entry(blog="hama-fr", body="Second.", published_at="2017-03-24T08:00:00Z")
    page = soup(client.get(f"/hama-fr/updates/{first['id']}"))
    assert (page.html["lang"], page.html["dir"]) == ("fr", "ltr")
    assert page.select_one(".entry-label").text == "MISE À JOUR 07h45 UTC"
    assert page.select_one(".entry-all").text == "Voir toutes les mises à jour"
    newer = " ".join(page.select_one(".entry-newer").text.split())
    assert newer == "Mise à jour suivante MISE À JOUR 08h00 UTC"
    assert page.select_one(".entry-date").text == "vendredi 24 mars 2017 à 07:45 UTC"
    assert page.select_one(".entry-newer-count").text.strip() == "1 mise à jour plus récente"
    assert page.select_one("#share-title").text == "Partager cette mise à jour"
    assert page.select_one(".site-footer").text.strip() == "Publié avec Liveblog."


def test_an_unknown_language_reads_in_english_without_error(client, api):
    open_blog(api, slug="hama-x", title="Hama", status="live", language="qq")
    api.post_entry(blog="hama-x", body="News.", published_at="2017-03-24T07:45:00Z")
    response = client.get("/hama-x/")
    assert response.status_code == 200
    page = soup(response)
    assert (page.html["lang"], page.html["dir"]) == ("qq", "ltr")
    assert page.select_one(".entry-label").text == "UPDATE 0745 GMT"
    assert page.select_one(".blog-status").text == "Live"


def test_stored_entry_html_is_rendered_in_the_blogs_language(client, api):
    slug = arabic_blog(api)
    social = {"type": "social", "url": "https://x.com/a/status/1", "text": "قصف"}
    entry = api.post_entry(blog=slug, blocks=[social])
    shown = soup(client.get(f"/{slug}/updates/{entry['id']}"))
    assert shown.select_one(".social-original").text == "عرض المنشور الأصلي"
    assert shown.select_one(".social-author").text.strip() == "ناشر غير معروف"
    api.as_role("admin").patch(f"/api/v1/blogs/{slug}", json={"language": "fr"})
    shown = soup(client.get(f"/{slug}/updates/{entry['id']}"))
    assert shown.select_one(".social-original").text == "Voir la publication d’origine"
    assert shown.html["dir"] == "ltr"


def test_feeds_speak_the_blogs_language(client, api):
    slug = arabic_blog(api)
    api.post_entry(blog=slug, body="خبر.", key_event=True)
    feed = client.get(f"/{slug}/key-events.json").get_json()
    assert feed["title"] == "أبرز الأحداث — هجوم حماة"
    assert feed["language"] == "ar"
    assert feed["items"][0]["tags"] == ["حدث بارز"]
    assert feed["items"][0]["title"].startswith("تحديث ")


def test_an_admin_makes_an_arabic_blog_in_the_editor(client, admin, session):
    editor = EditorClient(client)
    editor.log_in(admin.email)
    form = soup(client.get("/editor/"))
    assert {o["value"]: o["label"] for o in form.select("#languages option")} == {
        "ar": "العربية",
        "en": "English",
        "fr": "français",
    }
    response = editor.post(
        "/editor/blogs", {"title": "هجوم حماة", "slug": "hama-ar", "language": "ar"}
    )
    assert response.status_code == 303
    blog = store.get_blog(session, "hama-ar")
    assert (blog.language, blog.label_format) == ("ar", DEFAULT_FORMAT)
    preview = soup(client.get("/editor/blogs/hama-ar/")).select_one("#preview")
    assert (preview["lang"], preview["dir"]) == ("ar", "rtl")
    refused = editor.post("/editor/blogs", {"title": "x", "slug": "x", "language": "not a tag"})
    assert refused.status_code == 422
    assert "language tag" in soup(refused).select_one("#language-error").text
