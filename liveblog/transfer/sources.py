"""Files to import from: which format each is, and its parts read as it is imported.

A file is a Liveblog export (JSON, or an archive with its media), a WordPress export
(WXR) or a plain-text article; the format is told by its first bytes when not given.
No Flask.
"""

import codecs
import tarfile
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from ..embeds.images import UPLOAD_FILE
from ..errors import LiveblogError
from .article import read_article
from .document import ARCHIVE_DOCUMENT
from .document import ARCHIVE_MEDIA
from .document import Part
from .document import read_document
from .wxr import read_wxr

FORMATS = ("json", "wxr", "text")
MAX_MEDIA_FILE = 64 * 1024 * 1024
HEAD = 4096

Progress = Callable[[int], None]


class _Counted:
    """A binary file that reports how much has been read from it to ``progress``."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.progress: Progress | None = None

    def read(self, size: int = -1, /) -> bytes:
        data = self.file.read(size)
        if self.progress:
            self.progress(len(data))
        return data


@dataclass
class Source:
    format: str
    """json, archive (JSON and media), wxr or text."""
    parts: Iterator[Part]
    media: "ArchiveMedia | None"
    size: int
    """How many bytes the parts are read from."""
    reader: _Counted | None = None

    def watch(self, progress: Progress) -> None:
        """Have ``progress`` called with the number of bytes of each read from now on."""
        if self.reader is not None:
            self.reader.progress = progress


class ArchiveMedia:
    """The media files of an export archive."""

    def __init__(self, archive: tarfile.TarFile) -> None:
        self.archive = archive

    def files(self, names: set[str]) -> Iterator[tuple[str, bytes]]:
        """(file name, bytes) of each file of the uploads ``names`` (<hash>.<ext>) in the archive."""
        for member in self.archive.getmembers():
            name = member.name.removeprefix(ARCHIVE_MEDIA)
            found = UPLOAD_FILE.fullmatch(name) if member.name.startswith(ARCHIVE_MEDIA) else None
            if (
                not found
                or not member.isfile()
                or f"{found.group(1)}.{found.group(3)}" not in names
            ):
                continue
            if member.size > MAX_MEDIA_FILE:
                raise LiveblogError(f"The archive's {member.name} is too large to be an upload.")
            file = self.archive.extractfile(member)
            assert file is not None
            yield name, file.read()


def detect(head: bytes) -> str:
    """The format of a file that begins with ``head``; a LiveblogError for one not read here."""
    if not head.strip():
        raise LiveblogError("The file is empty.")
    if head.startswith(b"\x1f\x8b") or head[257:262] == b"ustar":
        return "archive"
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith((b"{", b"[")):
        return "json"
    if text.startswith(b"<"):
        if b"wordpress.org/export/" in head:
            return "wxr"
        raise LiveblogError(
            "The file is XML but not a WordPress export (WXR): it does not use WordPress's "
            "export namespace."
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        raise LiveblogError(
            "The file is neither a Liveblog export, nor a WordPress export (WXR), nor a "
            "UTF-8 text article."
        ) from None
    return "text"


@contextmanager
def open_source(
    path: Path, format: str | None = None, *, day: date | None = None, post: int | None = None
) -> Iterator[Source]:
    """The file at ``path`` opened as a Source of ``format`` (detected when None)."""
    with path.open("rb") as file:
        head = file.read(HEAD)
        file.seek(0)
        kind = detect(head)
        if format is not None and format != kind and not (format, kind) == ("json", "archive"):
            kind = format
        size = path.stat().st_size
        if kind == "archive":
            with _archive(file) as (archive, member):
                document = archive.extractfile(member)
                assert document is not None
                reader = _Counted(document)
                parts = _guarded(read_document(reader))
                yield Source(kind, parts, ArchiveMedia(archive), member.size, reader)
        elif kind == "json":
            reader = _Counted(file)
            yield Source(kind, read_document(reader), None, size, reader)
        elif kind == "wxr":
            reader = _Counted(file)
            yield Source(kind, read_wxr(reader, post), None, size, reader)
        else:
            yield Source(kind, read_article(_text(file), day), None, size)


def _text(file: IO[bytes]) -> str:
    try:
        return file.read().decode("utf-8")
    except UnicodeDecodeError as error:
        raise LiveblogError(f"The text is not UTF-8 ({error}).") from None


@contextmanager
def _archive(file: IO[bytes]) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    try:
        with tarfile.open(fileobj=file, mode="r:*") as archive:
            try:
                member = archive.getmember(ARCHIVE_DOCUMENT)
            except KeyError:
                raise LiveblogError(
                    f"The archive has no {ARCHIVE_DOCUMENT}: it is not a Liveblog export."
                ) from None
            yield archive, member
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise LiveblogError(f"The archive is damaged or incomplete ({error}).") from None


def _guarded(parts: Iterator[Part]) -> Iterator[Part]:
    """``parts``, with a damaged archive's read errors said as such."""
    try:
        yield from parts
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise LiveblogError(f"The archive is damaged or incomplete ({error}).") from None
