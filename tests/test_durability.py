"""Durability: a burst of publishes, `kill -9` of the whole server mid-burst, a restart.

Writers post entries over keep-alive connections to `liveblog serve` (two gevent
workers) until the server's process group is SIGKILLed under them. On the same
database, restarted: every entry the server acknowledged is there with the body sent,
the change log is gapless, and every entry came with its change and its revision (one
transaction each). A request the kill left unanswered landed whole or not at all, and
sent again with its Idempotency-Key it gives that entry, or the one it never made.
"""

import hashlib
import http.client
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

import pytest
from sqlalchemy import select

from liveblog import store
from liveblog.models import Change
from liveblog.models import Entry
from liveblog.models import Revision
from tests.servers import HOST
from tests.servers import Deployment
from tests.servers import Server
from tests.servers import prepare
from tests.servers import running
from tests.support import BACKENDS

WRITERS = 6
EACH = 100  # the burst: WRITERS x EACH publishes, if nothing stopped it
KILL_AT = 100  # acknowledgements before the SIGKILL: well inside the burst
TIMEOUT = 5.0  # seconds for any one request
BURST_TIMEOUT = 15.0  # seconds for the burst to reach KILL_AT


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Server, Deployment]]:
    """A database holding the live blog 'hama', and a server for it (not started)."""
    # Feeds long enough to carry every entry of the burst.
    extra_env = {"LIVEBLOG_FEED_MAX_ENTRIES": str(WRITERS * EACH + 1)}
    if request.param == "postgresql":
        with request.getfixturevalue("server_databases").fresh() as url:
            yield Server(url, tmp_path, extra_env=extra_env), prepare(url)
        return
    path = tmp_path / "liveblog.sqlite"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    url = f"sqlite:///{path}"
    yield Server(url, tmp_path, extra_env=extra_env), prepare(url)


@dataclass
class Burst:
    """Writers publishing as fast as they can; what the server answered, and what it did not."""

    server: Server
    token: str
    path: str
    acknowledged: dict[int, str] = field(default_factory=dict)  # entry id -> body sent
    unanswered: list[tuple[float, str]] = field(default_factory=list)  # (sent at, body)
    refused: list[str] = field(default_factory=list)  # bodies never sent: no connection
    rejected: list[tuple[int, bytes]] = field(default_factory=list)  # answers but 201
    started_at: float = 0.0
    killed_at: float = 0.0
    acknowledged_at_kill: int = 0
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def write(self, writer: int) -> None:
        """Post this writer's entries on one keep-alive connection until one goes unanswered."""
        connection = http.client.HTTPConnection(HOST, self.server.port, timeout=TIMEOUT)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            for number in range(EACH):
                body = f"Writer {writer}, update {number} of the burst."
                headers["Idempotency-Key"] = key_of(body)
                if connection.sock is None:  # first, or after an answer that closed it
                    try:
                        connection.connect()
                    except OSError:
                        with self._changed:
                            self.refused.append(body)
                        return
                sent_at = time.monotonic()
                try:
                    connection.request("POST", self.path, json.dumps({"body": body}), headers)
                    response = connection.getresponse()
                    raw = response.read()
                except (OSError, http.client.HTTPException):
                    with self._changed:
                        self.unanswered.append((sent_at, body))
                    return
                with self._changed:
                    if response.status == 201:
                        self.acknowledged[json.loads(raw)["id"]] = body
                    else:
                        self.rejected.append((response.status, raw))
                    self._changed.notify_all()
        finally:
            connection.close()

    def run_until_killed(self) -> None:
        """Start the writers, SIGKILL the server's process group after KILL_AT acks, join."""
        threads = [
            threading.Thread(target=self.write, args=(n,), name=f"writer-{n}", daemon=True)
            for n in range(WRITERS)
        ]
        self.started_at = time.monotonic()
        for thread in threads:
            thread.start()
        with self._changed:
            reached = self._changed.wait_for(
                lambda: len(self.acknowledged) >= KILL_AT or bool(self.rejected), BURST_TIMEOUT
            )
            self.acknowledged_at_kill = len(self.acknowledged)
        self.server.kill()
        self.killed_at = time.monotonic()  # nothing sent from now on can land
        for thread in threads:
            thread.join(TIMEOUT)
        assert not any(thread.is_alive() for thread in threads), "a writer did not stop"
        assert not self.rejected, f"answers other than 201 before the kill: {self.rejected[:3]}"
        assert reached, f"only {self.acknowledged_at_kill} acknowledged in {BURST_TIMEOUT} s"

    def in_flight_at_kill(self) -> list[str]:
        """Bodies of requests sent before the kill that never got an answer."""
        return [body for sent_at, body in self.unanswered if sent_at < self.killed_at]


def key_of(body: str) -> str:
    """The Idempotency-Key a writer sends ``body`` with, and sends again to retry it."""
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class Stored:
    """What the database holds for the blog."""

    last_seq: int
    entries: dict[int, tuple[str, list[dict[str, str]]]]  # entry id -> (status, blocks)
    changes: list[tuple[int, str, int | None]]  # (seq, kind, entry id) in insertion order
    revised: list[int]  # the entry id of every revision


def stored(deployment: Deployment) -> Stored:
    with deployment.session() as session:
        blog = store.get_blog(session, deployment.slug)
        entries = session.scalars(select(Entry).where(Entry.blog_id == blog.id))
        changes = session.scalars(
            select(Change).where(Change.blog_id == blog.id).order_by(Change.id)
        )
        revised = session.scalars(
            select(Revision.entry_id).join(Entry).where(Entry.blog_id == blog.id)
        )
        return Stored(
            blog.last_seq,
            {entry.id: (entry.status, entry.blocks) for entry in entries},
            [(change.seq, change.kind, change.entry_id) for change in changes],
            list(revised),
        )


def published(body: str) -> tuple[str, list[dict[str, str]]]:
    """(status, blocks) of an entry published with ``body``."""
    return "published", [{"type": "text", "markdown": body}]


def get(server: Server, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_acknowledged_publishes_survive_a_kill_9_mid_burst(live):
    server, deployment = live
    slug = deployment.slug
    burst = Burst(server, deployment.editor_token, f"/api/v1/blogs/{slug}/entries")
    with running(server):
        burst.run_until_killed()
    in_flight = burst.in_flight_at_kill()

    with running(server):
        found = stored(deployment)
        landed = found.entries.keys() - burst.acknowledged.keys()
        # The figures of this run: shown with -rP, and with a failure.
        print(
            f"acknowledged: {burst.acknowledged_at_kill} at the kill "
            f"({burst.killed_at - burst.started_at:.2f} s in), "
            f"{len(burst.acknowledged)} in all; in flight at the kill: {len(in_flight)}, "
            f"landed: {len(landed)}; refused: {len(burst.refused)}; seqs 1..{found.last_seq}"
        )
        # The kill landed mid-burst: writers were waiting for answers, and more was to come.
        assert in_flight, "no request was in flight at the kill"
        assert burst.acknowledged_at_kill < WRITERS * EACH

        # Every acknowledged entry is there, with the body sent; any other entry is one of
        # the requests in flight at the kill, landed once.
        for entry_id, body in burst.acknowledged.items():
            assert found.entries.get(entry_id) == published(body), f"entry {entry_id} lost"
        landed_bodies = [found.entries[entry_id][1][0]["markdown"] for entry_id in landed]
        assert len(set(landed_bodies)) == len(landed_bodies), landed_bodies
        for entry_id, body in zip(landed, landed_bodies, strict=True):
            assert body in in_flight and found.entries[entry_id] == published(body), entry_id

        # The change log: seqs 1..N in insertion order. Each entry has its one
        # entry.published change and its one revision: none, acknowledged or not, is half.
        assert [seq for seq, _kind, _entry in found.changes] == list(range(1, found.last_seq + 1))
        assert {kind for _seq, kind, _entry in found.changes} == {"entry.published"}
        changed = sorted(entry for _seq, _kind, entry in found.changes)
        assert changed == sorted(found.entries), (
            f"entries without their change: {sorted(found.entries.keys() - set(changed))}"
        )
        assert sorted(found.revised) == sorted(found.entries), (
            f"entries without their revision: {sorted(found.entries.keys() - set(found.revised))}"
        )

        # The restarted server serves all of it, and carries on from N.
        status, page = get(server, f"/{slug}/")
        assert status == 200 and f'id="update-{max(found.entries)}"'.encode() in page
        status, feed = get(server, f"/{slug}/feed.json")
        assert status == 200
        items = {
            int(item["url"].rsplit("/", 1)[1]): item["content_html"]
            for item in json.loads(feed)["items"]
        }
        assert items.keys() == found.entries.keys()
        for entry_id, body in burst.acknowledged.items():
            assert body in items[entry_id], entry_id
        after = server.api(deployment.editor_token, "POST", burst.path, {"body": "Restarted."})
        new = (found.last_seq + 1, "entry.published", after["id"])
        assert stored(deployment).changes == [*found.changes, new]

        # The writers retry what the kill left unanswered, each with its key: one that
        # landed gives its entry, and one that did not lands now, once.
        landed_as = dict(zip(landed_bodies, landed, strict=True))
        for body in in_flight:
            key = {"Idempotency-Key": key_of(body)}
            retried = server.api(deployment.editor_token, "POST", burst.path, {"body": body}, **key)
            assert retried["id"] == landed_as.get(body, retried["id"]), body
            again = server.api(deployment.editor_token, "POST", burst.path, {"body": body}, **key)
            assert again["id"] == retried["id"], body
        bodies = [blocks[0]["markdown"] for _status, blocks in stored(deployment).entries.values()]
        assert sorted(bodies) == sorted({*burst.acknowledged.values(), *in_flight, "Restarted."})
