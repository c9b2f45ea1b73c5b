"""The outbox: items sent from a worker thread, bursts merged, delays kept, failures retried."""

import threading
import time
from collections.abc import Iterator

import pytest

from liveblog.embeds.fetch import FetchError
from liveblog.outbox import Outbox
from tests.support import wait_until


class Recorder(Outbox):
    """Records (item, monotonic time) of each send; fails an item while told to."""

    name = "test-outbox"

    def __init__(self) -> None:
        super().__init__(backoff=0.05)
        self.sent: list[tuple[str, float]] = []
        self.failing: dict[str, int] = {}
        self.taken = threading.Event()  # send was called
        self.gate = threading.Event()  # send may go on
        self.gate.set()
        self.lock = threading.Lock()

    def send(self, item: str) -> None:
        self.taken.set()
        self.gate.wait(5)
        with self.lock:
            if self.failing.get(item, 0) > 0:
                self.failing[item] -= 1
                raise FetchError(item, "told to fail")
            self.sent.append((item, time.monotonic()))

    def items(self) -> list[str]:
        with self.lock:
            return [item for item, _at in self.sent]


@pytest.fixture
def outbox() -> Iterator[Recorder]:
    outbox = Recorder()
    yield outbox
    outbox.stop(timeout=5)


def test_a_burst_waiting_to_be_sent_is_sent_once(outbox):
    outbox.gate.clear()  # the thread holds the first item while the burst comes
    outbox.queue(["a"])
    assert outbox.taken.wait(5), "the first item was never taken"
    outbox.queue(["b", "b"])
    outbox.queue(["b", "c"])
    outbox.gate.set()
    wait_until(lambda: len(outbox.items()) == 3)
    wait_until(outbox.idle)
    assert outbox.items() == ["a", "b", "c"]


def test_a_delayed_item_goes_out_no_earlier_than_asked(outbox):
    queued = time.monotonic()
    outbox.queue(["later"], delay=0.3)
    outbox.queue(["now"])
    wait_until(lambda: len(outbox.items()) == 2)
    (first, _), (second, sent_at) = outbox.sent
    assert (first, second) == ("now", "later")
    assert sent_at - queued >= 0.3


def test_a_later_request_postpones_a_waiting_delayed_item(outbox):
    first = time.monotonic()
    outbox.queue(["x"], delay=0.2)
    time.sleep(0.1)
    outbox.queue(["x"], delay=0.2)  # wants x no earlier than 0.3 s after the first request
    wait_until(outbox.idle)
    assert outbox.items() == ["x"]
    assert outbox.sent[0][1] - first >= 0.3  # not at the first request's time


def test_an_immediate_item_is_not_held_back_by_a_delayed_one(outbox):
    outbox.queue(["x"], delay=5)
    outbox.queue(["x"])
    wait_until(lambda: outbox.items() == ["x"])
    assert not outbox.idle()  # the delayed one still waits


def test_failures_are_retried_then_given_up(outbox):
    outbox.failing = {"flaky": 1, "dead": 99}
    outbox.queue(["flaky", "dead"])
    wait_until(lambda: outbox.abandoned == 1, 3)
    assert outbox.items() == ["flaky"]
    assert (outbox.delivered, outbox.failures) == (1, 1 + outbox.attempts)
    assert outbox.idle()
