"""Permalinks, the pinned box and "Last updated" in a real headless Chromium: nothing is
requested from anywhere but this site, sharing and copying work with JavaScript and
without it, "Read more" opens from the keyboard, and "Last updated" keeps up."""

from typing import Any

import pytest

from liveblog import accounts
from liveblog import db
from liveblog import store
from liveblog.cli import DEMO_EMAIL
from tests.editor_helpers import axe_violations
from tests.support import needs_chromium

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

SLUG = "syria-hama-offensive"


@pytest.fixture
def desk(demo_app):
    """An API client of the demo's desk, on the app the live server serves."""
    with db.database(demo_app).sessions() as session:
        user = store.get_user_by_email(session, DEMO_EMAIL)
        assert user is not None
        token = accounts.create_token(session, user, "browser test")
    client = demo_app.test_client()

    def call(path: str, method: str = "POST", **json: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        response = client.open(path, method=method, json=json, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    return call


def test_a_permalink_asks_nothing_of_any_other_site(live_server, desk, browser):
    entry = desk(f"/api/v1/blogs/{SLUG}/entries", headline="Share me", body="Plain words.")
    context = browser.new_context()
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.goto(f"{live_server}/{SLUG}/updates/{entry['id']}", wait_until="networkidle")
    page.goto(f"{live_server}/{SLUG}/updates/2", wait_until="networkidle")
    assert page.locator(".share a.share-x").count() == 1
    elsewhere = [url for url in requested if not url.startswith(live_server + "/")]
    assert requested and elsewhere == []


def test_copy_link_writes_the_address_to_the_clipboard(live_server, browser):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{live_server}/{SLUG}/updates/3")
    copy = page.locator(".share-copy-button")
    playwright.expect(copy).to_be_visible()
    copy.click()
    playwright.expect(page.locator(".share-status")).to_have_text("Link copied")
    assert (
        page.evaluate("navigator.clipboard.readText()") == f"https://news.example/{SLUG}/updates/3"
    )


def test_the_share_sheet_is_offered_only_where_the_browser_has_one(live_server, browser):
    plain = browser.new_page()
    plain.goto(f"{live_server}/{SLUG}/updates/3")
    has_share = plain.evaluate("typeof navigator.share === 'function'")
    playwright.expect(plain.locator(".share-native")).to_be_visible(visible=has_share)

    phone = browser.new_context()
    phone.add_init_script(
        "navigator.share = (data) => { window.shared = data; return Promise.resolve(); };"
    )
    page = phone.new_page()
    page.goto(f"{live_server}/{SLUG}/updates/3")
    page.locator(".share-native button").click()
    shared = page.evaluate("window.shared")
    assert shared["url"] == f"https://news.example/{SLUG}/updates/3"
    assert shared["title"].endswith(
        "Syria’s rebels continue advance in Hama offensive, hold gains inside Damascus"
    )


def test_without_javascript_the_address_is_there_to_select(live_server, browser):
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(f"{live_server}/{SLUG}/updates/3")
    field = page.locator("#share-url")
    assert field.input_value() == f"https://news.example/{SLUG}/updates/3"
    assert field.get_attribute("readonly") is not None
    playwright.expect(page.locator(".share-copy-button")).to_be_hidden()
    playwright.expect(page.locator(".share-native")).to_be_hidden()
    playwright.expect(page.locator("a.share-email")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_read_more_opens_the_pinned_update_from_the_keyboard(live_server, browser, javascript):
    page = browser.new_context(java_script_enabled=javascript).new_page()
    page.goto(f"{live_server}/{SLUG}/")
    pinned = page.locator(".pinned article")
    rest = pinned.locator("details.entry-more p").first
    playwright.expect(pinned.locator(".entry-body p").first).to_be_visible()
    playwright.expect(rest).to_be_hidden()
    summary = pinned.locator("summary")
    assert summary.evaluate("node => getComputedStyle(node).display") != "none"
    collapsed_height = pinned.bounding_box()["height"]
    summary.focus()
    page.keyboard.press("Enter")
    playwright.expect(rest).to_be_visible()
    assert pinned.bounding_box()["height"] > collapsed_height + 200
    assert pinned.locator("details").evaluate("details => details.open") is True
    page.keyboard.press("Enter")
    playwright.expect(rest).to_be_hidden()


def test_last_updated_is_worded_relative_to_now_and_keeps_up(live_server, desk, browser):
    page = browser.new_page()
    page.goto(f"{live_server}/{SLUG}/")
    time = page.locator(".blog-updated-time")
    served = time.get_attribute("datetime")
    playwright.expect(time).to_have_text("now")
    assert time.get_attribute("title").endswith(" GMT"), "the absolute time stays at hand"
    for minutes, words in [
        (12, "12 minutes ago"),
        (60 * 26, "yesterday"),
        (60 * 24 * 400, "last year"),
    ]:
        page.evaluate(
            "minutes => document.querySelector('.blog-updated-time')"
            ".setAttribute('datetime', new Date(Date.now() - minutes * 60000).toISOString())",
            minutes,
        )
        playwright.expect(time).to_have_text(words)
    desk(f"/api/v1/blogs/{SLUG}/entries", body="Breaking news.")
    playwright.expect(time).to_have_text("now", timeout=7000)
    assert time.get_attribute("datetime") >= served


def test_last_updated_speaks_the_pages_language(live_server, desk, browser):
    desk(f"/api/v1/blogs/{SLUG}", "PATCH", language="fr")
    page = browser.new_page()
    page.goto(f"{live_server}/{SLUG}/")
    time = page.locator(".blog-updated-time")
    playwright.expect(time).to_have_text("maintenant")
    page.evaluate(
        "() => document.querySelector('.blog-updated-time')"
        ".setAttribute('datetime', new Date(Date.now() - 12 * 60000).toISOString())"
    )
    playwright.expect(time).to_have_text("il y a 12 minutes")


def test_an_update_pinned_live_arrives_with_read_more(live_server, desk, browser):
    page = browser.new_page()
    page.goto(f"{live_server}/{SLUG}/")
    page.wait_for_function("() => document.querySelector('.live')")
    long = "\n\n".join(["What we know.", "Rebels advance. " * 30, "Aid is cut off. " * 30])
    entry = desk(f"/api/v1/blogs/{SLUG}/entries", body=long, pinned=True)
    pinned = page.locator(f".pinned article#update-{entry['id']}")
    playwright.expect(pinned).to_have_count(1, timeout=7000)
    playwright.expect(pinned.locator(".entry-body > details.entry-more > summary")).to_be_visible()
    playwright.expect(pinned.get_by_text("Aid is cut off.", exact=False)).to_be_hidden()
    pinned.locator("summary").click()
    playwright.expect(pinned.get_by_text("Aid is cut off.", exact=False)).to_be_visible()


def test_the_permalink_and_the_live_page_pass_axe(live_server, desk, browser):
    desk(f"/api/v1/blogs/{SLUG}", "PATCH", status="ended", ended_order="oldest")
    page = browser.new_page()
    for path in ["updates/2", "", "?order=newest"]:
        page.goto(f"{live_server}/{SLUG}/{path}")
        assert axe_violations(page) == [], path
