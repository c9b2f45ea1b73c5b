"""Live updates inside one process: who is waiting, what is new, and what it looks like.

A reader's stream costs nothing while idle. One notifier per process learns each blog's
latest ``seq`` (from this process's own commits, and from the database: a shared poll on
SQLite, LISTEN/NOTIFY on PostgreSQL, or Redis pub/sub) and wakes the streams waiting on
that blog. The events of a change are read from the change log and rendered once per
process, then served to every stream from memory. No Flask here: rendering is passed in.
"""

import bisect
import json
import logging
import math
import select as selectmodule
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select

from .background import BackgroundThread
from .lru import LruCache
from .models import Blog
from .store import DESK_PREFIX
from .store import MAX_ID
from .store import PG_CHANNEL
from .validation import whole_number

log = logging.getLogger(__name__)

REDIS_CHANNEL = "liveblog:changes"

# What streams send besides events: a comment on an idle stream, and the two last words of
# a stream that must be started afresh (the reader is too far behind) or is over.
KEEP_ALIVE = b": keep-alive\n\n"
RESET = b"event: reset\ndata: {}\n\n"
STOP = b"event: stop\ndata: {}\n\n"


Key = int | tuple[str, int]
"""What a notifier counts: a blog's last_seq by its id, its desk_seq by ``desk(id)``."""


def desk(blog_id: int) -> tuple[str, int]:
    """The notifier's key for a blog's desk_seq, which editors' streams wait on."""
    return ("desk", blog_id)


def message_for(key: Key, seq: int) -> str:
    """The channel message saying that ``key`` reached ``seq``."""
    return f"{key}:{seq}" if isinstance(key, int) else f"{DESK_PREFIX}{key[1]}:{seq}"


@dataclass(frozen=True)
class Event:
    """One change as readers receive it: ``data`` is JSON-ready and already rendered."""

    seq: int
    type: str
    data: dict[str, Any]

    @cached_property
    def message(self) -> bytes:
        """The Server-Sent Event: its seq as id, its kind as type, its data as one JSON line.

        Encoded once per process and shared by every stream that sends it.
        """
        data = json.dumps(self.data, separators=(",", ":"))
        return f"id: {self.seq}\nevent: {self.type}\ndata: {data}\n\n".encode()


class Notifier:
    """Each blog's latest seqs in this process, and the streams waiting for them to move."""

    def __init__(self) -> None:
        self._latest: dict[Key, int] = {}
        self._changed = threading.Condition()
        self.waiting = 0

    def publish(self, key: Key, seq: int) -> None:
        """Record that ``key`` has reached ``seq``; wake its streams if that is news."""
        with self._changed:
            if seq > self._latest.get(key, 0):
                self._latest[key] = seq
                self._changed.notify_all()

    def latest(self, key: Key) -> int:
        return self._latest.get(key, 0)

    def wait(self, key: Key, after: int, timeout: float) -> int:
        """Block until ``key`` passes ``after`` or ``timeout`` runs out; the latest seq."""
        with self._changed:
            self.waiting += 1
            try:
                self._changed.wait_for(lambda: self._latest.get(key, 0) > after, timeout)
            finally:
                self.waiting -= 1
            return self._latest.get(key, 0)


class PollingSource(BackgroundThread):
    """SQLite: one query for every blog's last_seq, a few times a second."""

    name = "liveblog-seq-poll"
    tick = 0.2  # seconds a listening source may take to notice that it is stopping

    def __init__(self, notifier: Notifier, engine: Engine, interval: float) -> None:
        super().__init__()
        self.notifier, self.engine, self.interval = notifier, engine, interval
        self.period = interval  # seconds between two looks at the database (or channel)
        self._in_touch_at = -math.inf

    def touch(self, since: float) -> None:
        """Record that the notifier knows every change committed before ``since`` (monotonic)."""
        self._in_touch_at = since

    def is_current(self) -> bool:
        """Whether the notifier knows every change that committed more than a moment ago:
        this process's source is running and has heard from the database lately."""
        return self.is_running() and time.monotonic() - self._in_touch_at < 2 * self.period + 0.5

    def poll(self, blog_id: int | None = None) -> None:
        """Read the latest seqs of every blog (or of ``blog_id``) and pass them on."""
        query = select(Blog.id, Blog.last_seq, Blog.desk_seq)
        if blog_id is not None:
            query = query.where(Blog.id == blog_id)
        started = time.monotonic()
        with self.engine.connect() as connection:
            for found_id, seq, desk_seq in connection.execute(query):
                self.notifier.publish(found_id, seq)
                self.notifier.publish(desk(found_id), desk_seq)
        if blog_id is None:
            self.touch(started)

    @staticmethod
    def parse_payload(payload: str) -> tuple[Key, int] | None:
        """``(key, seq)`` from a ``<blog id>:<seq>`` or ``desk:<blog id>:<seq>`` message
        (see ``message_for``), or None if it is neither."""
        is_desk = payload.startswith(DESK_PREFIX)
        blog_id, _, seq = payload.removeprefix(DESK_PREFIX).partition(":")
        numbers = whole_number(blog_id, MAX_ID), whole_number(seq, MAX_ID)
        if numbers[0] is None or numbers[1] is None:
            return None
        return (desk(numbers[0]) if is_desk else numbers[0]), numbers[1]

    def publish_payload(self, payload: str) -> None:
        """Pass on a message from another process (see ``message_for``)."""
        parsed = self.parse_payload(payload)
        if parsed is not None:
            self.notifier.publish(*parsed)

    def run(self) -> None:
        self.poll()
        while not self.stopping.wait(self.interval):
            self.poll()


class PostgresSource(PollingSource):
    """PostgreSQL: LISTEN for the NOTIFY that store.append_change sends with each change.

    A poll on (re)connecting and every ``interval`` seconds of silence covers anything
    sent while the listening connection was down.
    """

    name = "liveblog-pg-listen"

    def __init__(
        self, notifier: Notifier, engine: Engine, url: str, interval: float = 10.0
    ) -> None:
        super().__init__(notifier, engine, interval)
        self.url = url
        self.period = self.tick

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"LISTEN {PG_CHANNEL}")
            self.poll()
            last_heard = time.monotonic()
            pgconn = connection.pgconn
            while not self.stopping.is_set():
                # selectmodule.select is looked up at each call: in `liveblog serve` workers
                # it is gevent's cooperative one. psycopg's own waiting (connection.notifies)
                # was chosen when psycopg was first imported, in the master before gevent
                # patched anything, and would block every stream of the worker.
                looked_at = time.monotonic()
                readable, _, _ = selectmodule.select([pgconn.socket], [], [], self.tick)
                self.touch(looked_at)
                if readable:
                    pgconn.consume_input()
                    while (notice := pgconn.notifies()) is not None:
                        self.publish_payload(notice.extra.decode(errors="replace"))
                        last_heard = time.monotonic()
                elif time.monotonic() - last_heard > self.interval:
                    self.poll()
                    last_heard = time.monotonic()


class RedisSource(PollingSource):
    """Redis pub/sub: every process publishes its commits and hears everyone else's.

    A poll on subscribing and after ``interval`` seconds of silence covers lost messages.
    Redis channels are shared by every client of the server (whatever its database
    number), so a message may come from another deployment: it only says which blog to
    re-read, and the seq streams are woken to is always this database's.

    While Redis is away, a source of the database's own (``standby()``: a poll on SQLite,
    LISTEN on PostgreSQL) feeds the notifier instead, until Redis answers again: every
    commit reaches the database, so no stream misses a change for want of Redis.
    """

    name = "liveblog-redis"
    retry = 1.0  # seconds between attempts to reach Redis while it is away

    def __init__(
        self,
        notifier: Notifier,
        engine: Engine,
        url: str,
        standby: Callable[[], PollingSource],
        interval: float = 10.0,
    ) -> None:
        super().__init__(notifier, engine, interval)
        self.period = self.tick
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.away: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
        self.standby = standby
        self.following: PollingSource | None = None  # the standby, while Redis is away

    def is_current(self) -> bool:
        following = self.following
        if following is not None:
            return self.is_running() and following.is_current()
        return super().is_current()

    def announce(self, key: Key, seq: int) -> None:
        message = message_for(key, seq)
        try:
            self.client.publish(REDIS_CHANNEL, message)
        except self.away:
            if self.following is None:  # said once per outage, when the source notices it
                log.warning("could not announce change %s: Redis is away", message)
        except Exception:
            log.exception("could not publish change %s to Redis", message)

    def hear(self, payload: str) -> None:
        """Re-read a blog announced on the channel, if the seq announced is news here.

        One query per change and process; none for this process's own announcements.
        """
        parsed = self.parse_payload(payload)
        if parsed is not None and parsed[1] > self.notifier.latest(parsed[0]):
            key = parsed[0]
            self.poll(key if isinstance(key, int) else key[1])

    def run(self) -> None:
        try:
            self._follow_redis()
        except self.away as error:
            log.warning("Redis is away (%s); following the database until it is back", error)
            self._follow_database_until_redis_answers()

    def _follow_database_until_redis_answers(self) -> None:
        following = self.following = self.standby()
        following.ensure_running()
        try:
            while not self.stopping.wait(self.retry):
                try:
                    self.client.ping()
                except self.away:
                    continue
                log.warning("Redis is back; following it again")
                return
        finally:
            self.following = None
            following.stop(timeout=5)

    def _follow_redis(self) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(REDIS_CHANNEL)
        try:
            self.poll()
            last_heard = time.monotonic()
            while not self.stopping.is_set():
                looked_at = time.monotonic()
                message = pubsub.get_message(timeout=self.tick)
                self.touch(looked_at)
                if message and message["type"] == "message":
                    self.hear(message["data"].decode(errors="replace"))
                    last_heard = time.monotonic()
                elif time.monotonic() - last_heard > self.interval:
                    self.poll()
                    last_heard = time.monotonic()
        finally:
            pubsub.close()

    def stop(self, timeout: float | None = None) -> None:
        super().stop(timeout)
        self.client.close()


class RecentEvents:
    """Each blog's recent events, loaded from the change log and rendered once per process.

    ``load(blog_id, since, limit)`` reads and renders up to ``limit`` changes after
    ``since``, oldest first; it is called by one stream at a time per blog, and every other
    stream reads the result. For each blog it keeps a run of the log without holes: every
    change after ``after`` up to the newest event held, at most ``keep`` of them, for the
    ``blogs`` blogs read most recently.
    """

    def __init__(
        self, load: Callable[[int, int, int], list[Event]], keep: int = 500, blogs: int = 256
    ) -> None:
        self.load = load
        self.keep = keep
        self._runs: LruCache[_Run] = LruCache(blogs)
        # Loads of one blog queue on one lock; a fixed set, so no lock outlives its blog.
        self._loading = tuple(threading.Lock() for _ in range(64))

    def since(self, blog_id: int, since: int, latest: int) -> list[Event] | None:
        """Every event after ``since``, in order, up to at least ``latest`` (as far as the
        log goes); None if ``since`` is more than ``keep`` changes behind ``latest``."""
        if latest - since > self.keep:
            return None
        with self._loading[blog_id % len(self._loading)]:
            run = self._runs.get(blog_id)
            if run is None or since < run.after:
                loaded = self.load(blog_id, since, self.keep + 1)
                if not loaded:
                    return []
                if run is not None and loaded[-1].seq >= run.after:
                    loaded += [event for event in run.events if event.seq > loaded[-1].seq]
                run = _Run(since, loaded)
                self._runs.put(blog_id, run)
            elif run.newest < latest:
                run.events += self.load(blog_id, run.newest, self.keep + 1)
            found = run.events[bisect.bisect_right(run.events, since, key=_seq) :]
            if len(run.events) > self.keep:
                run.after = run.events[-self.keep - 1].seq
                del run.events[: -self.keep]
            return found


def _seq(event: Event) -> int:
    return event.seq


@dataclass
class _Run:
    """Every change of a blog after ``after``, up to the last of ``events``."""

    after: int
    events: list[Event]

    @property
    def newest(self) -> int:
        return self.events[-1].seq if self.events else self.after
