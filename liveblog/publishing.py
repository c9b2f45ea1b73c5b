"""Use cases for blogs and entries: validate, authorise, render, store, log the change.

Every function here runs inside one write transaction, so an entry's new state, its
revision and its change-log rows are committed together or not at all. No Flask.
"""

import re
import unicodedata
from collections import defaultdict
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import store
from .blocks import MAX_BLOCKS
from .blocks import MAX_MARKDOWN
from .blocks import blocks_from_markdown
from .blocks import validate_blocks
from .errors import Conflict
from .errors import FieldError
from .errors import Forbidden
from .errors import PreconditionFailed
from .errors import PreconditionRequired
from .errors import ValidationError
from .labels import format_problem
from .labels import zone
from .models import BLOG_STATUSES
from .models import REVIEW_STATES
from .models import Blog
from .models import Entry
from .models import Revision
from .models import User
from .models import utcnow
from .render import render_blocks
from .themes import Themes
from .validation import Fields
from .validation import compact
from .validation import given
from .validation import present

ENTRY_FIELDS = (
    "headline", "body", "blocks", "published_at", "status", "pinned", "key_event", "review",
    "review_note",
)  # fmt: skip
ENTRY_INPUT_STATUSES = ("published", "draft", "scheduled")
BLOG_FIELDS = (
    "slug", "title", "standfirst", "top_image", "status", "timezone", "label_format", "language", "theme",
    "embed_widgets",
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
        "admin",
        "login",
        "logout",
        "health",
    }
)
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
# Clocks disagree a little: a "published" time this far ahead of ours is still accepted.
CLOCK_SKEW = timedelta(minutes=1)
MAX_MARKDOWN_BRACKETS = 2000


# Blogs


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


def suggest_slug(title: str) -> str:
    """A URL-safe slug from a title ("Hama: the offensive" -> "hama-the-offensive")."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = "-".join(words)[:80].strip("-")
    return f"{slug}-blog" if slug in RESERVED_SLUGS else slug


def _top_image(fields: Fields) -> Any:
    image = fields.object("top_image", ("url", "alt", "caption", "credit", "width", "height"))
    if not isinstance(image, Fields):
        return image
    return compact(
        url=image.url("url", required=True, allow_path=True),
        alt=image.string("alt", required=True, max_length=1000),
        caption=image.string("caption", max_length=2000, multiline=True),
        credit=image.string("credit", max_length=300),
        width=image.number("width", 1, 20_000, integer=True),
        height=image.number("height", 1, 20_000, integer=True),
    )


def create_blog(session: Session, themes: Themes, data: Any, actor: User) -> Blog:
    """Create a blog (admins only)."""
    _require(actor, "admin", "Only admins can create live blogs.")
    values = read_blog(data, themes, creating=True)
    taken = Conflict(f"A live blog with the slug {values['slug']!r} already exists.")
    try:
        with store.transaction(session):
            if session.scalar(select(Blog.id).where(Blog.slug == values["slug"])) is not None:
                raise taken
            blog = Blog(**{"standfirst": "", **{k: v for k, v in values.items() if v is not None}})
            _set_status_times(blog, blog.status or "draft", utcnow())
            session.add(blog)
            session.flush()
    except IntegrityError:  # another admin created the same slug a moment before
        raise taken from None
    return blog


def update_blog(session: Session, themes: Themes, slug: str, data: Any, actor: User) -> Blog:
    """Change a blog's settings (admins only); readers learn of it through a blog.updated change."""
    _require(actor, "admin", "Only admins can change a live blog's settings.")
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
        if "theme" in changed:
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

    The HTML depends on the theme's block templates as well as on the entry.
    """
    entries = session.scalars(select(Entry).where(Entry.blog_id == blog.id)).all()
    templates = themes.environment(blog.theme)
    for entry in entries:
        html = render_blocks(entry.blocks, templates)
        session.execute(update(Entry).where(Entry.id == entry.id).values(html=html))
    return len(entries)


# Entries


def read_entry(data: Any, *, creating: bool) -> dict[str, Any]:
    """The entry fields given in ``data``, validated, with ``body`` turned into blocks."""
    fields = Fields.top(data, ENTRY_FIELDS)
    values = {
        "headline": fields.string("headline", max_length=300, nullable=True),
        "published_at": fields.datetime("published_at", nullable=True),
        "status": fields.choice("status", ENTRY_INPUT_STATUSES),
        "pinned": fields.boolean("pinned"),
        "key_event": fields.boolean("key_event"),
        "review": fields.choice("review", REVIEW_STATES),
        "review_note": fields.string("review_note", max_length=1000, multiline=True, nullable=True),
    }
    body = fields.string("body", max_length=MAX_MARKDOWN, multiline=True)
    items = fields.items("blocks", max_items=MAX_BLOCKS)
    if present(body) and present(items):
        # The editor's composer: Markdown text, then the embeds, photos and maps added to it.
        values["blocks"] = blocks_from_markdown(body) + validate_blocks(items, fields.errors)
        if len(values["blocks"]) > MAX_BLOCKS:
            fields.error("blocks", f"must have at most {MAX_BLOCKS} items, with the text's")
    elif present(body):
        values["blocks"] = blocks_from_markdown(body)
    elif present(items):
        values["blocks"] = validate_blocks(items, fields.errors)
        if not items:
            fields.error("blocks", "must hold at least one block")
    elif fields.valid and (creating or fields.has("body")) and not fields.errors:
        fields.error("body", "is required (or blocks): an entry needs some content")
    brackets = sum(block.get("markdown", "").count("[") for block in values.get("blocks", []))
    if brackets > MAX_MARKDOWN_BRACKETS:
        # Python-Markdown's link parsing is quadratic in "[": cap it so no entry ties up a worker.
        message = f"has {brackets} '[' characters; at most {MAX_MARKDOWN_BRACKETS} fit in one entry"
        fields.error("body" if fields.has("body") else "blocks", message)
    fields.raise_errors()
    return {name: value for name, value in values.items() if given(value)}


def create_entry(
    session: Session, themes: Themes, slug: str, data: Any, actor: User, now: datetime | None = None
) -> Entry:
    """Create an entry: published at once, saved as a draft, or scheduled."""
    _require(actor, "contributor", "Your account cannot write entries.")
    values = read_entry(data, creating=True)
    now = now or utcnow()
    status = values.get("status", "published" if actor.can("editor") else "draft")
    _check_contributor(actor, status, values)
    _check_review(status, values)
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        entry = Entry(
            blog=blog,
            author=actor,
            headline=values.get("headline"),
            blocks=values["blocks"],
            html=_render(values["blocks"], themes, blog, data),
            status=status,
            published_at=_published_at(status, values, None, now),
            pinned=values.get("pinned", False),
            key_event=values.get("key_event", False),
            review=values.get("review"),
            review_note=values.get("review_note"),
            created_at=now,
            updated_at=now,
        )
        session.add(entry)
        session.flush()
        _keep_revision(session, entry, actor, now)
        if status == "published":
            _unpin_others(session, blog, entry, actor, now)
            store.append_change(session, blog, "entry.published", entry)
    return entry


def preview_entry(
    themes: Themes, blog: Blog, data: Any, actor: User, now: datetime | None = None
) -> Entry:
    """An unsaved entry, validated and rendered exactly as saving it would: for previews."""
    _require(actor, "contributor", "Your account cannot write entries.")
    values = read_entry(data, creating=True)
    now = now or utcnow()
    return Entry(
        id=0,
        blog=blog,
        author=actor,
        headline=values.get("headline"),
        blocks=values["blocks"],
        html=_render(values["blocks"], themes, blog, data),
        status="draft",
        published_at=values.get("published_at") or now,
        pinned=values.get("pinned", False),
        key_event=values.get("key_event", False),
        version=0,
        created_at=now,
        updated_at=now,
    )


def update_entry(
    session: Session,
    themes: Themes,
    slug: str,
    entry_id: int,
    data: Any,
    actor: User,
    if_match: str | None,
    now: datetime | None = None,
) -> Entry:
    """Edit an entry if ``if_match`` names its current version; log what readers will see."""
    values = read_entry(data, creating=False)
    now = now or utcnow()
    try:
        with store.transaction(session):
            blog = store.get_blog(session, slug, lock=True)
            entry = store.get_entry(session, blog, entry_id)
            _check_version(entry, if_match)
            if entry.status == "deleted":
                raise Conflict(f"Entry {entry_id} has been deleted and can no longer be edited.")
            status = values.get("status", entry.status)
            _check_editable(actor, entry, status, values)
            was_published, was_pinned = entry.status == "published", entry.pinned
            words_before = (entry.headline, entry.blocks)
            content_before = (*words_before, entry.published_at, entry.key_event)
            if "published_at" in values or status != entry.status:
                values["published_at"] = _published_at(status, values, entry.published_at, now)
            for name in ("headline", "blocks", "published_at", "pinned", "key_event"):
                if name in values:
                    setattr(entry, name, values[name])
            _apply_review(entry, status, values)
            entry.status = status
            if "blocks" in values:
                entry.html = _render(entry.blocks, themes, blog, data)
            if not session.is_modified(entry):
                return entry
            words_changed = words_before != (entry.headline, entry.blocks)
            content_changed = content_before != (
                entry.headline,
                entry.blocks,
                entry.published_at,
                entry.key_event,
            )
            if was_published and words_changed:
                entry.edited_at = now  # readers see "Updated"; a re-timing or a flag is no edit
            entry.updated_at = now
            session.flush()
            _keep_revision(session, entry, actor, now)
            _log_entry_changes(
                session, blog, entry, actor, (was_published, was_pinned, content_changed), now
            )
    except StaleDataError:
        raise PreconditionFailed(
            f"Entry {entry_id} was changed by someone else while you saved; reload it and try again."
        ) from None
    return entry


def delete_entry(
    session: Session, slug: str, entry_id: int, actor: User, if_match: str | None
) -> Entry:
    """Turn an entry into a tombstone: gone for readers, still reported by the change log."""
    now = utcnow()
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        entry = store.get_entry(session, blog, entry_id)
        _check_version(entry, if_match)
        if entry.status == "deleted":
            raise Conflict(f"Entry {entry_id} is already deleted.")
        _check_editable(actor, entry, entry.status, {}, deleting=True)
        was_published = entry.status == "published"
        entry.status, entry.pinned, entry.updated_at = "deleted", False, now
        session.flush()
        _keep_revision(session, entry, actor, now)
        if was_published:
            store.append_change(session, blog, "entry.deleted", entry)
    return entry


def publish_due_entries(session: Session, now: datetime | None = None) -> int:
    """Publish every scheduled entry whose time has come; returns how many were published.

    Safe to run from several processes at once: each entry is re-checked under the blog lock.
    """
    now = now or utcnow()
    by_blog: dict[int, list[int]] = defaultdict(list)
    for blog_id, entry_id in store.due_entries(session, now):
        by_blog[blog_id].append(entry_id)
    published = 0
    for blog_id, entry_ids in by_blog.items():
        with store.transaction(session):
            blog = session.scalars(select(Blog).where(Blog.id == blog_id).with_for_update()).one()
            for entry_id in entry_ids:
                entry = session.get(Entry, entry_id, populate_existing=True)
                if (
                    entry is None
                    or entry.status != "scheduled"
                    or entry.published_at is None
                    or entry.published_at > now
                ):
                    continue
                scheduler = session.get(User, store.last_editor_id(session, entry)) or entry.author
                entry.status, entry.updated_at = "published", now
                session.flush()
                _keep_revision(session, entry, scheduler, now)
                _unpin_others(session, blog, entry, scheduler, now)
                store.append_change(session, blog, "entry.published", entry)
                published += 1
    return published


def _render(blocks: list[dict[str, Any]], themes: Themes, blog: Blog, data: Any) -> str:
    """The entry's HTML; Markdown nested too deeply for the parser is an error in the input."""
    try:
        return render_blocks(blocks, themes.environment(blog.theme))
    except RecursionError:
        field = "body" if "body" in data else "blocks"
        raise _invalid(field, "nests lists or quotes too deeply to show; flatten them") from None


def _published_at(
    status: str, values: dict[str, Any], current: datetime | None, now: datetime
) -> datetime | None:
    """The publication time an entry will have in ``status``, given what the editor sent."""
    moment = values.get("published_at", current)
    if status == "scheduled":
        if moment is None or moment <= now:
            raise _invalid("published_at", "must be a time in the future to schedule an entry")
        return moment
    if status == "published":
        if "published_at" in values and moment is not None:
            if moment > now + CLOCK_SKEW:
                raise _invalid(
                    "published_at", 'is in the future; use status "scheduled" to publish later'
                )
            return moment
        return now if moment is None or moment > now else moment
    return moment


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)])


def _log_entry_changes(
    session: Session,
    blog: Blog,
    entry: Entry,
    actor: User,
    before: tuple[bool, bool, bool],
    now: datetime,
) -> None:
    """Append the changes readers see: (was published, was pinned, content changed) -> now."""
    was_published, was_pinned, content_changed = before
    is_published = entry.status == "published"
    if is_published and not was_published:
        _unpin_others(session, blog, entry, actor, now)
        store.append_change(session, blog, "entry.published", entry)
    elif was_published and not is_published:
        store.append_change(session, blog, "entry.deleted", entry)
    elif is_published:
        if content_changed:
            store.append_change(session, blog, "entry.updated", entry)
        if entry.pinned != was_pinned:
            _unpin_others(session, blog, entry, actor, now)
            store.append_change(
                session, blog, "entry.pinned" if entry.pinned else "entry.unpinned", entry
            )


def _unpin_others(session: Session, blog: Blog, entry: Entry, actor: User, now: datetime) -> None:
    """Keep one pinned entry per blog: pinning ``entry`` unpins the one pinned before."""
    if not entry.pinned:
        return
    for other in store.find_pinned(session, blog, besides=entry):
        other.pinned, other.updated_at = False, now
        session.flush()
        _keep_revision(session, other, actor, now)
        store.append_change(session, blog, "entry.unpinned", other)


def _keep_revision(session: Session, entry: Entry, editor: User, now: datetime) -> None:
    session.add(
        Revision(
            entry_id=entry.id,
            version=entry.version,
            editor_id=editor.id,
            created_at=now,
            data={
                "headline": entry.headline,
                "blocks": entry.blocks,
                "status": entry.status,
                "published_at": entry.published_at.isoformat() if entry.published_at else None,
                "pinned": entry.pinned,
                "key_event": entry.key_event,
            },
        )
    )


def _check_version(entry: Entry, if_match: str | None) -> None:
    """Enforce ``If-Match``: the editor must name the version they are changing."""
    if if_match is None:
        raise PreconditionRequired(
            "Send an If-Match header with the entry's ETag, so that an edit never overwrites "
            "one you have not seen."
        )
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or entry_etag(entry) in tags:
        return
    raise PreconditionFailed(
        f"Entry {entry.id} has changed since you loaded it (it is now at version {entry.version}); "
        "reload it, reapply your edit and try again."
    )


def entry_etag(entry: Entry) -> str:
    """The entry's strong ETag: its version."""
    return f'"{entry.version}"'


def _require(actor: User, role: str, message: str) -> None:
    if not actor.can(role):
        raise Forbidden(message)


def _check_contributor(actor: User, status: str, values: dict[str, Any]) -> None:
    if actor.can("editor"):
        return
    if status != "draft":
        raise Forbidden("Contributors save drafts; an editor publishes or schedules them.")
    if values.get("pinned"):
        raise Forbidden("Only editors can pin entries.")
    if values.get("review") == "returned":
        raise Forbidden("Only editors can return a draft; submit it for review instead.")


def _check_review(status: str, values: dict[str, Any]) -> None:
    if "review" in values and status != "draft":
        raise _invalid("review", "applies to drafts only; publishing an entry ends its review")


def _apply_review(entry: Entry, status: str, values: dict[str, Any]) -> None:
    """Submitting, returning, or (by publishing or scheduling) ending a draft's review."""
    _check_review(status, values)
    if status != "draft":
        entry.review, entry.review_note = None, None
    elif "review" in values:
        entry.review = values["review"]
        entry.review_note = values.get("review_note")


def _check_editable(
    actor: User, entry: Entry, status: str, values: dict[str, Any], deleting: bool = False
) -> None:
    if actor.can("editor"):
        return
    _require(actor, "contributor", "Your account cannot edit entries.")
    if entry.author_id != actor.id:
        raise Forbidden("Contributors can only change their own entries.")
    if entry.status != "draft":
        raise Forbidden("This entry is no longer a draft; ask an editor to change it.")
    if not deleting:
        _check_contributor(actor, status, values)
