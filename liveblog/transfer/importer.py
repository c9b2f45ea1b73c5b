"""Importing a blog from the parts of an export document, whatever file they were read from.

One transaction: the blog, its people, entries, revisions and change log are committed
together, or nothing is (media files written on the way are removed again). Each entry
is validated and rendered as the API's are (``publishing.read_entry``, ``render_entry``),
so imported content is sanitised like any other; the change log is rebuilt, each
published entry its ``entry.published``, seqs 1..N in reading order. No Flask.
"""

import secrets
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import Protocol

from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import blogs
from .. import lookups
from .. import publishing
from .. import store
from ..accounts import EMAIL
from ..accounts import read_profile
from ..embeds.images import upload_name
from ..errors import Conflict
from ..errors import FieldError
from ..errors import LiveblogError
from ..errors import ValidationError
from ..models import ENTRY_STATUSES
from ..models import ROLES
from ..models import Base
from ..models import Blog
from ..models import BlogMember
from ..models import EmbedLookup
from ..models import User
from ..models import utcnow
from ..themes import Themes
from ..validation import Fields
from ..validation import present
from .document import Part

BATCH = 500
MAX_ID = store.MAX_ID
BLOG_TIMES = ("created_at", "updated_at", "started_at", "ended_at")
ENTRY_FIELDS = (
    "id", "author", "authors", "headline", "blocks", "status", "published_at", "pinned", "key_event",
    "review", "review_note", "version", "created_at", "updated_at", "edited_at", "revisions",
    "corrections",
)  # fmt: skip
CONTENT_FIELDS = (
    "headline",
    "blocks",
    "published_at",
    "pinned",
    "key_event",
    "review",
    "review_note",
)
REVISION_FIELDS = ("version", "editor", "created_at", "data")
PERSON_FIELDS = ("id", "name", "email", "desk", "title", "bio", "links", "slug", "photo")
REVISION_DATA = ("headline", "blocks", "status", "published_at", "pinned", "key_event")
CORRECTION_FIELDS = ("version", "created_at", "note")
# A person of the document with no email address gets one that reaches no one.
PLACEHOLDER_DOMAIN = "import.liveblog.invalid"


class Media(Protocol):
    """Where an import's media files come from (an export archive)."""

    def files(self, names: set[str]) -> Iterator[tuple[str, bytes]]:
        """(file name, bytes) of each stored file of the uploads ``names`` (<hash>.<ext>)."""
        ...


@dataclass
class Imported:
    """What an import made."""

    blog: Blog
    entries: int = 0
    published: int = 0
    new_people: int = 0
    media_files: int = 0
    missing_media: list[str] = field(default_factory=list)
    """URLs of uploads the entries show whose files this Liveblog does not have."""


def import_blog(
    session: Session,
    themes: Themes,
    parts: Iterable[Part],
    *,
    slug: str | None = None,
    media: Media | None = None,
    media_path: Path | None = None,
) -> Imported:
    """Create a blog from an export document's ``parts``, under ``slug`` if given.

    Refuses a slug that exists (Conflict), and anything invalid with the path of what is
    wrong (``entries[12].blocks[0].alt: is required``); either way nothing is stored.
    """
    reader = iter(parts)
    values = _read_blog(_expect(reader, "blog"), themes, slug)
    people = _read_people(_expect(reader, "authors"))
    _refuse_taken(session, values["slug"])
    written: list[Path] = []
    try:
        with store.transaction(session):
            _refuse_taken(session, values["slug"])
            blog = Blog(**{"standfirst": "", **{k: v for k, v in values.items() if v is not None}})
            session.add(blog)
            session.flush()
            users, created = _users(session, blog, people)
            result = Imported(blog=blog, new_people=created)
            uploads = _write_entries(session, themes, blog, reader, users, result)
            if media is not None and media_path is not None:
                for name, data in media.files({url.rsplit("/", 1)[1] for url in uploads}):
                    path = _store_copy(name, data, media_path)
                    result.media_files += 1
                    if path is not None:
                        written.append(path)
            if media_path is not None:
                folder = media_path / "uploads"
                result.missing_media = [
                    url for url in uploads if not (folder / url.rsplit("/", 1)[1]).is_file()
                ]
            result.published = store.log_published_entries(session, blog)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return result


def _store_copy(name: str, data: bytes, media_path: Path) -> Path | None:
    from ..embeds import uploads  # Pillow, only for imports that bring media

    return uploads.store_copy(name, data, media_path)


def _expect(reader: Iterator[Part], kind: str) -> Any:
    part = next(reader, None)
    if part is None or part[0] != kind:
        raise LiveblogError(f"The export has no {kind} where it should (before the entries).")
    return part[1]


def _refuse_taken(session: Session, slug: str) -> None:
    if session.scalar(select(Blog.id).where(Blog.slug == slug)) is not None:
        raise Conflict(
            f"A live blog with the slug {slug!r} already exists; import it under another "
            "slug (--slug NEW)."
        )


def _prefixed(path: str, errors: list[FieldError]) -> list[FieldError]:
    return [
        FieldError(f"{path}.{error.field}" if error.field else path, error.message)
        for error in errors
    ]


def _moment(fields: Fields, name: str, *, required: bool) -> Any:
    if required and fields.valid and not fields.has(name):
        fields.error(name, "is required")
    value = fields.datetime(name, nullable=not required)
    return value if present(value) else None


def _read_blog(raw: Any, themes: Themes, slug: str | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    fields = Fields(raw, "blog", errors, (*blogs.BLOG_FIELDS, *BLOG_TIMES))
    times = {
        name: _moment(fields, name, required=name in ("created_at", "updated_at"))
        for name in BLOG_TIMES
    }
    settings = {name: value for name, value in fields.data.items() if name in blogs.BLOG_FIELDS}
    if slug is not None:
        settings["slug"] = slug
    values: dict[str, Any] = {}
    if fields.valid:
        try:
            values = blogs.read_blog(settings, themes, creating=True)
        except ValidationError as error:
            errors += _prefixed("blog", error.errors)
    if errors:
        raise ValidationError(errors)
    return {**values, **times}


@dataclass
class _Person:
    """Someone an export document names: their email, if any, their public profile, and
    their role on the blog's desk, if they are on it."""

    email: str | None
    profile: dict[str, Any]
    desk: str | None


def _read_people(raw: Any) -> dict[int, _Person]:
    """Document id -> everyone the entries name or the desk holds, with their profile."""
    errors: list[FieldError] = []
    people: dict[int, _Person] = {}
    if not isinstance(raw, list):
        raise ValidationError([FieldError("authors", "must be a list")])
    for index, item in enumerate(raw):
        fields = Fields(item, f"authors[{index}]", errors, PERSON_FIELDS)
        number = fields.number("id", 1, MAX_ID, required=True, integer=True)
        name = fields.string("name", required=True, max_length=200)
        email = fields.string("email", max_length=254, nullable=True)
        desk = None if fields.data.get("desk") is None else fields.choice("desk", ROLES)
        if present(email):
            email = email.lower()
            if not EMAIL.fullmatch(email):
                fields.error("email", "must be an email address such as desk@example.org")
        profile = _read_profile(fields)
        if present(number) and number in people:
            fields.error("id", f"is {number}, the id of another author")
        if present(number) and present(name):
            people[number] = _Person(
                email if present(email) else None,
                {**profile, "name": name},
                desk if present(desk) else None,
            )
    if errors:
        raise ValidationError(errors)
    return people


def _read_profile(fields: Fields) -> dict[str, Any]:
    """A person's profile, read by the API's rules; the photo is an upload the document
    lists (the archive brings its file, or this Liveblog has it), so only its shape is read."""
    given = {
        name: fields.data[name]
        for name in ("title", "bio", "links", "slug")
        if fields.data.get(name) is not None
    }
    try:
        profile = read_profile(given, "")
    except ValidationError as error:
        fields.errors.extend(_prefixed(fields.path, error.errors))
        profile = {}
    photo = fields.object("photo", ("url", "alt", "width", "height"))
    if isinstance(photo, Fields) and photo.valid:
        url = photo.string("url", required=True, max_length=200)
        alt = photo.string("alt", required=True, max_length=300)
        width = photo.number("width", 1, 20_000, required=True, integer=True)
        height = photo.number("height", 1, 20_000, required=True, integer=True)
        if present(url) and upload_name(url) is None:
            photo.error("url", "must be an upload's URL, /media/uploads/<hash>.<extension>")
        elif all(present(value) for value in (url, alt, width, height)):
            profile["photo"] = {"url": url, "alt": alt, "width": width, "height": height}
    return profile


def _users(session: Session, blog: Blog, people: dict[int, _Person]) -> tuple[dict[int, int], int]:
    """Document id -> user id: a user of this Liveblog with the same email (whose own
    profile stays as it is), else a new one with the document's profile, a contributor
    without password or tokens, so that bylines survive and nobody gains access by an
    import. Each is put on ``blog``'s desk with the role the document gives: a user of
    this Liveblog does no more there than their own role allows. Returns the map and how
    many users were created."""
    users: dict[int, int] = {}
    created = 0
    for number, person in people.items():
        email = person.email
        user = store.get_user_by_email(session, email) if email else None
        if user is None:
            address = email or f"author-{secrets.token_hex(6)}@{PLACEHOLDER_DOMAIN}"
            profile = dict(person.profile)
            slug = profile.get("slug")
            if slug and session.scalar(select(User.id).where(User.slug == slug)) is not None:
                del profile["slug"]  # another author's address here: this one goes without
            user = User(email=address, role="contributor", password_hash=None, **profile)
            session.add(user)
            session.flush()
            created += 1
        users[number] = user.id
        if person.desk is not None:
            session.add(BlogMember(blog_id=blog.id, user_id=user.id, role=person.desk))
    return users, created


@dataclass
class _Batch:
    entries: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[list[dict[str, Any]]] = field(default_factory=list)
    corrections: list[list[dict[str, Any]]] = field(default_factory=list)
    authors: list[list[int]] = field(default_factory=list)


def _write_entries(
    session: Session,
    themes: Themes,
    blog: Blog,
    reader: Iterator[Part],
    users: dict[int, int],
    result: Imported,
) -> list[str]:
    """Validate, render and insert the entries, a batch at a time; returns the uploads'
    URLs from the document's last part."""
    batch = _Batch()
    pinned: str | None = None
    uploads: list[str] = []
    for index, (kind, raw) in enumerate(reader):
        if kind == "uploads":
            uploads = _read_uploads(raw)
            break
        path = f"entries[{index}]"
        if kind != "entry":
            raise LiveblogError(f"The export has {kind} where {path} should be.")
        row, revisions, corrections = _read_entry(path, raw, users)
        authors = row.pop("authors")
        if row["pinned"] and row["status"] == "published":
            if pinned is not None:
                raise ValidationError(
                    [
                        FieldError(
                            f"{path}.pinned",
                            f"only one published entry can be pinned, and {pinned} is",
                        )
                    ]
                )
            pinned = path
        row["html"] = _render(themes, blog, path, row["blocks"])
        row["blog_id"] = blog.id
        batch.entries.append(row)
        batch.revisions.append(revisions)
        batch.corrections.append(corrections)
        batch.authors.append(authors)
        if len(batch.entries) == BATCH:
            _insert(session, batch)
            batch = _Batch()
        result.entries += 1
    _insert(session, batch)
    return uploads


def _render(themes: Themes, blog: Blog, path: str, blocks: list[dict[str, Any]]) -> str:
    try:
        return publishing.render_entry(blocks, themes, blog, {"blocks": blocks})
    except ValidationError as error:
        raise ValidationError(_prefixed(path, error.errors)) from None


def _insert(session: Session, batch: _Batch) -> None:
    if not batch.entries:
        return
    entries, revisions = Base.metadata.tables["entries"], Base.metadata.tables["revisions"]
    query = insert(entries).returning(entries.c.id, sort_by_parameter_order=True)
    ids = session.scalars(query, batch.entries).all()
    rows = [
        {**revision, "entry_id": entry_id}
        for entry_id, kept in zip(ids, batch.revisions, strict=True)
        for revision in kept
    ]
    session.execute(insert(revisions), rows)
    notes = [
        {**correction, "entry_id": entry_id}
        for entry_id, kept in zip(ids, batch.corrections, strict=True)
        for correction in kept
    ]
    if notes:
        session.execute(insert(Base.metadata.tables["corrections"]), notes)
    # Bare post and video links are looked up here too, after the import is committed.
    now = utcnow()
    queued = [
        {"entry_id": entry_id, "url": url, "state": "pending", "attempts": 0, "due_at": now,
         "created_at": now}
        for entry_id, entry in zip(ids, batch.entries, strict=True)
        if entry["status"] != "deleted"
        for url in lookups.bare_links(entry["blocks"])
    ]  # fmt: skip
    if queued:
        session.execute(insert(EmbedLookup), queued)
    credits = [
        {"entry_id": entry_id, "user_id": user_id, "position": position}
        for entry_id, authors in zip(ids, batch.authors, strict=True)
        for position, user_id in enumerate(authors)
    ]
    session.execute(insert(Base.metadata.tables["entry_authors"]), credits)


def _read_uploads(raw: Any) -> list[str]:
    errors: list[FieldError] = []
    urls = []
    if not isinstance(raw, list):
        raise ValidationError([FieldError("uploads", "must be a list")])
    for index, item in enumerate(raw):
        fields = Fields(item, f"uploads[{index}]", errors, ("url", "hash"))
        url = fields.string("url", required=True, max_length=200)
        digest = fields.string("hash", required=True, max_length=64)
        if not present(url) or not present(digest):
            continue
        if not url.startswith("/media/uploads/") or "/" in url.removeprefix("/media/uploads/"):
            fields.error("url", "must be an upload's URL, /media/uploads/<hash>.<extension>")
        elif url.rsplit("/", 1)[1].split(".")[0] != digest:
            fields.error("hash", "must be the hash in the upload's URL")
        else:
            urls.append(url)
    if errors:
        raise ValidationError(errors)
    return urls


def _read_content(
    path: str, raw: dict[str, Any], names: tuple[str, ...], errors: list[FieldError]
) -> dict[str, Any]:
    """An entry's words and flags, read by the API's own rules."""
    if "blocks" not in raw:
        errors.append(FieldError(f"{path}.blocks", "is required"))
        return {}
    try:
        # The API takes no review at all for "none"; a document says null.
        given = {k: raw[k] for k in names if k in raw and (k, raw[k]) != ("review", None)}
        return publishing.read_entry(given, creating=True)
    except ValidationError as error:
        errors += _prefixed(path, error.errors)
        return {}


def _person(fields: Fields, name: str, users: dict[int, int]) -> int | None:
    number = fields.number(name, 1, MAX_ID, required=True, integer=True)
    if not present(number):
        return None
    if number not in users:
        fields.error(name, f"is {number}, which is not the id of one of the authors")
        return None
    return users[number]


def _credited(fields: Fields, users: dict[int, int], author: int | None) -> list[int]:
    """The user ids of the entry's byline, in order; the author's when the document has none
    (it was exported before entries had several authors)."""
    items = fields.items("authors", max_items=10)
    if not present(items):
        return [author] if author is not None else []
    if not items:
        fields.error("authors", "must list at least one of the authors' ids")
    credited: list[int] = []
    for path, item in items:
        number = item if isinstance(item, int) and not isinstance(item, bool) else None
        if number is None or number not in users:
            fields.errors.append(FieldError(path, f"is {item!r}, not the id of one of the authors"))
        elif users[number] in credited:
            fields.errors.append(FieldError(path, f"is {number} again; name each author once"))
        else:
            credited.append(users[number])
    return credited


def _read_entry(
    path: str, raw: Any, users: dict[int, int]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """An entry's row, its revisions' rows and its corrections' rows; raises
    ValidationError naming the fields."""
    errors: list[FieldError] = []
    fields = Fields(raw, path, errors, ENTRY_FIELDS)
    if not fields.valid:
        raise ValidationError(errors)
    content = _read_content(path, raw, CONTENT_FIELDS, errors)
    fields.number("id", 1, MAX_ID, integer=True)  # its id where it was exported: not kept
    author = _person(fields, "author", users)
    row = {
        "author_id": author,
        "authors": _credited(fields, users, author),
        "headline": content.get("headline"),
        "blocks": content.get("blocks"),
        "status": fields.choice("status", ENTRY_STATUSES, required=True),
        "published_at": content.get("published_at"),
        "pinned": content.get("pinned", False),
        "key_event": content.get("key_event", False),
        "review": content.get("review"),
        "review_note": content.get("review_note"),
        "version": fields.number("version", 1, MAX_ID, required=True, integer=True),
        "created_at": _moment(fields, "created_at", required=True),
        "updated_at": _moment(fields, "updated_at", required=True),
        "edited_at": _moment(fields, "edited_at", required=False),
    }
    status = row["status"]
    if status in ("published", "scheduled") and content and row["published_at"] is None:
        fields.error("published_at", f"is required for a {status} entry")
    if row["review"] is not None and status != "draft":
        fields.error("review", "applies to drafts only")
    revisions = _read_revisions(fields, users, row)
    corrections = _read_corrections(fields, revisions)
    if errors:
        raise ValidationError(errors)
    return row, revisions, corrections


def _read_corrections(fields: Fields, revisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entry's correction notes, each made by the edit of one of its revisions."""
    items = fields.items("corrections", max_items=100_000)
    versions = {revision["version"] for revision in revisions}
    corrections: list[dict[str, Any]] = []
    for path, raw in items if present(items) else []:
        correction = Fields(raw, path, fields.errors, CORRECTION_FIELDS)
        if not correction.valid:
            continue
        version = correction.number("version", 1, MAX_ID, required=True, integer=True)
        created_at = _moment(correction, "created_at", required=True)
        note = correction.string("note", required=True, max_length=publishing.MAX_CORRECTION)
        if present(version) and version not in versions:
            correction.error("version", f"is {version}, which is not the version of a revision")
        elif present(version) and any(c["version"] == version for c in corrections):
            correction.error("version", f"is {version}, the version of another correction")
        corrections.append({"version": version, "created_at": created_at, "note": note})
    return corrections


def _read_revisions(
    fields: Fields, users: dict[int, int], entry: dict[str, Any]
) -> list[dict[str, Any]]:
    """The entry's revisions; the current version gets one if the document has none."""
    items = fields.items("revisions", required=True, max_items=100_000)
    revisions: list[dict[str, Any]] = []
    for path, raw in items if present(items) else []:
        revision = Fields(raw, path, fields.errors, REVISION_FIELDS)
        if not revision.valid:
            continue
        version = revision.number("version", 1, MAX_ID, required=True, integer=True)
        editor = _person(revision, "editor", users)
        created_at = _moment(revision, "created_at", required=True)
        data = revision.object("data", REVISION_DATA, required=True)
        state = {}
        if isinstance(data, Fields) and data.valid:
            status = data.choice("status", ENTRY_STATUSES, required=True)
            content = _read_content(
                data.path,
                data.data,
                ("headline", "blocks", "published_at", "pinned", "key_event"),
                fields.errors,
            )
            moment = content.get("published_at")
            state = {
                "headline": content.get("headline"),
                "blocks": content.get("blocks"),
                "status": status,
                "published_at": moment.astimezone(UTC).isoformat() if moment else None,
                "pinned": content.get("pinned", False),
                "key_event": content.get("key_event", False),
            }
        if present(version) and any(r["version"] == version for r in revisions):
            revision.error("version", f"is {version}, the version of another revision")
        revisions.append(
            {"version": version, "editor_id": editor, "created_at": created_at, "data": state}
        )
    version = entry["version"]
    if present(version) and not any(r["version"] == version for r in revisions):
        revisions.append(_current_revision(entry))
    return revisions


def _current_revision(entry: dict[str, Any]) -> dict[str, Any]:
    moment: datetime | None = entry["published_at"]
    return {
        "version": entry["version"],
        "editor_id": entry["author_id"],
        "created_at": entry["updated_at"],
        "data": {
            "headline": entry["headline"],
            "blocks": entry["blocks"],
            "status": entry["status"],
            "published_at": moment.astimezone(UTC).isoformat() if moment else None,
            "pinned": entry["pinned"],
            "key_event": entry["key_event"],
        },
    }
