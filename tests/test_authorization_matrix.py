"""Who gets what from every API route and every editor page: one table, a test per cell.

Each row of ``ROWS`` is a route (and, where it matters, what the call is about), the call
made to it, which succeeds for a caller who is allowed, and the status each kind of
caller gets, in the order of ``CALLERS``:

- anonymous: no credentials (posting a form: a visitor whose cookie holds a CSRF token).
- contributor, editor, admin: an active user's API token, or their editor session cookie.
- deactivated: an admin deactivated after being given them: their old token, their old
  session cookie.
- revoked: an active admin's revoked API token; in the editor, the cookie of a session
  that has ended (logged out).
- outsider: an active editor who is not on the blog's desk: refused everything about the
  blog (403), as an editor elsewhere.

Contributor and editor are on the blog's desk with their own roles; admins are on every desk.

API rows are called with a bearer token, except the ``cookie`` rows, called the way the
editor's pages call the API: the session cookie, with or without the X-CSRF-Token header.
Editor forms are posted with and without their CSRF field; those rows say what each
caller gets both ways (``no_csrf``).

An allowed call must have had its effect (``Call.done``); any other answer must have left
everything stored as it was. The source is the README: the Editor API's "who" column and
"Editor pages"; where they leave room, a comment at the row says how it was read.

The tests share one app and database per backend, and a world in it (a blog, its people,
entries and credentials, made through the use cases), since making them costs several
times a call: a call that was refused or only reads must leave the world as it was, as
each test asserts, so the next test reuses it; after an allowed write (or a failure) the
next test gets a new world in an emptied database.
"""

import io
import itertools
import json
import secrets
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from liveblog import accounts
from liveblog import blogs
from liveblog import create_app
from liveblog import db
from liveblog import desks
from liveblog import publishing
from liveblog import store
from liveblog.models import ApiToken
from liveblog.models import Base
from liveblog.models import Blog
from liveblog.models import Editing
from liveblog.models import Entry
from liveblog.models import User
from liveblog.web.editor import static_url
from tests.editor_helpers import PASSWORD
from tests.factories import app_config
from tests.factories import assert_problem
from tests.factories import changes
from tests.factories import make_blog
from tests.factories import make_user
from tests.factories import shut
from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.test_oembed import TWEET
from tests.test_oembed import TWEET_ANSWER

CALLERS = ("anonymous", "contributor", "editor", "admin", "deactivated", "revoked", "outsider")
# Whose account each caller uses; "reporter" is a contributor no test calls as: the author
# of "another's draft", and the user the user-management and desk rows act on; "stringer"
# is a contributor off the desk, whom the desk rows add.
ROLE_OF = {
    "contributor": "contributor",
    "editor": "editor",
    "admin": "admin",
    "deactivated": "admin",
    "revoked": "admin",
    "outsider": "editor",
    "reporter": "contributor",
    "stringer": "contributor",
}
ON_THE_DESK = ("contributor", "editor", "reporter")
BODY = "Rebels advance on Qomhana."
CSRF_REFUSED = "did not come from this site"
# Why a page or form refuses someone whose CSRF token is right.
PAGE_REFUSALS = ("Only admins", "Only the editors of", "You are not on the desk of")
_worlds = itertools.count(1)


# The world each test calls into


@dataclass(frozen=True)
class Account:
    """A user as the tests name them, read once (their rows are refreshed after every call)."""

    id: int
    email: str
    name: str


@dataclass
class World:
    """A live blog, its people and entries, and every caller's credentials, made through
    the use cases.

    Entries are named as the contributor caller sees them: "own draft" and "own
    published" are theirs, "another's draft" is the reporter's, "published" an editor's.
    """

    app: Flask
    session: Session
    blog: str
    people: dict[str, Account]
    entries: dict[str, int]
    tokens: dict[str, str]  # each caller's API token (the deactivated's and the revoked one)
    sessions: dict[str, str]  # each caller's editor session secret, for their cookie
    spare_token: tuple[int, str]  # the reporter's API token (id, secret), which rows revoke
    static: str  # the editor's script, at its URL
    number: int  # which world this is: each uploads a photo of its own

    @property
    def media(self) -> Path:
        return Path(self.app.config["MEDIA_PATH"])


@cache
def password_hash() -> str:
    """One hash for every account of every world: hashing is most of what a user costs."""
    return generate_password_hash(PASSWORD)


def build_world(app: Flask, session: Session) -> World:
    users = {name: make_user(session, role, password=None) for name, role in ROLE_OF.items()}
    with store.transaction(session):
        for user in users.values():
            user.password_hash = password_hash()
    blog = make_blog(session, users["admin"], desk=[users[name] for name in ON_THE_DESK])
    themes = app.extensions["liveblog.themes"]

    def write(author: str) -> Entry:
        data = {"body": BODY}  # a contributor's is a draft, an editor's is published
        return publishing.create_entry(session, themes, blog.slug, data, users[author])

    own_published = write("contributor")
    publishing.update_entry(
        session, themes, blog.slug, own_published.id, {"status": "published"},
        users["editor"], publishing.entry_etag(own_published),
    )  # fmt: skip
    entries = {
        "own draft": write("contributor").id,
        "another's draft": write("reporter").id,
        "published": write("editor").id,
        "own published": own_published.id,
    }
    callers = [kind for kind in CALLERS if kind in users]
    tokens = {kind: accounts.create_token(session, users[kind]) for kind in callers}
    sessions = {kind: accounts.open_session(session, users[kind]) for kind in callers}
    accounts.revoke_token(session, users["admin"], token_id(session, tokens["revoked"]))
    accounts.close_session(session, sessions["revoked"])
    with store.transaction(session):
        # Only the flag: change_user would also end the user's sessions, and then the
        # check on ``active`` itself would go untested.
        users["deactivated"].active = False
    spare = accounts.create_token(session, users["reporter"], "spare")
    return World(
        app=app,
        session=session,
        blog=blog.slug,
        people={name: Account(user.id, user.email, user.name) for name, user in users.items()},
        entries=entries,
        tokens=tokens,
        sessions=sessions,
        spare_token=(token_id(session, spare), spare),
        static=static_path(app),
        number=next(_worlds),
    )


def token_id(session: Session, token: str) -> int:
    found = session.scalar(
        select(ApiToken.id).where(ApiToken.token_hash == store.hash_token(token))
    )
    assert found is not None
    return found


class Worlds:
    """The world the tests call into, shared until a call changes it.

    A test borrows it and gives it back only if it ended with everything stored as it
    was; after an allowed write or a failure, the next test gets a new world, in a
    database emptied for it.
    """

    def __init__(self, app: Flask, session: Session) -> None:
        self.app, self.session = app, session
        self.idle: World | None = None

    def borrow(self) -> World:
        world, self.idle = self.idle, None
        if world is not None:
            return world
        self.session.rollback()
        self.session.expunge_all()  # the old world's rows, whose ids SQLite may reuse
        with store.transaction(self.session):
            for table in reversed(Base.metadata.sorted_tables):
                self.session.execute(table.delete())
        return build_world(self.app, self.session)

    def give_back(self, world: World) -> None:
        world.session.rollback()  # no snapshot held open while no one uses it
        self.idle = world


def fresh(world: World) -> Session:
    """The test's session with its snapshot ended, so it reads what the app committed."""
    world.session.rollback()
    return world.session


# Not compared: a failed log-in is recorded on purpose, a refused one too.
UNWATCHED = {"login_attempts"}


def stored(world: World) -> dict[str, Any]:
    """Everything a call could change: every row of every table (the world is all the
    database holds), and the media folder."""
    session = fresh(world)
    rows = {
        table.name: session.execute(select(table).order_by(*table.primary_key)).all()
        for table in Base.metadata.sorted_tables
        if table.name not in UNWATCHED
    }
    return {
        **rows,
        "media": sorted(str(path.relative_to(world.media)) for path in world.media.rglob("*")),
    }


# Callers


@dataclass
class Caller:
    kind: str
    account: Account | None
    client: FlaskClient
    headers: dict[str, str]
    csrf: str  # the form field to post ("" for none)


def make_caller(world: World, row: "Row", kind: str, csrf: bool) -> Caller:
    """``kind`` calling ``row``'s route: with their token, or (editor pages, cookie rows)
    with the cookie their browser would have, sending its CSRF token if ``csrf``."""
    account = world.people.get(kind)
    client = world.app.test_client()
    if row.by_token:
        headers = {"Authorization": f"Bearer {world.tokens[kind]}"} if account else {}
        return Caller(kind, account, client, headers, "")
    csrf_token = secrets.token_urlsafe(16)
    if account or csrf:
        with client.session_transaction() as cookie:
            cookie["csrf"] = csrf_token  # what the log-in page gives every visitor
            if account:
                cookie["session"] = world.sessions[kind]
                cookie.permanent = True
    sent = csrf_token if csrf else ""
    if row.path.startswith("/api/"):
        return Caller(kind, account, client, {"X-CSRF-Token": sent} if sent else {}, "")
    return Caller(kind, account, client, {}, sent)


# Calls: a request that works for an allowed caller, and what it must then have done


@dataclass(frozen=True)
class Case:
    """One cell of the table: a row's call, by one caller, in one world."""

    world: World
    row: "Row"
    caller: Caller

    @property
    def entry(self) -> int:
        return self.world.entries[self.row.target]

    @property
    def user(self) -> int:
        """The user a user-management or desk row acts on: the reporter (or the stringer,
        whom the desk rows add), or the caller themself."""
        if self.row.target == "self" and self.caller.account is not None:
            return self.caller.account.id
        return self.world.people["stringer" if self.row.target == "stringer" else "reporter"].id

    @property
    def path(self) -> str:
        return self.row.path.format(
            blog=self.world.blog,
            entry=self.world.entries.get(self.row.target, 0),
            user=self.user,
            token=self.world.spare_token[0],
            static=self.world.static,
        )

    def if_match(self) -> dict[str, str]:
        entry = fresh(self.world).get(Entry, self.entry, populate_existing=True)
        assert entry is not None
        return {"If-Match": publishing.entry_etag(entry)}


Send = Callable[[Case], dict[str, Any]]
Done = Callable[[Case, TestResponse, dict[str, Any]], None]


@dataclass(frozen=True)
class Call:
    ok: int  # the status of a call that was allowed
    send: Send  # the request's keyword arguments (json, data, headers…)
    done: Done  # asserts the call's effect, given what was stored before it
    writes: bool = True  # a call that only reads must leave everything as it was


def static_path(app: Flask) -> str:
    with app.test_request_context():
        return static_url("editor.js")


def nothing(case: Case) -> dict[str, Any]:
    return {}


def form(**fields: str) -> Send:
    return lambda case: {"data": fields}


def entry_now(case: Case, entry_id: int | None = None) -> Entry:
    entry = fresh(case.world).get(Entry, entry_id or case.entry, populate_existing=True)
    assert entry is not None
    return entry


def new_changes(case: Case, before: dict[str, Any]) -> list[tuple[str, int | None]]:
    """The changes logged for the world's blog since ``before``."""
    last_seq = next(blog.last_seq for blog in before["blogs"] if blog.slug == case.world.blog)
    logged = changes(fresh(case.world), case.world.blog)
    return [(kind, entry) for seq, kind, entry in logged if seq > last_seq]


def was_published(case: Case, before: dict[str, Any]) -> bool:
    return any(row.id == case.entry and row.status == "published" for row in before["entries"])


def new_slug(case: Case) -> str:
    return f"{case.world.blog}-aleppo"


def new_email(case: Case) -> str:
    return f"new-{case.world.blog}@news.example"


def token_user(case: Case, token: str) -> int | None:
    user = store.user_for_token(fresh(case.world), token)
    return user.id if user else None


# API: blogs


def served_the_contract(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.get_json()["openapi"] == "3.1.0"


def served_the_contract_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert "Liveblog editor API" in page_text(response)


def on_the_desk(case: Case) -> bool:
    return case.caller.kind != "outsider"


def listed_the_blog(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    listed = [blog["slug"] for blog in response.get_json()["items"]]
    assert (case.world.blog in listed) is on_the_desk(case)


def showed_the_blog(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.get_json()["slug"] == case.world.blog


def created_the_blog(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.headers["Location"] == f"/api/v1/blogs/{new_slug(case)}"
    assert store.get_blog(fresh(case.world), new_slug(case)).title == "Battle for Aleppo"


def retitled_the_blog(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert store.get_blog(fresh(case.world), case.world.blog).title == "Battle for Hama"
    assert new_changes(case, before) == [("blog.updated", None)]


def blog_etag(case: Case) -> str:
    return blogs.blog_etag(store.get_blog(fresh(case.world), case.world.blog))


def deleted_the_blog(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    blog = fresh(case.world).scalars(select(Blog).where(Blog.slug == case.world.blog)).one()
    assert blog.status == "deleted"
    assert case.caller.client.get(f"/{case.world.blog}/").status_code == 410


def listed_the_desk(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    listed = {member["id"] for member in response.get_json()["items"]}
    assert listed == {case.world.people[name].id for name in (*ON_THE_DESK, "admin")}


def desk_now(case: Case) -> dict[int, str]:
    session = fresh(case.world)
    members = desks.members(
        session, session.get(User, case.world.people["admin"].id), case.world.blog
    )
    return {member.id: member.role for member in members}


def added_the_stringer(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert desk_now(case)[case.user] == "contributor"


def removed_the_reporter(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert case.user not in desk_now(case)


LIST_BLOGS = Call(200, nothing, listed_the_blog, writes=False)
CONTRACT = Call(200, nothing, served_the_contract, writes=False)
CONTRACT_PAGE = Call(200, nothing, served_the_contract_page, writes=False)
GET_BLOG = Call(200, nothing, showed_the_blog, writes=False)
CREATE_BLOG = Call(
    201,
    lambda case: {"json": {"slug": new_slug(case), "title": "Battle for Aleppo"}},
    created_the_blog,
)
UPDATE_BLOG = Call(200, lambda case: {"json": {"title": "Battle for Hama"}}, retitled_the_blog)
DELETE_BLOG = Call(204, lambda case: {"headers": {"If-Match": blog_etag(case)}}, deleted_the_blog)
LIST_MEMBERS = Call(200, nothing, listed_the_desk, writes=False)
ADD_MEMBER = Call(
    201, lambda case: {"json": {"user": case.user, "role": "contributor"}}, added_the_stringer
)
REMOVE_MEMBER = Call(204, nothing, removed_the_reporter)


# API: entries


def listed_what_they_may_see(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    listed = {entry["id"] for entry in response.get_json()["items"]}
    entries = case.world.entries
    if case.caller.kind == "contributor":
        assert listed == {entries["own draft"], entries["published"], entries["own published"]}
    else:
        assert listed == set(entries.values())


def saved_a_draft(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    made = response.get_json()
    assert response.headers["Location"] == f"/api/v1/blogs/{case.world.blog}/entries/{made['id']}"
    entry = entry_now(case, made["id"])
    assert case.caller.account is not None
    assert (entry.status, entry.author_id) == ("draft", case.caller.account.id)
    assert new_changes(case, before) == []


def published_an_entry(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    made = response.get_json()
    assert entry_now(case, made["id"]).status == "published"
    assert new_changes(case, before) == [("entry.published", made["id"])]


def previewed(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert "<strong>near</strong>" in response.get_json()["html"]


def read_the_label(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.get_json()["label"]["written"] == "UPDATE 0745 GMT:"


def looked_up_again(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.get_json()["id"] == case.entry
    assert entry_now(case).version == next(
        r.version for r in before["entries"] if r.id == case.entry
    )


def showed_the_entry(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.get_json()["id"] == case.entry


def edited_the_entry(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    entry = entry_now(case)
    assert entry.headline == "Checked by the desk"
    assert (
        entry.version
        == response.get_json()["version"]
        == 1 + next(row.version for row in before["entries"] if row.id == case.entry)
    )
    expected = [("entry.updated", case.entry)] if was_published(case, before) else []
    assert new_changes(case, before) == expected


def published_the_draft(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert entry_now(case).status == "published"
    assert new_changes(case, before) == [("entry.published", case.entry)]


def deleted_the_entry(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert entry_now(case).status == "deleted"
    expected = [("entry.deleted", case.entry)] if was_published(case, before) else []
    assert new_changes(case, before) == expected


def listed_every_version(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    versions = [item["version"] for item in response.get_json()["items"]]
    assert versions == list(range(entry_now(case).version, 0, -1))


def exported_every_entry(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    document = json.loads(response.get_data(as_text=True))
    assert document["blog"]["slug"] == case.world.blog
    assert {entry["id"] for entry in document["entries"]} == set(case.world.entries.values())


LIST_ENTRIES = Call(200, nothing, listed_what_they_may_see, writes=False)
CREATE_DRAFT = Call(201, lambda case: {"json": {"body": BODY, "status": "draft"}}, saved_a_draft)
CREATE_PUBLISHED = Call(
    201, lambda case: {"json": {"body": BODY, "status": "published"}}, published_an_entry
)
PREVIEW = Call(
    200, lambda case: {"json": {"body": "Fighting **near** the airport."}}, previewed, writes=False
)
READ_LABELS = Call(
    200, lambda case: {"json": {"body": "UPDATE 0745 GMT: Fighting."}}, read_the_label, writes=False
)
GET_ENTRY = Call(200, nothing, showed_the_entry, writes=False)
EDIT_ENTRY = Call(
    200,
    lambda case: {"json": {"headline": "Checked by the desk"}, "headers": case.if_match()},
    edited_the_entry,
)
PUBLISH_ENTRY = Call(
    200,
    lambda case: {"json": {"status": "published"}, "headers": case.if_match()},
    published_the_draft,
)
DELETE_ENTRY = Call(204, lambda case: {"headers": case.if_match()}, deleted_the_entry)
LIST_REVISIONS = Call(200, nothing, listed_every_version, writes=False)
RETRY_LOOKUPS = Call(202, nothing, looked_up_again)
EXPORT = Call(200, nothing, exported_every_entry, writes=False)


# API: users and tokens


def listed_the_people(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    users = response.get_json()["items"]
    assert {person.email for person in case.world.people.values()} <= {u["email"] for u in users}
    reporter = next(u for u in users if u["id"] == case.world.people["reporter"].id)
    assert [token["id"] for token in reporter["tokens"]] == [case.world.spare_token[0]]
    assert set(reporter["tokens"][0]) == {"id", "label", "created_at", "revoked_at"}


def created_the_user(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    user = store.get_user_by_email(fresh(case.world), new_email(case))
    assert user is not None and user.role == "contributor" and user.active


def promoted_the_user(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    user = fresh(case.world).get(User, case.user, populate_existing=True)
    assert user is not None and user.role == "editor"


def gave_a_token(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert token_user(case, response.get_json()["token"]) == case.user


def revoked_the_token(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert token_user(case, case.world.spare_token[1]) is None


LIST_USERS = Call(200, nothing, listed_the_people, writes=False)
CREATE_USER = Call(
    201, lambda case: {"json": {"email": new_email(case), "role": "contributor"}}, created_the_user
)
PROMOTE_USER = Call(200, lambda case: {"json": {"role": "editor"}}, promoted_the_user)


def showed_my_profile(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert case.caller.account is not None
    assert response.get_json()["id"] == case.caller.account.id


def title_of(case: Case, user_id: int) -> str:
    user = fresh(case.world).get(User, user_id, populate_existing=True)
    assert user is not None
    return user.title


def retitled_me(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert case.caller.account is not None
    assert title_of(case, case.caller.account.id) == "Night editor"


def retitled_the_user(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert title_of(case, case.user) == "Night editor"


GET_ME = Call(200, nothing, showed_my_profile, writes=False)
RETITLE_ME = Call(200, lambda case: {"json": {"title": "Night editor"}}, retitled_me)
RETITLE_USER = Call(200, lambda case: {"json": {"title": "Night editor"}}, retitled_the_user)
CREATE_TOKEN = Call(201, lambda case: {"json": {"label": "newsroom bot"}}, gave_a_token)
REVOKE_TOKEN = Call(204, nothing, revoked_the_token)


# API: embeds and uploads


def resolved_the_post(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    block = response.get_json()["block"]
    assert (block["type"], block["author_name"]) == ("social", "Some One")


def photo(case: Case) -> dict[str, Any]:
    picture = image_bytes((64, 48), "PNG", color=f"#{case.world.number:06x}")
    return {
        "data": {"file": (io.BytesIO(picture), "photo.png")},
        "content_type": "multipart/form-data",
    }


def stored_the_photo(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    name = response.get_json()["url"].removeprefix("/media/")
    assert name not in before["media"]
    assert (case.world.media / name).is_file()


RESOLVE = Call(200, lambda case: {"json": {"url": TWEET}}, resolved_the_post, writes=False)
UPLOAD = Call(201, photo, stored_the_photo)


# Editor pages and forms


def page_text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def showed_the_login_form(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert 'name="csrf_token"' in page_text(response)


def listed_the_blog_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert (f'data-slug="{case.world.blog}"' in page_text(response)) is on_the_desk(case)


def opened_the_composer(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert f'data-api="/api/v1/blogs/{case.world.blog}"' in page_text(response)


def showed_a_label(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.get_json()["label"].startswith("UPDATE ")


def showed_the_reader_frame(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert 'id="updates"' in page_text(response)


def opened_the_desk_stream(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.mimetype == "text/event-stream"
    assert next(iter(response.response)).startswith(b"retry: ")


def marked_as_editing(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert case.caller.account is not None
    marks = fresh(case.world).scalars(select(Editing)).all()
    assert [(m.entry_id, m.user_id) for m in marks] == [(case.entry, case.caller.account.id)]


def listed_the_people_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert case.world.people["reporter"].email in page_text(response)


def served_the_script(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.mimetype == "text/javascript"


def who_logs_in(case: Case) -> Account:
    """Everyone logs in as themselves; a visitor knows the reporter's password."""
    return case.caller.account or case.world.people["reporter"]


def sessions_of(account: Account, rows: list[Any]) -> int:
    return sum(1 for row in rows if row.user_id == account.id)


def logged_in(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.headers["Location"] == "/editor/"
    who = who_logs_in(case)
    after = stored(case.world)["editor_sessions"]
    # One new session; one this browser already had (for whoever) ends with it.
    new = {row.token_hash for row in after} - {row.token_hash for row in before["editor_sessions"]}
    assert len(new) == 1
    assert sessions_of(who, after) <= sessions_of(who, before["editor_sessions"]) + 1
    assert len(after) <= len(before["editor_sessions"]) + 1
    dashboard = case.caller.client.get("/editor/")
    assert dashboard.status_code == 200
    assert who.name in page_text(dashboard)


def logged_out(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.headers["Location"] == "/editor/login"
    assert case.caller.account is not None
    after = stored(case.world)["editor_sessions"]
    assert sessions_of(case.caller.account, after) == 0
    assert case.caller.client.get("/editor/").status_code == 302


def created_the_blog_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.headers["Location"] == f"/editor/blogs/{new_slug(case)}/"
    assert store.get_blog(fresh(case.world), new_slug(case)).title == "Battle for Aleppo"


def ended_the_blog(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.headers["Location"] == "/editor/"
    assert store.get_blog(fresh(case.world), case.world.blog).status == "ended"
    assert new_changes(case, before) == [("blog.updated", None)]


def created_the_user_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert f"{new_email(case)} can now log in as contributor" in page_text(response)
    created_the_user(case, response, before)


def promoted_the_user_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert "is now editor, active" in page_text(response)
    promoted_the_user(case, response, before)


def showed_the_new_token(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    shown = BeautifulSoup(page_text(response), "html.parser").select_one("#new-token")
    assert shown is not None and token_user(case, shown.text) == case.user


def revoked_the_token_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert "no longer works" in page_text(response)
    revoked_the_token(case, response, before)


def added_the_stringer_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert "is now on the desk as contributor" in page_text(response)
    added_the_stringer(case, response, before)


def removed_the_reporter_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert "no longer on the desk" in page_text(response)
    removed_the_reporter(case, response, before)


def deleted_the_blog_page(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.headers["Location"] == "/editor/"
    deleted_the_blog(case, response, before)


LOGIN_PAGE = Call(200, nothing, showed_the_login_form, writes=False)
LOG_IN = Call(
    303,
    lambda case: {"data": {"email": who_logs_in(case).email, "password": PASSWORD}},
    logged_in,
)
LOG_OUT = Call(303, form(), logged_out)
DASHBOARD = Call(200, nothing, listed_the_blog_page, writes=False)
COMPOSE = Call(200, nothing, opened_the_composer, writes=False)
USERS_PAGE = Call(200, nothing, listed_the_people_page, writes=False)


def showed_my_profile_form(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert case.caller.account is not None
    assert f'value="{case.caller.account.name}"' in page_text(response)


def retitled_me_by_form(case: Case, response: TestResponse, before: dict[str, Any]) -> None:
    assert response.headers["Location"] == "/editor/profile?saved=yes"
    retitled_me(case, response, before)


PROFILE_PAGE = Call(200, nothing, showed_my_profile_form, writes=False)


def profile_form(case: Case) -> dict[str, Any]:
    name = case.caller.account.name if case.caller.account else "Someone"
    return {"data": {"name": name, "title": "Night editor"}}


PROFILE_FORM = Call(303, profile_form, retitled_me_by_form)
LABEL_EXAMPLE = Call(200, nothing, showed_a_label, writes=False)
READER_FRAME = Call(200, nothing, showed_the_reader_frame, writes=False)
DESK_EVENTS = Call(200, nothing, opened_the_desk_stream, writes=False)
MARK_EDITING = Call(204, form(state="open"), marked_as_editing)
STATIC = Call(200, nothing, served_the_script, writes=False)
CREATE_BLOG_FORM = Call(
    303,
    lambda case: {
        "data": {
            "title": "Battle for Aleppo",
            "slug": new_slug(case),
            "timezone": "UTC",
            "label_format": "UPDATE %H%M %Z",
            "theme": "default",
            "status": "live",
        }
    },
    created_the_blog_page,
)
END_BLOG_FORM = Call(303, form(status="ended"), ended_the_blog)
CREATE_USER_FORM = Call(
    201,
    lambda case: {"data": {"email": new_email(case), "name": "Rima", "role": "contributor"}},
    created_the_user_page,
)
PROMOTE_USER_FORM = Call(200, form(role="editor"), promoted_the_user_page)
ADD_MEMBER_FORM = Call(
    200,
    lambda case: {"data": {"user": str(case.user), "role": "contributor"}},
    added_the_stringer_page,
)
REMOVE_MEMBER_FORM = Call(200, form(), removed_the_reporter_page)
DELETE_BLOG_FORM = Call(
    303,
    lambda case: {"data": {"confirm": case.world.blog, "etag": blog_etag(case)}},
    deleted_the_blog_page,
)
CREATE_TOKEN_FORM = Call(201, form(label="newsroom bot"), showed_the_new_token)
REVOKE_TOKEN_FORM = Call(200, form(), revoked_the_token_page)


# The table


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # {blog}, {entry}, {user}, {token} and {static} are filled from the world
    call: Call
    expect: tuple[int, ...]  # the status each of CALLERS gets
    no_csrf: tuple[int, ...] | None = None  # the same, without the CSRF token
    target: str = ""  # the entry ("own draft"…) or user ("reporter", "self") it acts on
    variant: str = ""  # which of a route's calls, when it has more than one row
    cookie: bool = False  # an API row called with the session cookie, as the editor's pages do

    @property
    def by_token(self) -> bool:
        return self.path.startswith("/api/") and not self.cookie

    @property
    def name(self) -> str:
        target = f" [{self.target}]" if self.target else ""
        variant = f" to {self.variant}" if self.variant else ""
        cookie = " with the cookie" if self.cookie else ""
        return f"{self.method} {self.path}{target}{variant}{cookie}"


# fmt: off
ROWS = [
    # API, with bearer tokens. README's "who" column, read so:
    # - "everyone" is everyone signed in: the API is the newsroom's; readers have the
    #   public pages and feeds, so no credentials is 401 on every API route;
    # - each role includes the ones below it (an admin is also an editor), and
    #   "contributors" on preview, embeds and uploads means contributors and up.
    #                                                                       anon cont edit admn deac revk outs
    # The contract and its page are for anyone who integrates: no credentials needed.
    Row("GET",    "/api/v1/openapi.json",                CONTRACT,         (200, 200, 200, 200, 200, 200, 200)),
    Row("GET",    "/api/v1/docs",                        CONTRACT_PAGE,    (200, 200, 200, 200, 200, 200, 200)),
    Row("GET",    "/api/v1/blogs",                       LIST_BLOGS,       (401, 200, 200, 200, 401, 401, 200)),
    Row("POST",   "/api/v1/blogs",                       CREATE_BLOG,      (401, 403, 403, 201, 401, 401, 403)),
    Row("GET",    "/api/v1/blogs/{blog}",                GET_BLOG,         (401, 200, 200, 200, 401, 401, 403)),
    Row("PATCH",  "/api/v1/blogs/{blog}",                UPDATE_BLOG,      (401, 403, 403, 200, 401, 401, 403)),
    Row("DELETE", "/api/v1/blogs/{blog}",                DELETE_BLOG,      (401, 403, 403, 204, 401, 401, 403)),
    # The desk: everyone on it sees who is; its editors (and admins) change it.
    Row("GET",    "/api/v1/blogs/{blog}/members",        LIST_MEMBERS,     (401, 200, 200, 200, 401, 401, 403)),
    Row("POST",   "/api/v1/blogs/{blog}/members",        ADD_MEMBER,       (401, 403, 201, 201, 401, 401, 403), target="stringer"),
    Row("DELETE", "/api/v1/blogs/{blog}/members/{user}", REMOVE_MEMBER,    (401, 403, 204, 204, 401, 401, 403), target="reporter"),
    # Contributors list the published entries and their own; editors every entry.
    Row("GET",    "/api/v1/blogs/{blog}/entries",        LIST_ENTRIES,     (401, 200, 200, 200, 401, 401, 403)),
    Row("POST",   "/api/v1/blogs/{blog}/entries",        CREATE_DRAFT,     (401, 201, 201, 201, 401, 401, 403), variant="draft"),
    Row("POST",   "/api/v1/blogs/{blog}/entries",        CREATE_PUBLISHED, (401, 403, 201, 201, 401, 401, 403), variant="publish"),
    Row("POST",   "/api/v1/blogs/{blog}/preview",        PREVIEW,          (401, 200, 200, 200, 401, 401, 403)),
    Row("POST",   "/api/v1/blogs/{blog}/labels",         READ_LABELS,      (401, 200, 200, 200, 401, 401, 403)),
    # "editors and admins": every entry in every status, drafts and their history too.
    Row("GET",    "/api/v1/blogs/{blog}/export",         EXPORT,           (401, 403, 200, 200, 401, 401, 403)),
    # "editors; contributors their own drafts". Another's draft is "not there" for a
    # contributor (404, in the words of a missing entry). A published entry, which
    # readers see anyway and the listing shows, is readable; changing it, even one's
    # own once published, is refused (403).
    Row("GET",    "/api/v1/blogs/{blog}/entries/{entry}", GET_ENTRY,       (401, 200, 200, 200, 401, 401, 403), target="own draft"),
    Row("GET",    "/api/v1/blogs/{blog}/entries/{entry}", GET_ENTRY,       (401, 404, 200, 200, 401, 401, 403), target="another's draft"),
    Row("GET",    "/api/v1/blogs/{blog}/entries/{entry}", GET_ENTRY,       (401, 200, 200, 200, 401, 401, 403), target="published"),
    Row("PATCH",  "/api/v1/blogs/{blog}/entries/{entry}", EDIT_ENTRY,      (401, 200, 200, 200, 401, 401, 403), target="own draft"),
    Row("PATCH",  "/api/v1/blogs/{blog}/entries/{entry}", PUBLISH_ENTRY,   (401, 403, 200, 200, 401, 401, 403), target="own draft", variant="publish"),
    Row("PATCH",  "/api/v1/blogs/{blog}/entries/{entry}", EDIT_ENTRY,      (401, 404, 200, 200, 401, 401, 403), target="another's draft"),
    Row("PATCH",  "/api/v1/blogs/{blog}/entries/{entry}", EDIT_ENTRY,      (401, 403, 200, 200, 401, 401, 403), target="published"),
    Row("PATCH",  "/api/v1/blogs/{blog}/entries/{entry}", EDIT_ENTRY,      (401, 403, 200, 200, 401, 401, 403), target="own published"),
    Row("DELETE", "/api/v1/blogs/{blog}/entries/{entry}", DELETE_ENTRY,    (401, 204, 204, 204, 401, 401, 403), target="own draft"),
    Row("DELETE", "/api/v1/blogs/{blog}/entries/{entry}", DELETE_ENTRY,    (401, 404, 204, 204, 401, 401, 403), target="another's draft"),
    Row("DELETE", "/api/v1/blogs/{blog}/entries/{entry}", DELETE_ENTRY,    (401, 403, 204, 204, 401, 401, 403), target="published"),
    Row("DELETE", "/api/v1/blogs/{blog}/entries/{entry}", DELETE_ENTRY,    (401, 403, 204, 204, 401, 401, 403), target="own published"),
    # Looking an entry's links up again is for whoever may edit it.
    Row("POST",   "/api/v1/blogs/{blog}/entries/{entry}/lookups", RETRY_LOOKUPS, (401, 202, 202, 202, 401, 401, 403), target="own draft"),
    Row("POST",   "/api/v1/blogs/{blog}/entries/{entry}/lookups", RETRY_LOOKUPS, (401, 404, 202, 202, 401, 401, 403), target="another's draft"),
    Row("POST",   "/api/v1/blogs/{blog}/entries/{entry}/lookups", RETRY_LOOKUPS, (401, 403, 202, 202, 401, 401, 403), target="published"),
    # "as GET", but a contributor sees the history of their own entries only: the earlier
    # versions of someone else's published entry may be drafts never published.
    Row("GET",    "/api/v1/blogs/{blog}/entries/{entry}/revisions", LIST_REVISIONS, (401, 200, 200, 200, 401, 401, 403), target="own draft"),
    Row("GET",    "/api/v1/blogs/{blog}/entries/{entry}/revisions", LIST_REVISIONS, (401, 404, 200, 200, 401, 401, 403), target="another's draft"),
    Row("GET",    "/api/v1/blogs/{blog}/entries/{entry}/revisions", LIST_REVISIONS, (401, 403, 200, 200, 401, 401, 403), target="published"),
    Row("GET",    "/api/v1/users",                       LIST_USERS,       (401, 403, 403, 200, 401, 401, 403)),
    Row("POST",   "/api/v1/users",                       CREATE_USER,      (401, 403, 403, 201, 401, 401, 403)),
    Row("PATCH",  "/api/v1/users/{user}",                PROMOTE_USER,     (401, 403, 403, 200, 401, 401, 403), target="reporter"),
    Row("PATCH",  "/api/v1/users/{user}",                PROMOTE_USER,     (401, 403, 403, 403, 401, 401, 403), target="self"),
    # A profile: its user's own to change, and any admin's (their own too, there).
    Row("PATCH",  "/api/v1/users/{user}",                RETITLE_USER,     (401, 403, 403, 200, 401, 401, 403), target="reporter", variant="profile"),
    Row("PATCH",  "/api/v1/users/{user}",                RETITLE_USER,     (401, 403, 403, 200, 401, 401, 403), target="self", variant="profile"),
    Row("GET",    "/api/v1/users/me",                    GET_ME,           (401, 200, 200, 200, 401, 401, 200)),
    Row("PATCH",  "/api/v1/users/me",                    RETITLE_ME,       (401, 200, 200, 200, 401, 401, 200)),
    Row("POST",   "/api/v1/users/{user}/tokens",         CREATE_TOKEN,     (401, 403, 403, 201, 401, 401, 403), target="reporter"),
    Row("DELETE", "/api/v1/tokens/{token}",              REVOKE_TOKEN,     (401, 403, 403, 204, 401, 401, 403)),
    Row("POST",   "/api/v1/embeds/resolve",              RESOLVE,          (401, 200, 200, 200, 401, 401, 200)),
    Row("POST",   "/api/v1/uploads",                     UPLOAD,           (401, 201, 201, 201, 401, 401, 201)),

    # API, with the editor's session cookie: the same answers with the X-CSRF-Token
    # header; without it, whoever the cookie names is refused.
    #                                                                       anon cont edit admn deac revk outs
    Row("GET",    "/api/v1/blogs",                       LIST_BLOGS,       (401, 200, 200, 200, 401, 401, 200),
        no_csrf=                                                           (401, 403, 403, 403, 401, 401, 403), cookie=True),
    Row("PATCH",  "/api/v1/blogs/{blog}",                UPDATE_BLOG,      (401, 403, 403, 200, 401, 401, 403),
        no_csrf=                                                           (401, 403, 403, 403, 401, 401, 403), cookie=True),
    Row("POST",   "/api/v1/blogs/{blog}/entries",        CREATE_DRAFT,     (401, 201, 201, 201, 401, 401, 403),
        no_csrf=                                                           (401, 403, 403, 403, 401, 401, 403), variant="draft", cookie=True),
    Row("DELETE", "/api/v1/blogs/{blog}/entries/{entry}", DELETE_ENTRY,    (401, 204, 204, 204, 401, 401, 403),
        no_csrf=                                                           (401, 403, 403, 403, 401, 401, 403), target="own draft", cookie=True),

    # Editor pages: without a live session (none, a deactivated user's, an ended one)
    # a page sends you to log in (302, with next=), and so does a form.
    #                                                                       anon cont edit admn deac revk outs
    Row("GET",    "/editor/login",                       LOGIN_PAGE,       (200, 302, 302, 302, 200, 200, 302)),
    Row("GET",    "/editor/",                            DASHBOARD,        (302, 200, 200, 200, 302, 302, 200)),
    Row("GET",    "/editor/blogs/{blog}/",               COMPOSE,          (302, 200, 200, 200, 302, 302, 403)),
    Row("GET",    "/editor/admin/users",                 USERS_PAGE,       (302, 403, 403, 200, 302, 302, 403)),
    Row("GET",    "/editor/profile",                     PROFILE_PAGE,     (302, 200, 200, 200, 302, 302, 200)),
    Row("GET",    "/editor/label-example",               LABEL_EXAMPLE,    (302, 200, 200, 200, 302, 302, 200)),
    Row("GET",    "/editor/blogs/{blog}/reader-frame",   READER_FRAME,     (302, 200, 200, 200, 302, 302, 403)),
    # The editors' stream: what each sees is theirs to see (tests/test_desk.py).
    Row("GET",    "/editor/blogs/{blog}/events",         DESK_EVENTS,      (302, 200, 200, 200, 302, 302, 403)),
    # The editor's own CSS and JavaScript are no secret: the log-in page needs them.
    Row("GET",    "{static}",                            STATIC,           (200, 200, 200, 200, 200, 200, 200)),
    # Forms need their CSRF token, even an admin's; the log-in form too, for visitors.
    Row("POST",   "/editor/login",                       LOG_IN,           (303, 303, 303, 303, 401, 303, 303),
        no_csrf=                                                           (403, 403, 403, 403, 403, 403, 403)),
    Row("POST",   "/editor/logout",                      LOG_OUT,          (302, 303, 303, 303, 302, 302, 303),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403)),
    # "admins create blogs ... and end or reopen them"
    Row("POST",   "/editor/blogs",                       CREATE_BLOG_FORM, (302, 403, 403, 303, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403)),
    Row("POST",   "/editor/blogs/{blog}/status",         END_BLOG_FORM,    (302, 403, 403, 303, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403)),
    # "Delete this live blog", its slug typed to confirm: admins only.
    Row("POST",   "/editor/blogs/{blog}/delete",         DELETE_BLOG_FORM, (302, 403, 403, 303, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403)),
    # The compose page's Desk section: the blog's editors and admins add and remove.
    Row("POST",   "/editor/blogs/{blog}/members",        ADD_MEMBER_FORM,  (302, 403, 200, 200, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403), target="stringer"),
    Row("POST",   "/editor/blogs/{blog}/members/{user}/remove", REMOVE_MEMBER_FORM, (302, 403, 200, 200, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403), target="reporter"),
    # "/editor/admin/users: admins create users, change roles, ... create and revoke tokens"
    Row("POST",   "/editor/admin/users",                 CREATE_USER_FORM, (302, 403, 403, 201, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403)),
    Row("POST",   "/editor/admin/users/{user}",          PROMOTE_USER_FORM, (302, 403, 403, 200, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403), target="reporter"),
    Row("POST",   "/editor/admin/users/{user}/tokens",   CREATE_TOKEN_FORM, (302, 403, 403, 201, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403), target="reporter"),
    Row("POST",   "/editor/admin/tokens/{token}/revoke", REVOKE_TOKEN_FORM, (302, 403, 403, 200, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403)),
    # "each user's own profile page in the editor"
    Row("POST",   "/editor/profile",                     PROFILE_FORM,     (302, 303, 303, 303, 302, 302, 303),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403)),
    # Whoever may see an entry may say they are editing it.
    Row("POST",   "/editor/blogs/{blog}/entries/{entry}/editing", MARK_EDITING, (302, 204, 204, 204, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403), target="published"),
    Row("POST",   "/editor/blogs/{blog}/entries/{entry}/editing", MARK_EDITING, (302, 204, 204, 204, 302, 302, 403),
        no_csrf=                                                           (302, 403, 403, 403, 302, 302, 403), target="own draft"),
]
# fmt: on


def cells() -> list[Any]:
    """Every (row, caller, with the CSRF token or not) of the table, as test parameters."""
    found = []
    for row in ROWS:
        for kind in CALLERS:
            found.append(pytest.param(row, kind, True, id=f"{row.name}-{kind}"))
            if row.no_csrf:
                found.append(pytest.param(row, kind, False, id=f"{row.name}-{kind}-without-csrf"))
    return found


# Fixtures


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A fake oEmbed provider on 127.0.0.1 for the look-ups; yields its endpoint for X."""
    with fake_server() as server:
        yield server.route("/x/oembed", json.dumps(TWEET_ANSWER))


@pytest.fixture(scope="module")
def shared_app(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory, provider: str
) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("matrix")
    app = create_app(
        app_config(
            module_database_url,
            folder,
            OEMBED_ENDPOINTS={"x": provider},
            FETCH_PRIVATE_ADDRESSES=True,
        )
    )
    yield app
    shut(app)


@pytest.fixture(scope="module")
def worlds(shared_app: Flask) -> Iterator[Worlds]:
    with db.database(shared_app).sessions() as session:
        yield Worlds(shared_app, session)


# The tests


def send(case: Case) -> TestResponse:
    request = case.row.call.send(case)
    headers = {**case.caller.headers, **request.pop("headers", {})}
    if case.caller.csrf:
        request["data"] = {**request.get("data", {}), "csrf_token": case.caller.csrf}
    return case.caller.client.open(case.path, method=case.row.method, headers=headers, **request)


def assert_refused(case: Case, response: TestResponse, csrf: bool) -> None:
    """A refusal that says why: problem JSON from the API, a page (or a redirect to log
    in) from the editor."""
    status = response.status_code
    if case.row.path.startswith("/api/"):
        problem = assert_problem(response, status)
        if status == 401:
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="liveblog"'
            token_sent = "Authorization" in case.caller.headers
            assert ("has been revoked" if token_sent else "Send an 'Authorization") in problem[
                "detail"
            ]
        if status == 403:
            assert (CSRF_REFUSED in problem["detail"]) is not csrf, problem
        if status == 404:  # not yours, in the words of not there
            assert problem["detail"] == f"Live blog {case.world.blog!r} has no entry {case.entry}."
        return
    text = page_text(response)
    if status == 302:
        # Back to a page after logging in; a form's POST cannot be gone back to.
        to_log_in = (
            f"/editor/login?next={case.path}" if case.row.method == "GET" else "/editor/login"
        )
        expected = "/editor/" if case.row.path == "/editor/login" else to_log_in
        assert response.headers["Location"] == expected
    elif status == 403:
        reasons = (CSRF_REFUSED,) if not csrf else PAGE_REFUSALS
        assert any(reason in text for reason in reasons), text
    else:
        assert status == 401 and "do not match an active account" in text, text


@pytest.mark.parametrize(("row", "kind", "csrf"), cells())
def test_who_gets_what(worlds: Worlds, row: Row, kind: str, csrf: bool) -> None:
    world = worlds.borrow()
    case = Case(world, row, make_caller(world, row, kind, csrf))
    expected = (row.expect if csrf else row.no_csrf or ())[CALLERS.index(kind)]
    allowed = expected == row.call.ok
    before = stored(world)
    response = send(case)
    try:
        assert response.status_code == expected, page_text(response)[:1000]
        if allowed:
            row.call.done(case, response, before)
        else:
            assert_refused(case, response, csrf)
    finally:
        response.close()
    if allowed and row.call.writes:
        return  # the world has changed: the next test gets a new one
    assert stored(world) == before, "a call that was refused, or only reads, changed something"
    worlds.give_back(world)


DUMMIES = {
    "blog": "hama",
    "entry": 1,
    "user": 1,
    "token": 1,
    "static": "/editor/static/x/editor.js",
}


def test_every_api_route_and_editor_page_has_a_row(shared_app: Flask) -> None:
    """A new route without a row fails here, until the table says who may call it."""
    routes = {
        (rule.endpoint, method)
        for rule in shared_app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] in ("api", "editor")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    urls = shared_app.url_map.bind("news.example")
    in_table = {
        (urls.match(row.path.format(**DUMMIES), method=row.method)[0], row.method) for row in ROWS
    }
    assert sorted(routes - in_table) == [], "routes without a row"
    assert sorted(in_table - routes) == [], "rows without a route"


def test_the_table_is_well_formed() -> None:
    names = [row.name for row in ROWS]
    assert len(names) == len(set(names)), "two rows with one name"
    for row in ROWS:
        assert len(row.expect) == len(CALLERS), row.name
        # Cookies and forms need the CSRF token: those rows say what happens without it.
        needs_csrf = row.cookie or (row.path.startswith("/editor/") and row.method == "POST")
        assert (row.no_csrf is not None) is needs_csrf, row.name
        assert row.no_csrf is None or len(row.no_csrf) == len(CALLERS), row.name
