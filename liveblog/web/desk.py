"""The editors' stream: every entry of a blog an editor may see, in every status, and who
is editing which, sent as Server-Sent Events whenever the blog's desk_seq moves.

Readers' streams carry published entries only; this one carries drafts and reviews too, so
it is behind the editor's log-in. It waits on the same notifier as the readers' streams
(the blog's desk_seq, which every entry write and every presence mark moves), so an idle
stream costs no query; each wake reads what changed since the last, for this one editor.
"""

import json
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db
from .. import desks
from .. import presence
from .. import store
from ..live import KEEP_ALIVE
from ..live import desk
from ..models import Blog
from ..models import Entry
from ..models import User
from ..models import includes
from ..models import utcnow
from .api_json import entry_json
from .live import Live
from .templating import entry_view
from .templating import templates

SNAPSHOT = 100  # the newest entries a stream starts with, as the stream pane shows them
# Entries written up to this long before a wake's previous read are read again, in case
# another host's clock is behind this one's; their versions tell what was sent already.
CLOCK_MARGIN = timedelta(minutes=1)


def message(kind: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Event of type ``kind``."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def entry_item(blog: Blog, entry: Entry) -> dict[str, Any]:
    """An entry as the API gives it, with its rendering through the theme's ``_entry.html``
    (what readers see, or would once it is published)."""
    view = entry_view(blog, entry)
    reader_html = templates(blog).get_template("_entry.html").render(entry=view)
    return {**entry_json(entry, blog), "reader_html": reader_html}


class DeskStream:
    """One editor's stream of one blog: what it has sent, to send only what is new."""

    def __init__(self, app: Flask, state: Live, blog_id: int, user_id: int) -> None:
        self.app, self.state, self.blog_id, self.user_id = app, state, blog_id, user_id
        self.versions: dict[int, int] = {}  # entry id -> the version sent
        self.read_at: datetime | None = None

    def __iter__(self) -> Iterator[bytes]:
        yield f"retry: {self.state.retry_ms}\n\n".encode()
        position = -1  # the first wake sends the snapshot
        while True:
            latest = self.state.notifier.wait(desk(self.blog_id), position, self.state.heartbeat)
            if latest <= position:
                yield KEEP_ALIVE
                continue
            position = latest
            with self.app.app_context():
                events = self.read(db.session())
            if events is None:
                return
            yield from events

    def read(self, session: Session) -> list[bytes] | None:
        """The events for what changed since the last read; None once the editor or the
        blog is gone, which ends the stream."""
        blog = session.get(Blog, self.blog_id)
        user = session.get(User, self.user_id)
        role = desks.role_on(session, user, blog) if blog and user else None
        if blog is None or user is None or role is None:
            return None  # the blog, the editor or their place on its desk is gone
        now = utcnow()
        first = self.read_at is None
        if self.read_at is None:
            limit = None if includes(role, "editor") else user
            changed = store.editor_entries(session, blog, limit=SNAPSHOT, visible_to=limit)
        else:
            query = select(Entry).where(
                Entry.blog_id == blog.id, Entry.updated_at >= self.read_at - CLOCK_MARGIN
            )
            changed = list(session.scalars(query))
        self.read_at = now
        items, gone = [], []
        for entry in changed:
            if self.versions.get(entry.id) == entry.version:
                continue
            if entry.visible_to(user, role):
                items.append(entry_item(blog, entry))
                self.versions[entry.id] = entry.version
            elif entry.id in self.versions:
                gone.append(entry.id)
                del self.versions[entry.id]
        events = []
        if first or items or gone:
            events.append(message("entries", {"snapshot": first, "items": items, "gone": gone}))
        events.append(message("presence", {"editing": _editing(session, blog, user, role, now)}))
        return events


def _editing(
    session: Session, blog: Blog, user: User, role: str, now: datetime
) -> list[dict[str, Any]]:
    """Who is editing which of the entries ``user`` may see, and for how long yet."""
    found = []
    for mark in presence.editing_now(session, blog, now):
        entry = session.get(Entry, mark.entry_id)
        if entry is not None and entry.visible_to(user, role):
            found.append(
                {
                    "entry_id": mark.entry_id,
                    "user": {"id": mark.user.id, "name": mark.user.name},
                    "expires_in": round((mark.expires_at - now).total_seconds(), 1),
                }
            )
    return found
