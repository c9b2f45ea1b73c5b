"""A real HTTP server on 127.0.0.1 for embed tests: a fake oEmbed provider, a tile server.

Routes are set per test; every request is recorded, so a test can say what was (or was
not) fetched.
"""

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from PIL import Image


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before answering
    gate: threading.Event | None = None  # answer once it is set (at most 10 s later)
    send_length: bool = True  # False: no Content-Length, the body ends when the connection does


class FakeServer:
    """Answers ``GET <path>`` from ``routes`` (a key ending in ``*`` matches a prefix)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    def route(self, path: str, body: bytes | str = b"", **options: object) -> str:
        """Answer ``path`` with ``body``; returns its full URL."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def paths(self) -> list[str]:
        """The paths requested so far, without their queries."""
        return [urlsplit(target).path for target in self.requests]

    def _find(self, path: str) -> Route | None:
        if path in self.routes:
            return self.routes[path]
        for key, route in self.routes.items():
            if key.endswith("*") and path.startswith(key[:-1]):
                return route
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                fake.requests.append(self.path)
                route = fake._find(urlsplit(self.path).path) or Route(
                    b"not found", 404, "text/plain"
                )
                if route.delay:
                    time.sleep(route.delay)
                if route.gate is not None:
                    route.gate.wait(10)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for name, value in route.headers:
                    self.send_header(name, value)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what a size cap does

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler

    def start(self) -> None:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def image_bytes(size: tuple[int, int] = (640, 360), fmt: str = "PNG", color: str = "teal") -> bytes:
    """A small image file of ``fmt``."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()
