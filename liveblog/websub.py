"""WebSub publishing: tell the hub which feeds changed, from a worker thread. No Flask.

After a commit that appended changes, ``FeedPinger`` queues the blog's feed URLs with the
``HubNotifier``; its thread POSTs ``hub.mode=publish`` for each, with a timeout and a few
retries with growing delays. Nothing here runs on, blocks or fails the editor's request.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from .background import BackgroundThread
from .embeds.fetch import Fetcher
from .embeds.fetch import FetchError
from .models import Blog
from .models import Change

log = logging.getLogger(__name__)

USER_AGENT = "Liveblog WebSub publisher"
# Hubs answer a ping with a status and perhaps a line of text: nothing larger is read.
MAX_ANSWER_BYTES = 65_536


class HubNotifier(BackgroundThread):
    """Pings one hub from a daemon thread per process; ``publish`` only queues and returns.

    A topic already waiting for its first attempt is not queued twice, so a burst of
    changes costs one ping per feed. Failed pings are retried ``attempts - 1`` times,
    ``backoff``, then twice that, … seconds later, without holding up other topics.
    """

    name = "liveblog-websub"

    def __init__(
        self, hub_url: str, *, timeout: float = 10.0, attempts: int = 4, backoff: float = 1.0
    ) -> None:
        super().__init__()
        self.hub_url = hub_url
        # The hub is the operator's own setting, not an editor's link: it may be private.
        self.fetcher = Fetcher(timeout, MAX_ANSWER_BYTES, allow_private=True, user_agent=USER_AGENT)
        self.attempts = attempts
        self.backoff = backoff
        self.delivered = 0
        """Pings the hub accepted."""
        self.failures = 0
        """Attempts that failed (each is retried until ``attempts`` run out)."""
        self.abandoned = 0
        """Pings given up after the last attempt failed."""
        self._cond = threading.Condition()
        self._jobs: list[tuple[float, int, str, int]] = []  # (due, order, topic, attempt)
        self._queued: set[str] = set()  # topics waiting for their first attempt
        self._order = itertools.count()

    def publish(self, topics: Iterable[str]) -> None:
        """Queue a publish notification for each topic URL; returns at once."""
        with self._cond:
            if self.stopping.is_set():
                return
            now = time.monotonic()
            for topic in topics:
                if topic not in self._queued:
                    self._queued.add(topic)
                    heapq.heappush(self._jobs, (now, next(self._order), topic, 1))
            self._cond.notify_all()
        self.ensure_running()

    def idle(self) -> bool:
        """Whether nothing is queued or waiting for a retry."""
        with self._cond:
            return not self._jobs

    def wake(self) -> None:
        """Drop the pings still queued, so that a stopping thread ends at once."""
        with self._cond:
            self._jobs.clear()
            self._queued.clear()
            self._cond.notify_all()

    def send(self, topic: str) -> None:
        """POST one publish notification; raises FetchError if it was not accepted."""
        self.fetcher.post_form(self.hub_url, {"hub.mode": "publish", "hub.url": topic})

    def run(self) -> None:
        while (job := self._next_job()) is not None:
            topic, attempt = job
            try:
                self.send(topic)
            except FetchError as error:
                self._failed(topic, attempt, error)
            except Exception as error:  # the thread must outlive any surprise
                log.exception("WebSub ping for %s failed unexpectedly", topic)
                self._failed(topic, attempt, error)
            else:
                with self._cond:
                    self.delivered += 1

    def _next_job(self) -> tuple[str, int] | None:
        """The next due (topic, attempt), waiting for it; None once stopping."""
        with self._cond:
            while not self.stopping.is_set():
                if not self._jobs:
                    self._cond.wait()
                    continue
                delay = self._jobs[0][0] - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                _due, _order, topic, attempt = heapq.heappop(self._jobs)
                if attempt == 1:
                    self._queued.discard(topic)
                return topic, attempt
            return None

    def _failed(self, topic: str, attempt: int, error: BaseException) -> None:
        with self._cond:
            self.failures += 1
            if attempt >= self.attempts or self.stopping.is_set():
                self.abandoned += 1
                log.error(
                    "WebSub hub %s did not take the ping for %s after %d attempts: %s",
                    self.hub_url,
                    topic,
                    attempt,
                    error,
                )
                return
            delay = self.backoff * 2 ** (attempt - 1)
            log.warning(
                "WebSub ping for %s to %s failed (%s); retrying in %.1fs",
                topic,
                self.hub_url,
                error,
                delay,
            )
            due = time.monotonic() + delay
            heapq.heappush(self._jobs, (due, next(self._order), topic, attempt + 1))
            self._cond.notify_all()


class FeedPinger:
    """Receiver of ``signals.changes_committed``: queues the feeds of every changed blog.

    The signal is global, so the pinger only acts on sessions of its own database engine
    (several apps may live in one process). Draft blogs have no public feeds to announce.
    """

    def __init__(
        self, notifier: HubNotifier, engine: Engine, feed_urls: Callable[[str], list[str]]
    ) -> None:
        self.notifier = notifier
        self.engine = engine
        self.feed_urls = feed_urls

    def __call__(self, session: Session, *, changes: list[Change], **_extra: Any) -> None:
        # Runs in the writer's thread right after its commit: never let it fail the write.
        try:
            if session.get_bind() is not self.engine:
                return
            topics: list[str] = []
            for blog_id in sorted({change.blog_id for change in changes}):
                blog = session.get(Blog, blog_id)  # still in the session: no query
                if blog is not None and blog.status != "draft":
                    topics += self.feed_urls(blog.slug)
            if topics:
                self.notifier.publish(topics)
        except Exception:
            log.exception("could not queue WebSub pings for changes %s", changes)
