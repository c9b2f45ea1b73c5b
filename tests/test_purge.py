"""Front purges: what readers lose is refreshed at every caching front, off the request path.

The fronts are real HTTP servers on 127.0.0.1 that record the refreshes they are sent.
"""

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask

from liveblog import create_app
from liveblog import db
from tests.factories import ApiClient
from tests.support import wait_until


class Front:
    """A caching front's purge endpoint that records each GET's path and answers as told."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.statuses: list[int] = []  # answers to give, in order; then 204
        self.entered = threading.Event()  # a refresh came in
        self.gate = threading.Event()  # cleared: refreshes wait before answering
        self.gate.set()
        self._changed = threading.Condition()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                front.entered.set()
                front.gate.wait(5)
                with front._changed:
                    front.paths.append(self.path)
                    status = front.statuses.pop(0) if front.statuses else 204
                    front._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/purge"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 3.0) -> list[str]:
        """The paths refreshed, once at least ``count`` came (fails after ``timeout``)."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.paths) >= count, timeout)
            assert arrived, f"the front got {self.paths}, not {count} refreshes"
            return list(self.paths)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fronts() -> Iterator[list[Front]]:
    fronts = [Front(), Front()]
    yield fronts
    for front in fronts:
        front.stop()


def delete(api: ApiClient, entry: dict[str, Any]) -> int:
    path = f"/api/v1/blogs/{entry['blog']}/entries/{entry['id']}"
    return api.delete(path, headers={"If-Match": f'"{entry["version"]}"'}).status_code


def purger_of(app: Flask) -> Any:
    return app.extensions["liveblog.purge"].purger


def settled(app: Flask) -> None:
    """Wait until the purger has sent everything queued, its repeats included."""
    wait_until(purger_of(app).idle, 5, "the purger never finished")


@pytest.fixture
def app(fronts: list[Front], make_app: Callable[..., Flask]) -> Flask:
    """The conftest app, purging both fronts, with quick repeats and retries for tests (but
    the shipped timeout: on a loaded machine a front's answer has taken over a second, and
    the refresh sent again made one more than the test counts)."""
    app = make_app(PURGE_URLS=" ".join(front.url for front in fronts))
    purger = purger_of(app)
    purger.backoff, purger.again = 0.05, 0.2
    return app


def test_a_deletion_refreshes_the_blog_at_every_front_and_again_later(app, api, fronts):
    entry = api.post_entry(body="Casualty figures, unconfirmed.")
    settled(app)
    assert [front.paths for front in fronts] == [[], []], "a new entry waits for s-maxage"

    started = time.monotonic()
    assert delete(api, entry) == 204
    for front in fronts:  # within seconds, not the s-maxage a front would keep the copy
        assert front.wait_for(1, timeout=3.0) == ["/purge/hama/"]
    latency = time.monotonic() - started
    settled(app)
    assert [front.paths for front in fronts] == [["/purge/hama/"] * 2] * 2
    print(f"front refresh {latency * 1000:.0f} ms after the DELETE was sent")


def delete_the_blog(admin: ApiClient) -> Any:
    etag = admin.get("/api/v1/blogs/hama").headers["ETag"]
    return admin.delete("/api/v1/blogs/hama", headers={"If-Match": etag})


@pytest.mark.parametrize(
    "change, index",
    [
        (lambda api, entry: api.edit_entry(entry, body="Corrected figures."), False),
        (lambda api, entry: api.edit_entry(entry, status="draft"), False),
        (
            lambda api, entry: api.as_role("admin").patch(
                "/api/v1/blogs/hama", json={"status": "ended"}
            ),
            True,
        ),
        (
            lambda api, entry: api.as_role("admin").patch(
                "/api/v1/blogs/hama", json={"title": "Hama, day 2"}
            ),
            True,
        ),
        (lambda api, entry: delete_the_blog(api.as_role("admin")), True),
    ],
    ids=["edit", "unpublish", "end", "blog-change", "delete-the-blog"],
)
def test_what_takes_something_back_purges(app, api, fronts, change, index):
    entry = api.post_entry(body="Casualty figures, unconfirmed.")
    assert change(api, entry).status_code in (200, 204)
    settled(app)
    expected = ["/purge/hama/", "/purge/"] if index else ["/purge/hama/"]
    assert fronts[0].paths == expected * 2


def test_pins_and_drafts_do_not_purge(app, api, fronts):
    entry = api.post_entry(body="Casualty figures, unconfirmed.")
    assert api.edit_entry(entry, pinned=True).status_code == 200
    draft = api.post_entry(body="Not yet.", status="draft")
    assert delete(api, draft) == 204
    settled(app)
    assert fronts[0].paths == []


def test_a_burst_costs_one_refresh_while_one_is_under_way(app, api, fronts):
    entries = [api.post_entry(body=f"Update {n}.") for n in range(5)]
    fronts[0].gate.clear()
    delete(api, entries[0])
    assert fronts[0].entered.wait(5), "the first front was not told"
    for entry in entries[1:]:
        delete(api, entry)
    fronts[0].gate.set()
    settled(app)
    # The first front: the refresh it held, one for the four deletions after it, one repeat.
    assert fronts[0].paths == ["/purge/hama/"] * 3
    # The second, still waiting for its first refresh through it all: that one, and a repeat.
    assert fronts[1].paths == ["/purge/hama/"] * 2


def test_a_failing_front_is_retried_and_never_fails_the_editor(app, api, fronts, caplog):
    fronts[0].statuses = [503, 403]
    fronts[1].stop()  # nothing listens there any more
    entry = api.post_entry(body="Casualty figures, unconfirmed.")
    started = time.monotonic()
    assert delete(api, entry) == 204
    assert time.monotonic() - started < 3.0  # retrying on the request would take 7 s
    purger = purger_of(app)
    wait_until(lambda: purger.abandoned == 2, 5, "the dead front was never given up")
    settled(app)
    assert fronts[0].paths == ["/purge/hama/"] * 4  # 503, 403, then taken; and the repeat
    assert purger.failures == 2 + 2 * purger.attempts
    assert "HTTP 503" in caplog.text and "given up" in caplog.text


def test_other_apps_commits_are_not_this_apps_to_purge(app, api, fronts, make_app):
    other = make_app()
    with db.database(other).sessions() as session:
        other_api = ApiClient(other.test_client(), session).as_user(api.user)
        delete(other_api, other_api.post_entry(body="Elsewhere."))
    settled(app)
    assert fronts[0].paths == []


def test_purge_urls_come_separated_by_spaces_or_commas(monkeypatch, tmp_path):
    monkeypatch.setenv("LIVEBLOG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LIVEBLOG_PURGE_URLS", " http://10.0.0.5:8081/purge,https://b.example/p ")
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    assert app.config["PURGE_URLS"] == ["http://10.0.0.5:8081/purge", "https://b.example/p"]
    app.extensions["liveblog.purge"].purger.stop()
    for raw in ("10.0.0.5:8081/purge", "ftp://front/purge", "http:///purge", "http://[::1"):
        monkeypatch.setenv("LIVEBLOG_PURGE_URLS", raw)
        with pytest.raises(SystemExit) as caught:
            create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
        assert str(caught.value).startswith("LIVEBLOG_PURGE_URLS must be http(s) URLs")
