"""The demo live page and a permalink in a real headless Chromium, as a reader sees them."""

import pytest

from tests.support import CHROMIUM
from tests.support import CHROMIUM_ARGS
from tests.support import needs_chromium

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
pytestmark = needs_chromium


def left_page(request):
    """The live page's event stream is cut when the reader navigates away: that is no error."""
    return "/events" in request.url and request.failure == "net::ERR_ABORTED"


@pytest.fixture
def page():
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        yield page
        browser.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_pages_load_without_errors(live_server, tiles, page):
    problems = []
    page.on(
        "console",
        lambda message: message.type in ("error", "warning") and problems.append(message.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "requestfailed",
        lambda request: left_page(request) or problems.append(f"failed: {request.url}"),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and problems.append(f"{response.status}: {response.url}")
        ),
    )

    page.goto(f"{live_server}/syria-hama-offensive/")
    assert page.locator("h1").inner_text().startswith("Syria’s rebels continue advance")
    assert page.locator("article#update-3 .entry-label").inner_text() == "UPDATE 0745 GMT"
    assert page.locator(".blog-top-image img").evaluate("image => image.naturalWidth") > 0
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.blog-status')).textTransform")
        == "uppercase"
    )
    page.locator("article#update-3 .block-map").scroll_into_view_if_needed()
    page.wait_for_selector("article#update-3 .block-map[data-map-state=live]")
    # The map is live from its first tile: leaving before its other images are in aborts them.
    for image in page.locator("article#update-3 .map-canvas img").all():
        playwright.expect(image).to_have_js_property("complete", True)

    page.click("article#update-3 .entry-permalink")
    page.wait_for_url(f"{live_server}/syria-hama-offensive/updates/3")
    assert page.locator("a.entry-all").get_attribute("href") == "/syria-hama-offensive/#update-3"
    page.wait_for_selector(".block-map[data-map-state=live]")
    assert problems == []
