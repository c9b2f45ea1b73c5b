"""Admins manage users and API tokens from the editor."""

import pytest

from tests.editor_helpers import EditorClient
from tests.factories import make_user
from tests.support import soup


@pytest.fixture
def as_admin(client, admin):
    editor_client = EditorClient(client)
    editor_client.log_in(admin.email)
    return editor_client


def test_an_admin_creates_a_user_who_can_then_log_in(as_admin, app):
    form = {"email": "Reporter@News.example", "name": "Rima", "role": "contributor"}
    response = as_admin.post("/editor/admin/users", {**form, "password": "a long passphrase"})
    assert response.status_code == 201
    assert "reporter@news.example can now log in as contributor" in response.get_data(as_text=True)
    other = EditorClient(app.test_client())
    assert other.log_in("reporter@news.example", "a long passphrase").status_code == 303


def test_user_form_errors_show_next_to_their_fields(as_admin, editor):
    response = as_admin.post(
        "/editor/admin/users", {"email": "not-an-email", "role": "editor", "password": "short"}
    )
    assert response.status_code == 422
    page = soup(response)
    assert "email address" in page.select_one("#email-error").text
    assert "at least 10 characters" in page.select_one("#password-error").text
    response = as_admin.post("/editor/admin/users", {"email": editor.email, "role": "editor"})
    assert response.status_code == 409
    assert "already exists" in soup(response).select_one("[role=alert]").text


def test_an_admin_changes_roles_and_deactivates_users(as_admin, app, session):
    user = make_user(session, "contributor")
    their = EditorClient(app.test_client())
    their.log_in(user.email)
    response = as_admin.post(f"/editor/admin/users/{user.id}", {"role": "editor"})
    assert "is now editor, active" in response.get_data(as_text=True)
    response = as_admin.post(f"/editor/admin/users/{user.id}", {"active": "no"})
    assert "is now editor, deactivated" in response.get_data(as_text=True)
    assert their.client.get("/editor/").status_code == 302  # their session ends at once
    as_admin.post(f"/editor/admin/users/{user.id}", {"active": "yes"})
    assert their.log_in(user.email).status_code == 303


def test_an_admin_cannot_lock_themselves_out(as_admin, admin):
    response = as_admin.post(f"/editor/admin/users/{admin.id}", {"active": "no"})
    assert response.status_code == 403
    assert "another admin" in soup(response).select_one("[role=alert]").text


def test_tokens_are_shown_once_and_can_be_revoked(as_admin, client, session):
    user = make_user(session, "editor", password=None)
    response = as_admin.post(f"/editor/admin/users/{user.id}/tokens", {"label": "newsroom bot"})
    assert response.status_code == 201
    token = soup(response).select_one("#new-token").text
    bearer = {"Authorization": f"Bearer {token}"}
    fresh = client.application.test_client()
    assert fresh.get("/api/v1/blogs", headers=bearer).status_code == 200
    page = soup(as_admin.client.get("/editor/admin/users"))
    assert page.select_one("#new-token") is None
    assert token not in str(page)
    revoke = page.select_one(f"#user-{user.id} form[action$='/revoke']")["action"]
    response = as_admin.post(revoke)
    assert "no longer works" in response.get_data(as_text=True)
    assert fresh.get("/api/v1/blogs", headers=bearer).status_code == 401


def test_only_admins_manage_users(client, editor):
    as_editor = EditorClient(client)
    as_editor.log_in(editor.email)
    assert as_editor.client.get("/editor/admin/users").status_code == 403
    response = as_editor.post("/editor/admin/users", {"email": "x@news.example", "role": "admin"})
    assert response.status_code == 403
    assert as_editor.post(f"/editor/admin/users/{editor.id}/tokens").status_code == 403
