"""The pages' security headers: one Content-Security-Policy, built from what they may load."""

import re
from urllib.parse import urlsplit

from flask import Response
from flask import current_app

from ..embeds.providers import PLAYER_ORIGINS
from ..embeds.widgets import Widget


def content_security_policy(widgets: list[Widget] | None = None) -> str:
    """The reader pages' policy: this site's scripts only, the tile server's images, the
    click-to-load video players; plus the widgets of a blog that opted in to them."""
    widgets = widgets or []
    images = ["'self'", "https:", "data:"]
    if tiles := _tile_source(current_app.config["MAP_TILE_URL"]):
        images.append(tiles)
    scripts = ["'self'", *dict.fromkeys(o for w in widgets for o in w.scripts)]
    frames = [*PLAYER_ORIGINS, *dict.fromkeys(o for w in widgets for o in w.frames)]
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


def reader_headers(response: Response) -> Response:
    """The headers every reader page carries (a page may have set a wider policy already)."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response
