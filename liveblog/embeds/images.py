"""Where uploaded images live and which sizes they have: URL shapes only, no image library."""

import re

WIDTHS = (480, 960, 1600)
"""The narrower copies stored beside each upload (but a GIF), for ``srcset``."""
URL_PREFIX = "/media/uploads/"
_UPLOAD_URL = re.compile(r"/media/uploads/([0-9a-f]{64})\.(jpg|png|webp|gif)")


def srcset(url: str, width: int | None) -> str:
    """The ``srcset`` of an upload ``width`` pixels wide (its stored sizes), else ''."""
    found = _UPLOAD_URL.fullmatch(url or "")
    if not found or not width or found.group(2) == "gif":
        return ""
    digest, extension = found.groups()
    candidates = [
        f"{URL_PREFIX}{digest}-{narrower}w.{extension} {narrower}w"
        for narrower in WIDTHS
        if narrower < width
    ]
    return ", ".join([*candidates, f"{url} {width}w"]) if candidates else ""
