"""The demo live page in headless Chromium, kept current by the production server.

Entries are published, edited, pinned and deleted through the editor API of a real
`liveblog serve` process; the open page must follow within 2 s without reloading (a
marker set on ``window`` survives), end up as a fresh server render would show it, hold
new entries back while the reader is further down, and catch up after the server is
killed and started again.
"""

from collections.abc import Iterator
from typing import Any

import pytest

from liveblog import accounts
from liveblog import db
from liveblog import publishing
from liveblog import store
from liveblog.cli import DEMO_EMAIL
from tests.servers import Deployment
from tests.servers import Server
from tests.servers import running
from tests.support import needs_chromium

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

SLUG = "syria-hama-offensive"
WITHIN_MS = 2000


@pytest.fixture
def demo(demo_app, database_url, tmp_path) -> Iterator[tuple[Server, Deployment]]:
    """The demo blog, loaded by the real `liveblog demo`, served by `liveblog serve`."""
    with db.database(demo_app).sessions() as session:
        desk = store.get_user_by_email(session, DEMO_EMAIL)
        assert desk is not None
        token = accounts.create_token(session, desk, "browser test")
    deployment = Deployment(
        database_url, SLUG, editor_token=token, admin_token=token, editor_id=desk.id
    )
    with running(Server(database_url, tmp_path)) as server:
        yield server, deployment


class Reader:
    """A page on the live blog, with every problem it reports collected."""

    def __init__(self, browser: Any, origin: str) -> None:
        self.origin = origin
        self.context = browser.new_context(viewport={"width": 1000, "height": 700})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.server_down = False
        page = self.page
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on("requestfailed", self._failed)
        page.on(
            "response",
            lambda response: (
                response.status >= 400 and self.problems.append(f"{response.status} {response.url}")
            ),
        )
        with page.expect_response(lambda response: "/events" in response.url):
            page.goto(f"{origin}/{SLUG}/")
        page.evaluate("window.liveMarker = 'never reloaded'")
        self.title = page.title()

    def ours(self, url: str) -> bool:
        """Requests elsewhere (map tiles, embeds) cannot succeed here: the test has no network."""
        return url.startswith(self.origin + "/")

    def _console(self, message: Any) -> None:
        if message.type not in ("error", "warning"):
            return
        where = message.location.get("url", "")
        if where and not self.ours(where):
            return
        # While the server is down, the browser reports the stream's failed reconnections.
        if self.server_down and "/events" in where:
            return
        self.problems.append(f"{message.text} ({where})")

    def _failed(self, request: Any) -> None:
        if not self.ours(request.url):
            return
        # The stream is cut when the server is killed (or the page closes): no error.
        if "/events" in request.url and (self.server_down or request.failure == "net::ERR_ABORTED"):
            return
        self.problems.append(f"failed: {request.url} {request.failure}")

    def wait(self, condition: str, arg: Any = None, timeout: float = WITHIN_MS) -> None:
        """Wait for ``condition`` (an expression of ``arg``), polled in the page.

        Given as a function, which Playwright runs without eval: the page's CSP forbids it.
        """
        self.page.wait_for_function(f"(arg) => ({condition})", arg=arg, timeout=timeout)

    def ids(self, selector: str) -> list[int]:
        return [
            int(value)
            for value in self.page.eval_on_selector_all(
                selector, "nodes => nodes.map(node => node.dataset.entryId)"
            )
        ]

    def as_the_server_renders_it(self, *inserted: int) -> None:
        """Pinned entry, updates and key events as a fresh render shows them, in order.

        Entries the page script inserted (``inserted``) must equal the fresh render's
        ``<article>`` as parsed by the browser; for the others, other scripts of the page
        (maps) may have enhanced the body, so the article's own tag, header and footer.
        """
        live, fresh, live_days, fresh_days = self.page.evaluate(
            """async () => {
                const response = await fetch(location.href, {cache: "no-store"});
                const doc = new DOMParser().parseFromString(await response.text(), "text/html");
                const own = (node) => node.cloneNode(false).outerHTML;
                const outline = (node) => node.tagName === "LI" ? node.outerHTML : [own(node),
                    node.querySelector(".entry-header").outerHTML,
                    node.querySelector(".entry-footer").outerHTML].join("");
                const pick = (root) => [".pinned > article", ".updates > article", ".key-events li"]
                    .map((selector) => [...root.querySelectorAll(selector)].map((node) => ({
                        id: node.dataset.entryId, outline: outline(node), html: node.outerHTML,
                    })));
                const days = (root) => [...root.querySelectorAll(".updates > *")]
                    .map((node) => node.tagName === "H2" ? node.outerHTML : node.id);
                return [pick(document), pick(doc), days(document), days(doc)];
            }"""
        )
        assert live_days == fresh_days, "day headings where a fresh render has them"
        for shown, rendered in zip(live, fresh, strict=True):
            assert [item["id"] for item in shown] == [item["id"] for item in rendered]
            for one, other in zip(shown, rendered, strict=True):
                assert one["outline"] == other["outline"]
                if int(one["id"]) in inserted:
                    assert one["html"] == other["html"]

    def still_the_same_page(self) -> None:
        assert self.page.evaluate("window.liveMarker") == "never reloaded"
        ids = self.page.eval_on_selector_all("article[id]", "nodes => nodes.map(n => n.id)")
        assert len(ids) == len(set(ids)), f"duplicate articles: {ids}"
        assert self.problems == []

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def reader(browser, demo) -> Iterator[Reader]:
    server, _deployment = demo
    reader = Reader(browser, server.origin)
    yield reader
    reader.close()


class Desk:
    """The editor, through the running server's API."""

    def __init__(self, server: Server, token: str) -> None:
        self.server, self.token = server, token
        self.base = f"/api/v1/blogs/{SLUG}/entries"

    def publish(self, **fields: Any) -> dict[str, Any]:
        return self.server.api(self.token, "POST", self.base, {"body": "News.", **fields})  # type: ignore[no-any-return]

    def edit(self, entry: dict[str, Any], **fields: Any) -> dict[str, Any]:
        path, version = f"{self.base}/{entry['id']}", f'"{entry["version"]}"'
        return self.server.api(self.token, "PATCH", path, fields, **{"If-Match": version})  # type: ignore[no-any-return]

    def delete(self, entry: dict[str, Any]) -> None:
        path, version = f"{self.base}/{entry['id']}", f'"{entry["version"]}"'
        self.server.api(self.token, "DELETE", path, **{"If-Match": version})


def test_the_page_follows_every_change_without_reloading(demo, reader):
    server, deployment = demo
    desk, page = Desk(server, deployment.editor_token), reader.page
    assert reader.ids(".updates > article") == [3, 2]
    assert reader.ids(".pinned > article") == [1]

    news = desk.publish(headline="Rebels reach Qomhana", body="Fighting **inside** the village.")
    reader.wait(f"document.querySelector('.updates > article')?.id === 'update-{news['id']}'")
    assert reader.ids(".updates > article") == [news["id"], 3, 2]
    # The page now spans two days: each gets its heading, as a fresh render would show.
    reader.wait("document.querySelectorAll('.updates > .updates-day:not([hidden])').length === 2")
    assert page.inner_text(".updates > .updates-day:last-of-type") == "Friday 24 March 2017"
    reader.as_the_server_renders_it(news["id"])
    assert "New update: " + news["label"] == page.inner_text(".live-announcer")
    assert page.title() == reader.title and page.is_hidden(".live")

    news = desk.edit(news, headline="Rebels take Qomhana", key_event=True)
    reader.wait(
        "document.querySelector(`#update-${arg} .entry-headline`).textContent"
        " === 'Rebels take Qomhana'",
        news["id"],
    )
    reader.wait(f"!!document.querySelector('.key-events li[data-entry-id=\"{news['id']}\"]')")
    assert reader.ids(".key-events li") == [news["id"], 3, 1]

    earlier = desk.publish(headline="Earlier report", published_at="2017-03-24T07:00:00Z")
    reader.wait(f"!!document.getElementById('update-{earlier['id']}')")
    assert reader.ids(".updates > article") == [news["id"], 3, earlier["id"], 2]

    earlier = desk.edit(earlier, pinned=True)  # unpins the demo's pinned entry 1
    reader.wait(f"document.querySelector('.pinned > article')?.id === 'update-{earlier['id']}'")
    reader.wait("document.querySelectorAll('.pinned > article').length === 1")
    assert reader.ids(".updates > article") == [news["id"], 3, 2, 1]

    desk.delete(news)
    reader.wait(f"!document.getElementById('update-{news['id']}')")
    reader.wait(f"!document.querySelector('.key-events li[data-entry-id=\"{news['id']}\"]')")

    reader.as_the_server_renders_it(earlier["id"], 1)
    reader.still_the_same_page()


def test_a_correction_reaches_the_open_page_as_the_server_renders_it(demo, reader):
    server, deployment = demo
    desk = Desk(server, deployment.editor_token)
    news = desk.publish(headline="Toll rises", body="Ten dead.")
    reader.wait(f"!!document.getElementById('update-{news['id']}')")
    news = desk.edit(news, body="Twelve dead.", correction="The toll was wrong.")
    reader.wait(
        "document.querySelector(`#update-${arg} .entry-correction`)?.textContent"
        ".includes('The toll was wrong.')",
        news["id"],
    )
    reader.as_the_server_renders_it(news["id"])
    reader.still_the_same_page()


def test_a_reader_further_down_gets_a_button_instead(demo, reader):
    server, deployment = demo
    desk, page = Desk(server, deployment.editor_token), reader.page
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("document.querySelector('.updates').getBoundingClientRect().top") < 0
    where = "document.getElementById('update-2').getBoundingClientRect().top"
    at = page.evaluate(where)

    first = desk.publish(headline="First while reading")
    reader.wait("document.querySelector('.live-reveal').textContent === '1 new update'")
    assert page.is_visible(".live .live-reveal")
    assert page.query_selector(f"#update-{first['id']}") is None
    assert page.title() == f"(1) {reader.title}"
    assert page.inner_text(".live-announcer") == "1 new update"
    assert abs(page.evaluate(where) - at) < 2, "nothing moved under the reader"

    second = desk.publish(headline="Second while reading")
    reader.wait("document.querySelector('.live-reveal').textContent === '2 new updates'")
    assert page.title() == f"(2) {reader.title}"
    desk.edit(first, headline="First, corrected")  # still one update waiting, not two
    desk.delete(second)  # gone before it was ever shown
    reader.wait("document.querySelector('.live-reveal').textContent === '1 new update'")
    assert page.title() == f"(1) {reader.title}"

    page.click(".live-reveal")
    reader.wait(f"!!document.getElementById('update-{first['id']}')")
    assert page.inner_text(f"#update-{first['id']} .entry-headline") == "First, corrected"
    assert page.query_selector(f"#update-{second['id']}") is None
    assert page.is_hidden(".live") and page.title() == reader.title
    assert reader.ids(".updates > article") == [first["id"], 3, 2]
    # Back at the top of the updates: the next one goes straight in.
    assert page.evaluate("document.querySelector('.updates').getBoundingClientRect().top") > -1
    third = desk.publish(headline="Third, at the top")
    reader.wait(f"!!document.getElementById('update-{third['id']}')")
    assert page.is_hidden(".live") and page.title() == reader.title
    reader.as_the_server_renders_it(first["id"], third["id"])
    reader.still_the_same_page()


def test_the_page_catches_up_after_the_server_is_killed_and_restarted(demo, reader):
    server, deployment = demo
    desk = Desk(server, deployment.editor_token)
    before = desk.publish(headline="Before the outage")
    reader.wait(f"!!document.getElementById('update-{before['id']}')")

    reader.server_down = True
    server.kill()
    with deployment.session() as session:
        editor = store.get_user_by_email(session, DEMO_EMAIL)
        themes = deployment.themes
        during = publishing.create_entry(
            session, themes, SLUG, {"headline": "During the outage", "body": "Filed."}, editor
        )
        publishing.update_entry(
            session, themes, SLUG, before["id"], {"headline": "Before, edited"}, editor, '"1"'
        )
        publishing.delete_entry(session, SLUG, 2, editor, '"1"')
        during_id = during.id
    server.start()
    # EventSource retries every 3 s (the stream's retry: line) while the server is away: the
    # page catches up within 8 s of the server answering, however slowly (under load) it started.
    reader.wait(f"!!document.getElementById('update-{during_id}')", timeout=8000)
    reader.server_down = False  # the page has reported the outage by now
    reader.wait("!document.getElementById('update-2')")
    reader.wait(
        "document.querySelector(`#update-${arg} .entry-headline`).textContent === 'Before, edited'",
        before["id"],
    )
    after = desk.publish(headline="After the outage")
    reader.wait(f"!!document.getElementById('update-{after['id']}')")
    assert reader.ids(".updates > article") == [after["id"], during_id, before["id"], 3]
    reader.as_the_server_renders_it(after["id"], during_id, before["id"])
    reader.still_the_same_page()
