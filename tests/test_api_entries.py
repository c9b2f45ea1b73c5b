"""The editor API for entries: create, read, edit with If-Match, delete, revisions, pins."""

from liveblog import store
from liveblog.models import Change


def changes(session, slug="hama"):
    """(seq, kind, entry id) of every change, read afresh (ending any older snapshot)."""
    session.rollback()
    blog = store.get_blog(session, slug)
    return [(c.seq, c.kind, c.entry_id) for c in store.changes_since(session, blog, 0)]


def test_create_entry_returns_it_with_label_and_permalink(api):
    response = api.post(
        "/api/v1/blogs/hama/entries",
        json={
            "headline": "Assault on Qomhana",
            "body": "Rebels **advance**.",
            "published_at": "2017-03-24T07:45:00Z",
        },
    )
    assert response.status_code == 201
    entry = response.get_json()
    assert response.headers["Location"] == f"/api/v1/blogs/hama/entries/{entry['id']}"
    assert response.headers["ETag"] == '"1"'
    assert entry["label"] == "UPDATE 0745 GMT"
    assert entry["version"] == 1
    assert entry["status"] == "published"
    assert entry["permalink"] == f"https://news.example/hama/updates/{entry['id']}"
    assert "<strong>advance</strong>" in entry["html"]
    assert entry["blocks"] == [{"type": "text", "markdown": "Rebels **advance**."}]


def test_publishing_appends_a_change(api, session):
    entry = api.post_entry()
    assert changes(session) == [(1, "entry.published", entry["id"])]


def test_bare_social_and_video_urls_become_blocks(api):
    body = "Watch this:\n\nhttps://x.com/someone/status/123456\n\nAnd:\n\nhttps://youtu.be/dQw4w9WgXcQ\n\nDone."
    entry = api.post_entry(body=body)
    assert [block["type"] for block in entry["blocks"]] == [
        "text",
        "social",
        "text",
        "video",
        "text",
    ]
    assert entry["blocks"][1] == {
        "type": "social",
        "url": "https://x.com/someone/status/123456",
        "provider": "x",
    }
    assert entry["blocks"][3]["provider"] == "youtube"


def test_label_follows_the_blogs_time_zone(api):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"timezone": "Europe/London"})
    entry = api.post_entry(published_at="2017-07-01T07:45:00Z")
    assert entry["label"] == "UPDATE 0845 BST"


def test_edit_needs_the_current_version(api, session):
    entry = api.post_entry()
    path = f"/api/v1/blogs/hama/entries/{entry['id']}"

    missing = api.patch(path, json={"headline": "New"})
    assert missing.status_code == 428
    assert missing.mimetype == "application/problem+json"

    edited = api.edit_entry(entry, headline="New")
    assert edited.status_code == 200
    assert edited.get_json()["version"] == 2
    assert edited.headers["ETag"] == '"2"'

    stale = api.edit_entry(entry, headline="Lost update")
    assert stale.status_code == 412
    assert "reload" in stale.get_json()["detail"]
    assert api.get(path).get_json()["headline"] == "New"
    assert changes(session)[-1] == (2, "entry.updated", entry["id"])


def test_two_editors_on_one_version_one_wins(api):
    entry = api.post_entry()
    other = api.as_role("editor")
    first = api.edit_entry(entry, body="First editor's text")
    second = other.edit_entry(entry, body="Second editor's text")
    assert (first.status_code, second.status_code) == (200, 412)
    current = api.get(f"/api/v1/blogs/hama/entries/{entry['id']}").get_json()
    assert current["blocks"][0]["markdown"] == "First editor's text"


def test_an_edit_that_changes_nothing_keeps_the_version(api, session):
    entry = api.post_entry(headline="Same")
    response = api.edit_entry(entry, headline="Same")
    assert response.get_json()["version"] == 1
    assert len(changes(session)) == 1


def test_editing_a_published_entry_marks_it_edited_and_keeps_revisions(api):
    entry = api.post_entry(body="Fist version")
    edited = api.edit_entry(entry, body="First version").get_json()
    assert edited["edited_at"] is not None
    revisions = api.get(f"/api/v1/blogs/hama/entries/{entry['id']}/revisions").get_json()["items"]
    assert [r["version"] for r in revisions] == [2, 1]
    assert revisions[1]["blocks"][0]["markdown"] == "Fist version"
    assert revisions[0]["editor"]["id"] == api.user.id


def test_correcting_the_time_resorts_the_entry(api):
    early = api.post_entry(published_at="2017-03-24T07:00:00Z")
    late = api.post_entry(published_at="2017-03-24T08:00:00Z")
    api.edit_entry(early, published_at="2017-03-24T09:00:00Z")
    listing = api.get("/api/v1/blogs/hama/entries").get_json()["items"]
    assert [e["id"] for e in listing] == [early["id"], late["id"]]
    assert listing[0]["label"] == "UPDATE 0900 GMT"


def test_delete_leaves_a_tombstone_the_change_log_reports(api, session):
    entry = api.post_entry()
    path = f"/api/v1/blogs/hama/entries/{entry['id']}"
    assert api.delete(path).status_code == 428
    assert api.delete(path, headers={"If-Match": '"7"'}).status_code == 412
    assert api.delete(path, headers={"If-Match": '"1"'}).status_code == 204
    tombstone = api.get(path).get_json()
    assert tombstone["status"] == "deleted"
    assert changes(session)[-1] == (2, "entry.deleted", entry["id"])
    again = api.delete(path, headers={"If-Match": f'"{tombstone["version"]}"'})
    assert again.status_code == 409
    assert api.edit_entry(tombstone, headline="Back").status_code == 409


def test_pinning_unpins_the_previous_entry(api, session):
    first = api.post_entry(pinned=True)
    second = api.post_entry()
    pinned = api.edit_entry(second, pinned=True).get_json()
    assert pinned["pinned"] is True
    assert api.get(f"/api/v1/blogs/hama/entries/{first['id']}").get_json()["pinned"] is False
    assert changes(session)[-2:] == [
        (3, "entry.unpinned", first["id"]),
        (4, "entry.pinned", second["id"]),
    ]
    unpinned = api.edit_entry(pinned, pinned=False)
    assert unpinned.get_json()["pinned"] is False
    assert changes(session)[-1] == (5, "entry.unpinned", second["id"])


def test_drafts_are_not_in_the_change_log_until_published(api, session):
    draft = api.post_entry(status="draft")
    assert draft["published_at"] is None and draft["label"] is None
    assert changes(session) == []
    published = api.edit_entry(draft, status="published").get_json()
    assert published["published_at"] is not None
    assert changes(session) == [(1, "entry.published", draft["id"])]
    unpublished = api.edit_entry(published, status="draft").get_json()
    assert unpublished["status"] == "draft"
    assert changes(session)[-1] == (2, "entry.deleted", draft["id"])


def test_future_times_need_status_scheduled(api):
    response = api.post(
        "/api/v1/blogs/hama/entries", json={"body": "x", "published_at": "2999-01-01T00:00:00Z"}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "field": "published_at",
            "message": 'is in the future; use status "scheduled" to publish later',
        }
    ]
    past = api.post(
        "/api/v1/blogs/hama/entries",
        json={"body": "x", "status": "scheduled", "published_at": "2001-01-01T00:00:00Z"},
    )
    assert past.status_code == 422


def test_listing_is_paginated_by_cursor_and_stable(api):
    created = [api.post_entry(published_at=f"2017-03-24T0{hour}:00:00Z") for hour in range(1, 8)]
    first = api.get("/api/v1/blogs/hama/entries?limit=3").get_json()
    assert [e["id"] for e in first["items"]] == [e["id"] for e in reversed(created)][:3]
    api.post_entry(published_at="2017-03-24T09:00:00Z")  # arrives while paging
    second = api.get(first["next"]).get_json()
    third = api.get(second["next"]).get_json()
    ids = [e["id"] for e in first["items"] + second["items"] + third["items"]]
    assert ids == [e["id"] for e in reversed(created)]
    assert third["next"] is None


def test_bad_cursor_and_limit_are_client_errors(api):
    assert api.get("/api/v1/blogs/hama/entries?cursor=nonsense").status_code == 400
    assert api.get("/api/v1/blogs/hama/entries?limit=0").status_code == 400
    assert api.get("/api/v1/blogs/hama/entries?limit=abc").status_code == 400


def test_change_rows_belong_to_the_same_transaction(api, session):
    entry = api.post_entry()
    session.rollback()
    rows = session.query(Change).filter_by(entry_id=entry["id"]).all()
    assert [row.kind for row in rows] == ["entry.published"]
    assert store.get_blog(session, "hama").last_seq == 1


def test_flags_and_re_timing_are_not_edits(api):
    entry = api.post_entry(published_at="2017-03-24T07:00:00Z")
    flagged = api.edit_entry(entry, key_event=True, published_at="2017-03-24T07:05:00Z").get_json()
    assert flagged["edited_at"] is None
    assert flagged["key_event"] is True and flagged["label"] == "UPDATE 0705 GMT"
