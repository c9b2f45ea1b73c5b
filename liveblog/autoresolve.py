"""Looks bare post and video links up after the commit, from a thread in each process. No Flask.

The queue is the database's (``lookups``): entries saved by any process, before a restart
too, are found by the next check. Each look-up goes through the resolver (the guarded
fetcher, its timeout, its cache of recent look-ups); nothing here runs on, blocks or fails
the request that saved the entry.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from datetime import timedelta

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from . import lookups
from .background import BackgroundThread
from .blocks import Block
from .embeds.resolver import Resolver
from .errors import EmbedError
from .models import utcnow
from .publishing import complete_lookup
from .themes import Themes

log = logging.getLogger(__name__)

BATCH = 10
SIDE_BY_SIDE = 4


class LinkLookups(BackgroundThread):
    """Takes due look-ups every ``interval`` seconds (0: never), or at once when poked.

    ``resolver`` is asked for the app's resolver when a look-up runs, so settings changed
    after start-up (tests point it at a fake provider) are the ones used.
    """

    name = "liveblog-link-lookups"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        themes: Themes,
        resolver: Callable[[], Resolver],
        interval: float,
        timeout: float,
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.themes = themes
        self.resolver = resolver
        self.interval = interval
        # Held for longer than a look-up and its picture can take; then another may try.
        self.hold = timedelta(seconds=4 * timeout + 30)
        self._poked = threading.Event()

    def ensure_running(self) -> None:
        if self.interval > 0:
            super().ensure_running()

    def poke(self) -> None:
        """Check for due look-ups now rather than at the next interval."""
        self._poked.set()

    def wake(self) -> None:
        self._poked.set()

    def run_once(self, now: datetime | None = None) -> int:
        """Do the look-ups due at ``now``, several side by side; returns how many were tried."""
        with self.sessions() as session:
            due = lookups.claim_due(session, now or utcnow(), self.hold, BATCH)
            if not due:
                return 0
            with ThreadPoolExecutor(min(len(due), SIDE_BY_SIDE)) as pool:
                answers = list(pool.map(self._ask, [url for _id, url, _attempt in due]))
            for (lookup_id, url, attempt), answer in zip(due, answers, strict=True):
                if isinstance(answer, EmbedError):
                    log.info("looking up %s failed: %s", url, answer.detail)
                    lookups.record_failure(session, lookup_id, answer, attempt, utcnow())
                else:
                    complete_lookup(session, self.themes, lookup_id, url, answer)
        return len(due)

    def _ask(self, url: str) -> Block | EmbedError:
        try:
            return self.resolver().resolve(url).block
        except EmbedError as error:
            return error

    def run(self) -> None:
        while not self.stopping.is_set():
            self._poked.wait(self.interval)
            self._poked.clear()
            if self.stopping.is_set():
                return
            try:
                while self.run_once() == BATCH and not self.stopping.is_set():
                    pass
            except Exception:
                log.exception("looking up links failed; will try again")
