"""Conditional GET and cache headers for reader responses, keyed on the blog's change log.

Every reader-visible change bumps ``blog.last_seq``, so (blog, last_seq, theme version,
variant) names a response exactly: a matching request gets 304 before anything is loaded
or rendered.
"""

import hashlib
from collections.abc import Callable
from datetime import datetime

from flask import Response
from flask import current_app
from flask import request

from ..models import Blog
from ..models import User
from ..themes import DEFAULT_THEME
from . import pagecache
from .templating import themes

ONE_YEAR = 365 * 24 * 3600


def blog_etag(blog: Blog, variant: str) -> str:
    """A strong ETag for one representation (``variant``) of ``blog`` at its current seq."""
    theme_version = themes().version(blog.theme)
    return _etag(
        f"{blog.id}:{blog.last_seq}:{blog.updated_at.isoformat()}:{theme_version}:{variant}"
    )


def cached_for_readers(
    blog: Blog, variant: str, build: Callable[[], Response], max_age: int | None = None
) -> Response:
    """``build()``'s response with validators and cache headers, or 304 if the client is current.

    The response may be kept by the page cache until the blog's next change.
    """
    kept = pagecache.kept_copy_will_do(
        pagecache.seq_floor(request.headers.get(pagecache.SEQ_HEADER)),
        blog.last_seq,
        request.headers.get("If-None-Match"),
    )
    if kept is not None:
        return not_modified(kept, max_age)
    last_modified = max(blog.changed_at, blog.updated_at).replace(microsecond=0)
    pagecache.mark(request.environ, blog.id, blog.last_seq, last_modified)
    return conditional(blog_etag(blog, variant), last_modified, build, max_age)


def not_modified(etag: str, max_age: int | None = None) -> Response:
    """A 304 for a front that is behind the blog (``pagecache.kept_copy_will_do``): kept by
    no page cache, as it names the front's copy, not the blog's current state."""
    response = Response(status=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = shared_cache_control(max_age)
    response.vary.add("Accept-Encoding")
    return response


def blogs_etag(blogs: list[Blog], variant: str) -> str:
    """A strong ETag for a page listing ``blogs`` (the index), rendered with the default theme."""
    theme_version = themes().version(DEFAULT_THEME)
    state = "|".join(f"{b.id}:{b.last_seq}:{b.updated_at.isoformat()}" for b in blogs)
    return _etag(f"{state}:{theme_version}:{variant}")


def author_etag(user: User, blogs: list[tuple[int, int, datetime, datetime]], variant: str) -> str:
    """A strong ETag for an author's page: their profile, and the state of every blog
    readers see (``store.reader_blogs_state``), which its list of updates is drawn from."""
    theme_version = themes().version(DEFAULT_THEME)
    profile = f"{user.id}:{user.profile_updated_at}"
    state = "|".join(f"{id}:{seq}:{updated.isoformat()}" for id, seq, _, updated in blogs)
    return _etag(f"{profile}:{state}:{theme_version}:{variant}")


def conditional(
    etag: str, last_modified: datetime, build: Callable[[], Response], max_age: int | None = None
) -> Response:
    """``build()``'s response, or a 304 when the client's validators match; CDN-cacheable."""
    last_modified = last_modified.replace(microsecond=0)
    fresh = pagecache.client_is_current(
        request.headers.get("If-None-Match"),
        request.headers.get("If-Modified-Since"),
        etag,
        last_modified,
    )
    response = Response(status=304) if fresh else build()
    response.headers["ETag"] = etag
    response.last_modified = last_modified
    response.headers["Cache-Control"] = shared_cache_control(max_age)
    response.vary.add("Accept-Encoding")
    return response


def shared_cache_control(max_age: int | None = None) -> str:
    """Cache-Control for what shared caches may keep for READER_MAX_AGE (or ``max_age``)
    seconds and serve stale while refetching; browsers revalidate every time."""
    seconds = current_app.config["READER_MAX_AGE"] if max_age is None else max_age
    return (
        f"public, max-age=0, s-maxage={seconds}, "
        f"stale-while-revalidate={current_app.config['READER_STALE_WHILE_REVALIDATE']}"
    )


def _etag(raw: str) -> str:
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def immutable(response: Response) -> Response:
    """Mark a response whose URL changes with its content: caches may keep it for a year
    (and, like every reader response, a front may compress it)."""
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.vary.add("Accept-Encoding")
    return response
