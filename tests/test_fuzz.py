"""No input gets a 5xx: hypothesis sends every route hostile paths, query strings, headers
and bodies, as every kind of caller, on every backend.

The routes come from the app's own URL map. ``ROUTES`` gives each endpoint its query
parameters and the body it reads, and ``test_every_route_is_fuzzed`` fails for a rule it
does not cover, so a new route cannot go unfuzzed. Each path argument is filled by its
converter's strategy, which mixes values naming something that exists (the world's blogs,
entries, users, tokens, files) with hostile ones. Each request aims at one part (path,
method, query, headers, credentials, body), hostile while the others stay valid, so that
it gets past the checks of the rest; and a write that succeeds is read back through every
reader and editor view of its blog. A response of 500 or more, or anything the app logs at
ERROR (every traceback the error handlers log), fails the example.

On CI (``CI`` set, as ``.ci/run`` has it) the examples are derandomized, so a failure there
reproduces; elsewhere each run draws new ones, and ``--hypothesis-seed=N`` repeats a run.
"""

import copy
import io
import ipaddress
import json
import logging
import os
import re
import struct
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import note
from hypothesis import settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select
from werkzeug.routing import Rule

from liveblog import accounts
from liveblog import db
from liveblog import store
from liveblog import web
from liveblog.blogs import SLUG
from liveblog.embeds import fetch
from liveblog.embeds import uploads
from liveblog.models import ROLES
from liveblog.models import ApiToken
from liveblog.models import User
from liveblog.store import encode_cursor
from liveblog.web.editor import static_url
from liveblog.web.templating import asset_url
from liveblog.web.templating import themes
from tests.editor_helpers import EditorClient
from tests.editor_helpers import csrf_of
from tests.factories import ApiClient
from tests.factories import make_user
from tests.factories import staff_desk

CALLERS = ("anonymous", *ROLES)
FUZZ = settings(
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)


# What each endpoint reads besides its path: query parameters (every ``request.args`` of the
# web layer) and the kind of body its writing method takes.


@dataclass(frozen=True)
class Route:
    params: tuple[str, ...] = ()
    body: str | None = None


ROUTES = {
    "public.index": Route(),
    "public.live_page": Route(("before", "after", "order")),
    "public.entry": Route(),
    "public.entry_history": Route(),
    "public.asset": Route(),
    "public.media": Route(),
    "public.seq": Route(),
    "public.author_page": Route(("before",)),
    "embed.embed": Route(("teaser", "update", "seq")),
    "embed.host_script": Route(),
    "oembed.oembed": Route(("url", "format", "maxwidth", "maxheight")),
    "feeds.feed": Route(("key_events",)),
    "feeds.key_events": Route(),
    "live.events": Route(("since",)),
    "live.changes": Route(("since",)),
    "api.openapi_document": Route(),
    "api.docs": Route(),
    "api.export_blog": Route(),
    "api.list_blogs": Route(),
    "api.create_blog": Route(body="blog-new"),
    "api.get_blog": Route(),
    "api.update_blog": Route(body="blog"),
    "api.delete_blog": Route(),
    "api.list_members": Route(),
    "api.add_member": Route(body="member"),
    "api.remove_member": Route(),
    "api.list_entries": Route(("limit", "cursor")),
    "api.create_entry": Route(body="entry"),
    "api.preview_entry": Route(body="entry"),
    "api.get_entry": Route(),
    "api.update_entry": Route(body="entry"),
    "api.delete_entry": Route(),
    "api.list_revisions": Route(),
    "api.retry_lookups": Route(),
    "api.read_labels": Route(body="labels"),
    "api.list_users": Route(),
    "api.create_user": Route(body="user-new"),
    "api.update_user": Route(body="user"),
    "api.get_me": Route(),
    "api.update_me": Route(body="profile"),
    "api.create_user_token": Route(body="token"),
    "api.revoke_token": Route(),
    "api.resolve_embed": Route(body="resolve"),
    "api.upload": Route(body="upload"),
    "editor.login": Route(("next",), body="form-login"),
    "editor.logout": Route(body="form"),
    "editor.dashboard": Route(),
    "editor.create_blog": Route(body="form-blog"),
    "editor.change_status": Route(body="form-status"),
    "editor.delete_blog": Route(body="form-delete"),
    "editor.add_member": Route(body="form-member"),
    "editor.remove_member": Route(body="form"),
    "editor.compose": Route(),
    "editor.label_example": Route(("label_format", "timezone", "language")),
    "editor.reader_frame": Route(),
    "editor.desk_events": Route(),
    "editor.editing": Route(body="form"),
    "editor.users": Route(),
    "editor.create_user": Route(body="form-user-new"),
    "editor.change_user": Route(body="form-user"),
    "editor.create_token": Route(body="form-token"),
    "editor.revoke_token": Route(body="form"),
    "editor.static": Route(),
    "editor.profile": Route(("saved",)),
    "editor.save_profile": Route(body="form-profile"),
}
# Which test fuzzes an endpoint, by its blueprint.
GROUPS = {
    "public": "reader",
    "feeds": "reader",
    "live": "reader",
    "embed": "reader",
    "oembed": "reader",
    "api": "api",
    "editor": "editor",
}
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


def group_of(endpoint: str) -> str | None:
    return GROUPS.get(endpoint.split(".")[0])


# Hostile values

NASTY_TEXT = [
    "",
    " ",
    "\t\n",
    "\x00",
    "a\x00b",
    "\x7f\x1b[2J",
    "\u202e\u200b\ufeff",
    "💥" * 50,
    "ﷺ" * 100,
    "İstanbul",
    "ß" * 300,
    "\ud800",
    "\udfff\ud83d",
    "null",
    "true",
    "NaN",
    "-Infinity",
    "1e999",
    "-0",
    "0x1F",
    "²",
    "١٢٣",
    "１２３",
    "%s%n%x",
    "{{7*7}}",
    "{% raw %}",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "' OR 1=1 --",
    "../../etc/passwd",
    "C:\\Windows\\win.ini",
    "http://[::1",
    "http://127.0.0.1:99999/",
    "https://10.0.0.1/status/1",
    "//evil.example/",
    "/editor/\r\nLocation: x",
    "[" * 3000,
    "*" * 5000,
    "> " * 2000,
    "- " * 1000 + "x",
]
LONG_TEXT = st.builds(
    lambda char, size: char * size,
    st.sampled_from(["x", "9", "é", "%", "-", "a-", "💥", " "]),
    st.integers(250, 12_000),
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(NASTY_TEXT),
    LONG_TEXT,
    st.text(st.characters(codec="utf-8"), max_size=8).map(lambda s: s * 40),
)
NO_SURROGATES = st.characters(exclude_categories=["Cs"])
FORM_TEXT = TEXT.map(lambda s: s.encode("utf-8", "ignore").decode())
HUGE_NUMBERS = [
    2**31 - 1,
    2**31,
    2**63,
    -(2**63) - 1,
    2**64,
    10**400,
    -(10**400),
    1e308,
    -1e308,
    5e-324,
    -0.0,
    float("nan"),
    float("inf"),
]
NUMBERS = st.one_of(st.integers(), st.floats(), st.sampled_from(HUGE_NUMBERS))
JSON_LEAVES = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
# Path segments, already as they go into a URL: percent-encoded text (lone surrogates
# become invalid UTF-8), or escapes that are broken themselves.
RAW_SEGMENTS = ["%", "%zz", "%0", "%00", "%ff", "%c0%af", "%2e%2e", "%2F", "%252F", ".", ".."]
# Names the OS refuses: over 255 bytes.
TOO_LONG = ["x" * 256, quote("é" * 128), "%25" * 300]
SEGMENT = st.one_of(
    st.sampled_from(RAW_SEGMENTS + TOO_LONG),
    TEXT.map(lambda s: quote(s, safe="", errors="surrogatepass")),
)
PATHS = st.one_of(
    SEGMENT,
    st.lists(SEGMENT, min_size=2, max_size=5).map("/".join),
    st.sampled_from(
        ["../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "a/../../b", "/etc/passwd", *TOO_LONG]
    ),
)
# Numbers as text, as ids, seqs and limits arrive: too large for 32 bits or for int()
# (4,300 digits), signed, padded, not ASCII.
NUMBER_TEXT = st.one_of(
    st.integers(-5, 2**70).map(str),
    st.sampled_from(
        [
            "0",
            "00",
            "01",
            "-1",
            "+1",
            " 1",
            "1e3",
            "1.5",
            "１",
            "²",
            "٣",
            "2147483647",
            "2147483648",
        ]
    ),
    st.sampled_from(["9" * 4301, "0" * 4300 + "1", "1" * 10_000]),
)
IDS = st.one_of(NUMBER_TEXT, SEGMENT)
# The hostile values of each URL converter the app uses ("default" is werkzeug's string).
HOSTILE_ARGUMENTS = {"default": SEGMENT, "slug": SEGMENT, "any": SEGMENT, "id": IDS, "path": PATHS}


def latin1(text: str) -> str:
    """``text`` as a WSGI server hands over a header sent in UTF-8: its bytes as Latin-1."""
    raw = text.encode("utf-8", "surrogatepass").decode("latin-1")
    return raw.replace("\r", "").replace("\n", "")


# Valid values, to reach past validation


MARKDOWN = [
    "Rebels advance on **Qomhana**.",
    "# Heading\n\n- one\n- two\n\n> quoted\n\n1. first",
    "https://x.com/desk/status/123456",
    "Before\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1h2m3s\nAfter",
    "https://vimeo.com/123456\n\n```\nhttps://x.com/desk/status/1\n```",
    "[link](javascript:alert(1)) <img src=x onerror=alert(1)> <iframe src=//x>",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "*" * 200,
    "> " * 100 + "deep",
    "- " * 200 + "deep",
    "[a](" * 300,
    "&#0; &#x110000; &nbsp; \\",
]
TIMEZONES = [
    "UTC",
    "Europe/London",
    "Asia/Damascus",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Pacific/Chatham",
    "America/St_Johns",
    "Etc/GMT+12",
    "Etc/GMT-14",
    "Australia/Lord_Howe",
]
OFFSETS = [UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12, minutes=59))]
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(OFFSETS),
)
SOON = st.integers(-(10**6), 10**6).map(
    lambda seconds: datetime.now(UTC) + timedelta(seconds=seconds)
)
ISO = st.one_of(MOMENTS, SOON).map(lambda moment: moment.isoformat())
SHORT = st.one_of(st.text(NO_SURROGATES, min_size=1, max_size=40), st.sampled_from(["Hama"]))
WORDS = st.one_of(SHORT, st.sampled_from(MARKDOWN))
IMAGE_URLS = ["/media/uploads/x.png", "https://photos.example/tank.jpg", "http://a.example/a b"]
SOCIAL_URLS = [
    "https://x.com/desk/status/1",
    "https://bsky.app/profile/desk.bsky.social/post/3k",
    "https://mastodon.social/@desk/1",
    "https://t.me/desk/1",
    "https://www.instagram.com/p/abc/",
    "https://news.example/story",
]
VIDEO_URLS = [
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://youtu.be/dQw4w9WgXcQ?t=99999999999999999999",
    "https://vimeo.com/76979871",
]
LABEL_PARTS = ["UPDATE ", "%H", "%M", "%Z", "%%", "%e", "%A", "%B", "%p", "%y", "%Y", " ", "·"]
POINT = st.fixed_dictionaries(
    {"lat": st.floats(-90, 90), "lon": st.floats(-180, 180)},
)
GEOJSON = st.sampled_from(
    [
        {"type": "Point", "coordinates": [36.7, 35.1]},
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "Hama"},
                    "geometry": {"type": "LineString", "coordinates": [[36, 35], [37, 36, 10]]},
                }
            ],
        },
        {"type": "GeometryCollection", "geometries": []},
    ]
)


def optional(required: dict[str, Any], **others: st.SearchStrategy[Any]) -> Any:
    return st.fixed_dictionaries(required, optional=others)


IMAGE = optional(
    {"url": st.sampled_from(IMAGE_URLS), "alt": SHORT},
    caption=WORDS,
    credit=SHORT,
    width=st.integers(1, 20_000),
    height=st.integers(1, 20_000),
)
BLOCKS = {
    "text": optional({"markdown": WORDS}),
    "social": optional(
        {"url": st.sampled_from(SOCIAL_URLS)},
        provider=st.sampled_from(["x", "mastodon", "other"]),
        author_name=SHORT,
        author_handle=SHORT,
        author_url=st.sampled_from(["https://x.com/desk", "https://mastodon.social/@desk"]),
        text=WORDS,
        posted_at=ISO,
        media=st.lists(optional({"url": st.sampled_from(IMAGE_URLS)}, alt=SHORT), max_size=2),
    ),
    "map": optional(
        {"center": POINT},
        zoom=st.integers(0, 19),
        markers=st.lists(optional({"lat": st.floats(-90, 90), "lon": st.just(0)}, label=SHORT)),
        geojson=GEOJSON,
        image=st.fixed_dictionaries({"url": st.sampled_from(IMAGE_URLS), "alt": SHORT}),
        caption=WORDS,
        credit=SHORT,
    ),
    "image": IMAGE,
    "video": optional(
        {"url": st.sampled_from(VIDEO_URLS)},
        title=SHORT,
        poster=optional({"url": st.just("/media/uploads/x.png")}, width=st.integers(1, 20_000)),
        caption=WORDS,
    ),
}
BLOCK = st.one_of(
    *(
        strategy.map(lambda block, kind=kind: {"type": kind, **block})
        for kind, strategy in BLOCKS.items()
    )
)


def _with_content(entry: dict[str, Any]) -> dict[str, Any]:
    return entry if {"body", "blocks"} & entry.keys() else {**entry, "body": "Rebels advance."}


# Labels at the start of a text, in every language and shape the label reader knows.
LABELLED = st.sampled_from(
    [
        "UPDATE 0745 GMT: Anti-Assad forces advance.",
        "0745 GMT — x\n\n07:45 — y\n\nUpdate 7.45pm BST: z",
        "MISE À JOUR 07h45 GMT : Les rebelles.",
        "تحديث ٠٧٤٥ بتوقيت غرينتش: تقدم",
        "UPDATE 0130 IST: x\n\nUPDATE 2359: y",
        "UPDATE 0745 GMT:",
        "UPDATE 19:45 pm: x",
    ]
)
ENTRY = optional(
    {},
    headline=SHORT,
    body=st.one_of(WORDS, LABELLED),
    blocks=st.lists(BLOCK, min_size=1, max_size=4),
    published_at=ISO,
    status=st.sampled_from(["published", "draft", "scheduled"]),
    pinned=st.booleans(),
    key_event=st.booleans(),
    review=st.sampled_from(["pending", "returned"]),
    review_note=SHORT,
    authors=st.lists(st.integers(1, 30), min_size=1, max_size=3),
).map(_with_content)
BLOG_SETTINGS = dict(
    standfirst=WORDS,
    top_image=IMAGE,
    status=st.sampled_from(["draft", "live", "ended"]),
    timezone=st.sampled_from(TIMEZONES),
    label_format=st.lists(st.sampled_from(LABEL_PARTS), min_size=1, max_size=6).map("".join),
    language=st.sampled_from(["en", "ar", "pt-BR", "zh-Hant-TW"]),
    theme=st.sampled_from(["default", "ticker"]),
    embed_widgets=st.booleans(),
)
SLUGS = st.from_regex(SLUG, fullmatch=True).filter(lambda slug: len(slug) <= 80)
BLOG_NEW = optional({"slug": SLUGS, "title": SHORT}, **BLOG_SETTINGS)
BLOG = optional({}, title=SHORT, **BLOG_SETTINGS)
PASSWORD = st.text(NO_SURROGATES, min_size=10, max_size=20)
EMAILS = st.from_regex(r"[a-z0-9.+]{1,20}@[a-z]{1,10}\.(org|example)", fullmatch=True)
USER_NEW = optional(
    {"email": EMAILS, "role": st.sampled_from(ROLES)}, name=SHORT, password=PASSWORD
)
AUTHOR_LINKS = st.sampled_from(["https://example.org/lina", "http://b.example/", "mailto:x@y.z"])
PROFILE_SETTINGS = dict(
    name=SHORT,
    title=SHORT,
    bio=WORDS,
    links=st.lists(AUTHOR_LINKS, max_size=3),
    slug=st.sampled_from(["lina", "sami-n", "Lina", "12"]),
    photo=optional({"url": st.sampled_from(IMAGE_URLS), "alt": SHORT}),
)
PROFILE = optional({}, **PROFILE_SETTINGS)
USER = optional(
    {}, role=st.sampled_from(ROLES), active=st.booleans(), password=PASSWORD, **PROFILE_SETTINGS
)
TOKEN = optional({}, label=SHORT)
USER_NUMBERS = st.integers(1, 40)
DESK_ROLES = st.sampled_from(["editor", "contributor"])
MEMBER = st.fixed_dictionaries({"user": USER_NUMBERS, "role": DESK_ROLES})
# Links the fetcher refuses without connecting to anything: private addresses, broken URLs.
UNFETCHABLE = [
    "http://127.0.0.1/post/1",
    "https://10.1.2.3/@desk/1",
    "http://[::1]:8080/",
    "http://[::ffff:192.168.0.1]/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/",
    "http://[::1",
    "http://127.0.0.1:99999/",
    "ftp://127.0.0.1/x",
    "not a url",
]
RESOLVE = st.fixed_dictionaries({"url": st.sampled_from(UNFETCHABLE)})
LABELS = st.fixed_dictionaries({"body": st.one_of(WORDS, LABELLED)})


def _json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield from _json_paths(child, (*prefix, key))


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[Any]) -> Any:
    """A valid body with one thing at some depth replaced, dropped or added (or the whole
    body replaced)."""
    body = copy.deepcopy(draw(valid))
    how = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
    path = draw(st.sampled_from(list(_json_paths(body))))
    if not path:
        return draw(JSON)
    *above, last = path
    parent = body
    for key in above:
        parent = parent[key]
    if how == "drop":
        del parent[last]
    elif how == "add" and isinstance(parent, dict):
        parent[draw(TEXT)] = draw(JSON)
    else:
        parent[last] = draw(JSON)
    return body


# Images for uploads


def _image(fmt: str, size: tuple[int, int] = (64, 48), frames: int = 1, **options: Any) -> bytes:
    pictures = [Image.new("RGB", size, (40 * n % 255, 90, 140)) for n in range(frames)]
    out = io.BytesIO()
    if frames > 1:
        options.update(save_all=True, append_images=pictures[1:], duration=100, loop=0)
    pictures[0].save(out, fmt, **options)
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its (absent) pixels do not have."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00\x00\x00\x00IEND\xaeB`\x82"


IMAGES = [
    _image("PNG"),
    _image("JPEG", (900, 10)),
    _image("GIF", frames=3),
    _image("WEBP", frames=2),
    _image("PNG", frames=2),
    _image("BMP"),
    _image("TIFF"),
    _png_claiming(100_000, 100_000),
    _png_claiming(0, 0),
    _png_claiming(2**31 - 1, 1),
    b"GIF89a" + b"\xff" * 40,
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
]


@st.composite
def image_bytes(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(IMAGES))
    how = draw(st.sampled_from(["whole", "cut", "flip", "random"]))
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if how == "flip":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if how == "random":
        return draw(st.binary(max_size=2000))
    return data


FILENAMES = st.one_of(st.sampled_from(["photo.png", "", "../../x.png", "a\x00.png"]), FORM_TEXT)


def file_part(data: bytes, filename: str, mimetype: str) -> tuple[io.BytesIO, str, str]:
    return io.BytesIO(data), filename, mimetype


FILES = st.builds(
    file_part, image_bytes(), FILENAMES, st.sampled_from(["image/png", "text/html", ""])
)


# The world the requests land in


@dataclass(repr=False)
class World:
    """An app with content of every kind, callers of every role, and what names them."""

    app: Flask
    clients: dict[str, FlaskClient]
    csrf: dict[str, str]
    tokens: dict[str, str]
    values: dict[str, list[str]]
    errors: list[logging.LogRecord]
    people: dict[str, int]
    secrets: dict[str, str | None]

    def keep_logged_in(self, caller: str) -> None:
        """Give the caller's browser its session and CSRF token back if a response changed
        them (a log-out, a log-in as someone else); not through the log-in form, whose
        attempts are limited."""
        with self.clients[caller].session_transaction() as cookie:
            if (cookie.get("csrf"), cookie.get("session")) == (
                self.csrf[caller],
                self.secrets[caller],
            ):
                return
            if caller != "anonymous":
                with db.database(self.app).sessions() as session:
                    user = session.get(User, self.people[caller])
                    self.secrets[caller] = accounts.open_session(session, user)
            cookie.clear()
            cookie["csrf"] = self.csrf[caller]
            if self.secrets[caller]:
                cookie["session"] = self.secrets[caller]

    def __repr__(self) -> str:
        return f"<World of {self.app.config['DATABASE_URL'].partition(':')[0]}>"


class Errors(logging.Handler):
    """Keeps what the app logs at ERROR (tracebacks included)."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _without_lookups(resolve: Callable[..., Any]) -> Callable[..., Any]:
    """The fetcher's resolver, refusing any name that is not a private address: the suite
    must never send a request out."""

    def resolve_private_only(host: str, port: int, timeout: float) -> Any:
        try:
            private = not fetch.is_public(ipaddress.ip_address(host))
        except ValueError:  # a name, which would be looked up in the DNS
            private = False
        assert private, f"the fuzz suite must not reach out to {host}"
        return resolve(host, port, timeout)

    return resolve_private_only


@pytest.fixture
def world(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    app = make_app(LIVE_HEARTBEAT=0.05, TRUSTED_PROXIES=1)
    monkeypatch.setattr(fetch, "_resolve", _without_lookups(fetch._resolve))
    errors: list[logging.LogRecord] = []
    handler = Errors(errors)
    logging.getLogger("liveblog").addHandler(handler)
    try:
        yield _populate(app, errors)
    finally:
        logging.getLogger("liveblog").removeHandler(handler)


def _populate(app: Flask, errors: list[logging.LogRecord]) -> World:
    with db.database(app).sessions() as session:
        api = ApiClient(app.test_client(), session)
        callers = {role: api.as_role(role) for role in ROLES}
        admin, editor, contributor = callers["admin"], callers["editor"], callers["contributor"]
        upload = uploads.save_image(IMAGES[0], app.config["MEDIA_PATH"])
        top = {"url": upload["url"], "alt": "Hama", "width": 64, "height": 48}
        for slug, extra in [
            ("hama", {"top_image": top, "embed_widgets": True, "timezone": "Asia/Damascus"}),
            ("aleppo", {"theme": "ticker", "label_format": "%A %e %B, %p"}),
            ("desk-only", {"status": "draft"}),
        ]:
            blog = {"slug": slug, "title": slug.title(), "status": "live", **extra}
            assert admin.post("/api/v1/blogs", json=blog).status_code == 201
            staff_desk(session, store.get_blog(session, slug), [editor.user, contributor.user])
        entries = [
            editor.post_entry(headline="Shelling", key_event=True, pinned=True),
            editor.post_entry(
                blocks=[
                    {"type": kind, **block}
                    for kind, block in [
                        ("text", {"markdown": "Rebels *advance*."}),
                        ("social", {"url": SOCIAL_URLS[0], "text": "Hi", "author_name": "Desk"}),
                        (
                            "map",
                            {
                                "center": {"lat": 35.1, "lon": 36.7},
                                "markers": [{"lat": 1, "lon": 2}],
                            },
                        ),
                        ("image", top),
                        ("video", {"url": VIDEO_URLS[1], "poster": {"url": upload["url"]}}),
                    ]
                ]
            ),
            editor.post_entry(status="scheduled", published_at="2999-01-01T00:00:00Z"),
            contributor.post_entry(review="pending"),
            editor.post_entry(blog="aleppo", key_event=True),
            editor.post_entry(blog="aleppo", published_at="0001-01-02T00:00:00Z"),
        ]
        gone = editor.post_entry()
        deleted = editor.delete(
            f"/api/v1/blogs/hama/entries/{gone['id']}", headers={"If-Match": "*"}
        )
        assert deleted.status_code == 204
        assert admin.patch("/api/v1/blogs/aleppo", json={"status": "ended"}).status_code == 200

        victims = [make_user(session, role, password=None) for role in ("editor", "contributor")]
        revoked, deactivated = make_user(session, "editor", password=None), victims[1]
        tokens = {role: caller.token for role, caller in callers.items()}
        tokens["victim"] = accounts.create_token(session, victims[0], "victim")
        tokens["revoked"] = accounts.create_token(session, revoked)
        tokens["deactivated"] = accounts.create_token(session, deactivated)
        targets = [*victims, revoked]
        token_ids = list(
            session.scalars(
                select(ApiToken.id).where(ApiToken.user_id.in_([user.id for user in targets]))
            )
        )
        revoked_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == revoked.id))
        accounts.revoke_token(session, admin.user, revoked_id)
        accounts.change_user(session, admin.user, deactivated.id, active=False)

        people = {role: make_user(session, role) for role in ROLES}
        clients, csrf, secrets = {}, {}, {}
        for caller in CALLERS:
            browser = EditorClient(app.test_client())
            if caller == "anonymous":
                browser.csrf = csrf_of(browser.client.get("/editor/login"))
            else:
                assert browser.log_in(people[caller].email).status_code == 303
            clients[caller], csrf[caller] = browser.client, browser.csrf
            with browser.client.session_transaction() as cookie:
                secrets[caller] = cookie.get("session")

        moments = [(e["published_at"] or e["created_at"], e["id"]) for e in entries]
        cursors = [encode_cursor(datetime.fromisoformat(at), id) for at, id in moments]
        with app.test_request_context():
            theme_names = themes().names()
            editor_asset = urlsplit(static_url("editor.js")).path.split("/")
            theme_assets = [
                urlsplit(asset_url(theme, name)).path.split("/")
                for theme in theme_names
                for name in ("style.css", "live.js", "vendor/leaflet/leaflet.js")
                if themes().static_file(theme, name)
            ]
    values = {
        "slug": ["hama", "aleppo", "desk-only", "nowhere"],
        "entry_id": [str(e["id"]) for e in [*entries, gone]],
        "user_id": [str(user.id) for user in targets],
        "token_id": [str(i) for i in token_ids],
        "theme": theme_names,
        "digest": [editor_asset[3], *(parts[3] for parts in theme_assets)],
        "filename": ["editor.js", "editor.css", *("/".join(parts[4:]) for parts in theme_assets)],
        "name": [upload["url"].removeprefix("/media/"), "uploads", "uploads/"],
        "before": cursors,
        "cursor": cursors,
        "after": cursors,
        "order": ["oldest", "newest", "Oldest", "sideways"],
        "since": ["0", "1", "3", "5", "99"],
        "limit": ["1", "2", "200"],
        "key_events": ["1", "true", "YES", "on", "0"],
        "email": [person.email for person in people.values()],
        "next": ["/editor/", "/editor/admin/users", "/editor/blogs/hama/"],
        "teaser": ["1", "5", "20"],
        "update": [str(e["id"]) for e in entries],
        "seq": ["0", "1", "5"],
        "url": [
            "https://news.example/hama/",
            f"https://news.example/hama/updates/{entries[0]['id']}",
        ],
        "format": ["json", "JSON", "xml"],
        "maxwidth": ["320", "600"],
        "maxheight": ["200", "800"],
        "ref": [*(str(person.id) for person in people.values()), "nobody"],
        "saved": ["yes", ""],
        "label_format": ["UPDATE %H%M %Z", "%e %b, %H:%M", "%Q"],
        "timezone": ["UTC", "Asia/Beirut", "Europe/Londres"],
        "language": ["en", "fr", "ar-SY", "not a tag"],
    }
    people_ids = {role: person.id for role, person in people.items()}
    return World(app, clients, csrf, tokens, values, errors, people_ids, secrets)


# Requests: each has one part aimed at, which is hostile while the rest is valid (so the
# hostile part reaches the code behind the checks of the others), or none, or all at once.

PARTS = ("path", "method", "query", "headers", "auth", "body")


def aims(rule: Rule) -> list[str]:
    """What a request to ``rule`` may aim at: the parts it has, its body three times."""
    route = ROUTES[rule.endpoint]
    has = {"path": bool(rule.arguments), "query": bool(route.params), "body": bool(route.body)}
    parts = [part for part in PARTS if has.get(part, True)]
    return ["none", *parts, *(["body", "body"] if route.body else []), "chaos"]


@dataclass(frozen=True)
class Aim:
    """Which part of a request is hostile: one of PARTS, "none", or "chaos" (each part
    hostile one time in four)."""

    part: str

    def pick(
        self, part: str, valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]
    ) -> Any:
        if self.part == "chaos":
            return mostly(valid, hostile)
        return hostile if self.part == part else valid


@dataclass
class Call:
    """One request: who sends it (a browser logged in as that role, or none), and what."""

    caller: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]

    def __repr__(self) -> str:
        body = {key: _short(value) for key, value in self.body.items()}
        headers = {key: _short(value) for key, value in self.headers.items()}
        target = _short(f"{self.path}?{self.query}" if self.query else self.path)
        return f"<{self.caller}: {self.method} {target} {headers} {body}>"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else f"{text[:300]}… ({len(text)} characters)"


@st.composite
def mostly(draw: st.DrawFn, valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> Any:
    """Three times in four a valid value, else a hostile one."""
    return draw(hostile if draw(st.integers(0, 3)) == 0 else valid)


def argument(world: World, found: re.Match[str], hostile: bool) -> st.SearchStrategy[str]:
    """A path argument: a value naming something, or one hostile to its converter."""
    converter = found["converter"] or "default"
    known = list(world.values.get(found["name"], []))
    if converter == "any":
        known += [item.strip() for item in found["args"].split(",")]
    if hostile or not known:
        return HOSTILE_ARGUMENTS[converter]
    return st.sampled_from([quote(value, safe="/") for value in known])


@st.composite
def path_of(draw: st.DrawFn, world: World, rule: str, aim: Aim) -> str:
    """The rule's path with its arguments filled: aimed at, one of them hostile (in chaos,
    each one in four)."""
    arguments = list(ARGUMENT.finditer(rule))
    target = draw(st.integers(0, len(arguments) - 1)) if aim.part == "path" else -1
    path, start = "", 0
    for number, found in enumerate(arguments):
        hostile = number == target or (aim.part == "chaos" and draw(st.integers(0, 3)) == 0)
        path += rule[start : found.start()] + draw(argument(world, found, hostile))
        start = found.end()
    return path + rule[start:]


def encoded(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


def query_of(world: World, params: tuple[str, ...], aim: Aim) -> st.SearchStrategy[str]:
    """The route's parameters with values naming something; or, aimed at, with hostile
    values (broken escapes too), repeated, and with made-up parameters."""
    if params:
        known = st.sampled_from(params).flatmap(
            lambda name: st.sampled_from(world.values[name]).map(lambda v: f"{name}={encoded(v)}")
        )
        valid = st.lists(known, max_size=2).map("&".join)
    else:
        valid = st.just("")
    names = mostly(st.sampled_from(params), TEXT) if params else TEXT
    value = st.one_of(TEXT.map(encoded), NUMBER_TEXT, st.sampled_from(RAW_SEGMENTS))
    pair = st.one_of(
        st.tuples(names.map(encoded), value).map("=".join),
        st.tuples(names.map(encoded), value).map("=".join),
        names.map(encoded),
        known if params else value,
    )
    hostile = st.lists(pair, min_size=1, max_size=4).map("&".join)
    return aim.pick("query", valid, hostile)


HEADERS = {
    "If-None-Match": ['"1"', "*", 'W/"1"', '"a", W/"b", *', '""', "W/", ","],
    "If-Modified-Since": [
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Sat, 01 Jan 10000 00:00:00 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Tue, 31 Feb 2023 25:61:61 GMT",
        "Mon, 01 Jan 2024 00:00:00 +9999",
        "99999999999999999999",
    ],
    "If-Match": ['"1"', '"2"', '"3"', "*", 'W/"1"', '"1", "2"', '"0"', '"99999999999999999999"'],
    "If-Range": ['"1"', "Fri, 31 Dec 9999 23:59:59 -2359", "garbage"],
    "If-Unmodified-Since": ["Mon, 01 Jan 0001 00:00:00 +2359", "yesterday"],
    "Last-Event-ID": ["0", "1", "5", "-1", "99999999999999999999", "9" * 5000, "١", " 1"],
    "Accept": ["*/*", "text/html", "application/json", "text/event-stream", "*/*;q=1e999, x;q=-1"],
    "Range": [
        "bytes=0-10",
        "bytes=10-0",
        "bytes=-5",
        "bytes=0-",
        "bytes=0-0,2-2,4-4",
        "bytes=99999999999999999999-",
        "bytes=" + "0-1," * 200,
        "lines=1-2",
        "bytes=--1",
    ],
    "X-Forwarded-For": ["203.0.113.7", "2001:db8::1", "unknown", ", ,", "1.1.1.1, 2.2.2.2", "٣.٣"],
    "X-Forwarded-Proto": ["https", "http", "HTTPS", "gopher", "https, http", ""],
    "Cookie": ["liveblog_session=garbage", "liveblog_session=.eJx" + "x" * 5000, "a=b; c"],
    "Grip-Sig": ["x", "a.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9."],
    "Grip-Last": ["blog-1; last-id=1", "blog-1; last-id=" + "9" * 5000, "blog-x; last-id=²", ";"],
    "Liveblog-Seq": ["0", "1", "99999999999", "9" * 5000, "-1", "²"],
    "Idempotency-Key": ["a", '"a"', '"', '""', "x" * 256, "a b", "\\", "é", "k" * 5000],
    "Content-Type": [
        "application/json",
        "text/plain",
        "multipart/form-data",
        "application/json; charset=utf-16",
    ],
}
# What a client that means well sends: validators of some version, a real date.
GOOD_HEADERS = {
    "If-None-Match": ['"1"', "*", 'W/"1"'],
    "If-Modified-Since": ["Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"],
    "If-Match": ["*", '"1"', '"2"'],
    "Last-Event-ID": ["0", "1", "3", "99"],
    "Accept": ["*/*", "text/html", "application/json"],
    "Range": ["bytes=0-10", "bytes=-5"],
    "X-Forwarded-For": ["203.0.113.7", "2001:db8::1"],
    "X-Forwarded-Proto": ["https", "http"],
    "Idempotency-Key": ["a", "b", '"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
}


@st.composite
def headers_of(draw: st.DrawFn, world: World, caller: str, method: str, aim: Aim) -> dict[str, str]:
    """Some of the headers the app reads, and the caller's credentials: their own token,
    or (a browser) their session cookie with its CSRF header; aimed at, anything."""
    table = draw(aim.pick("headers", st.just(GOOD_HEADERS), st.just(HEADERS)))
    names = draw(st.lists(st.sampled_from(sorted(table)), unique=True, max_size=4))
    headers = {}
    for name in names:
        known = st.sampled_from(table[name])
        headers[name] = draw(aim.pick("headers", known, mostly(known, TEXT.map(latin1))))
    if method in ("PATCH", "DELETE") and "If-Match" not in headers:
        headers["If-Match"] = draw(
            aim.pick("headers", st.just("*"), st.sampled_from(HEADERS["If-Match"]))
        )
    headers.update(draw(aim.pick("auth", credentials(world, caller), forged(world, caller))))
    return headers


def credentials(world: World, caller: str) -> st.SearchStrategy[dict[str, str]]:
    cookie = st.just({"X-CSRF-Token": world.csrf[caller]})
    if caller == "anonymous":
        return cookie
    return st.one_of(st.just({"Authorization": f"Bearer {world.tokens[caller]}"}), cookie)


@st.composite
def forged(draw: st.DrawFn, world: World, caller: str) -> dict[str, str]:
    """Credentials that are not the caller's own: someone else's, revoked, deactivated,
    mangled or garbage tokens; wrong or garbage CSRF headers; nothing at all."""
    token = draw(st.sampled_from(sorted(world.tokens.values())))
    authorization = st.one_of(
        st.sampled_from(
            [
                f"Bearer {token}",
                f"bearer {token}",
                f"Bearer   {token}  ",
                f"Bearer\t{token}",
                f"Basic {token}",
                token,
                f"Bearer {token}é",
                f"Bearer {token[:-1]}",
                "Bearer",
                "",
            ]
        ),
        st.one_of(TEXT, TEXT.map("Bearer ".__add__)).map(latin1),
    )
    csrf = st.one_of(st.sampled_from(sorted(world.csrf.values())), TEXT.map(latin1))
    headers = draw(
        st.fixed_dictionaries({}, optional={"Authorization": authorization, "X-CSRF-Token": csrf})
    )
    return headers


CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    None,
]
RAW_BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b'{"body": "x"',
            b'{"body": "\xff\xfe"}',
            b"\xef\xbb\xbf{}",
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 3000 + b"1" + b"}" * 3000,
            # Cut short in a field: cut short in a file, werkzeug leaves the file it started
            # unclosed (a ResourceWarning, which fails the test it is collected in).
            b"--xyz\r\nContent-Disposition: form-data; name=file\r\n\r\nabc",
            b"--xyz\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\n\r\n--xyz--",
            b"x" * (1024 * 1024 + 1),
        ]
    ),
)


def as_json(
    value: Any, ascii_only: bool, content_type: str | None = "application/json"
) -> dict[str, Any]:
    data = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    return {"data": data, "content_type": content_type}


def json_body(valid: st.SearchStrategy[Any], aim: Aim) -> st.SearchStrategy[dict[str, Any]]:
    """A valid JSON body; aimed at, one with a thing in it changed, any JSON, raw bytes,
    or another content type."""
    good = st.builds(as_json, valid, st.booleans())
    hostile = st.one_of(
        st.builds(as_json, mutated(valid), st.booleans()),
        st.builds(as_json, mutated(valid), st.booleans()),
        st.builds(as_json, mutated(valid), st.booleans()),
        st.builds(as_json, JSON, st.booleans()),
        st.builds(as_json, valid, st.booleans(), st.sampled_from(CONTENT_TYPES)),
        st.builds(lambda data: {"data": data, "content_type": "application/json"}, RAW_BODIES),
    )
    return aim.pick("body", good, hostile)


def _unfetchable(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with any link it holds that would be fetched from the internet replaced."""
    try:
        value = json.loads(body["data"])
    except (ValueError, RecursionError):
        return body
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        url = value["url"].strip()
        try:
            host = urlsplit(url).hostname or ""
            public = fetch.is_public(ipaddress.ip_address(host))
        except ValueError:
            public = bool(re.match(r"\s*https?://", url, re.IGNORECASE))
        if public:
            value["url"] = UNFETCHABLE[0]
            return {**body, "data": json.dumps(value).encode()}
    return body


def upload_body(aim: Aim) -> st.SearchStrategy[dict[str, Any]]:
    good = st.sampled_from(IMAGES[:5]).map(
        lambda data: {"data": {"file": file_part(data, "photo.png", "image/png")}}
    )
    hostile = st.one_of(
        FILES.map(lambda file: {"data": {"file": file}}),
        FILES.map(lambda file: {"data": {"file": file}}),
        st.tuples(FILES, FILES).map(lambda files: {"data": {"file": list(files)}}),
        st.tuples(FORM_TEXT, FILES).map(lambda pair: {"data": {pair[0]: pair[1]}}),
        FORM_TEXT.map(lambda text: {"data": {"file": text}}),
        json_body(JSON, Aim("none")),
        RAW_BODIES.map(
            lambda data: {"data": data, "content_type": "multipart/form-data; boundary=xyz"}
        ),
    )
    return aim.pick("body", good, hostile)


def form(
    world: World, caller: str, aim: Aim, **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """A form post with the caller's CSRF token; aimed at, any field may be missing or
    hostile, the token too, or the body raw bytes."""
    good = st.fixed_dictionaries({"csrf_token": st.just(world.csrf[caller]), **fields})
    csrf = mostly(
        st.just(world.csrf[caller]),
        st.one_of(st.sampled_from(sorted(world.csrf.values())), FORM_TEXT),
    )
    loose = {name: mostly(value, FORM_TEXT) for name, value in fields.items()}
    hostile = st.fixed_dictionaries({}, optional={"csrf_token": csrf, **loose})
    raw = RAW_BODIES.map(
        lambda data: {"data": data, "content_type": "application/x-www-form-urlencoded"}
    )
    wrapped = st.one_of(hostile.map(lambda data: {"data": data}), raw)
    return aim.pick("body", good.map(lambda data: {"data": data}), wrapped)


FORM_BLOG = {
    "title": SHORT,
    "slug": SLUGS,
    "standfirst": WORDS,
    "timezone": st.sampled_from(TIMEZONES),
    "label_format": BLOG_SETTINGS["label_format"],
    "theme": st.sampled_from(["default", "ticker"]),
    "status": st.sampled_from(["draft", "live", "ended"]),
    "photo": st.one_of(st.just(None), FILES),
    "alt": SHORT,
    "caption": SHORT,
    "credit": SHORT,
}


def body_of(
    world: World, kind: str | None, caller: str, aim: Aim
) -> st.SearchStrategy[dict[str, Any]]:
    """The body of a request to a route that reads ``kind`` (None: none, or junk)."""
    if kind is None:
        return aim.pick("body", st.just({}), json_body(JSON, Aim("none")))
    if kind == "upload":
        return upload_body(aim)
    if kind == "resolve":
        return json_body(RESOLVE, aim).map(_unfetchable)
    if not kind.startswith("form"):
        valid = {
            "entry": ENTRY,
            "blog-new": BLOG_NEW,
            "blog": BLOG,
            "user-new": USER_NEW,
            "user": USER,
            "profile": PROFILE,
            "token": TOKEN,
            "labels": LABELS,
            "member": MEMBER,
        }[kind]
        return json_body(valid, aim)
    fields = {
        "form": {},
        "form-login": {
            "email": st.sampled_from(world.values["email"]),
            "password": st.sampled_from(["correct horse battery", "wrong"]),
        },
        "form-blog": FORM_BLOG,
        "form-status": {"status": st.sampled_from(["draft", "live", "ended"])},
        "form-user-new": {
            "email": EMAILS,
            "name": SHORT,
            "role": st.sampled_from(ROLES),
            "password": PASSWORD,
        },
        "form-user": {
            "role": st.sampled_from(ROLES),
            "active": st.sampled_from(["yes", "no", ""]),
            "password": st.sampled_from(["", "correct horse battery"]),
        },
        "form-token": {"label": SHORT},
        "form-member": {"user": USER_NUMBERS.map(str), "role": DESK_ROLES},
        "form-delete": {
            "confirm": st.sampled_from(["hama", "aleppo", "desk-only", "Hama", ""]),
            "etag": st.sampled_from(["*", '"1-1"', ""]),
        },
        "form-profile": {
            "name": SHORT,
            "title": SHORT,
            "bio": WORDS,
            "links": st.sampled_from(["", "https://example.org/a\nnot a link"]),
            "slug": st.sampled_from(["", "lina", "Lina"]),
            "alt": SHORT,
            "remove_photo": st.sampled_from(["", "yes"]),
        },
    }[kind]
    return form(world, caller, aim, **fields).map(_without_none)


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    data = body["data"]
    if isinstance(data, dict):
        return {**body, "data": {name: value for name, value in data.items() if value is not None}}
    return body


WRITES = ("POST", "PATCH", "PUT", "DELETE")
OTHER_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"]


@st.composite
def calls(draw: st.DrawFn, world: World, group: str) -> Call:
    rules = sorted(
        (rule for rule in world.app.url_map.iter_rules() if group_of(rule.endpoint) == group),
        key=lambda rule: (rule.rule, rule.endpoint),
    )
    # Each (rule, aim) pair alike, so every part of every route gets its share.
    rule, part = draw(st.sampled_from([(rule, part) for rule in rules for part in aims(rule)]))
    route, aim = ROUTES[rule.endpoint], Aim(part)
    methods = st.sampled_from(sorted((rule.methods or set()) - {"OPTIONS"}))
    method = draw(aim.pick("method", methods, st.sampled_from(OTHER_METHODS)))
    caller = draw(st.sampled_from(CALLERS))
    return Call(
        caller=caller,
        method=method,
        path=draw(path_of(world, rule.rule, aim)),
        query=draw(query_of(world, route.params, aim)),
        headers=draw(headers_of(world, caller, method, aim)),
        body=draw(body_of(world, route.body, caller, aim)) if method in WRITES else {},
    )


# Sending, and what every answer must be


STREAM_ENDS = (b": keep-alive", b"event: stop", b"event: reset")


def send(world: World, call: Call) -> tuple[int, bytes]:
    """Send ``call``; fail on a 5xx or anything logged at ERROR. Event streams are read up
    to their first keep-alive (the world's heartbeat is short), then closed."""
    world.errors.clear()
    client = world.clients[call.caller]
    body = copy.deepcopy(call.body)  # file parts are read as they are sent
    # A path starting with // is a path to a server, but a URL with a host to the test
    # client; %2F reaches the app as the same PATH_INFO.
    path = f"/%2F{call.path[2:]}" if call.path.startswith("//") else call.path
    with client.open(
        path,
        method=call.method,
        query_string=call.query,
        headers=call.headers,
        buffered=False,
        **body,
    ) as response:
        if response.mimetype == "text/event-stream":
            data = b""
            for chunk, _ in zip(response.response, range(100), strict=False):
                data += chunk
                if chunk.startswith(STREAM_ENDS):
                    break
        else:
            data = response.get_data()
    world.keep_logged_in(call.caller)
    logged = "\n".join(logging.Formatter().format(record) for record in world.errors)
    # The oEmbed spec answers a format it does not serve with 501, by design: no fault.
    by_design = response.status_code == 501 and call.path == "/oembed"
    assert response.status_code < 500 or by_design, (
        f"{call!r} got {response.status}: {data[:2000]!r}"
    )
    assert not world.errors, f"{call!r} logged: {logged}"
    return response.status_code, data


def read_back(world: World, call: Call, status: int, data: bytes) -> None:
    """After a write that succeeded, every reader and editor view of what it wrote."""
    if status >= 400 or call.method not in WRITES:
        return
    try:
        written = json.loads(data)
    except ValueError:
        written = {}
    written = written if isinstance(written, dict) else {}
    found = re.search(r"/blogs/([^/]+)", call.path)
    slug = written.get("blog") or written.get("slug") or (found.group(1) if found else "hama")
    paths = [
        "/",
        f"/{slug}/",
        *(
            f"/{slug}/{feed}.{fmt}"
            for feed in ("feed", "key-events")
            for fmt in ("atom", "rss", "json")
        ),
        f"/{slug}/changes?since=0",
        f"/{slug}/events?since=0",
        f"/api/v1/blogs/{slug}/entries",
        f"/editor/blogs/{slug}/",
        "/editor/",
        "/editor/admin/users",
    ]
    if isinstance(written.get("id"), int) and written.get("blog"):
        paths += [
            f"/{slug}/updates/{written['id']}",
            f"/api/v1/blogs/{slug}/entries/{written['id']}/revisions",
        ]
    for path in paths:
        target, _, query = path.partition("?")
        headers = {"Authorization": f"Bearer {world.tokens['admin']}"} if "/api/" in path else {}
        send(world, Call("admin", "GET", target, query, headers, {}))


# The properties


def test_every_route_is_fuzzed(app):
    """Every rule of the app has a line in ROUTES and a group, every converter a strategy,
    and ROUTES names no route that is gone."""
    rules = list(app.url_map.iter_rules())
    endpoints = {rule.endpoint for rule in rules}
    assert endpoints == ROUTES.keys(), "fuzz every new route: add it to ROUTES"
    assert all(group_of(endpoint) for endpoint in endpoints), "add the blueprint to GROUPS"
    for rule in rules:
        for found in ARGUMENT.finditer(rule.rule):
            assert (found["converter"] or "default") in HOSTILE_ARGUMENTS, rule.rule
        assert set(rule.arguments) == {found["name"] for found in ARGUMENT.finditer(rule.rule)}


def test_every_query_parameter_and_header_is_fuzzed():
    """What the web layer reads from the query string is in ROUTES, and the headers it reads
    are in HEADERS (credentials are drawn apart)."""
    source = "\n".join(path.read_text() for path in Path(web.__file__).parent.glob("*.py"))
    read = set(re.findall(r'request\.(?:args|values)\.get\("(\w+)"', source))
    # Parameters read through a helper (embed's teaser, oEmbed's sizes) are listed too.
    assert read <= {param for route in ROUTES.values() for param in route.params}
    headers = set(re.findall(r'request\.headers\.get\("([\w-]+)"', source))
    assert headers <= HEADERS.keys() | {"Authorization"}


@settings(FUZZ, max_examples=800)
@given(data=st.data())
def test_readers_never_get_a_server_error(world, data):
    call = data.draw(calls(world, "reader"))
    note(repr(call))
    send(world, call)


@settings(FUZZ, max_examples=400)
@given(data=st.data())
def test_the_api_never_answers_with_a_server_error(world, data):
    call = data.draw(calls(world, "api"))
    note(repr(call))
    read_back(world, call, *send(world, call))


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_editor_pages_never_answer_with_a_server_error(world, data):
    call = data.draw(calls(world, "editor"))
    note(repr(call))
    read_back(world, call, *send(world, call))
