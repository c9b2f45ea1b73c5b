"""Our embeds on another site, in headless Chromium.

A newsroom's article on a second loopback origin frames the demo blog with the markup of
our oEmbed answers (the live page, and a permalink's card) plus a teaser by hand, beside
a frame from a third origin. Updates published through the API of a real `liveblog serve`
arrive inside the iframes, which embed.js keeps as tall as their content; height
messages from any other origin or window are ignored, as is another window's hello to
our page. Nothing logs an error or breaks the pages' Content-Security-Policy.
"""

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from liveblog import accounts
from liveblog import db
from liveblog import store
from liveblog.cli import DEMO_EMAIL
from tests.fakes import FakeServer
from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.servers import Server
from tests.servers import running
from tests.support import needs_chromium
from tests.support import wait_until

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

SLUG = "syria-hama-offensive"
WITHIN_MS = 5000
FORGED = [4321, 4322, 4323, 4324]  # heights only forged messages ask for


@pytest.fixture
def elsewhere() -> Iterator[FakeServer]:
    """A third origin: a frame on the article that is neither the newsroom's nor ours, and
    the map tiles, so the demo's map shows without the internet."""
    with fake_server() as server:
        server.route("/tiles/*", image_bytes((256, 256), "PNG"), content_type="image/png")
        server.route(
            "/widget.html",
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Widget</title>'
            '<link rel="icon" href="data:,"></head><body>Weather</body></html>',
            content_type="text/html",
        )
        yield server


@pytest.fixture
def site(demo_app, database_url, tmp_path, elsewhere) -> Iterator[tuple[Server, str]]:
    """The demo blog served by `liveblog serve` on its own origin (its BASE_URL), and an
    API token of its desk."""
    with db.database(demo_app).sessions() as session:
        desk = store.get_user_by_email(session, DEMO_EMAIL)
        assert desk is not None
        token = accounts.create_token(session, desk, "embed browser test")
    server = Server(database_url, tmp_path)
    server.extra_env.update(
        LIVEBLOG_BASE_URL=server.origin,
        LIVEBLOG_MAP_TILE_URL=elsewhere.url("/tiles/{z}/{x}/{y}.png"),
    )
    with running(server):
        yield server, token


def oembed_html(server: Server, path: str) -> str:
    query = urllib.parse.urlencode({"url": server.origin + path, "format": "json"})
    with urllib.request.urlopen(f"{server.origin}/oembed?{query}", timeout=10) as response:
        return str(json.loads(response.read())["html"])


@pytest.fixture
def newsroom(site, elsewhere) -> Iterator[FakeServer]:
    """The newsroom's article: our oEmbed code for a permalink and for the live page, a
    teaser and an iframe of ours that embed.js is not asked to size, and a frame from
    elsewhere."""
    server, _token = site
    ours = server.origin
    article = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Newsroom article</title>
<link rel="icon" href="data:,"></head>
<body>
<h1>Our article</h1>
<div id="card">{oembed_html(server, f"/{SLUG}/updates/3")}</div>
<div id="teaser"><iframe src="{ours}/{SLUG}/embed?teaser=2" title="Latest" data-liveblog-embed></iframe>
<script async src="{ours}/embed.js"></script></div>
<iframe id="unsized" src="{ours}/{SLUG}/embed?teaser=1" title="Not sized"></iframe>
<iframe id="widget" src="{elsewhere.url("/widget.html")}" title="Widget"></iframe>
<div id="live">{oembed_html(server, f"/{SLUG}/")}</div>
</body></html>"""
    with fake_server() as host:
        host.route("/article.html", article, content_type="text/html")
        yield host


class Article:
    """The newsroom's article open in a browser, with every problem any frame reports."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1000, "height": 700})
        self.page = self.context.new_page()
        self.problems: list[str] = []
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
        page.goto(url)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.text} ({message.location.get('url', '')})")

    def _failed(self, request: Any) -> None:
        # A live stream is cut when its page goes away: no error.
        if "/events" in request.url and request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"failed: {request.url} {request.failure}")

    def frame(self, selector: str) -> Any:
        """The frame of the iframe at ``selector``, scrolled to (they load lazily), loaded."""
        iframe = self.page.locator(selector)
        iframe.scroll_into_view_if_needed()
        frame = iframe.element_handle().content_frame()
        frame.wait_for_load_state()
        return frame

    def height(self, selector: str) -> float:
        """The iframe's height as embed.js set it (0 until it has)."""
        return float(self.page.eval_on_selector(selector, "f => parseFloat(f.style.height) || 0"))

    def sized(self, selector: str) -> float:
        """Wait until embed.js has sized the iframe to its content's height, so that nothing
        inside needs scrolling; return that height."""
        frame = self.frame(selector)

        def fits() -> float:
            content, scrolls = frame.evaluate(
                """() => [Math.ceil(document.documentElement.getBoundingClientRect().height),
                          document.documentElement.scrollHeight > window.innerHeight]"""
            )
            height = self.height(selector)
            return height if height == content and not scrolls else 0

        return wait_until(
            fits, WITHIN_MS / 1000, lambda: f"{selector} is {self.height(selector)} px high"
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def article(browser, newsroom) -> Iterator[Article]:
    article = Article(browser, newsroom.url("/article.html"))
    yield article
    article.close()


def publish(site: tuple[Server, str], **fields: Any) -> dict[str, Any]:
    server, token = site
    return server.api(token, "POST", f"/api/v1/blogs/{SLUG}/entries", fields)  # type: ignore[no-any-return]


LIVE = "#live iframe"
CARD = "#card iframe"
TEASER = "#teaser iframe"


def test_embeds_on_another_site_follow_the_blog_and_their_content(site, article):
    page = article.page
    ours = site[0].origin
    card, teaser, live = article.frame(CARD), article.frame(TEASER), article.frame(LIVE)
    # The permalink's oEmbed answer is the card of that update alone.
    assert card.url == f"{ours}/{SLUG}/embed?update=3"
    assert card.eval_on_selector_all("article", "nodes => nodes.map(n => n.id)") == ["update-3"]
    assert live.url == f"{ours}/{SLUG}/embed"
    before = {selector: article.sized(selector) for selector in (CARD, TEASER, LIVE)}
    assert before[LIVE] > 800, "the live page is taller than the oEmbed answer's height"
    ids = "nodes => nodes.map(n => n.dataset.entryId)"
    assert live.eval_on_selector_all(".updates > article", ids) == ["3", "2"]
    assert teaser.eval_on_selector_all(".teaser-updates > li", ids) == ["3", "2"]

    # Forged heights: from the article itself, from a frame of a third origin, from a
    # frame of ours that embed.js did not adopt, and a height that is no number; and a
    # hello to our live page from a window that did not frame it.
    page.evaluate(
        """() => {
            window.heights = [];
            for (const frame of document.querySelectorAll("iframe[data-liveblog-embed]")) {
                new MutationObserver(() => window.heights.push(parseFloat(frame.style.height)))
                    .observe(frame, {attributes: true, attributeFilter: ["style"]});
            }
        }"""
    )
    forged = {"type": "liveblog:embed-height"}
    page.evaluate("(message) => window.postMessage(message, '*')", {**forged, "height": FORGED[0]})
    widget = article.frame("#widget")
    widget.evaluate(
        "(message) => parent.postMessage(message, '*')", {**forged, "height": FORGED[1]}
    )
    widget.evaluate(
        """() => {
            for (let i = 0; i < parent.frames.length; i++) {
                parent.frames[i].postMessage({type: "liveblog:embed-hello"}, "*");
            }
        }"""
    )
    unsized = article.frame("#unsized")
    unsized.evaluate(
        "(message) => parent.postMessage(message, '*')", {**forged, "height": FORGED[2]}
    )
    live.evaluate("(message) => parent.postMessage(message, '*')", {**forged, "height": "4324"})

    news = publish(
        site,
        headline="Rebels reach Qomhana",
        body="\n\n".join(["Fighting is reported inside the village."] * 12),
    )
    live.wait_for_function(
        "(id) => document.querySelector('.updates > article')?.id === 'update-' + id",
        arg=news["id"],
        timeout=WITHIN_MS,
    )
    teaser.wait_for_function(
        "(id) => document.querySelector('.teaser-updates > li')?.dataset.entryId === String(id)",
        arg=news["id"],
        timeout=WITHIN_MS,
    )
    assert live.eval_on_selector_all(".updates > article", ids) == [str(news["id"]), "3", "2"]
    assert teaser.eval_on_selector_all(".teaser-updates > li", ids) == [str(news["id"]), "3"]
    assert teaser.inner_text(".teaser-updates > li .teaser-headline") == "Rebels reach Qomhana"
    page.wait_for_function(
        "([selector, height]) => parseFloat(document.querySelector(selector).style.height) > height",
        arg=[LIVE, before[LIVE]],
        timeout=WITHIN_MS,
    )
    assert article.sized(LIVE) > before[LIVE]
    assert article.sized(CARD) > 0 and article.sized(TEASER) > 0
    heights = page.evaluate("() => window.heights")
    assert heights and not set(FORGED) & set(heights), heights
    assert page.eval_on_selector("#unsized", "f => f.style.height") == ""

    # Links in an embed open in the article's window: here, the card's link to the blog.
    card.click(".embed-follow a")
    page.wait_for_url(f"{ours}/{SLUG}/#update-3")
    page.wait_for_selector("#update-3")
    assert article.problems == []
