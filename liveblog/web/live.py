"""Blueprint "live": Server-Sent Events and a polling fallback, both fed by the change log.

With GRIP_URL and GRIP_KEY set, Pushpin holds the readers' connections: a request it
signed gets what the reader missed and instructions to hold it (``grip.py``), and each
commit's changes are published to it. Any other request is served by the app itself.
"""

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import has_app_context
from flask import jsonify
from flask import request
from flask import url_for
from sqlalchemy.orm import Session

from .. import db
from .. import grip
from .. import store
from ..errors import LiveblogError
from ..grip import Committed
from ..grip import GripPublisher
from ..live import KEEP_ALIVE
from ..live import RESET
from ..live import STOP
from ..live import Event
from ..live import Notifier
from ..live import PollingSource
from ..live import PostgresSource
from ..live import RecentEvents
from ..live import RedisSource
from ..live import desk
from ..models import BLOG_DELETED
from ..models import Blog
from ..models import Change
from ..models import Entry
from ..models import utcnow
from ..signals import changes_committed
from ..signals import desk_moved
from ..validation import whole_number
from .conditional import cached_for_readers
from .templating import entry_view
from .templating import pinned_view
from .templating import templates

log = logging.getLogger(__name__)

bp = Blueprint("live", __name__)

SSE_HEADERS = {"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"}
# A blog in one of these statuses sends nothing more once its last change is out.
FINAL_STATUSES = ("ended", BLOG_DELETED)


@dataclass
class Live:
    """One process's live machinery for an app."""

    notifier: Notifier
    source: PollingSource
    events: RecentEvents
    heartbeat: float
    retry_ms: int = 3000
    grip_key: bytes | None = None
    """The key Pushpin signs with, when it holds the streams."""
    publishers: tuple[GripPublisher, ...] = ()
    """What sends each change to each Pushpin instance, when Pushpin holds the streams: one
    thread per instance, so one that is slow or away holds back none of the others."""


def live() -> Live:
    state: Live = current_app.extensions["liveblog.live"]
    return state


def init_app(app: Flask) -> Live:
    """Give ``app`` a notifier fed by the best source configured, its recent events and,
    when Pushpin holds the streams, the publisher that sends it each change."""
    notifier = Notifier()
    engine = db.database(app).engine

    def database_source() -> PollingSource:
        """The database's own signal: LISTEN/NOTIFY on PostgreSQL, a shared poll on SQLite."""
        if engine.dialect.name == "postgresql":
            libpq = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            return PostgresSource(notifier, engine, libpq)
        return PollingSource(notifier, engine, float(app.config["LIVE_POLL_INTERVAL"]))

    source: PollingSource
    if app.config["REDIS_URL"]:
        source = RedisSource(notifier, engine, app.config["REDIS_URL"], standby=database_source)
    else:
        source = database_source()
    events = RecentEvents(
        lambda blog_id, since, limit: _load_events(app, blog_id, since, limit),
        int(app.config["LIVE_REPLAY_LIMIT"]),
    )
    publishers = tuple(
        GripPublisher(url, lambda changes: _publish_items(app, events, changes))
        for url in app.config["GRIP_URL"]
    )
    heartbeat = float(app.config["LIVE_HEARTBEAT"])
    state = Live(
        notifier, source, events, heartbeat, grip_key=app.config["GRIP_KEY"], publishers=publishers
    )
    app.extensions["liveblog.live"] = state

    def on_commit(session: Session, changes: list[Change]) -> None:
        if session.get_bind() is not engine:
            return
        for change in changes:
            notifier.publish(change.blog_id, change.seq)
            if isinstance(source, RedisSource):
                source.announce(change.blog_id, change.seq)
        if publishers:
            _queue_for_pushpin(publishers, session, changes)

    def on_desk_moved(session: Session, moves: list[tuple[int, int]]) -> None:
        if session.get_bind() is not engine:
            return
        for blog_id, seq in moves:
            notifier.publish(desk(blog_id), seq)
            if isinstance(source, RedisSource):
                source.announce(desk(blog_id), seq)

    # blinker holds receivers weakly
    app.extensions["liveblog.live.receiver"] = on_commit
    app.extensions["liveblog.live.desk_receiver"] = on_desk_moved
    changes_committed.connect(on_commit)
    desk_moved.connect(on_desk_moved)
    return state


def _queue_for_pushpin(
    publishers: tuple[GripPublisher, ...], session: Session, changes: list[Change]
) -> None:
    """Hand the changes of readers' blogs to the publishers (drafts have no readers; a
    deleted blog's readers get its last change, which ends their streams)."""
    # Runs in the writer's thread right after its commit: never let it fail the write.
    try:
        committed = []
        for change in changes:
            blog = session.get(Blog, change.blog_id)  # still in the session: no query
            if blog is not None and blog.status in (*store.READER_STATUSES, BLOG_DELETED):
                committed.append(Committed(change.blog_id, change.seq, blog.status))
        for publisher in publishers:
            publisher.publish(committed)
    except Exception:
        log.exception("could not queue changes %s for Pushpin", changes)


def _publish_items(
    app: Flask, events: RecentEvents, changes: list[Committed]
) -> list[dict[str, Any]]:
    """What Pushpin is sent for ``changes``: each event as streams and long-polls get it,
    after the blog's recent changes that this publish does not hold already (``grip.recent``).
    """
    final_status = {change.blog_id: change.status for change in changes}
    included: dict[int, int] = {}  # each blog's last seq in these items
    now = utcnow()
    items = []
    with app.app_context():
        for change in changes:
            since = max(included.get(change.blog_id, 0), change.seq - 1 - grip.REPEAT_MAX)
            loaded = [
                e
                for e in events.since(change.blog_id, since, change.seq) or []
                if e.seq <= change.seq
            ]
            if not loaded or loaded[-1].seq != change.seq:
                log.warning("change %s:%s is not in the log", change.blog_id, change.seq)
                continue
            included[change.blog_id] = change.seq
            for event in [*grip.recent(loaded[:-1], now), loaded[-1]]:
                body = _changes_body(event.seq, change.status, False, [event])
                # Streams stop with the blog, unless it went live again since.
                ends = _ends(event) and final_status[change.blog_id] in FINAL_STATUSES
                response = jsonify(body).get_data()
                items += grip.publish_items(grip.channel(change.blog_id), event, response, ends)
    return items


def _ends(event: Event) -> bool:
    """Whether ``event`` is the blog ending (or being deleted)."""
    return event.type == "blog.updated" and event.data.get("status") in FINAL_STATUSES


def _load_events(app: Flask, blog_id: int, since: int, limit: int) -> list[Event]:
    """Read changes after ``since`` and render each once, for every stream of this process.

    In a request of ``app`` (a replay, an answer to a poll), the request's own session
    reads them. With a session of their own, a busy worker's requests could each hold a
    connection while the one loading for all of them waits for another from the pool.
    """
    if has_app_context() and db.database() is db.database(app):
        return _read_events(db.session(), blog_id, since, limit)
    with app.app_context():
        return _read_events(db.session(), blog_id, since, limit)


def _read_events(session: Session, blog_id: int, since: int, limit: int) -> list[Event]:
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
    data: dict[str, Any] = {
        "seq": change.seq,
        "type": change.kind,
        "changed_at": change.created_at.isoformat(timespec="seconds"),
    }
    if change.entry_id is not None:
        entry = session.get(Entry, change.entry_id)
        data["entry_id"] = change.entry_id
        data["html"] = None
        if entry is not None and entry.status == "published":
            view = entry_view(blog, entry)
            environment = templates(blog)
            shown = pinned_view(blog, entry) if entry.pinned else view
            data.update(
                html=environment.get_template("_entry.html").render(entry=shown),
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
    """``raw`` as a seq, if it is one; seqs fit in 32 bits, so any larger number is beyond
    every log alike."""
    return whole_number(raw, store.MAX_ID)


def _since(blog: Blog) -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("since")
    if raw is None or raw == "":
        return blog.last_seq
    since = _change_number(raw)
    if since is None:
        raise LiveblogError("since (or Last-Event-ID) must be a change number such as 42.")
    return since


def _through_pushpin() -> bool:
    """Whether Pushpin sent this request (a valid ``Grip-Sig``), and so may hold it."""
    key = live().grip_key
    return key is not None and grip.is_signed(request.headers.get("Grip-Sig"), key)


@bp.get("/<slug:slug>/events")
def events(slug: str) -> Response:
    """The blog's changes as they happen; resumes after ``Last-Event-ID`` (or ``?since=``)."""
    blog = store.reader_blog(db.session(), slug)
    held = _through_pushpin()
    # Pushpin asking its next link for what a stream missed: Grip-Last says what it had.
    resumed = (
        grip.last_id(request.headers.getlist("Grip-Last"), grip.channel(blog.id)) if held else None
    )
    since = _since(blog) if resumed is None else resumed
    if blog.status == "ended" and since >= blog.last_seq:
        # Nothing more will come: a 204 is what makes an EventSource stop reconnecting.
        return Response(status=204, headers={"Cache-Control": "no-store"})
    state = live()
    state.source.ensure_running()
    state.notifier.publish(blog.id, blog.last_seq)
    if held:
        return _held_stream(state, blog, since, resumed is None)
    stream = _stream(state, blog.id, since, blog.last_seq, blog.status == "ended")
    return Response(stream, mimetype="text/event-stream", headers=SSE_HEADERS)


def _held_stream(state: Live, blog: Blog, since: int, first: bool) -> Response:
    """For Pushpin: the events after ``since``, then the instructions to hold the stream on
    the blog's channel; or, as the app's own streams end, a reset or the end of the blog.

    The events are those, byte for byte, that the app's own stream would send; ``first``
    is a reader's request, which starts with the retry line (not Pushpin's next link).
    """
    sent = [f"retry: {state.retry_ms}\n\n".encode()] if first else []
    headers = dict(SSE_HEADERS)
    pending = None if since > blog.last_seq else state.events.since(blog.id, since, blog.last_seq)
    if pending is None:
        sent.append(RESET)
    else:
        position, ended = since, blog.status == "ended"
        for event in pending:
            sent.append(event.message)
            position = event.seq
            if event.type == "blog.updated":
                ended = _ends(event)
        if ended:
            sent.append(STOP)
        else:
            headers |= grip.hold_stream(
                grip.channel(blog.id),
                position,
                url_for("live.events", slug=blog.slug),
                random.choice(grip.NEXT_LINK_TIMEOUTS),
                max(1, round(state.heartbeat)),
            )
    return Response(b"".join(sent), mimetype="text/event-stream", headers=headers)


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
                ended = _ends(event)
        # A seq the log does not hold (yet) wakes this stream once, not in a busy loop.
        floor = position if pending else latest


@bp.get("/<slug:slug>/changes")
def changes(slug: str) -> Response:
    """The same events as JSON after ``?since=``, for polling clients; cacheable by seq.

    Through Pushpin, a request with nothing new on a live blog is held until there is
    (a long-poll); its answer then comes from the publish of the next change.
    """
    blog = store.reader_blog(db.session(), slug)
    since = _change_number(request.args.get("since", ""))
    if since is None:
        raise LiveblogError("since must be a change number such as 42.")
    if since == blog.last_seq and blog.status == "live" and _through_pushpin():
        # Pushpin's answer when nothing comes in time: today's "nothing new".
        held = jsonify(_changes_body(blog.last_seq, blog.status, False, []))
        held.headers.update(grip.hold_response(grip.channel(blog.id), blog.last_seq))
        held.headers["Cache-Control"] = "no-store"
        return held

    def build() -> Response:
        state = live()
        state.notifier.publish(blog.id, blog.last_seq)
        pending = (
            [] if since >= blog.last_seq else state.events.since(blog.id, since, blog.last_seq)
        )
        # Only up to last_seq, the seq the ETag names, however far the cache has got.
        found = [event for event in pending or [] if event.seq <= blog.last_seq]
        reset = pending is None or since > blog.last_seq
        return jsonify(_changes_body(blog.last_seq, blog.status, reset, found))

    return cached_for_readers(blog, f"changes:{since}", build, max_age=1)


def _changes_body(seq: int, status: str, reset: bool, events: list[Event]) -> dict[str, Any]:
    """What ``/changes`` answers: the blog's seq and status, and the events after ``since``."""
    return {"seq": seq, "status": status, "reset": reset, "events": [e.data for e in events]}
