"""The providers' own widget scripts, which a blog may opt in to (``Blog.embed_widgets``).

Readers get no third-party script by default: a post is our own blockquote. A blog that
opts in also loads each provider's script over that markup, and its pages'
Content-Security-Policy must then allow the script and frame origins named here.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Widget:
    """A provider's embed script and what the Content-Security-Policy must allow for it."""

    script: str  # "{host}" is the post's host (Mastodon)
    scripts: tuple[str, ...]  # script-src origins
    frames: tuple[str, ...]  # frame-src origins

    def for_host(self, host: str) -> "Widget":
        return Widget(
            self.script.replace("{host}", host),
            tuple(origin.replace("{host}", host) for origin in self.scripts),
            tuple(origin.replace("{host}", host) for origin in self.frames),
        )


WIDGETS = {
    "x": Widget(
        "https://platform.twitter.com/widgets.js",
        ("https://platform.twitter.com", "https://cdn.syndication.twimg.com"),
        ("https://platform.twitter.com", "https://syndication.twitter.com"),
    ),
    "bluesky": Widget(
        "https://embed.bsky.app/static/embed.js",
        ("https://embed.bsky.app",),
        ("https://embed.bsky.app",),
    ),
    "instagram": Widget(
        "https://www.instagram.com/embed.js",
        ("https://www.instagram.com",),
        ("https://www.instagram.com",),
    ),
    "threads": Widget(
        "https://www.threads.net/embed.js",
        ("https://www.threads.net",),
        ("https://www.threads.net", "https://www.threads.com"),
    ),
    "mastodon": Widget("https://{host}/embed.js", ("https://{host}",), ("https://{host}",)),
}


def widget(key: str, url: str) -> Widget | None:
    """The widget a post at ``url`` from provider ``key`` can be shown with, if any."""
    found = WIDGETS.get(key)
    if found is None:
        return None
    host = urlsplit(url).hostname or ""
    if "{host}" in found.script and not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", host):
        return None
    return found.for_host(host)


def scripts_by_provider() -> dict[str, str]:
    """Provider -> its widget script ("{host}" standing for the post's host), for live.js."""
    return {key: found.script for key, found in WIDGETS.items()}


def widgets_for(blocks: Iterable[dict[str, Any]]) -> list[Widget]:
    """The widgets a page may load, which its Content-Security-Policy must allow: every
    fixed-host one (posts may arrive live), and those of the Mastodon hosts in ``blocks``."""
    found = {w.script: w for w in WIDGETS.values() if "{host}" not in w.script}
    for block in blocks:
        if block["type"] == "social" and "url" in block:
            if extra := widget(block.get("provider", ""), block["url"]):
                found[extra.script] = extra
    return list(found.values())
