"""Maps, videos and widgets in a real headless Chromium: lazy, local, and private by default."""

import io
import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.support import TWEET
from tests.support import needs_chromium

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

MARKERS = [
    {"lat": 35.2094, "lon": 36.7539, "label": "Qomhana"},
    {"lat": 35.1769, "lon": 36.8361, "label": "Kawkab"},
]
FRONT_LINE = {
    "type": "Feature",
    "properties": {"name": "Front line"},
    "geometry": {"type": "LineString", "coordinates": [[36.70, 35.15], [36.80, 35.25]]},
}


@pytest.fixture
def tiles():
    with fake_server() as server:
        yield server


@pytest.fixture
def site(app, api, tiles):
    """The 'hama' live page served over HTTP: a video on top, filler, then a map far below."""
    app.config["MAP_TILE_URL"] = tiles.url("/tiles/{z}/{x}/{y}.png")
    upload = api.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(image_bytes((1200, 800), "PNG")), "map.png")},
        content_type="multipart/form-data",
    ).get_json()
    api.post_entry(
        blocks=[
            {
                "type": "map",
                "center": {"lat": 35.2, "lon": 36.75},
                "zoom": 10,
                "markers": MARKERS,
                "geojson": FRONT_LINE,
                "image": {"url": upload["url"], "alt": "Static map of northern Hama"},
                "caption": "Northern Hama",
            }
        ]
    )
    for number in range(6):
        api.post_entry(body=f"Filler update {number}.\n\n" + "Words about the offensive. " * 120)
    api.post_entry(
        blocks=[
            {
                "type": "video",
                "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                "title": "Drone footage",
                "poster": {"url": upload["url"], "width": 1200, "height": 800},
            },
            {"type": "social", "url": TWEET, "author_name": "Some One", "text": "Quoted words"},
        ]
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


class Watched:
    """A page whose requests and console problems are recorded."""

    def __init__(self, browser, **options):
        self.page = browser.new_page(**options)
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console",
            lambda message: (
                message.type in ("error", "warning") and self.problems.append(message.text)
            ),
        )
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))

    def hosts(self) -> set[str]:
        return {urlsplit(url).netloc for url in self.requests if url.startswith("http")}


def test_the_map_starts_only_when_scrolled_into_view_with_leaflet_from_this_site(
    site, tiles, browser
):
    tiles.route("/tiles/*", image_bytes((256, 256), "PNG"), content_type="image/png")
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{site}/hama/")
    page.wait_for_load_state("load")
    figure = page.locator(".block-map")
    assert figure.get_attribute("data-map-state") is None
    assert not [url for url in watched.requests if "leaflet" in url]
    assert tiles.requests == []

    figure.scroll_into_view_if_needed()
    page.wait_for_selector(".block-map[data-map-state=live]")
    leaflet = [url for url in watched.requests if "/vendor/leaflet/" in url]
    assert any(url.endswith("/leaflet.js") for url in leaflet)
    assert all(url.startswith(f"{site}/assets/default/") for url in leaflet)
    assert tiles.requests and all(path.startswith("/tiles/10/") for path in tiles.paths())
    assert page.locator(".map-canvas .leaflet-marker-icon").count() == len(MARKERS)
    assert page.locator(".map-canvas path.leaflet-interactive").count() == 1
    credits = page.locator(".map-canvas .leaflet-control-attribution a")
    assert credits.last.get_attribute("href") == "https://www.openstreetmap.org/copyright"
    assert not page.locator("img.map-image").is_visible()
    assert page.locator(".map-places").is_visible()
    # Nothing but this site and its tile server was asked for anything.
    assert watched.hosts() == {urlsplit(site).netloc, urlsplit(tiles.origin).netloc}
    assert watched.problems == []


def test_when_no_tile_loads_the_static_map_and_the_places_stay(site, tiles, browser):
    watched = Watched(browser)  # the tile server has no tiles: every one is a 404
    page = watched.page
    page.goto(f"{site}/hama/")
    page.locator(".block-map").scroll_into_view_if_needed()
    page.wait_for_selector(".block-map[data-map-state=failed]")
    assert tiles.requests
    assert page.locator(".map-canvas").count() == 0
    # Lazy and unsized: it has no box (is not visible) until it has loaded. (Conditions are
    # given as functions: Playwright polls a bare expression with eval, which the CSP forbids.)
    page.wait_for_function("() => document.querySelector('img.map-image').naturalWidth === 1200")
    assert page.locator("img.map-image").is_visible()
    assert page.locator(".map-places a").all_inner_texts() == ["Qomhana", "Kawkab"]


def test_the_video_is_fetched_from_its_provider_only_after_the_click(site, browser):
    watched = Watched(browser)
    page = watched.page
    page.goto(f"{site}/hama/")
    page.wait_for_load_state("load")
    poster = page.locator("a.video-poster")
    page.wait_for_function(
        "() => document.querySelector('a.video-poster img').naturalWidth === 1200"
    )
    assert watched.hosts() == {urlsplit(site).netloc}

    with page.expect_request(lambda request: "www.youtube-nocookie.com" in request.url):
        poster.click()
    frame = page.locator("iframe.video-frame")
    assert frame.get_attribute("src") == (
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
    )
    assert frame.get_attribute("title") == "Drone footage"
    assert page.locator("a.video-poster").count() == 0
    assert "www.youtube-nocookie.com" in watched.hosts()
    assert "www.youtube.com" not in watched.hosts()


def test_without_javascript_readers_get_the_links_and_the_static_map(site, tiles, browser):
    watched = Watched(browser, java_script_enabled=False)
    page = watched.page
    page.goto(f"{site}/hama/")
    page.locator(".block-map").scroll_into_view_if_needed()
    assert page.locator("img.map-image").is_visible()
    assert (
        page.locator(".map-places a")
        .first.get_attribute("href")
        .startswith("https://www.openstreetmap.org/?mlat=35.2094")
    )
    assert page.locator("a.video-poster").get_attribute("href") == (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    assert page.locator(".block-social blockquote").inner_text() == "Quoted words"
    assert watched.hosts() == {urlsplit(site).netloc}
    assert tiles.requests == []


FAKE_WIDGETS = """
window.twttr = { widgets: { createTweet: function (id, holder, options) {
  var tweet = document.createElement("p");
  tweet.className = "fake-tweet";
  tweet.textContent = id + (options.dnt ? " dnt" : "");
  holder.appendChild(tweet);
  return Promise.resolve(tweet);
} } };
"""


def test_provider_widgets_load_only_for_a_blog_that_opted_in(site, api, browser):
    fetched = []

    def widgets(route):
        fetched.append(route.request.url)
        route.fulfill(body=FAKE_WIDGETS, content_type="text/javascript")

    watched = Watched(browser)
    page = watched.page
    page.route("https://platform.twitter.com/**", widgets)
    page.goto(f"{site}/hama/")
    page.wait_for_load_state("load")
    # widgets.js is what fetches a provider's script, and this page does not load it; the
    # single fetch counted on the second page shows that this one made none before it was left.
    assert page.locator("script[data-widgets]").count() == 0
    assert fetched == []
    assert page.locator(".block-social blockquote").is_visible()

    api.as_role("admin").patch("/api/v1/blogs/hama", json={"embed_widgets": True})
    page.goto(f"{site}/hama/")
    page.wait_for_selector(".fake-tweet")
    assert page.locator("script[data-widgets]").count() == 1
    assert fetched == ["https://platform.twitter.com/widgets.js"]
    assert page.locator(".fake-tweet").inner_text() == "1234567890 dnt"
    assert not page.locator(".block-social blockquote").is_visible()
    assert watched.problems == []
