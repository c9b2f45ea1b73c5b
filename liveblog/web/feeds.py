"""Blueprint "feeds": Atom, RSS and JSON Feed of each blog, and their WebSub wiring.

``/<slug>/feed.{atom,rss,json}`` carry the newest FEED_MAX_ENTRIES published entries;
``/<slug>/key-events.{atom,rss,json}`` only the key events (``?key_events=1`` on the main
feeds redirects there). A request whose validators match gets 304 before any entry is
loaded; otherwise the document comes from this process's FeedCache, built once per change.
"""

from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import redirect
from flask import request

from .. import db
from .. import feeds
from .. import store
from ..models import Blog
from ..signals import changes_committed
from ..websub import FeedPinger
from ..websub import HubNotifier
from .conditional import cached_for_readers
from .urls import absolute
from .urls import author_url
from .urls import blog_url
from .urls import permalink

bp = Blueprint("feeds", __name__)

FORMAT = "any(atom, rss, json)"
TRUE = ("1", "true", "yes", "on")


@bp.get(f"/<slug:slug>/feed.<{FORMAT}:fmt>")
def feed(slug: str, fmt: str) -> Any:
    """The blog's feed of its newest published entries."""
    if request.args.get("key_events", "").lower() in TRUE:
        return redirect(absolute(feeds.feed_path(slug, fmt, "key-events")), 301)
    return _serve(slug, fmt, "all")


@bp.get(f"/<slug:slug>/key-events.<{FORMAT}:fmt>")
def key_events(slug: str, fmt: str) -> Any:
    """The blog's feed of its key events only."""
    return _serve(slug, fmt, "key-events")


def _serve(slug: str, fmt: str, variant: str) -> Response:
    blog = store.reader_blog(db.session(), slug)

    def build() -> Response:
        document = feed_cache().get(
            (blog.id, fmt, variant), blog.last_seq, lambda: _build(blog, fmt, variant)
        )
        return Response(document, content_type=f"{feeds.MEDIA_TYPES[fmt]}; charset=utf-8")

    return cached_for_readers(blog, f"feed:{variant}:{fmt}", build)


def _build(blog: Blog, fmt: str, variant: str) -> bytes:
    limit = max(1, int(current_app.config["FEED_MAX_ENTRIES"]))
    entries = store.published_entries(
        db.session(), blog, limit=limit, key_events_only=variant == "key-events"
    )
    links = feeds.FeedLinks(
        base=current_app.config["BASE_URL"],
        home=blog_url(blog),
        self_url=absolute(feeds.feed_path(blog.slug, fmt, variant)),
        permalink=lambda entry: permalink(blog, entry),
        hub=current_app.config["WEBSUB_HUB"] or None,
        author_page=author_url,
    )
    return feeds.build_feed(fmt, blog, entries, links, variant)


def feed_cache(app: Flask | None = None) -> feeds.FeedCache:
    """This process's built feeds for ``app`` (default: the current app)."""
    cache: feeds.FeedCache = (app or current_app).extensions["liveblog.feeds"]
    return cache


def init_app(app: Flask) -> None:
    """Give ``app`` a feed cache and, when WEBSUB_HUB is set, a hub notifier fed by commits."""
    app.extensions["liveblog.feeds"] = feeds.FeedCache()
    hub = app.config["WEBSUB_HUB"]
    if not hub:
        return
    base_url = app.config["BASE_URL"]
    pinger = FeedPinger(
        HubNotifier(hub), db.database(app).engine, lambda slug: feeds.feed_urls(base_url, slug)
    )
    # blinker holds receivers weakly: the app keeps the pinger (and so the connection) alive.
    app.extensions["liveblog.websub"] = pinger
    changes_committed.connect(pinger)
