"""Blueprint "public": what readers fetch — the index, live pages, permalinks, assets."""

from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from flask import send_file
from flask import send_from_directory
from flask import url_for

from .. import db
from .. import store
from ..blogs import WITHDRAWN
from ..embeds import widgets
from ..embeds.widgets import Widget
from ..errors import Gone
from ..errors import NotFound
from ..models import Blog
from ..models import Entry
from ..store import READER_STATUSES
from ..themes import DEFAULT_THEME
from .conditional import ONE_YEAR
from .conditional import blogs_etag
from .conditional import cached_for_readers
from .conditional import conditional
from .conditional import immutable
from .conditional import shared_cache_control
from .pagecache import SEQ_HEADER
from .security import content_security_policy
from .security import reader_headers
from .structured_data import blog_posting
from .structured_data import live_blog_posting
from .templating import entry_description
from .templating import entry_view
from .templating import feed_links
from .templating import image_of
from .templating import oembed_link
from .templating import render_page
from .templating import theme_templates
from .templating import themes
from .urls import absolute
from .urls import blog_url

bp = Blueprint("public", __name__)
bp.after_request(reader_headers)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def page_widgets(blog: Blog, entries: list[Entry]) -> list[Widget]:
    """The provider widgets a page may load, if its blog opted in to them."""
    if not blog.embed_widgets:
        return []
    return widgets.widgets_for(block for entry in entries for block in entry.blocks)


def widget_scripts(blog: Blog) -> dict[str, str] | None:
    """The widget scripts by provider, for the pages of a blog that opted in to them."""
    return widgets.scripts_by_provider() if blog.embed_widgets else None


def html_page(
    body: str, status: int = 200, widgets: list[Widget] | None = None, policy: str | None = None
) -> Response:
    """A reader page; its Content-Security-Policy is ``policy``, or else the reader pages'
    own when ``widgets`` widen it (``reader_headers`` sets the plain one)."""
    response = Response(body, status, mimetype="text/html")
    if policy is None and widgets:
        policy = content_security_policy(widgets)
    if policy is not None:
        response.headers["Content-Security-Policy"] = policy
    return response


def timeline(
    blog: Blog, cursor: tuple[datetime, int] | None = None
) -> tuple[Entry | None, list[Entry], str | None]:
    """One page of the live page's updates: its pinned entry (first page only), its
    entries newest first, and the URL of the older ones, if any."""
    session = db.session()
    size = int(current_app.config["READER_PAGE_SIZE"])
    pinned = store.pinned_entry(session, blog) if cursor is None else None
    entries = store.published_entries(session, blog, limit=size + 1, before=cursor, exclude=pinned)
    page = entries[:size]
    older_url = None
    if len(entries) > size:
        last = page[-1]
        assert last.published_at is not None
        older_url = url_for(
            "public.live_page",
            slug=blog.slug,
            before=store.encode_cursor(last.published_at, last.id),
        )
    return pinned, page, older_url


@bp.get("/")
def index() -> Response:
    blogs = [blog for blog in store.list_blogs(db.session()) if blog.status in READER_STATUSES]

    def build() -> Response:
        body = (
            theme_templates(DEFAULT_THEME)
            .get_template("index.html")
            .render(blogs=blogs, canonical=absolute("/"), site_name=current_app.config["SITE_NAME"])
        )
        return html_page(body)

    changed = max((max(b.changed_at, b.updated_at) for b in blogs), default=EPOCH)
    return conditional(blogs_etag(blogs, request.full_path), changed, build)


@bp.get("/<slug:slug>/")
def live_page(slug: str) -> Response:
    blog = store.reader_blog(db.session(), slug)
    before = request.args.get("before")
    cursor = store.decode_cursor(before) if before else None

    def build() -> Response:
        pinned, page, older_url = timeline(blog, cursor)
        key_events = store.published_entries(db.session(), blog, limit=50, key_events_only=True)
        on_page = {entry.id for entry in page} | ({pinned.id} if pinned else set())
        views = [entry_view(blog, entry) for entry in page]
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
            oembed=oembed_link(blog_url(blog)),
            image=image_of(blog),
            structured_data=live_blog_posting(blog, shown),
            widgets=widget_scripts(blog),
        )
        return html_page(body, widgets=page_widgets(blog, shown))

    return cached_for_readers(blog, request.full_path, build)


@bp.get("/<slug:slug>/updates/<id:entry_id>")
def entry(slug: str, entry_id: int) -> Response:
    blog = store.reader_blog(db.session(), slug)

    def build() -> Response:
        session = db.session()
        found = store.get_entry(session, blog, entry_id)
        if found.status in ("draft", "scheduled"):
            raise NotFound(f"Live blog {slug!r} has no update {entry_id}.")
        if found.status == "deleted":
            body = render_page(blog, "gone.html", live_url=url_for(".live_page", slug=slug))
            return html_page(body, 410)
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
            oembed=oembed_link(view.url),
            structured_data={"@context": "https://schema.org", **blog_posting(blog, found)},
            widgets=widget_scripts(blog),
        )
        return html_page(body, widgets=page_widgets(blog, [found]))

    return cached_for_readers(blog, request.full_path, build)


@bp.get("/<slug:slug>/seq")
def seq(slug: str) -> Response:
    """An empty answer whose ``Liveblog-Seq`` header is the blog's latest seq (0 for a blog
    readers cannot see): caching fronts key their copies of the blog's pages on it, so a
    new seq retires them all at once (``deploy/nginx/``).

    Read from the database every time, never from the page cache, so a front asking right
    after a commit learns of it; without validators, as a 304 would save nothing.
    """
    try:
        latest = store.reader_blog(db.session(), slug).last_seq
    except (NotFound, Gone):
        latest = 0
    response = Response(status=204)
    response.headers[SEQ_HEADER] = str(latest)
    response.headers["Cache-Control"] = shared_cache_control()
    return response


@bp.get("/assets/<theme>/<digest>/<path:filename>")
def asset(theme: str, digest: str, filename: str) -> Any:
    """A theme's static file; the digest in the URL changes with the content."""
    if theme not in themes().names():
        abort(404)
    path = themes().static_file(theme, filename)
    if path is None:
        abort(404)
    return immutable(send_file(path, max_age=ONE_YEAR, conditional=True))


@bp.get("/media/<path:name>")
def media(name: str) -> Any:
    """Uploaded files; their names never change, so they are cached for a year. A deleted
    blog's own uploads, set aside, are not served."""
    if name.partition("/")[0] == WITHDRAWN:
        abort(404)
    response = send_from_directory(current_app.config["MEDIA_PATH"], name, max_age=ONE_YEAR)
    if name.startswith("uploads/"):  # named by their content: a new file gets a new name
        immutable(response)
    return response
