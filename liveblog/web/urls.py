"""Absolute URLs readers and feeds use: on the public origin (BASE_URL), not on whatever
host was asked."""

from flask import current_app

from ..models import Blog
from ..models import Entry
from ..models import User


def absolute(path: str) -> str:
    """``path`` on the public origin (LIVEBLOG_BASE_URL)."""
    return f"{current_app.config['BASE_URL']}{path}"


def blog_url(blog: Blog) -> str:
    return absolute(f"/{blog.slug}/")


def entry_path(blog: Blog, entry: Entry) -> str:
    """The permalink's path; plain, so events rendered outside a request can use it."""
    return f"/{blog.slug}/updates/{entry.id}"


def permalink(blog: Blog, entry: Entry) -> str:
    return absolute(entry_path(blog, entry))


def history_path(blog: Blog, entry: Entry) -> str:
    """The path of the page of the entry's published versions."""
    return f"{entry_path(blog, entry)}/history"


def author_path(user: User) -> str:
    """The author page's path: by the author's slug, else their id; plain, like entry_path."""
    return f"/authors/{user.slug or user.id}"


def author_url(user: User) -> str:
    return absolute(author_path(user))
