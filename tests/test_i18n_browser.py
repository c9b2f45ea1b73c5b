"""An Arabic live blog in a real headless Chromium: right to left, and live in Arabic."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import open_blog
from tests.support import CHROMIUM
from tests.support import CHROMIUM_ARGS
from tests.support import needs_chromium

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

SLUG = "hama-ar"
WITHIN_MS = 3000
PLACES = {"type": "map", "center": {"lat": 35.2, "lon": 36.7}, "markers": [{"lat": 35.2, "lon": 36.7, "label": "حماة"}]}  # fmt: skip


@pytest.fixture
def page(live_server, api) -> Iterator[Any]:
    """The Arabic blog's live page, open in Chromium, with the problems it reports."""
    open_blog(api, slug=SLUG, title="هجوم حماة", status="live", language="ar")
    api.post_entry(blog=SLUG, headline="الفصائل تدخل قمحانة", body="تقدّم.", pinned=True)
    api.post_entry(blog=SLUG, headline="قصف على طيبة الإمام", body="قصف.", key_event=True)
    for number in range(6):
        api.post_entry(blog=SLUG, body="اشتباكات عنيفة في الريف الشمالي.\n\n" * 8 + str(number))
    api.post_entry(blog=SLUG, blocks=[PLACES])
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and live_server in message.location.get("url", live_server)
                and page.problems.append(message.text)
            ),
        )
        with page.expect_response(lambda response: "/events" in response.url):
            page.goto(f"{live_server}/{SLUG}/")
        yield page
        browser.close()


def box(page: Any, selector: str) -> dict[str, float]:
    return page.eval_on_selector(selector, "node => node.getBoundingClientRect().toJSON()")  # type: ignore[no-any-return]


def style(page: Any, selector: str, name: str) -> str:
    return page.eval_on_selector(selector, f"node => getComputedStyle(node).{name}")  # type: ignore[no-any-return]


def inner_right(page: Any, selector: str) -> float:
    """Where the content of ``selector`` ends on the right, inside its border and padding."""
    return page.eval_on_selector(  # type: ignore[no-any-return]
        selector,
        """node => {
            const style = getComputedStyle(node);
            return node.getBoundingClientRect().right - parseFloat(style.paddingRight)
                - parseFloat(style.borderRightWidth);
        }""",
    )


def test_the_layout_mirrors(page):
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "ar",
        "rtl",
    ]
    assert style(page, ".pinned article", "direction") == "rtl"
    # The pinned box: its label starts at the right edge, its badge follows to the left.
    label = box(page, ".pinned .entry-label")
    badge = box(page, ".pinned .entry-badge-pinned")
    assert abs(inner_right(page, ".pinned article") - label["right"]) < 2
    assert badge["right"] <= label["left"]
    assert style(page, ".pinned .entry-badge-pinned", "marginRight") == "8px"
    assert page.inner_text(".pinned .entry-badge-pinned") == "مثبّت"
    # Key events and a map's places are indented from the right, where their lists start.
    assert style(page, ".key-events ol", "paddingRight") == "20px"
    assert style(page, ".key-events ol", "paddingLeft") == "0px"
    assert page.inner_text("#key-events-title") == "أبرز الأحداث"
    # The bullets' room is at the start of the line: on the right.
    pixels = {
        side: float(style(page, ".map-places", f"padding{side}")[:-2]) for side in ("Left", "Right")
    }
    assert pixels["Right"] > pixels["Left"]
    # A headline's words sit against the right edge.
    words = page.eval_on_selector(
        ".updates .entry-key-event .entry-headline",
        """node => {
            const range = document.createRange();
            range.selectNodeContents(node);
            return range.getBoundingClientRect().toJSON();
        }""",
    )
    edge = inner_right(page, ".updates .entry-key-event")
    assert abs(edge - words["right"]) < 2 and edge - words["left"] < 400
    assert page.problems == []


def test_live_updates_speak_arabic(page, api):
    news = api.post_entry(blog=SLUG, headline="عاجل: سقوط قذائف", body="خبر.")
    page.wait_for_function(
        f"() => !!document.getElementById('update-{news['id']}')", timeout=WITHIN_MS
    )
    assert page.inner_text(".live-announcer") == f"تحديث جديد: {news['label']}"
    assert news["label"].startswith("تحديث ") and news["label"].endswith(" بتوقيت غرينتش")
    assert page.inner_text(f"#update-{news['id']} .entry-label") == news["label"]

    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expected = ["تحديث جديد واحد", "تحديثان جديدان", "3 تحديثات جديدة"]
    for text in expected:
        api.post_entry(blog=SLUG, body="تحديث آخر.")
        page.wait_for_function(
            "(text) => document.querySelector('.live-reveal').textContent === text",
            arg=text,
            timeout=WITHIN_MS,
        )
        assert page.inner_text(".live-announcer") == text
    assert page.is_visible(".live-reveal")
    assert page.problems == []
