"""schema.org structured data (JSON-LD) for the live page and each permalink."""

from datetime import datetime
from typing import Any

from flask import current_app

from ..models import Blog
from ..models import Entry
from ..models import User
from ..summaries import plain_text
from ..themes import iso_seconds
from .templating import absolute_url
from .templating import entry_view
from .templating import image_of
from .urls import absolute
from .urls import author_url
from .urls import blog_url


def _iso(moment: datetime | None) -> str | None:
    return iso_seconds(moment) if moment else None


def _publisher() -> dict[str, str]:
    return {"@type": "Organization", "name": current_app.config["SITE_NAME"], "url": absolute("/")}


def person(user: User) -> dict[str, Any]:
    """schema.org Person for an author: their page, title and photo as bylines show them."""
    found: dict[str, Any] = {"@type": "Person", "name": user.name}
    if user.active:
        found["url"] = author_url(user)
        if user.title:
            found["jobTitle"] = user.title
        if user.photo:
            found["image"] = absolute_url(user.photo["url"])
    return found


def profile_page(user: User) -> dict[str, Any]:
    """schema.org ProfilePage for an author page."""
    return {
        "@context": "https://schema.org",
        "@type": "ProfilePage",
        "url": author_url(user),
        "mainEntity": {
            **person(user),
            **({"description": user.bio} if user.bio else {}),
            **({"sameAs": user.links} if user.links else {}),
        },
    }


def blog_posting(blog: Blog, entry: Entry) -> dict[str, Any]:
    """schema.org BlogPosting for one entry."""
    view = entry_view(blog, entry)
    return {
        "@type": "BlogPosting",
        "@id": view.url,
        "url": view.url,
        "headline": f"{view.title} — {blog.title}"[:110],
        "datePublished": _iso(entry.published_at),
        "dateModified": _iso(entry.edited_at or entry.published_at),
        "articleBody": plain_text(entry.html),
        "author": [person(user) for user in entry.credited()],
        "publisher": _publisher(),
        "inLanguage": blog.language,
        **({"image": image} if (image := image_of(blog, entry)) else {}),
    }


def live_blog_posting(blog: Blog, entries: list[Entry]) -> dict[str, Any]:
    """schema.org LiveBlogPosting for the live page, as Google documents it."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "@id": blog_url(blog),
        "url": blog_url(blog),
        "headline": blog.title[:110],
        "description": blog.standfirst or blog.title,
        "inLanguage": blog.language,
        "datePublished": _iso(blog.started_at or blog.created_at),
        "dateModified": _iso(max(blog.changed_at, blog.updated_at)),
        "coverageStartTime": _iso(blog.started_at or blog.created_at),
        "publisher": _publisher(),
        "author": _publisher(),
        "liveBlogUpdate": [blog_posting(blog, entry) for entry in entries],
    }
    if blog.status == "ended" and blog.ended_at:
        data["coverageEndTime"] = _iso(blog.ended_at)
    if image := image_of(blog):
        data["image"] = image
    return data
