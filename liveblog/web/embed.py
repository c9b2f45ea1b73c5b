"""Blueprint "embed": the reader surface made for other sites' iframes, and embed.js.

``/<slug>/embed`` is the live page without the site's chrome, ``?teaser=N`` the latest N
updates' headlines and ``?update=<id>`` the card of one update; all of them follow their
content's height through ``framed.js``, which tells the framing page's ``embed.js``.
They are read-only, so any site may frame them unless the blog's ``embed_origins`` says
which may.
"""

from typing import Any

from flask import Blueprint
from flask import Response
from flask import request
from flask import send_file
from flask import url_for

from .. import db
from .. import store
from ..errors import LiveblogError
from ..errors import NotFound
from ..models import Blog
from ..store import MAX_ID
from ..themes import DEFAULT_THEME
from ..validation import whole_number
from .conditional import cached_for_readers
from .public import html_page
from .public import page_widgets
from .public import timeline
from .public import widget_scripts
from .security import content_security_policy
from .security import reader_headers
from .templating import entry_view
from .templating import pinned_view
from .templating import render_page
from .templating import themes
from .urls import blog_url

bp = Blueprint("embed", __name__)
bp.after_request(reader_headers)

MAX_TEASER = 20
# embed.js keeps one URL for good (other sites' pages store it):
# caches keep it briefly and then revalidate, so a fix reaches every host page soon.
HOST_SCRIPT_CACHE = "public, max-age=300, stale-while-revalidate=3600"


def _whole_number(name: str, low: int, high: int) -> int | None:
    """The query argument ``name`` as a number from ``low`` to ``high``, if it is given."""
    raw = request.args.get(name)
    if raw is None:
        return None
    number = whole_number(raw, high)
    if number is None or not low <= number <= high:
        raise LiveblogError(f"{name} must be a whole number from {low} to {high}.")
    return number


def frame_ancestors(blog: Blog) -> str:
    """Who may frame the blog's embed pages: any site, or this one and ``embed_origins``."""
    if blog.embed_origins is None:
        return "*"
    return " ".join(["'self'", *blog.embed_origins])


@bp.get("/<slug:slug>/embed")
def embed(slug: str) -> Response:
    """The live page for an iframe; ``?teaser=N`` the latest N updates' headlines (``&seq=``
    names the change a teaser refreshes for, so each state has a URL of its own in shared
    caches); ``?update=<id>`` one update's card."""
    blog = store.reader_blog(db.session(), slug)
    teaser = _whole_number("teaser", 1, MAX_TEASER)
    update = _whole_number("update", 1, MAX_ID - 1)
    seq = request.args.get("seq")
    if seq is not None and not (seq.isascii() and seq.isdigit()):
        raise LiveblogError("seq must be a change number such as 42.")
    if teaser is not None and update is not None:
        raise LiveblogError("Ask for a teaser or for one update, not both.")

    def build() -> Response:
        if update is not None:
            return _card(blog, update)
        if teaser is not None:
            return _teaser(blog, teaser)
        return _live(blog)

    return cached_for_readers(blog, request.full_path, build)


def _live(blog: Blog) -> Response:
    pinned, page, older_url = timeline(blog)
    views = [entry_view(blog, entry) for entry in page]
    shown = ([pinned] if pinned else []) + page
    body = render_page(
        blog,
        "embed.html",
        entries=views,
        pinned=pinned_view(blog, pinned) if pinned else None,
        show_days=len({view.day for view in views}) > 1,
        older_url=older_url,
        live_url=url_for("public.live_page", slug=blog.slug),
        canonical=blog_url(blog),
        widgets=widget_scripts(blog),
    )
    widgets = page_widgets(blog, shown)
    return html_page(body, policy=content_security_policy(widgets, frame_ancestors(blog)))


def _teaser(blog: Blog, count: int) -> Response:
    entries = store.published_entries(db.session(), blog, limit=count)
    body = render_page(
        blog,
        "embed_teaser.html",
        entries=[entry_view(blog, entry) for entry in entries],
        refresh_url=url_for(".embed", slug=blog.slug, teaser=count),
        live_url=url_for("public.live_page", slug=blog.slug),
        canonical=blog_url(blog),
    )
    return html_page(body, policy=content_security_policy(None, frame_ancestors(blog)))


def _card(blog: Blog, entry_id: int) -> Response:
    found = store.get_entry(db.session(), blog, entry_id)
    if found.status in ("draft", "scheduled"):
        raise NotFound(f"Live blog {blog.slug!r} has no update {entry_id}.")
    live_url = url_for("public.live_page", slug=blog.slug)
    if found.status == "deleted":
        body = render_page(blog, "embed_gone.html", live_url=live_url, canonical=blog_url(blog))
        return html_page(body, 410, policy=content_security_policy(None, frame_ancestors(blog)))
    view = entry_view(blog, found)
    body = render_page(
        blog,
        "embed_entry.html",
        entry=view,
        live_url=live_url,
        canonical=view.url,
        widgets=widget_scripts(blog),
    )
    widgets = page_widgets(blog, [found])
    return html_page(body, policy=content_security_policy(widgets, frame_ancestors(blog)))


@bp.get("/embed.js")
def host_script() -> Any:
    """The script host pages include beside our iframes, which sizes them to their content."""
    path = themes().static_file(DEFAULT_THEME, "embed.js")
    if path is None:
        raise NotFound("This site has no embed.js.")
    response = send_file(
        path,
        mimetype="text/javascript",
        etag=themes().asset_digest(DEFAULT_THEME, "embed.js"),
        conditional=True,
    )
    response.headers["Cache-Control"] = HOST_SCRIPT_CACHE
    return response
