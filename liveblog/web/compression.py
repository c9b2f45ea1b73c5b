"""gzip for the embedded server: WSGI middleware in front of everything else.

Behind a front that compresses (nginx, a CDN), the front asks the app for identity and
this does nothing. Alone, ``liveblog serve`` answers ``Accept-Encoding: gzip`` for pages,
feeds, JSON, scripts and styles. A response with an ETag names its bytes, so its gzip
copy is kept under that ETag: a page-cache hit, or a hashed asset, is compressed once.
"""

import gzip
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from werkzeug.http import parse_accept_header

from ..lru import LruCache

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

COMPRESSIBLE = (
    "text/html",
    "text/css",
    "text/javascript",
    "text/plain",
    "application/javascript",
    "application/json",
    "application/problem+json",
    "application/feed+json",
    "application/atom+xml",
    "application/rss+xml",
    "application/xml",
    "image/svg+xml",
)
MIN_SIZE = 1024  # below this, gzip's own bytes outweigh what it saves


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether a request's Accept-Encoding takes gzip (``gzip;q=0`` and ``identity`` do not)."""
    return parse_accept_header(accept_encoding).quality("gzip") > 0


class Compressor:
    """WSGI middleware: gzip for clients that ask, once per ETag, never for streams."""

    def __init__(self, app: WSGIApp, kept: int = 512) -> None:
        self.app = app
        self._compressed: LruCache[bytes] = LruCache(kept)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or not accepts_gzip(
            environ.get("HTTP_ACCEPT_ENCODING", "")
        ):
            return self.app(environ, start_response)
        held: list[Any] = []

        def hold_if_compressible(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info is None and _compressible(status, headers):
                held[:] = [status, headers]
                return _no_write
            return start_response(status, headers, exc_info)

        result = self.app(environ, hold_if_compressible)
        if not held:
            return result  # passed on as it came: a stream stays a stream
        status, headers = held
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if len(body) < MIN_SIZE:
            start_response(status, _with_vary(headers))
            return [body]
        compressed = self._gzip(body, headers)
        start_response(status, _gzip_headers(headers, len(compressed)))
        return [compressed]

    def _gzip(self, body: bytes, headers: list[tuple[str, str]]) -> bytes:
        found = {name.lower(): value for name, value in headers}
        etag = found.get("etag")
        if etag is None:
            return gzip.compress(body, compresslevel=6, mtime=0)
        key = (etag, found.get("content-type", ""))
        kept = self._compressed.get(key)
        if kept is None:
            kept = gzip.compress(body, compresslevel=6, mtime=0)
            self._compressed.put(key, kept)
        return kept


def _compressible(status: str, headers: list[tuple[str, str]]) -> bool:
    if not status.startswith("200"):
        return False
    found = {name.lower(): value.lower() for name, value in headers}
    media_type = found.get("content-type", "").split(";")[0].strip()
    return (
        media_type in COMPRESSIBLE
        and "content-encoding" not in found
        and "no-transform" not in found.get("cache-control", "")
    )


def _with_vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` saying that the answer depends on Accept-Encoding."""
    vary = [value for name, value in headers if name.lower() == "vary"]
    if any("accept-encoding" in value.lower() or "*" in value for value in vary):
        return headers
    others = [(name, value) for name, value in headers if name.lower() != "vary"]
    return [*others, ("Vary", ", ".join([*vary, "Accept-Encoding"]))]


def _gzip_headers(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    """The headers of the gzip copy: its length, its encoding, and a weak ETag (RFC 9110:
    a strong one names one representation's bytes, and these are other bytes)."""
    kept = []
    for name, value in _with_vary(headers):
        lowered = name.lower()
        if lowered == "content-length":
            continue
        if lowered == "etag" and not value.startswith("W/"):
            value = f"W/{value}"
        kept.append((name, value))
    return [*kept, ("Content-Encoding", "gzip"), ("Content-Length", str(length))]


def _no_write(_data: bytes) -> None:
    raise RuntimeError("the app wrote a compressible response with write(); return it instead")
