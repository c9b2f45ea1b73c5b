"""Lighthouse on the demo blog: the live page and the permalink of its update with a map,
on a phone and on a desktop, against the production server.

Loads the demo into a fresh SQLite database in a temporary folder, starts
``liveblog serve`` on a free loopback port, and serves map tiles from another loopback
port (a real deployment's tiles load; here the outside world cannot be reached, and a
failed tile would count against the page). Runs Lighthouse 12
(``.tools/lighthouse``, installed by ``make lighthouse``) on Debian's chromium, headless,
for each page and form factor, and prints the four category scores and the cumulative
layout shift. ``--runs N`` runs each N times and shows the run of median performance;
``--details`` also lists every audit of that run that did not pass.

Run from the repository root: ``make lighthouse`` (installs Lighthouse, then runs this),
or ``.venv/bin/python bench/lighthouse.py``. Every process started here is stopped before
the script exits; the temporary folder is removed unless ``--keep`` is given.
"""

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

from PIL import Image
from processes import HOST
from processes import free_port
from processes import stop
from processes import wait_until_up

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / ".tools" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROME = "/usr/bin/chromium"
SLUG = "syria-hama-offensive"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# These audits need a trace event this chromium does not record ("frame_sequence"): they
# end in an error whatever the page does, and count for nothing.
BROKEN_HERE = frozenset(
    {
        "largest-contentful-paint-element",
        "lcp-lazy-loaded",
        "layout-shifts",
        "non-composited-animations",
        "prioritize-lcp-image",
        "render-blocking-resources",
    }
)


@cache
def tile_png() -> bytes:
    """One plain 256 px tile, the same for every position."""
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (232, 232, 227)).save(buffer, "PNG")
    return buffer.getvalue()


class TileHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        body = tile_png()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=86400")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def tile_server() -> Iterator[str]:
    """A loopback tile server; yields its URL template."""
    server = ThreadingHTTPServer((HOST, free_port()), TileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}/{{z}}/{{x}}/{{y}}.png"
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def demo_server(folder: Path, tiles: str) -> Iterator[str]:
    """The demo blog served by ``liveblog serve``; yields its origin."""
    port = free_port()
    origin = f"http://{HOST}:{port}"
    env = {
        **os.environ,
        "LIVEBLOG_INSTANCE_PATH": str(folder / "instance"),
        "LIVEBLOG_BASE_URL": origin,
        "LIVEBLOG_MAP_TILE_URL": tiles,
        "LIVEBLOG_SCHEDULER_INTERVAL": "0",
    }
    command = [str(Path(sys.executable).parent / "liveblog")]
    for step in (["db", "upgrade"], ["demo"]):
        subprocess.run(command + step, env=env, check=True, capture_output=True)
    log = folder / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            command + ["serve", "--host", HOST, "--port", str(port), "--workers", "1"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"{origin}/{SLUG}/", server, log, timeout=60)
        yield origin
    finally:
        stop(server)


def map_permalink(origin: str) -> str:
    """The permalink of the demo's update with a map, found on the live page."""
    with urllib.request.urlopen(f"{origin}/{SLUG}/") as response:
        page = response.read().decode()
    article = next(part for part in page.split("<article")[1:] if "block-map" in part)
    found = re.search(r'id="update-(\d+)"', article)
    assert found is not None
    return f"{origin}/{SLUG}/updates/{found.group(1)}"


def lighthouse(url: str, form_factor: str, report: Path) -> dict[str, object]:
    """Run Lighthouse on ``url`` as a phone (its default) or a desktop; its JSON report."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        "--chrome-flags=--headless --no-sandbox",
        *(["--preset=desktop"] if form_factor == "desktop" else []),
    ]
    subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROME}, check=True, timeout=300)
    result: dict[str, object] = json.loads(report.read_text())
    return result


def figures(result: dict[str, object]) -> tuple[object, ...]:
    """The four category scores (0 to 100) and the cumulative layout shift."""
    categories = result["categories"]
    audits = result["audits"]
    assert isinstance(categories, dict) and isinstance(audits, dict)
    shift = audits["cumulative-layout-shift"]["numericValue"]
    return (*(round(categories[key]["score"] * 100) for key in CATEGORIES), f"{shift:.3f}")


def failing(result: dict[str, object]) -> list[str]:
    """The audits that count and did not pass, with Lighthouse's own title."""
    audits = result["audits"]
    assert isinstance(audits, dict)
    lines = []
    for key, audit in sorted(audits.items()):
        mode = audit.get("scoreDisplayMode")
        if key in BROKEN_HERE or mode in ("notApplicable", "manual", "informative"):
            continue
        if audit.get("score") is not None and audit["score"] < 1:
            shown = audit.get("displayValue") or ""
            lines.append(f"    {key} ({audit['score']}): {audit['title']} {shown}".rstrip())
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list the audits that fail")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--runs", type=int, default=1, help="runs of each, the median shown")
    arguments = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"Lighthouse is not installed at {LIGHTHOUSE}: run `make lighthouse`.")
    folder = Path(tempfile.mkdtemp(prefix="liveblog-lighthouse-"))
    rows = []
    try:
        with tile_server() as tiles, demo_server(folder, tiles) as origin:
            pages = {"live page": f"{origin}/{SLUG}/", "map permalink": map_permalink(origin)}
            for name, url in pages.items():
                for form_factor in ("phone", "desktop"):
                    runs = []
                    for run in range(arguments.runs):
                        report = folder / f"{name.replace(' ', '-')}-{form_factor}-{run}.json"
                        result = lighthouse(url, form_factor, report)
                        runs.append((figures(result), result))
                        print(name, form_factor, *runs[-1][0], flush=True)
                    # The run of median performance, as Lighthouse's docs advise.
                    shown, result = sorted(runs, key=lambda pair: pair[0][0])[len(runs) // 2]
                    rows.append((name, form_factor, *shown))
                    if arguments.details:
                        print("\n".join(failing(result)) or "    every audit passed", flush=True)
    finally:
        if arguments.keep:
            print(f"Reports and the server's log: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print()
    print("| page | device | performance | accessibility | best practices | SEO | CLS |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
