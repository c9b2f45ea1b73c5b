"""What a cache hit costs the shipped front, in instructions: repeatable on noisy cores.

Requests per second through nginx move by a fifth between runs on these shared cores, so
a change to the front worth a few percent cannot be seen that way. This counts instead the
instructions nginx runs per request (valgrind's cachegrind, which counts user space only:
the kernel's share, sockets and sendfile, is about the same for every row below and is
not counted), the same from run to run whatever else the machine does.

One ``liveblog serve`` with the demo blog on SQLite, behind nginx running the shipped
config (deploy/nginx/, as tests/fronts.py adapts it), as a single process under valgrind.
For the live page and the Atom feed, in identity and in brotli (as browsers ask), it
counts a request to:

* ``front``: the shipped config, a cache hit;
* ``front, pcre_jit``: the same with ``pcre_jit on`` in nginx.conf's main context, which
  README.md asks for (nginx compiles its regular expressions: the locations' and the
  encoding maps');
* ``cache alone``: nginx's cache with one look-up and none of the front's keys or
  encodings (identity only);
* ``static``: the same bytes as a static file.

Each is the difference between 1,300 and 300 requests on one keep-alive connection,
divided by 1,000, so nginx's start and stop do not count. Run from the repository root:
``.venv/bin/python bench/front_instructions.py`` (about a minute and a half; needs valgrind and
what ``make test-tools`` installs).
"""

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from processes import HOST
from processes import free_port
from processes import stop
from processes import wait_until_up

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fronts import Nginx  # noqa: E402  (the repository's root, just above)

LIVEBLOG = Path(sys.executable).parent / "liveblog"
SLUG = "syria-hama-offensive"  # the demo blog
PAGES = {"live page": f"/{SLUG}/", "Atom": f"/{SLUG}/feed.atom"}
ENCODINGS = {"identity": "", "brotli": "gzip, deflate, br"}
WARM = 20
FEW, MANY = 300, 1_300


def start_app(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The demo blog served by ``liveblog serve`` on SQLite; the process and its port."""
    env = {
        **os.environ,
        "LIVEBLOG_DATABASE_URL": f"sqlite:///{work / 'liveblog.db'}",
        "LIVEBLOG_INSTANCE_PATH": str(work / "instance"),
        "LIVEBLOG_SCHEDULER_INTERVAL": "0",
    }
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run([str(LIVEBLOG), *command], env=env, check=True, capture_output=True)
    port = free_port()
    log = work / "app.log"
    command = [str(LIVEBLOG), "serve", "--host", HOST, "--port", str(port), "--workers", "1"]
    app = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_until_up(f"http://{HOST}:{port}/{SLUG}/", app, log, 60)
    return app, port


def configure(nginx: Nginx, static: Path, jit: bool) -> tuple[int, int]:
    """The shipped config, a static server and nginx's cache alone; the last two's ports."""
    nginx.configure()
    text = nginx.conf.read_text()
    if not jit:
        if "pcre_jit on;\n" not in text:
            raise SystemExit("tests/fronts.py no longer turns pcre_jit on")
        text = text.replace("pcre_jit on;\n", "")
    static_port, alone_port = free_port(), free_port()
    extra = f"""\
    server {{ listen {HOST}:{static_port}; root {static}; open_file_cache max=100; }}
    server {{ listen {HOST}:{alone_port}; open_file_cache max=100; location / {{
        proxy_pass http://liveblog_app; proxy_http_version 1.1;
        proxy_set_header Connection ""; proxy_set_header Accept-Encoding "";
        proxy_cache liveblog; proxy_cache_key "alone $request_uri";
        proxy_cache_valid 200 1h; proxy_ignore_headers Cache-Control Expires Vary; }} }}
}}
"""
    text = text.rstrip().removesuffix("}") + extra
    nginx.conf.write_text(re.sub(r"access_log [^;]*;", "access_log off; sendfile on;", text))
    return static_port, alone_port


def count(nginx: Nginx, port: int, path: str, accept: str, requests: int) -> tuple[int, bytes]:
    """Instructions nginx runs from its start to its stop, serving ``requests`` requests
    for ``path`` on ``port`` (after a few that fill its cache); the last one's body."""
    out, log = nginx.prefix / "cachegrind.out", nginx.prefix / "valgrind.log"
    pid = f"daemon off; master_process off; pid {nginx.prefix / 'logs' / 'nginx.pid'};"
    valgrind = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--vgdb=no",  # no gdbserver, whose pipes a stopped run would leave in /tmp
        f"--cachegrind-out-file={out}",
    ]
    process = subprocess.Popen(
        [*valgrind, *nginx._command("-g", pid)], stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(f"{nginx.origin}/", process, log, 120)
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        headers = {"Accept-Encoding": accept} if accept else {}
        for _ in range(WARM + requests):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"{path} on port {port} answered {response.status}")
        connection.close()
    finally:
        stop(process)
    refs = re.search(r"I\s+refs:\s+([\d,]+)", log.read_text())
    if refs is None:
        raise SystemExit(f"valgrind printed no count:\n{log.read_text()[-2000:]}")
    return int(refs.group(1).replace(",", "")), body


def per_request(nginx: Nginx, port: int, path: str, accept: str = "") -> tuple[float, bytes]:
    many, body = count(nginx, port, path, accept, MANY)
    few, _ = count(nginx, port, path, accept, FEW)
    return (many - few) / (MANY - FEW), body


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("Needs valgrind (Debian: apt-get install valgrind).")
    work = Path(tempfile.mkdtemp(prefix="lb-front-instructions-"))
    app = None
    try:
        app, app_port = start_app(work)
        static = work / "static"
        static.mkdir()
        rows: list[tuple[str, str, str, float]] = []
        for jit in (False, True):
            nginx = Nginx(work / f"nginx-jit-{jit}", app_port=app_port)
            static_port, alone_port = configure(nginx, static, jit)
            for page, path in PAGES.items():
                for encoding, accept in ENCODINGS.items():
                    served, body = per_request(nginx, nginx.port, path, accept)
                    rows.append((page, encoding, "front, pcre_jit" if jit else "front", served))
                    if jit:
                        continue
                    copy = static / f"{len(rows)}"
                    copy.write_bytes(body)
                    served, _ = per_request(nginx, static_port, f"/{copy.name}")
                    rows.append((page, encoding, "static", served))
                    if not accept:
                        served, _ = per_request(nginx, alone_port, path)
                        rows.append((page, encoding, "cache alone", served))
        print(f"{'page':10} {'encoding':9} {'served by':16} instructions per request")
        for page, encoding, served_by, instructions in sorted(rows):
            print(f"{page:10} {encoding:9} {served_by:16} {instructions:9,.0f}")
    finally:
        stop(app)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
