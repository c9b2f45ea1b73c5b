"""Who is editing which entry, so colleagues see it before their saves conflict.

An open edit form renews its mark every few seconds; a mark that is not renewed lapses
after ``EXPIRY``, so a closed laptop clears itself. Marks are rows in the database, so
every process sees them, and each change moves the blog's desk_seq, which wakes the
editors' streams. No Flask.
"""

from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import desks
from . import store
from .models import Blog
from .models import Editing
from .models import User
from .models import utcnow

EXPIRY = timedelta(seconds=30)


def start_editing(
    session: Session, slug: str, entry_id: int, user: User, now: datetime | None = None
) -> Editing:
    """Mark ``user`` as editing the entry (one they may see) until ``EXPIRY`` from now."""
    now = now or utcnow()
    with store.transaction(session):
        blog = store.get_blog(session, slug)
        role = desks.require_desk(session, user, blog)
        entry = store.get_entry(session, blog, entry_id, visible_to=user, role=role)
        session.execute(
            delete(Editing).where(Editing.blog_id == blog.id, Editing.expires_at <= now)
        )
        mark = session.get(Editing, (entry.id, user.id))
        if mark is None:
            mark = Editing(entry_id=entry.id, user_id=user.id, blog_id=blog.id)
            session.add(mark)
        mark.expires_at = now + EXPIRY
        store.move_desk(session, blog)
    return mark


def stop_editing(session: Session, slug: str, entry_id: int, user: User) -> None:
    """Clear ``user``'s mark on the entry, if there is one."""
    with store.transaction(session):
        blog = store.get_blog(session, slug)
        desks.require_desk(session, user, blog)
        removed = session.execute(
            delete(Editing).where(Editing.entry_id == entry_id, Editing.user_id == user.id)
        )
        if removed.rowcount:  # type: ignore[attr-defined]
            store.move_desk(session, blog)


def editing_now(session: Session, blog: Blog, now: datetime | None = None) -> list[Editing]:
    """The marks on the blog's entries that have not lapsed, soonest to lapse first."""
    now = now or utcnow()
    query = select(Editing).where(Editing.blog_id == blog.id, Editing.expires_at > now)
    return list(session.scalars(query.order_by(Editing.expires_at)))
