"""Editor sessions live on the server: a copied cookie stops working the moment the
session ends (hardening item 9)."""

import pytest
from flask.testing import FlaskClient

from liveblog import accounts
from liveblog.cli import cli
from tests.editor_helpers import PASSWORD
from tests.editor_helpers import EditorClient
from tests.factories import make_user

ENTRIES = "/api/v1/blogs/hama/entries"


def logged_in(app, email):
    """A browser logged in as ``email``, and a copy of its session cookie."""
    browser = EditorClient(app.test_client())
    assert browser.log_in(email).status_code == 303
    return browser, browser.client.get_cookie("liveblog_session").value


def replay(app, cookie: str, csrf: str) -> tuple[int, int]:
    """What a stolen cookie gets: (the dashboard's status, posting an entry's status)."""
    thief = FlaskClient(app)
    thief.set_cookie("liveblog_session", cookie)
    page = thief.get("/editor/")
    posted = thief.post(ENTRIES, json={"body": "Fake news."}, headers={"X-CSRF-Token": csrf})
    return page.status_code, posted.status_code


def test_logging_out_ends_the_session_on_the_server(app, api, editor):
    browser, cookie = logged_in(app, editor.email)
    assert replay(app, cookie, browser.csrf) == (200, 201)
    assert browser.post("/editor/logout").status_code == 303
    assert replay(app, cookie, browser.csrf) == (302, 401)


def test_each_browser_has_a_session_of_its_own(app, api, editor):
    laptop, laptop_cookie = logged_in(app, editor.email)
    phone, phone_cookie = logged_in(app, editor.email)
    laptop.post("/editor/logout")
    assert replay(app, laptop_cookie, laptop.csrf)[0] == 302
    assert replay(app, phone_cookie, phone.csrf) == (200, 201)


@pytest.mark.parametrize(
    "change", [{"password": "a brand new passphrase"}, {"role": "contributor"}, {"active": False}]
)
def test_a_new_password_role_or_standing_ends_every_session_of_the_user(app, api, editor, change):
    browser, cookie = logged_in(app, editor.email)
    other_browser, other_cookie = logged_in(app, editor.email)
    admin = api.as_role("admin")
    assert admin.patch(f"/api/v1/users/{editor.id}", json=change).status_code == 200
    for jar, csrf in ((cookie, browser.csrf), (other_cookie, other_browser.csrf)):
        assert replay(app, jar, csrf)[0] == 302
    if "password" in change:
        fresh = EditorClient(app.test_client())
        assert fresh.log_in(editor.email, change["password"]).status_code == 303


def test_changing_nothing_keeps_the_session(app, api, editor):
    browser, cookie = logged_in(app, editor.email)
    admin = api.as_role("admin")
    assert admin.patch(f"/api/v1/users/{editor.id}", json={"role": "editor"}).status_code == 200
    assert replay(app, cookie, browser.csrf) == (200, 201)


def test_an_admin_sets_a_password_in_the_editor_and_the_user_is_logged_out(app, admin, editor):
    browser, cookie = logged_in(app, editor.email)
    desk, _ = logged_in(app, admin.email)
    page = desk.post(f"/editor/admin/users/{editor.id}", {"password": "another good passphrase"})
    assert page.status_code == 200
    assert "has a new password and must log in again" in page.get_data(as_text=True)
    assert replay(app, cookie, browser.csrf)[0] == 302
    short = desk.post(f"/editor/admin/users/{editor.id}", {"password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)


def test_the_operator_sets_a_password_from_the_command_line(app, editor):
    browser, cookie = logged_in(app, editor.email)
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli, ["users", "set-password", editor.email, "--password-stdin"], input="the new one here\n"
    )
    assert result.exit_code == 0, result.output
    assert replay(app, cookie, browser.csrf)[0] == 302
    assert (
        EditorClient(app.test_client()).log_in(editor.email, "the new one here").status_code == 303
    )
    missing = runner.invoke(cli, ["users", "set-password", "nobody@news.example"], input="x\n")
    assert missing.exit_code != 0 and "There is no user nobody@news.example" in missing.output


def test_sessions_expire_on_the_server_too(session, editor):
    secret = accounts.open_session(session, editor)
    assert accounts.session_user(session, secret) == editor
    later = accounts.utcnow() + accounts.SESSION_LIFETIME
    assert accounts.session_user(session, secret, now=later) is None


def test_a_log_in_costs_one_hash_whoever_is_asked_about(app, session, monkeypatch):
    """Deactivated accounts once answered in 7 ms against 80: every attempt hashes once."""
    hashed = []
    check = accounts.check_password_hash

    def counted(stored, password):
        hashed.append(stored)
        return check(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counted)
    active = make_user(session, "editor")
    gone = make_user(session, "editor")
    tokens_only = make_user(session, "editor", password=None)
    accounts.change_user(session, make_user(session, "admin"), gone.id, active=False)
    browser = EditorClient(app.test_client())
    for email, password in [
        (active.email, "wrong password here"),
        (gone.email, PASSWORD),
        (tokens_only.email, PASSWORD),
        ("nobody@news.example", PASSWORD),
    ]:
        hashed.clear()
        assert browser.log_in(email, password).status_code == 401
        assert len(hashed) == 1, email


def test_behind_a_trusted_proxy_log_in_limits_count_the_client(make_app, session, editor):
    app = make_app(TRUSTED_PROXIES=1, LOGIN_MAX_PER_ADDRESS=2, LOGIN_MAX_PER_ACCOUNT=100)
    browser = EditorClient(app.test_client())
    crowd = {"environ_base": {"REMOTE_ADDR": "10.0.0.1"}}  # the proxy, for everyone

    def attempt(client_address):
        headers = {"X-Forwarded-For": client_address}
        return browser.log_in(editor.email, "wrong password!", headers=headers, **crowd)

    assert [attempt("203.0.113.7").status_code for _ in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.9").status_code == 401  # another reader, not locked out
    untrusting = make_app(LOGIN_MAX_PER_ADDRESS=2, LOGIN_MAX_PER_ACCOUNT=100)
    browser = EditorClient(untrusting.test_client())
    forged = [attempt(f"192.0.2.{n}").status_code for n in range(3)]
    assert forged == [401, 401, 429]  # without the setting the header is not believed


def test_logging_in_again_ends_the_session_the_browser_had(app, api, editor):
    browser, first_cookie = logged_in(app, editor.email)
    assert browser.log_in(editor.email).status_code == 303
    assert replay(app, first_cookie, browser.csrf)[0] == 302
    assert browser.client.get("/editor/").status_code == 200  # the new session works


def test_an_anonymous_form_post_leads_to_the_log_in_without_a_next_it_cannot_follow(client):
    response = client.post("/editor/admin/users", data={"email": "x@news.example"})
    assert (response.status_code, response.headers["Location"]) == (302, "/editor/login")
    page = client.get("/editor/admin/users")
    assert page.headers["Location"] == "/editor/login?next=/editor/admin/users"


def test_a_non_admin_is_refused_before_their_changes_are_read(api, editor):
    contributor = api.as_role("contributor")
    response = contributor.patch(f"/api/v1/users/{editor.id}", json={"role": "emperor"})
    assert response.status_code == 403
