"""Who may do what through the editor API: contributors, editors, admins, and the locked out."""

import pytest
from sqlalchemy import update

from liveblog import store
from liveblog.models import ApiToken
from liveblog.models import utcnow
from tests.factories import assert_problem
from tests.factories import changes

BLOGS = "/api/v1/blogs"
ENTRIES = "/api/v1/blogs/hama/entries"
FUTURE = "2999-01-01T00:00:00Z"


def entry_path(entry):
    return f"{ENTRIES}/{entry['id']}"


def if_match(entry):
    return {"If-Match": f'"{entry["version"]}"'}


def current(api, entry):
    """The entry as an editor sees it now."""
    response = api.get(entry_path(entry))
    assert response.status_code == 200
    return response.get_json()


# Contributors


def test_contributors_save_drafts_by_default(api, session):
    contributor = api.as_role("contributor")
    entry = contributor.post_entry()
    assert entry["status"] == "draft"
    assert entry["published_at"] is None
    assert changes(session) == []


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"status": "published"}, id="publish"),
        pytest.param({"status": "scheduled", "published_at": FUTURE}, id="schedule"),
        pytest.param({"pinned": True}, id="pin"),
        pytest.param({"status": "draft", "pinned": True}, id="pin-a-draft"),
    ],
)
def test_contributors_cannot_create_anything_but_unpinned_drafts(api, session, fields):
    contributor = api.as_role("contributor")
    response = contributor.post(ENTRIES, json={"body": "Rebels advance.", **fields})
    assert_problem(response, 403)
    assert api.get(ENTRIES).get_json()["items"] == []
    assert changes(session) == []


def test_contributors_edit_and_delete_their_own_drafts(api):
    contributor = api.as_role("contributor")
    entry = contributor.post_entry(headline="Frist")
    edited = contributor.edit_entry(entry, headline="First", key_event=True)
    assert edited.status_code == 200
    assert edited.get_json()["headline"] == "First"
    assert edited.get_json()["status"] == "draft"
    deleted = contributor.delete(entry_path(entry), headers=if_match(edited.get_json()))
    assert deleted.status_code == 204
    assert current(api, entry)["status"] == "deleted"


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"status": "published"}, id="publish"),
        pytest.param({"status": "scheduled", "published_at": FUTURE}, id="schedule"),
        pytest.param({"pinned": True}, id="pin"),
    ],
)
def test_contributors_cannot_publish_schedule_or_pin_their_own_drafts(api, session, fields):
    contributor = api.as_role("contributor")
    draft = contributor.post_entry()
    assert_problem(contributor.edit_entry(draft, **fields), 403)
    assert current(api, draft) == draft
    assert changes(session) == []


def _someone_elses_entry(api, kind):
    """An entry the contributor under test did not write (or no longer owns as a draft)."""
    if kind == "another contributor's draft":
        return api.as_role("contributor").post_entry()
    if kind == "an editor's draft":
        return api.post_entry(status="draft")
    if kind == "an editor's scheduled entry":
        return api.post_entry(status="scheduled", published_at=FUTURE)
    return api.post_entry()


OTHERS_ENTRIES = [
    "another contributor's draft",
    "an editor's draft",
    "an editor's scheduled entry",
    "an editor's published entry",
]


@pytest.mark.parametrize("kind", OTHERS_ENTRIES)
def test_contributors_cannot_change_other_peoples_entries(api, kind):
    entry = _someone_elses_entry(api, kind)
    contributor = api.as_role("contributor")
    edit = contributor.edit_entry(entry, headline="Mine now")
    delete = contributor.delete(entry_path(entry), headers=if_match(entry))
    if entry["status"] == "published":  # readers see it: saying "not yours" tells nothing
        assert_problem(edit, 403)
        assert_problem(delete, 403)
    else:  # "not yours" and "not there" answer alike, so drafts cannot be probed for
        missing = dict(entry, id=entry["id"] + 1000)
        for attempt, absent in [
            (edit, contributor.edit_entry(missing, headline="Mine now")),
            (delete, contributor.delete(entry_path(missing), headers=if_match(entry))),
        ]:
            problem = assert_problem(attempt, 404)
            expected = assert_problem(absent, 404)
            expected["detail"] = expected["detail"].replace(str(missing["id"]), str(entry["id"]))
            assert problem == expected
    assert current(api, entry) == entry


def test_contributors_cannot_change_their_entry_once_published(api):
    contributor = api.as_role("contributor")
    draft = contributor.post_entry()
    published = api.edit_entry(draft, status="published").get_json()
    assert published["status"] == "published"
    problem = assert_problem(contributor.edit_entry(published, headline="Correction"), 403)
    assert "no longer a draft" in problem["detail"]
    assert_problem(contributor.delete(entry_path(published), headers=if_match(published)), 403)
    assert current(api, published) == published


@pytest.mark.parametrize("kind", [kind for kind in OTHERS_ENTRIES if "published" not in kind])
def test_contributors_never_see_other_peoples_unpublished_entries(api, kind):
    """Hidden entries answer 404 exactly like missing ones: their existence is not leaked."""
    hidden = _someone_elses_entry(api, kind)
    contributor = api.as_role("contributor")
    listing = contributor.get(ENTRIES).get_json()["items"]
    assert hidden["id"] not in [entry["id"] for entry in listing]
    for path in (entry_path(hidden), f"{entry_path(hidden)}/revisions"):
        problem = assert_problem(contributor.get(path), 404)
        assert problem["detail"] == f"Live blog 'hama' has no entry {hidden['id']}."
    assert api.get(entry_path(hidden)).status_code == 200  # it does exist


def test_contributors_see_published_entries_and_their_own(api):
    published = api.post_entry()
    contributor = api.as_role("contributor")
    own = contributor.post_entry()
    listing = contributor.get(ENTRIES).get_json()["items"]
    assert sorted(entry["id"] for entry in listing) == sorted([published["id"], own["id"]])
    assert contributor.get(entry_path(published)).status_code == 200
    assert contributor.get(entry_path(own)).get_json()["status"] == "draft"


# Editors

DRAFT_EDITS = [
    pytest.param({"status": "published"}, {"status": "published"}, id="publish"),
    pytest.param(
        {"status": "scheduled", "published_at": FUTURE},
        {"status": "scheduled", "published_at": "2999-01-01T00:00:00+00:00"},
        id="schedule",
    ),
    pytest.param(
        {"headline": "Checked by the desk"}, {"headline": "Checked by the desk"}, id="edit"
    ),
    pytest.param(
        {"status": "published", "pinned": True}, {"status": "published", "pinned": True}, id="pin"
    ),
]
PUBLISHED_EDITS = [
    pytest.param(
        {"headline": "Checked by the desk"}, {"headline": "Checked by the desk"}, id="edit"
    ),
    pytest.param({"pinned": True}, {"pinned": True}, id="pin"),
    pytest.param({"status": "draft"}, {"status": "draft"}, id="unpublish"),
]


def _assert_edited(api, entry, fields, expected):
    response = api.edit_entry(entry, **fields)
    assert response.status_code == 200, response.get_json()
    stored = current(api, entry)
    assert {name: stored[name] for name in expected} == expected
    assert stored["version"] == entry["version"] + 1


@pytest.mark.parametrize("author", ["contributor", "editor"])
@pytest.mark.parametrize(("fields", "expected"), DRAFT_EDITS)
def test_editors_publish_schedule_edit_and_pin_anyones_drafts(api, author, fields, expected):
    draft = api.as_role(author).post_entry(status="draft")
    _assert_edited(api, draft, fields, expected)


@pytest.mark.parametrize(("fields", "expected"), PUBLISHED_EDITS)
def test_editors_edit_pin_and_unpublish_other_editors_entries(api, fields, expected):
    entry = api.as_role("editor").post_entry()
    _assert_edited(api, entry, fields, expected)


@pytest.mark.parametrize("kind", ["a contributor's draft", "another editor's published entry"])
def test_editors_delete_anyones_entries(api, kind):
    author = api.as_role("contributor" if "contributor" in kind else "editor")
    entry = author.post_entry()
    assert api.delete(entry_path(entry), headers=if_match(entry)).status_code == 204
    assert current(api, entry)["status"] == "deleted"


# Blogs: admins only


@pytest.mark.parametrize("role", ["editor", "contributor"])
def test_only_admins_create_and_change_blogs(api, session, role):
    caller = api.as_role(role)
    created = caller.post(BLOGS, json={"slug": "aleppo", "title": "Aleppo"})
    assert_problem(created, 403)
    assert [blog["slug"] for blog in api.get(BLOGS).get_json()["items"]] == ["hama"]
    before = api.get(f"{BLOGS}/hama").get_json()
    assert_problem(caller.patch(f"{BLOGS}/hama", json={"title": "Hijacked"}), 403)
    assert api.get(f"{BLOGS}/hama").get_json() == before
    assert changes(session) == []


def test_admins_create_blogs(api):
    admin = api.as_role("admin")
    response = admin.post(BLOGS, json={"slug": "aleppo", "title": "Battle for Aleppo"})
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/blogs/aleppo"
    assert response.get_json()["slug"] == "aleppo"
    assert response.get_json()["status"] == "draft"
    assert admin.get(response.headers["Location"]).get_json()["title"] == "Battle for Aleppo"


def test_admins_change_blogs_and_readers_learn_of_it(api, session):
    admin = api.as_role("admin")
    response = admin.patch(f"{BLOGS}/hama", json={"title": "Battle for Hama"})
    assert response.status_code == 200
    assert response.get_json()["title"] == "Battle for Hama"
    assert changes(session) == [(1, "blog.updated", None)]
    unchanged = admin.patch(f"{BLOGS}/hama", json={"title": "Battle for Hama"})
    assert unchanged.status_code == 200
    assert len(changes(session)) == 1, "a PATCH that changes nothing tells readers nothing"


def test_a_blogs_slug_cannot_be_changed(api, session):
    admin = api.as_role("admin")
    before = admin.get(f"{BLOGS}/hama").get_json()
    response = admin.patch(f"{BLOGS}/hama", json={"slug": "hama-2017"})
    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["slug"]
    assert admin.get(f"{BLOGS}/hama").get_json() == before
    assert admin.get(f"{BLOGS}/hama-2017").status_code == 404
    assert changes(session) == []


# Locked out


def _deactivate(session, user):
    with store.transaction(session):
        user.active = False


def _revoke_tokens(session, user):
    with store.transaction(session):
        session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id).values(revoked_at=utcnow())
        )


@pytest.mark.parametrize("lock_out", [_deactivate, _revoke_tokens], ids=["deactivated", "revoked"])
@pytest.mark.parametrize("role", ["admin", "editor"])
def test_deactivated_users_and_revoked_tokens_get_401(api, session, lock_out, role):
    caller = api.as_role(role)
    assert caller.get(BLOGS).status_code == 200
    lock_out(session, caller.user)
    for response in (
        caller.get(BLOGS),
        caller.post(ENTRIES, json={"body": "Rebels advance."}),
        caller.patch(f"{BLOGS}/hama", json={"title": "Locked out"}),
    ):
        problem = assert_problem(response, 401)
        assert "revoked" in problem["detail"]
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="liveblog"'
    assert api.get(ENTRIES).get_json()["items"] == []
    assert api.get(f"{BLOGS}/hama").get_json()["title"] == "Hama"
