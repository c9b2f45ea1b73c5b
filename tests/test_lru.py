"""The one in-memory cache type: bounds, recency, expiry, conditional replacement."""

from liveblog.lru import LruCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_value_goes_first():
    cache: LruCache[str] = LruCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # "b" is now the least recently used
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    assert len(cache) == 2


def test_values_expire_after_their_ttl_and_a_zero_ttl_keeps_nothing():
    clock = Clock()
    cache: LruCache[str] = LruCache(10, ttl=5, clock=clock)
    cache.put("a", "A")
    clock.now = 4.9
    assert cache.get("a") == "A"
    clock.now = 5
    assert cache.get("a") is None
    assert len(cache) == 0
    nothing: LruCache[str] = LruCache(10, ttl=0)
    nothing.put("a", "A")
    assert nothing.get("a") is None


def test_a_value_replaces_another_only_when_allowed():
    clock = Clock()
    cache: LruCache[int] = LruCache(10, ttl=5, clock=clock)
    cache.put("seq", 7)
    cache.put("seq", 6, replaces=lambda kept: kept <= 6)
    assert cache.get("seq") == 7
    cache.put("seq", 8, replaces=lambda kept: kept <= 8)
    assert cache.get("seq") == 8
    clock.now = 6  # an expired value never blocks a new one
    cache.put("seq", 1, replaces=lambda kept: False)
    assert cache.get("seq") == 1
    cache.pop("seq")
    assert cache.get("seq") is None
