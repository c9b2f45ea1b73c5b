"""Bare post and video links in entries, waiting to be looked up off the request path. No Flask.

A social or video block holding only its link (what a URL alone on a line of Markdown
becomes, or a block sent with nothing but its url) is a post nobody has quoted yet.
Saving an entry keeps one ``EmbedLookup`` row per such link, in the same transaction, so
a restart loses none; ``autoresolve.LinkLookups`` takes the due rows, asks the resolver and
hands each snapshot to ``publishing.complete_lookup``. Until then, and for good when the
look-up fails, readers see a link card (``blocks/social.html``), never an empty quote.
"""

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from . import store
from .blocks import Block
from .errors import EmbedError
from .errors import EmbedTimeout
from .errors import EmbedUnavailable
from .models import EmbedLookup
from .models import Entry

BARE_FIELDS = frozenset({"type", "url", "provider"})
# Failures worth trying again by themselves (a timeout, a provider's bad moment): after
# these delays; then, like a refusal, they wait for an editor's retry.
RETRY_DELAYS = (timedelta(seconds=10), timedelta(minutes=1))


def is_bare(block: Block) -> bool:
    """Whether ``block`` is a post or video link with nothing of the post itself yet."""
    return block["type"] in ("social", "video") and "url" in block and set(block) <= BARE_FIELDS


def bare_links(blocks: Iterable[Block]) -> list[str]:
    """The links of the bare blocks, each once, in order."""
    return list(dict.fromkeys(block["url"] for block in blocks if is_bare(block)))


def keep_in_step(session: Session, entry: Entry, now: datetime) -> None:
    """Queue a look-up for each bare link of ``entry`` not queued yet, and drop those of
    links it no longer has (or all, once it is deleted). Runs in the saving transaction."""
    links = [] if entry.status == "deleted" else bare_links(entry.blocks)
    queued = {row.url: row for row in session.scalars(_of(entry.id))}
    for url, row in queued.items():
        if url not in links:
            session.delete(row)
    for url in links:
        if url not in queued:
            session.add(
                EmbedLookup(
                    entry_id=entry.id, url=url, state="pending", attempts=0, due_at=now,
                    created_at=now,
                )
            )  # fmt: skip


def retry(session: Session, entry: Entry, now: datetime) -> None:
    """Look every bare link of ``entry`` up again, the failed ones included."""
    keep_in_step(session, entry, now)
    session.execute(
        update(EmbedLookup)
        .where(EmbedLookup.entry_id == entry.id, EmbedLookup.state == "failed")
        .values(state="pending", reason=None, attempts=0, due_at=now)
    )


def unresolved(session: Session, entries: list[Entry]) -> dict[int, list[dict[str, Any]]]:
    """For each entry (by id), its bare blocks still queued or failed: their index, link,
    state and, for a failure, why."""
    if not entries:
        return {}
    rows = session.scalars(
        select(EmbedLookup).where(EmbedLookup.entry_id.in_([entry.id for entry in entries]))
    )
    by_link = {(row.entry_id, row.url): row for row in rows}
    found: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        items = found.setdefault(entry.id, [])
        for index, block in enumerate(entry.blocks):
            row = by_link.get((entry.id, block.get("url", ""))) if is_bare(block) else None
            if row is not None:
                state = {"block": index, "url": row.url, "state": row.state, "reason": row.reason}
                items.append(state)
    return found


def claim_due(
    session: Session, now: datetime, hold: timedelta, limit: int
) -> list[tuple[int, str, int]]:
    """Take up to ``limit`` due look-ups for this process: (id, url, attempt). Each is moved
    ``hold`` into the future, so no other process takes it meanwhile, and one whose process
    died is taken again after that."""
    query = (
        select(EmbedLookup.id, EmbedLookup.url, EmbedLookup.attempts, EmbedLookup.due_at)
        .where(EmbedLookup.state == "pending", EmbedLookup.due_at <= now)
        .order_by(EmbedLookup.due_at, EmbedLookup.id)
        .limit(limit)
    )
    if not session.execute(query).first():
        session.rollback()  # nothing due: no write transaction (on SQLite, no write lock)
        return []
    taken = []
    with store.transaction(session):
        for lookup_id, url, attempts, due_at in session.execute(query).all():
            moved = session.execute(
                update(EmbedLookup)
                .where(EmbedLookup.id == lookup_id, EmbedLookup.due_at == due_at)
                .values(due_at=now + hold, attempts=attempts + 1)
            )
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                taken.append((lookup_id, url, attempts + 1))
    return taken


def record_failure(
    session: Session, lookup_id: int, error: EmbedError, attempt: int, now: datetime
) -> None:
    """Note why a look-up failed: tried again later if it may yet work, else ``failed``."""
    transient = isinstance(error, EmbedTimeout | EmbedUnavailable)
    again = transient and attempt <= len(RETRY_DELAYS)
    with store.transaction(session):
        session.execute(
            update(EmbedLookup)
            .where(EmbedLookup.id == lookup_id)
            .values(
                state="pending" if again else "failed",
                reason=error.detail,
                due_at=now + RETRY_DELAYS[attempt - 1] if again else now,
            )
        )


def forget(session: Session, lookup_id: int) -> None:
    """Drop a look-up that is done with (in the caller's transaction)."""
    session.execute(delete(EmbedLookup).where(EmbedLookup.id == lookup_id))


def _of(entry_id: int) -> Any:
    return select(EmbedLookup).where(EmbedLookup.entry_id == entry_id)
