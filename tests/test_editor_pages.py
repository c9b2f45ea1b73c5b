"""The editor's dashboard and compose page, and the preview endpoint, through the test client."""

import io

import pytest

from tests.editor_helpers import EditorClient
from tests.factories import assert_problem
from tests.factories import make_blog
from tests.fakes import image_bytes
from tests.support import soup


@pytest.fixture
def as_admin(client, admin):
    editor_client = EditorClient(client)
    editor_client.log_in(admin.email)
    return editor_client


@pytest.fixture
def as_editor(client, editor):
    editor_client = EditorClient(client)
    editor_client.log_in(editor.email)
    return editor_client


@pytest.mark.parametrize("path", ["/editor/", "/editor/blogs/hama/", "/editor/admin/users"])
def test_every_editor_page_is_html_that_no_one_caches(as_admin, api, path):
    response = as_admin.client.get(path)
    assert (response.status_code, response.content_type) == (200, "text/html; charset=utf-8")
    assert response.headers["Cache-Control"] == "no-store"
    login = as_admin.client.application.test_client().get("/editor/login")
    assert login.content_type == "text/html; charset=utf-8"


def test_the_dashboard_lists_live_blogs_first_with_their_latest_update(as_editor, session, api):
    make_blog(session, slug="old-story", title="Old story", status="ended")
    api.post_entry(body="First")
    page = soup(as_editor.client.get("/editor/"))
    rows = page.select(".blog-row")
    assert [row["data-slug"] for row in rows][0] == "hama"
    assert "Latest update" in rows[0].select_one(".latest").text
    assert rows[0].select_one("a.blog-link")["href"] == "/editor/blogs/hama/"
    assert page.select_one("form.blog-form") is None  # only admins create blogs


def test_an_admin_creates_a_blog_with_a_suggested_slug_and_a_top_photo(as_admin, session):
    form = {
        "title": "Élections: le second tour",
        "slug": "",
        "timezone": "Europe/Paris",
        "label_format": "UPDATE %H%M %Z",
        "theme": "default",
        "status": "live",
        "alt": "Voters queue outside a school",
        "caption": "Lyon, this morning",
        "credit": "AFP",
        "photo": (io.BytesIO(image_bytes((800, 600), "JPEG")), "photo.jpg"),
    }
    response = as_admin.post("/editor/blogs", form, content_type="multipart/form-data")
    assert response.status_code == 303
    assert response.headers["Location"] == "/editor/blogs/elections-le-second-tour/"
    blog = as_admin.client.get(
        "/api/v1/blogs/elections-le-second-tour", headers={"X-CSRF-Token": as_admin.csrf}
    ).get_json()
    assert blog["timezone"] == "Europe/Paris" and blog["status"] == "live"
    assert blog["top_image"]["alt"] == "Voters queue outside a school"
    assert blog["top_image"]["credit"] == "AFP"
    assert blog["top_image"]["url"].startswith("/media/uploads/")


def test_blog_form_errors_show_next_to_their_fields(as_admin):
    form = {
        "title": "Hama",
        "slug": "Not A Slug",
        "timezone": "Mars/Olympus",
        "photo": (io.BytesIO(image_bytes((40, 30), "PNG")), "photo.png"),
    }
    response = as_admin.post("/editor/blogs", form, content_type="multipart/form-data")
    assert response.status_code == 422
    page = soup(response)
    assert "required" in page.select_one("#alt-error").text
    response = as_admin.post("/editor/blogs", {k: v for k, v in form.items() if k != "photo"})
    page = soup(response)
    assert "lowercase" in page.select_one("#slug-error").text
    assert page.select_one("#slug")["aria-describedby"] == "slug-error"
    assert page.select_one("#timezone-error").text.startswith("Timezone")
    assert page.select_one("#title")["value"] == "Hama"  # what was typed is kept


def test_only_admins_create_blogs_or_change_their_status(as_editor, api):
    response = as_editor.post("/editor/blogs", {"title": "Mine"})
    assert response.status_code == 403
    assert "Only admins" in soup(response).select_one("[role=alert]").text
    assert as_editor.post("/editor/blogs/hama/status", {"status": "ended"}).status_code == 403


def test_an_admin_ends_and_reopens_a_blog(as_admin, api):
    assert as_admin.post("/editor/blogs/hama/status", {"status": "ended"}).status_code == 303
    assert api.get("/api/v1/blogs/hama").get_json()["status"] == "ended"
    row = soup(as_admin.client.get("/editor/")).select_one(".blog-row-ended")
    assert row.select_one("button").text.startswith("Reopen")


def test_an_admin_chooses_how_an_ended_blog_is_read(as_admin, api):
    created = as_admin.post("/editor/blogs", {"title": "A story", "ended_order": "oldest"})
    assert created.status_code == 303
    new = api.as_role("admin").get("/api/v1/blogs/a-story")  # its desk holds only its creator
    assert new.get_json()["ended_order"] == "oldest"
    row = soup(as_admin.client.get("/editor/")).select_one('.blog-row[data-slug="hama"]')
    choice = row.select_one("select[name=ended_order]")
    assert row.select_one(f"label[for={choice['id']}]").text == "Once ended, readers start with"
    assert choice.select_one("option[selected]")["value"] == "newest"
    ending = {"status": "ended", "ended_order": "oldest"}
    assert as_admin.post("/editor/blogs/hama/status", ending).status_code == 303
    blog = api.get("/api/v1/blogs/hama").get_json()
    assert (blog["status"], blog["ended_order"]) == ("ended", "oldest")
    row = soup(as_admin.client.get("/editor/")).select_one('.blog-row[data-slug="hama"]')
    forms = row.select("form")
    assert [f.select_one("button").text.split()[0] for f in forms] == ["Reopen", "Save"]
    assert forms[1].select_one("option[selected]")["value"] == "oldest"
    assert as_admin.post("/editor/blogs/hama/status", {"ended_order": "newest"}).status_code == 303
    blog = api.get("/api/v1/blogs/hama").get_json()
    assert (blog["status"], blog["ended_order"]) == ("ended", "newest")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"ended_order": "sideways"}, "Ended order must be one of: newest, oldest"),
        ({}, "Status is required"),
    ],
)
def test_a_blog_setting_that_does_not_exist_is_refused(as_admin, api, form, message):
    response = as_admin.post("/editor/blogs/hama/status", form)
    assert response.status_code == 422
    assert message in soup(response).select_one("[role=alert]").text
    assert api.get("/api/v1/blogs/hama").get_json()["ended_order"] == "newest"


def test_the_compose_page_offers_publishing_to_editors(as_editor, api):
    page = soup(as_editor.client.get("/editor/blogs/hama/"))
    assert page.select_one("#editor")["data-api"] == "/api/v1/blogs/hama"
    buttons = {b["data-status"]: b.text for b in page.select("#composer button[data-status]")}
    assert buttons == {"published": "Publish now", "scheduled": "Schedule", "draft": "Save draft"}
    for control in page.select("#composer input, #composer textarea"):
        assert page.select_one(f"label[for={control['id']}]"), control
    assert as_editor.client.get("/editor/blogs/nowhere/").status_code == 404


def test_editor_assets_are_cached_by_content(as_editor):
    page = soup(as_editor.client.get("/editor/"))
    script = page.select_one("script[src]")["src"]
    assert script.startswith("/editor/static/") and script.endswith("/editor.js")
    response = as_editor.client.get(script)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    response.close()
    assert as_editor.client.get("/editor/static/x/missing.js").status_code == 404


def test_the_preview_renders_an_unsaved_entry_through_the_theme_partial(as_editor, api):
    response = as_editor.api(
        "POST",
        "/api/v1/blogs/hama/preview",
        json={
            "headline": "Rebels enter Hama",
            "body": "Fighting **near** the airport.",
            "published_at": "2017-03-24T07:45:00Z",
            "key_event": True,
        },
    )
    assert response.status_code == 200
    preview = response.get_json()
    assert preview["label"] == "UPDATE 0745 GMT"
    html = soup(preview["html"])
    assert html.select_one("article.entry.entry-key-event .entry-label").text == "UPDATE 0745 GMT"
    assert html.select_one(".entry-headline").text == "Rebels enter Hama"
    assert "<strong>near</strong>" in preview["html"]
    # Nothing was saved.
    assert api.get("/api/v1/blogs/hama/entries").get_json()["items"] == []


def test_preview_errors_name_the_field(api):
    problem = assert_problem(api.post("/api/v1/blogs/hama/preview", json={"body": ""}), 422)
    assert problem["errors"][0]["field"] == "body"
    reader = api.as_role("contributor")
    assert reader.post("/api/v1/blogs/hama/preview", json={"body": "x"}).status_code == 200


def test_the_composer_sends_its_text_and_added_blocks_together(api):
    entry = api.post_entry(
        body="Smoke over the city.\n\nhttps://x.com/someone/status/1234567890",
        blocks=[{"type": "image", "url": "/media/uploads/a.png", "alt": "Smoke"}],
    )
    assert [block["type"] for block in entry["blocks"]] == ["text", "social", "image"]
    response = api.post(
        "/api/v1/blogs/hama/entries",
        json={"body": "Text", "blocks": [{"type": "image", "url": "/media/uploads/a.png"}]},
    )
    problem = assert_problem(response, 422)
    assert problem["errors"] == [{"field": "blocks[0].alt", "message": "is required"}]
