"""The editor's session cookie and CSRF tokens, shared by the editor pages and the API."""

import hmac
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask
from flask import Request
from flask import current_app
from flask import request
from flask import session as cookie
from flask.sessions import SecureCookieSessionInterface

from .. import accounts
from .. import db
from ..accounts import LoginLimits
from ..errors import Forbidden
from ..models import User

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure) or super().get_cookie_secure(app)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.config["SESSION_COOKIE_SAMESITE"] = app.config["SESSION_COOKIE_SAMESITE"] or "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_NAME"] = "liveblog_session"
    app.permanent_session_lifetime = accounts.SESSION_LIFETIME


def login_limits() -> LoginLimits:
    config = current_app.config
    return LoginLimits(
        window=timedelta(seconds=int(config["LOGIN_WINDOW"])),
        per_account=int(config["LOGIN_MAX_PER_ACCOUNT"]),
        per_address=int(config["LOGIN_MAX_PER_ADDRESS"]),
    )


def start_session(user: User) -> None:
    """Open a session for ``user`` on the server and name it in a fresh cookie, with a
    new CSRF token; a session this browser had before ends."""
    end_session()
    cookie.permanent = True
    cookie["session"] = accounts.open_session(db.session(), user)
    cookie["csrf"] = secrets.token_urlsafe(32)


def end_session() -> None:
    """End this browser's session on the server, so its cookie opens nothing any more."""
    secret = cookie.get("session")
    if isinstance(secret, str):
        accounts.close_session(db.session(), secret)
    cookie.clear()


def session_user() -> User | None:
    """The active user of the session the cookie names, while the server keeps it."""
    secret = cookie.get("session")
    return accounts.session_user(db.session(), secret) if isinstance(secret, str) else None


def csrf_token() -> str:
    """This session's CSRF token (created on first use, so the log-in form has one too)."""
    if "csrf" not in cookie:
        cookie["csrf"] = secrets.token_urlsafe(32)
    return str(cookie["csrf"])


def check_csrf(req: Request, form: Any = None) -> None:
    """Refuse a state-changing request whose CSRF token (form field or header) is wrong."""
    sent = req.headers.get(CSRF_HEADER) or (form or {}).get(CSRF_FIELD) or ""
    expected = cookie.get("csrf")
    # As bytes: compare_digest raises TypeError for a str with non-ASCII characters.
    if not expected or not hmac.compare_digest(str(sent).encode(), str(expected).encode()):
        raise Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again."
        )
