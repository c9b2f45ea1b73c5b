"""WebSub: feeds advertise the hub, and every commit pings it from a worker thread.

The hub is a real HTTP server on 127.0.0.1 that records what it is sent.
"""

import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask

from liveblog import db
from liveblog import feeds
from liveblog import publishing
from liveblog.websub import HubNotifier
from tests.factories import ApiClient
from tests.factories import open_blog
from tests.support import wait_until

ATOM = "{http://www.w3.org/2005/Atom}"
HAMA_FEEDS = feeds.feed_urls("https://news.example", "hama")
MARKER = "https://news.example/marker"
"""A topic of no blog, queued by a test to learn that everything queued before it was sent."""


class Hub:
    """A WebSub hub on 127.0.0.1 that records publish pings and answers as told.

    Pings for MARKER are only counted, apart: they are the tests' own, not the app's.
    """

    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.markers = 0
        self.content_types: list[str] = []
        self.statuses: list[int] = []  # answers to give, in order; then 204
        self.delay = 0.0
        self._changed = threading.Condition()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                time.sleep(hub.delay)
                with hub._changed:
                    if form.get("hub.url") == [MARKER]:
                        status = 204
                        hub.markers += 1
                    else:
                        status = hub.statuses.pop(0) if hub.statuses else 204
                        hub.pings.append(form)
                        hub.content_types.append(self.headers.get("Content-Type", ""))
                    hub._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and left is not the hub's problem

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 3.0) -> list[str]:
        """The hub.url of every ping, once at least ``count`` arrived (fails after ``timeout``)."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.pings) >= count, timeout)
            assert arrived, f"the hub got {len(self.pings)} pings, not {count}: {self.pings}"
            return self._urls()

    def settled(self, notifier: HubNotifier, timeout: float = 3.0) -> list[str]:
        """The hub.url of every ping, once everything ``notifier`` had queued has been sent.

        Its one thread sends in the order queued (retries aside), so a MARKER queued now
        arrives after all of it: what the hub has by then is all there is, with no pause
        to wait for a ping that should not come.
        """
        with self._changed:
            expected = self.markers + 1
        notifier.publish([MARKER])
        with self._changed:
            arrived = self._changed.wait_for(lambda: self.markers >= expected, timeout)
            assert arrived, f"the marker ping never came; the hub got {self.pings}"
            return self._urls()

    def _urls(self) -> list[str]:
        return [url for ping in self.pings for url in ping.get("hub.url", [])]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def hub() -> Iterator[Hub]:
    hub = Hub()
    yield hub
    hub.stop()


def notifier_of(app: Flask) -> HubNotifier:
    return app.extensions["liveblog.websub"].notifier  # type: ignore[no-any-return]


@pytest.fixture
def app(hub: Hub, make_app: Callable[..., Flask]) -> Flask:
    """The conftest app, with WEBSUB_HUB pointing at the test hub (shut before the hub stops)."""
    app = make_app(WEBSUB_HUB=hub.url)
    notifier = notifier_of(app)
    notifier.fetcher.timeout, notifier.backoff = 1.0, 0.05  # quick retries for tests
    return app


def test_feeds_advertise_the_hub_and_themselves(api, client, hub):
    api.post_entry()
    for path in ("/hama/feed.atom", "/hama/key-events.atom"):
        links = ET.fromstring(client.get(path).data).findall(f"{ATOM}link")
        assert {(link.get("rel"), link.get("href")) for link in links} >= {
            ("hub", hub.url),
            ("self", f"https://news.example{path}"),
        }
    for path in ("/hama/feed.rss", "/hama/key-events.rss"):
        links = ET.fromstring(client.get(path).data).findall(f"channel/{ATOM}link")
        assert {(link.get("rel"), link.get("href")) for link in links} == {
            ("hub", hub.url),
            ("self", f"https://news.example{path}"),
        }
    for path in ("/hama/feed.json", "/hama/key-events.json"):
        document = json.loads(client.get(path).data)
        assert document["hubs"] == [{"type": "WebSub", "url": hub.url}]
        assert document["feed_url"] == f"https://news.example{path}"


def test_publishing_pings_the_hub_for_each_feed_of_the_blog(api, hub):
    api.post_entry()
    urls = hub.wait_for(len(HAMA_FEEDS))
    assert sorted(urls) == sorted(HAMA_FEEDS)
    assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)
    assert all(len(ping["hub.url"]) == 1 for ping in hub.pings)
    assert set(hub.content_types) == {"application/x-www-form-urlencoded"}

    entry = api.post_entry(headline="Second")
    assert sorted(hub.wait_for(2 * len(HAMA_FEEDS))[-len(HAMA_FEEDS) :]) == sorted(HAMA_FEEDS)
    assert api.edit_entry(entry, headline="Second, corrected").status_code == 200
    assert sorted(hub.wait_for(3 * len(HAMA_FEEDS))[-len(HAMA_FEEDS) :]) == sorted(HAMA_FEEDS)


def test_scheduled_publishing_outside_a_request_pings_too(app, api, hub, session):
    api.post_entry(status="scheduled", published_at="2999-01-01T00:00:00Z")
    assert hub.settled(notifier_of(app)) == []  # a scheduled entry is not visible yet
    due = datetime(2999, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert publishing.publish_due_entries(session, now=due) == 1
    assert sorted(hub.wait_for(len(HAMA_FEEDS))) == sorted(HAMA_FEEDS)


def test_a_hub_answering_500_is_retried_and_the_publish_is_unaffected(app, api, hub):
    hub.statuses = [500] * len(HAMA_FEEDS)
    response = api.post("/api/v1/blogs/hama/entries", json={"body": "Rebels advance."})
    assert response.status_code == 201
    urls = hub.wait_for(2 * len(HAMA_FEEDS))
    assert sorted(urls) == sorted(HAMA_FEEDS * 2)  # each feed failed once, then went through
    notifier = notifier_of(app)
    wait_until(lambda: notifier.delivered == len(HAMA_FEEDS), 3, "not every retry went through")
    assert (notifier.failures, notifier.abandoned) == (len(HAMA_FEEDS), 0)


def test_a_hub_that_is_down_does_not_affect_the_publish(app, api, hub):
    hub.stop()  # nothing listens on its port any more
    notifier = notifier_of(app)
    notifier.attempts, notifier.backoff = 2, 10.0
    started = time.monotonic()
    response = api.post("/api/v1/blogs/hama/entries", json={"body": "Rebels advance."})
    assert response.status_code == 201
    # Waiting for the pings would take 10 s; a loaded machine has taken 5 s to post.
    assert time.monotonic() - started < 7.0
    # Every feed is tried notifier.attempts times, with a pause between, then given up.
    wait_until(lambda: notifier.abandoned == len(HAMA_FEEDS), 14, "not every ping was given up")
    assert notifier.failures == notifier.attempts * len(HAMA_FEEDS)
    assert notifier.delivered == 0


def test_a_slow_hub_does_not_hold_up_the_editor(app, api, hub):
    hub.delay = 12.0
    notifier = notifier_of(app)
    notifier.fetcher.timeout, notifier.attempts = 10.0, 1
    started = time.monotonic()
    api.post_entry()
    # Waiting for the ping would take 10 s; a loaded machine has taken 5 s to post.
    assert time.monotonic() - started < 7.0
    wait_until(
        lambda: notifier.failures >= 1, 12, "the first ping never timed out, off the request"
    )


def test_draft_blogs_and_other_apps_are_not_announced(app, api, hub, make_app):
    open_blog(api, slug="idlib", title="Idlib")
    api.post_entry(blog="idlib")  # a draft blog has no public feeds

    # Another app in the same process, on the same database, without a hub: its commits
    # reach the same signal, but are not this app's to announce.
    other = make_app()
    with db.database(other).sessions() as other_session:
        ApiClient(other.test_client(), other_session).as_role("editor").post_entry()
    # Nothing was queued: not even a ping that the next commit's would have been merged into.
    assert hub.settled(notifier_of(app)) == []

    api.post_entry()
    assert sorted(hub.wait_for(len(HAMA_FEEDS))) == sorted(HAMA_FEEDS)
    assert len(hub.settled(notifier_of(app))) == len(HAMA_FEEDS)


def test_notifier_coalesces_a_burst_and_posts_each_topic(hub):
    notifier = HubNotifier(hub.url, timeout=1.0, backoff=0.05)
    try:
        notifier.publish(["https://news.example/a", "https://news.example/a"])
        notifier.publish(["https://news.example/b"])
        assert sorted(hub.wait_for(2)) == ["https://news.example/a", "https://news.example/b"]
        assert len(hub.settled(notifier)) == 2
        wait_until(notifier.idle, message="the notifier never went idle")
    finally:
        notifier.stop(timeout=5)
