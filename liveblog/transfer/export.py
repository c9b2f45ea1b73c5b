"""Writing a blog as an export document (see document.py), or an archive with its media.

Entries are read by keyset pages of their ids and written as they come, so a blog of any
length costs one page of memory; the whole export reads one snapshot of the database.
No Flask.
"""

import tarfile
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO
from typing import Any

from sqlalchemy import Row
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import store
from ..embeds.images import UPLOAD_FILE
from ..embeds.images import upload_name
from ..models import Blog
from ..models import BlogMember
from ..models import Correction
from ..models import Entry
from ..models import EntryAuthor
from ..models import Revision
from ..models import User
from .document import ARCHIVE_DOCUMENT
from .document import ARCHIVE_MEDIA
from .document import FORMAT
from .document import VERSION
from .document import dumps

PAGE_SIZE = 500
ENTRY_COLUMNS = (
    Entry.id, Entry.author_id, Entry.headline, Entry.blocks, Entry.status, Entry.published_at,
    Entry.pinned, Entry.key_event, Entry.review, Entry.review_note, Entry.version,
    Entry.created_at, Entry.updated_at, Entry.edited_at,
)  # fmt: skip
REVISION_FIELDS = ("headline", "blocks", "status", "published_at", "pinned", "key_event")

Progress = Callable[[int], None]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class Export:
    """Blog ``slug`` as an export document: iterate for its text, piece by piece.

    Once iterated, ``entries`` counts the entries written and ``uploads`` lists the
    uploads' URLs. ``progress`` is called with the number of entries of each page.
    """

    def __init__(
        self,
        session: Session,
        slug: str,
        progress: Progress | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.session = session
        self.slug = slug
        self.progress = progress
        self.page_size = page_size
        self.entries = 0
        self.uploads: list[str] = []

    def __iter__(self) -> Iterator[str]:
        session = self.session
        if session.in_transaction():
            session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every page (SQLite's read transaction is one already).
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield from self._document(store.get_blog(session, self.slug))
        finally:
            session.rollback()

    def _document(self, blog: Blog) -> Iterator[str]:
        people = _people(self.session, blog)
        local = {user.id: number for number, user in enumerate(people, 1)}
        roles = _desk_roles(self.session, blog)
        authors = [person_document(local[user.id], user, roles.get(user.id)) for user in people]
        yield (
            f'{{"format": {dumps(FORMAT)}, "version": {VERSION},\n'
            f'"blog": {dumps(blog_document(blog))},\n"authors": {dumps(authors)},\n"entries": ['
        )
        uploads = set(upload_urls(blog.top_image))
        uploads.update(upload_urls([user.photo for user in people]))
        separator = "\n"
        for page in self._pages(blog):
            ids = [row.id for row in page]
            revisions = _revisions(self.session, ids)
            corrections = _corrections(self.session, ids)
            credits = _credits(self.session, ids)
            for row in page:
                entry = _entry(row, revisions.get(row.id, []), credits.get(row.id, []), local)
                entry["corrections"] = corrections.get(row.id, [])
                uploads.update(upload_urls(entry["blocks"]))
                uploads.update(upload_urls([r["data"]["blocks"] for r in entry["revisions"]]))
                yield separator + dumps(entry)
                separator = ",\n"
            self.entries += len(page)
            if self.progress:
                self.progress(len(page))
        self.uploads = sorted(uploads)
        listed = [{"url": url, "hash": url.rsplit("/", 1)[1].split(".")[0]} for url in self.uploads]
        yield f'\n],\n"uploads": {dumps(listed)}}}\n'

    def _pages(self, blog: Blog) -> Iterator[list[Row[Any]]]:
        after = 0
        while True:
            query = select(*ENTRY_COLUMNS).where(Entry.blog_id == blog.id, Entry.id > after)
            page = list(self.session.execute(query.order_by(Entry.id).limit(self.page_size)))
            if not page:
                return
            yield page
            after = page[-1].id


def blog_document(blog: Blog) -> dict[str, Any]:
    """The blog's member of an export document."""
    return {
        "slug": blog.slug,
        "title": blog.title,
        "standfirst": blog.standfirst,
        "top_image": blog.top_image,
        "status": blog.status,
        "timezone": blog.timezone,
        "label_format": blog.label_format,
        "language": blog.language,
        "theme": blog.theme,
        "embed_widgets": blog.embed_widgets,
        "embed_origins": blog.embed_origins,
        "ended_order": blog.ended_order,
        "created_at": _iso(blog.created_at),
        "updated_at": _iso(blog.updated_at),
        "started_at": _iso(blog.started_at),
        "ended_at": _iso(blog.ended_at),
    }


def person_document(number: int, user: User, desk: str | None) -> dict[str, Any]:
    """A person's member of an export document: their byline and their role on the blog's
    desk (null: not on it), never a credential."""
    return {
        "id": number,
        "name": user.name,
        "email": user.email,
        "desk": desk,
        "title": user.title,
        "bio": user.bio,
        "links": user.links or [],
        "slug": user.slug,
        "photo": user.photo,
    }


def _desk_roles(session: Session, blog: Blog) -> dict[int, str]:
    """User id -> their role on ``blog``'s desk."""
    query = select(BlogMember.user_id, BlogMember.role).where(BlogMember.blog_id == blog.id)
    return {user_id: role for user_id, role in session.execute(query)}


def _people(session: Session, blog: Blog) -> list[User]:
    """Everyone who wrote, edited or is credited on an entry of ``blog`` or is on its desk,
    by email: the document's numbering of them does not depend on the ids of the database
    it comes from."""
    authors = select(Entry.author_id).where(Entry.blog_id == blog.id)
    credited = (
        select(EntryAuthor.user_id)
        .join(Entry, EntryAuthor.entry_id == Entry.id)
        .where(Entry.blog_id == blog.id)
    )
    editors = (
        select(Revision.editor_id)
        .join(Entry, Revision.entry_id == Entry.id)
        .where(Entry.blog_id == blog.id)
    )
    desk = select(BlogMember.user_id).where(BlogMember.blog_id == blog.id)
    query = select(User).where(
        User.id.in_(authors) | User.id.in_(editors) | User.id.in_(credited) | User.id.in_(desk)
    )
    return list(session.scalars(query.order_by(User.email)))


def _credits(session: Session, entry_ids: list[int]) -> dict[int, list[int]]:
    """Entry id -> the ids of the users its byline names, in order."""
    query = select(EntryAuthor.entry_id, EntryAuthor.user_id).where(
        EntryAuthor.entry_id.in_(entry_ids)
    )
    found: dict[int, list[int]] = {}
    for entry_id, user_id in session.execute(query.order_by(EntryAuthor.position)):
        found.setdefault(entry_id, []).append(user_id)
    return found


def _revisions(session: Session, entry_ids: list[int]) -> dict[int, list[Row[Any]]]:
    query = select(
        Revision.entry_id, Revision.version, Revision.editor_id, Revision.created_at, Revision.data
    ).where(Revision.entry_id.in_(entry_ids))
    found: dict[int, list[Row[Any]]] = {}
    for row in session.execute(query.order_by(Revision.entry_id, Revision.version)):
        found.setdefault(row.entry_id, []).append(row)
    return found


def _corrections(session: Session, entry_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    query = select(
        Correction.entry_id, Correction.version, Correction.created_at, Correction.note
    ).where(Correction.entry_id.in_(entry_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    for row in session.execute(query.order_by(Correction.entry_id, Correction.version)):
        found.setdefault(row.entry_id, []).append(
            {"version": row.version, "created_at": _iso(row.created_at), "note": row.note}
        )
    return found


def _entry(
    row: Row[Any], revisions: list[Row[Any]], credited: list[int], local: dict[int, int]
) -> dict[str, Any]:
    return {
        "id": row.id,
        "author": local[row.author_id],
        "authors": [local[user_id] for user_id in credited] or [local[row.author_id]],
        "headline": row.headline,
        "blocks": row.blocks,
        "status": row.status,
        "published_at": _iso(row.published_at),
        "pinned": row.pinned,
        "key_event": row.key_event,
        "review": row.review,
        "review_note": row.review_note,
        "version": row.version,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "edited_at": _iso(row.edited_at),
        "revisions": [
            {
                "version": revision.version,
                "editor": local[revision.editor_id],
                "created_at": _iso(revision.created_at),
                "data": {name: revision.data.get(name) for name in REVISION_FIELDS},
            }
            for revision in revisions
        ],
    }


def upload_urls(value: Any) -> Iterator[str]:
    """The URLs of uploads anywhere in ``value`` (blocks, an image, lists of them)."""
    if isinstance(value, str):
        if upload_name(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from upload_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from upload_urls(item)


def media_files(media_path: Path, urls: Iterable[str]) -> Iterator[Path]:
    """The stored files of the uploads at ``urls``: each upload and its narrower copies."""
    folder = media_path / "uploads"
    for url in urls:
        name = upload_name(url)
        assert name is not None
        digest, _, extension = name.partition(".")
        for path in sorted(folder.glob(f"{digest}*.{extension}")):
            found = UPLOAD_FILE.fullmatch(path.name)
            if found and found.group(1) == digest and path.is_file():
                yield path


def write_archive(export: Export, media_path: Path, target: IO[bytes]) -> int:
    """Write ``export`` to ``target`` as a gzipped tar: the document (export.json) first,
    then media/uploads/ with the files of every upload it names. Returns how many files."""
    with tempfile.TemporaryFile() as document:
        for piece in export:
            document.write(piece.encode("utf-8"))
        size = document.tell()
        document.seek(0)
        count = 0
        with tarfile.open(fileobj=target, mode="w:gz") as archive:
            archive.addfile(_member(ARCHIVE_DOCUMENT, size), document)
            for path in media_files(media_path, export.uploads):
                with path.open("rb") as file:
                    archive.addfile(_member(ARCHIVE_MEDIA + path.name, path.stat().st_size), file)
                count += 1
    return count


def _member(name: str, size: int) -> tarfile.TarInfo:
    """A plain file's header: no owner or permissions of this machine's carried along."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, int(time.time())
    return info
