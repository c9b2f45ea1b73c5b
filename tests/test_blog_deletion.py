"""Deleting a blog: admins only, at its ETag; readers get 410 everywhere, the rest stays."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from liveblog import publishing
from liveblog.models import Blog
from liveblog.models import Change
from liveblog.models import Entry
from liveblog.models import utcnow
from tests.factories import assert_problem
from tests.factories import changes
from tests.fakes import image_bytes

BLOG = "/api/v1/blogs/hama"


def etag(api, path=BLOG):
    response = api.get(path)
    assert response.status_code == 200
    return response.headers["ETag"]


def delete(api, tag, slug="hama"):
    headers = {} if tag is None else {"If-Match": tag}
    return api.delete(f"/api/v1/blogs/{slug}", headers=headers)


def logged(session, slug="hama"):
    """(seq, kind, entry id) of every change of a blog, deleted or not, read afresh."""
    session.rollback()
    blog = session.scalars(select(Blog).where(Blog.slug == slug)).one()
    query = select(Change.seq, Change.kind, Change.entry_id).where(Change.blog_id == blog.id)
    return [tuple(row) for row in session.execute(query.order_by(Change.seq))]


@pytest.fixture
def admin(api):
    return api.as_role("admin")


def upload(api, color):
    response = api.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(image_bytes((600, 400), "PNG", color)), "photo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    return response.get_json()


def image_block(photo):
    return {"type": "image", "url": photo["url"], "alt": "A photo", "width": 600, "height": 400}


# The API


def test_deleting_needs_the_blogs_current_etag(admin, session):
    tag = etag(admin)
    problem = assert_problem(delete(admin, None), 428)
    assert "If-Match" in problem["detail"]
    admin.patch(BLOG, json={"title": "Hama, day 2"})
    assert "has changed since you loaded it" in assert_problem(delete(admin, tag), 412)["detail"]
    assert etag(admin) != tag
    assert admin.get(BLOG).get_json()["status"] == "live"
    before = changes(session)
    assert delete(admin, etag(admin)).status_code == 204
    assert logged(session)[:-1] == before
    assert logged(session)[-1][1:] == ("blog.updated", None)
    blog = session.scalars(select(Blog).where(Blog.slug == "hama")).one()
    assert blog.status == "deleted" and blog.deleted_at is not None  # kept, not erased


@pytest.mark.parametrize("role", ["contributor", "editor"])
def test_only_admins_delete_blogs(api, role):
    caller = api if role == "editor" else api.as_role(role)
    problem = assert_problem(delete(caller, etag(caller)), 403)
    assert problem["detail"] == "Only admins can delete live blogs."
    assert api.get(BLOG).get_json()["status"] == "live"


def test_a_deleted_blog_is_gone_from_the_api_and_its_slug_stays_reserved(api, admin):
    entry = api.post_entry()
    assert delete(admin, etag(admin)).status_code == 204
    for caller in (admin, api):
        for path in (BLOG, f"{BLOG}/entries", f"{BLOG}/entries/{entry['id']}", f"{BLOG}/members"):
            problem = assert_problem(caller.get(path), 410)
            assert problem["detail"] == "The live blog 'hama' has been deleted by the newsroom."
        assert "hama" not in [b["slug"] for b in caller.get("/api/v1/blogs").get_json()["items"]]
    assert_problem(api.post(f"{BLOG}/entries", json={"body": "Late."}), 410)
    assert_problem(delete(admin, "*"), 410)
    again = admin.post("/api/v1/blogs", json={"slug": "hama", "title": "Hama again"})
    problem = assert_problem(again, 409)
    assert "belonged to a live blog that was deleted" in problem["detail"]


def test_other_blogs_are_untouched(api, admin, client, session):
    admin.post("/api/v1/blogs", json={"slug": "aleppo", "title": "Aleppo", "status": "live"})
    api.as_user(api.user)  # on the new desk too
    other = api.post_entry(blog="aleppo", body="Meanwhile in Aleppo.")
    before = changes(session, "aleppo")
    assert delete(admin, etag(admin)).status_code == 204
    assert changes(session, "aleppo") == before
    assert client.get("/aleppo/").status_code == 200
    assert client.get(f"/aleppo/updates/{other['id']}").status_code == 200
    assert api.get("/api/v1/blogs/aleppo").get_json()["status"] == "live"


def test_a_deleted_blogs_scheduled_entries_are_never_published(app, api, admin, session):
    due = utcnow() + timedelta(minutes=5)
    entry = api.post_entry(status="scheduled", published_at=due.isoformat())
    assert delete(admin, etag(admin)).status_code == 204
    before = logged(session)
    assert publishing.publish_due_entries(session, due + timedelta(minutes=1)) == 0
    session.rollback()
    assert session.get(Entry, entry["id"]).status == "scheduled"
    assert logged(session) == before


# What readers get


def reader_paths(entry_id):
    return [
        "/hama/",
        "/hama/?before=MjAxNy0wMy0yNFQwNzo0NTowMCswMDowMHwx",
        f"/hama/updates/{entry_id}",
        "/hama/feed.atom",
        "/hama/feed.rss",
        "/hama/feed.json",
        "/hama/key-events.atom",
        "/hama/key-events.rss",
        "/hama/key-events.json",
        "/hama/embed",
        "/hama/embed?teaser=3",
        f"/hama/embed?update={entry_id}",
        "/oembed?url=https://news.example/hama/&format=json",
        f"/oembed?url=https://news.example/hama/updates/{entry_id}&format=json",
        "/hama/changes?since=0",
        "/hama/events",
    ]


def test_every_reader_surface_answers_410(api, admin, client):
    entry = api.post_entry(headline="Assault on Qomhana", key_event=True)
    for path in reader_paths(entry["id"]):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()
    assert delete(admin, etag(admin)).status_code == 204
    for path in reader_paths(entry["id"]):
        response = client.get(path)
        assert response.status_code == 410, path
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            assert "This live blog has been removed" in text, path
            assert "Assault on Qomhana" not in text, path
        else:
            assert response.mimetype == "application/problem+json", path
    assert client.get("/hama/seq").headers["Liveblog-Seq"] == "0"
    assert "hama" not in client.get("/").get_data(as_text=True)


# Uploads


def test_its_own_uploads_stop_being_served_but_shared_ones_stay(app, api, admin, client):
    own, shared, top = upload(api, "teal"), upload(api, "navy"), upload(api, "olive")
    admin.patch(BLOG, json={"top_image": {"url": top["url"], "alt": "Hama at dawn"}})
    api.post_entry(blocks=[image_block(own), image_block(shared)])
    admin.post("/api/v1/blogs", json={"slug": "aleppo", "title": "Aleppo", "status": "live"})
    api.as_user(api.user)
    api.post_entry(blog="aleppo", blocks=[image_block(shared)])
    narrower = own["sizes"][0]["url"]
    for photo in (own["url"], narrower, shared["url"], top["url"]):
        response = client.get(photo)
        assert response.status_code == 200, photo
        response.close()

    assert delete(admin, etag(admin)).status_code == 204
    for gone in (own["url"], narrower, top["url"]):
        assert client.get(gone).status_code == 404, gone
    kept = client.get(shared["url"])
    assert kept.status_code == 200
    kept.close()
    media = Path(app.config["MEDIA_PATH"])
    name = own["url"].rsplit("/", 1)[1]
    assert (media / "withdrawn" / name).is_file()  # set aside, not erased
    assert client.get(f"/media/withdrawn/{name}").status_code == 404


def test_a_blog_image_used_in_another_blogs_old_version_is_kept(app, api, admin, client):
    photo = upload(api, "maroon")
    api.post_entry(blocks=[image_block(photo)])
    admin.post("/api/v1/blogs", json={"slug": "aleppo", "title": "Aleppo", "status": "live"})
    api.as_user(api.user)
    entry = api.post_entry(blog="aleppo", blocks=[image_block(photo)])
    assert api.edit_entry(entry, body="No photo after all.").status_code == 200
    assert delete(admin, etag(admin)).status_code == 204
    response = client.get(photo["url"])
    assert response.status_code == 200  # its history could bring the photo back
    response.close()


def test_the_gone_page_is_the_blogs_theme_in_its_language(api, admin, client):
    admin.patch(BLOG, json={"language": "ar", "theme": "ticker"})
    assert delete(admin, etag(admin)).status_code == 204
    page = client.get("/hama/")
    assert page.status_code == 410
    assert '<html lang="ar"' in page.get_data(as_text=True)
