"""GRIP: Pushpin holds the readers' live streams, and each change is published to it once.
No Flask.

Pushpin passes every request on to the app with ``Grip-Sig``, a JWT (HS256) signed with
the key they share (Pushpin's ``sig_key``). To a signed request, the live views answer with
what the reader missed plus instructions: hold the stream (or the long-poll) open on the
blog's channel, whose last id is the last seq sent (``prev-id``). After each commit,
``GripPublisher`` sends every change to Pushpin's publish endpoint, from a thread of its
own, with ``id`` = seq and ``prev-id`` = seq - 1: a publish that does not follow on from
what a stream had tells Pushpin that one went missing, and it asks the app for the rest
(the stream's ``Grip-Link``, with ``Grip-Last`` naming its last id) instead of leaving a gap.
Each publish also repeats the blog's changes of the last seconds (``recent``), so that one
whose host died before publishing it reaches the streams with the next, from any host.
"""

import json
import logging
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import jwt

from .background import BackgroundThread
from .embeds.fetch import Fetcher
from .embeds.fetch import FetchError
from .live import KEEP_ALIVE
from .live import STOP
from .live import Event
from .store import MAX_ID
from .validation import whole_number

log = logging.getLogger(__name__)

USER_AGENT = "Liveblog GRIP publisher"
# Pushpin takes publish requests of up to 1,000,000 bytes by default.
MAX_BATCH_BYTES = 500_000
# Seconds a stream may stay quiet before Pushpin asks its next link whether it missed a
# change that no later publish has shown missing (its host died between commit and publish).
# Pushpin asks for the streams that share a period together, once the first of them has
# waited it: with one period for all (120 s), 20,000 readers who took minutes to connect had
# the app asked for 1,182 next links in 30 s halfway through, the readers' connections
# reaching it fell from about 110 a second to 10-40, and those still connecting waited past
# 30 s (bench/README.md). So each stream draws a period of its own, and a long one: a host
# dying in that instant is rare, and the next change shows the gap anyway.
NEXT_LINK_TIMEOUTS = range(1800, 3600)
# Each publish repeats the blog's changes of this many seconds before it (at most
# REPEAT_MAX). Pushpin drops a repeat of a change it had: its id cache keeps ids for
# ``id_cache_ttl`` (60 s in Pushpin's own config and in deploy/), which must stay well above
# this. It delivers, in order, a change it never had because the host that committed it died
# before publishing it. Without the repeat, Pushpin's sequencer holds the next publish up to
# 5 s waiting for the missing one, and only then do streams ask their next links: readers
# heard nothing for 8-9 s in the cluster's failovers (bench/README.md).
REPEAT_SECONDS = 10
REPEAT_MAX = 10
# Pushpin answers a publish with a status and a word.
MAX_ANSWER_BYTES = 65_536


def channel(blog_id: int) -> str:
    """The Pushpin channel of a blog's changes."""
    return f"blog-{blog_id}"


def is_signed(token: str | None, key: bytes) -> bool:
    """Whether ``token`` (a ``Grip-Sig``) is a JWT signed with ``key`` (HS256) that carries
    an expiry time, not yet passed."""
    if not token:
        return False
    try:
        jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        return False
    return True


def last_id(values: list[str], channel_name: str) -> int | None:
    """The seq a stream had last on ``channel_name``, from Pushpin's ``Grip-Last`` headers
    (``<channel>; last-id=<id>``, one per channel); None if they name no seq for it."""
    for value in (part for header in values for part in header.split(",")):
        name, *params = (piece.strip() for piece in value.split(";"))
        if name != channel_name:
            continue
        for param in params:
            key, _, raw = param.partition("=")
            if key.strip() == "last-id" and (seq := whole_number(raw, MAX_ID)) is not None:
                return seq
    return None


def _cstring(data: bytes) -> str:
    """``data`` escaped as Pushpin reads a header value in ``format=cstring``."""
    return data.decode().replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def hold_stream(
    channel_name: str, prev_id: int, next_link: str, next_link_timeout: int, keep_alive: int
) -> dict[str, str]:
    """Response headers that have Pushpin hold an event stream open on ``channel_name``,
    after ``prev_id``, sending the keep-alive comment every ``keep_alive`` idle seconds.

    Pushpin requests ``next_link`` when a publish does not follow on from the stream's last
    id, or after ``next_link_timeout`` quiet seconds (one of NEXT_LINK_TIMEOUTS): its answer
    is appended to the stream.
    """
    return {
        "Grip-Hold": "stream",
        "Grip-Channel": f"{channel_name}; prev-id={prev_id}",
        "Grip-Link": f"<{next_link}>; rel=next; timeout={next_link_timeout}",
        "Grip-Keep-Alive": f"{_cstring(KEEP_ALIVE)}; format=cstring; timeout={keep_alive}",
    }


def hold_response(channel_name: str, prev_id: int) -> dict[str, str]:
    """Response headers that have Pushpin hold a request until the next publish on
    ``channel_name`` after ``prev_id``; after Pushpin's timeout (55 s), the response they
    come with is sent instead. A publish that does not follow on from ``prev_id`` has
    Pushpin ask the app again."""
    return {"Grip-Hold": "response", "Grip-Channel": f"{channel_name}; prev-id={prev_id}"}


def publish_items(
    channel_name: str, event: Event, response: bytes, ends: bool = False
) -> list[dict[str, Any]]:
    """What Pushpin is sent for one change: the Server-Sent Event for held streams, and
    ``response`` (the JSON a long-poll would be answered with) for held long-polls.

    ``ends``: the change ends the blog. Streams then get ``stop`` after the event, as the
    app's own streams do, and are closed by a second item. That one has no id, so that the
    blog's next change, should it go live again, follows on from this one's seq.
    """
    seq = str(event.seq)
    items: list[dict[str, Any]] = [
        {
            "channel": channel_name,
            "id": seq,
            "prev-id": str(event.seq - 1),
            "formats": {
                "http-stream": {"content": (event.message + (STOP if ends else b"")).decode()},
                "http-response": {
                    "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
                    "body": response.decode(),
                },
            },
        }
    ]
    if ends:
        items.append(
            {
                "channel": channel_name,
                "prev-id": seq,
                "formats": {"http-stream": {"action": "close"}},
            }
        )
    return items


def recent(events: list[Event], now: datetime) -> list[Event]:
    """The run at the end of ``events`` (in seq order) committed in the last REPEAT_SECONDS
    before ``now``, at most REPEAT_MAX of them: what a publish repeats before its change."""
    since = now - timedelta(seconds=REPEAT_SECONDS)
    run: list[Event] = []
    for event in reversed(events[-REPEAT_MAX:]):
        if datetime.fromisoformat(event.data["changed_at"]) < since:
            break
        run.append(event)
    return run[::-1]


def batches(items: list[dict[str, Any]], max_bytes: int = MAX_BATCH_BYTES) -> Iterator[bytes]:
    """Publish request bodies (``{"items": [...]}``) for ``items``, in order, each of at
    most ``max_bytes`` unless a single item is larger."""
    encoded = [json.dumps(item, separators=(",", ":")).encode() for item in items]
    start, size = 0, 0
    for end, item in enumerate(encoded):
        if end > start and size + len(item) + 1 > max_bytes:
            yield _batch(encoded[start:end])
            start, size = end, 0
        size += len(item) + 1
    if start < len(encoded):
        yield _batch(encoded[start:])


def _batch(items: list[bytes]) -> bytes:
    return b'{"items":[' + b",".join(items) + b"]}"


@dataclass(frozen=True)
class Committed:
    """A change just committed: its blog, its seq, and the blog's status after the commit."""

    blog_id: int
    seq: int
    status: str


class GripPublisher(BackgroundThread):
    """Publishes committed changes to Pushpin from a daemon thread; ``publish`` only queues.

    The thread takes everything queued at once, has ``render`` turn it into publish items
    (each event rendered once per process: ``RecentEvents``), and POSTs them in order, a
    batch at a time. A batch that fails is sent again ``attempts - 1`` times, ``backoff``,
    then twice that… seconds later, holding back what came after it, then given up and
    logged: Pushpin sees the gap in the next publish's ``prev-id``, and its streams fetch
    what they missed from the app.
    """

    name = "liveblog-grip"

    def __init__(
        self,
        url: str,
        render: Callable[[list[Committed]], list[dict[str, Any]]],
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        super().__init__()
        # Pushpin's HTTP control endpoint takes publishes at /publish/ (as GRIP libraries do).
        self.url = urljoin(url if url.endswith("/") else url + "/", "publish/")
        self.render = render
        # The endpoint is the operator's own setting, not an editor's link: it may be private.
        self.fetcher = Fetcher(timeout, MAX_ANSWER_BYTES, allow_private=True, user_agent=USER_AGENT)
        self.attempts = attempts
        self.backoff = backoff
        self.sent = 0
        """Publish requests Pushpin accepted."""
        self.failures = 0
        """Attempts that failed (each is retried until ``attempts`` run out)."""
        self.abandoned = 0
        """Publish requests given up after their last attempt (or not rendered at all)."""
        self._cond = threading.Condition()
        self._queue: list[Committed] = []
        self._busy = False

    def publish(self, changes: list[Committed]) -> None:
        """Queue ``changes`` (in commit order) for Pushpin; returns at once."""
        with self._cond:
            if self.stopping.is_set() or not changes:
                return
            self._queue += changes
            self._cond.notify_all()
        self.ensure_running()

    def idle(self) -> bool:
        """Whether nothing is queued or being sent."""
        with self._cond:
            return not self._queue and not self._busy

    def wake(self) -> None:
        """Drop what is queued, so that a stopping thread ends at once."""
        with self._cond:
            self._queue.clear()
            self._cond.notify_all()

    def send(self, body: bytes) -> None:
        """POST one publish request; raises FetchError if Pushpin did not accept it."""
        self.fetcher.post(self.url, body, "application/json")

    def run(self) -> None:
        while (changes := self._take()) is not None:
            try:
                self._deliver(changes)
            finally:
                with self._cond:
                    self._busy = False

    def _take(self) -> list[Committed] | None:
        """Everything queued, waiting for something; None once stopping."""
        with self._cond:
            while not self._queue and not self.stopping.is_set():
                self._cond.wait()
            if self.stopping.is_set():
                return None
            changes, self._queue = self._queue, []
            self._busy = True
            return changes

    def _deliver(self, changes: list[Committed]) -> None:
        try:
            bodies = list(batches(self.render(changes)))
        except Exception:  # the thread must outlive any surprise
            log.exception("could not render changes %s for Pushpin", _named(changes))
            self.abandoned += 1
            return
        for body in bodies:
            if self._send_with_retries(body):
                self.sent += 1
            else:
                self.abandoned += 1

    def _send_with_retries(self, body: bytes) -> bool:
        for attempt in range(1, self.attempts + 1):
            try:
                self.send(body)
                return True
            except Exception as error:  # the thread must outlive any surprise
                if not isinstance(error, FetchError):
                    log.exception("publishing to Pushpin at %s failed unexpectedly", self.url)
                self.failures += 1
                if attempt == self.attempts or self.stopping.is_set():
                    log.error(
                        "Pushpin at %s did not take a publish after %d attempts (%s); "
                        "its streams will fetch what they missed from the app",
                        self.url,
                        attempt,
                        error,
                    )
                    return False
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning(
                    "publishing to Pushpin at %s failed (%s); retrying in %.1fs",
                    self.url,
                    error,
                    delay,
                )
                if self.stopping.wait(delay):
                    return False
        return False


def _named(changes: list[Committed]) -> str:
    return ", ".join(f"{change.blog_id}:{change.seq}" for change in changes)
