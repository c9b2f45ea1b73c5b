"""Blueprint "editor": the HTML interface for editors under /editor/.

Pages are server-rendered; editor.js talks to the JSON API with the session cookie and
the CSRF header, so the API's rules are the only rules. The logic lives in publishing,
accounts and store.
"""

import hashlib
import json
import os
import zoneinfo
from datetime import UTC
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from typing import cast
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import redirect as flask_redirect
from flask import render_template
from flask import request
from flask import send_from_directory
from flask import url_for
from werkzeug.datastructures import FileStorage

from .. import accounts
from .. import blogs
from .. import db
from .. import desks
from .. import presence
from .. import store
from ..embeds import uploads
from ..errors import FieldError
from ..errors import Forbidden
from ..errors import LiveblogError
from ..errors import UploadError
from ..errors import ValidationError
from ..i18n import language_names
from ..i18n import text_direction
from ..labels import DEFAULT_FORMAT
from ..labels import format_label
from ..labels import format_problem
from ..labels import spoken_format
from ..labels import zone
from ..live import desk as desk_key
from ..models import DESK_ROLES
from ..models import ROLES
from ..models import Blog
from ..models import User
from ..models import includes
from ..themes import DEFAULT_THEME
from ..themes import iso_seconds
from . import auth
from .conditional import ONE_YEAR
from .conditional import immutable
from .desk import DeskStream
from .handlers import problem
from .live import SSE_HEADERS
from .live import live
from .security import content_security_policy
from .templating import asset_url
from .templating import author_photo
from .templating import map_tiles
from .templating import render_page
from .templating import themes
from .urls import author_path

STATIC = Path(__file__).parent.parent / "static" / "editor"
OPEN_ENDPOINTS = ("editor.login",)

bp = Blueprint("editor", __name__, url_prefix="/editor", template_folder="../templates")


@cache
def _digest(folder: Path) -> str:
    """One digest of every file's name and content in ``folder``: the editor's modules
    import each other by relative URL, so a change to any file must move every URL."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def static_url(filename: str) -> str:
    """An editor asset's URL with its folder's digest, so browsers may keep it for a year."""
    return url_for("editor.static", digest=_digest(STATIC), filename=filename)


@cache
def modules() -> list[str]:
    """The scripts editor.js imports, for the pages to preload side by side."""
    return sorted(path.name for path in STATIC.glob("*.js") if path.name != "editor.js")


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    return {
        "editor_static": static_url,
        "editor_modules": modules,
        "csrf_token": auth.csrf_token,
        "local_time": local_time,
        "iso_seconds": iso_seconds,
        "time_zones": time_zones,
        "label_presets": LABEL_PRESETS,
    }


# The label formats newsrooms use, each with how it reads; "custom" takes any other.
LABEL_PRESETS = (
    (DEFAULT_FORMAT, "UPDATE 0745 GMT"),
    ("%H:%M %Z", "07:45 GMT"),
    ("%H%M %Z", "0745 GMT"),
    ("%H%M", "0745"),
    ("%H:%M", "07:45"),
    ("%I:%M %p %Z", "07:45 AM GMT"),
    ("%e %b, %H:%M %Z", "24 Mar, 07:45 GMT"),
)


@cache
def time_zones() -> list[str]:
    """Every IANA zone this machine knows, for the time zone field to offer."""
    return sorted(zoneinfo.available_timezones())


def local_time(blog: Blog, moment: datetime) -> str:
    """``moment`` on the blog's clock, e.g. 0745 GMT, 24 Mar."""
    return format_label(moment, blog.timezone, "%H%M %Z, %e %b")


@bp.before_request
def require_login() -> Response | None:
    if request.endpoint == "editor.static":
        # The same files for everyone: reading no session, they say no Vary: Cookie, and
        # a caching front may keep them.
        return None
    g.user = auth.session_user()
    if request.endpoint in OPEN_ENDPOINTS:
        if request.method == "POST":
            auth.check_csrf(request, request.form)
        return None
    if g.user is None:
        # Back to the page after logging in; a form's POST cannot be gone back to.
        if request.method != "GET":
            return redirect(url_for("editor.login"))
        return redirect(url_for("editor.login", next=request.full_path.rstrip("?")))
    if request.method == "POST":
        auth.check_csrf(request, request.form)
    return None


@bp.after_request
def page_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = content_security_policy(own_frames=True)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "same-origin"
    return response


def redirect(location: str, status: int = 302) -> Response:
    """Flask's redirect, typed as what it makes: the app's own Response class."""
    return cast(Response, flask_redirect(location, status))


def _user() -> User:
    user: User = g.user
    return user


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(f"editor/{template}", user=g.user, **context), status)


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path inside the editor on this site, else the dashboard.

    Nothing that could leave the site (a scheme, a host, ``//`` or ``\\``) or break the
    Location header (control characters) is followed.
    """
    target = target or ""
    try:
        parts = urlsplit(target)
    except ValueError:
        return url_for("editor.dashboard")
    unsafe = any(ord(character) < 0x20 or character in "\x7f\\" for character in target)
    if unsafe or parts.scheme or parts.netloc or not parts.path.startswith("/editor/"):
        return url_for("editor.dashboard")
    return target


def field_errors(error: ValidationError, prefix: str = "") -> dict[str, str]:
    """Messages by field name, for showing next to each field of a form."""
    found: dict[str, str] = {}
    for item in error.errors:
        name = item.field.removeprefix(prefix)
        found.setdefault(name, f"{_label(name)} {item.message}")
    return found


def _label(field: str) -> str:
    return field.split(".")[-1].replace("_", " ").capitalize() or "This"


# Logging in and out


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    next_url = request.values.get("next", "")
    if request.method == "GET":
        if g.user is not None:
            return redirect(_safe_next(next_url))
        return _page("login.html", email="", next=next_url, error=None)
    email = request.form.get("email", "")
    try:
        user = accounts.log_in(
            db.session(),
            email,
            request.form.get("password", ""),
            request.remote_addr or "unknown",
            auth.login_limits(),
        )
    except LiveblogError as error:
        return _page("login.html", error.status, email=email, next=next_url, error=error.detail)
    auth.start_session(user)
    return redirect(_safe_next(next_url), 303)


@bp.post("/logout")
def logout() -> Response:
    auth.end_session()
    return redirect(url_for("editor.login"), 303)


# Dashboard and blogs


@bp.get("/")
def dashboard() -> Response:
    return _dashboard()


def _dashboard(status: int = 200, form: dict[str, Any] | None = None, **extra: Any) -> Response:
    return _page(
        "dashboard.html",
        status,
        blogs=desks.blogs_of(db.session(), _user()),
        pending=store.pending_reviews(db.session()) if _user().can("editor") else {},
        themes=themes().names(),
        languages=language_names(),
        ended_orders=ENDED_ORDERS,
        form=form
        or {
            "label_format": DEFAULT_FORMAT,
            "timezone": "UTC",
            "language": "en",
            "theme": "default",
        },
        errors=extra.pop("errors", {}),
        **extra,
    )


BLOG_FORM = (
    "title", "slug", "standfirst", "timezone", "label_format", "language", "theme", "status",
    "ended_order",
)  # fmt: skip
PHOTO_FORM = ("alt", "caption", "credit")
ENDED_ORDERS = (
    ("newest", "the latest update (newest first)"),
    ("oldest", "the first update (oldest first, read as a story)"),
)


@bp.post("/blogs")
def create_blog() -> Response:
    """Create a blog from the dashboard form, with an optional top photo."""
    form = {name: request.form.get(name, "").strip() for name in (*BLOG_FORM, *PHOTO_FORM)}
    data: dict[str, Any] = {name: form[name] for name in BLOG_FORM if form[name]}
    data.setdefault("slug", blogs.suggest_slug(form["title"]) or None)
    try:
        if not _user().can("admin"):
            raise Forbidden("Only admins can create live blogs.")
        photo = _top_photo(request.files.get("photo"), form)
        if photo:
            data["top_image"] = photo
        blog = blogs.create_blog(db.session(), themes(), data, _user())
    except ValidationError as error:
        return _dashboard(422, form, errors=field_errors(error, "top_image."))
    except LiveblogError as error:
        return _dashboard(error.status, form, errors={"form": error.detail})
    return redirect(url_for("editor.compose", slug=blog.slug), 303)


def _top_photo(file: FileStorage | None, form: dict[str, str]) -> dict[str, Any] | None:
    if file is None or not file.filename:
        return None
    if not form["alt"]:
        raise ValidationError(
            [FieldError("alt", "is required: describe the photo for readers who cannot see it")]
        )
    try:
        saved = uploads.save_image(file.read(), current_app.config["MEDIA_PATH"])
    except UploadError as error:
        raise ValidationError([FieldError("photo", error.detail)]) from None
    image = {"url": saved["url"], "width": saved["width"], "height": saved["height"]}
    image.update({name: form[name] for name in PHOTO_FORM if form[name]})
    return image


@bp.get("/label-example")
def label_example() -> Response:
    """How a label in ``label_format`` reads now in ``timezone`` and ``language`` (by
    default, a new blog's): the blog form's example."""
    label_format = request.args.get("label_format", DEFAULT_FORMAT)
    timezone = request.args.get("timezone", "UTC")
    language = request.args.get("language", "en")
    if not label_format.strip():
        return problem(400, "No label format", "Choose a label format, or type one.")
    if wrong := format_problem(label_format):
        return problem(400, "Bad label format", f"The label format {wrong}.")
    try:
        zone(timezone)
    except ValueError as error:
        detail = str(error)
        return problem(400, "Unknown time zone", f"{detail[:1].upper()}{detail[1:]}.")
    spoken = spoken_format(label_format, language)
    label = format_label(datetime.now(UTC), timezone, spoken, language)
    return Response(json.dumps({"label": label}), mimetype="application/json")


@bp.post("/blogs/<slug:slug>/status")
def change_status(slug: str) -> Response:
    """End or reopen a blog, or choose the order it is read in once ended (or both at once)."""
    data = {name: request.form[name] for name in ("status", "ended_order") if name in request.form}
    try:
        if not data:
            raise ValidationError([FieldError("status", "is required: ended or live")])
        blogs.update_blog(db.session(), themes(), slug, data, _user())
    except ValidationError as error:
        return _dashboard(422, errors={"form": " ".join(field_errors(error).values())})
    except LiveblogError as error:
        return _dashboard(error.status, errors={"form": error.detail})
    return redirect(url_for("editor.dashboard"), 303)


@bp.get("/blogs/<slug:slug>/")
def compose(slug: str) -> Response:
    """The blog's editor page: the composer with its live preview, beside the stream, and
    the blog's desk."""
    return _compose(slug)


def _compose(slug: str, status: int = 200, **extra: Any) -> Response:
    session = db.session()
    blog = store.get_blog(session, slug)
    role = desks.require_desk(session, _user(), blog)
    tiles = map_tiles()
    leaflet = {
        "js": asset_url(DEFAULT_THEME, "vendor/leaflet/leaflet.js"),
        "css": asset_url(DEFAULT_THEME, "vendor/leaflet/leaflet.css"),
        "tiles": tiles["url"],
        "attribution": tiles["attribution"],
    }
    members = desks.members(session, _user(), slug)
    on_desk = {member.id for member in members}
    can_manage = includes(role, "editor")
    return _page(
        "compose.html",
        status,
        blog=blog,
        leaflet=leaflet,
        direction=text_direction(blog.language),
        writers=store.active_users(session),
        map_view=_last_map_view(blog),
        reader_shell=render_page(blog, "reader_frame.html"),
        role=role,
        members=members,
        candidates=[u for u in desks.candidates(session) if u.id not in on_desk]
        if can_manage
        else [],
        desk_roles=DESK_ROLES,
        can_manage=can_manage,
        etag=blogs.blog_etag(blog),
        notice=extra.pop("notice", None),
        errors=extra.pop("errors", {}),
        **extra,
    )


# Your own profile: the byline and the author page

PROFILE_FORM = ("name", "title", "bio", "links", "slug", "alt")


@bp.get("/profile")
def profile() -> Response:
    me = _user()
    form = {
        "name": me.name,
        "title": me.title,
        "bio": me.bio,
        "links": "\n".join(me.links or []),
        "slug": me.slug or "",
        "alt": (me.photo or {}).get("alt", ""),
    }
    notice = "Your profile is saved." if request.args.get("saved") else None
    return _profile(form=form, notice=notice)


def _profile(status: int = 200, **extra: Any) -> Response:
    return _page(
        "profile.html",
        status,
        photo=author_photo(_user(), 160),
        author_path=author_path(_user()),
        max_bio=accounts.MAX_BIO,
        max_links=accounts.MAX_LINKS,
        form=extra.pop("form"),
        errors=extra.pop("errors", {}),
        **extra,
    )


@bp.post("/profile")
def save_profile() -> Response:
    """Save the profile form: a new photo goes through the upload pipeline first."""
    form = {name: request.form.get(name, "").strip() for name in PROFILE_FORM}
    data: dict[str, Any] = {
        "name": form["name"],
        "title": form["title"] or None,
        "bio": form["bio"] or None,
        "links": [line.strip() for line in form["links"].splitlines() if line.strip()] or None,
        "slug": form["slug"] or None,
    }
    media = current_app.config["MEDIA_PATH"]
    try:
        data.update(_photo_change(request.files.get("photo"), form["alt"]))
        values = accounts.read_profile(data, media)
        accounts.update_profile(db.session(), _user(), _user().id, values)
    except ValidationError as error:
        return _profile(422, form=form, errors=_profile_errors(error))
    except LiveblogError as error:
        return _profile(error.status, form=form, errors={"form": error.detail})
    return redirect(url_for("editor.profile", saved="yes"), 303)


def _photo_change(file: FileStorage | None, alt: str) -> dict[str, Any]:
    """The ``photo`` the form asks for: none (removed), a new upload, or the current one
    with its alt text; nothing when there is no photo and none is sent."""
    if request.form.get("remove_photo") == "yes":
        return {"photo": None}
    if file is not None and file.filename:
        try:
            saved = uploads.save_image(file.read(), current_app.config["MEDIA_PATH"])
        except UploadError as error:
            raise ValidationError([FieldError("photo", error.detail)]) from None
        return {"photo": {"url": saved["url"], "alt": alt}}
    current = _user().photo
    return {"photo": {"url": current["url"], "alt": alt}} if current else {}


def _profile_errors(error: ValidationError) -> dict[str, str]:
    """Messages by form field: a link's under links, the photo's parts under photo and alt."""
    named = {"photo.url": "photo", "photo.alt": "alt", "photo": "photo"}
    found: dict[str, str] = {}
    for item in error.errors:
        field = named.get(item.field, item.field.split("[")[0])
        if item.field.startswith("links["):
            label = f"Link {int(item.field[6:-1]) + 1}"
        else:
            label = "Alt text" if field == "alt" else _label(field)
        found.setdefault(field, f"{label} {item.message}")
    return found


@bp.post("/blogs/<slug:slug>/members")
def add_member(slug: str) -> Response:
    """Put a user on the desk, or change their role there, from the Desk section."""
    data = {"user": _whole(request.form.get("user", "")), "role": request.form.get("role", "")}
    try:
        member, added = desks.add_member(db.session(), _user(), slug, data)
    except ValidationError as error:
        return _compose(slug, 422, errors={"desk": error.detail})
    except LiveblogError as error:
        return _desk_refused(slug, error)
    done = "is now on the desk" if added else "now works on this blog"
    return _compose(slug, notice=f"{member.name} {done} as {member.role}.")


@bp.post("/blogs/<slug:slug>/members/<id:user_id>/remove")
def remove_member(slug: str, user_id: int) -> Response:
    try:
        removed = desks.remove_member(db.session(), _user(), slug, user_id)
    except LiveblogError as error:
        return _desk_refused(slug, error)
    return _compose(slug, notice=f"{removed.name} is no longer on the desk of this live blog.")


def _desk_refused(slug: str, error: LiveblogError) -> Response:
    """The compose page with why a desk change was refused, if the caller may see it."""
    if error.status in (403, 404, 410):
        raise error
    return _compose(slug, error.status, errors={"desk": error.detail})


@bp.post("/blogs/<slug:slug>/delete")
def delete_blog(slug: str) -> Response:
    """Delete the blog (admins), once its slug is typed to confirm; back to the dashboard."""
    if request.form.get("confirm", "").strip() != slug:
        if not _user().can("admin"):
            raise Forbidden("Only admins can delete live blogs.")
        return _compose(
            slug, 422, errors={"delete": f"Type {slug} exactly to confirm the deletion."}
        )
    try:
        blogs.delete_blog(
            db.session(),
            slug,
            _user(),
            request.form.get("etag") or None,
            current_app.config["MEDIA_PATH"],
        )
    except LiveblogError as error:
        if error.status in (403, 404, 410):
            raise
        return _compose(slug, error.status, errors={"delete": error.detail})
    return redirect(url_for("editor.dashboard"), 303)


def _whole(raw: str) -> int | str:
    """A form's number as an int, so the use case judges it like the API's JSON."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 11 else raw


# Where the map picker opens when the blog has no map yet: the whole world.
WORLD_VIEW = {"lat": 20.0, "lon": 0.0, "zoom": 2}
MAP_VIEW_LOOKBACK = 50


def _last_map_view(blog: Blog) -> dict[str, float]:
    """The centre and zoom of the blog's most recent map block, for the picker to open on:
    the next map of a story is usually near the last one."""
    for entry in store.editor_entries(db.session(), blog, limit=MAP_VIEW_LOOKBACK):
        for block in reversed(entry.blocks):
            if block["type"] == "map" and entry.status != "deleted":
                center = block["center"]
                return {"lat": center["lat"], "lon": center["lon"], "zoom": block["zoom"]}
    return WORLD_VIEW


@bp.get("/blogs/<slug:slug>/reader-frame")
def reader_frame(slug: str) -> Response:
    """An empty page of the blog's theme, which the composer fills with its preview: the
    update in the theme's own styles and embeds, exactly as on the live page."""
    session = db.session()
    blog = store.get_blog(session, slug)
    desks.require_desk(session, _user(), blog)
    return Response(render_page(blog, "reader_frame.html"))


@bp.get("/blogs/<slug:slug>/events")
def desk_events(slug: str) -> Response:
    """The editors' stream of the blog: its entries in every status, and who edits which;
    for the blog's desk only."""
    session = db.session()
    blog = store.get_blog(session, slug)
    desks.require_desk(session, _user(), blog)
    state = live()
    state.source.ensure_running()
    state.notifier.publish(desk_key(blog.id), blog.desk_seq)
    stream = DeskStream(current_app._get_current_object(), state, blog.id, _user().id)  # type: ignore[attr-defined]
    return Response(iter(stream), mimetype="text/event-stream", headers=SSE_HEADERS)


@bp.post("/blogs/<slug:slug>/entries/<id:entry_id>/editing")
def editing(slug: str, entry_id: int) -> Response:
    """An open edit form's heartbeat (``state=open``), or its closing (``state=closed``)."""
    if request.form.get("state") == "closed":
        presence.stop_editing(db.session(), slug, entry_id, _user())
    else:
        presence.start_editing(db.session(), slug, entry_id, _user())
    return Response(status=204)


# Users and API tokens (admins)


@bp.get("/admin/users")
def users() -> Response:
    return _users()


def _users(status: int = 200, **extra: Any) -> Response:
    session = db.session()
    return _page(
        "users.html",
        status,
        users=accounts.list_users(session, _user()),
        tokens=accounts.tokens_by_user(session, _user()),
        roles=ROLES,
        form=extra.pop("form", {"role": "contributor"}),
        errors=extra.pop("errors", {}),
        **extra,
    )


@bp.post("/admin/users")
def create_user() -> Response:
    form = {name: request.form.get(name, "").strip() for name in ("email", "name", "role")}
    password = request.form.get("password", "")
    try:
        user = accounts.add_user(
            db.session(),
            _user(),
            form["email"],
            form["role"],
            password or None,
            form["name"] or None,
        )
    except ValidationError as error:
        return _users(422, form=form, errors=field_errors(error))
    except LiveblogError as error:
        return _users(error.status, form=form, errors={"form": error.detail})
    return _users(201, notice=f"{user.email} can now log in as {user.role}.")


@bp.post("/admin/users/<id:user_id>")
def change_user(user_id: int) -> Response:
    role = request.form.get("role") or None
    active = {"yes": True, "no": False}.get(request.form.get("active", ""))
    password = request.form.get("password") or None
    try:
        user = accounts.change_user(
            db.session(), _user(), user_id, role=role, active=active, password=password
        )
    except LiveblogError as error:
        return _users(error.status, errors={"form": error.detail})
    if password is not None:
        return _users(notice=f"{user.email} has a new password and must log in again.")
    state = "active" if user.active else "deactivated"
    return _users(notice=f"{user.email} is now {user.role}, {state}.")


@bp.post("/admin/users/<id:user_id>/tokens")
def create_token(user_id: int) -> Response:
    label = request.form.get("label", "")
    try:
        token = accounts.issue_token(db.session(), _user(), user_id, label)
    except LiveblogError as error:
        return _users(error.status, errors={"form": error.detail})
    return _users(201, new_token=token, token_user=user_id)


@bp.post("/admin/tokens/<id:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    try:
        token = accounts.revoke_token(db.session(), _user(), token_id)
    except LiveblogError as error:
        return _users(error.status, errors={"form": error.detail})
    return _users(notice=f"The token {token.label or token.id} no longer works.")


@bp.get("/static/<digest>/<path:filename>")
def static(digest: str, filename: str) -> Response:
    """The editor's own CSS and JavaScript; the digest in the URL changes with the content."""
    if not os.path.isfile(STATIC / filename):  # a name too long for the OS is no file either
        abort(404)
    # Browsers run a module only if it is served as JavaScript, whatever the host's MIME table says.
    mimetype = "text/javascript" if filename.endswith(".js") else None
    return immutable(send_from_directory(STATIC, filename, max_age=ONE_YEAR, mimetype=mimetype))
