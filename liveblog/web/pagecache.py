"""Reader responses answered from memory, in front of Flask, until their blog changes.

A response built by ``cached_for_readers`` is named by its blog's seq: the view marks the
WSGI environ with the blog's id and seq, and this middleware keeps what Flask sent (a 200's
status, headers and bytes, or just the validators of a 304) under the request's path and
query. The next GET or HEAD of that path is answered here, with no routing, session or
query, while this process's notifier still has the blog at that seq and its source is in
touch with the database. Anything else goes through Flask, which refreshes the copy.

Commits of this process reach the notifier before their request returns; another
process's commits reach it within the source's delay (LIVE_POLL_INTERVAL on SQLite, a
NOTIFY or a Redis message otherwise), far inside the CDN's own ``s-maxage``. That delay
is bounded: a copy is answered only while the source ``is_current``, i.e. its last look
at the database (or the channel) began less than ``2 * period + 0.5`` seconds ago: 1 s
on SQLite with the default poll of 0.25 s, 0.9 s with PostgreSQL or Redis. (Measured
with two workers, tests/test_live_servers.py: about 0.2 s on SQLite, a millisecond or
none with NOTIFY or Redis.)

A caching front that knows a blog's seq (``deploy/nginx/`` keys its copies on it) sends
it as ``Liveblog-Seq``: no copy older than that is answered, so a process that has not
heard of a commit yet cannot hand the front a page from before it. A front still naming
an older seq than the blog's, refreshing a copy it keeps under that seq, is told to keep
it (``kept_copy_will_do``): it asks again under the new seq as soon as it learns it, and
one render per change and URL is all a front costs.
"""

import re
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from werkzeug.http import parse_date

from ..live import Notifier
from ..live import PollingSource
from ..lru import LruCache
from ..store import MAX_ID
from ..validation import whole_number

EXTENSION = "liveblog.page_cache"  # where create_app registers the cache
MARK = "liveblog.page_cache.mark"  # the environ key views mark their responses with

SEQ_HEADER = "Liveblog-Seq"  # a blog's seq: what /<slug>/seq answers, and what fronts send
SEQ_ENVIRON = "HTTP_LIVEBLOG_SEQ"

# The ETags reader responses carry (conditional._etag): a front's copy of one is named so.
OUR_ETAG = re.compile(r'"[0-9a-f]{32}"')

# Headers a 304 repeats from the 200 it stands for (RFC 9110, section 15.4.5).
NOT_MODIFIED_HEADERS = frozenset({"cache-control", "content-location", "etag", "expires", "vary"})

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def mark(environ: dict[str, Any], blog_id: int, seq: int, last_modified: datetime) -> None:
    """Declare that the response to ``environ`` depends on nothing but ``blog_id`` at ``seq``
    (whose Last-Modified is ``last_modified``)."""
    environ[MARK] = (blog_id, seq, last_modified)


@dataclass
class _Copy:
    blog_id: int
    seq: int
    etag: str
    last_modified: datetime
    not_modified: list[tuple[str, str]]
    full: tuple[str, list[tuple[str, str]], bytes] | None = None


class PageCache:
    """WSGI middleware holding up to ``size`` reader responses, one per path and query."""

    def __init__(self, app: WSGIApp, notifier: Notifier, source: PollingSource, size: int) -> None:
        self.app, self.notifier, self.source = app, notifier, source
        self._copies: LruCache[_Copy] = LruCache(size)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path_info = environ.get("PATH_INFO", "")
        # A PATH_INFO without its slash means the path was split inside a segment (a
        # SCRIPT_NAME sent by a proxy): the response would be kept under a path it is not.
        # A request Pushpin signed may be held rather than answered: Flask decides.
        if (
            method not in ("GET", "HEAD")
            or not path_info.startswith("/")
            or "HTTP_GRIP_SIG" in environ
        ):
            return self.app(environ, start_response)
        path = environ.get("SCRIPT_NAME", "") + path_info
        key = cache_key(environ["wsgi.url_scheme"], path, environ.get("QUERY_STRING", ""))
        answer = self.answer(
            key,
            environ.get("HTTP_IF_NONE_MATCH"),
            environ.get("HTTP_IF_MODIFIED_SINCE"),
            seq_floor(environ.get(SEQ_ENVIRON)),
        )
        if answer is None:
            return self._through_app(environ, start_response, key, method)
        status, headers, body = answer
        start_response(status, headers)
        return [] if method == "HEAD" else [body]

    def __len__(self) -> int:
        return len(self._copies)

    def answer(
        self,
        key: str,
        if_none_match: str | None,
        if_modified_since: str | None,
        at_least: int = 0,
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The status, headers and body to send for a GET of ``key`` with these validators
        (a HEAD sends no body), or None when the request must go through the app: also
        when the copy is of a seq below ``at_least`` (the ``Liveblog-Seq`` a front sent)."""
        copy = self._copies.get(key)
        if copy is None or copy.seq < at_least or not self._is_current(copy):
            return None
        kept = kept_copy_will_do(at_least, copy.seq, if_none_match)
        if kept is not None:
            return "304 NOT MODIFIED", not_modified_for(kept, copy.not_modified), b""
        if client_is_current(if_none_match, if_modified_since, copy.etag, copy.last_modified):
            return "304 NOT MODIFIED", copy.not_modified, b""
        return copy.full

    def _is_current(self, copy: _Copy) -> bool:
        return self.notifier.latest(copy.blog_id) == copy.seq and self.source.is_current()

    def _through_app(
        self, environ: dict[str, Any], start_response: StartResponse, key: str, method: str
    ) -> Iterable[bytes]:
        sent: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        marked = environ.get(MARK)
        if marked is None or not sent:
            return result
        status, headers = sent
        storable = not any(_per_visitor(name, value) for name, value in headers)
        if storable and status.startswith("304"):
            self._store(key, marked, headers, None)
        elif storable and status.startswith("200") and method == "GET":
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            framed = [(name, value) for name, value in headers if name.lower() != "content-length"]
            framed.append(("Content-Length", str(len(body))))
            self._store(key, marked, headers, (status, framed, body))
            return [body]
        else:
            self._copies.pop(key)
        return result

    def _store(
        self,
        key: str,
        marked: tuple[int, int, datetime],
        headers: list[tuple[str, str]],
        full: tuple[str, list[tuple[str, str]], bytes] | None,
    ) -> None:
        found = {name.lower(): value for name, value in headers}
        if "etag" not in found:
            return
        blog_id, seq, last_modified = marked
        self.notifier.publish(blog_id, seq)
        self.source.ensure_running()
        previous = self._copies.get(key)
        if full is None and previous is not None and previous.seq == seq:
            full = previous.full
        copy = _Copy(
            blog_id,
            seq,
            found["etag"],
            last_modified,
            [(name, value) for name, value in headers if name.lower() in NOT_MODIFIED_HEADERS],
            full,
        )
        self._copies.put(key, copy)


def _per_visitor(name: str, value: str) -> bool:
    """Whether a response header makes the response one visitor's own, never to be shared."""
    name = name.lower()
    return name == "set-cookie" or (name == "vary" and "cookie" in value.lower())


def seq_floor(raw: str | None) -> int:
    """The seq a ``Liveblog-Seq`` request header names, or 0 (no floor) if it names none.

    Only a floor: a client sending a high one merely goes past the cache, as any new query
    string would, and nothing it says reaches the notifier. A number beyond every seq
    names none.
    """
    seq = whole_number(raw or "", MAX_ID)
    return seq if seq is not None and seq <= MAX_ID else 0


def kept_copy_will_do(at_least: int, seq: int, if_none_match: str | None) -> str | None:
    """The ETag to confirm (304) when a front names ``at_least``, an older seq than the
    blog's ``seq``, and asks with ``if_none_match`` whether the copy it keeps will do; None
    when the request is not that.

    Such a front is refreshing a copy it keeps under the old seq's key: a copy of that seq
    or later, since none older is ever answered. Its readers move to the new seq's key as
    soon as the front's copy of the seq expires, and are served afresh there; rendering the
    new page for the old key too would cost the change a second render.
    """
    if not 0 < at_least < seq or if_none_match is None:
        return None
    etag = if_none_match.strip()
    return etag if OUR_ETAG.fullmatch(etag) else None


def not_modified_for(etag: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A 304's ``headers`` naming ``etag`` instead of the ETag they had."""
    return [(name, value) for name, value in headers if name.lower() != "etag"] + [("ETag", etag)]


def cache_key(scheme: str, path: str, query: str) -> str:
    """Where a copy of the response to ``path`` with ``query`` is kept. The scheme is part
    of it: an answer over HTTPS says Strict-Transport-Security, one over HTTP must not."""
    return f"{scheme}:{path}?{query}"


def client_is_current(
    if_none_match: str | None, if_modified_since: str | None, etag: str, last_modified: datetime
) -> bool:
    """Whether a request's validators match a response with ``etag`` and ``last_modified``
    (If-None-Match, compared weakly, wins over If-Modified-Since, as in RFC 9110)."""
    if if_none_match:
        tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
        return any(tag in (etag, "*") for tag in tags)
    if if_modified_since is None:
        return False
    since = parse_date(if_modified_since)
    return since is not None and since >= last_modified
