"""Reader-side load benchmark: does serving a live blog cost the same at 100 and 100,000 entries?

For live blogs of 100, 10,000 and 100,000 published entries (SQLite), run the production
server (``liveblog serve``, gunicorn, 2 workers) and measure with ``wrk``:

* ``live``      the live page ``/<slug>/`` (200);
* ``live-304``  the same page revalidated with ``If-None-Match`` (304);
* ``permalink`` ``/<slug>/updates/<id>`` of an entry in the middle of the blog;
* ``deep``      ``/<slug>/?before=<cursor>``, an older-updates page 90% of the way back.

Each is measured twice: ``rendered``, with the page cache off, so every request goes
through Flask and the database (and every 200 is rendered afresh), and ``cached``, as
deployed, where the page cache answers from memory until the blog changes. Then nginx
serves the live page's bytes as a static file, as a yardstick. Prints req/s, p50 and p99
latency per endpoint and size, the req/s ratio 100 / 100,000 entries per endpoint (target
<= 1.2) and the cached live page's req/s, 200 and 304, as a share of nginx's (target >= 25%).

Run from the repository root: ``.venv/bin/python bench/readers.py`` (as root if wrk or
nginx must be installed with apt-get). Everything listens on 127.0.0.1 only; every process
started here is stopped before the script exits.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from processes import HOST
from processes import free_port
from processes import stop
from processes import wait_until_up
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from liveblog import accounts
from liveblog import blogs
from liveblog import publishing
from liveblog.db import Database
from liveblog.models import Blog
from liveblog.models import Change
from liveblog.models import Entry
from liveblog.store import encode_cursor
from liveblog.themes import THEMES_DIR
from liveblog.themes import Themes

SIZES = (100, 10_000, 100_000)
FEED_SIZE = 1_000
SLUG = "bench-live"
BATCH = 5_000
# The same number of key events in every blog, so each live page renders the same list.
KEY_EVENTS = 10
PAGE_SIZE = 20  # LIVEBLOG_READER_PAGE_SIZE's default
ENDPOINTS = ("live", "live-304", "permalink", "deep")
MODES = {"rendered": {"LIVEBLOG_PAGE_CACHE_SIZE": "0"}, "cached": {}}
BODY = """\
Rebel forces say they have reached the outskirts of the town after a night of shelling;
**the claim could not be independently verified**. Residents reached by phone describe
queues at the last bakery still open and [a convoy](https://example.org/convoy) heading north.

> "We have not slept," one said. "Nobody knows which road is still open."

The United Nations has called for a pause in the fighting to let aid through.
"""


# Tools


def ensure_tools() -> None:
    """Install wrk and nginx from Debian if they are missing (needs root)."""
    missing = [tool for tool in ("wrk", "nginx") if not _which(tool)]
    if not missing:
        return
    packages = ["wrk" if tool == "wrk" else "nginx-light" for tool in missing]
    print(f"Installing {' '.join(packages)} with apt-get ...", flush=True)
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=True)
        if subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            # nginx-light is not in every release; plain nginx is.
            command[-len(packages) :] = [p.replace("nginx-light", "nginx") for p in packages]
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    still = [tool for tool in ("wrk", "nginx") if not _which(tool)]
    if still:
        raise SystemExit(f"Could not install {', '.join(still)}; install them and run again.")


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin")


# Data


def build_database(path: Path, size: int) -> dict[str, str]:
    """A SQLite file holding one live blog of ``size`` published entries; returns the paths."""
    url = f"sqlite:///{path}"
    database = Database(url)
    database.upgrade()
    themes = Themes(THEMES_DIR)
    session = database.sessions()
    try:
        user = accounts.create_user(session, "bench@liveblog.invalid", "admin", None, "Bench desk")
        blog_data = {
            "slug": SLUG,
            "title": f"Benchmark live blog with {size:,} updates",
            "standfirst": "Synthetic entries for measuring the reader endpoints.",
            "status": "live",
            "timezone": "Europe/London",
        }
        blog = blogs.create_blog(session, themes, blog_data, user)
        start = (datetime.now(UTC) - timedelta(minutes=size + 5)).replace(second=0, microsecond=0)
        first = publishing.create_entry(
            session,
            themes,
            SLUG,
            {"headline": "Update 1", "body": BODY, "published_at": start.isoformat()},
            user,
        )
        blog_id, author_id, blocks, html = blog.id, user.id, first.blocks, first.html
        seq = blog.last_seq
    finally:
        session.close()

    with database.engine.begin() as connection:
        for low in range(1, size, BATCH):
            rows = []
            for n in range(low, min(low + BATCH, size)):
                moment = start + timedelta(minutes=n)
                rows.append(
                    {
                        "blog_id": blog_id,
                        "author_id": author_id,
                        "headline": f"Update {n + 1}",
                        "blocks": blocks,
                        "html": html,
                        "status": "published",
                        "published_at": moment,
                        "pinned": False,
                        "key_event": n % (size // KEY_EVENTS) == 0,
                        "version": 1,
                        "created_at": moment,
                        "updated_at": moment,
                    }
                )
            connection.execute(insert(Entry), rows)
        # One entry.published change per bulk entry, as the use case would have logged.
        ids = connection.scalars(
            select(Entry.id)
            .where(Entry.blog_id == blog_id, Entry.id != first.id)
            .order_by(Entry.id)
        ).all()
        now = datetime.now(UTC)
        changes = [
            {"blog_id": blog_id, "seq": seq + i, "kind": "entry.published", "entry_id": entry_id}
            for i, entry_id in enumerate(ids, start=1)
        ]
        for low in range(0, len(changes), BATCH):
            connection.execute(
                insert(Change), [{**c, "created_at": now} for c in changes[low : low + BATCH]]
            )
        connection.execute(
            update(Blog).where(Blog.id == blog_id).values(last_seq=seq + len(ids), changed_at=now)
        )
        middle_id = connection.scalar(
            select(Entry.id).order_by(Entry.published_at, Entry.id).offset(size // 2).limit(1)
        )
        # 90% of the way back, but with a full page (and an "older" link) after it in every
        # blog: a shorter page would flatter the small blog.
        deep = connection.execute(
            select(Entry.published_at, Entry.id)
            .order_by(Entry.published_at.desc(), Entry.id.desc())
            .offset(min(int(size * 0.9), size - 2 * PAGE_SIZE))
            .limit(1)
        ).one()
    database.engine.dispose()
    return {
        "live": f"/{SLUG}/",
        "permalink": f"/{SLUG}/updates/{middle_id}",
        "deep": f"/{SLUG}/?before={encode_cursor(deep.published_at, deep.id)}",
    }


# Processes


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # 304 and errors land here
        return error.code, dict(error.headers), error.read()


# wrk

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(url: str, args: argparse.Namespace, headers: dict[str, str] | None = None) -> dict:
    """Requests/sec, p50 and p99 (ms) of ``url``, after a short warm-up."""
    header_args = [
        part for name, value in (headers or {}).items() for part in ("-H", f"{name}: {value}")
    ]
    base = ["wrk", f"-t{args.threads}", f"-c{args.connections}", "--timeout", "5s", *header_args]
    subprocess.run(
        [*base, f"-d{args.warmup}s", url], stdout=subprocess.DEVNULL, timeout=args.warmup + 30
    )
    out = subprocess.run(
        [*base, f"-d{args.duration}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=args.duration + 30,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise SystemExit(f"Could not read wrk's output:\n{out}")
    result = {"rps": float(rps.group(1)), "errors": 0}
    for pct in ("50", "99"):
        found = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        result[f"p{pct}"] = float(found.group(1)) * UNITS[found.group(2)] if found else float("nan")
    for pattern in (r"Non-2xx or 3xx responses:\s+(\d+)", r"Socket errors:.*"):
        found = re.search(pattern, out)
        if found:
            numbers = [int(n) for n in re.findall(r"\d+", found.group(0))]
            result["errors"] += sum(numbers)
    return result


# Benchmarks


def bench_size(size: int, work: Path, args: argparse.Namespace) -> tuple[dict, bytes]:
    db_path = work / f"blog-{size}.sqlite"
    began = time.monotonic()
    paths = build_database(db_path, size)
    mb = db_path.stat().st_size / 1e6
    print(f"\n{size:,} entries: database built in {time.monotonic() - began:.1f}s ({mb:.0f} MB)")

    results: dict[str, dict] = {}
    body = b""
    for mode, env in MODES.items():
        print(f"  {mode}:")
        results[mode] = {}
        with running_server(work, db_path, f"{size}-{mode}", paths["live"], args, env) as origin:
            status, headers, body = fetch(origin + paths["live"])
            etag = headers["ETag"]
            status_304, _, _ = fetch(origin + paths["live"], {"If-None-Match": etag})
            if status != 200 or status_304 != 304:
                raise SystemExit(
                    f"Expected 200 then 304 from the live page, got {status}, {status_304}"
                )
            for name in ("permalink", "deep"):
                code, _, _ = fetch(origin + paths[name])
                if code != 200:
                    raise SystemExit(f"{paths[name]} answered {code}")
            plan = {
                "live": (paths["live"], None),
                "live-304": (paths["live"], {"If-None-Match": etag}),
                "permalink": (paths["permalink"], None),
                "deep": (paths["deep"], None),
            }
            for name, (path, extra) in plan.items():
                results[mode][name] = measure(name, origin + path, args, extra)
    return results, body


@contextmanager
def running_server(
    work: Path,
    db_path: Path,
    name: str,
    probe: str,
    args: argparse.Namespace,
    settings: dict[str, str] | None = None,
) -> Iterator[str]:
    """``liveblog serve`` on ``db_path`` with ``settings``, answering on ``probe``; yields
    its origin."""
    port = free_port()
    instance = work / f"instance-{name}"
    instance.mkdir()
    env = {
        **os.environ,
        "LIVEBLOG_DATABASE_URL": f"sqlite:///{db_path}",
        "LIVEBLOG_INSTANCE_PATH": str(instance),
        "LIVEBLOG_SCHEDULER_INTERVAL": "0",
        "LIVEBLOG_BASE_URL": f"http://{HOST}:{port}",
        **(settings or {}),
    }
    liveblog = Path(sys.executable).parent / "liveblog"
    command = [str(liveblog), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(args.workers), "--no-access-log"]
    log = work / f"server-{name}.log"
    server = None
    try:
        with log.open("wb") as errors:
            server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        origin = f"http://{HOST}:{port}"
        wait_until_up(origin + probe, server, log, timeout=60)
        yield origin
    finally:
        stop(server)


def measure(name: str, url: str, args: argparse.Namespace, headers: dict[str, str] | None) -> dict:
    """wrk on ``url``, printed as it goes."""
    result = wrk(url, args, headers)
    note = f"  ({result['errors']} errors)" if result["errors"] else ""
    print(
        f"    {name:<10} {result['rps']:>9,.0f} req/s  p50 {result['p50']:7.2f} ms  "
        f"p99 {result['p99']:7.2f} ms{note}",
        flush=True,
    )
    return result


def bench_feeds(work: Path, args: argparse.Namespace) -> dict[str, dict]:
    """Each feed of a FEED_SIZE-entry blog: a full response, and a 304 revalidation."""
    db_path = work / "feeds.sqlite"
    build_database(db_path, FEED_SIZE)
    print(f"\nfeeds of a {FEED_SIZE:,}-entry blog:")
    results: dict[str, dict] = {}
    with running_server(work, db_path, "feeds", f"/{SLUG}/feed.atom", args) as origin:
        for fmt in ("atom", "rss", "json"):
            url = f"{origin}/{SLUG}/feed.{fmt}"
            status, headers, _ = fetch(url)
            status_304, _, _ = fetch(url, {"If-None-Match": headers["ETag"]})
            if status != 200 or status_304 != 304:
                raise SystemExit(f"Expected 200 then 304 from {url}, got {status}, {status_304}")
            results[f"{fmt}"] = measure(fmt, url, args, None)
            results[f"{fmt}-304"] = measure(
                f"{fmt}-304", url, args, {"If-None-Match": headers["ETag"]}
            )
    return results


def bench_nginx(body: bytes, args: argparse.Namespace) -> dict:
    """nginx serving ``body`` as a static file, with the same wrk settings."""
    root = Path(tempfile.mkdtemp(prefix="liveblog-nginx-"))
    process = None
    try:
        root.chmod(0o755)  # nginx's workers run as nobody when started by root
        (root / "html").mkdir(mode=0o755)
        page = root / "html" / "live.html"
        page.write_bytes(body)
        page.chmod(0o644)
        port = free_port()
        (root / "nginx.conf").write_text(
            f"""\
daemon off;
worker_processes {args.workers};
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/client_body;
    default_type text/html;
    sendfile on;
    server {{
        listen {HOST}:{port};
        root {root}/html;
    }}
}}
"""
        )
        command = [_which("nginx") or "nginx", "-p", str(root), "-e", f"{root}/error.log"]
        command += ["-c", str(root / "nginx.conf")]
        log = root / "error.log"
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"http://{HOST}:{port}/live.html"
        wait_until_up(url, process, log, timeout=15)
        result = wrk(url, args)
        note = f"  ({result['errors']} errors)" if result["errors"] else ""
        print(
            f"\nnginx static  {result['rps']:>9,.0f} req/s  p50 {result['p50']:7.2f} ms  "
            f"p99 {result['p99']:7.2f} ms{note}",
            flush=True,
        )
        return result
    finally:
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def report(results: dict[int, dict], nginx: dict) -> None:
    print("\n| mode | endpoint | entries | req/s | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|")
    for mode in MODES:
        for name in ENDPOINTS:
            for size in SIZES:
                r = results[size][mode][name]
                print(
                    f"| {mode} | {name} | {size:,} | {r['rps']:,.0f} | {r['p50']:.2f} | "
                    f"{r['p99']:.2f} |"
                )
    print(
        f"| nginx | static file (live page bytes) | - | {nginx['rps']:,.0f} | "
        f"{nginx['p50']:.2f} | {nginx['p99']:.2f} |"
    )
    small, large = SIZES[0], SIZES[-1]
    print(f"\nreq/s({small:,}) / req/s({large:,}), target <= 1.2:")
    for mode in MODES:
        for name in ENDPOINTS:
            ratio = results[small][mode][name]["rps"] / results[large][mode][name]["rps"]
            verdict = "ok" if ratio <= 1.2 else "MISSED"
            print(f"  {mode:<9} {name:<10} {ratio:5.2f}  {verdict}")
    print("\nThe cached live page's req/s as a share of nginx static req/s, target >= 25%:")
    for size in SIZES:
        for name in ("live", "live-304"):
            share = 100 * results[size]["cached"][name]["rps"] / nginx["rps"]
            verdict = "ok" if share >= 25 else "MISSED"
            print(f"  {size:>7,} entries  {name:<9} {share:5.1f}%  {verdict}")


def report_feeds(results: dict[str, dict]) -> None:
    print(f"\n| feed ({FEED_SIZE:,} entries) | req/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per endpoint")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn (and nginx) workers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases")
    parser.add_argument("--feeds-only", action="store_true", help="measure only the feeds")
    args = parser.parse_args()

    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="liveblog-bench-"))
    print(f"Working in {work}; wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
    try:
        if not args.feeds_only:
            results: dict[int, dict] = {}
            body = b""
            for size in SIZES:
                results[size], page = bench_size(size, work, args)
                if size == SIZES[0]:
                    body = page
            nginx = bench_nginx(body, args)
            report(results, nginx)
        report_feeds(bench_feeds(work, args))
    finally:
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
