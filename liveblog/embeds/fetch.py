"""The one place outbound HTTP is made: a guarded fetcher. No Flask.

Links come from editors, so the server must not become their way into the newsroom's
network: requests go straight to the site (no proxy), only over http(s), with a deadline,
a size cap and few redirects, and never to loopback or private addresses unless allowed:
a name is resolved within the deadline and all its addresses vetted before any is
connected to.
Failures are reported as ``FetchError``s whose ``reason`` a person can read; callers
phrase them for their own audience.
"""

import http.client
import ipaddress
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from http.client import HTTPMessage
from typing import IO
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

from ..validation import whole_number

MAX_REDIRECTS = 3
USER_AGENT = "Liveblog/0.1"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix, RFC 6052
_AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]


class FetchError(Exception):
    """A request that did not get a usable answer from ``host``."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


class AddressRefused(FetchError):
    """The host is a private or local address, so nothing was sent."""


class FetchTimeout(FetchError):
    """The host did not answer, or not all of it, within the deadline."""


class AnswerTooLarge(FetchError):
    """The answer was larger than the size cap."""


class StatusError(FetchError):
    """The host answered with an HTTP error status ``code``."""

    def __init__(self, host: str, code: int) -> None:
        super().__init__(host, f"HTTP {code}")
        self.code = code


class Unreachable(FetchError):
    """The host could not be reached, or broke the connection; ``detail`` says how."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(host, f"could not be reached ({detail})")
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    url: str
    """Where the answer came from, after redirects."""
    content_type: str
    body: bytes


def host_of(url: str) -> str:
    return urlsplit(url).hostname or url


class Fetcher:
    """GETs and POSTs with a deadline of ``timeout`` seconds and answers of ``max_bytes``."""

    def __init__(
        self, timeout: float, max_bytes: int, allow_private: bool = False, user_agent: str = ""
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.user_agent = user_agent or USER_AGENT

    def get(self, url: str, accept: str, *, truncate: bool = False) -> Fetched:
        """The answer to a GET of ``url``: at most ``max_bytes``, beyond which it is an
        AnswerTooLarge, or cut short with ``truncate``."""
        return self._send(urllib.request.Request(url, headers={"Accept": accept}), truncate)

    def post_form(self, url: str, form: dict[str, str]) -> Fetched:
        """The answer to a POST of ``form`` (application/x-www-form-urlencoded) to ``url``."""
        return self.post(url, urlencode(form).encode(), "application/x-www-form-urlencoded")

    def post(self, url: str, body: bytes, content_type: str) -> Fetched:
        """The answer to a POST of ``body``, of type ``content_type``, to ``url``."""
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": content_type}
        )
        return self._send(request, truncate=True)

    def _send(self, request: urllib.request.Request, truncate: bool) -> Fetched:
        host = host_of(request.full_url)
        request.add_header("User-Agent", self.user_agent)
        deadline = time.monotonic() + self.timeout
        opener = _opener(_Dialer(deadline, self.allow_private))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                if not truncate and self._declares_too_much(response):
                    raise self._too_large(host)
                body = self._read(response, deadline, truncate, host)
                return Fetched(response.geturl(), response.headers.get_content_type(), body)
        except urllib.error.HTTPError as error:
            error.close()
            raise StatusError(host, error.code) from None
        except urllib.error.URLError as error:
            raise _unreachable(host, error.reason, self.timeout) from None
        except TimeoutError:
            raise _timed_out(host, self.timeout) from None
        except (http.client.HTTPException, OSError) as error:
            raise _unreachable(host, error, self.timeout) from None

    def _read(
        self, response: http.client.HTTPResponse, deadline: float, truncate: bool, host: str
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size <= self.max_bytes:
            if time.monotonic() > deadline:
                raise _timed_out(host, self.timeout)
            chunk = response.read1(65_536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        if truncate:
            return b"".join(chunks)[: self.max_bytes]
        raise self._too_large(host)

    def _declares_too_much(self, response: http.client.HTTPResponse) -> bool:
        """Whether the answer's Content-Length is over the cap (one that is no number says
        nothing: the body is counted as it is read)."""
        length = whole_number(response.headers.get("Content-Length", ""), self.max_bytes)
        return length is not None and length > self.max_bytes

    def _too_large(self, host: str) -> AnswerTooLarge:
        return AnswerTooLarge(host, f"sent more than {self.max_bytes // 1024} kB")


def _timed_out(host: str, timeout: float) -> FetchTimeout:
    return FetchTimeout(host, f"did not answer within {timeout:g} seconds")


def _unreachable(host: str, reason: Any, timeout: float) -> FetchError:
    if isinstance(reason, FetchError):
        return reason
    if isinstance(reason, TimeoutError):
        return _timed_out(host, timeout)
    detail = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return Unreachable(host, detail)


# The connections urllib opens: a name is resolved and vetted before anything is sent.


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is a public one, which a fetcher that allows no private
    addresses may connect to.

    It must be global (``is_global``), and neither multicast nor reserved. An IPv6 address
    that embeds an IPv4 one reaches it: IPv4-mapped and NAT64 addresses are that IPv4
    address written otherwise, and 6to4 and Teredo tunnel to theirs; so the embedded
    address must be public too (``ipaddress`` counts ``64:ff9b::7f00:1`` and
    ``2002:7f00:1::`` as global, though they lead to 127.0.0.1).
    """
    if isinstance(address, ipaddress.IPv6Address):
        written_as = address.ipv4_mapped or _nat64(address)
        if written_as is not None:
            return is_public(written_as)
        tunnelled = (address.sixtofour, *(address.teredo or ()))
        if not all(is_public(ipv4) for ipv4 in tunnelled if ipv4 is not None):
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address in the last 32 bits of a well-known-prefix NAT64 address."""
    if address not in _NAT64:
        return None
    return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)


def _resolve(host: str, port: int, timeout: float) -> Sequence[_AddressInfo]:
    """``host``'s addresses for a TCP connection to ``port``; TimeoutError after ``timeout``
    seconds.

    The C resolver keeps its own, longer timeouts and cannot be interrupted, so it runs in
    a thread of its own, waited for no longer than ``timeout`` and otherwise left to finish
    alone. Under gevent, which patches threading and socket, that thread is a greenlet and
    the look-up cooperative, so waiting blocks no other request.
    """
    answer: Future[Sequence[_AddressInfo]] = Future()

    def look_up() -> None:
        try:
            answer.set_result(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as error:
            answer.set_exception(error)

    threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    return answer.result(timeout)  # concurrent.futures' TimeoutError is the builtin one


@dataclass(frozen=True)
class _Dialer:
    """How one request's connections are made, all before its ``deadline``
    (``time.monotonic()``): the host is resolved, every address it has is vetted, and
    only then is one of those same addresses connected to.

    Vetting before connecting means a refused address is sent nothing, not even a SYN, so
    an answer cannot tell an open port from a closed one; connecting to the vetted
    addresses rather than the name means a second look-up cannot answer otherwise.
    """

    deadline: float
    allow_private: bool

    def connect(
        self,
        address: tuple[str, int],
        timeout: object = None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        """A socket connected to ``address`` (host, port), as ``socket.create_connection``
        gives, for http.client. ``timeout`` is unused: what is left before the deadline is
        the timeout of the look-up, of each attempt to connect and of the socket."""
        host, port = address
        found = _resolve(host, port, self._left())
        if not self.allow_private and not all(
            is_public(ipaddress.ip_address(info[4][0])) for info in found
        ):
            raise AddressRefused(host, "is a private or local address")
        error = OSError(f"{host} has no address")
        for family, kind, proto, _, sockaddr in found:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self._left())
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as failed:
                sock.close()
                error = failed
        raise error

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline has passed")
        return left


class _GuardedHTTPConnection(http.client.HTTPConnection):
    """Connected by the dialer, to a vetted address."""

    def __init__(self, host: str, *, dialer: _Dialer, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._create_connection = dialer.connect


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    """Connected by the dialer to a vetted address; the certificate is still checked,
    and SNI sent, for the host's name (http.client wraps the socket with ``self.host``)."""

    def __init__(self, host: str, *, dialer: _Dialer, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._create_connection = dialer.connect


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, dialer: _Dialer) -> None:
        super().__init__()
        self.dialer = dialer

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_GuardedHTTPConnection, dialer=self.dialer), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, dialer: _Dialer) -> None:
        super().__init__()
        self.dialer = dialer

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = partial(_GuardedHTTPSConnection, dialer=self.dialer)
        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme not in ("http", "https"):
            return None  # urllib then reports the redirect itself as the HTTP error
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(dialer: _Dialer) -> urllib.request.OpenerDirector:
    """Only http(s), no proxies, a few redirects: nothing else urllib could open.

    One is made per request, so that every hop of it, redirects too, is dialled by the
    same ``dialer``: vetted alike, and within the request's deadline.
    """
    opener = urllib.request.OpenerDirector()
    for handler in (
        _HTTPHandler(dialer),
        _HTTPSHandler(dialer),
        _Redirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener
