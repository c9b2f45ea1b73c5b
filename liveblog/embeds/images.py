"""Where uploaded images live and which sizes they have: URL shapes only, no image library."""

import re

WIDTHS = (480, 960, 1600)
"""The narrower copies stored beside each upload (but a GIF), for ``srcset``."""
URL_PREFIX = "/media/uploads/"
_UPLOAD_URL = re.compile(r"/media/uploads/([0-9a-f]{64})\.(jpg|png|webp|gif)")
UPLOAD_FILE = re.compile(r"([0-9a-f]{64})(?:-([1-9][0-9]{0,4})w)?\.(jpg|png|webp|gif)")
"""An upload's file name, or one of its narrower copies': <sha256>[-<width>w].<extension>."""


def upload_name(url: str) -> str | None:
    """The file name of the upload at ``url`` (``<sha256>.<extension>``), or None."""
    return url.removeprefix(URL_PREFIX) if _UPLOAD_URL.fullmatch(url) else None


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
