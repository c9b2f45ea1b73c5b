"""Liveblog: live-blog publishing with live pages, feeds and an editor API."""

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> "Flask":
    """The Liveblog app, configured by LIVEBLOG_* variables and then ``config``.

    The wiring is imported only here, so that importing a core module (``liveblog.store``,
    ``liveblog.themes``…) loads neither Flask, nor Pillow, nor any blueprint.
    """
    from .app import create_app as build

    return build(config)
