"""Use cases for entries: validate, authorise, render, store, log the change.

Every function here runs inside one write transaction, so an entry's new state, its
revision and its change-log rows are committed together or not at all. No Flask.
"""

import hashlib
import json
from collections import defaultdict
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import desks
from . import lookups
from . import store
from .accounts import require_role
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
from .label_reader import ReadLabel
from .label_reader import read_label
from .models import BLOG_DELETED
from .models import REVIEW_STATES
from .models import Blog
from .models import Correction
from .models import EmbedLookup
from .models import Entry
from .models import EntryRequest
from .models import Revision
from .models import User
from .models import includes
from .models import utcnow
from .render import render_blocks
from .themes import Themes
from .validation import Fields
from .validation import given
from .validation import present

ENTRY_FIELDS = (
    "headline", "body", "blocks", "published_at", "status", "pinned", "key_event", "review",
    "review_note", "correction", "authors",
)  # fmt: skip
NEW_ENTRY_FIELDS = (*ENTRY_FIELDS, "keep_label")
ENTRY_INPUT_STATUSES = ("published", "draft", "scheduled")
# Clocks disagree a little: a "published" time this far ahead of ours is still accepted.
CLOCK_SKEW = timedelta(minutes=1)
MAX_MARKDOWN_BRACKETS = 2000
MAX_CORRECTION = 500
MAX_AUTHORS = 10
# How long an Idempotency-Key keeps its entry: far longer than any retry takes.
REQUEST_KEY_LIFETIME = timedelta(hours=24)


def read_entry(data: Any, *, creating: bool) -> dict[str, Any]:
    """The entry fields given in ``data``, validated, with ``body`` turned into blocks.

    A new entry may say ``keep_label``: a label at the start of its body stays text.
    """
    fields = Fields.top(data, NEW_ENTRY_FIELDS if creating else ENTRY_FIELDS)
    values = {
        "keep_label": fields.boolean("keep_label"),
        "headline": fields.string("headline", max_length=300, nullable=True),
        "published_at": fields.datetime("published_at", nullable=True),
        "status": fields.choice("status", ENTRY_INPUT_STATUSES),
        "pinned": fields.boolean("pinned"),
        "key_event": fields.boolean("key_event"),
        "review": fields.choice("review", REVIEW_STATES),
        "review_note": fields.string("review_note", max_length=1000, multiline=True, nullable=True),
        "correction": fields.string("correction", max_length=MAX_CORRECTION, nullable=True),
    }
    if creating and present(values["correction"]):
        fields.error("correction", "can only be added to an edit of a published update")
    values["authors"] = _author_ids(fields)
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


def _author_ids(fields: Fields) -> Any:
    if fields.has("authors") and fields.data["authors"] is None:
        fields.error("authors", "must list at least one user id: whose byline is this?")
        return None
    items = fields.items("authors", max_items=MAX_AUTHORS)
    if not present(items):
        return items
    if not items:
        fields.error("authors", "must list at least one user id: whose byline is this?")
    ids: list[int] = []
    for path, item in items:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            fields.errors.append(FieldError(path, "must be a user's id, a whole number"))
        elif item in ids:
            fields.errors.append(FieldError(path, f"is {item} again; name each author once"))
        else:
            ids.append(item)
    return ids


def _authors(session: Session, ids: list[int]) -> list[User]:
    """The active users ``ids`` name, in order; 422 naming each id that is not one."""
    found = store.get_users(session, ids)
    errors = []
    for index, user_id in enumerate(ids):
        user = found.get(user_id)
        if user is None:
            errors.append(FieldError(f"authors[{index}]", f"is {user_id}, which is no user's id"))
        elif not user.active:
            errors.append(
                FieldError(f"authors[{index}]", f"is {user_id}, {user.name}, who is deactivated")
            )
    if errors:
        raise ValidationError(errors)
    return [found[user_id] for user_id in ids]


def create_entry(
    session: Session,
    themes: Themes,
    slug: str,
    data: Any,
    actor: User,
    now: datetime | None = None,
    request_key: str | None = None,
) -> Entry:
    """Create an entry: published at once, saved as a draft, or scheduled.

    A label at the start of the body ("UPDATE 0745 GMT:") is taken out of the text and
    gives the entry its time, unless the entry says ``keep_label`` or its ``published_at``.
    With a ``request_key`` (the request's Idempotency-Key), the same request sent again
    by the same user within a day gets the entry the first one created.
    """
    require_role(actor, "contributor", "Your account cannot write entries.")
    values = read_entry(data, creating=True)
    now = now or utcnow()
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        role = desks.require_desk(session, actor, blog)
        request = None
        if request_key is not None:
            digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
            request = EntryRequest(
                user_id=actor.id, blog_id=blog.id, key=request_key, digest=digest, created_at=now
            )
            if earlier := _requested_before(session, request):
                return earlier
        values = _with_label_read(blog, data, values, now)
        status = values.get("status", "published" if includes(role, "editor") else "draft")
        _check_contributor(role, status, values)
        _check_review(status, values)
        entry = Entry(
            blog=blog,
            author=actor,
            headline=values.get("headline"),
            blocks=values["blocks"],
            html=render_entry(values["blocks"], themes, blog, data),
            status=status,
            published_at=_published_at(status, values, None, now),
            pinned=values.get("pinned", False),
            key_event=values.get("key_event", False),
            review=values.get("review"),
            review_note=values.get("review_note"),
            created_at=now,
            updated_at=now,
        )
        entry.set_authors(_authors(session, values.get("authors", [actor.id])))
        session.add(entry)
        session.flush()
        _keep_revision(session, entry, actor, now)
        lookups.keep_in_step(session, entry, now)
        if status == "published":
            _unpin_others(session, blog, entry, actor, now)
            store.append_change(session, blog, "entry.published", entry)
        if request is not None:
            request.entry = entry
            session.add(request)
    return entry


def _requested_before(session: Session, request: EntryRequest) -> Entry | None:
    """The entry that the same request, sent before with the same key, created; None when
    the key is new. The blog is locked, so a copy of a request still running waits for it
    and gets its entry."""
    expired = EntryRequest.created_at < request.created_at - REQUEST_KEY_LIFETIME
    session.execute(delete(EntryRequest).where(expired))
    earlier = session.get(EntryRequest, (request.user_id, request.blog_id, request.key))
    if earlier is None:
        return None
    if earlier.digest != request.digest:
        raise ValidationError(
            [
                FieldError(
                    "Idempotency-Key",
                    "was sent before with another entry; send a new key with each new entry",
                )
            ]
        )
    if earlier.entry.status == "deleted":
        raise Conflict(
            f"Entry {earlier.entry_id}, which this Idempotency-Key created, has been deleted since."
        )
    return earlier.entry


def preview_entry(
    session: Session,
    themes: Themes,
    blog: Blog,
    data: Any,
    actor: User,
    now: datetime | None = None,
) -> Entry:
    """An unsaved entry, validated and rendered exactly as saving it would: for previews."""
    require_role(actor, "contributor", "Your account cannot write entries.")
    desks.require_desk(session, actor, blog)
    now = now or utcnow()
    values = _with_label_read(blog, data, read_entry(data, creating=True), now)
    preview = Entry(
        id=0,
        blog=blog,
        author=actor,
        headline=values.get("headline"),
        blocks=values["blocks"],
        html=render_entry(values["blocks"], themes, blog, data),
        status="draft",
        published_at=values.get("published_at") or now,
        pinned=values.get("pinned", False),
        key_event=values.get("key_event", False),
        version=0,
        created_at=now,
        updated_at=now,
    )
    preview.set_authors(_authors(session, values.get("authors", [actor.id])))
    return preview


def label_of(blog: Blog, data: Any, now: datetime) -> ReadLabel | None:
    """The label at the start of a new entry's ``body`` (as sent), read on ``blog``'s clock."""
    body = data.get("body") if isinstance(data, dict) else None
    if not isinstance(body, str) or data.get("keep_label") is True:
        return None
    return read_label(body, blog.timezone, now, blog.label_format)


def _with_label_read(
    blog: Blog, data: dict[str, Any], values: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """``values`` with the body's label taken out of its text and, unless the editor gave
    one, its time as ``published_at``."""
    label = label_of(blog, data, now)
    if label is None:
        return values
    read = read_entry({**data, "body": label.text}, creating=True)
    read.setdefault("published_at", label.published_at)
    return read


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
    """Edit an entry if ``if_match`` names its current version; log what readers will see.

    A ``correction`` note (editors only) is shown to readers with the entry from now on.
    """
    values = read_entry(data, creating=False)
    correction = values.pop("correction", None)
    if correction is not None:
        require_role(
            actor,
            "editor",
            "Only editors and admins can add a correction note; ask an editor to correct "
            "a published update.",
        )
    now = now or utcnow()
    try:
        with store.transaction(session):
            blog, entry, role = _entry_to_change(
                session, slug, entry_id, actor, if_match, "be edited"
            )
            status = values.get("status", entry.status)
            _check_editable(actor, role, entry, status, values)
            was_published, was_pinned = entry.status == "published", entry.pinned
            if correction is not None and not (was_published and status == "published"):
                raise _invalid(
                    "correction", "applies to published updates that stay published only"
                )
            words_before = (entry.headline, entry.blocks)
            content_before = (*words_before, entry.published_at, entry.key_event)
            authors_before = [author.id for author in entry.credited()]
            if "authors" in values:
                entry.set_authors(_authors(session, values["authors"]))
            authors_changed = authors_before != [author.id for author in entry.credited()]
            if "published_at" in values or status != entry.status:
                values["published_at"] = _published_at(status, values, entry.published_at, now)
            for name in ("headline", "blocks", "published_at", "pinned", "key_event"):
                if name in values:
                    setattr(entry, name, values[name])
            _apply_review(entry, status, values)
            entry.status = status
            if "blocks" in values:
                entry.html = render_entry(entry.blocks, themes, blog, data)
            if not session.is_modified(entry) and correction is None and not authors_changed:
                return entry
            words_changed = words_before != (entry.headline, entry.blocks)
            content_changed = (
                correction is not None
                or authors_changed
                or content_before
                != (
                    entry.headline,
                    entry.blocks,
                    entry.published_at,
                    entry.key_event,
                )
            )
            if was_published and words_changed:
                entry.edited_at = now  # readers see "Updated"; a re-timing or a flag is no edit
            entry.updated_at = now
            session.flush()
            _keep_revision(session, entry, actor, now)
            if correction is not None:
                entry.corrections.append(
                    Correction(version=entry.version, note=correction, created_at=now)
                )
            lookups.keep_in_step(session, entry, now)
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
        blog, entry, role = _entry_to_change(
            session, slug, entry_id, actor, if_match, "be deleted again"
        )
        _check_editable(actor, role, entry, entry.status, {}, deleting=True)
        was_published = entry.status == "published"
        entry.status, entry.pinned, entry.updated_at = "deleted", False, now
        session.flush()
        _keep_revision(session, entry, actor, now)
        lookups.keep_in_step(session, entry, now)
        if was_published:
            store.append_change(session, blog, "entry.deleted", entry)
    return entry


def complete_lookup(
    session: Session, themes: Themes, lookup_id: int, url: str, snapshot: dict[str, Any]
) -> Entry | None:
    """Put a looked-up ``snapshot`` in place of the bare blocks of ``url`` in the entry's
    current version (an edit made while the look-up ran is kept): a new version that readers
    get as ``entry.updated``, but no edit of the editor's ("Updated" stays as it was).
    None when there is nothing left to fill in."""
    now = utcnow()
    with store.transaction(session):
        lookup = session.get(EmbedLookup, lookup_id, populate_existing=True)
        if lookup is None:
            return None
        entry = session.get(Entry, lookup.entry_id, populate_existing=True)
        assert entry is not None
        blog = session.scalars(select(Blog).where(Blog.id == entry.blog_id).with_for_update()).one()
        session.refresh(entry)  # read again under the blog's lock, which every writer takes
        lookups.forget(session, lookup_id)
        filled = [
            snapshot if lookups.is_bare(block) and block["url"] == url else block
            for block in entry.blocks
        ]
        if entry.status == "deleted" or filled == entry.blocks:
            return None
        entry.blocks, entry.updated_at = filled, now
        entry.html = render_entry(filled, themes, blog, {"blocks": filled})
        session.flush()
        editor = session.get(User, store.last_editor_id(session, entry)) or entry.author
        _keep_revision(session, entry, editor, now)
        if entry.status == "published":
            store.append_change(session, blog, "entry.updated", entry)
    return entry


def retry_lookups(session: Session, slug: str, entry_id: int, actor: User) -> Entry:
    """Look the entry's bare post and video links up again, the failed ones included."""
    with store.transaction(session):
        blog = store.get_blog(session, slug, lock=True)
        role = desks.require_desk(session, actor, blog)
        entry = store.get_entry(session, blog, entry_id, visible_to=actor, role=role)
        if entry.status == "deleted":
            raise Conflict(f"Entry {entry_id} has been deleted; there is nothing to look up.")
        _check_editable(actor, role, entry, entry.status, {})
        lookups.retry(session, entry, utcnow())
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
            if blog.status == BLOG_DELETED:
                continue
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


def render_entry(blocks: list[dict[str, Any]], themes: Themes, blog: Blog, data: Any) -> str:
    """The entry's HTML, as ``blog``'s theme shows it; Markdown nested too deeply for the
    parser is an error in the input ``data`` (its ``body``, else its ``blocks``)."""
    try:
        return render_blocks(blocks, themes.environment(blog.theme, blog.language))
    except RecursionError:
        field = "body" if "body" in data else "blocks"
        raise _invalid(field, "nests lists or quotes too deeply to show; flatten them") from None


def _published_at(
    status: str, values: dict[str, Any], current: datetime | None, now: datetime
) -> datetime | None:
    """The publication time an entry will have in ``status``, given what the editor sent."""
    moment: datetime | None = values.get("published_at", current)
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
    """Keep the entry's new version, and wake the editors' streams to show it."""
    store.move_desk(session, entry.blog)
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


def _entry_to_change(
    session: Session, slug: str, entry_id: int, actor: User, if_match: str | None, change: str
) -> tuple[Blog, Entry, str]:
    """The blog, locked for this transaction, its entry at the version ``if_match`` names,
    and the role ``actor`` holds on the blog's desk; a deleted entry cannot ``change`` ("be
    edited"). An entry ``actor`` may not see is not there for them, before any version is
    compared."""
    blog = store.get_blog(session, slug, lock=True)
    role = desks.require_desk(session, actor, blog)
    entry = store.get_entry(session, blog, entry_id, visible_to=actor, role=role)
    _check_version(entry, if_match)
    if entry.status == "deleted":
        raise Conflict(f"Entry {entry_id} has been deleted and cannot {change}.")
    return blog, entry, role


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


def _check_contributor(role: str, status: str, values: dict[str, Any]) -> None:
    if includes(role, "editor"):
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
    actor: User,
    role: str,
    entry: Entry,
    status: str,
    values: dict[str, Any],
    deleting: bool = False,
) -> None:
    """``role`` is what ``actor`` holds on the entry's blog."""
    if includes(role, "editor"):
        return
    if entry.author_id != actor.id:
        raise Forbidden("Contributors can only change their own entries.")
    if entry.status != "draft":
        raise Forbidden("This entry is no longer a draft; ask an editor to change it.")
    if not deleting:
        _check_contributor(role, status, values)
