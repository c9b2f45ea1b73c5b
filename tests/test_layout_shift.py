"""No layout shift in a real headless Chromium: a permalink with a map and images keeps
every box from the first paint, measured with the browser's own layout-shift entries."""

import io
import threading

import pytest
from werkzeug.serving import make_server

from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.support import needs_chromium

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

MAX_SHIFT = 0.02
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1350, "height": 940}}
# Every layout shift since the page started, as the Layout Instability API reports them;
# shifts right after the reader's own input do not count, as in CLS.
TOTAL_SHIFT = """() => new Promise((resolve) => {
  new PerformanceObserver((list, observer) => {
    observer.disconnect();
    resolve(list.getEntries().filter((entry) => !entry.hadRecentInput)
      .reduce((sum, entry) => sum + entry.value, 0));
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve(0), 500);
})"""
SCROLL_ON = """() => {
  const before = window.scrollY;
  window.scrollBy(0, window.innerHeight * 0.8);
  return window.scrollY > before;
}"""


@pytest.fixture
def tiles():
    with fake_server() as server:
        yield server


@pytest.fixture
def permalinks(app, api, tiles):
    """Permalinks served over HTTP: a map with only its places; a map with a static image,
    photos with and without a known size (one slow to come) and a video."""
    app.config["MAP_TILE_URL"] = tiles.url("/tiles/{z}/{x}/{y}.png")
    upload = api.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(image_bytes((1200, 800), "PNG")), "photo.png")},
        content_type="multipart/form-data",
    ).get_json()
    slow = tiles.route(
        "/photos/slow.png", image_bytes((800, 1000), "PNG"), content_type="image/png", delay=0.6
    )
    markers = [
        {"lat": 35.2094, "lon": 36.7539, "label": "Qomhana"},
        {"lat": 35.1769, "lon": 36.8361, "label": "Kawkab"},
        {"lat": 35.2479, "lon": 36.5727, "label": "Mhardeh"},
    ]
    places = api.post_entry(
        headline="Rebels enter Qomhana",
        body="Fighting around the village.",
        blocks=[{"type": "map", "center": {"lat": 35.2, "lon": 36.7}, "markers": markers}],
    )
    pictures = api.post_entry(
        blocks=[
            {
                "type": "map",
                "center": {"lat": 35.2, "lon": 36.7},
                "markers": markers,
                "image": {"url": upload["url"], "alt": "Static map"},
            },
            {"type": "text", "markdown": "Photos from the front."},
            {"type": "image", "url": slow, "alt": "Smoke over the town"},
            {"type": "image", "url": upload["url"], "alt": "A convoy", **_size(upload)},
            {
                "type": "video",
                "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                "poster": {"url": upload["url"]},
            },
            {"type": "text", "markdown": "More to follow."},
        ]
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_port}"
    yield {
        name: f"{origin}/hama/updates/{entry['id']}"
        for name, entry in (("places", places), ("pictures", pictures))
    }
    server.shutdown()
    thread.join()


def _size(upload):
    return {"width": upload["width"], "height": upload["height"]}


def total_shift(browser, url, device, final_state):
    page = browser.new_page(**device)
    try:
        page.goto(url)
        page.wait_for_selector(f".block-map[data-map-state={final_state}]")
        # Down the page a screen at a time, so the lazy images below come in view and load.
        while page.evaluate(SCROLL_ON):
            page.wait_for_timeout(200)
        page.wait_for_function("() => Array.from(document.images).every((image) => image.complete)")
        page.wait_for_timeout(300)
        return page.evaluate(TOTAL_SHIFT)
    finally:
        page.close()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("page_name", ["places", "pictures"])
def test_nothing_moves_while_the_map_and_the_images_arrive(
    permalinks, tiles, browser, device, page_name
):
    tiles.route("/tiles/*", image_bytes((256, 256), "PNG"), content_type="image/png", delay=0.3)
    assert total_shift(browser, permalinks[page_name], device, "live") < MAX_SHIFT


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_nothing_moves_when_no_tile_arrives(permalinks, tiles, browser, device):
    # The tile server has no tiles: every one is a 404, and the map gives way to the places.
    assert total_shift(browser, permalinks["places"], device, "failed") < MAX_SHIFT
