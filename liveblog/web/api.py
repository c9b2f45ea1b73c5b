"""Blueprint "api": the editors' JSON API under /api/v1, with bearer-token auth."""

import json
import re
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import jsonify
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from werkzeug.exceptions import RequestEntityTooLarge

from .. import accounts
from .. import blogs
from .. import db
from .. import desks
from .. import lookups
from .. import publishing
from .. import store
from ..blocks import MAX_MARKDOWN
from ..embeds import uploads
from ..embeds.images import srcset
from ..embeds.resolver import Resolver
from ..embeds.resolver import resolver_from
from ..errors import Forbidden
from ..errors import LiveblogError
from ..errors import PayloadTooLarge
from ..errors import Unauthorized
from ..errors import UnsupportedMediaType
from ..label_reader import ReadLabel
from ..label_reader import describe
from ..label_reader import split_updates
from ..labels import format_label
from ..models import Blog
from ..models import Entry
from ..models import User
from ..models import includes
from ..models import utcnow
from ..publishing import entry_etag
from ..transfer.export import Export
from ..validation import Fields
from ..validation import given
from ..validation import whole_number
from . import auth
from . import openapi
from .api_json import blog_json
from .api_json import entry_json
from .api_json import member_json
from .api_json import user_json
from .api_schemas import LABEL_FIELDS
from .api_schemas import MAX_PAGE_SIZE
from .api_schemas import RESOLVE_FIELDS
from .api_schemas import TOKEN_FIELDS
from .api_schemas import USER_CHANGES
from .api_schemas import USER_FIELDS
from .security import content_security_policy
from .templating import entry_view
from .templating import templates
from .templating import themes

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="../templates")
# Visible ASCII but for the quote and backslash: a structured-field string's characters.
REQUEST_KEY = re.compile(r"[!#-\[\]-~]{1,255}")


@bp.after_request
def never_stored(response: Response) -> Response:
    """API answers are one user's, and some carry secrets (a new token): no cache keeps them."""
    response.headers["Cache-Control"] = "no-store"
    return response


# The contract and its readable page, open to anyone who integrates with the API.
PUBLIC_ENDPOINTS = ("api.openapi_document", "api.docs")


@bp.before_request
def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header and (editor := auth.session_user()) is not None:
        auth.check_csrf(request)  # the editor's pages send the cookie and the CSRF header
        g.user = editor
        return
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Send an 'Authorization: Bearer <token>' header; "
            "an admin creates tokens with 'liveblog tokens create EMAIL'."
        )
    user = store.user_for_token(db.session(), token.strip())
    if user is None:
        raise Unauthorized(
            "This API token is not valid, has been revoked, or its user is deactivated."
        )
    g.user = user


def read_json() -> Any:
    """The request's JSON body; a clear 4xx for anything that is not one."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=False)
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise LiveblogError("The body is not valid UTF-8.") from None
    except json.JSONDecodeError as error:
        raise LiveblogError(
            f"The body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except (ValueError, RecursionError) as error:
        raise LiveblogError(f"The body is not valid JSON: {error}.") from None


def _request_key() -> str | None:
    """The request's Idempotency-Key: a structured-field string, as the IETF draft has it
    (``"8e03978e-…"``), or the same without its quotes, as most clients send it."""
    sent = request.headers.get("Idempotency-Key")
    if sent is None:
        return None
    key = sent.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not REQUEST_KEY.fullmatch(key):
        raise LiveblogError(
            "Idempotency-Key must be 1 to 255 visible ASCII characters without quotes or "
            "backslashes, such as a UUID: a new one for each new entry, the same one to retry."
        )
    return key


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _user() -> User:
    user: User = g.user
    return user


def _page_size() -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return int(current_app.config["API_PAGE_SIZE"])
    size = whole_number(raw, MAX_PAGE_SIZE)
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        raise LiveblogError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return size


def _entry_response(entry: Entry, blog: Blog, status: int = 200) -> Response:
    pending = lookups.unresolved(db.session(), [entry])
    response = jsonify(entry_json(entry, blog, pending[entry.id]))
    response.status_code = status
    response.headers["ETag"] = entry_etag(entry)
    if any(item["state"] == "pending" for item in pending[entry.id]):
        current_app.extensions["liveblog.lookups"].poke()
    return response


def contract() -> dict[str, Any]:
    """This app's OpenAPI document, built once."""
    found = current_app.extensions.get("liveblog.openapi")
    if found is None:
        found = openapi.document(current_app.config["BASE_URL"], themes().names())
        current_app.extensions["liveblog.openapi"] = found
    document: dict[str, Any] = found
    return document


@bp.get("/openapi.json")
def openapi_document() -> Any:
    """The API's OpenAPI 3.1 document."""
    return contract()


@bp.get("/docs")
def docs() -> Any:
    """The API's documentation, rendered here from its OpenAPI document."""
    document = contract()
    response = Response(render_template("api/docs.html", api=document, resolve=openapi.resolve))
    response.headers["Content-Security-Policy"] = content_security_policy()
    return response


@bp.get("/blogs")
def list_blogs() -> Any:
    """The blogs the caller works on (every blog, for admins)."""
    return {"items": [blog_json(blog) for blog in desks.blogs_of(db.session(), _user())]}


def _blog_response(blog: Blog, status: int = 200) -> Response:
    response = jsonify(blog_json(blog))
    response.status_code = status
    response.headers["ETag"] = blogs.blog_etag(blog)
    return response


def _desk_blog(slug: str, role: str = "contributor") -> tuple[Blog, str]:
    """Blog ``slug`` and the caller's role on its desk, which must include ``role``."""
    session = db.session()
    blog = store.get_blog(session, slug)
    return blog, desks.require_desk(session, _user(), blog, role)


@bp.post("/blogs")
def create_blog() -> Any:
    blog = blogs.create_blog(db.session(), themes(), read_json(), _user())
    response = _blog_response(blog, 201)
    response.headers["Location"] = url_for(".get_blog", slug=blog.slug)
    return response


@bp.get("/blogs/<slug:slug>")
def get_blog(slug: str) -> Any:
    return _blog_response(_desk_blog(slug)[0])


@bp.patch("/blogs/<slug:slug>")
def update_blog(slug: str) -> Any:
    return _blog_response(blogs.update_blog(db.session(), themes(), slug, read_json(), _user()))


@bp.delete("/blogs/<slug:slug>")
def delete_blog(slug: str) -> Any:
    """Delete a blog (admins) at the ETag If-Match names: readers get 410 from then on."""
    if_match = request.headers.get("If-Match")
    blogs.delete_blog(db.session(), slug, _user(), if_match, current_app.config["MEDIA_PATH"])
    return "", 204


@bp.get("/blogs/<slug:slug>/members")
def list_members(slug: str) -> Any:
    """The blog's desk (for anyone on it)."""
    return {"items": [member_json(m) for m in desks.members(db.session(), _user(), slug)]}


@bp.post("/blogs/<slug:slug>/members")
def add_member(slug: str) -> Any:
    """Put a user on the desk (201), or change their role there (200)."""
    member, added = desks.add_member(db.session(), _user(), slug, read_json())
    location = url_for(".list_members", slug=slug)
    return member_json(member), 201 if added else 200, {"Location": location}


@bp.delete("/blogs/<slug:slug>/members/<id:user_id>")
def remove_member(slug: str, user_id: int) -> Any:
    desks.remove_member(db.session(), _user(), slug, user_id)
    return "", 204


@bp.get("/blogs/<slug:slug>/entries")
def list_entries(slug: str) -> Any:
    session = db.session()
    blog, role = _desk_blog(slug)
    limit = _page_size()
    cursor = request.args.get("cursor")
    entries = store.editor_entries(
        session,
        blog,
        limit=limit + 1,
        before=store.decode_cursor(cursor) if cursor else None,
        visible_to=None if includes(role, "editor") else _user(),
    )
    page, more = entries[:limit], len(entries) > limit
    pending = lookups.unresolved(session, page)
    next_url = None
    if more:
        last = page[-1]
        next_cursor = store.encode_cursor(store.entry_moment(last), last.id)
        next_url = url_for(".list_entries", slug=slug, cursor=next_cursor, limit=limit)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
    items = [entry_json(entry, blog, pending[entry.id]) for entry in page]
    return {"items": items, "next": next_url}, 200, headers


@bp.get("/blogs/<slug:slug>/export")
def export_blog(slug: str) -> Any:
    """The whole blog as one export document (see liveblog/transfer), streamed as it is read."""
    accounts.require_role(_user(), "editor", "Only editors and admins can export a live blog.")
    _desk_blog(slug, "editor")  # a missing blog is a 404, before the stream starts
    return Response(
        stream_with_context(iter(Export(db.session(), slug))),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{slug}.json"'},
    )


@bp.post("/blogs/<slug:slug>/entries")
def create_entry(slug: str) -> Any:
    key = _request_key()
    entry = publishing.create_entry(
        db.session(), themes(), slug, read_json(), _user(), request_key=key
    )
    response = _entry_response(entry, entry.blog, 201)
    response.headers["Location"] = url_for(".get_entry", slug=slug, entry_id=entry.id)
    return response


@bp.post("/blogs/<slug:slug>/preview")
def preview_entry(slug: str) -> Any:
    """An unsaved entry rendered by the blog's theme partial, exactly as readers will see it."""
    session = db.session()
    blog = store.get_blog(session, slug)
    entry = publishing.preview_entry(session, themes(), blog, read_json(), _user())
    view = entry_view(blog, entry)
    html = templates(blog).get_template("_entry.html").render(entry=view)
    return {"html": html, "label": view.label}


@bp.post("/blogs/<slug:slug>/labels")
def read_labels(slug: str) -> Any:
    """What the server understands of a label at the start of a text, and of pasted text
    whose paragraphs each start with one (``updates``: one entry each, oldest first)."""
    _require_writer()
    fields = Fields.top(read_json(), LABEL_FIELDS)
    body = fields.string("body", required=True, max_length=MAX_MARKDOWN, multiline=True)
    fields.raise_errors()
    blog, _ = _desk_blog(slug)
    now = utcnow()
    label = publishing.label_of(blog, {"body": body}, now)
    updates = split_updates(body, blog.timezone, now, blog.label_format)
    return {
        "label": _label_json(blog, label, now) if label else None,
        "updates": [_label_json(blog, update, now) for update in updates],
    }


def _label_json(blog: Blog, label: ReadLabel, now: datetime) -> dict[str, Any]:
    return {
        "written": label.written,
        "published_at": label.published_at.isoformat(),
        "label": format_label(label.published_at, blog.timezone, blog.label_format),
        "understood": describe(label, blog.timezone, now, blog.label_format),
        "note": label.note,
        "body": label.text,
    }


def _readable_entry(slug: str, entry_id: int) -> tuple[Entry, Blog, str]:
    """The entry, its blog and the caller's role on the blog's desk."""
    blog, role = _desk_blog(slug)
    entry = store.get_entry(db.session(), blog, entry_id, visible_to=_user(), role=role)
    return entry, blog, role


@bp.get("/blogs/<slug:slug>/entries/<id:entry_id>")
def get_entry(slug: str, entry_id: int) -> Any:
    entry, blog, _role = _readable_entry(slug, entry_id)
    return _entry_response(entry, blog)


@bp.patch("/blogs/<slug:slug>/entries/<id:entry_id>")
def update_entry(slug: str, entry_id: int) -> Any:
    if_match = request.headers.get("If-Match")
    entry = publishing.update_entry(
        db.session(), themes(), slug, entry_id, read_json(), _user(), if_match
    )
    return _entry_response(entry, entry.blog)


@bp.delete("/blogs/<slug:slug>/entries/<id:entry_id>")
def delete_entry(slug: str, entry_id: int) -> Any:
    if_match = request.headers.get("If-Match")
    publishing.delete_entry(db.session(), slug, entry_id, _user(), if_match)
    return "", 204


@bp.post("/blogs/<slug:slug>/entries/<id:entry_id>/lookups")
def retry_lookups(slug: str, entry_id: int) -> Any:
    """Look the entry's bare post and video links up again (a failed look-up too)."""
    entry = publishing.retry_lookups(db.session(), slug, entry_id, _user())
    return _entry_response(entry, entry.blog, 202)


@bp.get("/blogs/<slug:slug>/entries/<id:entry_id>/revisions")
def list_revisions(slug: str, entry_id: int) -> Any:
    entry, _blog, role = _readable_entry(slug, entry_id)
    if not includes(role, "editor") and entry.author_id != _user().id:
        # Its earlier versions may be drafts the author never published.
        raise Forbidden("Contributors can see the history of their own entries only.")
    return {
        "items": [
            {
                "version": revision.version,
                "editor": {"id": revision.editor.id, "name": revision.editor.name},
                "created_at": revision.created_at.isoformat(),
                **revision.data,
            }
            for revision in store.revisions(db.session(), entry)
        ]
    }


# Users and API tokens (admins)


@bp.get("/users")
def list_users() -> Any:
    session = db.session()
    tokens = accounts.tokens_by_user(session, _user())
    users = accounts.list_users(session, _user())
    return {"items": [user_json(user, tokens.get(user.id)) for user in users]}


@bp.post("/users")
def create_user() -> Any:
    """Create a user (admins only); without a password the account only uses API tokens."""
    fields = Fields.top(read_json(), USER_FIELDS)
    email = fields.string("email", required=True, max_length=254)
    role = fields.string("role", required=True, max_length=16)
    name = fields.string("name", max_length=200, nullable=True)
    password = fields.string("password", max_length=1000, nullable=True)
    fields.raise_errors()
    user = accounts.add_user(
        db.session(), _user(), email, role, password if given(password) else None,
        name if given(name) else None,
    )  # fmt: skip
    return user_json(user), 201


@bp.get("/users/me")
def get_me() -> Any:
    """The caller's own account and public profile."""
    return user_json(_user())


@bp.patch("/users/me")
def update_me() -> Any:
    """Change the caller's own public profile (a photo is first POSTed to /uploads)."""
    profile = accounts.read_profile(read_json(), current_app.config["MEDIA_PATH"])
    return user_json(accounts.update_profile(db.session(), _user(), _user().id, profile))


@bp.patch("/users/<id:user_id>")
def update_user(user_id: int) -> Any:
    """Change a user's public profile, or another user's role or password, or deactivate
    or reactivate them (admins only); a new role, password or standing ends the user's
    editor sessions."""
    fields = Fields.top(read_json(), USER_CHANGES)
    role = fields.string("role", max_length=16)
    active = fields.boolean("active")
    password = fields.string("password", max_length=1000)
    profile = accounts.read_profile(None, current_app.config["MEDIA_PATH"], fields)
    user = accounts.change_user(
        db.session(),
        _user(),
        user_id,
        role=role if given(role) else None,
        active=active if given(active) else None,
        password=password if given(password) else None,
        profile=profile,
    )
    return user_json(user)


@bp.post("/users/<id:user_id>/tokens")
def create_user_token(user_id: int) -> Any:
    """A new API token for the user; the response is the only time it is shown."""
    fields = Fields.top(read_json(), TOKEN_FIELDS)
    label = fields.string("label", max_length=200)
    fields.raise_errors()
    token = accounts.issue_token(db.session(), _user(), user_id, label if given(label) else "")
    return {"token": token}, 201


@bp.delete("/tokens/<id:token_id>")
def revoke_token(token_id: int) -> Any:
    accounts.revoke_token(db.session(), _user(), token_id)
    return "", 204


# Embeds and uploads


def _require_writer() -> None:
    if not _user().can("contributor"):
        raise Forbidden("Your account cannot write entries.")


def resolver() -> Resolver:
    """The app's oEmbed resolver, with its cache of recent look-ups (built once per app)."""
    return resolver_of(current_app)


def resolver_of(app: Flask) -> Resolver:
    """``app``'s resolver, built on first use: what editors and the link look-ups share."""
    found = app.extensions.get("liveblog.resolver")
    if found is None:
        found = app.extensions["liveblog.resolver"] = resolver_from(app.config)
    return found


@bp.post("/embeds/resolve")
def resolve_embed() -> Any:
    """A social post's snapshot (or a video's block) from its provider, to check and save.

    When the look-up fails, the problem carries ``block``: a start for a hand-written snapshot.
    """
    _require_writer()
    fields = Fields.top(read_json(), RESOLVE_FIELDS)
    url = fields.url("url", required=True)
    fields.raise_errors()
    resolved = resolver().resolve(url)
    return {"block": resolved.block, "cached": resolved.cached}


@bp.post("/uploads")
def upload() -> Any:
    """Store an image sent as multipart/form-data (field ``file``); 201 with its URL and sizes."""
    _require_writer()
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    too_large = PayloadTooLarge(
        f"The image is larger than the {limit:,} bytes this server accepts."
    )
    request.max_content_length = limit + 65_536  # room for the form around the file
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge:
        raise too_large from None
    if file is None:
        raise LiveblogError(
            "Send the image as multipart/form-data, in a field named 'file' "
            "(curl -F file=@photo.jpg …)."
        )
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise LiveblogError("The file is empty.")
    saved = uploads.save_image(data, current_app.config["MEDIA_PATH"])
    saved["srcset"] = srcset(saved["url"], saved["width"])
    return saved, 201, {"Location": saved["url"]}
