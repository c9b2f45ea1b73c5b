"""Live fan-out benchmark: how fast does a published entry reach 1,000 and 5,000 SSE readers?

For PostgreSQL and then SQLite, run the production server (``liveblog serve``, gunicorn
with gevent workers, 2 workers) on a fresh database holding one live blog, an editor and
an API token. For each reader count (1,000 then 5,000, a fresh server each time):

1. open that many Server-Sent Event streams ``/<slug>/events?since=<seq>`` from separate
   client processes (asyncio, raw sockets, HTTP/1.1 chunked bodies de-chunked by hand);
2. with every reader connected and idle, measure the server's memory (RSS of the gunicorn
   master and workers, from /proc) and the database queries per second (PostgreSQL:
   ``xact_commit + xact_rollback`` of the bench database in pg_stat_database; SQLite:
   the WAL read locks the workers take, counted with strace, next to the estimate);
3. publish entries through the editor API, one every ``--interval`` seconds, recording
   the time each POST is sent; every reader records when each event arrives.

Prints, per backend and reader count, publish -> received latency p50 / p99 / max over
all readers and events, missed and duplicated events (counted per reader against the
entries published), memory per idle reader and idle queries per second. Target: p99 <
500 ms at 5,000 readers on 2 cores.

Run from the repository root: ``.venv/bin/python bench/fanout.py``. It needs PostgreSQL on
127.0.0.1:5432 (user postgres, no password) for the PostgreSQL half, where it creates and
drops the database ``liveblog_bench``. Everything listens on 127.0.0.1 only; every process
started here is stopped before the script exits.
"""

import argparse
import asyncio
import http.client
import json
import math
import multiprocessing
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from array import array
from multiprocessing.connection import Connection
from pathlib import Path

from processes import HOST
from processes import check_alive
from processes import free_port
from processes import stop
from processes import wait_until_up
from sqlalchemy import select

from liveblog import accounts
from liveblog import blogs
from liveblog import desks
from liveblog.db import Database
from liveblog.models import Blog
from liveblog.themes import THEMES_DIR
from liveblog.themes import Themes

SLUG = "bench-fanout"
EDITOR = "editor@liveblog.invalid"
PG_DATABASE = "liveblog_bench"
TARGET_P99_MS = 500.0
# SQLite WAL mode: a read transaction takes one of the read-mark locks, bytes 123-127 of
# the -shm file (WALINDEX_LOCK_OFFSET 120 + WAL_READ_LOCK(0..4)), with fcntl(F_SETLK).
ENTRY_ID = re.compile(rb'"entry_id": ?(\d+)')
WAL_READ_LOCK = re.compile(r"F_RDLCK.*l_start=12[3-7], l_len=1")


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# Data


def prepare(url: str) -> str:
    """Migrate ``url``, create a live blog, an admin, an editor on the blog's desk; return
    the editor's token."""
    database = Database(url)
    database.upgrade()
    themes = Themes(THEMES_DIR)
    session = database.sessions()
    try:
        admin = accounts.create_user(session, "admin@liveblog.invalid", "admin", None, "Admin")
        blog = {
            "slug": SLUG,
            "title": "Fan-out benchmark",
            "standfirst": "Entries published while thousands of readers listen.",
            "status": "live",
            "timezone": "Europe/London",
        }
        blogs.create_blog(session, themes, blog, admin)
        editor = accounts.create_user(session, EDITOR, "editor", None, "Bench editor")
        desks.add_member(session, admin, SLUG, {"user": editor.id, "role": "editor"})
        return accounts.create_token(session, editor, "fan-out benchmark")
    finally:
        session.close()
        database.engine.dispose()


def last_seq(url: str) -> int:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            return int(connection.scalar(select(Blog.last_seq).where(Blog.slug == SLUG)))
    finally:
        database.engine.dispose()


def pg_admin(base: str) -> str:
    """A libpq URL for the ``postgres`` maintenance database of the server at ``base``."""
    return base.replace("postgresql+psycopg://", "postgresql://", 1) + "/postgres"


def pg_create(base: str) -> None:
    import psycopg

    with psycopg.connect(pg_admin(base), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {PG_DATABASE}")


def pg_drop(base: str) -> None:
    import psycopg

    with psycopg.connect(pg_admin(base), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


# Server


def server_pids(master: int) -> list[int]:
    """The gunicorn master and its workers (its child processes)."""
    pids = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry))
    return pids


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) if found else 0
    return total


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# Readers: each client process holds its share of the streams in one asyncio loop.


class RoundFailed(Exception):
    """The readers could not be served; the next backend may still run."""


class Stream:
    """One reader, as a browser's EventSource is: when its connection closes, it waits the
    ``retry:`` the server named and reconnects with ``Last-Event-ID``, so the server replays
    what it missed (and a fresh connection may deliver some events late, not never)."""

    def __init__(self, address: tuple[str, int], path: str) -> None:
        self.address, self.path = address, path
        self.entry_ids = array("q")
        self.times = array("d")
        self.last_id = -1
        self.retry = 3.0  # EventSource's default, until the server names its own
        self.out_of_order = 0
        self.reconnects = 0
        self.finished = False  # the round is over: a closed connection is not reopened
        self.given_up = False  # a reconnection failed
        self.error = ""
        self.connection: Reader | None = None
        self.reconnecting: asyncio.Task[None] | None = None

    async def open(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        host, port = self.address
        _, reader = await loop.create_connection(lambda: Reader(self), host, port)
        resume = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id >= 0 else ""
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Accept: text/event-stream\r\n{resume}\r\n"
        )
        assert reader.transport is not None
        reader.transport.write(request.encode())
        self.connection = reader
        try:
            await asyncio.wait_for(asyncio.shield(reader.opened), timeout)
        except TimeoutError:
            reader.transport.abort()
            raise

    def lost(self, why: str) -> None:
        """The stream's open connection closed: reconnect, unless the round is over."""
        if not self.finished:
            self.error = self.error or why
            self.reconnecting = asyncio.get_running_loop().create_task(self.reconnect())

    async def reconnect(self) -> None:
        self.reconnects += 1
        await asyncio.sleep(self.retry)
        if self.finished:
            return
        try:
            await self.open(30)
        except (OSError, TimeoutError) as error:  # EventSource, too, stops on a non-200
            self.given_up = True
            self.error = f"{self.error}; reconnecting: {error!r}"

    def close(self) -> None:
        self.finished = True
        if self.reconnecting is not None:
            self.reconnecting.cancel()
        if self.connection is not None and self.connection.transport is not None:
            self.connection.transport.abort()


class Reader(asyncio.Protocol):
    """One connection of a Stream: de-chunks the body, parses ``id:``, ``data:`` and
    ``retry:``, timestamps events."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.raw = bytearray()
        self.headers_done = False
        self.chunk_left = 0
        self.skip_crlf = False
        self.text = bytearray()
        self.ended = False
        self.failed = False  # not a stream (an error status): never reconnected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.raw += data
        if not self.headers_done:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.raw[:end]).decode("latin-1")
            del self.raw[: end + 4]
            self.headers_done = True
            if not head.startswith("HTTP/1.1 200") or "chunked" not in head.lower():
                self.fail(f"unexpected response: {head.splitlines()[0]}")
                return
        self.dechunk()
        self.parse(now)
        if self.ended and self.transport is not None:
            self.transport.close()

    def dechunk(self) -> None:
        raw = self.raw
        while raw:
            if self.skip_crlf:
                if len(raw) < 2:
                    return
                del raw[:2]
                self.skip_crlf = False
            if self.chunk_left == 0:
                end = raw.find(b"\r\n")
                if end < 0:
                    return
                size = int(bytes(raw[:end]).split(b";")[0], 16)
                del raw[: end + 2]
                if size == 0:
                    self.ended = True
                    return
                self.chunk_left = size
            take = min(self.chunk_left, len(raw))
            self.text += raw[:take]
            del raw[:take]
            self.chunk_left -= take
            if self.chunk_left == 0:
                self.skip_crlf = True

    def parse(self, now: float) -> None:
        stream = self.stream
        while True:
            end = self.text.find(b"\n\n")
            if end < 0:
                return
            block = bytes(self.text[:end])
            del self.text[: end + 2]
            seq, data = None, None
            for line in block.split(b"\n"):
                if line.startswith(b"id:"):
                    seq = int(line[3:])
                elif line.startswith(b"data:"):
                    data = line[5:]
                elif line.startswith(b"retry:"):
                    stream.retry = int(line[6:]) / 1000
                    if not self.opened.done():
                        self.opened.set_result(None)
            if seq is None or data is None:
                continue  # retry, keep-alive
            if seq <= stream.last_id:
                stream.out_of_order += 1
            stream.last_id = seq
            found = ENTRY_ID.search(data)  # cheaper than json.loads at 20,000 readers
            if found is not None:
                stream.entry_ids.append(int(found[1]))
                stream.times.append(now)

    def fail(self, message: str) -> None:
        self.failed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(message))
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        why = str(exc or "closed by the server")
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"{why} before the stream"))
        elif not self.failed and self.opened.exception() is None:
            self.stream.lost(why)


async def hold_readers(
    control: Connection, address: tuple[str, int], path: str, count: int
) -> None:
    loop = asyncio.get_running_loop()
    streams: list[Stream] = []
    failures: list[str] = []
    batch = 100

    async def opened(stream: Stream) -> Stream:
        await stream.open(30)
        return stream

    for low in range(0, count, batch):
        results = await asyncio.gather(
            *(opened(Stream(address, path)) for _ in range(min(batch, count - low))),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Stream):
                streams.append(result)
            else:
                failures.append(repr(result))
        if failures:  # the server is not keeping up: do not wait on every batch
            failures += ["not attempted"] * (count - low - min(batch, count - low))
            break
    control.send(("connected", len(streams), failures[:5], len(failures)))

    command, expected, timeout = await loop.run_in_executor(None, control.recv)
    assert command == "finish"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(s.entry_ids) >= expected or s.given_up for s in streams):
            break
        await asyncio.sleep(0.05)
    for stream in streams:
        stream.close()
    results = [
        (s.entry_ids.tobytes(), s.times.tobytes(), s.out_of_order, s.reconnects, s.error)
        for s in streams
    ]
    control.send(("results", results))


def reader_process(control: Connection, address: tuple[str, int], path: str, count: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    raise_nofile(count + 256)
    try:
        asyncio.run(hold_readers(control, address, path, count))
    except (EOFError, BrokenPipeError):
        pass  # the parent gave up on this round


# Measurements


def idle_queries_postgres(base: str, seconds: float) -> float:
    """Transactions/s in the bench database, read from another database (so not counted)."""
    import psycopg

    sql = (
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s"
    )  # fmt: skip
    with psycopg.connect(pg_admin(base), autocommit=True) as connection:
        connection.execute("SELECT pg_stat_force_next_flush()")
        before = connection.execute(sql, (PG_DATABASE,)).fetchone()[0]  # type: ignore[index]
        began = time.monotonic()
        time.sleep(seconds)
        # Backends flush their counters to shared memory within ~1 s of going idle.
        after = connection.execute(sql, (PG_DATABASE,)).fetchone()[0]  # type: ignore[index]
        return (after - before) / (time.monotonic() - began)


def idle_queries_sqlite(workers: list[int], seconds: float) -> float | None:
    """Read transactions/s of the workers: WAL read-mark locks taken, counted with strace."""
    strace = shutil.which("strace")
    if strace is None or not workers:
        return None
    out = Path(tempfile.mkstemp(prefix="liveblog-strace-")[1])
    command = [strace, "-f", "-qq", "-e", "trace=fcntl", "-o", str(out)]
    for pid in workers:
        command += ["-p", str(pid)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # let strace attach
        if process.poll() is not None:
            return None
        began = time.monotonic()
        start_size = out.stat().st_size
        time.sleep(seconds)
        elapsed = time.monotonic() - began
        with out.open() as lines:
            lines.seek(start_size)
            locks = sum(1 for line in lines if WAL_READ_LOCK.search(line))
        return locks / elapsed
    finally:
        process.send_signal(signal.SIGINT)  # strace detaches on SIGINT
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        out.unlink(missing_ok=True)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


# Benchmark


def publish(
    address: tuple[str, int], token: str, count: int, interval: float, label: str, slug: str = SLUG
) -> dict[int, float]:
    """POST ``count`` entries to ``slug``, one every ``interval`` s; the send time of each
    entry id."""
    sent: dict[int, float] = {}
    connection = http.client.HTTPConnection(*address, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    start = time.monotonic()
    try:
        for n in range(1, count + 1):
            delay = start + (n - 1) * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = {
                "headline": f"{label} update {n}",
                "body": f"Fan-out benchmark entry number {n} of {count}.",
            }
            sent_at = time.monotonic()
            connection.request("POST", f"/api/v1/blogs/{slug}/entries", json.dumps(body), headers)
            response = connection.getresponse()
            payload = response.read()
            if response.status != 201:
                raise SystemExit(f"Publishing entry {n} answered {response.status}: {payload!r}")
            sent[int(json.loads(payload)["id"])] = sent_at
    finally:
        connection.close()
    return sent


PerReader = tuple[array, array, int, int, str]
"""What one reader saw: entry ids, their arrival times, ids out of order, reconnections,
why its connection closed first."""


def start_readers(
    address: tuple[str, int], path: str, readers: int, args: argparse.Namespace
) -> list[tuple[multiprocessing.process.BaseProcess, Connection]]:
    """``readers`` streams of ``path`` at ``address``, held by client processes of
    ``args.per_process`` each; returns once all are open, or raises RoundFailed."""
    procs = max(1, math.ceil(readers / args.per_process))
    context = multiprocessing.get_context("spawn")
    clients: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    began = time.monotonic()
    try:
        for i in range(procs):
            share = readers // procs + (1 if i < readers % procs else 0)
            parent, child = context.Pipe()
            process = context.Process(
                target=reader_process, args=(child, address, path, share), daemon=True
            )
            process.start()
            clients.append((process, parent))
        connected, failed, examples = 0, 0, []
        for _, control in clients:
            if not control.poll(args.connect_timeout):
                raise RoundFailed("a reader process did not report its connections in time")
            _, ok, sample, bad = control.recv()
            connected, failed, examples = connected + ok, failed + bad, examples + sample
        print(
            f"  {connected:,} readers connected in {time.monotonic() - began:.1f}s "
            f"by {procs} client processes"
            + (f"; {failed} FAILED, e.g. {examples[:2]}" if failed else ""),
            flush=True,
        )
        if failed:
            raise RoundFailed(
                f"{failed:,} of {readers:,} readers got no stream within 30 s "
                f"(e.g. {examples[0]}); the server answered the others"
            )
    except BaseException:
        stop_readers(clients)
        raise
    return clients


def collect(
    clients: list[tuple[multiprocessing.process.BaseProcess, Connection]],
    expected: int,
    drain: float,
) -> list[PerReader]:
    """Tell the client processes to stop once each reader has ``expected`` entry events
    (``drain`` seconds at most); what every reader saw."""
    for _, control in clients:
        control.send(("finish", expected, drain))
    per_reader: list[PerReader] = []
    for _, control in clients:
        if not control.poll(drain + 60):
            raise SystemExit("A reader process did not send its results in time")
        _, results = control.recv()
        for ids_raw, times_raw, out_of_order, reconnects, error in results:
            ids, times = array("q"), array("d")
            ids.frombytes(ids_raw)
            times.frombytes(times_raw)
            per_reader.append((ids, times, out_of_order, reconnects, error))
    return per_reader


def stop_readers(clients: list[tuple[multiprocessing.process.BaseProcess, Connection]]) -> None:
    for process, control in clients:
        control.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def summarise(per_reader: list[PerReader], sent: dict[int, float]) -> dict:
    """Publish -> received latencies (ms) over every reader and event, and per reader the
    entries missed and duplicated against ``sent`` (entry id -> send time)."""
    latencies: list[float] = []
    missed = duplicated = extra = out_of_order_total = reconnects_total = 0
    closed: list[str] = []
    for ids, times, out_of_order, reconnects, error in per_reader:
        seen: dict[int, int] = {}
        for entry_id, received in zip(ids, times, strict=True):
            if entry_id not in sent:
                extra += 1
                continue
            seen[entry_id] = seen.get(entry_id, 0) + 1
            if seen[entry_id] == 1:
                latencies.append((received - sent[entry_id]) * 1000)
        missed += len(sent) - len(seen)
        duplicated += sum(n - 1 for n in seen.values())
        out_of_order_total += out_of_order
        reconnects_total += reconnects
        if error:
            closed.append(error)
    return {
        "events": len(latencies),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
        "missed": missed,
        "duplicated": duplicated,
        "extra": extra,
        "out_of_order": out_of_order_total,
        "reconnects": reconnects_total,
        "closed": len(closed),
        "closed_why": sorted(set(closed))[:5],
    }


def reconnections(result: dict) -> str:
    """What the summary says of streams the server closed, for a round's line."""
    if not result["closed"]:
        return ""
    return (
        f"; {result['closed']} streams closed by the server, reconnected "
        f"{result['reconnects']} times with Last-Event-ID (e.g. {result['closed_why'][:2]})"
    )


def run_round(
    backend: str, url: str, readers: int, work: Path, args: argparse.Namespace, token: str
) -> dict:
    port = free_port()
    instance = work / f"instance-{backend}-{readers}"
    instance.mkdir()
    env = {
        **os.environ,
        **({"PSYCOPG_WAIT_FUNC": args.psycopg_wait} if args.psycopg_wait else {}),
        "LIVEBLOG_DATABASE_URL": url,
        "LIVEBLOG_INSTANCE_PATH": str(instance),
        "LIVEBLOG_BASE_URL": f"http://{HOST}:{port}",
    }
    liveblog = Path(sys.executable).parent / "liveblog"
    command = [str(liveblog), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(args.workers), "--no-access-log"]
    log = work / f"server-{backend}-{readers}.log"
    origin = f"http://{HOST}:{port}"
    server = None
    clients: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        with log.open("wb") as errors:
            server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        wait_until_up(f"{origin}/{SLUG}/", server, log, timeout=60)
        for _ in range(10):  # warm both workers up
            if fetch(f"{origin}/{SLUG}/") != 200:
                raise SystemExit(f"The live page /{SLUG}/ did not answer 200")
        time.sleep(1)
        pids = server_pids(server.pid)
        if len(pids) != args.workers + 1:
            raise SystemExit(f"Expected {args.workers} workers, found {len(pids) - 1}")
        rss_before = rss_kb(pids)

        # Connect the readers.
        path = f"/{SLUG}/events?since={last_seq(url)}"
        clients = start_readers((HOST, port), path, readers, args)
        check_alive(server, log)
        connected_at = time.monotonic()

        # Idle: memory and database queries.
        time.sleep(args.settle)
        rss_with = rss_kb(server_pids(server.pid))
        if backend == "postgresql":
            # A backend that has just been busy flushes its counters up to 10 s later
            # (PGSTAT_IDLE_INTERVAL): start counting after the connections' queries are in.
            time.sleep(max(0.0, connected_at + 11 - time.monotonic()))
            qps = idle_queries_postgres(args.pg, args.idle)
            qps_note = "pg_stat_database"
        else:
            qps = idle_queries_sqlite(server_pids(server.pid)[1:], args.idle)
            qps_note = "strace"
        check_alive(server, log)

        # Publish and collect.
        sent = publish((HOST, port), token, args.entries, args.interval, f"{backend}/{readers}")
        check_alive(server, log)
        per_reader = collect(clients, args.entries, args.drain)
        check_alive(server, log)
    finally:
        stop_readers(clients)
        stop(server)

    result = {"backend": backend, "readers": readers, **summarise(per_reader, sent)}
    result |= {
        "rss_before_mb": rss_before / 1024,
        "rss_with_mb": rss_with / 1024,
        "kb_per_reader": (rss_with - rss_before) / readers,
        "qps": qps,
        "qps_note": qps_note,
    }
    print(
        f"  p50 {result['p50']:.0f} ms  p99 {result['p99']:.0f} ms  max {result['max']:.0f} ms  "
        f"missed {result['missed']}  duplicated {result['duplicated']}  "
        f"RSS {result['rss_before_mb']:.0f} -> {result['rss_with_mb']:.0f} MB "
        f"({result['kb_per_reader']:.1f} kB/reader)  idle queries/s "
        + (f"{qps:.2f} ({qps_note})" if qps is not None else "n/a")
        + reconnections(result),
        flush=True,
    )
    return result


def bench_backend(backend: str, work: Path, args: argparse.Namespace) -> list[dict]:
    if backend == "postgresql":
        url = f"{args.pg}/{PG_DATABASE}"
        try:
            pg_create(args.pg)
        except Exception as error:
            raise SystemExit(
                f"Cannot create the PostgreSQL database at {args.pg}: {error}"
            ) from None
    else:
        url = f"sqlite:///{work / 'fanout.sqlite'}"
    try:
        token = prepare(url)
        results = []
        for readers in args.readers:
            print(f"\n{backend}, {readers:,} readers:", flush=True)
            try:
                results.append(run_round(backend, url, readers, work, args, token))
            except RoundFailed as failure:
                print(f"  FAILED: {failure}; skipping the rest of {backend}", flush=True)
                results.append({"backend": backend, "readers": readers, "failed": str(failure)})
                break
        return results
    finally:
        if backend == "postgresql":
            pg_drop(args.pg)


def report(results: list[dict], args: argparse.Namespace) -> None:
    estimate = args.workers / args.poll_interval + args.workers / args.scheduler_interval
    print(
        "\n| backend | readers | events | p50 ms | p99 ms | max ms | missed | duplicated "
        "| RSS idle → with readers MB | kB / idle reader | idle DB queries/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if "failed" in r:
            print(f"| {r['backend']} | {r['readers']:,} | FAILED: {r['failed']} |||||||||")
            continue
        if r["qps"] is None:
            qps = f"~{estimate:.1f} (estimate)"
        elif r["backend"] == "sqlite":
            qps = f"{r['qps']:.1f} (strace; estimate {estimate:.1f})"
        else:
            qps = f"{r['qps']:.2f}"
        print(
            f"| {r['backend']} | {r['readers']:,} | {r['events']:,} | {r['p50']:.0f} | "
            f"{r['p99']:.0f} | {r['max']:.0f} | {r['missed']} | {r['duplicated']} | "
            f"{r['rss_before_mb']:.0f} → {r['rss_with_mb']:.0f} | {r['kb_per_reader']:.1f} | "
            f"{qps} |"
        )
    problems = [
        f"{r['backend']}/{r['readers']}: extra {r['extra']}, out of order {r['out_of_order']}, "
        f"streams closed {r['closed']} (reconnected {r['reconnects']} times)"
        for r in results
        if "failed" not in r and (r["extra"] or r["out_of_order"] or r["closed"])
    ]
    if problems:
        print("\nStream anomalies: " + "; ".join(problems))
    print(f"\np99 < {TARGET_P99_MS:.0f} ms at {max(args.readers):,} readers:")
    for r in results:
        if "failed" in r:
            print(f"  {r['backend']:<10} FAILED at {r['readers']:,} readers")
        elif r["readers"] == max(args.readers):
            ok = r["p99"] < TARGET_P99_MS and r["missed"] == 0 and r["duplicated"] == 0
            print(f"  {r['backend']:<10} p99 {r['p99']:.0f} ms  {'ok' if ok else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--readers",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[1000, 5000],
        help="comma-separated reader counts (default 1000,5000)",
    )
    parser.add_argument(
        "--backends",
        type=lambda s: s.split(","),
        default=["postgresql", "sqlite"],
        help="comma-separated: postgresql, sqlite",
    )
    parser.add_argument("--entries", type=int, default=100, help="entries published per round")
    parser.add_argument("--interval", type=float, default=0.15, help="seconds between entries")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--per-process", type=int, default=1250, help="readers per client process")
    parser.add_argument("--settle", type=float, default=3, help="seconds idle before measuring")
    parser.add_argument("--idle", type=float, default=10, help="seconds of idle query counting")
    parser.add_argument("--drain", type=float, default=15, help="most seconds to await events")
    parser.add_argument("--connect-timeout", type=float, default=180)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--psycopg-wait",
        metavar="FUNC",
        help="set PSYCOPG_WAIT_FUNC for the server (e.g. wait_select: see bench/README.md)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    # For the SQLite estimate: the server's defaults (LIVE_POLL_INTERVAL, SCHEDULER_INTERVAL).
    args.poll_interval = float(os.environ.get("LIVEBLOG_LIVE_POLL_INTERVAL") or 0.25)
    args.scheduler_interval = float(os.environ.get("LIVEBLOG_SCHEDULER_INTERVAL") or 2.0)

    limit = raise_nofile(max(args.readers) + 1024)
    if limit < max(args.readers) // args.workers + 256:
        raise SystemExit(f"The open-file limit is {limit}; raise the hard limit and run again.")
    work = Path(tempfile.mkdtemp(prefix="liveblog-fanout-"))
    print(
        f"Working in {work}; {args.entries} entries every {args.interval}s to "
        f"{', '.join(f'{n:,}' for n in args.readers)} readers; open-file limit {limit}"
    )
    try:
        results: list[dict] = []
        for backend in args.backends:
            results += bench_backend(backend, work, args)
        report(results, args)
    finally:
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
