"""Use cases for blogs: their settings, validated, and the readers' view of them refreshed.

Blogs are created, changed and deleted by admins; a change readers see is logged as a
``blog.updated`` change in the same transaction. No Flask.

Deleting is soft: the blog's rows stay (status ``deleted``) and its slug stays taken, so
no later blog inherits its links; readers get 410 everywhere, and its uploads that no
other blog uses are moved out of what is served.
"""

import logging
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String
from sqlalchemy import cast
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from . import desks
from . import store
from .accounts import require_role
from .blocks import IMAGE_FIELDS
from .blocks import read_image
from .embeds.images import URL_PREFIX
from .embeds.images import upload_name
from .errors import Conflict
from .errors import PreconditionFailed
from .errors import PreconditionRequired
from .labels import format_problem
from .labels import zone
from .models import BLOG_DELETED
from .models import BLOG_STATUSES
from .models import READING_ORDERS
from .models import Blog
from .models import Entry
from .models import Revision
from .models import User
from .models import utcnow
from .render import render_blocks
from .themes import Themes
from .transfer.export import media_files
from .transfer.export import upload_urls
from .validation import Fields
from .validation import given
from .validation import present
from .validation import read_origin

log = logging.getLogger(__name__)

BLOG_FIELDS = (
    "slug", "title", "standfirst", "top_image", "status", "timezone", "label_format", "language", "theme",
    "embed_widgets", "embed_origins", "ended_order",
)  # fmt: skip
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
RESERVED_SLUGS = frozenset(
    {
        "api",
        "authors",
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
# The folder under MEDIA_PATH where a deleted blog's own uploads are kept, unserved.
WITHDRAWN = "withdrawn"
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
        taken = session.scalar(select(Blog.status).where(Blog.slug == values["slug"]))
        if taken == BLOG_DELETED:
            raise Conflict(
                f"The slug {values['slug']!r} belonged to a live blog that was deleted; it "
                "stays reserved so that old links never lead to another story. Choose another."
            )
        if taken is not None:
            raise Conflict(f"A live blog with the slug {values['slug']!r} already exists.")
        blog = Blog(**{"standfirst": "", **{k: v for k, v in values.items() if v is not None}})
        _set_status_times(blog, blog.status or "draft", utcnow())
        session.add(blog)
        session.flush()
        desks.join(session, blog, actor)
    return blog


def blog_etag(blog: Blog) -> str:
    """The blog's strong ETag: moved by every change readers see and every new setting."""
    return f'"{blog.last_seq}-{int(blog.updated_at.timestamp() * 1_000_000)}"'


def delete_blog(
    session: Session, slug: str, actor: User, if_match: str | None, media_path: Path | str
) -> Blog:
    """Delete a blog (admins only) if ``if_match`` names its current ETag.

    Its rows are kept, its readers get 410 and its open streams a final ``blog.updated``
    (status ``deleted``) that ends them; its uploads no other blog uses stop being served.
    """
    require_role(actor, "admin", "Only admins can delete live blogs.")
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        if if_match is None:
            raise PreconditionRequired(
                "Send an If-Match header with the blog's ETag (from GET /api/v1/blogs/<slug>), "
                "so that a blog is never deleted on the strength of a stale look."
            )
        if "*" not in (tags := [tag.strip() for tag in if_match.split(",")]) and (
            blog_etag(blog) not in tags
        ):
            raise PreconditionFailed(
                f"The live blog {slug!r} has changed since you loaded it; look at it again "
                "before deleting it."
            )
        now = utcnow()
        blog.status, blog.deleted_at, blog.updated_at = BLOG_DELETED, now, now
        store.append_change(session, blog, "blog.updated")
    # After the commit, so that other blogs' writers do not wait on the scan of every entry.
    _withdraw(Path(media_path), _only_theirs(session, blog))
    return blog


def _only_theirs(session: Session, blog: Blog) -> set[str]:
    """The names of the uploads ``blog`` uses that no other blog (still there) uses: in
    its entries and their revisions, or as its top photo."""
    uses: dict[bool, set[str]] = {True: set(), False: set()}
    mentions = f"%{URL_PREFIX}%"
    entries = select(Entry.blog_id, Entry.blocks).where(cast(Entry.blocks, String).like(mentions))
    revisions = (
        select(Entry.blog_id, Revision.data)
        .join(Entry, Revision.entry_id == Entry.id)
        .where(cast(Revision.data, String).like(mentions))
    )
    tops = select(Blog.id, Blog.top_image).where(Blog.top_image.is_not(None))
    others = select(Blog.id).where(Blog.status != BLOG_DELETED, Blog.id != blog.id)
    live_ids = set(session.scalars(others)) | {blog.id}
    for query in (entries, revisions, tops):
        for blog_id, value in session.execute(query):
            if blog_id in live_ids:
                uses[blog_id == blog.id].update(_upload_names(value))
    return uses[True] - uses[False]


def _upload_names(value: Any) -> set[str]:
    return {name for url in upload_urls(value) if (name := upload_name(url))}


def _withdraw(media_path: Path, names: set[str]) -> None:
    """Move the files of the uploads ``names`` (with their narrower copies) to WITHDRAWN,
    which /media/ does not serve; kept, as the blog's rows are."""
    target = media_path / WITHDRAWN
    for path in media_files(media_path, [URL_PREFIX + name for name in sorted(names)]):
        try:
            target.mkdir(parents=True, exist_ok=True)
            path.replace(target / path.name)
        except OSError:
            log.exception("could not withdraw the upload %s", path)


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
