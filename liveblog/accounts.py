"""Users, their editor sessions and API tokens. Passwords, sessions and tokens are stored
only as hashes."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from . import store
from .errors import Conflict
from .errors import FieldError
from .errors import Forbidden
from .errors import LoginFailed
from .errors import NotFound
from .errors import TooManyAttempts
from .errors import ValidationError
from .models import ROLES
from .models import ApiToken
from .models import EditorSession
from .models import LoginAttempt
from .models import User
from .models import utcnow
from .validation import Fields
from .validation import check_url
from .validation import given
from .validation import present

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD = 10
SESSION_LIFETIME = timedelta(days=14)
PROFILE_FIELDS = ("name", "title", "bio", "links", "slug", "photo")
MAX_BIO = 1000
MAX_LINKS = 5
# An author page's address: never all digits, which name authors by id.
AUTHOR_SLUG = re.compile(r"(?=[a-z0-9-]*[a-z])[a-z0-9]+(?:-[a-z0-9]+)*")


def create_user(
    session: Session, email: str, role: str, password: str | None, name: str | None = None
) -> User:
    """Create a user; ``password`` may be None for an account that only uses API tokens."""
    email = email.strip().lower()
    errors = []
    if not EMAIL.fullmatch(email) or len(email) > 254:
        errors.append(FieldError("email", "must be an email address such as desk@example.org"))
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of: {', '.join(ROLES)}"))
    if password is not None and (problem := _password_problem(password)):
        errors.append(FieldError("password", problem))
    if errors:
        raise ValidationError(errors)
    with store.transaction(session):
        if store.get_user_by_email(session, email) is not None:
            raise Conflict(f"A user with the email {email} already exists.")
        user = User(
            email=email,
            name=(name or email.split("@")[0]).strip()[:200],
            role=role,
            password_hash=generate_password_hash(password) if password else None,
        )
        session.add(user)
    return user


def _password_problem(password: str) -> str | None:
    return f"must be at least {MIN_PASSWORD} characters" if len(password) < MIN_PASSWORD else None


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def check_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the active ``user``'s. Always one hash, whoever is asked
    about, so the answer's timing does not tell which emails have accounts, nor which of
    those are deactivated or have no password."""
    stored = user.password_hash if user is not None else None
    matches = check_password_hash(stored or _dummy_hash(), password)
    return bool(user is not None and user.active and stored and matches)


def create_token(session: Session, user: User, label: str = "") -> str:
    """A new bearer token for ``user``; the only time it is ever shown."""
    token = f"lb_{secrets.token_urlsafe(32)}"
    with store.transaction(session):
        session.add(
            ApiToken(user_id=user.id, token_hash=store.hash_token(token), label=label[:200])
        )
    return token


def require_role(actor: User, role: str, message: str) -> None:
    """Refuse ``actor`` unless their role includes ``role``; ``message`` says why."""
    if not actor.can(role):
        raise Forbidden(message)


def _require_admin(actor: User) -> None:
    require_role(actor, "admin", "Only admins can manage users and API tokens.")


def add_user(
    session: Session,
    actor: User,
    email: str,
    role: str,
    password: str | None,
    name: str | None = None,
) -> User:
    """Create a user on an admin's behalf (the CLI, run by the operator, calls create_user)."""
    _require_admin(actor)
    return create_user(session, email, role, password, name)


def list_users(session: Session, actor: User) -> list[User]:
    """Every user, admins first, then by email."""
    _require_admin(actor)
    users = session.scalars(select(User).order_by(User.email)).all()
    return sorted(users, key=lambda user: -ROLES.index(user.role))


def tokens_by_user(session: Session, actor: User) -> dict[int, list[ApiToken]]:
    """User id -> their API tokens, newest first (revoked ones too, marked as such)."""
    _require_admin(actor)
    found: dict[int, list[ApiToken]] = {}
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    for token in session.scalars(query):
        found.setdefault(token.user_id, []).append(token)
    return found


def _existing_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if 0 < user_id < store.MAX_ID else None
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def _other_user(session: Session, actor: User, user_id: int) -> User:
    _require_admin(actor)
    user = _existing_user(session, user_id)
    if user.id == actor.id:
        raise Forbidden(
            "You cannot change your own role or deactivate yourself; ask another admin."
        )
    return user


def change_user(
    session: Session,
    actor: User,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    profile: dict[str, Any] | None = None,
) -> User:
    """Change another user's role, password, or standing, and anyone's public profile
    (``read_profile``'s values), all at once or not at all (admins only).

    A new role, password or standing ends the user's editor sessions: they log in again,
    as they now are.
    """
    _require_admin(actor)
    if role is not None and role not in ROLES:
        raise ValidationError([FieldError("role", f"must be one of: {', '.join(ROLES)}")])
    if password is not None and (problem := _password_problem(password)):
        raise ValidationError([FieldError("password", problem)])
    with store.transaction(session):
        if role is None and active is None and password is None:
            user = _existing_user(session, user_id)
        else:
            user = _other_user(session, actor, user_id)
        if profile:
            _apply_profile(session, user, profile)
        changed = (role is not None and role != user.role) or (
            active is not None and active != user.active
        )
        if role is not None:
            user.role = role
        if active is not None:
            user.active = active
        if password is not None:
            user.password_hash = generate_password_hash(password)
        if changed or password is not None:
            end_sessions(session, user)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Give ``user`` a new password (the operator's ``liveblog users set-password``)."""
    if problem := _password_problem(password):
        raise ValidationError([FieldError("password", problem)])
    with store.transaction(session):
        user.password_hash = generate_password_hash(password)
        end_sessions(session, user)


# Public profiles: the byline and the author page


def read_profile(data: Any, media_path: Path | str, fields: Fields | None = None) -> dict[str, Any]:
    """The profile fields given in ``data`` (or read by ``fields``), validated: a photo must
    be an upload of this site, described by its alt text. Raises ValidationError."""
    fields = fields or Fields.top(data, PROFILE_FIELDS)
    values: dict[str, Any] = {
        "name": fields.string("name", max_length=200, nullable=True),
        "title": fields.string("title", max_length=200, nullable=True),
        "bio": fields.string("bio", max_length=MAX_BIO, multiline=True, nullable=True),
        "slug": fields.string("slug", max_length=80, nullable=True),
        "links": _links(fields),
        "photo": _photo(fields, media_path),
    }
    if fields.has("name") and not present(values["name"]):
        fields.error("name", "must not be empty: the byline shows it")
    slug = values["slug"]
    if present(slug) and not AUTHOR_SLUG.fullmatch(slug):
        fields.error(
            "slug", "may only hold lowercase letters, digits and single hyphens, with a letter"
        )
    fields.raise_errors()
    blank = {"title": "", "bio": "", "links": None}
    return {
        name: blank.get(name) if value is None else value
        for name, value in values.items()
        if given(value)
    }


def _links(fields: Fields) -> Any:
    if fields.has("links") and fields.data["links"] is None:
        return None
    items = fields.items("links", max_items=MAX_LINKS)
    if not present(items):
        return items
    links = []
    for path, raw in items:
        if not isinstance(raw, str) or not raw.strip():
            fields.errors.append(FieldError(path, "must be an http(s) URL"))
        elif len(raw.strip()) > 2000:
            fields.errors.append(FieldError(path, "must be at most 2000 characters"))
        elif problem := check_url(raw.strip()):
            fields.errors.append(FieldError(path, problem))
        elif raw.strip() not in links:
            links.append(raw.strip())
    return links or None


def _photo(fields: Fields, media_path: Path | str) -> Any:
    photo = fields.object("photo", ("url", "alt"))
    if not isinstance(photo, Fields):
        return photo
    url = photo.string("url", required=True, max_length=2000)
    alt = photo.string("alt", required=True, max_length=300)
    if not present(url) or not present(alt):
        return None
    # Here, not at the top: the core modules load Pillow only when a picture is read.
    from .embeds.uploads import stored_size

    size = stored_size(url, media_path)
    if size is None:
        photo.error("url", "must be an upload of this site: POST the photo to /api/v1/uploads")
        return None
    return {"url": url, "alt": alt, "width": size[0], "height": size[1]}


def update_profile(session: Session, actor: User, user_id: int, values: dict[str, Any]) -> User:
    """Change a user's public profile (``read_profile``'s values): their own, or anyone's
    for an admin. Every blog whose published entries name them gets a blog.updated
    change, so cached pages and feeds show the new byline."""
    if actor.id != user_id:
        _require_admin(actor)
    require_role(actor, "contributor", "Your account cannot change profiles.")
    with store.transaction(session):
        user = _existing_user(session, user_id)
        _apply_profile(session, user, values)
    return user


def _apply_profile(session: Session, user: User, values: dict[str, Any]) -> None:
    changed = {name: value for name, value in values.items() if getattr(user, name) != value}
    if not changed:
        return
    slug = changed.get("slug")
    taken = select(User.id).where(User.slug == slug, User.id != user.id)
    if slug is not None and session.scalar(taken) is not None:
        raise Conflict(f"Another author already has the address {slug!r}; choose another.")
    for name, value in changed.items():
        setattr(user, name, value)
    user.profile_updated_at = utcnow()
    session.flush()
    for blog in store.blogs_crediting(session, user):
        store.append_change(session, blog, "blog.updated")


# Editor sessions


def open_session(session: Session, user: User, now: datetime | None = None) -> str:
    """A new editor session for ``user``; returns its secret, for the cookie only."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    with store.transaction(session):
        session.execute(delete(EditorSession).where(EditorSession.expires_at <= now))
        session.add(
            EditorSession(
                user_id=user.id,
                token_hash=store.hash_token(secret),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return secret


def session_user(session: Session, secret: str, now: datetime | None = None) -> User | None:
    """The active user of the unexpired session whose secret is ``secret``."""
    query = select(EditorSession).where(EditorSession.token_hash == store.hash_token(secret))
    found = session.scalars(query).one_or_none()
    if found is None or found.expires_at <= (now or utcnow()) or not found.user.active:
        return None
    return found.user


def close_session(session: Session, secret: str) -> None:
    """End the session whose secret is ``secret`` (log-out)."""
    with store.transaction(session):
        query = delete(EditorSession).where(EditorSession.token_hash == store.hash_token(secret))
        session.execute(query)


def end_sessions(session: Session, user: User) -> None:
    """End every editor session of ``user``, in the caller's transaction."""
    session.execute(delete(EditorSession).where(EditorSession.user_id == user.id))


def issue_token(session: Session, actor: User, user_id: int, label: str) -> str:
    """A new API token for a user, created by an admin; shown once."""
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return create_token(session, user, label.strip())


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """Revoke an API token at once (admins only); it is kept, marked revoked."""
    _require_admin(actor)
    with store.transaction(session):
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"There is no API token {token_id}.")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    return token


@dataclass(frozen=True)
class LoginLimits:
    """How many failed log-ins an account, and an address, may have within ``window``."""

    window: timedelta
    per_account: int
    per_address: int


def log_in(
    session: Session,
    email: str,
    password: str,
    address: str,
    limits: LoginLimits,
    now: datetime | None = None,
) -> User:
    """The active user with this email and password, or an error an editor can act on.

    Failures are stored, so the limits hold across processes; a success clears the
    account's failures. A locked-out account is refused even with the right password.
    """
    now = now or utcnow()
    email = email.strip().lower()[:254]
    address = address[:64]
    since = now - limits.window
    minutes = max(1, round(limits.window.total_seconds() / 60))
    with store.transaction(session):
        session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < since))
        recent = select(func.count()).select_from(LoginAttempt)
        recent = recent.where(LoginAttempt.created_at >= since)
        if (session.scalar(recent.where(LoginAttempt.email == email)) or 0) >= limits.per_account:
            raise TooManyAttempts(
                f"Too many failed log-ins for {email}. Wait {minutes} minutes and try again, "
                "or ask an admin to set a new password for you."
            )
        if (
            session.scalar(recent.where(LoginAttempt.address == address)) or 0
        ) >= limits.per_address:
            raise TooManyAttempts(
                f"Too many failed log-ins from your network. Wait {minutes} minutes and try again."
            )
        user = store.get_user_by_email(session, email)
        if check_password(user, password) and user is not None:
            session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
            return user
        session.add(LoginAttempt(email=email, address=address, created_at=now))
    raise LoginFailed("That email and password do not match an active account.")
