"""Reads our feeds as a subscriber's reader would, into one shape for every format.

Atom and RSS go through feedparser. feedparser 6 does not read JSON Feed, so JSON Feed is
checked against the JSON Schema in tests/data (written from the 1.1 spec) and read as JSON.
"""

import json
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
from werkzeug.test import TestResponse

JSON_FEED_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8")
)
JSON_FEED_VALIDATOR = jsonschema.Draft202012Validator(
    JSON_FEED_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


@dataclass
class Item:
    id: str
    link: str
    title: str
    published: datetime | None
    updated: datetime | None
    """None in RSS, which has no such field."""
    content: str
    author: str | None
    tags: list[str]


@dataclass
class Feed:
    fmt: str
    title: str
    subtitle: str | None
    home: str | None
    self_url: str | None
    hubs: list[str]
    updated: datetime | None
    language: str | None
    image: str | None
    items: list[Item] = field(default_factory=list)


def read_feed(response: TestResponse) -> Feed:
    """Parse a feed response; fails the test on a document a reader would choke on."""
    assert response.status_code == 200, response.data[:500]
    if response.mimetype == "application/feed+json":
        return _read_json(response.data)
    parsed = feedparser.parse(response.data, response_headers={"content-type": response.mimetype})
    assert not parsed.bozo, parsed.get("bozo_exception")
    fmt = "atom" if parsed.version == "atom10" else "rss"
    assert parsed.version == ("atom10" if response.mimetype == "application/atom+xml" else "rss20")
    meta = parsed.feed
    links = meta.get("links", [])
    image = meta.get("logo") if fmt == "atom" else (meta.get("image") or {}).get("href")
    return Feed(
        fmt=fmt,
        title=meta.get("title"),
        subtitle=meta.get("subtitle"),
        home=_link(links, "alternate"),
        self_url=_link(links, "self"),
        hubs=[link["href"] for link in links if link.get("rel") == "hub"],
        updated=_date(fmt, dict.get(meta, "updated")),
        language=meta.get("language"),
        image=image,
        items=[_item(fmt, entry) for entry in parsed.entries],
    )


def _item(fmt: str, entry: Any) -> Item:
    content = entry.get("content")
    tags = entry.get("tags", [])
    return Item(
        id=entry.get("id"),
        link=entry.get("link"),
        title=entry.get("title"),
        published=_date(fmt, entry.get("published")),
        updated=_date(fmt, dict.get(entry, "updated")),
        content=content[0]["value"] if content else entry.get("summary"),
        author=entry.get("author"),
        tags=[tag.get("label") or tag["term"] for tag in tags],
    )


def _read_json(data: bytes) -> Feed:
    document = json.loads(data)
    errors = sorted(JSON_FEED_VALIDATOR.iter_errors(document), key=str)
    assert not errors, [f"{list(error.path)}: {error.message}" for error in errors]
    hubs = document.get("hubs", [])
    return Feed(
        fmt="json",
        title=document["title"],
        subtitle=document.get("description"),
        home=document.get("home_page_url"),
        self_url=document.get("feed_url"),
        hubs=[hub["url"] for hub in hubs if hub["type"].lower() == "websub"],
        updated=None,
        language=document.get("language"),
        image=document.get("icon"),
        items=[
            Item(
                id=item["id"],
                link=item.get("url"),
                title=item.get("title"),
                published=_iso(item.get("date_published")),
                updated=_iso(item.get("date_modified")),
                content=item.get("content_html") or item.get("content_text"),
                author=(item.get("authors") or [{}])[0].get("name"),
                tags=item.get("tags", []),
            )
            for item in document["items"]
        ],
    )


def _link(links: list[dict[str, str]], rel: str) -> str | None:
    return next((link["href"] for link in links if link.get("rel") == rel), None)


def _date(fmt: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    return parsedate_to_datetime(raw) if fmt == "rss" else _iso(raw)


def _iso(raw: str | None) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(raw)
