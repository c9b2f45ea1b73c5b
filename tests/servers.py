"""Real servers for live-update tests: `liveblog serve` subprocesses, Pushpin in front of
them, and SSE readers.

Everything here is bounded: a server that does not come up, a stream that goes quiet
or a process that will not stop fails the test with its log instead of hanging it.
"""

import codecs
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import TypeVar

from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from liveblog import accounts
from liveblog import blogs
from liveblog import desks
from liveblog import store
from liveblog.db import Database
from liveblog.themes import Themes
from tests.support import ROOT
from tests.support import wait_until

HOST = "127.0.0.1"
LIVEBLOG = Path(sys.executable).with_name("liveblog")
_numbers = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# Server-Sent Events


def parse_event(block: str) -> dict[str, Any]:
    """One SSE block as {"id", "event", "data" (JSON-decoded), "retry", "comments"}."""
    parsed: dict[str, Any] = {"comments": []}
    data: list[str] = []
    for line in block.split("\n"):
        if line.startswith(":"):
            parsed["comments"].append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name in ("id", "event", "retry"):
            parsed[name] = value
    if data:
        parsed["data"] = json.loads("\n".join(data))
    return parsed


@dataclass
class Received:
    at: float
    id: int | None
    type: str
    data: dict[str, Any]


class SseReader:
    """One Server-Sent Events connection over a plain socket, read by a thread of its own.

    HTTP/1.1 with a chunked body, de-chunked by hand, so nothing buffers events on the way.
    """

    def __init__(
        self,
        port: int,
        path: str,
        last_event_id: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.port, self.path = port, path
        self.events: list[Received] = []
        self.comments = 0
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.retry: str | None = None
        self.ended = False
        self._finished = False  # the last, empty chunk has come
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._closing = False
        self.socket = socket.create_connection((HOST, port), timeout=5)
        self.socket.settimeout(0.25)
        request = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: text/event-stream"]
        if last_event_id is not None:
            request.append(f"Last-Event-ID: {last_event_id}")
        request += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.socket.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
        self.local_port = self.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._read, name=f"sse-{self.local_port}")
        self._thread.daemon = True
        self._thread.start()

    # Reading

    def _recv(self) -> bytes:
        while not self._closing:
            try:
                return self.socket.recv(65536)
            except TimeoutError:
                continue
        return b""

    def _read(self) -> None:
        raw = b""
        try:
            while b"\r\n\r\n" not in raw:
                chunk = self._recv()
                if not chunk:
                    return
                raw += chunk
            head, raw = raw.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            self.headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:])
            }
            chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
            decoder = codecs.getincrementaldecoder("utf-8")()
            text_buffer = ""
            while True:
                body, raw = self._dechunk(raw) if chunked else (raw, b"")
                text_buffer += decoder.decode(body)
                while "\n\n" in text_buffer:
                    block, text_buffer = text_buffer.split("\n\n", 1)
                    self._take(parse_event(block))
                if raw == b"" and chunked and self._finished:
                    return
                chunk = self._recv()
                if not chunk:
                    return
                raw += chunk
        except OSError as error:
            if not self._closing:
                self.error = error
        except Exception as error:  # a malformed response: the test reports it
            self.error = error
        finally:
            with self._changed:
                self.ended = True
                self._changed.notify_all()

    def _dechunk(self, raw: bytes) -> tuple[bytes, bytes]:
        """The complete chunks' bytes at the start of ``raw``, and what is left over."""
        body = b""
        while b"\r\n" in raw:
            size_line, rest = raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                break
            if size == 0:
                self._finished = True
                return body, b""
            body += rest[:size]
            raw = rest[size + 2 :]
        return body, raw

    def _take(self, parsed: dict[str, Any]) -> None:
        with self._changed:
            if "event" in parsed or "data" in parsed:
                self.events.append(
                    Received(
                        time.monotonic(),
                        int(parsed["id"]) if "id" in parsed else None,
                        parsed.get("event", "message"),
                        parsed.get("data", {}),
                    )
                )
            elif parsed["comments"]:
                self.comments += 1
            elif "retry" in parsed:
                self.retry = parsed["retry"]
            self._changed.notify_all()

    # Asking

    def ids(self) -> list[int]:
        with self._changed:
            return [event.id for event in self.events if event.id is not None]

    def wait_for(self, check: Callable[["SseReader"], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.ended:
                    return check(self)
                self._changed.wait(remaining)
            return True

    def wait_for_seq(self, seq: int, timeout: float) -> bool:
        return self.wait_for(lambda reader: max(reader.ids(), default=0) >= seq, timeout)

    def arrival(self, seq: int) -> float | None:
        with self._changed:
            return next((event.at for event in self.events if event.id == seq), None)

    def close(self) -> None:
        self._closing = True
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        self._thread.join(2)


# The production server


@dataclass
class Server:
    """`liveblog serve` (gunicorn, gevent workers) in a process group of its own."""

    database_url: str
    workdir: Path
    workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    command: Path = LIVEBLOG  # the `liveblog` executable: this checkout's, or an installed one
    wrapper: tuple[str, ...] = ()  # what runs it, e.g. setpriv with fewer capabilities
    access_log: bool = False  # gunicorn's access log, into the server's log
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = Path()

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            name: value for name, value in os.environ.items() if not name.startswith("LIVEBLOG_")
        }
        env.update(
            LIVEBLOG_DATABASE_URL=self.database_url,
            LIVEBLOG_INSTANCE_PATH=str(self.workdir / "instance"),
            LIVEBLOG_MEDIA_PATH=str(self.workdir / "media"),
            LIVEBLOG_SECRET_KEY="test",
            LIVEBLOG_SCHEDULER_INTERVAL="0",
            LIVEBLOG_EMBED_LOOKUP_INTERVAL="0",
            LIVEBLOG_LIVE_POLL_INTERVAL="0.1",
            # Streams of readers that went away end at the next keep-alive, so a graceful
            # stop does not wait for gunicorn's graceful timeout.
            LIVEBLOG_LIVE_HEARTBEAT="0.2",
            # gunicorn's control socket: one per server, not one per user shared by all.
            XDG_RUNTIME_DIR=str(self.workdir),
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 20) -> None:
        assert self.process is None or self.process.poll() is not None
        self.log_path = self.workdir / f"server-{next(_numbers)}.log"
        command = [
            *self.wrapper,
            str(self.command),
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        command += ["--workers", str(self.workers)]
        command.append("--access-log" if self.access_log else "--no-access-log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                start_new_session=True,
            )
        try:
            wait_until(self._up, timeout, "the server did not come up", interval=0.05)
        except AssertionError as failure:
            self.kill()
            raise AssertionError(f"{failure}:\n{self.log()}") from None

    def _up(self) -> bool:
        """Whether every worker has started and the server answers; fails if it exited."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError("the server exited")
        return len(self.worker_pids()) == self.workers and self._answers()

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.origin}/", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def requests_for(self, target: str) -> int:
        """How many GETs of ``target`` (path and query) the access log holds so far."""
        return self.log().count(f'"GET {target} HTTP/1.')

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (gunicorn's graceful stop) and wait; SIGKILL the group if that fails."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the server did not stop in {timeout} s:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL the server's process group (master and workers) and reap the master."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def worker_of(self, reader: SseReader) -> int | None:
        """The worker pid holding the server end of ``reader``'s connection (from /proc)."""
        wanted = f"{_hex_address(HOST, self.port)} {_hex_address(HOST, reader.local_port)}"
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            columns = line.split()
            if f"{columns[1]} {columns[2]}" == wanted:
                inode = columns[9]
        if inode is None:
            return None
        for pid in self.worker_pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        return None

    def api(self, token: str, method: str, path: str, body: Any = None, **headers: str) -> Any:
        """Call the editor API; returns the JSON body, fails with the problem if not 2xx."""
        request = urllib.request.Request(
            self.origin + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            | headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from None
        return json.loads(raw) if raw else None


def _hex_address(host: str, port: int) -> str:
    """An IPv4 address as /proc/net/tcp writes it: little-endian hex address, hex port."""
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"


S = TypeVar("S", "Server", "Pushpin")


@contextmanager
def running(server: S) -> Iterator[S]:
    """Start ``server``; whatever happens, its processes are all gone afterwards."""
    try:
        server.start()
        yield server
    finally:
        server.kill()


# Pushpin in front of a server

PUSHPIN_CONFIG = ROOT / "deploy" / "pushpin"
PUBLISH_PORT = 5561  # push_in_http_port in deploy/pushpin/pushpin.conf, before port_offset
HANDLER_PORTS = (5560, 5561, 5562, 5563)  # every port the handler binds, before port_offset


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


class PortTaken(AssertionError):
    """A process exited at start-up because a port probed free was taken meanwhile."""


# What Pushpin's processes and zurl write when a port they bind is taken (the handler
# writes only "unable to bind to tcp://…"), in lower case.
PORT_TAKEN_SIGNS = ("address already in use", "address in use", "unable to bind")


def free_port_offset() -> int:
    """A port_offset that puts every port of Pushpin's handler on a free port."""
    for _ in range(50):
        offset = free_port() - PUBLISH_PORT
        if offset > 0 and all(_is_free(port + offset) for port in HANDLER_PORTS):
            return offset
    raise AssertionError("found no free ports for Pushpin's handler")


# How many connections each IPC socket that Pushpin's processes bind gets once they are
# all wired together (condure's are shared by the proxy and the handler); a message sent
# on one before then is lost: a held request would fail, or its client be cut off.
IPC_PEERS = {"pushpin-condure-in": 2, "pushpin-condure-out-stream": 2}
IPC_UNREAD = {"pushpin-stats", "zurl-req"}  # nothing of Pushpin's connects to these


def _wired(rundir: Path) -> bool:
    """Whether every IPC socket under ``rundir`` has all its connections (from /proc)."""
    bound: set[str] = set()
    connected: dict[str, int] = {}
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        columns = line.split()
        if len(columns) != 8 or not columns[7].startswith(f"{rundir}/"):
            continue
        name = Path(columns[7]).name
        if columns[5] == "01":
            bound.add(name)
        elif columns[5] == "03":
            connected[name] = connected.get(name, 0) + 1
    return bool(bound) and all(
        connected.get(name, 0) >= IPC_PEERS.get(name, 1) for name in bound - IPC_UNREAD
    )


def shipped(name: str, replacements: dict[str, str]) -> str:
    """deploy/pushpin/``name`` with each key replaced by its value. Every key must be there:
    otherwise the shipped file and the one tested have drifted apart."""
    text = (PUSHPIN_CONFIG / name).read_text()
    for old, new in replacements.items():
        assert old in text, f"deploy/pushpin/{name} no longer has {old!r}"
        text = text.replace(old, new)
    return text


@dataclass
class Pushpin:
    """Pushpin and zurl, run with deploy/pushpin/ as shipped but for the ports, the paths
    and sig_key, in front of the server on ``origin_port``."""

    origin_port: int
    key: str
    workdir: Path
    port: int = field(default_factory=free_port)
    offset: int = field(default_factory=free_port_offset)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    rundir: Path | None = None

    def __post_init__(self) -> None:
        self._choose_ports()

    def _choose_ports(self) -> None:
        # Free ports are only probed, not held: none may be the origin's, not yet listening.
        while len({self.origin_port, self.port, *self._handler_ports()}) < 6:
            self.port, self.offset = free_port(), free_port_offset()

    def _handler_ports(self) -> list[int]:
        return [port + self.offset for port in HANDLER_PORTS]

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def publish_url(self) -> str:
        return f"http://{HOST}:{PUBLISH_PORT + self.offset}/"

    def start(self, timeout: float = 20, attempts: int = 3) -> None:
        """Start zurl and Pushpin; if one exits at once (a probed port was taken in the
        meantime, by a test running in parallel), again on other ports."""
        for attempt in range(1, attempts + 1):
            try:
                self._start(timeout)
                return
            except PortTaken:
                if attempt == attempts:
                    raise
                self.port, self.offset = free_port(), free_port_offset()
                self._choose_ports()

    def _start(self, timeout: float) -> None:
        # IPC socket paths must fit in 107 bytes: not under pytest's long tmp_path.
        self.rundir = Path(tempfile.mkdtemp(prefix="pp-", dir="/tmp"))
        zurl_ipc = self.rundir / "zurl"
        zurl_ipc.mkdir()
        config = self.workdir / "pushpin"
        config.mkdir(exist_ok=True)
        (config / "pushpin.conf").write_text(
            shipped(
                "pushpin.conf",
                {
                    "rundir=/var/run/pushpin": f"rundir={self.rundir}",
                    "logdir=/var/log/pushpin": f"logdir={self.workdir}",
                    "/var/run/zurl/": f"{zurl_ipc}/",
                    "http_port=127.0.0.1:7999": f"http_port={HOST}:{self.port}",
                    "port_offset=0": f"port_offset={self.offset}",
                    "sig_key=CHANGE-ME": f"sig_key={self.key}",
                },
            )
        )
        (config / "routes").write_text(
            shipped("routes", {"127.0.0.1:8000": f"{HOST}:{self.origin_port}"})
        )
        (config / "zurl.conf").write_text(shipped("zurl.conf", {"/var/run/zurl/": f"{zurl_ipc}/"}))
        self._spawn("zurl", ["zurl", f"--config={config / 'zurl.conf'}"])
        self._spawn("pushpin", ["pushpin", "--config", str(config / "pushpin.conf"), "-m"])
        try:
            wait_until(self._up, timeout, "Pushpin did not come up", interval=0.05)
        except PortTaken:
            self.kill()
            raise
        except AssertionError as failure:
            self.kill()
            raise AssertionError(f"{failure}:\n{self.log()}") from None

    def _spawn(self, name: str, command: list[str]) -> None:
        with open(self.workdir / f"{name}.log", "wb") as log:
            self.processes.append(
                subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.workdir,
                    start_new_session=True,
                )
            )

    def _up(self) -> bool:
        """Whether Pushpin's processes are wired together, the origin answers through
        Pushpin (and so through zurl), and the handler takes publishes; fails if a process
        exited."""
        for process in self.processes:
            if process.poll() is not None:
                log = self.log() + "".join(
                    path.read_text(errors="replace") for path in self.workdir.glob("pushpin-*.log")
                )
                if any(sign in log.lower() for sign in PORT_TAKEN_SIGNS):
                    raise PortTaken(f"{process.args[0]} exited: a port was taken")
                raise AssertionError(f"{process.args[0]} exited")
        assert self.rundir is not None
        if not _wired(self.rundir):
            return False
        try:
            with urllib.request.urlopen(f"{self.origin}/", timeout=2) as response:
                answered = response.status == 200
            with socket.create_connection((HOST, PUBLISH_PORT + self.offset), timeout=1):
                return answered
        except (OSError, urllib.error.URLError):
            return False

    def log(self) -> str:
        return "\n".join(
            f"--- {name}:\n{(self.workdir / f'{name}.log').read_text(errors='replace')}"
            for name in ("zurl", "pushpin")
            if (self.workdir / f"{name}.log").exists()
        )

    def kill(self) -> None:
        """Stop every process group (SIGTERM, then SIGKILL) and remove the IPC sockets."""
        for process in self.processes:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.processes.clear()
        if self.rundir is not None:
            shutil.rmtree(self.rundir, ignore_errors=True)


def streams_on_every_worker(
    server: Server, path: str, per_worker: int = 2, timeout: float = 10, **options: Any
) -> list[SseReader]:
    """Exactly ``per_worker`` SSE readers on each worker of ``server``.

    The kernel hands each connection to whichever worker accepts first (and a worker
    still starting accepts none): readers landing on a worker that has enough are closed
    and tried again.
    """
    readers: list[SseReader] = []
    by_worker: dict[int, int] = dict.fromkeys(server.worker_pids(), 0)

    def placed() -> bool:
        """Open one more reader; keep it if its worker has too few. Whether all have enough."""
        reader = SseReader(server.port, path, **options)
        assert reader.wait_for(lambda r: r.retry is not None, 5), "no retry line"
        worker = wait_until(
            lambda: server.worker_of(reader), message="no worker holds the stream's connection"
        )
        assert worker in by_worker, f"stream served by {worker}, not a worker of {by_worker}"
        if by_worker[worker] < per_worker:
            by_worker[worker] += 1
            readers.append(reader)
        else:
            reader.close()
        return min(by_worker.values()) >= per_worker

    try:
        wait_until(
            placed, timeout, lambda: f"streams landed on workers {by_worker} only", interval=0.02
        )
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    return readers


# Databases


@dataclass
class Deployment:
    """A database with a live blog, an editor on its desk and an admin with API tokens."""

    url: str
    slug: str
    editor_token: str
    admin_token: str
    editor_id: int
    themes: Themes = field(default_factory=Themes)

    @contextmanager
    def session(self) -> Iterator[Any]:
        database = Database(self.url)
        try:
            with database.sessions() as session:
                yield session
        finally:
            database.engine.dispose()

    def last_seq(self) -> int:
        with self.session() as session:
            return store.get_blog(session, self.slug).last_seq

    def changes(self) -> list[tuple[int, str, int | None]]:
        with self.session() as session:
            blog = store.get_blog(session, self.slug)
            return [(c.seq, c.kind, c.entry_id) for c in store.changes_since(session, blog, 0)]


def prepare(url: str, slug: str = "hama") -> Deployment:
    """Set up a migrated database through the use cases, as an admin would."""
    database = Database(url)
    try:
        with database.sessions() as session:
            admin = accounts.create_user(session, "admin@news.example", "admin", None, "Admin")
            editor = accounts.create_user(session, "desk@news.example", "editor", None, "Desk")
            blogs.create_blog(
                session, Themes(), {"slug": slug, "title": "Hama", "status": "live"}, admin
            )
            desks.add_member(session, admin, slug, {"user": editor.id, "role": "editor"})
            return Deployment(
                url,
                slug,
                editor_token=accounts.create_token(session, editor, "live tests"),
                admin_token=accounts.create_token(session, admin, "live tests"),
                editor_id=editor.id,
            )
    finally:
        database.engine.dispose()


class PostgresDatabases:
    """Databases of their own for server processes, copied from one migrated template."""

    def __init__(self, base_url: str) -> None:
        self.server = make_url(base_url)
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.template = f"{self.server.database}_srvtpl_{os.getpid()}"
        self._drop(self.template)
        self._run(f'CREATE DATABASE "{self.template}"')
        database = Database(self._url(self.template))
        database.upgrade()
        database.engine.dispose()

    def _url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _run(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))

    def _drop(self, name: str) -> None:
        self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def fresh(self) -> Iterator[str]:
        name = f"{self.server.database}_srv_{os.getpid()}_{next(_numbers)}"
        assert re.fullmatch(r"\w+", name)
        self._run(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        try:
            yield self._url(name)
        finally:
            self._drop(name)

    def close(self) -> None:
        self._drop(self.template)
        self.admin.dispose()
