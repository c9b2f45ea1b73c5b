"""Publishes scheduled entries when their time comes, from a thread in each process."""

import logging

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from .background import BackgroundThread
from .publishing import publish_due_entries

log = logging.getLogger(__name__)


class Scheduler(BackgroundThread):
    """Looks for due entries every ``interval`` seconds (0: never).

    Several processes may run it: each entry is re-checked under its blog's lock, so it is
    published once.
    """

    name = "liveblog-scheduler"

    def __init__(self, sessions: sessionmaker[Session], interval: float) -> None:
        super().__init__()
        self.sessions = sessions
        self.interval = interval

    def ensure_running(self) -> None:
        if self.interval > 0:
            super().ensure_running()

    def run_once(self) -> int:
        with self.sessions() as session:
            return publish_due_entries(session)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.run_once()
            except Exception:
                log.exception("publishing scheduled entries failed; will try again")
