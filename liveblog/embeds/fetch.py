"""The one place outbound HTTP is made: a guarded fetcher. No Flask.

Links come from editors, so the server must not become their way into the newsroom's
network: requests go straight to the site (no proxy), only over http(s), with a deadline,
a size cap and few redirects, and never to loopback or private addresses unless allowed.
Failures are reported as ``FetchError``s whose ``reason`` a person can read; callers
phrase them for their own audience.
"""

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

MAX_REDIRECTS = 3
USER_AGENT = "Liveblog/0.1"


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
        self.user_agent = user_agent or USER_AGENT
        self.opener = _opener(allow_private)

    def get(self, url: str, accept: str, *, truncate: bool = False) -> Fetched:
        """The answer to a GET of ``url``: at most ``max_bytes``, beyond which it is an
        AnswerTooLarge, or cut short with ``truncate``."""
        return self._send(urllib.request.Request(url, headers={"Accept": accept}), truncate)

    def post_form(self, url: str, form: dict[str, str]) -> Fetched:
        """The answer to a POST of ``form`` (application/x-www-form-urlencoded) to ``url``."""
        request = urllib.request.Request(
            url,
            data=urlencode(form).encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return self._send(request, truncate=True)

    def _send(self, request: urllib.request.Request, truncate: bool) -> Fetched:
        host = host_of(request.full_url)
        request.add_header("User-Agent", self.user_agent)
        deadline = time.monotonic() + self.timeout
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length", "")
                if not truncate and length.isdigit() and int(length) > self.max_bytes:
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


# The connections urllib opens: checked against the address actually connected to.


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
                raise AddressRefused(address[0], "is a private or local address")
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
