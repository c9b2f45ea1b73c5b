"""Requests sent from a worker thread, with retries, off the request path. No Flask.

An ``Outbox`` is what the WebSub notifier and the front purger share: callers ``queue``
items and return at once; the outbox's one daemon thread per process ``send``s each when
it is due, and retries a failed one a few times with growing delays. Nothing here runs
on, blocks or fails the request that queued the item.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Iterable

from .background import BackgroundThread
from .embeds.fetch import FetchError

log = logging.getLogger(__name__)


class Outbox(BackgroundThread):
    """Sends queued items (URLs, topics…) from a daemon thread; ``queue`` only records.

    An item already waiting for its first attempt is not queued again if that attempt
    will do what is asked: a burst of requests for the same item costs one send. Failed
    sends are retried ``attempts - 1`` times, ``backoff``, then twice that, … seconds
    later, without holding up other items. Subclasses name their thread, implement
    ``send`` and say in ``what`` what one send is, for the log.
    """

    name = "liveblog-outbox"
    what = "request"

    def __init__(self, *, attempts: int = 4, backoff: float = 1.0) -> None:
        super().__init__()
        self.attempts = attempts
        self.backoff = backoff
        self.delivered = 0
        """Sends that went through."""
        self.failures = 0
        """Attempts that failed (each is retried until ``attempts`` run out)."""
        self.abandoned = 0
        """Items given up after the last attempt failed."""
        self._cond = threading.Condition()
        # (due, order, item, delay, attempt); a first attempt is live only while it is the
        # one _first names for (item, delay), so a postponed one leaves a stale entry behind.
        self._jobs: list[tuple[float, int, str, float, int]] = []
        self._first: dict[tuple[str, float], float] = {}  # (item, delay) -> due
        self._order = itertools.count()
        self._sending = False

    def queue(self, items: Iterable[str], delay: float = 0.0) -> None:
        """Send each item ``delay`` seconds from now, or at once; returns at once.

        A first attempt waiting for the same item and delay covers the request when it is
        due no earlier than asked; one due earlier is postponed instead.
        """
        with self._cond:
            if self.stopping.is_set():
                return
            now = time.monotonic()
            due = now + delay
            for item in items:
                waiting = self._first.get((item, delay))
                if waiting is not None and (due <= now or waiting >= due):
                    continue
                self._first[(item, delay)] = due
                heapq.heappush(self._jobs, (due, next(self._order), item, delay, 1))
            self._cond.notify_all()
        self.ensure_running()

    def idle(self) -> bool:
        """Whether nothing is being sent, queued or waiting for a retry."""
        with self._cond:
            return not (self._sending or self._first or any(job[4] > 1 for job in self._jobs))

    def wake(self) -> None:
        """Drop what is still queued, so that a stopping thread ends at once."""
        with self._cond:
            self._jobs.clear()
            self._first.clear()
            self._cond.notify_all()

    def send(self, item: str) -> None:
        """Send one item; raises FetchError if it was not taken."""
        raise NotImplementedError

    def run(self) -> None:
        while (job := self._next_job()) is not None:
            item, delay, attempt = job
            try:
                self.send(item)
            except FetchError as error:
                self._failed(item, delay, attempt, error)
            except Exception as error:  # the thread must outlive any surprise
                log.exception("%s %s failed unexpectedly", self.what, item)
                self._failed(item, delay, attempt, error)
            else:
                with self._cond:
                    self.delivered += 1
            finally:
                with self._cond:
                    self._sending = False

    def _next_job(self) -> tuple[str, float, int] | None:
        """The next due (item, delay, attempt), waiting for it; None once stopping."""
        with self._cond:
            while not self.stopping.is_set():
                if not self._jobs:
                    self._cond.wait()
                    continue
                due, _order, item, delay, attempt = self._jobs[0]
                if attempt == 1 and self._first.get((item, delay)) != due:
                    heapq.heappop(self._jobs)  # postponed: a later entry stands for it
                    continue
                if due > time.monotonic():
                    self._cond.wait(due - time.monotonic())
                    continue
                heapq.heappop(self._jobs)
                if attempt == 1:
                    del self._first[(item, delay)]
                self._sending = True
                return item, delay, attempt
            return None

    def _failed(self, item: str, delay: float, attempt: int, error: BaseException) -> None:
        with self._cond:
            self.failures += 1
            if attempt >= self.attempts or self.stopping.is_set():
                self.abandoned += 1
                log.error("%s %s failed %d times, given up: %s", self.what, item, attempt, error)
                return
            wait = self.backoff * 2 ** (attempt - 1)
            log.warning("%s %s failed (%s); retrying in %.1fs", self.what, item, error, wait)
            due = time.monotonic() + wait
            heapq.heappush(self._jobs, (due, next(self._order), item, delay, attempt + 1))
            self._cond.notify_all()
