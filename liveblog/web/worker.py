"""The production server's worker: gunicorn's gevent worker, with page-cache hits answered
before gunicorn parses the request.

Through gunicorn, a page-cache hit spends most of its time in gunicorn's request parser,
WSGI environ and response writer, not in the cache. This worker reads each request head
on a connection itself: a plain HTTP/1.x GET or HEAD that the page cache can answer is
answered in one write. The first request it cannot answer (any other method, a body, an
upgrade, a percent-encoded path, a miss, anything unusual) goes to gunicorn with the bytes
already read, and gunicorn serves the rest of that connection as it always would, so
streams, the editor and every error page are gunicorn's and Flask's as before. Answers
from the cache are access-logged like any other, but gunicorn's ``pre_request`` and
``post_request`` hooks do not run for them.
"""

import errno
import re
import socket
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from typing import NamedTuple

import gevent
from gunicorn import SERVER
from gunicorn import util
from gunicorn.http2 import negotiation
from gunicorn.workers.ggevent import GeventWorker

from . import pagecache
from .pagecache import PageCache
from .pagecache import cache_key

REQUEST_LINE = re.compile(
    rb"(GET|HEAD) (/[^\x00-\x20\x7f-\xff%#?]*)(?:\?([^\x00-\x20\x7f-\xff#]*))? HTTP/(1\.[01])"
)
FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
# Fields announcing a body, a protocol switch or an expectation, and the signature of a
# request from Pushpin, which may be held rather than answered: gunicorn deals with those.
HANDED_ON_FIELDS = frozenset(
    {"content-length", "transfer-encoding", "upgrade", "expect", "grip-sig"}
)
# Fields the fast path reads, each of which must then appear at most once.
READ_FIELDS = ("host", "connection", "if-none-match", "if-modified-since")
MAX_HEAD = 8192


class Limits(NamedTuple):
    """gunicorn's request limits (``--limit-request-*``): a head beyond them goes to gunicorn,
    which answers 400 or 431."""

    line: int = 4094
    fields: int = 100
    field_size: int = 8190

    @classmethod
    def of(cls, cfg: Any) -> "Limits":
        return cls(
            cfg.limit_request_line if cfg.limit_request_line > 0 else MAX_HEAD,
            cfg.limit_request_fields if cfg.limit_request_fields > 0 else MAX_HEAD,
            cfg.limit_request_field_size if cfg.limit_request_field_size > 0 else MAX_HEAD,
        )


DEFAULT_LIMITS = Limits()


class CacheableRequest(NamedTuple):
    method: str
    version: str
    target: str
    path: str
    query: str
    fields: list[tuple[str, str]]

    def field(self, name: str) -> str | None:
        return next((value for field, value in self.fields if field == name), None)

    @property
    def closes(self) -> bool:
        """Whether the connection ends after the answer: HTTP/1.1 keeps it unless asked to
        close, HTTP/1.0 closes it unless asked to keep it."""
        tokens = {token.strip() for token in (self.field("connection") or "").lower().split(",")}
        return "close" in tokens or (self.version == "1.0" and "keep-alive" not in tokens)


def parse_head(head: bytes, limits: Limits = DEFAULT_LIMITS) -> CacheableRequest | None:
    """The request in ``head`` (everything before the blank line), if the page cache may
    answer it: HTTP/1.x GET or HEAD of an origin-form target without percent-escapes,
    well-formed fields within ``limits``, a Host (HTTP/1.1), no body. None means gunicorn
    must read it."""
    request_line, *lines = head.split(b"\r\n")
    matched = REQUEST_LINE.fullmatch(request_line)
    if matched is None or len(request_line) > limits.line or len(lines) > limits.fields:
        return None
    fields = []
    for line in lines:
        if len(line) > limits.field_size:
            return None
        name, colon, value = line.partition(b":")
        if not colon or not FIELD_NAME.fullmatch(name) or not FIELD_VALUE.fullmatch(value):
            return None
        fields.append((name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")))
    names = [name for name, _value in fields]
    if any(name in HANDED_ON_FIELDS for name in names):
        return None
    method, path, query, version = (
        part.decode("ascii") if part else "" for part in matched.groups()
    )
    if any(names.count(name) > 1 for name in READ_FIELDS):
        return None
    if version == "1.1" and "host" not in names:
        return None
    target = f"{path}?{query}" if matched.group(3) is not None else path
    return CacheableRequest(method, version, target, path, query, fields)


class _Replayed:
    """A client socket whose first reads return bytes already taken from it (gunicorn's
    HTTP/1 parser reads with plain ``recv``)."""

    def __init__(self, sock: socket.socket, pending: bytes) -> None:
        self._sock, self._pending = sock, pending

    def recv(self, size: int) -> bytes:
        if not self._pending:
            return self._sock.recv(size)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class PageCacheWorker(GeventWorker):  # type: ignore[misc]
    alive: bool  # gunicorn's: False once the worker is to stop

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        page_cache = getattr(self.wsgi, "extensions", {}).get(pagecache.EXTENSION)
        if page_cache is None or not self._may_answer_first(addr):
            super().handle(listener, client, addr)
            return
        client.setblocking(1)
        try:
            unanswered = self.answer_from_cache(client, addr, page_cache)
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error answering from the page cache.")
            unanswered = None
        except Exception as error:
            self.handle_error(None, client, addr, error)
            unanswered = None
        if unanswered is None:
            util.close(client)
        else:
            super().handle(listener, _Replayed(client, unanswered), addr)

    def _may_answer_first(self, addr: Any) -> bool:
        """Whether the connection's first bytes are plain HTTP/1.x requests: not with TLS,
        a PROXY protocol line or HTTP/2 without upgrade, nor when gunicorn would close after
        one request anyway."""
        return (
            bool(self.cfg.keepalive)
            and not self.cfg.is_ssl
            and self.cfg.proxy_protocol == "off"
            and not negotiation.prior_knowledge_allowed(self.cfg, addr)
        )

    def answer_from_cache(self, client: Any, addr: Any, page_cache: PageCache) -> bytes | None:
        """Answer the connection's requests from ``page_cache`` while it can. Returns the
        bytes read but not answered, for gunicorn, or None when the connection is done."""
        limits = Limits.of(self.cfg)
        buffered = b""
        while True:
            end = buffered.find(b"\r\n\r\n")
            with gevent.Timeout(self.cfg.keepalive, False):
                while end < 0 and len(buffered) <= MAX_HEAD:
                    received = client.recv(8192)
                    if not received:
                        return None
                    buffered += received
                    end = buffered.find(b"\r\n\r\n")
            if end < 0:
                return buffered if len(buffered) > MAX_HEAD else None
            started = time.monotonic()
            request = parse_head(buffered[:end], limits)
            answer = None
            if request is not None:
                answer = page_cache.answer(
                    cache_key(request.path, request.query),
                    request.field("if-none-match"),
                    request.field("if-modified-since"),
                )
            if request is None or answer is None:
                return buffered
            buffered = buffered[end + 4 :]
            self.nr += 1
            if self.nr >= self.max_requests and self.alive:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            closes = request.closes or not self.alive
            status, headers, body = answer
            if request.method == "HEAD":
                body = b""
            lines = [
                f"HTTP/{request.version} {status}",
                f"Server: {SERVER}",
                f"Date: {util.http_date()}",
                f"Connection: {'close' if closes else 'keep-alive'}",
                *(f"{name}: {value}" for name, value in headers),
            ]
            client.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            self._log_access(request, addr, status, headers, len(body), started)
            if closes:
                return None

    def _log_access(
        self,
        request: CacheableRequest,
        addr: Any,
        status: str,
        headers: list[tuple[str, str]],
        sent: int,
        started: float,
    ) -> None:
        """Log the answer as gunicorn logs what it serves (``--access-logformat`` applies)."""
        environ = {
            "REMOTE_ADDR": addr[0] if isinstance(addr, tuple) else str(addr),
            "REQUEST_METHOD": request.method,
            "RAW_URI": request.target,
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query,
            "SERVER_PROTOCOL": f"HTTP/{request.version}",
            **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in request.fields},
        }
        response = SimpleNamespace(status=status, sent=sent, headers=headers)
        elapsed = timedelta(seconds=time.monotonic() - started)
        self.log.access(response, request.fields, environ, elapsed)
