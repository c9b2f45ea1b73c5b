"""Use cases for blogs: their settings, validated, and the readers' view of them refreshed.

Blogs are created and changed by admins; a change readers see is logged as a
``blog.updated`` change in the same transaction. No Flask.
"""

import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from . import store
from .accounts import require_role
from .blocks import IMAGE_FIELDS
from .blocks import read_image
from .errors import Conflict
from .labels import format_problem
from .labels import zone
from .models import BLOG_STATUSES
from .models import READING_ORDERS
from .models import Blog
from .models import Entry
from .models import User
from .models import utcnow
from .render import render_blocks
from .themes import Themes
from .validation import Fields
from .validation import given
from .validation import present
from .validation import read_origin

BLOG_FIELDS = (
    "slug", "title", "standfirst", "top_image", "status", "timezone", "label_format", "language", "theme",
    "embed_widgets", "embed_origins", "ended_order",
)  # fmt: skip
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
RESERVED_SLUGS = frozenset(
    {
        "api",
        "editor",
        "static",
        "media",
        "uploads",
        "themes",
        "assets",
        "oembed",
        "admin",
        "login",
        "logout",
        "health",
    }
)
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def read_blog(data: Any, themes: Themes, *, creating: bool) -> dict[str, Any]:
    """The blog fields given in ``data``, validated; raises ValidationError."""
    fields = Fields.top(data, BLOG_FIELDS)
    values: dict[str, Any] = {
        "slug": fields.string("slug", required=creating, max_length=80),
        "title": fields.string("title", required=creating, max_length=300),
        "standfirst": fields.string("standfirst", max_length=2000, multiline=True, nullable=True),
        "status": fields.choice("status", BLOG_STATUSES),
        "timezone": fields.string("timezone", max_length=64),
        "label_format": fields.string("label_format", max_length=100),
        "language": fields.string("language", max_length=35),
        "theme": fields.choice("theme", tuple(themes.names())),
        "top_image": _top_image(fields),
        "embed_widgets": fields.boolean("embed_widgets"),
        "embed_origins": _embed_origins(fields),
        "ended_order": fields.choice("ended_order", READING_ORDERS),
    }
    slug = values["slug"]
    if present(slug):
        if not creating:
            fields.error("slug", "cannot be changed: permalinks and feeds depend on it")
        elif not SLUG.fullmatch(slug):
            fields.error("slug", "may only hold lowercase letters, digits and single hyphens")
        elif slug in RESERVED_SLUGS:
            fields.error("slug", f"{slug!r} is reserved; choose another")
    if present(values["timezone"]):
        try:
            zone(values["timezone"])
        except ValueError as error:
            fields.error("timezone", str(error))
    if present(values["label_format"]) and (problem := format_problem(values["label_format"])):
        fields.error("label_format", problem)
    if present(values["language"]) and not LANGUAGE.fullmatch(values["language"]):
        fields.error("language", "must be a language tag such as en, ar or pt-BR")
    fields.raise_errors()
    return {name: value for name, value in values.items() if given(value)}


MAX_EMBED_ORIGINS = 50


def _embed_origins(fields: Fields) -> Any:
    """The sites that may frame the blog's embed pages: null for any site, else a list of
    https origins (each once; an empty list leaves only this site)."""
    if fields.has("embed_origins") and fields.data["embed_origins"] is None:
        return None
    items = fields.items("embed_origins", max_items=MAX_EMBED_ORIGINS)
    if not present(items):
        return items
    origins: list[str] = []
    for path, item in items:
        if not isinstance(item, str):
            fields.error(path, "must be a string")
            continue
        try:
            origin = read_origin(item)
        except ValueError as error:
            fields.error(path, str(error))
            continue
        if origin not in origins:
            origins.append(origin)
    return origins


def suggest_slug(title: str) -> str:
    """A URL-safe slug from a title ("Hama: the offensive" -> "hama-the-offensive")."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = "-".join(words)[:80].strip("-")
    return f"{slug}-blog" if slug in RESERVED_SLUGS else slug


def _top_image(fields: Fields) -> Any:
    image = fields.object("top_image", IMAGE_FIELDS)
    return read_image(image) if isinstance(image, Fields) else image


def create_blog(session: Session, themes: Themes, data: Any, actor: User) -> Blog:
    """Create a blog (admins only)."""
    require_role(actor, "admin", "Only admins can create live blogs.")
    values = read_blog(data, themes, creating=True)
    with store.transaction(session):
        if session.scalar(select(Blog.id).where(Blog.slug == values["slug"])) is not None:
            raise Conflict(f"A live blog with the slug {values['slug']!r} already exists.")
        blog = Blog(**{"standfirst": "", **{k: v for k, v in values.items() if v is not None}})
        _set_status_times(blog, blog.status or "draft", utcnow())
        session.add(blog)
        session.flush()
    return blog


def update_blog(session: Session, themes: Themes, slug: str, data: Any, actor: User) -> Blog:
    """Change a blog's settings (admins only); readers learn of it through a blog.updated change."""
    require_role(actor, "admin", "Only admins can change a live blog's settings.")
    values = read_blog(data, themes, creating=False)
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        now = utcnow()
        if values.get("standfirst", "") is None:
            values["standfirst"] = ""
        changed = {name: value for name, value in values.items() if getattr(blog, name) != value}
        if not changed:
            return blog
        if "status" in changed:
            _set_status_times(blog, changed["status"], now)
        for name, value in changed.items():
            setattr(blog, name, value)
        blog.updated_at = now
        if "theme" in changed or "language" in changed:
            _rerender_blog(session, themes, blog)
        store.append_change(session, blog, "blog.updated")
    return blog


def _set_status_times(blog: Blog, status: str, now: datetime) -> None:
    if status == "live" and blog.started_at is None:
        blog.started_at = now
    blog.ended_at = now if status == "ended" else None


def rerender_entries(session: Session, themes: Themes) -> int:
    """Refresh every entry's stored HTML (after the sanitiser or block templates change).

    Each blog gets a blog.updated change, so cached pages and feeds and open live pages
    learn that what they show is out of date. Returns how many entries were rendered.
    """
    count = 0
    with store.transaction(session):
        for blog in session.scalars(select(Blog).with_for_update()).all():
            count += _rerender_blog(session, themes, blog)
            store.append_change(session, blog, "blog.updated")
    return count


def _rerender_blog(session: Session, themes: Themes, blog: Blog) -> int:
    """Refresh the stored HTML of ``blog``'s entries in place, without new versions.

    The HTML depends on the theme's block templates and the blog's language (their
    captions) as well as on the entry.
    """
    entries = session.scalars(select(Entry).where(Entry.blog_id == blog.id)).all()
    templates = themes.environment(blog.theme, blog.language)
    for entry in entries:
        html = render_blocks(entry.blocks, templates)
        session.execute(update(Entry).where(Entry.id == entry.id).values(html=html))
    return len(entries)
