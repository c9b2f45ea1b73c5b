"""Security headers: one Content-Security-Policy for the pages, built from what they may
load, and what every response carries."""

import re
from urllib.parse import urlsplit

from flask import Response
from flask import current_app
from flask import request

from ..embeds.providers import PLAYER_ORIGINS
from ..embeds.widgets import Widget


def content_security_policy(
    widgets: list[Widget] | None = None, frame_ancestors: str = "'self'", own_frames: bool = False
) -> str:
    """The reader pages' policy: this site's scripts only, the tile server's images, the
    click-to-load video players; plus the widgets of a blog that opted in to them. Only
    this site may frame the pages, unless ``frame_ancestors`` says who else may; with
    ``own_frames`` (the editor's panes), the page may frame this site's pages too."""
    widgets = widgets or []
    images = ["'self'", "https:", "data:"]
    if tiles := _tile_source(current_app.config["MAP_TILE_URL"]):
        images.append(tiles)
    scripts = ["'self'", *dict.fromkeys(o for w in widgets for o in w.scripts)]
    frames = [*PLAYER_ORIGINS, *dict.fromkeys(o for w in widgets for o in w.frames)]
    if own_frames:
        frames.insert(0, "'self'")
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
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def _tile_source(template: str) -> str | None:
    """The CSP source for map tiles served over plain http (https: is allowed already)."""
    parts = urlsplit(template)
    host = parts.netloc.replace("{s}", "*")
    if parts.scheme != "http" or not re.fullmatch(r"(\*\.)?[\w.-]+(:\d+)?", host):
        return None
    return f"http://{host}"


def reader_headers(response: Response) -> Response:
    """The headers every reader page carries (a page may have set a wider policy already)."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


# frame-ancestors as the one legacy header browsers without CSP level 2 understand.
_FRAME_OPTIONS = {"'self'": "SAMEORIGIN", "'none'": "DENY"}


def common_headers(response: Response) -> Response:
    """What every response carries: no content sniffing; an X-Frame-Options that says what
    the page's own frame-ancestors says (when old browsers can express it); and, over
    HTTPS, Strict-Transport-Security for HSTS_SECONDS."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    ancestors = re.search(
        r"(?:^|;)\s*frame-ancestors\s+([^;]+)", response.headers.get("Content-Security-Policy", "")
    )
    if ancestors and (legacy := _FRAME_OPTIONS.get(ancestors.group(1).strip())):
        response.headers.setdefault("X-Frame-Options", legacy)
    seconds = int(current_app.config["HSTS_SECONDS"])
    if seconds and request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    return response
