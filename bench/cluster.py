"""Beyond one machine, on one machine: two app hosts, an edge and a data host, measured.

Builds a real topology with network namespaces (``ip netns``), each host with its own
address on one bridge (which lives in a namespace of its own, so nothing touches the
machine's own network):

* ``data`` (10.77.0.2): a PostgreSQL of its own (Debian's binaries, ``initdb`` into a
  temporary folder) and Redis;
* ``app1``, ``app2`` (10.77.0.11, .12): ``liveblog serve`` (2 gevent workers each) on the
  shared database, Redis spreading "seq moved", publishing to Pushpin and purging nginx;
* ``edge`` (10.77.0.20): nginx with deploy/nginx/ (upstream: both app hosts) and two
  Pushpins with deploy/pushpin/ (routes: nginx's server for Pushpin, in front of both
  app hosts; a zurl each), which share the readers: one Pushpin would need more open
  files than this machine allows a process (20,000);
* ``readers`` (10.77.0.30): this script, its reader processes, wrk.

Then measures, one run each (figures in bench/README.md):

1. fan-out through Pushpin at each ``--readers`` count: publish -> received p50, p99, max,
   missed and duplicated, and the streams the server closed (each reader reconnects with
   Last-Event-ID, as EventSource does); the app hosts' CPU seconds per published entry
   (and the edge's, by program, the readers' and the data host's); the TCP connections
   the app hosts hold while every reader waits, and the requests they get while the
   readers sit through ``--quiet`` seconds of no news;
2. pages through the front: req/s of the live page, its 304, a permalink with a map and
   each feed, in identity and in brotli (as browsers ask), against the same bytes served
   by the same nginx as static files (with the front's open_file_cache, and without), and
   nginx's cache alone (one look-up, in identity);
   origin requests per URL after one change;
3. bytes on the wire: identity, gzip and brotli for the same pages;
4. removal: from a DELETE to the last front or worker serving the removed text;
5. failover: with readers connected and an entry published every 100 ms, ``kill -9`` of
   every process of one app host right after it committed an entry it could not publish:
   what readers missed, the gap in publishing, the longest a reader heard nothing, how
   long that entry took to reach them all; each refused save is sent again with its
   Idempotency-Key, as the composer does, and no entry may be published twice.

Run as root from the repository root: ``.venv/bin/python bench/cluster.py`` (about
20 minutes; ``--help`` for the options). Needs ip, nginx with its brotli filter and Lua
modules, pushpin, zurl, condure (``make test-tools``), Debian's postgresql and
redis-server, and wrk (installed with apt-get if missing). Everything is torn down at the
end, on failure too.
"""

import argparse
import base64
import ctypes
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import fanout
from readers import ensure_tools
from readers import wrk

ROOT = Path(__file__).resolve().parent.parent
LIVEBLOG = Path(sys.executable).parent / "liveblog"
NET = "10.77.0"
HOSTS = {"data": 2, "app1": 11, "app2": 12, "edge": 20, "readers": 30}
APPS = ("app1", "app2")
# The rest of the machine's work per entry: the readers' processes (and this script, which
# publishes), the database and Redis.
OTHER_HOSTS = ("readers", "data")
PREFIX = "lbc-"
SWITCH = f"{PREFIX}switch"
APP_PORT = 8000
FRONT_PORT = 80
STATIC_PORT = 8088
CACHE_ALONE_PORT = 8089
PLAIN_STATIC_PORT = 8090
PURGE_PORT = 8081
PUSHPIN_ORIGIN = "127.0.0.1:8082"  # deploy/nginx/liveblog.conf: nginx's server for Pushpin
PUBLISH_PORT = 5561  # deploy/pushpin/pushpin.conf's, before port_offset
STREAM_PORT = 7999  # the same
PUSHPIN_PORT_STEP = 100
FAILOVER_ATTEMPTS = 3  # an entry's saves in the failover, the first and two more
SLUG = "syria-hama-offensive"  # the demo blog
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/nonexistent"))
NGINX_MODULES = tuple(
    Path("/usr/lib/nginx/modules") / name
    for name in ("ngx_http_brotli_filter_module.so", "ndk_http_module.so", "ngx_http_lua_module.so")
)
CLONE_NEWNET = 0x40000000


def address(host: str) -> str:
    return f"{NET}.{HOSTS[host]}"


EDGE = (address("edge"), FRONT_PORT)


# Hosts


@dataclass
class Cluster:
    """The namespaces, their processes and the temporary folder; ``teardown`` undoes all."""

    work: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def build(self) -> None:
        for stale in subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True, check=True
        ).stdout.split("\n"):
            if stale.startswith(PREFIX):
                remove_namespace(stale.split()[0])
        self.add_namespace(SWITCH)
        self.ip("-n", SWITCH, "link", "add", "br0", "type", "bridge")
        self.ip("-n", SWITCH, "link", "set", "br0", "up")
        for host in HOSTS:
            namespace = PREFIX + host
            self.add_namespace(namespace)
            self.ip("-n", SWITCH, *f"link add {host} type veth peer eth0 netns {namespace}".split())
            self.ip("-n", SWITCH, "link", "set", host, "master", "br0", "up")
            self.ip("-n", namespace, "addr", "add", f"{address(host)}/24", "dev", "eth0")
            self.ip("-n", namespace, "link", "set", "eth0", "up")
            self.ip("-n", namespace, "link", "set", "lo", "up")

    def add_namespace(self, name: str) -> None:
        self.ip("netns", "add", name)
        self.namespaces.append(name)

    def spawn(
        self, host: str, name: str, command: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """``command`` run on ``host``, in a session of its own, its output in ``name``.log."""
        with (self.work / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                ["ip", "netns", "exec", PREFIX + host, *command],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.work,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def run(
        self, host: str, command: list[str], env: dict[str, str] | None = None, stdin: str = ""
    ) -> str:
        done = subprocess.run(
            ["ip", "netns", "exec", PREFIX + host, *command],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.work,
            timeout=120,
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} on {host} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def teardown(self) -> None:
        for process in reversed(self.processes):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(10)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for namespace in reversed(self.namespaces):
            remove_namespace(namespace)


def remove_namespace(namespace: str) -> None:
    """Kill whatever still runs in ``namespace``, then delete it (and its veths)."""
    pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    for pid in {int(pid) for pid in pids.stdout.split()} - {os.getpid()}:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def enter(namespace: str) -> None:
    """Move this process (single-threaded yet) into ``namespace``: every socket it opens
    from now on, and every process it starts, is on that host."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/var/run/netns/{namespace}") as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {namespace} failed")


def wait_for(what: str, ready, timeout: float, log: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up within {timeout:.0f}s\n{log}")


def answers(host: str, port: int, path: str = "/") -> bool:
    try:
        status, _, _ = get((host, port), path)
        return status < 500
    except OSError:
        return False


def get(
    where: tuple[str, int], path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*where, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def api(
    method: str,
    path: str,
    token: str,
    body: dict | None = None,
    headers: dict | None = None,
    host: tuple[str, int] = EDGE,
) -> tuple[int, dict[str, str], dict]:
    connection = http.client.HTTPConnection(*host, timeout=30)
    try:
        sent = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request(method, path, json.dumps(body) if body else None, sent | (headers or {}))
        response = connection.getresponse()
        payload = response.read()
        json_answer = "json" in (response.getheader("Content-Type") or "")
        decoded = json.loads(payload) if json_answer else {"text": payload[:200]}
        return response.status, {k.lower(): v for k, v in response.getheaders()}, decoded
    finally:
        connection.close()


# Services


def start_data(cluster: Cluster) -> None:
    """PostgreSQL (as the postgres user: it refuses root) and Redis on the data host."""
    data = cluster.work / "pg"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), *"-A trust -U postgres --no-sync".split()]
    cluster.run("data", [*as_postgres, *initdb])
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {NET}.0/24 trust\n")
    settings = [f"listen_addresses={address('data')}", f"unix_socket_directories={data}"]
    settings += ["max_connections=200", "shared_buffers=256MB"]
    options = [option for setting in settings for option in ("-c", setting)]
    cluster.spawn(
        "data", "postgres", [*as_postgres, str(PG_BIN / "postgres"), "-D", str(data), *options]
    )
    redis = ["redis-server", "--bind", address("data"), "--port", "6379", "--save", ""]
    cluster.spawn("data", "redis", [*redis, *"--appendonly no --protected-mode no".split()])
    ready = ["ip", "netns", "exec", f"{PREFIX}data", str(PG_BIN / "pg_isready"), "-q"]
    wait_for(
        "PostgreSQL",
        lambda: subprocess.run([*ready, "-h", address("data")]).returncode == 0,
        30,
        cluster.log("postgres"),
    )
    psql = [str(PG_BIN / "psql"), "-q", "-h", address("data"), "-U", "postgres"]
    cluster.run("data", [*psql, "-c", "CREATE DATABASE liveblog"])


def app_env(
    cluster: Cluster, host: str, grip_key: str, secret: str, pushpins: int
) -> dict[str, str]:
    instance = cluster.work / host
    publish = [f"http://{address('edge')}:{pushpin_ports(i)[1]}/" for i in range(pushpins)]
    instance.mkdir(exist_ok=True)
    return {
        **os.environ,
        "LIVEBLOG_DATABASE_URL": f"postgresql+psycopg://postgres@{address('data')}:5432/liveblog",
        "LIVEBLOG_REDIS_URL": f"redis://{address('data')}:6379/0",
        "LIVEBLOG_GRIP_URL": " ".join(publish),
        "LIVEBLOG_GRIP_KEY": grip_key,
        "LIVEBLOG_PURGE_URLS": f"http://{address('edge')}:{PURGE_PORT}/purge",
        "LIVEBLOG_BASE_URL": f"http://{address('edge')}",
        "LIVEBLOG_SECRET_KEY": secret,
        "LIVEBLOG_INSTANCE_PATH": str(instance),
        "LIVEBLOG_MEDIA_PATH": str(cluster.work / "media"),  # shared storage, as on real hosts
        "LIVEBLOG_TRUSTED_PROXIES": "1",
    }


def start_apps(cluster: Cluster, grip_key: str, pushpins: int) -> str:
    """Migrate, load the demo blog, start both app hosts; the demo desk's API token."""
    secret = secrets.token_urlsafe(32)
    envs = {host: app_env(cluster, host, grip_key, secret, pushpins) for host in APPS}
    cluster.run("app1", [str(LIVEBLOG), "db", "upgrade"], envs["app1"])
    printed = cluster.run("app1", [str(LIVEBLOG), "demo"], envs["app1"])
    token = printed.strip().rsplit(": ", 1)[-1]
    for host in APPS:
        command = [str(LIVEBLOG), "serve", "--host", address(host), "--port", str(APP_PORT)]
        cluster.spawn(host, host, [*command, "--workers", "2"], envs[host])
    for host in APPS:
        wait_for(
            host, lambda h=host: answers(address(h), APP_PORT, f"/{SLUG}/"), 60, cluster.log(host)
        )
    return token


def shipped(folder: str, name: str, replacements: dict[str, str]) -> str:
    text = (ROOT / "deploy" / folder / name).read_text()
    for old, new in replacements.items():
        if old not in text:
            raise SystemExit(f"deploy/{folder}/{name} no longer has {old!r}")
        text = text.replace(old, new)
    return text


def pushpin_ports(instance: int) -> tuple[int, int]:
    """Where Pushpin ``instance`` takes readers (from nginx) and publishes (from the apps):
    the shipped ports, shifted (port_offset moves the publish port, not http_port)."""
    offset = PUSHPIN_PORT_STEP * instance
    return STREAM_PORT + offset, PUBLISH_PORT + offset


def start_pushpin(cluster: Cluster, instance: int, grip_key: str) -> None:
    """Pushpin ``instance`` on the edge, with a zurl of its own, both as shipped but for
    ports, paths, key and the app hosts they reach."""
    run = cluster.work / f"run{instance}"  # IPC paths must fit in 107 bytes
    (run / "zurl").mkdir(parents=True)
    config = cluster.work / f"pushpin{instance}"
    config.mkdir()
    stream_port, _ = pushpin_ports(instance)
    (config / "pushpin.conf").write_text(
        shipped(
            "pushpin",
            "pushpin.conf",
            {
                "rundir=/var/run/pushpin": f"rundir={run}",
                "logdir=/var/log/pushpin": f"logdir={config}",
                "/var/run/zurl/": f"{run}/zurl/",
                "port_offset=0": f"port_offset={PUSHPIN_PORT_STEP * instance}",
                "http_port=127.0.0.1:7999": f"http_port=127.0.0.1:{stream_port}",  # no offset
                "push_in_http_addr=127.0.0.1": f"push_in_http_addr={address('edge')}",
                "sig_key=CHANGE-ME": f"sig_key={grip_key}",
            },
        )
    )
    # Through the edge's nginx, which spreads Pushpin's requests over the app hosts and
    # passes over a dead one (deploy/nginx/liveblog.conf).
    (config / "routes").write_text(shipped("pushpin", "routes", {"127.0.0.1:8000": PUSHPIN_ORIGIN}))
    (config / "zurl.conf").write_text(
        shipped("pushpin", "zurl.conf", {"/var/run/zurl/": f"{run}/zurl/"})
    )
    cluster.spawn("edge", f"zurl{instance}", ["zurl", f"--config={config / 'zurl.conf'}"])
    command = ["pushpin", "--config", str(config / "pushpin.conf")]
    cluster.spawn("edge", f"pushpin{instance}", command)


def start_edge(cluster: Cluster, grip_key: str, pushpins: int) -> None:
    edge = address("edge")
    for instance in range(pushpins):
        start_pushpin(cluster, instance, grip_key)
    apps = [f"{address(host)}:{APP_PORT}" for host in APPS]
    prefix = cluster.work / "nginx"
    conf = prefix / "conf"
    shutil.copytree(ROOT / "deploy" / "nginx", conf / "liveblog")
    for folder in ("logs", "cache", "temp", "static"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    main = conf / "liveblog" / "liveblog.conf"
    main.write_text(
        shipped(
            "nginx",
            "liveblog.conf",
            {
                "listen 80;": f"listen {edge}:{FRONT_PORT} backlog=65535;",
                "listen 127.0.0.1:8081;": f"listen {edge}:{PURGE_PORT};",
                "server 127.0.0.1:8000;": " ".join(f"server {app};" for app in apps),
                "server 127.0.0.1:7999;": " ".join(
                    f"server 127.0.0.1:{pushpin_ports(i)[0]};" for i in range(pushpins)
                ),
                "/var/cache/nginx/liveblog": str(prefix / "cache"),
            },
        )
    )
    (conf / "liveblog" / "purgers.conf").write_text(
        "".join(f"allow {address(host)};\n" for host in APPS) + "deny all;\n"
    )
    temp = prefix / "temp"
    # As many open files as a process may have here: asking for more draws an alert from
    # every worker, and gets no more.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    open_files = 200_000 if hard == resource.RLIM_INFINITY else hard
    (conf / "nginx.conf").write_text(
        "\n".join(
            [
                *(f"load_module {module};" for module in NGINX_MODULES),
                "user root;",
                "pcre_jit on;",  # as README.md's "Behind nginx" asks
                "worker_processes 4;",  # each worker's sockets within the open-file limit
                f"worker_rlimit_nofile {open_files};",
                f"pid {prefix / 'logs' / 'nginx.pid'};",
                f"error_log {prefix / 'logs' / 'error.log'} warn;",
                "events { worker_connections 60000; }",
                "http {",
                "    access_log off;",
                "    sendfile on;",  # as a distribution's nginx.conf has it
                "    tcp_nopush on;",
                *(
                    f"    {kind}_temp_path {temp / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                ),
                "    include liveblog/liveblog.conf;",
                # The same bytes as static files, served by the same workers: the yardstick.
                # With the front's open_file_cache, which spares each of them an open(),
                # and without (as a distribution's nginx.conf has it).
                f"    server {{ listen {edge}:{STATIC_PORT}; root {prefix / 'static'};",
                "        open_file_cache max=10000 inactive=60s; }",
                f"    server {{ listen {edge}:{PLAIN_STATIC_PORT}; root {prefix / 'static'}; }}",
                # nginx's cache alone: one look-up, no seq, no encodings, kept for an hour
                # (with open_file_cache, as the front).
                f"    server {{ listen {edge}:{CACHE_ALONE_PORT};",
                "        open_file_cache max=10000 inactive=60s; location / {",
                "        proxy_pass http://liveblog_app; proxy_http_version 1.1;",
                '        proxy_set_header Connection ""; proxy_set_header Host $host;',
                '        proxy_set_header Accept-Encoding ""; proxy_cache liveblog;',
                '        proxy_cache_key "alone $request_uri"; proxy_cache_valid 200 1h;',
                "        proxy_ignore_headers Cache-Control Expires Vary; } }",
                "}",
            ]
        )
        + "\n"
    )
    cluster.spawn(
        "edge",
        "nginx",
        ["nginx", "-p", str(prefix), "-c", str(conf / "nginx.conf"), "-g", "daemon off;"],
    )
    wait_for(
        "nginx and Pushpin",
        lambda: (
            answers(edge, FRONT_PORT, f"/{SLUG}/")
            and all(answers(edge, pushpin_ports(i)[1]) for i in range(pushpins))
        ),
        30,
        cluster.log("nginx") + "".join(cluster.log(f"pushpin{i}") for i in range(pushpins)),
    )
    time.sleep(1)  # Pushpin's processes wire their IPC sockets together


# Measurements


def namespace_pids(host: str) -> list[int]:
    listed = subprocess.run(["ip", "netns", "pids", PREFIX + host], capture_output=True, text=True)
    return [int(pid) for pid in listed.stdout.split()]


def cpu_seconds(hosts: tuple[str, ...]) -> float:
    """User and system CPU of every process now on ``hosts``."""
    return sum(sum(cpu_by_program(host).values()) for host in hosts)


def cpu_by_program(host: str) -> dict[str, float]:
    """User and system CPU of the processes now on ``host`` (from /proc/<pid>/stat), by
    program name (nginx, pushpin-handler, condure, zurl…)."""
    ticks: dict[str, int] = {}
    for pid in namespace_pids(host):
        try:
            name, rest = Path(f"/proc/{pid}/stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except FileNotFoundError:
            continue
        fields = rest.split()
        ticks[name] = ticks.get(name, 0) + int(fields[11]) + int(fields[12])  # utime, stime
    return {name: spent / os.sysconf("SC_CLK_TCK") for name, spent in ticks.items()}


def established(host: str, port: int) -> int:
    """TCP connections established to ``port`` on ``host``."""
    listed = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            PREFIX + host,
            "ss",
            "-Htn",
            "state",
            "established",
            f"( sport = :{port} )",
        ],
        capture_output=True,
        text=True,
    )
    return len(listed.stdout.splitlines())


def current_seq() -> int:
    _, headers, _ = get(EDGE, f"/{SLUG}/seq")
    return int(headers["liveblog-seq"])


def fan_out(token: str, readers: int, args: argparse.Namespace) -> dict:
    print(f"\nfan-out, {readers:,} readers through nginx and Pushpin:", flush=True)
    clients = fanout.start_readers(EDGE, f"/{SLUG}/events?since={current_seq()}", readers, args)
    try:
        time.sleep(args.settle)
        held = sum(established(host, APP_PORT) for host in APPS)
        asked_while_quiet = requests_while_quiet(args)
        app_before, edge_before = cpu_seconds(APPS), cpu_by_program("edge")
        others_before = {host: cpu_seconds((host,)) for host in OTHER_HOSTS}
        sent = fanout.publish(EDGE, token, args.entries, args.interval, f"cluster/{readers}", SLUG)
        per_reader = fanout.collect(clients, args.entries, args.drain)
        app_cpu = (cpu_seconds(APPS) - app_before) / args.entries
        edge_after = cpu_by_program("edge")
        others = {
            host: (cpu_seconds((host,)) - before) / args.entries
            for host, before in others_before.items()
        }
    finally:
        fanout.stop_readers(clients)
    edge_programs = {
        name: (spent - edge_before.get(name, 0)) / args.entries
        for name, spent in edge_after.items()
    }
    edge_cpu = sum(edge_programs.values())
    result = {"readers": readers, **fanout.summarise(per_reader, sent)}
    result |= {"app_cpu": app_cpu, "edge_cpu": edge_cpu, "edge_programs": edge_programs}
    result |= {"other_hosts_cpu": others, "app_connections": held}
    result |= {"quiet_seconds": args.quiet, "app_requests_while_quiet": asked_while_quiet}
    print(
        f"  p50 {result['p50']:.0f} ms  p99 {result['p99']:.0f} ms  max {result['max']:.0f} ms  "
        f"missed {result['missed']}  duplicated {result['duplicated']}  "
        f"app CPU {app_cpu * 1000:.1f} ms/entry  edge CPU {edge_cpu * 1000:.1f} ms/entry ("
        + ", ".join(
            f"{name} {spent * 1000:.1f}"
            for name, spent in sorted(edge_programs.items(), key=lambda item: -item[1])
            if spent >= 0.0005
        )
        + ")  "
        + "".join(f"{host} CPU {spent * 1000:.1f} ms/entry  " for host, spent in others.items())
        + f"app connections while readers wait: {held}, "
        f"app requests in {args.quiet:.0f} quiet seconds: {asked_while_quiet}"
        + fanout.reconnections(result),
        flush=True,
    )
    return result


def requests_while_quiet(args: argparse.Namespace) -> int:
    """The requests reaching the app hosts (their access logs) while every reader holds its
    stream and nothing is published for ``args.quiet`` seconds: a quiet blog's cost."""
    marks = {host: len(cluster_log_lines(args.work, host)) for host in APPS}
    time.sleep(args.quiet)
    return sum(
        '"GET ' in line
        for host in APPS
        for line in cluster_log_lines(args.work, host)[marks[host] :]
    )


def page_paths(token: str) -> dict[str, str]:
    """The pages measured: the live page, a permalink with a map (the demo's, under however
    many entries the fan-out rounds published), each feed."""
    path: str | None = f"/api/v1/blogs/{SLUG}/entries?limit=100"
    mapped = None
    while mapped is None and path:
        status, _, listing = api("GET", path, token)
        if status != 200:
            raise SystemExit(f"Listing the demo's entries answered {status}")
        mapped = next(
            (
                entry["id"]
                for entry in listing["items"]
                if any(block["type"] == "map" for block in entry["blocks"])
            ),
            None,
        )
        path = listing["next"]
    if mapped is None:
        raise SystemExit("The demo blog has no entry with a map")
    return {
        "live": f"/{SLUG}/",
        "permalink (map)": f"/{SLUG}/updates/{mapped}",
        "atom": f"/{SLUG}/feed.atom",
        "rss": f"/{SLUG}/feed.rss",
        "json feed": f"/{SLUG}/feed.json",
    }


def through_front(paths: dict[str, str], token: str, args: argparse.Namespace) -> dict:
    """Each URL through the front, as asked without compression and as browsers ask
    (brotli), against the same bytes served by the same nginx as a static file (with the
    front's open_file_cache, and without), and (in identity) by nginx's cache alone, a
    location with one look-up and none of the front's keys or encodings."""
    print("\npages through the front, against the same bytes as static files:", flush=True)
    static = args.work / "nginx" / "static"
    results: dict[str, dict] = {}
    for name, path in paths.items():
        results[name] = {}
        for coding, asked in (("identity", {}), ("br", {"Accept-Encoding": "gzip, deflate, br"})):
            status, headers, body = get(EDGE, path, asked)
            if status != 200 or headers.get("content-encoding", "identity") != coding:
                raise SystemExit(f"{path} answered {status} {headers} through the front")
            file = re.sub(r"\W+", "-", f"{name} {coding}")
            (static / file).write_bytes(body)
            runs = {"front": wrk(f"http://{EDGE[0]}{path}", args, asked)}
            runs["static"] = wrk(f"http://{EDGE[0]}:{STATIC_PORT}/{file}", args)
            runs["plain static"] = wrk(f"http://{EDGE[0]}:{PLAIN_STATIC_PORT}/{file}", args)
            if coding == "identity":
                runs["cache alone"] = wrk(f"http://{EDGE[0]}:{CACHE_ALONE_PORT}{path}", args)
            if name == "live":
                etag = {"If-None-Match": headers["etag"], **asked}
                runs["front 304"] = wrk(f"http://{EDGE[0]}{path}", args, etag)
            results[name][coding] = runs
            share = 100 * runs["front"]["rps"] / runs["static"]["rps"]
            print(
                f"  {name:16} {coding:8} front {runs['front']['rps']:>9,.0f} req/s  static "
                f"{runs['static']['rps']:>9,.0f} req/s  ({share:.0f}%)  without open_file_cache "
                f"{runs['plain static']['rps']:>9,.0f} req/s"
                + (
                    f"  nginx's cache alone {runs['cache alone']['rps']:,.0f} req/s"
                    if "cache alone" in runs
                    else ""
                )
                + (f"  304 {runs['front 304']['rps']:,.0f} req/s" if "front 304" in runs else ""),
                flush=True,
            )
    return results


def origin_requests(paths: dict[str, str], token: str, args: argparse.Namespace) -> dict:
    """After one published entry, readers hammer each URL through the front: the requests
    for it that reach the app hosts (their access logs), renders (200) and revalidations
    of an expired copy (304) apart."""
    marks = {host: len(cluster_log_lines(args.work, host)) for host in APPS}
    status, _, _ = api("POST", f"/api/v1/blogs/{SLUG}/entries", token, {"body": "One change."})
    if status != 201:
        raise SystemExit(f"Publishing answered {status}")
    time.sleep(args.seq_maxage)
    short = argparse.Namespace(**{**vars(args), "duration": 3, "warmup": 1})
    for path in paths.values():
        wrk(f"http://{EDGE[0]}{path}", short)
    time.sleep(0.5)
    lines = [line for host in APPS for line in cluster_log_lines(args.work, host)[marks[host] :]]
    counts = {
        name: {
            code: sum(f'"GET {path} HTTP/1.1" {code} ' in line for line in lines)
            for code in (200, 304)
        }
        for name, path in paths.items()
    }
    print("\norigin requests per URL after one change, readers asking through the front:")
    for name, count in counts.items():
        print(f"  {name:16} rendered {count[200]}  revalidated {count[304]}")
    return counts


def cluster_log_lines(work: Path, host: str) -> list[str]:
    return (work / f"{host}.log").read_text(errors="replace").splitlines()


def wire_bytes(paths: dict[str, str]) -> dict:
    print("\nbytes on the wire through the front:")
    results = {}
    for name, path in paths.items():
        sizes = {}
        for coding in ("identity", "gzip", "br"):
            _, headers, body = get(EDGE, path, {"Accept-Encoding": coding})
            if coding != "identity" and headers.get("content-encoding") != coding:
                raise SystemExit(f"{path} came back without {coding}: {headers}")
            sizes[coding] = len(body)
        results[name] = sizes
        print(
            f"  {name:16} identity {sizes['identity']:>8,}  gzip {sizes['gzip']:>7,} "
            f"({100 * sizes['gzip'] / sizes['identity']:.0f}%)  brotli {sizes['br']:>7,} "
            f"({100 * sizes['br'] / sizes['identity']:.0f}%)"
        )
    return results


def removal(token: str) -> dict:
    """DELETE an entry seen everywhere; when the last front or worker stops serving it."""
    marker = f"Removal check {secrets.token_hex(4)}"
    status, _, entry = api("POST", f"/api/v1/blogs/{SLUG}/entries", token, {"body": marker})
    if status != 201:
        raise SystemExit(f"Publishing answered {status}")
    targets = {
        f"{where} {kind}": (place, path)
        for where, place in {"front": EDGE, **{h: (address(h), APP_PORT) for h in APPS}}.items()
        for kind, path in {
            "live": f"/{SLUG}/",
            "atom": f"/{SLUG}/feed.atom",
            "permalink": f"/{SLUG}/updates/{entry['id']}",
        }.items()
    }
    deadline = time.monotonic() + 10
    while not all(
        marker.encode() in get(*target)[2] for target in targets.values() for _ in range(4)
    ):
        if time.monotonic() > deadline:
            raise SystemExit("The new entry did not reach every front and worker within 10 s")
        time.sleep(0.1)
    _, headers, _ = api("GET", f"/api/v1/blogs/{SLUG}/entries/{entry['id']}", token)
    began = time.monotonic()
    status, _, _ = api(
        "DELETE",
        f"/api/v1/blogs/{SLUG}/entries/{entry['id']}",
        token,
        headers={"If-Match": headers["etag"]},
    )
    if status not in (200, 204):
        raise SystemExit(f"DELETE answered {status}")
    gone: dict[str, float] = {}  # target -> seconds from the DELETE to its first clean read
    clean_since: dict[str, float] = {}
    clean_reads = dict.fromkeys(targets, 0)
    while len(gone) < len(targets) and time.monotonic() - began < 10:
        for name, target in targets.items():
            if name in gone:
                continue
            if marker.encode() in get(*target)[2]:
                clean_reads[name] = 0
                continue
            clean_reads[name] += 1
            if clean_reads[name] == 1:
                clean_since[name] = time.monotonic()
            if clean_reads[name] >= 8:  # every worker behind it, more than once
                gone[name] = clean_since[name] - began
    last = max(gone.values(), default=float("nan"))
    missing = [name for name in targets if name not in gone]
    print(
        f"\nremoval: the last front or worker stopped serving the text {last * 1000:.0f} ms after the DELETE"
        + (f"; STILL SERVED by {missing}" if missing else "")
    )
    return {"last_ms": last * 1000, "still_served": missing}


def failover_entries(token: str) -> list[tuple[int, int]]:
    """(entry id, n) of every "Failover n." entry the blog holds."""
    _, _, page = api("GET", f"/api/v1/blogs/{SLUG}/entries?limit=200", token)
    return [
        (int(entry["id"]), int(number.group(1)))
        for entry in page["items"]
        if (number := re.search(r"Failover (\d+)\.", entry["html"]))
    ]


def failover(cluster: Cluster, token: str, args: argparse.Namespace) -> dict:
    print(
        f"\nfailover: {args.failover_readers:,} readers, an entry every 100 ms, app1 killed "
        "right after committing one it could not publish:",
        flush=True,
    )
    clients = fanout.start_readers(
        EDGE, f"/{SLUG}/events?since={current_seq()}", args.failover_readers, args
    )
    sent: dict[int, float] = {}
    attempted: dict[int, float] = {}
    failures: list[str] = []
    successes: list[float] = []
    killed_at = 0.0
    unpublished: dict[int, float] = {}
    try:

        def killer() -> None:
            """app1 dies between a commit and its publish: cut from the edge (so its
            publish goes nowhere), asked for an entry, killed once it answers, then
            reconnected (so the edge hears a closed port, as from a dead host)."""
            nonlocal killed_at
            time.sleep(args.failover_seconds / 3)
            blackhole = ["blackhole", f"{address('edge')}/32"]
            cluster.ip("-n", PREFIX + "app1", "route", "add", *blackhole)
            sent_at = time.monotonic()
            status, _, entry = api(
                "POST",
                f"/api/v1/blogs/{SLUG}/entries",
                token,
                {"body": "Failover, never published."},
                host=(address("app1"), APP_PORT),
            )
            if status == 201:
                unpublished[int(entry["id"])] = sent_at
            killed_at = time.monotonic()
            for pid in namespace_pids("app1"):
                os.kill(pid, signal.SIGKILL)
            cluster.ip("-n", PREFIX + "app1", "route", "del", *blackhole)

        thread = threading.Thread(target=killer)
        thread.start()
        began = time.monotonic()
        n = 0
        while time.monotonic() - began < args.failover_seconds:
            n += 1
            sent_at = attempted[n] = time.monotonic()
            # As the editor's composer does: a save that failed is sent again at once, with
            # the same Idempotency-Key.
            key = {"Idempotency-Key": f"failover-{n}"}
            for _attempt in range(FAILOVER_ATTEMPTS):
                try:
                    status, _, entry = api(
                        "POST",
                        f"/api/v1/blogs/{SLUG}/entries",
                        token,
                        {"body": f"Failover {n}."},
                        key,
                    )
                except OSError as error:
                    failures.append(repr(error))
                    continue
                if status == 201:
                    sent[int(entry["id"])] = sent_at
                    successes.append(time.monotonic())
                    break
                failures.append(f"{status}")
            time.sleep(max(0.0, sent_at + 0.1 - time.monotonic()))
        thread.join()
        if not unpublished:
            raise SystemExit("app1 did not take the entry it was to leave unpublished")
        stored = failover_entries(token)
        numbers = [number for _, number in stored]
        twice = len(numbers) - len(set(numbers))
        unconfirmed = {
            entry_id: attempted[number] for entry_id, number in stored if entry_id not in sent
        }
        sent |= unconfirmed | unpublished
        per_reader = fanout.collect(clients, len(sent), args.drain)
    finally:
        fanout.stop_readers(clients)
    after_kill = [t for t in successes if t >= killed_at]
    before_kill = [t for t in successes if t < killed_at]
    gap = (after_kill[0] - before_kill[-1]) if after_kill and before_kill else float("nan")
    silence = max(
        (
            max(b - a for a, b in zip(times, times[1:], strict=False))
            for _, times, *_ in per_reader
            if len(times) > 1
        ),
        default=float("nan"),
    )
    [(unpublished_id, unpublished_at)] = unpublished.items()
    unpublished_late = max(
        (
            received - unpublished_at
            for ids, times, *_ in per_reader
            for entry_id, received in zip(ids, times, strict=True)
            if entry_id == unpublished_id
        ),
        default=float("nan"),
    )
    result = {
        **fanout.summarise(per_reader, sent),
        "published": len(sent),
        "failed": failures,
        "committed_unconfirmed": len(unconfirmed),
        "published_twice": twice,
        "unpublished_reached_all_s": unpublished_late,
        "gap_s": gap,
        "reader_silence_s": silence,
    }
    print(
        f"  published {len(sent)}, refused {len(failures)} {failures[:3]} (each sent again "
        f"with its Idempotency-Key; published twice: {twice}; committed, never confirmed: "
        f"{len(unconfirmed)}); longest gap between "
        f"published entries around the kill {gap:.2f} s; readers missed {result['missed']}, "
        f"duplicated {result['duplicated']}; p99 {result['p99']:.0f} ms, max {result['max']:.0f} ms; "
        f"longest a reader heard nothing {silence:.2f} s; the entry app1 never published "
        f"reached the last reader {unpublished_late:.2f} s after it was posted"
        + fanout.reconnections(result),
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--readers", type=lambda s: [int(n) for n in s.split(",")], default=[1000, 5000, 20000]
    )
    parser.add_argument(
        "--entries", type=int, default=50, help="entries published per fan-out round"
    )
    parser.add_argument("--interval", type=float, default=0.3, help="seconds between those entries")
    parser.add_argument("--per-process", type=int, default=2500, help="readers per client process")
    parser.add_argument(
        "--connect-timeout", type=float, default=900, help="most seconds for all readers to connect"
    )
    parser.add_argument("--settle", type=float, default=3)
    parser.add_argument(
        "--quiet",
        type=float,
        default=130,
        help="seconds of each round with readers connected and nothing published",
    )
    parser.add_argument("--drain", type=float, default=30)
    parser.add_argument(
        "--pushpins", type=int, default=2, help="Pushpin instances on the edge (each holds a share)"
    )
    parser.add_argument("--failover-readers", type=int, default=1000)
    parser.add_argument("--failover-seconds", type=float, default=12)
    parser.add_argument(
        "--seq-maxage", type=float, default=2, help="wait for the front's seq copy to expire"
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("Run as root: the hosts are network namespaces.")
    ensure_tools()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by every host
    args.work = Path(tempfile.mkdtemp(prefix="lbc-", dir="/tmp"))
    args.work.chmod(0o755)  # PostgreSQL runs as postgres
    cluster = Cluster(args.work)
    report: dict = {}
    try:
        cluster.build()
        enter(PREFIX + "readers")
        grip_key = base64.b64encode(secrets.token_bytes(48)).decode()
        start_data(cluster)
        token = start_apps(cluster, grip_key, args.pushpins)
        start_edge(cluster, grip_key, args.pushpins)
        report["fan_out"] = []
        for readers in args.readers:
            try:
                report["fan_out"].append(fan_out(token, readers, args))
            except fanout.RoundFailed as failure:
                print(f"  FAILED: {failure}", flush=True)
                report["fan_out"].append({"readers": readers, "failed": str(failure)})
        paths = page_paths(token)
        report["front"] = through_front(paths, token, args)
        report["origin"] = origin_requests(paths, token, args)
        report["bytes"] = wire_bytes(paths)
        report["removal"] = removal(token)
        report["failover"] = failover(cluster, token, args)
        (args.work / "report.json").write_text(json.dumps(report, indent=2))
    finally:
        cluster.teardown()
        if args.keep:
            print(f"\nkept {args.work}")
        else:
            shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
