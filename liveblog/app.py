"""The app factory's wiring: settings, database, themes, blueprints, middleware."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db
from .autoresolve import LinkLookups
from .config import load_config
from .purge import FrontPurger
from .purge import PurgeOnCommit
from .scheduler import Scheduler
from .signals import changes_committed
from .themes import THEMES_DIR
from .themes import Themes
from .web import api
from .web import auth
from .web import editor
from .web import embed
from .web import feeds as feed_views
from .web import handlers
from .web import live
from .web import oembed
from .web import pagecache
from .web import public
from .web import security
from .web.compression import Compressor
from .web.converters import IdConverter
from .web.converters import SlugConverter
from .web.pagecache import PageCache


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, themes, blueprints, error handlers, scheduler,
    front purges, and the page cache in front of it all (``liveblog.create_app`` calls this)."""
    app = Flask(
        __name__, instance_path=os.environ.get("LIVEBLOG_INSTANCE_PATH") or None, static_folder=None
    )
    load_config(app.config, Path(app.instance_path), config)
    db.init_app(app)
    themes_path = app.config["THEMES_PATH"]
    app.extensions["liveblog.themes"] = Themes(
        THEMES_DIR, Path(themes_path) if themes_path else None
    )
    scheduler = Scheduler(db.database(app).sessions, float(app.config["SCHEDULER_INTERVAL"]))
    app.extensions["liveblog.scheduler"] = scheduler
    app.before_request(scheduler.ensure_running)
    link_lookups = LinkLookups(
        db.database(app).sessions,
        app.extensions["liveblog.themes"],
        lambda: api.resolver_of(app),
        float(app.config["EMBED_LOOKUP_INTERVAL"]),
        float(app.config["OEMBED_TIMEOUT"]),
    )
    app.extensions["liveblog.lookups"] = link_lookups
    app.before_request(link_lookups.ensure_running)

    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["id"] = IdConverter
    auth.init_app(app)
    for blueprint in (api.bp, editor.bp, public.bp, embed.bp, oembed.bp, feed_views.bp, live.bp):
        app.register_blueprint(blueprint)
    feed_views.init_app(app)
    live_state = live.init_app(app)
    if purge_urls := app.config["PURGE_URLS"]:
        purger = PurgeOnCommit(FrontPurger(purge_urls), db.database(app).engine)
        # blinker holds receivers weakly: the app keeps the purger (and so the connection).
        app.extensions["liveblog.purge"] = purger
        changes_committed.connect(purger)
    handlers.register(app)
    app.after_request(security.common_headers)
    if size := int(app.config["PAGE_CACHE_SIZE"]):
        page_cache = PageCache(app.wsgi_app, live_state.notifier, live_state.source, size)
        app.wsgi_app = page_cache  # type: ignore[method-assign]
        app.extensions[pagecache.EXTENSION] = page_cache
    app.wsgi_app = Compressor(app.wsgi_app)  # type: ignore[method-assign]
    if proxies := int(app.config["TRUSTED_PROXIES"]):
        # Outermost, so that the page cache too sees the client's scheme and address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    return app
