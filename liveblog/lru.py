"""The one in-memory cache type: bounded, least recently used first out, safe across threads."""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Hashable
from typing import Generic
from typing import TypeVar

V = TypeVar("V")


def _always(_old: object) -> bool:
    return True


class LruCache(Generic[V]):
    """At most ``size`` values by key; the least recently used goes first when one more comes.

    With ``ttl``, a value is forgotten ``ttl`` seconds after it was put (0: nothing is kept).
    """

    def __init__(
        self, size: int, ttl: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.clock = clock
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value kept under ``key``, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: V, replaces: Callable[[V], bool] = _always) -> None:
        """Keep ``value`` under ``key``, unless ``replaces(value kept now)`` says no."""
        if self.ttl is not None and self.ttl <= 0:
            return
        now = self.clock()
        expires = now + self.ttl if self.ttl is not None else float("inf")
        with self._lock:
            current = self._items.get(key)
            if current is not None and current[0] > now and not replaces(current[1]):
                return
            self._items[key] = (expires, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        """Forget ``key``."""
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)
