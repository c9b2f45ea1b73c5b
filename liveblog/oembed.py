"""oEmbed: a post's details fetched from its provider, kept as a snapshot block. No Flask.

Editors give a link; the server asks the provider's oEmbed endpoint (from the table
below, or found through ``<link rel="alternate" type="application/json+oembed">`` on the
page for hosts it does not know) and turns the answer into a ``social`` block. The
answer's ``html`` is never used as HTML: only its words are read, as plain text.

Fetches go straight to the provider (no proxy), with a timeout, a size cap and few
redirects, and never to loopback or private addresses unless allowed: the URLs come from
editors, and the server must not become their way into the newsroom's network.
"""

import http.client
import ipaddress
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

from . import providers
from .blocks import Block
from .blocks import validate_blocks
from .validation import check_url

# Where each provider answers oEmbed requests; "{host}" is the post's own host (Mastodon
# runs on any). Telegram offers none: its posts are tried by discovery, then by hand.
ENDPOINTS = {
    "x": "https://publish.twitter.com/oembed",
    "bluesky": "https://embed.bsky.app/oembed",
    "mastodon": "https://{host}/api/oembed",
    "threads": "https://graph.threads.net/v1.0/oembed",
    "facebook": "https://graph.facebook.com/v21.0/oembed_post",
    "instagram": "https://graph.facebook.com/v21.0/instagram_oembed",
    "youtube": "https://www.youtube.com/oembed",
    "vimeo": "https://vimeo.com/api/oembed.json",
}
# Meta answers only requests signed with an app's access token.
TOKEN_PROVIDERS = frozenset({"threads", "facebook", "instagram"})
MAX_REDIRECTS = 3
DISCOVERY_TYPE = "application/json+oembed"
USER_AGENT = "Liveblog/0.1 (oEmbed look-up for a live blog)"
BY_HAND = "Enter the post's details by hand to quote it anyway."


class EmbedError(Exception):
    """A look-up that failed, with a message for the editor; ``status`` for the API."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class _PrivateAddress(OSError):
    pass


class _Timeout(Exception):
    pass


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str
    body: bytes


# Fetching


def _guarded(base: type[http.client.HTTPConnection], allow_private: bool) -> Any:
    """``base`` (HTTP or HTTPS) refusing to talk to an address that is not public.

    The check is on the address actually connected to, so a name that resolves to a
    private address (or changes between look-ups) is caught too.
    """

    class GuardedConnection(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = self._checked_connection

        def _checked_connection(self, address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            sock = socket.create_connection(address, *args, **kwargs)
            peer = ipaddress.ip_address(sock.getpeername()[0].split("%")[0])
            mapped = getattr(peer, "ipv4_mapped", None)
            if not allow_private and not (mapped or peer).is_global:
                sock.close()
                raise _PrivateAddress(f"{address[0]} is a private or local address")
            return sock

    return GuardedConnection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.connection = _guarded(http.client.HTTPConnection, allow_private)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.connection = _guarded(http.client.HTTPSConnection, allow_private)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.connection, req, context=self._context)  # type: ignore[attr-defined]


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlsplit(newurl).scheme not in ("http", "https"):
            return None  # urllib then reports the redirect itself as the HTTP error
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """Only http(s), no proxies, a few redirects: nothing else urllib could open."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        _HTTPHandler(allow_private),
        _HTTPSHandler(allow_private),
        _Redirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


class Fetcher:
    """GETs a URL with a deadline and a size cap, explaining every failure to the editor."""

    def __init__(self, timeout: float, max_bytes: int, allow_private: bool = False) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.opener = _opener(allow_private)

    def get(self, url: str, accept: str, *, truncate: bool = False, what: str = "") -> Fetched:
        """The body of ``url`` (at most ``max_bytes``; beyond, an error or cut if ``truncate``)."""
        host = _host(url)
        request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": USER_AGENT})
        deadline = time.monotonic() + self.timeout
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length", "")
                if not truncate and length.isdigit() and int(length) > self.max_bytes:
                    raise self._too_big(host, what)
                body = self._read(response, deadline, truncate, host, what)
                content_type = response.headers.get_content_type()
                final_url = response.geturl()
        except urllib.error.HTTPError as error:
            error.close()
            raise self._http_error(host, error.code) from None
        except urllib.error.URLError as error:
            raise self._unreachable(host, error.reason) from None
        except (TimeoutError, _Timeout):
            raise EmbedError(
                f"{host} did not answer within {self.timeout:g} seconds. "
                f"Try again later, or {BY_HAND[0].lower()}{BY_HAND[1:]}",
                504,
            ) from None
        except (http.client.HTTPException, OSError) as error:
            raise self._unreachable(host, error) from None
        return Fetched(final_url, content_type, body)

    def _read(
        self,
        response: http.client.HTTPResponse,
        deadline: float,
        truncate: bool,
        host: str,
        what: str,
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size <= self.max_bytes:
            if time.monotonic() > deadline:
                raise _Timeout
            chunk = response.read1(65_536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        if truncate:
            return b"".join(chunks)[: self.max_bytes]
        raise self._too_big(host, what)

    def _too_big(self, host: str, what: str) -> EmbedError:
        return EmbedError(
            f"{host} sent more than {self.max_bytes // 1024} kB{what}, which is not an answer "
            f"that can be used. {BY_HAND}"
        )

    @staticmethod
    def _http_error(host: str, code: int) -> EmbedError:
        if code in (404, 410):
            reason = "this post does not exist: it may have been deleted, or be private"
        elif code in (401, 403):
            reason = "it will not share this post: it may be private, or need a login"
        elif code == 429:
            reason = "too many look-ups were made; try again in a few minutes"
        else:
            reason = "it could not answer"
        return EmbedError(f"{host} says {reason} (HTTP {code}). {BY_HAND}")

    @staticmethod
    def _unreachable(host: str, reason: Any) -> EmbedError:
        if isinstance(reason, _PrivateAddress):
            return EmbedError(
                f"{host} is a private or local address; only public sites are looked up. {BY_HAND}",
                422,
            )
        if isinstance(reason, TimeoutError):
            return EmbedError(f"{host} did not answer in time. {BY_HAND}", 504)
        detail = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        return EmbedError(
            f"Could not reach {host} ({detail}). Check the link, or {BY_HAND[0].lower()}{BY_HAND[1:]}"
        )


# Reading answers


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
    errors: list[Any] = []
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
    host = _host(fetched.url)
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


# Looking up


class Cache:
    """Snapshots by URL for ``ttl`` seconds, at most ``size`` of them, safe across threads."""

    def __init__(self, ttl: float, size: int = 512, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return json.loads(found[1])

    def put(self, key: str, value: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._items[key] = (self.clock() + self.ttl, json.dumps(value))
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass
class Resolved:
    """A looked-up post's block, and whether it came from the cache."""

    block: Block
    cached: bool = False


class Resolver:
    """Looks posts up by oEmbed, through the endpoint table or discovery, with a cache."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        endpoints: Mapping[str, str] | None = None,
        meta_token: str | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.endpoints = {**ENDPOINTS, **(endpoints or {})}
        self.meta_token = meta_token
        self.cache = cache or Cache(ttl=0)

    def resolve(
        self, url: str, save_image: Callable[[bytes], dict[str, Any] | None] | None = None
    ) -> Resolved:
        """The snapshot of the post at ``url``: a ``social`` block, or for YouTube and Vimeo a
        ``video`` block whose poster is the provider's thumbnail, stored by ``save_image``
        (which returns its url, width and height, or None if it cannot use the picture)."""
        problem = check_url(url)
        if problem:
            raise EmbedError(f"The link {problem}.", 422)
        cached = self.cache.get(url)
        if cached is not None:
            return Resolved(cached, cached=True)
        data = parse_answer(self.fetcher.get(self.endpoint(url), "application/json"))
        provider = providers.match(url)
        if provider and provider.kind == "video":
            title = _cut(_clean_line(_string(data, "title") or ""), 300)
            poster = self._poster(data, save_image)
            block = _validated({"type": "video", "url": url, "title": title, "poster": poster})
        else:
            block = snapshot(data, url)
        self.cache.put(url, block)
        return Resolved(block)

    def _poster(
        self, data: Mapping[str, Any], save_image: Callable[[bytes], dict[str, Any] | None] | None
    ) -> dict[str, Any] | None:
        """The thumbnail as a local poster; without one, readers see a neutral poster."""
        thumbnail = _string(data, "thumbnail_url")
        if save_image is None or thumbnail is None or check_url(thumbnail):
            return None
        try:
            saved = save_image(self.fetch_image(thumbnail))
        except EmbedError:
            return None
        return {name: saved[name] for name in ("url", "width", "height") if name in saved} or None

    def endpoint(self, url: str) -> str:
        """The oEmbed request for ``url``: from the table, else discovered on its page."""
        provider = providers.match(url)
        key = provider.key if provider else "other"
        template = self.endpoints.get(key)
        if template is None:
            return self.discover(url, provider.name if provider else None)
        query = {"url": url, "format": "json"}
        if key == "x":
            query.update(omit_script="1", dnt="true")
        if key in TOKEN_PROVIDERS:
            if not self.meta_token:
                raise EmbedError(
                    f"{provider.name if provider else key} posts can only be looked up with a "
                    f"Meta app token (LIVEBLOG_OEMBED_META_TOKEN), which is not set. {BY_HAND}",
                    422,
                )
            query["access_token"] = self.meta_token
        endpoint = template.replace("{host}", _host(url))
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urlencode(query)}"

    def discover(self, url: str, name: str | None) -> str:
        page = self.fetcher.get(
            url, "text/html,application/xhtml+xml", truncate=True, what=" of page"
        )
        if page.content_type not in ("text/html", "application/xhtml+xml"):
            raise EmbedError(
                f"{_host(url)} did not send a web page for this link, so it cannot be quoted "
                f"automatically. {BY_HAND}",
                422,
            )
        found = discover(page.body.decode("utf-8", "replace"), page.url)
        if found is None:
            who = f"{name} does" if name else f"{_host(url)} does"
            raise EmbedError(f"{who} not offer oEmbed for this link. {BY_HAND}", 422)
        return found

    def fetch_image(self, url: str) -> bytes:
        """A picture the answer pointed to (a video's thumbnail), within the size cap."""
        return self.fetcher.get(url, "image/*", what=" for the picture").body
