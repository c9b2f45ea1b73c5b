"""Publishes scheduled entries when their time comes, from a thread in each process."""

import logging
import os
import threading

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from .publishing import publish_due_entries

log = logging.getLogger(__name__)


class Scheduler:
    """One daemon thread per process; several processes may run it, publishing stays once-only."""

    def __init__(self, sessions: sessionmaker[Session], interval: float) -> None:
        self.sessions = sessions
        self.interval = interval
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start the thread in this process if it is not running (threads do not survive fork)."""
        if self.interval <= 0 or self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._loop, args=(self._stop,), name="liveblog-scheduler", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop this process's thread (tests, shutdown); ``ensure_running`` starts it again."""
        with self._lock:
            self._stop.set()
            thread, self._thread, self._pid = self._thread, None, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def run_once(self) -> int:
        with self.sessions() as session:
            return publish_due_entries(session)

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:
                log.exception("publishing scheduled entries failed; will try again")
