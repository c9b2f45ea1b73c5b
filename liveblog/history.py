"""The public history of an entry: its published versions, and what changed between them.

Only what readers saw counts: drafts, scheduled and unpublished states are left out, and so
are versions whose words are those of the version before (a pin, a flag, a new time).
Pure: the caller renders each version's text.
"""

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from typing import Any

from .models import Correction
from .models import Revision

_WORDS = re.compile(r"(\s+)")


@dataclass(frozen=True)
class PublishedVersion:
    """One state of an entry that readers saw."""

    number: int
    """1 for the version first published, then 2, 3…"""
    published_at: datetime
    """When readers first saw it."""
    headline: str | None
    blocks: list[dict[str, Any]]
    corrections: tuple[Correction, ...]
    """The notes made while this version was current (with it, or after it)."""


@dataclass(frozen=True)
class TextRun:
    """A run of text: ``kind`` is "same", "added" or "removed"."""

    kind: str
    text: str


def published_versions(
    revisions: Sequence[Revision], corrections: Sequence[Correction]
) -> list[PublishedVersion]:
    """The entry's published versions, oldest first, from its revisions (in version order)."""
    notes = {correction.version: correction for correction in corrections}
    found: list[PublishedVersion] = []
    for revision in revisions:
        data = revision.data
        published = data.get("status") == "published"
        words = (data.get("headline"), data.get("blocks"))
        last = found[-1] if found else None
        if published and (last is None or (last.headline, last.blocks) != words):
            found.append(
                PublishedVersion(
                    number=len(found) + 1,
                    published_at=revision.created_at,
                    headline=data.get("headline"),
                    blocks=data.get("blocks") or [],
                    corrections=(),
                )
            )
        note = notes.get(revision.version)
        if note is not None and found:
            found[-1] = replace(found[-1], corrections=(*found[-1].corrections, note))
    return found


def text_changes(before: str, after: str) -> list[TextRun]:
    """What changed from ``before`` to ``after``, word by word, as runs of text."""
    old, new = _WORDS.split(before), _WORDS.split(after)
    runs: list[TextRun] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        removed, added = "".join(old[old_start:old_end]), "".join(new[new_start:new_end])
        if operation == "equal":
            runs.append(TextRun("same", added))
            continue
        runs += [
            TextRun(kind, text) for kind, text in (("removed", removed), ("added", added)) if text
        ]
    return runs
