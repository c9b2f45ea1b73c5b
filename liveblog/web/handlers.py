"""Error handlers: RFC 9457 problem JSON under /api, plain pages elsewhere."""

import logging
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import render_template_string
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from ..errors import LiveblogError
from ..errors import ValidationError

log = logging.getLogger(__name__)

ERROR_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>{{ title }}</h1><p>{{ detail }}</p><p><a href="/">Go to the front page</a></p></main></body>
</html>
"""


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """An ``application/problem+json`` response (RFC 9457)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


# Endpoints read by programs, not people: their errors are problem JSON too.
MACHINE_BLUEPRINTS = ("api", "live")


def _wants_problem() -> bool:
    return request.path.startswith("/api/") or request.blueprint in MACHINE_BLUEPRINTS


def _respond(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    if _wants_problem():
        response = problem(status, title, detail, **extra)
    else:
        response = Response(render_template_string(ERROR_PAGE, title=title, detail=detail), status)
    response.headers.update(headers or {})
    return response


def handle_liveblog_error(error: LiveblogError) -> Response:
    extra: dict[str, Any] = dict(error.extra)
    if isinstance(error, ValidationError):
        extra["errors"] = [{"field": item.field, "message": item.message} for item in error.errors]
    headers = {"WWW-Authenticate": 'Bearer realm="liveblog"'} if error.status == 401 else None
    return _respond(error.status, error.title, error.detail, headers, **extra)


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
    app.register_error_handler(LiveblogError, handle_liveblog_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
