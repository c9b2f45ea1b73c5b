"""A real nginx running the shipped config (deploy/nginx/) on free loopback ports.

The shipped files are copied as they are, but for the lines a deployment adapts (ports,
the cache's folder, the upstreams' addresses), each replaced exactly once; what nginx
needs besides (a pid file, logs, temporary folders, the modules) comes from a
small nginx.conf of the test's own, like the one a distribution ships.
"""

import os
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest

from tests.servers import HOST
from tests.servers import free_port
from tests.support import ROOT
from tests.support import wait_until

SHIPPED = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The modules the shipped config needs, in the order they load (Lua needs the kit first).
MODULES = tuple(
    Path("/usr/lib/nginx/modules") / name
    for name in ("ngx_http_brotli_filter_module.so", "ndk_http_module.so", "ngx_http_lua_module.so")
)
needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None or not all(module.exists() for module in MODULES),
    reason="needs Debian's nginx, libnginx-mod-http-brotli-filter and libnginx-mod-http-lua: "
    "run 'make test-tools'",
)


@dataclass
class Nginx:
    """nginx with the shipped config in ``prefix``, in front of ``app_port`` (after
    ``dead_app_port``, a host that is down, when there is one); streams go to
    ``streams_port`` (Pushpin in production; the app itself serves them without it)."""

    prefix: Path
    app_port: int = 0
    dead_app_port: int = 0
    streams_port: int = 0
    port: int = field(default_factory=free_port)
    purge_port: int = field(default_factory=free_port)
    pushpin_origin_port: int = field(default_factory=free_port)
    compressor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pushpin_origin(self) -> str:
        """Where Pushpin reaches the app hosts through this nginx."""
        return f"http://{HOST}:{self.pushpin_origin_port}"

    @property
    def purge_url(self) -> str:
        return f"http://{HOST}:{self.purge_port}/purge"

    @property
    def conf(self) -> Path:
        return self.prefix / "conf" / "nginx.conf"

    def configure(self) -> Path:
        """Write the config into ``prefix``; the path of its nginx.conf."""
        conf_dir = self.prefix / "conf"
        shutil.copytree(SHIPPED, conf_dir / "liveblog", dirs_exist_ok=True)
        for folder in ("logs", "cache", "temp"):
            (self.prefix / folder).mkdir(parents=True, exist_ok=True)
        adapted = {
            "listen 80;": f"listen {HOST}:{self.port};",
            "listen 127.0.0.1:8081;": f"listen {HOST}:{self.purge_port};",
            "listen 127.0.0.1:8082;": f"listen {HOST}:{self.pushpin_origin_port};",
            "listen 127.0.0.1:8083;": f"listen {HOST}:{self.compressor_port};",
            "server 127.0.0.1:8083;": f"server {HOST}:{self.compressor_port};",
            "server 127.0.0.1:8000;": " ".join(
                f"server {HOST}:{port};" for port in (self.dead_app_port, self.app_port) if port
            ),
            "server 127.0.0.1:7999;": f"server {HOST}:{self.streams_port or self.app_port};",
            "/var/cache/nginx/liveblog": str(self.prefix / "cache"),
        }
        main = conf_dir / "liveblog" / "liveblog.conf"
        text = main.read_text()
        for shipped, here in adapted.items():
            assert text.count(shipped) == 1, f"{shipped!r} is not once in {main.name}"
            text = text.replace(shipped, here)
        main.write_text(text)
        temp, logs = self.prefix / "temp", self.prefix / "logs"
        lines = [
            *(f"load_module {module};" for module in MODULES),
            # Run as root, nginx would hand its workers to "nobody", who cannot reach tmp_path.
            "user root;" if os.geteuid() == 0 else "",
            "worker_processes 2;",
            "pcre_jit on;",  # as README.md's "Behind nginx" asks
            f"error_log {logs / 'error.log'} info;",
            "events { worker_connections 1024; }",
            "http {",
            f"    access_log {logs / 'access.log'};",
            *(
                f"    {kind}_temp_path {temp / kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            ),
            "    include liveblog/liveblog.conf;",
            "}",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        return self.conf

    def _command(self, *options: str) -> list[str]:
        return [NGINX, "-p", str(self.prefix), "-c", str(self.conf), *options]

    def check(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t`` on the config."""
        pid = f"pid {self.prefix / 'logs' / 'nginx.pid'};"
        return subprocess.run(
            self._command("-t", "-g", pid), capture_output=True, text=True, timeout=30
        )

    def start(self) -> None:
        self.configure()
        pid = f"daemon off; pid {self.prefix / 'logs' / 'nginx.pid'};"
        with open(self.prefix / "logs" / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                self._command("-g", pid), stdout=stderr, stderr=subprocess.STDOUT
            )
        wait_until(self._up, 10, lambda: f"nginx did not come up:\n{self.log()}", interval=0.05)

    def _up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"nginx exited:\n{self.log()}")
        try:
            with urllib.request.urlopen(f"{self.origin}/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def kept_keys(self) -> set[str]:
        """The keys of every copy in the cache (nginx writes each into its file)."""
        return {
            line[len(b"KEY: ") :].decode()
            for path in (self.prefix / "cache").rglob("*")
            if path.is_file()
            for line in path.read_bytes().split(b"\n", 8)[:8]
            if line.startswith(b"KEY: ")
        }

    def log(self) -> str:
        logs = self.prefix / "logs"
        return "\n".join(
            path.read_text(errors="replace")
            for path in (logs / "stderr.log", logs / "error.log")
            if path.exists()
        )

    def stop(self) -> None:
        """A fast shutdown (SIGTERM), then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
