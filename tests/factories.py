"""Builders with valid defaults, and an API client that acts as a given user."""

import itertools
import threading
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from liveblog import accounts
from liveblog import blogs
from liveblog import db
from liveblog import desks
from liveblog import store
from liveblog.models import Blog
from liveblog.models import User
from liveblog.themes import Themes
from tests.support import wait_until

_numbers = itertools.count(1)


def app_config(database_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """The settings every test app runs with: a real database, no scheduler thread."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "BASE_URL": "https://news.example",
        "MEDIA_PATH": str(tmp_path / "media"),
        "SCHEDULER_INTERVAL": 0,
        "EMBED_LOOKUP_INTERVAL": 0,
        **overrides,
    }


def shut(app: Flask) -> None:
    """Stop the app's threads (notifier source, scheduler, link look-ups, WebSub pings,
    front purges, Pushpin publishes), then close its connections."""
    live = app.extensions["liveblog.live"]
    live.source.stop(timeout=5)
    for publisher in live.publishers:
        publisher.stop(timeout=5)
    app.extensions["liveblog.scheduler"].stop(timeout=5)
    app.extensions["liveblog.lookups"].stop(timeout=5)
    if pinger := app.extensions.get("liveblog.websub"):
        pinger.notifier.stop(timeout=5)
    if purger := app.extensions.get("liveblog.purge"):
        purger.purger.stop(timeout=5)
    db.database(app).engine.dispose()


def wait_until_current(app: Flask) -> None:
    """Wait for the notifier's source to catch up with the database after it starts."""
    source = app.extensions["liveblog.live"].source
    wait_until(source.is_current, message="the notifier's source never caught up")


@contextmanager
def statements_of_this_thread(app: Flask) -> Iterator[list[str]]:
    """The SQL this thread sends while the block runs (the notifier's own polls excluded)."""
    statements: list[str] = []
    me = threading.get_ident()

    def record(connection, cursor, statement, *args):
        if threading.get_ident() == me:
            statements.append(statement)

    engine = db.database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def make_user(
    session: Session, role: str = "editor", *, on_desks: bool = True, **overrides: Any
) -> User:
    """A user with ``role``; ``on_desks``: on the desk of every blog there is yet, with
    their own role, as a newsroom's editors and contributors usually are."""
    number = next(_numbers)
    values = {
        "email": f"{role}{number}@news.example",
        "password": "correct horse battery",
        "name": None,
    }
    values.update(overrides)
    user = accounts.create_user(session, values["email"], role, values["password"], values["name"])
    if on_desks and role != "admin":
        join_every_desk(session, user)
    return user


def make_blog(
    session: Session,
    admin: User | None = None,
    *,
    desk: Iterable[User] | None = None,
    **overrides: Any,
) -> Blog:
    """A live blog, created through the use case by ``admin`` (a new admin by default),
    with ``desk`` on its desk (by default every editor and contributor there is yet, with
    their own role, as the migration to desks left every blog)."""
    values = {"slug": f"blog-{next(_numbers)}", "title": "Hama offensive", "status": "live"}
    values.update(overrides)
    admin = admin or make_user(session, "admin", password=None)
    blog = blogs.create_blog(session, Themes(), values, admin)
    staff_desk(session, blog, desk)
    return blog


def staff_desk(session: Session, blog: Blog, desk: Iterable[User] | None = None) -> None:
    """Put ``desk`` (by default every editor and contributor there is) on ``blog``'s desk."""
    with store.transaction(session):
        for user in desks.candidates(session) if desk is None else desk:
            if desks.role_on(session, user, blog) is None:
                desks.join(session, blog, user)


def join_every_desk(session: Session, user: User) -> None:
    """Put ``user`` on the desk of every blog there is, with their own role."""
    with store.transaction(session):
        for blog in store.list_blogs(session):
            if desks.role_on(session, user, blog) is None:
                desks.join(session, blog, user)


class ApiClient:
    """Calls /api/v1 with a bearer token; ``as_role`` and ``as_user`` switch who is calling."""

    def __init__(self, client: FlaskClient, session: Session) -> None:
        self.client = client
        self.session = session
        self.token = ""
        self.user: User | None = None

    def as_user(self, user: User, *, on_desks: bool = True) -> "ApiClient":
        """``user`` calling the API; ``on_desks``: on the desk of every blog there is yet,
        with their own role, as a newsroom's editors and contributors usually are."""
        other = ApiClient(self.client, self.session)
        other.user = user
        other.token = accounts.create_token(self.session, user)
        if on_desks:
            join_every_desk(self.session, user)
        return other

    def as_role(self, role: str, *, on_desks: bool = True, **overrides: Any) -> "ApiClient":
        """A new user with ``role``, calling the API with their own token (and on every
        desk, unless not ``on_desks``).

        API users get no password by default: they need none, and hashing one is most of
        what a test costs.
        """
        user = make_user(self.session, role, on_desks=on_desks, **{"password": None, **overrides})
        return self.as_user(user, on_desks=on_desks)

    def _call(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("DELETE", path, **kwargs)

    def post_entry(self, blog: str = "hama", **fields: Any) -> dict[str, Any]:
        """Create an entry (Markdown body by default) and return its JSON; fails loudly."""
        if "blocks" not in fields:
            fields.setdefault("body", "Rebels advance on Qomhana.")
        response = self.post(f"/api/v1/blogs/{blog}/entries", json=fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def edit_entry(self, entry: dict[str, Any], **fields: Any) -> TestResponse:
        """PATCH ``entry`` with its current version as If-Match."""
        path = f"/api/v1/blogs/{entry['blog']}/entries/{entry['id']}"
        return self.patch(path, json=fields, headers={"If-Match": f'"{entry["version"]}"'})


def open_blog(api: ApiClient, **fields: Any) -> dict[str, Any]:
    """A blog an admin creates through the API, with every editor and contributor there
    is on its desk (as the fixtures' blog 'hama'); returns its JSON."""
    response = api.as_role("admin").post("/api/v1/blogs", json=fields)
    assert response.status_code == 201, response.get_json()
    staff_desk(api.session, store.get_blog(api.session, fields["slug"]))
    return response.get_json()  # type: ignore[no-any-return]


PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status`` and a message; return it."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert PROBLEM_KEYS <= problem.keys(), problem
    assert problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"].strip()
    return problem  # type: ignore[no-any-return]


def changes(session: Session, slug: str = "hama") -> list[tuple[int, str, int | None]]:
    """(seq, kind, entry id) of every change of a blog, read afresh (ending any older snapshot)."""
    session.rollback()
    blog = store.get_blog(session, slug)
    return [(c.seq, c.kind, c.entry_id) for c in store.changes_since(session, blog, 0)]
