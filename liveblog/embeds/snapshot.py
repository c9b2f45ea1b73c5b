"""An oEmbed answer read into a snapshot block: the post's words, author and date. No Flask.

The answer's ``html`` is never used as HTML: only its words are read, as plain text, and
every field goes through the block validator like anything an editor types. The snapshot
is what readers see, so the quote survives the original's deletion.
"""

import json
import re
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from ..blocks import Block
from ..blocks import validate_blocks
from ..errors import EmbedError
from ..errors import FieldError
from ..validation import check_url
from . import providers
from .fetch import Fetched
from .fetch import host_of

DISCOVERY_TYPE = "application/json+oembed"
BY_HAND = "Enter the post's details by hand to quote it anyway."


class _DiscoveryParser(HTMLParser):
    """Finds ``<link rel="alternate" type="application/json+oembed" href>`` in a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link" or self.href is not None:
            return
        values = {name: (value or "") for name, value in attrs}
        rel = values.get("rel", "").lower().split()
        if "alternate" in rel and values.get("type", "").lower() == DISCOVERY_TYPE:
            self.href = values.get("href") or None


def discover(page: str, base_url: str) -> str | None:
    """The oEmbed URL a page advertises, made absolute; None if it has none (or not http)."""
    parser = _DiscoveryParser()
    parser.feed(page)
    if parser.href is None:
        return None
    href = urljoin(base_url, parser.href.strip())
    return href if check_url(href) is None else None


class _QuoteParser(HTMLParser):
    """The words of the first ``<blockquote>`` of an oEmbed ``html``: its paragraphs, then
    what follows them (the attribution: "— Name (@handle) date")."""

    SKIP = frozenset({"script", "style", "template", "svg", "iframe"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside the blockquote
        self.done = False
        self.skipping = 0
        self.paragraphs: list[list[str]] = []
        self.in_paragraph = False
        self.after: list[str] = []
        self.links: list[list[str]] = []
        self.in_link = False
        self.times: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "blockquote":
            self.depth += 1
        elif self.depth and tag == "p":
            self.in_paragraph = True
            self.paragraphs.append([])
        elif self.depth and tag == "br":
            self._text("\n")
        elif self.depth and tag == "a" and not self.in_paragraph:
            self.in_link = True
            self.links.append([])
        elif self.depth and tag == "time":
            self.times += [value for name, value in attrs if name == "datetime" and value]

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote" and self.depth:
            self.depth -= 1
            self.done = self.depth == 0
        elif tag == "p":
            self.in_paragraph = False
        elif tag == "a":
            self.in_link = False

    def handle_data(self, data: str) -> None:
        if self.depth and not self.done and not self.skipping:
            self._text(data)

    def _text(self, data: str) -> None:
        if self.in_paragraph:
            self.paragraphs[-1].append(data)
        else:
            self.after.append(data)
            if self.in_link:
                self.links[-1].append(data)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean_line(text: str) -> str:
    """One line of words; a broken character (a lone surrogate) becomes U+FFFD."""
    return " ".join(_SURROGATE.sub("\ufffd", text).split())


def _clean_text(text: str) -> str:
    """Lines of words; a blank line (``<br><br>``) separates paragraphs."""
    paragraphs = re.split(r"\n\s*\n", text)
    lines = ("\n".join(filter(None, map(_clean_line, part.split("\n")))) for part in paragraphs)
    return "\n\n".join(line for line in lines if line)


_HANDLE = re.compile(r"\((@[^\s()]{1,100})\)")
_DATE_FORMATS = ("%B %d, %Y at %I:%M %p", "%B %d, %Y", "%b %d, %Y", "%d %B %Y")


def _posted_at(parser: _QuoteParser) -> str | None:
    for raw in parser.times:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    for link in reversed(parser.links):
        text = _clean_line("".join(link))
        for layout in _DATE_FORMATS:
            try:
                return datetime.strptime(text, layout).replace(tzinfo=UTC).isoformat()
            except ValueError:
                continue
    return None


def _string(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value.strip() else None


def _cut(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def snapshot(data: Mapping[str, Any], url: str) -> Block:
    """A ``social`` block from an oEmbed answer, cleaned like anything an editor types.

    Text comes from the paragraphs of the answer's ``html`` (as plain text), or its title.
    """
    provider = providers.match(url)
    key = provider.key if provider and provider.kind == "social" else "other"
    parser = _QuoteParser()
    html = _string(data, "html")
    if html:
        parser.feed(html)
        parser.close()
    text = "\n\n".join(
        cleaned for paragraph in parser.paragraphs if (cleaned := _clean_text("".join(paragraph)))
    ) or _string(data, "title")
    author_url = _string(data, "author_url")
    if author_url and check_url(author_url):
        author_url = None
    found_handle = _HANDLE.search(_clean_line("".join(parser.after)))
    handle = found_handle.group(1) if found_handle else None
    if handle is None and author_url:
        handle = providers.handle_from_url(key, author_url)
    media = []
    for name in ("url", "thumbnail_url") if data.get("type") == "photo" else ("thumbnail_url",):
        if (media_url := _string(data, name)) and check_url(media_url) is None:
            media.append({"url": media_url, "alt": _cut(_string(data, "title"), 1000)})
            break
    raw: dict[str, Any] = {
        "type": "social",
        "url": url,
        "provider": key,
        "author_name": _cut(_clean_line(_string(data, "author_name") or ""), 200),
        "author_handle": _cut(handle, 200),
        "author_url": author_url,
        "text": _cut(text, 10_000),
        "posted_at": _posted_at(parser),
        "media": [{k: v for k, v in item.items() if v} for item in media] or None,
    }
    return _validated(raw)


def _validated(raw: Block) -> Block:
    """``raw`` through the block validator; a field it refuses is left out, not fatal."""
    raw = {name: value for name, value in raw.items() if value}
    errors: list[FieldError] = []
    blocks = validate_blocks([("block", raw)], errors)
    if not errors:
        return blocks[0]
    refused = {error.field.removeprefix("block.").split(".")[0].split("[")[0] for error in errors}
    kept = {name: value for name, value in raw.items() if name not in refused}
    errors = []
    blocks = validate_blocks([("block", kept)], errors)
    if errors:
        raise EmbedError(f"The provider's answer could not be used. {BY_HAND}")
    return blocks[0]


def parse_answer(fetched: Fetched) -> dict[str, Any]:
    """The JSON object of an oEmbed answer, or an error the editor can act on."""
    host = host_of(fetched.url)
    try:
        data = json.loads(fetched.body)
    except (ValueError, RecursionError) as error:
        reason = "it is not JSON" if isinstance(error, ValueError) else "it nests too deeply"
        raise EmbedError(
            f"{host} sent an answer that is not valid oEmbed ({reason}). {BY_HAND}"
        ) from None
    if not isinstance(data, dict):
        raise EmbedError(
            f"{host} sent an answer that is not valid oEmbed (not a JSON object). {BY_HAND}"
        )
    return data


def video_snapshot(data: Mapping[str, Any], url: str, poster: dict[str, Any] | None) -> Block:
    """A ``video`` block from a YouTube or Vimeo oEmbed answer, with ``poster`` (stored here)."""
    title = _cut(_clean_line(_string(data, "title") or ""), 300)
    return _validated({"type": "video", "url": url, "title": title, "poster": poster})


def thumbnail_url(data: Mapping[str, Any]) -> str | None:
    """The answer's thumbnail, if it is an http(s) URL."""
    found = _string(data, "thumbnail_url")
    return found if found and check_url(found) is None else None
