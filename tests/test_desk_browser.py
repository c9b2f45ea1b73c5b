"""The blog's Desk section and its deletion, in headless Chromium under the strict CSP."""

import pytest

from tests.editor_helpers import axe_violations
from tests.editor_helpers import log_in_browser
from tests.factories import make_user
from tests.support import needs_chromium
from tests.test_editor_browser import BLOG
from tests.test_editor_browser import page  # noqa: F401 (a fixture)
from tests.test_editor_browser import tab_to

pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

pytestmark = [needs_chromium, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def people(live_server, session):
    """An editor on the demo blog's desk, and two people on no desk: an editor and a
    contributor (made after the demo blog, so on its desk only if asked)."""
    return {
        "editor": make_user(session, "editor", name="Rima Editor"),
        "admin": make_user(session, "admin", name="Desk Admin"),
        "outsider": make_user(session, "editor", on_desks=False, name="Omar Outsider"),
        "stringer": make_user(session, "contributor", on_desks=False, name="Sami Stringer"),
    }


def test_an_editor_adds_and_removes_a_member_by_keyboard(live_server, people, page):  # noqa: F811
    log_in_browser(page, live_server, people["editor"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    page.wait_for_selector("#stream .item")
    members = page.locator("#desk table.members")
    assert "Rima Editor" in members.inner_text() and "Sami Stringer" not in members.inner_text()
    assert page.locator("#delete-form").count() == 0  # only admins delete blogs
    assert axe_violations(page) == []

    tab_to(page, "#desk-user", limit=300)
    label = page.locator("#desk-user option", has_text="Sami Stringer").inner_text()
    page.keyboard.type("Sami")  # a select picks the option typed
    assert page.evaluate("document.activeElement.selectedOptions[0].text") == label
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "desk-role"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#desk .notice:has-text('Sami Stringer is now on the desk')")
    row = page.locator(".member-row", has_text="Sami Stringer")
    assert row.locator("select").input_value() == "contributor"
    assert axe_violations(page) == []

    # A contributor cannot be made an editor here: the desk says why.
    row.locator("select").select_option("editor")
    row.locator("button", has_text="Change role").click()
    page.wait_for_selector("#desk-error")
    assert "cannot be editor: Sami Stringer is a contributor" in page.inner_text("#desk-error")
    page.problems.clear()  # the 422 itself is logged by the browser

    tab_to(page, f"#member-{people['stringer'].id} td:last-child button", limit=300)
    page.keyboard.press("Enter")
    page.wait_for_selector("#desk .notice:has-text('Sami Stringer is no longer on the desk')")
    assert page.locator(".member-row", has_text="Sami Stringer").count() == 0


def test_an_admin_deletes_a_blog_after_typing_its_slug(live_server, people, page):  # noqa: F811
    log_in_browser(page, live_server, people["admin"].email)
    page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    button = page.locator("#delete-button")
    assert button.is_disabled()
    assert axe_violations(page) == []
    page.fill("#delete-confirm", BLOG[:-1])
    assert button.is_disabled()
    tab_to(page, "#delete-confirm", limit=300)
    page.keyboard.press("End")
    page.keyboard.type(BLOG[-1])
    assert button.is_enabled()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/editor/")
    assert page.locator(f".blog-row[data-slug={BLOG}]").count() == 0
    reader = page.goto(f"{live_server}/{BLOG}/")
    assert reader.status == 410
    assert "This live blog has been removed" in page.inner_text("main")
    page.problems.clear()  # the 410 itself is logged by the browser


def test_an_editor_off_the_desk_is_refused_in_the_browser(live_server, people, page):  # noqa: F811
    log_in_browser(page, live_server, people["outsider"].email)
    assert page.locator(f".blog-row[data-slug={BLOG}]").count() == 0
    response = page.goto(f"{live_server}/editor/blogs/{BLOG}/")
    assert response.status == 403
    assert f"You are not on the desk of the live blog '{BLOG}'" in page.inner_text("main")
    assert page.locator("#composer").count() == 0
    page.problems.clear()  # the 403 itself is logged by the browser
