"""The editor's log-in: session cookie, CSRF, rate limits stored in the database."""

import pytest

from tests.editor_helpers import PASSWORD
from tests.editor_helpers import EditorClient
from tests.editor_helpers import csrf_of
from tests.factories import ApiClient
from tests.factories import make_user
from tests.factories import open_blog


@pytest.fixture
def editor_client(client):
    return EditorClient(client)


def test_pages_need_a_login(client):
    response = client.get("/editor/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/editor/login?next=/editor/"


def test_logging_in_sets_a_safe_cookie_and_logging_out_ends_it(editor_client, editor):
    response = editor_client.log_in(editor.email)
    assert response.status_code == 303
    assert response.headers["Location"] == "/editor/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = editor_client.client.get("/editor/")
    assert page.status_code == 200
    assert editor.name in page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"

    assert editor_client.post("/editor/logout").status_code == 303
    assert editor_client.client.get("/editor/").status_code == 302


def test_the_cookie_is_secure_over_https(app, editor):
    client = EditorClient(app.test_client())
    page = client.client.get("/editor/login", base_url="https://news.example")
    token = csrf_of(page)
    response = client.client.post(
        "/editor/login",
        data={"email": editor.email, "password": PASSWORD, "csrf_token": token},
        base_url="https://news.example",
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/editor/blogs/hama/", "/editor/blogs/hama/"),
        ("https://evil.example/editor/", "/editor/"),
        ("//evil.example/editor/", "/editor/"),
    ],
)
def test_after_login_the_editor_returns_where_they_were_going(
    editor_client, editor, target, expected
):
    token = csrf_of(editor_client.client.get("/editor/login"))
    response = editor_client.client.post(
        "/editor/login",
        data={"email": editor.email, "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.headers["Location"] == expected


def test_forms_without_the_csrf_token_are_refused(editor_client, editor):
    editor_client.client.get("/editor/login")
    response = editor_client.client.post(
        "/editor/login", data={"email": editor.email, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "Reload the page" in response.get_data(as_text=True)
    editor_client.log_in(editor.email)
    response = editor_client.client.post("/editor/logout", data={"csrf_token": "forged"})
    assert response.status_code == 403


def test_a_csrf_token_that_is_not_ascii_is_refused_like_any_wrong_one(editor_client, editor):
    """A forged token may hold any character (a header arrives as Latin-1): 403, not 500."""
    editor_client.log_in(editor.email)
    response = editor_client.client.post("/editor/logout", data={"csrf_token": "forgé"})
    assert response.status_code == 403
    api = editor_client.api("GET", "/api/v1/blogs", headers={"X-CSRF-Token": "forg\xe9"})
    assert api.status_code == 403
    assert "Reload the page" in api.get_json()["detail"]


def test_a_wrong_password_says_so_next_to_the_form(editor_client, editor):
    response = editor_client.log_in(editor.email, "not the password")
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert editor_client.client.get("/editor/").status_code == 302


def test_a_deactivated_user_cannot_log_in_and_their_session_ends(editor_client, editor, session):
    editor_client.log_in(editor.email)
    editor.active = False
    session.commit()
    assert editor_client.client.get("/editor/").status_code == 302
    assert editor_client.log_in(editor.email).status_code == 401


def test_failed_logins_are_limited_per_account_even_across_processes(
    make_app, editor_client, editor
):
    for _ in range(5):
        assert editor_client.log_in(editor.email, "wrong password").status_code == 401
    response = editor_client.log_in(editor.email)  # the right password, too late
    assert response.status_code == 429
    assert "Too many failed log-ins for" in response.get_data(as_text=True)
    # Another process on the same database sees the same attempts.
    other = make_app()
    assert EditorClient(other.test_client()).log_in(editor.email).status_code == 429


def test_failed_logins_are_limited_per_address(app, editor_client, session):
    app.config["LOGIN_MAX_PER_ADDRESS"] = 3
    for number in range(3):
        editor_client.log_in(f"nobody{number}@news.example", "wrong password")
    user = make_user(session, "editor")
    response = editor_client.log_in(user.email)
    assert response.status_code == 429
    assert "from your network" in response.get_data(as_text=True)


def test_a_success_clears_the_account_s_failures(editor_client, editor):
    for _ in range(4):
        editor_client.log_in(editor.email, "wrong password")
    assert editor_client.log_in(editor.email).status_code == 303
    for _ in range(4):
        assert editor_client.log_in(editor.email, "wrong password").status_code == 401


def test_the_api_accepts_the_session_with_the_csrf_header(client, session, editor):
    api = ApiClient(client, session)
    open_blog(api, slug="hama", title="Hama")
    editor_client = EditorClient(client)
    editor_client.log_in(editor.email)
    response = editor_client.api("POST", "/api/v1/blogs/hama/entries", json={"body": "Hello"})
    assert response.status_code == 201
    assert response.get_json()["author"]["id"] == editor.id

    forged = client.post("/api/v1/blogs/hama/entries", json={"body": "Hello"})
    assert forged.status_code == 403
    assert forged.mimetype == "application/problem+json"
    # Bearer tokens work as before, whatever cookie comes along.
    assert api.as_role("editor").post_entry()["id"]
