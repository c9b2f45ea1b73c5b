"""Blueprint "live": Server-Sent Events and a polling fallback, both fed by the change log."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import jsonify
from flask import request
from sqlalchemy.orm import Session

from .. import db
from .. import store
from ..errors import LiveblogError
from ..live import KEEP_ALIVE
from ..live import RESET
from ..live import STOP
from ..live import Event
from ..live import Notifier
from ..live import PollingSource
from ..live import PostgresSource
from ..live import RecentEvents
from ..live import RedisSource
from ..models import Blog
from ..models import Change
from ..models import Entry
from ..signals import changes_committed
from .conditional import cached_for_readers
from .templating import entry_view
from .templating import templates

bp = Blueprint("live", __name__)


@dataclass
class Live:
    """One process's live machinery for an app."""

    notifier: Notifier
    source: PollingSource
    events: RecentEvents
    heartbeat: float
    retry_ms: int = 3000


def live() -> Live:
    state: Live = current_app.extensions["liveblog.live"]
    return state


def init_app(app: Flask) -> Live:
    """Give ``app`` a notifier fed by the best source configured, and its recent events."""
    notifier = Notifier()
    engine = db.database(app).engine
    source: PollingSource
    if app.config["REDIS_URL"]:
        source = RedisSource(notifier, engine, app.config["REDIS_URL"])
    elif engine.dialect.name == "postgresql":
        libpq_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        source = PostgresSource(notifier, engine, libpq_url)
    else:
        source = PollingSource(notifier, engine, float(app.config["LIVE_POLL_INTERVAL"]))
    events = RecentEvents(
        lambda blog_id, since, limit: _load_events(app, blog_id, since, limit),
        int(app.config["LIVE_REPLAY_LIMIT"]),
    )
    state = Live(notifier, source, events, float(app.config["LIVE_HEARTBEAT"]))
    app.extensions["liveblog.live"] = state

    def on_commit(session: Session, changes: list[Change]) -> None:
        if session.get_bind() is not engine:
            return
        for change in changes:
            notifier.publish(change.blog_id, change.seq)
            if isinstance(source, RedisSource):
                source.announce(change.blog_id, change.seq)

    app.extensions["liveblog.live.receiver"] = on_commit  # blinker holds receivers weakly
    changes_committed.connect(on_commit)
    return state


def _load_events(app: Flask, blog_id: int, since: int, limit: int) -> list[Event]:
    """Read changes after ``since`` and render each once, for every stream of this process."""
    with app.app_context():
        session = db.session()
        blog = session.get(Blog, blog_id)
        if blog is None:
            return []
        return [
            render_event(session, blog, change)
            for change in store.changes_since(session, blog, since, limit)
        ]


def render_event(session: Session, blog: Blog, change: Change) -> Event:
    """What readers receive for one change: the entry as the live page would show it now.

    An entry that is no longer published has ``html: null``, and readers remove it: replayed
    in order, events always end in the page's current state.
    """
    data: dict[str, Any] = {"seq": change.seq, "type": change.kind}
    if change.entry_id is not None:
        entry = session.get(Entry, change.entry_id)
        data["entry_id"] = change.entry_id
        data["html"] = None
        if entry is not None and entry.status == "published":
            view = entry_view(blog, entry)
            environment = templates(blog)
            data.update(
                html=environment.get_template("_entry.html").render(entry=view),
                label=view.label,
                published_at=entry.published_at.isoformat() if entry.published_at else None,
                day_html=environment.get_template("_day.html").render(entry=view, hidden=True),
                pinned=entry.pinned,
                key_event=entry.key_event,
                key_event_html=environment.get_template("_key_event.html").render(
                    event=view, on_page=True
                )
                if entry.key_event
                else None,
            )
    else:
        data.update(title=blog.title, standfirst=blog.standfirst, status=blog.status)
    return Event(change.seq, change.kind, data)


def _change_number(raw: str) -> int | None:
    """``raw`` as a seq, if it is one: ASCII digits only ("²" and "٣" are digits to Python)."""
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _since(blog: Blog) -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("since")
    if raw is None or raw == "":
        return blog.last_seq
    since = _change_number(raw)
    if since is None:
        raise LiveblogError("since (or Last-Event-ID) must be a change number such as 42.")
    return since


@bp.get("/<slug:slug>/events")
def events(slug: str) -> Response:
    """The blog's changes as they happen; resumes after ``Last-Event-ID`` (or ``?since=``)."""
    blog = store.reader_blog(db.session(), slug)
    since = _since(blog)
    if blog.status == "ended" and since >= blog.last_seq:
        # Nothing more will come: a 204 is what makes an EventSource stop reconnecting.
        return Response(status=204, headers={"Cache-Control": "no-store"})
    state = live()
    state.source.ensure_running()
    state.notifier.publish(blog.id, blog.last_seq)
    stream = _stream(state, blog.id, since, blog.last_seq, blog.status == "ended")
    headers = {"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"}
    return Response(stream, mimetype="text/event-stream", headers=headers)


def _stream(state: Live, blog_id: int, since: int, latest: int, ended: bool) -> Iterator[bytes]:
    yield f"retry: {state.retry_ms}\n\n".encode()
    if since > latest:
        yield RESET
        return
    position = floor = since
    while True:
        if ended and position >= latest:
            yield STOP
            return
        latest = state.notifier.wait(blog_id, floor, state.heartbeat)
        if latest <= floor:
            yield KEEP_ALIVE
            continue
        pending = state.events.since(blog_id, position, latest)
        if pending is None:
            yield RESET
            return
        for event in pending:
            yield event.message
            position = event.seq
            if event.type == "blog.updated":
                ended = event.data.get("status") == "ended"
        # A seq the log does not hold (yet) wakes this stream once, not in a busy loop.
        floor = position if pending else latest


@bp.get("/<slug:slug>/changes")
def changes(slug: str) -> Response:
    """The same events as JSON after ``?since=``, for polling clients; cacheable by seq."""
    blog = store.reader_blog(db.session(), slug)
    since = _change_number(request.args.get("since", ""))
    if since is None:
        raise LiveblogError("since must be a change number such as 42.")

    def build() -> Response:
        state = live()
        state.notifier.publish(blog.id, blog.last_seq)
        pending = (
            [] if since >= blog.last_seq else state.events.since(blog.id, since, blog.last_seq)
        )
        body = {
            "seq": blog.last_seq,
            "status": blog.status,
            "reset": pending is None or since > blog.last_seq,
            # Only up to last_seq, the seq the ETag names, however far the cache has got.
            "events": [event.data for event in pending or [] if event.seq <= blog.last_seq],
        }
        return jsonify(body)

    return cached_for_readers(blog, f"changes:{since}", build, max_age=1)
