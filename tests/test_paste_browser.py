"""Pasting in the composer, in headless Chromium: a label read into the update's time, pasted
updates published one by one, and bare links completed on an open reader page."""

import json
import re
from datetime import timedelta

import pytest

from liveblog.label_reader import describe
from liveblog.label_reader import read_label
from liveblog.models import utcnow
from tests.editor_helpers import log_in_browser
from tests.factories import make_user
from tests.fakes import fake_server
from tests.support import TWEET
from tests.support import TWEET_ANSWER
from tests.support import needs_chromium
from tests.test_editor_browser import FIND_SHOWING
from tests.test_editor_browser import item_showing
from tests.test_editor_browser import preview

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
BLOG = "syria-hama-offensive"


@pytest.fixture
def page(browser):
    page = browser.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.problems = problems
    yield page
    assert page.problems == []


@pytest.fixture
def editor(session):
    return make_user(session, "editor")


@pytest.fixture
def provider(demo_app):
    """A fake oEmbed provider on 127.0.0.1, and the app's look-ups running against it."""
    with fake_server() as server:
        demo_app.config["OEMBED_ENDPOINTS"] = {"x": server.url("/x/oembed")}
        demo_app.config["FETCH_PRIVATE_ADDRESSES"] = True
        demo_app.extensions["liveblog.lookups"].interval = 0.1
        yield server


def labels_of_the_last_hours() -> list[str]:
    """Three labels, oldest first, of moments 3, 2 and 1 hours (and some minutes) ago.

    A label names the most recent such time of day, so fixed times would fall on either
    side of now at some hours (0815 and 0930 are yesterday's at 07:05, after today's 0700).
    """
    now = utcnow()
    return [f"UPDATE {now - timedelta(hours=h, minutes=15 * h):%H%M} GMT" for h in (3, 2, 1)]


def compose(page, origin, editor):
    log_in_browser(page, origin, editor.email)
    page.goto(f"{origin}/editor/blogs/{BLOG}/")


def entry_json(page, origin, entry_id):
    return page.evaluate(
        "url => fetch(url, {headers: {'X-CSRF-Token':"
        " document.querySelector('meta[name=csrf-token]').content}}).then(r => r.json())",
        f"{origin}/api/v1/blogs/{BLOG}/entries/{entry_id}",
    )


def test_a_pasted_label_is_shown_as_understood_and_gives_the_time(live_server, editor, page):
    compose(page, live_server, editor)
    # Words of its own: the demo blog has an update that begins like the seed's.
    text = "UPDATE 0745 GMT: Pasted words, unlike any demo update."
    expected = read_label(text, "UTC", utcnow())
    page.fill("#body", text)
    notice = page.wait_for_selector("#label-notice:has-text('Will be published as')")
    assert f"Will be published as {describe(expected, 'UTC', utcnow())}." in notice.inner_text()
    shown = preview(page).locator("article.entry", has_text="Pasted words")
    shown.wait_for()
    assert "UPDATE 0745 GMT:" not in shown.inner_text()
    page.click("button[data-status=published]")
    page.wait_for_selector("#composer-status:has-text('Published: UPDATE 0745 GMT')")
    assert page.is_hidden("#label-notice")
    entry = entry_json(page, live_server, item_showing(page, "Pasted words"))
    assert entry["published_at"] == expected.published_at.isoformat()
    assert entry["blocks"][0]["markdown"] == "Pasted words, unlike any demo update."


def test_the_label_can_stay_as_text(live_server, editor, page):
    compose(page, live_server, editor)
    page.fill("#body", "0745 GMT — Rebels advance.")
    page.click("#label-notice button:has-text('Keep “0745 GMT —” as text')")
    page.wait_for_selector("#label-notice:has-text('stays in the text')")
    page.click("button[data-status=published]")
    entry = entry_json(page, live_server, item_showing(page, "0745 GMT — Rebels advance."))
    assert entry["blocks"][0]["markdown"] == "0745 GMT — Rebels advance."


def test_pasted_updates_are_published_one_each(live_server, editor, page):
    compose(page, live_server, editor)
    oldest, middle, newest = labels_of_the_last_hours()
    pasted = (
        f"{newest}: Regime airstrikes on Ariha.\n\n"
        f"{middle}: Ahrar al-Sham joins the offensive.\n\nMore on that.\n\n"
        f"{oldest}: Fighting near Kawkab overnight."
    )
    page.fill("#body", pasted)
    page.wait_for_selector("#paste-split:has-text('This looks like 3 updates — publish as 3?')")
    listed = page.locator("#paste-split li").all_inner_texts()
    assert [re.sub(r",.*", "", line) for line in listed] == [oldest, middle, newest]
    page.click("#paste-split button:has-text('Publish as 3 updates')")
    page.wait_for_selector("#composer-status:has-text('Published 3 updates.')")
    assert page.input_value("#body") == ""
    labels = {}
    for words in ("Fighting near Kawkab", "Ahrar al-Sham joins", "Regime airstrikes"):
        labels[words] = entry_json(page, live_server, item_showing(page, words))["label"]
    assert labels == {
        "Fighting near Kawkab": oldest,
        "Ahrar al-Sham joins": middle,
        "Regime airstrikes": newest,
    }


def test_a_bare_link_becomes_the_full_quote_on_an_open_reader_page(
    live_server, provider, editor, page, browser
):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER), delay=1.0)
    reader = browser.new_page()
    reader.goto(f"{live_server}/{BLOG}/")
    compose(page, live_server, editor)
    page.fill("#body", f"A pro-rebel activist tweeted:\n\n{TWEET}")
    page.click("button[data-status=published]")
    page.wait_for_selector("#composer-status:has-text('Published')")
    card = reader.wait_for_selector(".entry .social-card")
    assert "@someone" in card.inner_text() and "Unknown author" not in card.inner_text()
    quote = reader.wait_for_selector(
        ".entry blockquote.social-post:has-text('Rebels have entered')"
    )
    assert "Unknown author" not in reader.inner_text("main")
    assert quote.is_visible()
    assert page.is_hidden("#lookup-warning")
    reader.close()


def test_a_failed_look_up_warns_the_editor_who_retries(
    live_server, provider, editor, page, browser
):
    provider.route("/x/oembed", "gone", status=404, content_type="text/plain")
    compose(page, live_server, editor)
    page.fill("#body", TWEET)
    page.click("button[data-status=published]")
    warning = page.wait_for_selector("#lookup-warning:has-text('could not be looked up')")
    assert "does not exist" in warning.inner_text() and TWEET in warning.inner_text()
    page.problems.clear()  # the browser logs nothing of ours; the 404 was the provider's
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    page.click("#lookup-warning button:has-text('Retry the look-up')")
    page.wait_for_selector("#lookup-warning", state="hidden")
    reader = browser.new_page()
    reader.goto(f"{live_server}/{BLOG}/")
    reader.wait_for_selector(".entry blockquote.social-post:has-text('Rebels have entered')")
    reader.close()


def test_pasted_updates_stop_at_the_first_refused_and_keep_the_rest(live_server, editor, page):
    compose(page, live_server, editor)
    oldest, middle, newest = labels_of_the_last_hours()
    brackets = "[" * 2001  # more than one entry may hold: refused with a 422
    page.fill(
        "#body",
        f"{oldest}: Fighting near Kawkab.\n\n{middle}: {brackets}\n\n"
        f"{newest}: Regime airstrikes on Ariha.",
    )
    page.click("#paste-split button:has-text('Publish as 3 updates')")
    status = page.wait_for_selector("#composer-status:has-text('Published 1 of 3 updates')")
    assert "still in the text box" in status.inner_text()
    page.problems.clear()  # the browser logs the refused request
    assert page.input_value("#body") == (
        f"{middle}: {brackets}\n\n{newest}: Regime airstrikes on Ariha."
    )
    item_showing(page, "Fighting near Kawkab")
    assert page.evaluate(FIND_SHOWING, "Regime airstrikes on Ariha") is None


def test_pasted_updates_sent_again_after_a_lost_answer_are_published_once(
    live_server, editor, page
):
    compose(page, live_server, editor)
    oldest, middle, newest = labels_of_the_last_hours()
    keys = []

    def lose_the_second_answer(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) != 2:
            return route.continue_()
        route.fetch()  # committed, and then the answer is lost with its host
        return route.fulfill(status=502, content_type="text/html", body="<h1>Bad Gateway</h1>")

    page.route(f"{live_server}/api/v1/blogs/{BLOG}/entries", lose_the_second_answer)
    page.fill(
        "#body",
        f"{newest}: Regime airstrikes on Ariha.\n\n{middle}: Ahrar al-Sham joins the offensive."
        f"\n\n{oldest}: Fighting near Kawkab overnight.",
    )
    page.click("#paste-split button:has-text('Publish as 3 updates')")
    page.wait_for_selector("#composer-status:has-text('Published 1 of 3 updates')")
    page.problems.clear()  # the browser logs the 502
    page.fill("#body", page.input_value("#body"))  # the editor tries the rest again
    page.click("#paste-split button:has-text('Publish as 2 updates')")
    page.wait_for_selector("#composer-status:has-text('Published 2 updates.')")
    page.goto(f"{live_server}/{BLOG}/")
    for words in ("Fighting near Kawkab", "Ahrar al-Sham joins", "Regime airstrikes"):
        assert page.locator("article.entry", has_text=words).count() == 1, words
    assert len(keys) == 4 and len(set(keys)) == 3 and keys[1] == keys[2]
