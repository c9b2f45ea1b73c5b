"""The composer's map picker, blog settings, reader-styled panes, the editors' stream and
presence, in headless Chromium under the strict Content-Security-Policy."""

import pytest

from liveblog import store
from tests import test_editor_browser as editor_browser
from tests.editor_helpers import log_in_browser
from tests.fakes import image_bytes
from tests.support import needs_chromium
from tests.test_editor_browser import BLOG

pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# The editor's browser tests' fixtures: a page that fails on console errors, and a user of
# each role.
page, users = editor_browser.page, editor_browser.users


def composer(page, live_server, users):
    log_in_browser(page, live_server, users["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")


PASTED = [
    ("geo:35.13,36.75", {"lat": 35.13, "lon": 36.75}),
    ("GEO:-33.8688,151.2093;u=35?z=14", {"lat": -33.8688, "lon": 151.2093, "zoom": 14}),
    ("35.13, 36.75", {"lat": 35.13, "lon": 36.75}),
    ("https://www.openstreetmap.org/#map=12/35.13/36.75", {"lat": 35.13, "lon": 36.75, "zoom": 12}),
    (
        "https://www.openstreetmap.org/?mlat=35.2094&mlon=36.7539#map=15/35.2/36.7",
        {"lat": 35.2094, "lon": 36.7539, "zoom": 15},
    ),
    ("https://www.google.com/maps/@35.13,36.75,12z", {"lat": 35.13, "lon": 36.75, "zoom": 12}),
    (
        "https://www.google.com/maps/place/Hama/@35.1,36.7,13z/data=!3m1!4b1!3d35.1318!4d36.7578",
        {"lat": 35.1318, "lon": 36.7578, "zoom": 13},
    ),
    ("https://maps.google.com/?q=35.13,36.75", {"lat": 35.13, "lon": 36.75}),
    ("https://www.google.com/maps/search/?api=1&query=35.13%2C36.75", {"lat": 35.13, "lon": 36.75}),
    ("https://www.openstreetmap.org/#map=12/95.0/36.75", None),
    ("geo:35.13,200", None),
    ("https://example.com/no/coordinates", None),
    ("Hama, Syria", None),
    ("javascript:35.13,36.75", None),
    ("", None),
]


def test_coordinates_are_read_from_pasted_links(live_server, users, page):
    composer(page, live_server, users)
    found = page.evaluate(
        "async ([url, texts]) => { const geo = await import(url);"
        " return texts.map(text => geo.coordinatesFrom(text)); }",
        [module_url(page, "geo.js"), [text for text, _ in PASTED]],
    )
    assert found == [expected for _, expected in PASTED]


def module_url(page, name):
    """The URL of one of the editor's modules, under the digest the page's own scripts use."""
    return page.get_attribute("script[type=module]", "src").rsplit("/", 1)[0] + "/" + name


def test_the_map_picker_starts_at_the_last_map_fits_markers_and_reads_links(
    live_server, tiles, users, page, tmp_path
):
    composer(page, live_server, users)
    page.click("summary:has-text('Map')")
    page.wait_for_selector("#map-picker.leaflet-container")
    # The demo's latest map is centred on northern Hama at zoom 10.
    view = page.evaluate("[...document.querySelectorAll('#map-picker')].map(m => m.dataset)")[0]
    assert (float(view["lat"]), float(view["lon"]), view["zoom"]) == (35.2, 36.7, "10")

    page.fill("#marker-label", "Qomhana")
    page.fill("#marker-lat", "35.2094")
    page.fill("#marker-lon", "36.7539")
    page.click("text=Add marker")
    page.wait_for_selector("#markers li:has-text('Qomhana: 35.2094, 36.7539')")
    for field in ("#marker-lat", "#marker-lon", "#marker-label", "#marker-link"):
        assert page.input_value(field) == "", field

    page.fill("#marker-label", "Hama")
    page.fill("#marker-link", "https://www.openstreetmap.org/#map=12/35.13/36.75")
    page.click("text=Add marker")
    page.wait_for_selector("#markers li:has-text('Hama: 35.13, 36.75')")
    assert page.input_value("#marker-link") == ""

    page.fill("#marker-link", "https://example.com/hama")
    page.keyboard.press("Enter")
    page.wait_for_selector("#marker-error:has-text('carries no coordinates')")
    page.fill("#marker-link", "geo:35.0,36.0")
    page.keyboard.press("Enter")
    page.wait_for_selector("#markers li:has-text('35, 36')")
    assert page.is_hidden("#marker-error")

    # Every marker is in view once the map has finished zooming to fit them.
    page.wait_for_function(
        """() => {
          const box = document.getElementById('map-picker').getBoundingClientRect();
          const markers = [...document.querySelectorAll('#map-picker .leaflet-interactive')];
          return markers.length === 3 && markers.every(m => {
            const r = m.getBoundingClientRect();
            return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
          });
        }""",
        timeout=5000,
    )

    page.fill("#map-caption", "Northern Hama")
    image = tmp_path / "map.png"
    image.write_bytes(image_bytes((640, 480), "PNG"))
    page.set_input_files("#map-image", str(image))
    page.fill("#map-image-alt", "Front lines north of Hama")
    page.click("text=Add map")
    card = page.locator(".attachment-map")
    card.wait_for()
    places = card.locator(".attachment-places li").all_inner_texts()
    assert places == ["Qomhana: 35.2094, 36.7539", "Hama: 35.13, 36.75", "35, 36"]
    thumbnail = card.locator("img.attachment-thumbnail")
    assert thumbnail.get_attribute("alt") == "Front lines north of Hama"
    assert thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") == 640


def test_a_new_blog_takes_a_preset_label_and_a_zone_from_the_list(
    live_server, users, page, session
):
    log_in_browser(page, live_server, users["admin"].email)
    page.wait_for_selector("#label-example:has-text('A label posted now reads: UPDATE ')")
    assert page.is_hidden("#label_format")
    page.fill("#timezone", "Asia/Tokyo")
    page.wait_for_selector("#label-example:has-text(' JST')")
    page.select_option("#label_preset", "%H:%M %Z")
    page.wait_for_selector("#label-example:text-matches('reads: \\\\d\\\\d:\\\\d\\\\d JST$')")
    assert page.is_hidden("#label_format")

    page.select_option("#label_preset", "custom")
    assert page.evaluate("document.activeElement.id") == "label_format"
    page.fill("#label_format", "FLASH %H%M %Q")
    page.wait_for_selector("#label-example.error:has-text('may only use the directives')")
    page.fill("#label_format", "FLASH %H%M")
    page.fill("#timezone", "Asia/Tokio")
    page.wait_for_selector("#label-example.error:has-text('use an IANA name')")
    page.problems.clear()  # the browser logs the 400s
    assert page.evaluate("document.querySelectorAll('#zones option').length") > 400

    page.fill("#timezone", "Asia/Tokyo")
    page.wait_for_selector("#label-example:text-matches('reads: FLASH \\\\d{4}$')")
    page.fill("#title", "Typhoon Lan")
    page.click("text=Create live blog")
    page.wait_for_url(f"{live_server}/editor/blogs/typhoon-lan/")
    blog = store.get_blog(session, "typhoon-lan")
    assert (blog.timezone, blog.label_format) == ("Asia/Tokyo", "FLASH %H%M")


@pytest.fixture
def others(client, session):
    """Another editor and a contributor working through the API at the same time."""
    desk = editor_browser.ApiClient(client, session)
    return {"editor": desk.as_role("editor"), "contributor": desk.as_role("contributor")}


def item(page, entry_id):
    return page.locator(f"#item-{entry_id}")


def test_the_stream_follows_the_editors_event_stream_without_polling(
    live_server, users, others, page
):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    composer(page, live_server, users)
    page.wait_for_selector("#stream .item")
    assert "2017" in page.locator("#stream .item .item-date").first.inner_text()

    draft = others["editor"].post_entry(BLOG, body="Unconfirmed: a second column.", status="draft")
    page.wait_for_selector(f"#item-{draft['id']} .status:has-text('Draft')")
    assert page.locator("#stream .item").first.get_attribute("data-id") == str(draft["id"])
    assert others["editor"].edit_entry(draft, status="published").status_code == 200
    page.wait_for_selector(f"#item-{draft['id']} .status:has-text('Published')")
    current = others["editor"].get(f"/api/v1/blogs/{BLOG}/entries/{draft['id']}").get_json()
    others["editor"].delete(
        f"/api/v1/blogs/{BLOG}/entries/{draft['id']}",
        headers={"If-Match": f'"{current["version"]}"'},
    )
    page.wait_for_selector(f"#item-{draft['id']}", state="detached")

    page.wait_for_timeout(2500)  # long enough for the old stream's polls to show
    assert [url for url in requested if "/entries?" in url] == []
    assert [url for url in requested if url.endswith(f"/editor/blogs/{BLOG}/events")] == [
        f"{live_server}/editor/blogs/{BLOG}/events"
    ]


def shown(page):
    return [
        int(entry_id)
        for entry_id in page.eval_on_selector_all(
            "#stream .item:not([hidden])", "items => items.map(i => i.dataset.id)"
        )
    ]


def test_filters_search_and_long_updates(live_server, users, others, page):
    editor, contributor = others["editor"], others["contributor"]
    draft = editor.post_entry(BLOG, body="Draft about the citadel.", status="draft")
    review = contributor.post_entry(
        BLOG, body="Checkpoint moved.", status="draft", review="pending"
    )
    key = editor.post_entry(BLOG, body="Ceasefire announced.", key_event=True)
    pinned = editor.post_entry(BLOG, headline="Read this first", body="Summary.", pinned=True)
    long = editor.post_entry(BLOG, body="\n\n".join(["A long paragraph of reporting."] * 40))
    composer(page, live_server, users)
    page.wait_for_selector(f"#item-{long['id']}")

    page.check("#filter-drafts")
    assert set(shown(page)) >= {draft["id"], review["id"]} and key["id"] not in shown(page)
    page.check("#filter-review")
    assert shown(page) == [review["id"]]
    assert page.inner_text("#stream-count").startswith("1 of ")
    page.check("#filter-key")
    assert key["id"] in shown(page) and draft["id"] not in shown(page)
    page.check("#filter-pinned")
    assert shown(page) == [pinned["id"]]
    page.check("#filter-all")
    page.fill("#stream-search", "CITADEL draft")
    assert shown(page) == [draft["id"]]
    page.fill("#stream-search", "")
    assert set(shown(page)) >= {draft["id"], review["id"], key["id"], pinned["id"], long["id"]}

    body = page.locator(f"#item-body-{long['id']}")
    assert "collapsed" in body.get_attribute("class")
    assert body.bounding_box()["height"] < 250
    toggle = item(page, long["id"]).locator("button[data-expand]")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert "collapsed" not in body.get_attribute("class")
    assert body.bounding_box()["height"] > 600
    assert item(page, key["id"]).locator("button[data-expand]").count() == 0


def test_editors_see_who_else_is_editing_an_update(live_server, users, browser, page):
    composer(page, live_server, users)
    entry_id = page.locator("#stream .item").first.get_attribute("data-id")
    desk = browser.new_context().new_page()
    desk.problems = editor_browser.watch(desk)
    log_in_browser(desk, live_server, users["admin"].email)
    desk.goto(f"{live_server}/editor/blogs/{BLOG}/")
    desk.wait_for_selector(f"#item-{entry_id}")

    item(page, entry_id).locator("button[data-act=edit]").click()
    notice = desk.locator(f"#item-{entry_id} .item-presence")
    notice.wait_for()
    assert notice.inner_text() == f"{users['editor'].name} is editing this update"
    assert page.locator(".item-presence").count() == 0  # not shown to the one editing

    item(page, entry_id).locator("button[data-act=cancel]").click()
    notice.wait_for(state="detached")

    item(page, entry_id).locator("button[data-act=edit]").click()
    notice.wait_for()
    page.goto(f"{live_server}/editor/")  # leaving the page clears the mark too
    notice.wait_for(state="detached")
    assert desk.problems == []


STYLES = "node => { const s = getComputedStyle(node); return [s.fontFamily, s.fontSize, s.fontWeight, s.color, s.lineHeight]; }"


def test_the_preview_and_the_stream_look_as_the_live_page_does_maps_included(
    live_server, tiles, users, page
):
    composer(page, live_server, users)
    page.fill("#headline", "Rebels reach the airport")
    page.fill("#body", "Fighting near the runway.")
    page.click("summary:has-text('Map')")
    page.wait_for_selector("#map-picker.leaflet-container")
    page.fill("#marker-link", "geo:35.13,36.75")
    page.click("text=Add marker")
    page.fill("#map-caption", "The airport")
    page.fill("#map-credit", "OpenStreetMap")
    page.click("text=Add map")
    preview = editor_browser.preview(page)
    # As on the live page, a map comes to life as it scrolls into view.
    preview.locator(".block-map").scroll_into_view_if_needed()
    preview.locator(".block-map[data-map-state=live]").wait_for()
    preview.locator(".entry-headline").wait_for()
    in_preview = {
        selector: preview.locator(selector).evaluate(STYLES)
        for selector in (".entry-headline", ".entry-body p", ".entry-label", ".block-map .credit")
    }
    assert "Georgia" in in_preview[".entry-body p"][0]

    page.click("button[data-status=published]")
    page.wait_for_selector("#composer-status:has-text('Published')")
    entry_id = editor_browser.item_showing(page, "Fighting near the runway.")
    in_stream = editor_browser.reader(page, entry_id)
    in_stream.locator(".block-map").scroll_into_view_if_needed()
    in_stream.locator(".block-map[data-map-state=live]").wait_for()
    assert {
        selector: in_stream.locator(selector).evaluate(STYLES) for selector in in_preview
    } == in_preview
    page.goto(f"{live_server}/{BLOG}/")
    published = page.locator("article.entry", has_text="Rebels reach the airport")
    on_the_page = {
        selector: published.locator(selector).evaluate(STYLES) for selector in in_preview
    }
    assert in_preview == on_the_page
