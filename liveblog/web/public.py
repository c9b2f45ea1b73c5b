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
from sqlalchemy.orm import Session

from .. import db
from .. import history
from .. import store
from ..blogs import WITHDRAWN
from ..corrections import TIME_FORMAT
from ..corrections import correction_time
from ..embeds import widgets
from ..embeds.widgets import Widget
from ..errors import Gone
from ..errors import LiveblogError
from ..errors import NotFound
from ..labels import format_label
from ..models import READING_ORDERS
from ..models import Blog
from ..models import Entry
from ..render import render_blocks
from ..sharing import share_links
from ..store import READER_STATUSES
from ..summaries import plain_text
from ..themes import DEFAULT_THEME
from .conditional import ONE_YEAR
from .conditional import author_etag
from .conditional import blogs_etag
from .conditional import cached_for_readers
from .conditional import conditional
from .conditional import immutable
from .conditional import shared_cache_control
from .pagecache import SEQ_HEADER
from .security import content_security_policy
from .security import reader_headers
from .structured_data import live_blog_posting
from .structured_data import profile_page
from .structured_data import update_page
from .templating import CorrectionView
from .templating import VersionView
from .templating import absolute_url
from .templating import author_photo
from .templating import entry_description
from .templating import entry_view
from .templating import feed_links
from .templating import image_of
from .templating import oembed_link
from .templating import pinned_view
from .templating import render_page
from .templating import templates
from .templating import theme_templates
from .templating import themes
from .urls import absolute
from .urls import author_path
from .urls import author_url
from .urls import blog_url

bp = Blueprint("public", __name__)
bp.after_request(reader_headers)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AUTHOR_PAGE_SIZE = 20
AUTHOR_PHOTO_WIDTH = 128


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
    blog: Blog, cursor: tuple[datetime, int] | None = None, order: str = "newest"
) -> tuple[Entry | None, list[Entry], str | None]:
    """One page of the live page's updates: its pinned entry (first page only), its
    entries in ``order`` from ``cursor``, and the URL of the next page, if any (older
    updates, or later ones when read oldest first)."""
    session = db.session()
    size = int(current_app.config["READER_PAGE_SIZE"])
    pinned = store.pinned_entry(session, blog) if cursor is None else None
    oldest_first = order == "oldest"
    entries = store.published_entries(
        session,
        blog,
        limit=size + 1,
        before=None if oldest_first else cursor,
        after=cursor if oldest_first else None,
        oldest_first=oldest_first,
        exclude=pinned,
    )
    page = entries[:size]
    next_url = None
    if len(entries) > size:
        last = page[-1]
        assert last.published_at is not None
        next_url = page_url(blog, order, store.encode_cursor(last.published_at, last.id))
    return pinned, page, next_url


def opening_order(blog: Blog) -> str:
    """The order the live page opens in: newest first, or an ended blog's own choice."""
    return blog.ended_order if blog.status == "ended" else "newest"


# The cursor parameter of each order: "before" pages back in time, "after" forward.
CURSOR_PARAMETERS = {"newest": "before", "oldest": "after"}


def page_url(blog: Blog, order: str, cursor: str | None = None) -> str:
    """The path of a page of the live page: the first one in ``order``, or the one from
    ``cursor``. A cursor says its order itself, so the URL stays right whatever the
    blog's opening order becomes; the first page names an order only when it is not that."""
    if cursor is not None:
        query: dict[str, Any] = {CURSOR_PARAMETERS[order]: cursor}
        return url_for("public.live_page", slug=blog.slug, **query)
    if order == opening_order(blog):
        return url_for("public.live_page", slug=blog.slug)
    return url_for("public.live_page", slug=blog.slug, order=order)


def requested_page(blog: Blog) -> tuple[str, str | None]:
    """The order and the cursor (as given) of the live page asked for; raises LiveblogError
    (400) for an order that does not exist or a cursor that does not go with it."""
    order = request.args.get("order")
    if order is not None and order not in READING_ORDERS:
        raise LiveblogError(
            f"There is no order {order!r}: read the updates with order=newest or order=oldest."
        )
    given = {
        cursor_order: request.args[parameter]
        for cursor_order, parameter in CURSOR_PARAMETERS.items()
        if request.args.get(parameter)
    }
    if len(given) > 1:
        raise LiveblogError("Give 'before' or 'after', not both: follow a link of the page.")
    for cursor_order, cursor in given.items():
        if order is not None and order != cursor_order:
            parameter = CURSOR_PARAMETERS[cursor_order]
            raise LiveblogError(
                f"'{parameter}' pages the updates {cursor_order} first, not {order} first: "
                "follow a link of the page."
            )
        return cursor_order, cursor
    return order or opening_order(blog), None


def version_text(headline: str | None, html: str) -> str:
    """A version's words as readers read them: its headline, then its text."""
    return "\n\n".join(part for part in (headline, plain_text(html)) if part)


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
    order, given_cursor = requested_page(blog)
    cursor = store.decode_cursor(given_cursor) if given_cursor else None

    def build() -> Response:
        pinned, page, older_url = timeline(blog, cursor, order)
        key_events = store.published_entries(
            db.session(), blog, limit=50, key_events_only=True, oldest_first=order == "oldest"
        )
        on_page = {entry.id for entry in page} | ({pinned.id} if pinned else set())
        views = [entry_view(blog, entry) for entry in page]
        shown = ([pinned] if pinned else []) + page
        body = render_page(
            blog,
            "blog.html",
            entries=views,
            pinned=pinned_view(blog, pinned) if pinned else None,
            key_events=[(entry_view(blog, entry), entry.id in on_page) for entry in key_events],
            show_days=len({view.day for view in views}) > 1 or cursor is not None,
            older_url=older_url,
            is_first_page=cursor is None,
            order=order,
            orders={name: page_url(blog, name) for name in READING_ORDERS},
            first_page_url=page_url(blog, order),
            canonical=absolute(page_url(blog, order, given_cursor)),
            feeds=feed_links(blog),
            oembed=oembed_link(blog_url(blog)),
            image=image_of(blog),
            structured_data=live_blog_posting(
                blog,
                shown,
                first_update=store.first_published_at(db.session(), blog),
                first_map=store.first_map(db.session(), blog),
            ),
            widgets=widget_scripts(blog),
        )
        return html_page(body, widgets=page_widgets(blog, shown))

    return cached_for_readers(blog, request.full_path, build)


def _readers_entry(session: Session, blog: Blog, entry_id: int) -> Entry:
    """The entry a reader may ask for: published, or deleted (its pages answer 410); a
    draft or a scheduled one is not there."""
    found = store.get_entry(session, blog, entry_id)
    if found.status in ("draft", "scheduled"):
        raise NotFound(f"Live blog {blog.slug!r} has no update {entry_id}.")
    return found


def _removed_page(blog: Blog) -> Response:
    body = render_page(blog, "gone.html", live_url=url_for(".live_page", slug=blog.slug))
    return html_page(body, 410)


@bp.get("/<slug:slug>/updates/<id:entry_id>")
def entry(slug: str, entry_id: int) -> Response:
    blog = store.reader_blog(db.session(), slug)

    def build() -> Response:
        session = db.session()
        found = _readers_entry(session, blog, entry_id)
        if found.status == "deleted":
            return _removed_page(blog)
        older, newer = store.neighbours(session, blog, found)
        view = entry_view(blog, found)
        body = render_page(
            blog,
            "entry.html",
            entry=view,
            older=entry_view(blog, older) if older else None,
            newer=entry_view(blog, newer) if newer else None,
            newer_count=store.count_newer(session, blog, found),
            latest_url=page_url(blog, "newest"),
            share=share_links(view.url, f"{view.title} — {blog.title}"),
            canonical=view.url,
            description=entry_description(found),
            image=image_of(blog, found),
            feeds=feed_links(blog),
            oembed=oembed_link(view.url),
            structured_data=update_page(blog, found),
            widgets=widget_scripts(blog),
        )
        return html_page(body, widgets=page_widgets(blog, [found]))

    return cached_for_readers(blog, request.full_path, build)


@bp.get("/<slug:slug>/updates/<id:entry_id>/history")
def entry_history(slug: str, entry_id: int) -> Response:
    """The versions of a published update that readers saw, each with what it changed."""
    blog = store.reader_blog(db.session(), slug)

    def build() -> Response:
        session = db.session()
        found = _readers_entry(session, blog, entry_id)
        if found.status == "deleted":
            return _removed_page(blog)
        view = entry_view(blog, found)
        oldest_first = store.revisions(session, found)[::-1]
        versions = history.published_versions(oldest_first, found.corrections)
        environment = templates(blog)
        texts = [
            version_text(version.headline, render_blocks(version.blocks, environment))
            for version in versions
        ]
        shown = [
            VersionView(
                number=version.number,
                published_at=version.published_at,
                time_label=format_label(version.published_at, blog.timezone, TIME_FORMAT),
                corrections=tuple(
                    CorrectionView(
                        note=correction.note,
                        created_at=correction.created_at,
                        time_label=correction_time(blog, correction),
                    )
                    for correction in version.corrections
                ),
                changes=history.text_changes(texts[index - 1] if index else "", text),
            )
            for index, (version, text) in enumerate(zip(versions, texts, strict=True))
        ]
        canonical = absolute(url_for(".entry_history", slug=slug, entry_id=entry_id))
        body = render_page(
            blog,
            "history.html",
            entry=view,
            versions=shown[::-1],
            canonical=canonical,
            description=f"Every published version of {view.title}, with what changed.",
            feeds=feed_links(blog),
        )
        return html_page(body)

    return cached_for_readers(blog, request.full_path, build)


@bp.get("/authors/<ref>")
def author_page(ref: str) -> Response:
    """An author's public profile and their latest published updates across live blogs."""
    session = db.session()
    author = store.find_author(session, ref)
    if author is None:
        raise NotFound(f"There is no author {ref!r}.")
    before = request.args.get("before")
    cursor = store.decode_cursor(before) if before else None
    blogs = store.reader_blogs_state(session)

    def build() -> Response:
        entries = store.authored_entries(session, author, limit=AUTHOR_PAGE_SIZE + 1, before=cursor)
        page = entries[:AUTHOR_PAGE_SIZE]
        older_url = None
        if len(entries) > AUTHOR_PAGE_SIZE:
            last = page[-1]
            assert last.published_at is not None
            cursor_after = store.encode_cursor(last.published_at, last.id)
            older_url = f"{author_path(author)}?before={cursor_after}"
        body = (
            theme_templates(DEFAULT_THEME)
            .get_template("author.html")
            .render(
                author=author,
                photo=author_photo(author, AUTHOR_PHOTO_WIDTH),
                updates=[(entry.blog, entry_view(entry.blog, entry)) for entry in page],
                older_url=older_url,
                canonical=author_url(author)
                if cursor is None
                else absolute(f"{author_path(author)}?before={before}"),
                description=author.title or author.bio[:200] or author.name,
                image=absolute_url(author.photo["url"]) if author.photo else None,
                structured_data=profile_page(author),
            )
        )
        return html_page(body)

    changed = max(
        [author.profile_updated_at or author.created_at]
        + [max(changed_at, updated_at) for _, _, changed_at, updated_at in blogs]
    )
    return conditional(author_etag(author, blogs, request.full_path), changed, build)


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
