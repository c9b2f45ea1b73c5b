"""Blueprint "public": what readers fetch — the index, live pages, permalinks, assets."""

import re
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from flask import send_file
from flask import send_from_directory
from flask import url_for

from .. import db
from .. import providers
from .. import store
from ..errors import NotFound
from ..models import Blog
from ..themes import DEFAULT_THEME
from .caching import blogs_etag
from .caching import cached_for_readers
from .caching import conditional
from .representations import absolute
from .representations import blog_url
from .representations import themes
from .views import blog_posting
from .views import entry_description
from .views import entry_view
from .views import feed_links
from .views import image_of
from .views import live_blog_posting
from .views import page_widgets
from .views import render_page
from .views import theme_templates
from .views import widget_scripts

bp = Blueprint("public", __name__)


ONE_YEAR = 365 * 24 * 3600
READER_STATUSES = ("live", "ended")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def content_security_policy(widgets: list[providers.Widget] | None = None) -> str:
    """The reader pages' policy: this site's scripts only, the tile server's images, the
    click-to-load video players; plus the widgets of a blog that opted in to them."""
    widgets = widgets or []
    images = ["'self'", "https:", "data:"]
    if tiles := _tile_source(current_app.config["MAP_TILE_URL"]):
        images.append(tiles)
    scripts = ["'self'", *dict.fromkeys(o for w in widgets for o in w.scripts)]
    frames = [*providers.PLAYER_ORIGINS, *dict.fromkeys(o for w in widgets for o in w.frames)]
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src {' '.join(images)}",
            "style-src 'self'",
            f"script-src {' '.join(scripts)}",
            f"frame-src {' '.join(frames)}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def _tile_source(template: str) -> str | None:
    """The CSP source for map tiles served over plain http (https: is allowed already)."""
    parts = urlsplit(template)
    host = parts.netloc.replace("{s}", "*")
    if parts.scheme != "http" or not re.fullmatch(r"(\*\.)?[\w.-]+(:\d+)?", host):
        return None
    return f"http://{host}"


@bp.after_request
def security_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def reader_blog(slug: str) -> Blog:
    """A blog readers may see: draft blogs do not exist for them."""
    blog = store.get_blog(db.session(), slug)
    if blog.status not in READER_STATUSES:
        raise NotFound(f"There is no live blog {slug!r}.")
    return blog


def _html(body: str, status: int = 200, widgets: list[providers.Widget] | None = None) -> Response:
    response = Response(body, status, mimetype="text/html")
    if widgets:
        response.headers["Content-Security-Policy"] = content_security_policy(widgets)
    return response


@bp.get("/")
def index() -> Response:
    blogs = [blog for blog in store.list_blogs(db.session()) if blog.status in READER_STATUSES]

    def build() -> Response:
        body = (
            theme_templates(DEFAULT_THEME)
            .get_template("index.html")
            .render(blogs=blogs, canonical=absolute("/"), site_name=current_app.config["SITE_NAME"])
        )
        return _html(body)

    changed = max((max(b.changed_at, b.updated_at) for b in blogs), default=EPOCH)
    return conditional(blogs_etag(blogs, request.full_path), changed, build)


@bp.get("/<slug:slug>/")
def live_page(slug: str) -> Response:
    blog = reader_blog(slug)
    before = request.args.get("before")
    cursor = store.decode_cursor(before) if before else None

    def build() -> Response:
        session = db.session()
        size = int(current_app.config["READER_PAGE_SIZE"])
        pinned = store.pinned_entry(session, blog) if cursor is None else None
        entries = store.published_entries(
            session, blog, limit=size + 1, before=cursor, exclude=pinned
        )
        page, more = entries[:size], len(entries) > size
        key_events = store.published_entries(session, blog, limit=50, key_events_only=True)
        on_page = {entry.id for entry in page} | ({pinned.id} if pinned else set())
        views = [entry_view(blog, entry) for entry in page]
        older_url = None
        if more:
            last = page[-1]
            assert last.published_at is not None
            older_url = url_for(
                ".live_page", slug=slug, before=store.encode_cursor(last.published_at, last.id)
            )
        shown = ([pinned] if pinned else []) + page
        body = render_page(
            blog,
            "blog.html",
            entries=views,
            pinned=entry_view(blog, pinned) if pinned else None,
            key_events=[(entry_view(blog, entry), entry.id in on_page) for entry in key_events],
            show_days=len({view.day for view in views}) > 1 or cursor is not None,
            older_url=older_url,
            is_first_page=cursor is None,
            canonical=blog_url(blog) if cursor is None else absolute(request.full_path),
            feeds=feed_links(blog),
            image=image_of(blog),
            structured_data=live_blog_posting(blog, shown),
            widgets=widget_scripts(blog),
        )
        return _html(body, widgets=page_widgets(blog, shown))

    return cached_for_readers(blog, request.full_path, build)


@bp.get("/<slug:slug>/updates/<int:entry_id>")
def entry(slug: str, entry_id: int) -> Response:
    blog = reader_blog(slug)

    def build() -> Response:
        session = db.session()
        found = store.get_entry(session, blog, entry_id)
        if found.status in ("draft", "scheduled"):
            raise NotFound(f"Live blog {slug!r} has no update {entry_id}.")
        if found.status == "deleted":
            body = render_page(blog, "gone.html", live_url=url_for(".live_page", slug=slug))
            return _html(body, 410)
        older, newer = store.neighbours(session, blog, found)
        view = entry_view(blog, found)
        body = render_page(
            blog,
            "entry.html",
            entry=view,
            older=entry_view(blog, older) if older else None,
            newer=entry_view(blog, newer) if newer else None,
            canonical=view.url,
            description=entry_description(found),
            image=image_of(blog, found),
            feeds=feed_links(blog),
            structured_data={"@context": "https://schema.org", **blog_posting(blog, found)},
            widgets=widget_scripts(blog),
        )
        return _html(body, widgets=page_widgets(blog, [found]))

    return cached_for_readers(blog, request.full_path, build)


@bp.get("/assets/<theme>/<digest>/<path:filename>")
def asset(theme: str, digest: str, filename: str) -> Any:
    """A theme's static file; the digest in the URL changes with the content."""
    if theme not in themes().names():
        abort(404)
    path = themes().static_file(theme, filename)
    if path is None:
        abort(404)
    response = send_file(path, max_age=ONE_YEAR, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


@bp.get("/media/<path:name>")
def media(name: str) -> Any:
    """Uploaded files; their names never change, so they are cached for a year."""
    response = send_from_directory(current_app.config["MEDIA_PATH"], name, max_age=ONE_YEAR)
    if name.startswith("uploads/"):  # named by their content: a new file gets a new name
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
