"""The editor's flows end to end in headless Chromium, under the strict Content-Security-Policy."""

import json

import pytest

from liveblog.web.editor import STATIC
from tests.editor_helpers import axe_violations
from tests.editor_helpers import log_in_browser
from tests.factories import ApiClient
from tests.factories import make_user
from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.support import AXE
from tests.support import TWEET
from tests.support import TWEET_ANSWER
from tests.support import needs_chromium

playwright = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
BLOG = "syria-hama-offensive"


def preview(page):
    """The preview pane: the blog's theme in a frame of its own, filled by the composer."""
    return page.frame_locator("#preview-frame")


def reader(page, entry_id):
    """An update of the stream as readers see it: the theme's frame in its item."""
    return page.frame_locator(f"#item-{entry_id} iframe.reader-frame")


FIND_SHOWING = """text => {
  const found = [...document.querySelectorAll('#stream .item')].find(item => {
    const frame = item.querySelector('iframe.reader-frame');
    return frame && frame.contentDocument && frame.contentDocument.body
      && frame.contentDocument.body.textContent.includes(text);
  });
  return found ? found.dataset.id : null;
}"""


def item_showing(page, text, timeout=10.0):
    """The id of the stream's item whose update shows ``text``, once one does."""
    for _ in range(int(timeout * 10)):
        if (found := page.evaluate(FIND_SHOWING, text)) is not None:
            return found
        page.wait_for_timeout(100)
    raise AssertionError(f"no update in the stream shows {text!r}")


def watch(page):
    """Collect console errors (CSP violations among them), page errors and failed requests."""
    problems = []
    page.on(
        "console",
        lambda message: message.type in ("error", "warning") and problems.append(message.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.problems = watch(page)
    yield page
    assert page.problems == []


@pytest.fixture
def users(session):
    return {role: make_user(session, role) for role in ("admin", "editor", "contributor")}


def test_log_in_and_out(live_server, users, page):
    page.goto(f"{live_server}/editor/")
    page.wait_for_url(f"{live_server}/editor/login?next=/editor/")
    page.fill("#email", users["editor"].email)
    page.fill("#password", "not the password")
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=alert]")
    assert "do not match" in page.inner_text("[role=alert]")
    page.problems.clear()  # the 401 itself is logged by the browser
    page.fill("#password", "correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/editor/")
    cookie = page.context.cookies()[0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("text=Log out")
    page.wait_for_url(f"{live_server}/editor/login")


def test_an_admin_creates_a_blog_from_the_dashboard(live_server, users, page):
    log_in_browser(page, live_server, users["admin"].email)
    assert page.locator(".blog-row").first.get_attribute("data-slug") == BLOG
    page.fill("#title", "Storm Ciarán hits the coast")
    assert page.input_value("#slug") == "storm-ciaran-hits-the-coast"
    page.fill("#timezone", "Europe/London")
    page.select_option("#status", "live")
    page.click("text=Create live blog")
    page.wait_for_url(f"{live_server}/editor/blogs/storm-ciaran-hits-the-coast/")
    page.click("text=Liveblog editor")
    row = page.locator(".blog-row[data-slug=storm-ciaran-hits-the-coast]")
    row.locator("button", has_text="End").click()
    page.wait_for_selector(".blog-row-ended[data-slug=storm-ciaran-hits-the-coast]")


def test_compose_preview_and_publish_with_ctrl_enter(live_server, users, page):
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    # The text last: the preview shown for it then has the time (and label) chosen here.
    page.fill("#published_at", "2017-03-24T07:45")
    page.fill("#headline", "Rebels reach the airport")
    page.fill("#body", "Fighting **near** the runway.")
    preview(page).locator("article.entry strong").wait_for()
    label = preview(page).locator(".entry-label").inner_text()
    assert label.startswith("UPDATE ") and page.inner_text("#label-preview") == f"Label: {label}"
    assert preview(page).locator(".entry-headline").inner_text() == "Rebels reach the airport"
    page.focus("#body")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#composer-status:has-text('Published')")
    assert page.input_value("#body") == ""
    page.goto(f"{live_server}/{BLOG}/")
    published = page.locator("article.entry", has_text="Rebels reach the airport")
    assert published.locator(".entry-label").inner_text() == label


def test_errors_show_next_to_the_field(live_server, users, page):
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    page.fill("#body", "Later today")
    page.fill("#published_at", "2017-03-24T07:45")
    page.click("button[data-status=scheduled]")
    page.wait_for_selector("#published_at-error:not([hidden])")
    assert "future" in page.inner_text("#published_at-error")
    assert page.get_attribute("#published_at", "aria-invalid") == "true"
    page.problems.clear()  # the browser logs the 422
    page.fill("#published_at", "2099-01-01T09:00")
    page.click("button[data-status=scheduled]")
    page.wait_for_selector("#composer-status:has-text('Scheduled')")
    assert page.is_hidden("#published_at-error")


def test_publishing_again_after_an_answer_lost_on_the_way_publishes_once(live_server, users, page):
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    keys = []

    def lose_the_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) > 1:
            return route.continue_()
        route.fetch()  # the app commits the entry, then its host dies before the answer:
        return route.fulfill(status=502, content_type="text/html", body="<h1>Bad Gateway</h1>")

    page.route(f"{live_server}/api/v1/blogs/{BLOG}/entries", lose_the_first_answer)
    page.fill("#body", "Rebels say they hold the airport.")
    page.focus("#body")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#composer-error:not([hidden])")
    page.problems.clear()  # the browser logs the 502
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#composer-status:has-text('Published')")
    page.goto(f"{live_server}/{BLOG}/")
    assert page.locator("article.entry", has_text="they hold the airport").count() == 1
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]


@pytest.fixture
def others(client, session):
    """Another editor working through the API at the same time."""
    return ApiClient(client, session).as_role("editor")


def item(page, entry_id):
    return page.locator(f"#item-{entry_id}")


def test_the_stream_updates_live_and_edits_in_place(live_server, users, others, page):
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    page.wait_for_selector("#stream .item")
    entry = others.post_entry(BLOG, headline="From the other desk", body="Shelling reported.")
    page.wait_for_selector(f"#item-{entry['id']}")
    assert page.locator("#stream .item").first.get_attribute("data-id") == str(entry["id"])

    item(page, entry["id"]).locator("button[data-act=edit]").click()
    page.fill(f"#edit-{entry['id']}-text-0", "Shelling reported near the citadel.")
    page.click("text=Save changes")
    reader(page, entry["id"]).locator("article", has_text="near the citadel").wait_for()
    assert page.is_hidden(f"#edit-{entry['id']}-text-0")

    item(page, entry["id"]).locator("button[data-act=pin]").click()
    page.wait_for_selector(f"#item-{entry['id']} button[data-act=pin][aria-pressed=true]")
    item(page, entry["id"]).locator("button[data-act=key]").click()
    page.wait_for_selector(f"#item-{entry['id']} button[data-act=key][aria-pressed=true]")
    current = others.get(f"/api/v1/blogs/{BLOG}/entries/{entry['id']}").get_json()
    assert current["pinned"] and current["key_event"]
    assert current["blocks"] == [
        {"type": "text", "markdown": "Shelling reported near the citadel."}
    ]

    item(page, entry["id"]).locator("button[data-act=history]").click()
    page.click(f"#item-{entry['id']} button[aria-label='Restore version {entry['version']}']")
    reader(page, entry["id"]).locator("article", has_text="Shelling reported.").wait_for()
    current = others.get(f"/api/v1/blogs/{BLOG}/entries/{entry['id']}").get_json()
    assert current["blocks"] == entry["blocks"] and current["pinned"]

    item(page, entry["id"]).locator("button[data-act=delete]").click()
    page.click("text=Keep it")
    item(page, entry["id"]).locator("button[data-act=delete]").click()
    page.click("text=Delete for good")
    page.wait_for_selector(f"#item-{entry['id']}", state="detached")
    assert others.get(f"/api/v1/blogs/{BLOG}/entries/{entry['id']}").get_json()["status"] == (
        "deleted"
    )


def test_two_editors_saving_the_same_entry_see_a_conflict_and_choose(
    live_server, users, others, page
):
    entry = others.post_entry(BLOG, body="Casualty figures unclear.")
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    item(page, entry["id"]).locator("button[data-act=edit]").click()
    page.fill(f"#edit-{entry['id']}-text-0", "Mine: 12 dead, says the ministry.")
    assert others.edit_entry(entry, body="Theirs: at least 10 dead.").status_code == 200
    page.click("text=Save changes")
    page.wait_for_selector(".version-theirs")
    assert "Theirs: at least 10 dead." in page.inner_text(".version-theirs")
    assert "Mine: 12 dead" in page.inner_text(".version-mine")
    page.problems.clear()  # the browser logs the 412
    page.click("text=Keep my version")
    reader(page, entry["id"]).locator("article", has_text="Mine: 12 dead").wait_for()
    saved = others.get(f"/api/v1/blogs/{BLOG}/entries/{entry['id']}").get_json()
    assert saved["version"] == entry["version"] + 2
    assert saved["blocks"][0]["markdown"] == "Mine: 12 dead, says the ministry."


def test_an_editor_corrects_a_published_update_with_a_note_for_readers(
    live_server, users, others, page
):
    entry = others.post_entry(BLOG, body="Ten dead, says the ministry.")
    draft = others.post_entry(BLOG, body="Not yet out.", status="draft")
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    item(page, draft["id"]).locator("button[data-act=edit]").click()
    assert page.locator(f"#edit-{draft['id']}-correction").count() == 0
    page.click(f"#item-{draft['id']} button[data-act=cancel]")

    item(page, entry["id"]).locator("button[data-act=edit]").click()
    page.fill(f"#edit-{entry['id']}-text-0", "Twelve dead, says the ministry.")
    page.get_by_label("Correction note (shown to readers)").fill("The toll was wrong.")
    page.click("text=Save changes")
    reader(page, entry["id"]).locator(
        ".entry-correction:has-text('The toll was wrong.')"
    ).wait_for()
    saved = others.get(f"/api/v1/blogs/{BLOG}/entries/{entry['id']}").get_json()
    assert [c["note"] for c in saved["corrections"]] == ["The toll was wrong."]

    page.goto(f"{live_server}/{BLOG}/updates/{entry['id']}")
    assert "The toll was wrong." in page.inner_text(".entry-correction")
    page.click("text=Earlier versions")
    page.wait_for_selector(".history-version del:has-text('Ten')")


@pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: run 'make test-tools'")
def test_axe_finds_no_violations_on_a_corrected_update_and_its_history(live_server, others, page):
    entry = others.post_entry(BLOG, headline="Toll", body="Ten dead.\n\nIn *Hama*.")
    corrected = others.edit_entry(
        entry, body="Twelve dead.\n\nIn *Hama*.", correction="Toll fixed."
    )
    assert corrected.status_code == 200
    for path in (f"/{BLOG}/updates/{entry['id']}", f"/{BLOG}/updates/{entry['id']}/history"):
        page.goto(f"{live_server}{path}")
        assert axe_violations(page) == [], path


def test_a_contributor_editing_a_draft_has_no_correction_note(live_server, users, page):
    contributor = users["contributor"]
    log_in_browser(page, live_server, contributor.email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    page.fill("#body", "A draft of mine.")
    page.click("text=Save draft")
    page.wait_for_selector("#stream .item button[data-act=edit]")
    page.locator("#stream .item button[data-act=edit]").first.click()
    page.wait_for_selector(".edit-form")
    assert page.locator(".edit-form input[name=correction]").count() == 0


def test_contributors_submit_for_review_and_editors_return_or_publish(
    live_server, users, browser, page
):
    log_in_browser(page, live_server, users["contributor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    assert page.is_hidden("button[data-status=published]")
    page.fill("#body", "Tanks seen on the bridge.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#composer-status:has-text('Submitted for review')")
    entry_id = item_showing(page, "Tanks seen on the bridge.")
    page.locator(f"#item-{entry_id} .status", has_text="Waiting for review").wait_for()

    desk = browser.new_context().new_page()
    desk.problems = watch(desk)
    log_in_browser(desk, live_server, users["editor"].email)
    assert "1 waiting for review" in desk.text_content(f".blog-row[data-slug={BLOG}]")
    desk.goto(f"{live_server}/editor/blogs/{BLOG}/")
    desk.click(f"#item-{entry_id} button[data-act=return]")
    desk.fill(f"#return-{entry_id}", "Which bridge?")
    desk.click("text=Send back")
    desk.wait_for_selector(f"#item-{entry_id} .status:has-text('Returned to author')")

    page.wait_for_selector(f"#item-{entry_id} .review-note:has-text('Which bridge?')")
    page.click(f"#item-{entry_id} button[data-act=edit]")
    page.fill(f"#edit-{entry_id}-text-0", "Tanks seen on the Orontes bridge.")
    page.click("text=Save changes")
    reader(page, entry_id).locator("article", has_text="Orontes").wait_for()
    page.click(f"#item-{entry_id} button[data-act=submit]")
    page.wait_for_selector(f"#item-{entry_id} .status:has-text('Waiting for review')")

    # The desk's stream catches up on its own: publishing an older version would be a 412.
    desk.wait_for_selector(f"#item-{entry_id} .status:has-text('Waiting for review')")
    reader(desk, entry_id).locator("article", has_text="Orontes").wait_for()
    desk.click(f"#item-{entry_id} button[data-act=publish]")
    desk.wait_for_selector(f"#item-{entry_id} .status:has-text('Published')")
    page.wait_for_selector(f"#item-{entry_id} .status:has-text('Published')")
    assert page.locator(f"#item-{entry_id} button").count() == 0
    assert desk.problems == []


def test_an_admin_manages_users_and_tokens(live_server, users, page):
    log_in_browser(page, live_server, users["admin"].email)
    page.click("text=Users and tokens")
    page.fill("#email", "stringer@news.example")
    page.fill("#name", "Stringer")
    page.select_option("#role", "contributor")
    page.fill("#password", "a long passphrase")
    page.click("text=Create user")
    page.wait_for_selector("text=stringer@news.example can now log in as contributor")
    row = page.locator(".user-row", has_text="stringer@news.example")
    row.locator("input[name=label]").fill("phone app")
    row.locator("button", has_text="Create token").click()
    token = page.inner_text("#new-token")
    assert token.startswith("lb_")
    row = page.locator(".user-row", has_text="stringer@news.example")
    row.locator("button", has_text="Revoke").click()
    page.wait_for_selector("text=no longer works")
    row = page.locator(".user-row", has_text="stringer@news.example")
    row.locator("button", has_text="Deactivate").click()
    page.wait_for_selector(".user-inactive:has-text('stringer@news.example')")


def test_the_editor_modules_load_and_run_under_the_policy(live_server, users, page):
    """Each module arrives as JavaScript under the page's one digest and runs; console
    errors (CSP violations among them) and page errors would fill page.problems."""
    scripts = []
    page.on("response", lambda response: scripts.append(response))
    log_in_browser(page, live_server, users["admin"].email)
    page.fill("#title", "Storm Ciarán hits the coast")
    assert page.input_value("#slug") == "storm-ciaran-hits-the-coast"
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    page.fill("#body", "Fighting **near** the runway.")
    preview(page).locator("article.entry strong").wait_for()
    page.wait_for_selector("#stream .item")
    assert page.problems == []
    digest = page.get_attribute("script[type=module]", "src").split("/")[-2]
    modules = [r for r in scripts if "/editor/static/" in r.url and r.url.endswith(".js")]
    assert {tuple(response.url.split("/")[-2:]) for response in modules} == {
        (digest, path.name) for path in STATIC.glob("*.js")
    }
    for response in modules:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/javascript"), response.url


@pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: run 'make test-tools'")
def test_axe_finds_no_violations_on_login_dashboard_and_compose(live_server, users, page):
    page.goto(f"{live_server}/editor/login")
    assert axe_violations(page) == []
    log_in_browser(page, live_server, users["admin"].email)
    assert axe_violations(page) == []
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    page.fill("#body", "Fighting near the **airport**.")
    preview(page).locator("article.entry").wait_for()
    page.wait_for_selector("#stream .item")
    assert axe_violations(page) == []
    page.click("#stream .item button[data-act=edit]")
    page.click("summary:has-text('Social post or video')")
    page.click("summary:has-text('Photo')")
    assert axe_violations(page) == []
    page.goto(f"{live_server}/editor/admin/users")
    assert axe_violations(page) == []


def test_a_reporter_posts_from_a_phone(live_server, users, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    problems = watch(page)
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.tap("#body")
    page.fill("#body", "Explosions heard in the east of the city.")
    preview(page).locator("article.entry").wait_for()
    button = page.locator("button[data-status=published]")
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 40
    button.tap()
    page.wait_for_selector("#composer-status:has-text('Published')")
    item_showing(page, "Explosions heard")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert problems == []


@pytest.fixture
def providers(demo_app):
    """A fake oEmbed provider and tile server on 127.0.0.1, so nothing reaches the internet."""
    with fake_server() as server:
        server.route("/tiles/*", image_bytes((256, 256), "PNG"), content_type="image/png")
        demo_app.config["MAP_TILE_URL"] = server.url("/tiles/{z}/{x}/{y}.png")
        demo_app.config["OEMBED_ENDPOINTS"] = {"x": server.url("/x/oembed")}
        demo_app.config["FETCH_PRIVATE_ADDRESSES"] = True
        yield server


def test_compose_with_a_post_a_photo_and_a_map(
    live_server, providers, users, others, page, tmp_path
):
    providers.route("/x/oembed", json.dumps(TWEET_ANSWER))
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes((640, 480), "PNG"))
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    page.fill("#body", "What we know so far.")

    page.click("summary:has-text('Social post or video')")
    page.fill("#embed-url", TWEET)
    page.click("text=Look it up")
    author = page.locator(".attachment-social input[data-key=author_name]")
    author.wait_for()
    assert author.input_value() == "Some One"
    author.fill("Someone Else")  # the snapshot can be corrected
    preview(page).locator(".block-social:has-text('Someone Else')").wait_for()

    page.click("summary:has-text('Photo')")
    page.set_input_files("#photo-file", str(photo))
    page.click("text=Add photo")
    assert "readers who cannot see it" in page.inner_text("#photo-alt-error")
    page.fill("#photo-alt", "Smoke over the airport")
    page.fill("#photo-credit", "Reuters")
    page.click("text=Add photo")
    preview(page).locator("img[alt='Smoke over the airport']").wait_for()

    page.click("summary:has-text('Map')")
    page.wait_for_selector("#map-picker.leaflet-container")
    page.fill("#marker-label", "Qomhana")
    page.fill("#marker-lat", "35.2094")
    page.fill("#marker-lon", "36.7539")
    page.click("text=Add marker")
    page.fill("#marker-label", "Clicked")
    page.click("#map-picker", position={"x": 60, "y": 60})
    page.wait_for_selector("#markers li:has-text('Clicked')")
    page.fill("#map-caption", "Northern Hama")
    page.click("text=Add map")
    preview(page).locator(".block-map").wait_for()

    page.click("button[data-status=published]")
    page.wait_for_selector("#composer-status:has-text('Published')")
    assert page.locator("#attachments li").count() == 0
    entry_id = item_showing(page, "What we know so far.")
    blocks = others.get(f"/api/v1/blogs/{BLOG}/entries/{entry_id}").get_json()["blocks"]
    assert [block["type"] for block in blocks] == ["text", "social", "image", "map"]
    assert blocks[1]["author_name"] == "Someone Else"
    assert (blocks[2]["alt"], blocks[2]["credit"]) == ("Smoke over the airport", "Reuters")
    assert blocks[3]["markers"][0] == {"lat": 35.2094, "lon": 36.7539, "label": "Qomhana"}
    assert blocks[3]["markers"][1]["label"] == "Clicked"
    assert blocks[3]["caption"] == "Northern Hama"


def tab_to(page, selector, limit=60):
    """Press Tab until ``selector`` has the focus: proof it is reachable by keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_an_editor_works_by_keyboard_alone(live_server, users, page):
    page.goto(f"{live_server}/editor/login")
    page.wait_for_selector("#email:focus")  # autofocus lands after the load event
    page.keyboard.type(users["editor"].email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/editor/")
    tab_to(page, f"a.blog-link[href='/editor/blogs/{BLOG}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/editor/blogs/{BLOG}/")
    page.wait_for_selector("#stream .item")

    tab_to(page, "#headline")
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Tab")
    page.keyboard.type("Every control is reachable.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#composer-status:has-text('Published')")
    entry_id = item_showing(page, "Typed without a mouse")

    tab_to(page, f"#item-{entry_id} button[data-act=edit]")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == f"edit-{entry_id}-headline"
    page.keyboard.press("End")
    page.keyboard.type(", edited")
    page.keyboard.press("Enter")
    reader(page, entry_id).locator(
        ".entry-headline", has_text="Typed without a mouse, edited"
    ).wait_for()
    tab_to(page, f"#item-{entry_id} button[data-act=delete]")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # changed my mind
    # The focus goes back to the button that opened the panel (the CSP rules out wait_for_function).
    page.wait_for_selector(f"#item-{entry_id} button[data-act=delete]:focus")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.textContent") == "Delete for good"
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#item-{entry_id}", state="detached")


def test_a_reporter_edits_their_profile_by_keyboard_and_the_page_has_no_axe_violations(
    live_server, users, page, tmp_path
):
    photo = tmp_path / "me.png"
    photo.write_bytes(image_bytes((300, 300), "PNG"))
    log_in_browser(page, live_server, users["contributor"].email)
    tab_to(page, "a[href='/editor/profile']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/editor/profile")
    if AXE.exists():
        assert axe_violations(page) == []

    tab_to(page, "#name")
    page.keyboard.press("Control+A")
    page.keyboard.type("Sami Nasser")
    page.keyboard.press("Tab")
    page.keyboard.type("Stringer, Hama")
    page.keyboard.press("Tab")
    page.keyboard.type("Reports from central Syria.")
    page.keyboard.press("Tab")
    page.keyboard.type("not a link")
    page.keyboard.press("Tab")
    page.keyboard.type("sami-nasser")
    page.set_input_files("#photo", str(photo))
    page.focus("#photo")
    page.keyboard.press("Tab")
    page.keyboard.type("Sami Nasser, in a blue jacket")
    page.keyboard.press("Enter")
    page.wait_for_selector("#links-error")
    page.problems.clear()  # the 422 itself is logged by the browser
    assert "Link 1 must be an http(s) URL" in page.inner_text("#links-error")
    assert page.get_attribute("#links", "aria-invalid") == "true"
    if AXE.exists():
        assert axe_violations(page) == []

    page.fill("#links", "https://example.org/sami")
    page.set_input_files("#photo", str(photo))
    page.focus("#links")
    tab_to(page, "button.primary")
    page.keyboard.press("Enter")
    page.wait_for_selector(".notice:has-text('Your profile is saved.')")
    assert page.get_attribute("img.profile-photo", "alt") == "Sami Nasser, in a blue jacket"
    if AXE.exists():
        assert axe_violations(page) == []

    page.goto(f"{live_server}/authors/sami-nasser")
    assert page.inner_text("h1") == "Sami Nasser"
    assert page.inner_text(".author-title") == "Stringer, Hama"
    if AXE.exists():
        assert axe_violations(page) == []


def test_the_composer_credits_co_authors(live_server, users, page):
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    # In the order the list shows the desk: by name.
    names = sorted([users["editor"].name, users["contributor"].name])
    page.select_option("#authors", label=names)
    page.fill("#headline", "Written by two")
    page.fill("#body", "Together.")
    preview(page).locator(".entry-author + .entry-author").wait_for()
    assert preview(page).locator(".entry-author-name").all_inner_texts() == names
    if AXE.exists():
        assert axe_violations(page) == []
    page.click("button.primary")
    page.wait_for_selector("#composer-status:has-text('Published')")
    page.goto(f"{live_server}/{BLOG}/")
    article = page.locator("article.entry", has_text="Written by two")
    assert article.locator(".entry-author-name").all_inner_texts() == names
