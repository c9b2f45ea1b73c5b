"""Error handlers: RFC 9457 problem JSON for programs, the theme's error page for people."""

import logging
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from ..errors import BlogGone
from ..errors import LiveblogError
from ..errors import StorageUnavailable
from ..errors import ValidationError
from ..themes import DEFAULT_THEME
from .security import reader_headers
from .templating import render_page
from .templating import theme_templates

log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """An ``application/problem+json`` response (RFC 9457)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


# Endpoints read by programs, not people: their errors are problem JSON too.
MACHINE_BLUEPRINTS = ("api", "live", "oembed")


def _wants_problem() -> bool:
    return request.path.startswith("/api/") or request.blueprint in MACHINE_BLUEPRINTS


def _respond(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    response = (
        problem(status, title, detail, **extra)
        if _wants_problem()
        else _page(status, title, detail)
    )
    response.headers.update(headers or {})
    return response


def _page(status: int, title: str, detail: str) -> Response:
    """``error.html``, looked up like every reader template (overrides, then the default theme)."""
    try:
        template = theme_templates(DEFAULT_THEME).get_template("error.html")
        body = template.render(status=status, title=title, detail=detail)
    except Exception:  # a broken theme must not hide the error it was asked to show
        log.exception("could not render error.html for a %d", status)
        return Response(f"{title}\n\n{detail}\n", status, mimetype="text/plain")
    return reader_headers(Response(body, status, mimetype="text/html"))


STORAGE_DOWN = StorageUnavailable(
    "The server cannot reach its storage right now, so nothing could be saved or read; "
    "everything saved before is safe. Try again in a minute."
)
RETRY_AFTER_SECONDS = 30


def handle_liveblog_error(error: LiveblogError) -> Response:
    extra: dict[str, Any] = dict(error.extra)
    if isinstance(error, ValidationError):
        extra["errors"] = [{"field": item.field, "message": item.message} for item in error.errors]
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="liveblog"'
    if error.status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _respond(error.status, error.title, error.detail, headers, **extra)


def handle_blog_gone(error: BlogGone) -> Response:
    """A deleted blog: people get its theme's gone page, programs the problem."""
    if _wants_problem():
        return handle_liveblog_error(error)
    try:
        body = render_page(error.blog, "gone.html", live_url=None)
    except Exception:
        log.exception("could not render gone.html for %r", error.blog.slug)
        return _page(error.status, error.title, error.detail)
    return reader_headers(Response(body, error.status, mimetype="text/html"))


def handle_database_error(error: DBAPIError) -> Response:
    """A storage fault (which db.make_engine reports as a lost connection, so the pool is
    renewed) is a 503 to try again; any other database error is a bug."""
    if not error.connection_invalidated:
        return handle_unexpected(error)
    log.warning("storage unavailable on %s %s: %s", request.method, request.path, error.orig)
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    return handle_liveblog_error(STORAGE_DOWN)


def handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    headers = {key: value for key, value in error.get_headers() if key.lower() == "allow"}
    detail = error.description or error.name
    if status == 413 and current_app.config.get("MAX_CONTENT_LENGTH"):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        detail = f"The request body is larger than the {limit:,} bytes this server accepts."
    return _respond(status, error.name, detail, headers)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    server_error = InternalServerError()
    return _respond(500, server_error.name, "Something went wrong on our side; it has been logged.")


def register(app: Flask) -> None:
    app.register_error_handler(BlogGone, handle_blog_gone)
    app.register_error_handler(LiveblogError, handle_liveblog_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
