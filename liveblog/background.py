"""One daemon thread per process, for work that runs beside the requests. No Flask.

Threads do not survive ``fork``: a WSGI server that forks its workers after the app was
built would leave every worker without the thread. So the thread is started on demand,
by whichever code first needs it in a process, and again in each forked child.
"""

import logging
import os
import threading

log = logging.getLogger(__name__)


class BackgroundThread:
    """Runs ``run()`` in a daemon thread of this process until ``stop()``.

    ``run`` returns when ``stopping`` is set; if it raises, the failure is logged and it is
    started again after a delay that doubles up to 30 seconds, so a database or broker that
    is away is retried without flooding the log. Subclasses name their thread.
    """

    name = "liveblog-background"

    def __init__(self) -> None:
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def ensure_running(self) -> None:
        """Start the thread in this process, unless it runs here already or was stopped."""
        if self._pid == os.getpid() or self.stopping.is_set():
            return
        with self._lock:
            if self._pid != os.getpid() and not self.stopping.is_set():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run_until_stopped, name=self.name, daemon=True
                )
                self._thread.start()

    def is_running(self) -> bool:
        """Whether this process's thread has been started and not stopped."""
        return self._pid == os.getpid() and not self.stopping.is_set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop for good, waiting for the thread (so what it holds is released after it)."""
        self.stopping.set()
        self.wake()
        thread = self._thread if self._pid == os.getpid() else None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wake(self) -> None:
        """Interrupt a ``run`` that waits on something other than ``stopping``."""

    def run(self) -> None:
        raise NotImplementedError

    def _run_until_stopped(self) -> None:
        delay = 0.5
        while not self.stopping.is_set():
            try:
                self.run()
                delay = 0.5
            except Exception:
                log.exception("%s failed; starting again in %.1f s", self.name, delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, 30)
