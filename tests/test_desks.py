"""Desks: each blog's members, who may write there and with what role."""

import pytest

from liveblog import desks
from liveblog import store
from tests.editor_helpers import EditorClient
from tests.factories import assert_problem
from tests.factories import changes
from tests.factories import make_user
from tests.support import soup

MEMBERS = "/api/v1/blogs/hama/members"
ENTRIES = "/api/v1/blogs/hama/entries"


def desk_of(api, slug="hama"):
    """(name, role) of each member, as the listing gives them."""
    response = api.get(f"/api/v1/blogs/{slug}/members")
    assert response.status_code == 200, response.get_json()
    return [(member["name"], member["role"]) for member in response.get_json()["items"]]


def add(api, user, role, slug="hama"):
    return api.post(f"/api/v1/blogs/{slug}/members", json={"user": user.id, "role": role})


@pytest.fixture
def admin_api(api):
    return api.as_role("admin")


@pytest.fixture
def outsider(api):
    """An editor on no desk at all."""
    return api.as_role("editor", on_desks=False, name="Outside Editor")


# Listing, adding, changing, removing


def test_a_new_blog_has_its_creator_on_its_desk(admin_api, session):
    response = admin_api.post("/api/v1/blogs", json={"slug": "aleppo", "title": "Aleppo"})
    assert response.status_code == 201
    assert response.headers["ETag"]
    assert desk_of(admin_api, "aleppo") == [(admin_api.user.name, "admin")]


def test_editors_add_members_change_their_role_and_remove_them(api, outsider, session):
    reporter = api.as_role("contributor", on_desks=False, name="Sami Reporter")
    added = add(api, reporter.user, "contributor")
    assert added.status_code == 201
    assert added.get_json() == {
        "id": reporter.user.id,
        "name": "Sami Reporter",
        "role": "contributor",
        "account_role": "contributor",
        "active": True,
    }
    assert ("Sami Reporter", "contributor") in desk_of(api)
    assert reporter.post(ENTRIES, json={"body": "From the ground."}).status_code == 201

    # Adding an existing member again changes their role there.
    assert add(api, outsider.user, "contributor").status_code == 201
    promoted = add(api, outsider.user, "editor")
    assert promoted.status_code == 200 and promoted.get_json()["role"] == "editor"
    assert ("Outside Editor", "editor") in desk_of(api)

    assert api.delete(f"{MEMBERS}/{reporter.user.id}").status_code == 204
    assert ("Sami Reporter", "contributor") not in desk_of(api)
    problem = assert_problem(reporter.post(ENTRIES, json={"body": "Again."}), 403)
    assert "not on the desk of the live blog 'hama'" in problem["detail"]
    missing = assert_problem(api.delete(f"{MEMBERS}/{reporter.user.id}"), 404)
    assert "is not on the desk" in missing["detail"]


def test_a_desk_role_never_exceeds_the_users_own(api, session):
    contributor = api.as_role("contributor", on_desks=False, name="Sami Reporter")
    problem = assert_problem(add(api, contributor.user, "editor"), 422)
    assert problem["errors"] == [
        {
            "field": "role",
            "message": "cannot be editor: Sami Reporter is a contributor, and nobody holds "
            "more on a desk than their own role (an admin can change that role)",
        }
    ]
    assert ("Sami Reporter", "contributor") not in desk_of(api)


def test_an_editor_on_a_desk_as_contributor_writes_drafts_only(api, session):
    junior = api.as_role("editor", on_desks=False)
    assert add(api, junior.user, "contributor").status_code == 201
    draft = junior.post(ENTRIES, json={"body": "Checking."})
    assert draft.status_code == 201 and draft.get_json()["status"] == "draft"
    refused = junior.post(ENTRIES, json={"body": "Now.", "status": "published"})
    assert "Contributors save drafts" in assert_problem(refused, 403)["detail"]
    # What a contributor sees: the editors' drafts are not there for them.
    editors_draft = api.post_entry(status="draft")
    assert junior.get(f"{ENTRIES}/{editors_draft['id']}").status_code == 404
    assert assert_problem(add(junior, api.user, "editor"), 403)["detail"] == (
        "Only the editors of the live blog 'hama' can do this."
    )
    assert changes(session) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"user": 999999, "role": "editor"}, "user", id="no-such-user"),
        pytest.param({"user": "7", "role": "editor"}, "user", id="user-as-text"),
        pytest.param({"user": 1, "role": "admin"}, "role", id="admin-role"),
        pytest.param({"role": "editor"}, "user", id="no-user"),
        pytest.param({"user": 1}, "role", id="no-role"),
        pytest.param({"user": 1, "role": "editor", "blog": "x"}, "blog", id="unknown-field"),
        pytest.param([1, "editor"], "", id="not-an-object"),
    ],
)
def test_bad_member_requests_are_told_what_is_wrong(api, body, field):
    problem = assert_problem(api.post(MEMBERS, json=body), 422)
    assert field in [error["field"] for error in problem["errors"]]


def test_admins_are_on_every_desk_already(api, admin_api):
    problem = assert_problem(add(api, admin_api.user, "editor"), 422)
    assert "is an admin, on every desk already" in problem["detail"]


def test_the_last_editor_stays_unless_an_admin_removes_them(api, admin_api, session):
    blog = store.get_blog(session, "hama")
    for member in desks.members(session, admin_api.user, "hama"):
        if member.id != api.user.id:
            admin_api.delete(f"{MEMBERS}/{member.id}")
    assert desk_of(api) == [(api.user.name, "editor")]
    for attempt in (api.delete(f"{MEMBERS}/{api.user.id}"), add(api, api.user, "contributor")):
        problem = assert_problem(attempt, 409)
        assert "is the last editor of the live blog 'hama'" in problem["detail"]
    assert desks.role_on(session, api.user, blog) == "editor"
    assert admin_api.delete(f"{MEMBERS}/{api.user.id}").status_code == 204
    assert desk_of(admin_api) == []


# Who is refused


def test_someone_off_the_desk_cannot_read_or_write_the_blog(api, outsider, session):
    entry = api.post_entry()
    before = changes(session)
    for method, path, kwargs in [
        ("GET", "/api/v1/blogs/hama", {}),
        ("GET", ENTRIES, {}),
        ("GET", f"{ENTRIES}/{entry['id']}", {}),
        ("GET", f"{ENTRIES}/{entry['id']}/revisions", {}),
        ("GET", MEMBERS, {}),
        ("GET", "/api/v1/blogs/hama/export", {}),
        ("POST", ENTRIES, {"json": {"body": "Mine."}}),
        ("POST", "/api/v1/blogs/hama/preview", {"json": {"body": "Mine."}}),
        ("PATCH", f"{ENTRIES}/{entry['id']}", {"json": {"headline": "Mine"}}),
        ("DELETE", f"{ENTRIES}/{entry['id']}", {}),
        ("POST", MEMBERS, {"json": {"user": outsider.user.id, "role": "editor"}}),
        ("DELETE", f"{MEMBERS}/{api.user.id}", {}),
    ]:
        headers = {"If-Match": f'"{entry["version"]}"'}
        response = outsider._call(method, path, headers=headers, **kwargs)
        problem = assert_problem(response, 403)
        assert problem["detail"] == (
            "You are not on the desk of the live blog 'hama'; "
            "ask one of its editors or an admin to add you."
        ), (method, path)
    assert changes(session) == before
    assert desk_of(api) == desk_of(api.as_role("admin"))


def test_a_draft_blog_is_not_there_for_someone_off_its_desk(api, admin_api, outsider):
    admin_api.post("/api/v1/blogs", json={"slug": "secret", "title": "Embargoed"})
    for path in ("/api/v1/blogs/secret", "/api/v1/blogs/secret/entries"):
        problem = assert_problem(outsider.get(path), 404)
        assert problem["detail"] == assert_problem(outsider.get("/api/v1/blogs/nowhere"), 404)[
            "detail"
        ].replace("nowhere", "secret")


def test_the_blog_list_holds_only_the_callers_desks(api, admin_api, outsider):
    admin_api.post("/api/v1/blogs", json={"slug": "aleppo", "title": "Aleppo"})

    def listed(client):
        return {blog["slug"] for blog in client.get("/api/v1/blogs").get_json()["items"]}

    assert listed(admin_api) == {"hama", "aleppo"}
    assert listed(api) == {"hama"}
    assert listed(outsider) == set()
    add(admin_api, outsider.user, "editor", slug="aleppo")
    assert listed(outsider) == {"aleppo"}


def test_a_deactivated_member_keeps_their_place_but_cannot_get_in(api, admin_api, session):
    reporter = api.as_role("contributor", name="Sami Reporter")
    admin_api.patch(f"/api/v1/users/{reporter.user.id}", json={"active": False})
    assert reporter.get(ENTRIES).status_code == 401
    listed = {m["name"]: m for m in api.get(MEMBERS).get_json()["items"]}
    assert listed["Sami Reporter"]["active"] is False
    admin_api.patch(f"/api/v1/users/{reporter.user.id}", json={"active": True})
    assert reporter.get(ENTRIES).status_code == 200


def test_a_lower_account_role_lowers_the_desk_role_with_it(api, admin_api, session):
    admin_api.patch(f"/api/v1/users/{api.user.id}", json={"role": "contributor"})
    session.expire_all()
    assert api.post(ENTRIES, json={"body": "Now", "status": "published"}).status_code == 403
    assert desks.role_on(session, api.user, store.get_blog(session, "hama")) == "contributor"


# The editor's forms


@pytest.fixture
def admin_page(client, admin):
    page = EditorClient(client)
    page.log_in(admin.email)
    return page


def test_deleting_from_the_page_needs_the_slug_typed_exactly(api, admin_page, session):
    page = soup(admin_page.client.get("/editor/blogs/hama/"))
    tag = page.select_one("#delete-form input[name=etag]")["value"]
    wrong = admin_page.post("/editor/blogs/hama/delete", {"confirm": "Hama", "etag": tag})
    assert wrong.status_code == 422
    assert "Type hama exactly to confirm" in soup(wrong).select_one("#delete-error").text
    api.post_entry()  # the blog moves on while the page is open
    stale = admin_page.post("/editor/blogs/hama/delete", {"confirm": "hama", "etag": tag})
    assert stale.status_code == 412
    assert "has changed since you loaded it" in soup(stale).select_one("#delete-error").text
    assert api.get("/api/v1/blogs/hama").get_json()["status"] == "live"
    fresh = soup(admin_page.client.get("/editor/blogs/hama/"))
    tag = fresh.select_one("#delete-form input[name=etag]")["value"]
    done = admin_page.post("/editor/blogs/hama/delete", {"confirm": "hama", "etag": tag})
    assert (done.status_code, done.headers["Location"]) == (303, "/editor/")
    assert 'data-slug="hama"' not in admin_page.client.get("/editor/").get_data(as_text=True)


def test_the_desk_section_shows_contributors_the_desk_but_no_controls(api, client, session):
    contributor = make_user(session, "contributor", name="Sami Stringer")
    page = EditorClient(client)
    page.log_in(contributor.email)
    desk = soup(page.client.get("/editor/blogs/hama/")).select_one("#desk")
    assert "Sami Stringer" in desk.text
    assert desk.select("form") == [] and "@" not in desk.text  # no emails either
