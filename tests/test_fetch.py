"""The guarded fetcher against real sockets: what it refuses, before sending anything;
that redirects are vetted alike; that DNS counts against its deadline.

Tests that need an address that counts as public, a name of our choosing or a DNS server
that never answers run in a network namespace of their own (root and ``ip netns``), where
only ``lo`` exists: nothing they do leaves this machine.
"""

import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest

from liveblog.embeds.fetch import AddressRefused
from liveblog.embeds.fetch import Fetcher
from liveblog.embeds.fetch import FetchError
from liveblog.embeds.fetch import is_public
from tests.factories import assert_problem
from tests.test_oembed import TWEET
from tests.test_oembed import closed_port

ROOT = Path(__file__).resolve().parent.parent
# Counts as public; in the namespace it is an address of lo, so connections to it stay here.
PUBLIC = "1.2.3.4"
HOSTS = f"""\
127.0.0.1 localhost
::1 localhost
{PUBLIC} public.example
{PUBLIC} mixed.example
127.0.0.1 mixed.example
"""
# One look-up, and a long one: only the fetcher's own deadline can cut it short.
RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n"


class Listener:
    """A TCP socket listening on ``host`` that never accepts by itself: ``connections()``
    counts the connections the kernel completed, so every attempt to connect shows."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.count = 0

    def connections(self) -> int:
        while True:
            try:
                connection, _ = self.sock.accept()
            except BlockingIOError:
                return self.count
            connection.close()
            self.count += 1

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Loopback:
    """Listeners on 127.0.0.1 and, where this machine has IPv6, ::1, on one port."""

    def __init__(self) -> None:
        self.listeners = [Listener("127.0.0.1")]
        self.port = self.listeners[0].port
        try:
            self.listeners.append(Listener("::1", self.port))
        except OSError:
            pass  # no ::1 here (or its port is taken): connecting to it would fail anyway

    def connections(self) -> int:
        return sum(listener.connections() for listener in self.listeners)

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()

    def __enter__(self) -> "Loopback":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    with Loopback() as listeners:
        yield listeners


def refusal(url: str) -> AddressRefused:
    with pytest.raises(AddressRefused) as caught:
        Fetcher(0.5, 10_000).get(url, "*/*")
    return caught.value


# Refused addresses: the same answer whatever the port's state, and nothing sent


def test_a_loopback_port_is_refused_alike_open_or_closed_and_never_connected_to(loopback):
    opened = refusal(f"http://127.0.0.1:{loopback.port}/")
    closed = refusal(f"http://127.0.0.1:{closed_port()}/")
    assert loopback.connections() == 0
    assert (type(opened), str(opened)) == (type(closed), str(closed))
    assert str(opened) == "127.0.0.1: is a private or local address"


@pytest.mark.parametrize(
    "host",
    [
        "localhost",  # a name resolving inside
        "127.1",  # and other spellings the resolver reads as 127.0.0.1
        "2130706433",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[64:ff9b::7f00:1]",  # NAT64
        "[2002:7f00:1::]",  # 6to4
        "0.0.0.0",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "10.0.0.1",
        "[fe80::1]",
        "224.0.0.1",
    ],
)
def test_local_and_private_addresses_are_refused_without_a_connection(loopback, host):
    error = refusal(f"http://{host}:{loopback.port}/")
    assert error.reason == "is a private or local address"
    assert loopback.connections() == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),
        ("2002:808:808::1", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("192.0.2.1", False),  # documentation
        ("0.0.0.0", False),
        ("255.255.255.255", False),
        ("224.0.0.1", False),  # multicast
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff0e::1", False),  # global-scope multicast
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),
        ("64:ff9b:1::808:808", False),  # local-use NAT64 prefix
        ("2002:a00:1::", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("::808:808", False),  # IPv4-compatible, deprecated
    ],
)
def test_an_address_is_public_only_if_it_and_the_ipv4_address_it_wraps_are(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


def test_the_api_gives_one_answer_for_an_open_and_a_closed_private_port(app, api):
    with Listener() as listener:
        app.config.update(
            OEMBED_ENDPOINTS={"x": f"http://127.0.0.1:{listener.port}/x/oembed"},
            FETCH_PRIVATE_ADDRESSES=False,
            OEMBED_TIMEOUT=0.5,
        )
        opened = assert_problem(api.post("/api/v1/embeds/resolve", json={"url": TWEET}), 422)
        connections = listener.connections()
    closed = assert_problem(api.post("/api/v1/embeds/resolve", json={"url": TWEET}), 422)
    assert (opened, connections) == (closed, 0)
    assert opened["detail"].startswith(
        "127.0.0.1 is a private or local address; only public sites are looked up."
    )


# In a network namespace


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    """A network namespace with only lo (holding 127.0.0.1, ::1 and PUBLIC), the names of
    HOSTS, and DNS asked at 127.0.0.1, where a scenario may run a server or not."""
    name = f"liveblog-test-{os.getpid()}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
        reason = (getattr(error, "stderr", None) or str(error)).strip()
        pytest.skip(f"needs a network namespace of its own (root, `ip netns add`): {reason}")
    etc = Path("/etc/netns")
    made_etc = not etc.exists()
    try:
        for command in ("link set lo up", f"addr add {PUBLIC}/32 dev lo"):
            subprocess.run(["ip", "-n", name, *command.split()], check=True)
        (etc / name).mkdir(parents=True)  # `ip netns exec` mounts these over /etc's own
        (etc / name / "hosts").write_text(HOSTS)
        (etc / name / "resolv.conf").write_text(RESOLV_CONF)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)
        shutil.rmtree(etc / name, ignore_errors=True)
        if made_etc:
            etc.rmdir()


def in_namespace(
    namespace: str, scenario: str, *args: Any, gevent: bool = False, **env: str
) -> Any:
    """What ``scenario`` (a function of this module) returns when run in ``namespace``,
    by this worktree's Python and code; with ``gevent``, after gevent has patched it all
    as in the production workers."""
    code = (
        ("from gevent import monkey; monkey.patch_all()\n" if gevent else "")
        + "import json, os, sys\n"
        + "from tests import test_fetch\n"
        + f"print(json.dumps(test_fetch.{scenario}(*json.loads(sys.argv[1]))), flush=True)\n"
        # A look-up left running (that of a name DNS never answers) would hold up the exit.
        + "os._exit(0)\n"
    )
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", code, json.dumps(args)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class Site:
    """A web server on ``host``, over HTTPS with ``tls`` (certificate and key files):
    ``/go?to=URL`` redirects to URL, any other path answers the Host header it was sent.
    ``paths`` are the paths asked for."""

    def __init__(self, host: str, tls: tuple[str, str] | None = None) -> None:
        self.paths: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.paths.append(urlsplit(self.path).path)
                to = parse_qs(urlsplit(self.path).query).get("to")
                body = b"" if to else self.headers["Host"].encode()
                self.send_response(302 if to else 200)
                if to:
                    self.send_header("Location", to[0])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def site(host: str = PUBLIC, tls: tuple[str, str] | None = None) -> Iterator[Site]:
    served = Site(host, tls)
    try:
        yield served
    finally:
        served.close()


def outcome(url: str, timeout: float = 1.0) -> list[Any]:
    """[error class, message, seconds taken], or ["ok", body, seconds taken]."""
    start = time.monotonic()
    try:
        answer = Fetcher(timeout, 10_000).get(url, "*/*").body.decode()
    except FetchError as error:
        return [type(error).__name__, str(error), time.monotonic() - start]
    return ["ok", answer, time.monotonic() - start]


# Scenarios: run in the namespace by in_namespace(), each returns what the test checks.


def fetch_a_name_dns_never_answers() -> dict[str, Any]:
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 53))  # and never answers
    ticks = [0]
    if "gevent" in sys.modules:
        import gevent

        def tick() -> None:
            while True:
                gevent.sleep(0.05)
                ticks[0] += 1

        gevent.spawn(tick)
    error, _, elapsed = outcome("http://slow.example/")
    return {"error": error, "elapsed": elapsed, "ticks": ticks[0]}


def redirect_inside() -> dict[str, Any]:
    with site() as public, Loopback() as inside:
        hop = f"http://{PUBLIC}:{public.port}/go?to="
        return {
            "port": public.port,
            "outward": outcome(hop + quote(f"http://{PUBLIC}:{public.port}/answer")),
            "inward": outcome(hop + quote(f"http://127.0.0.1:{inside.port}/")),
            "paths": public.paths,
            "connections": inside.connections(),
        }


def connect_outward() -> dict[str, Any]:
    unroutable = [
        "8.8.8.8",
        "[2606:4700::1111]",
        "[64:ff9b::808:808]",
        "[2002:808:808::1]",
        "[::ffff:8.8.8.8]",
    ]
    with site() as public:
        return {
            "port": public.port,
            "served": outcome(f"http://{PUBLIC}:{public.port}/answer"),
            "by name": outcome(f"http://public.example:{public.port}/answer"),
            "unroutable": [outcome(f"http://{host}/") for host in unroutable],
        }


def fetch_a_name_half_inside() -> dict[str, Any]:
    with Listener(PUBLIC) as public, Listener("127.0.0.1", public.port) as inside:
        return {
            "outcome": outcome(f"http://mixed.example:{public.port}/"),
            "connections": public.connections() + inside.connections(),
        }


def fetch_over_https(certificate: str, key: str) -> dict[str, Any]:
    with site(tls=(certificate, key)) as public:
        return {
            "port": public.port,
            "by name": outcome(f"https://public.example:{public.port}/answer"),
            "by address": outcome(f"https://{PUBLIC}:{public.port}/answer"),
        }


@pytest.mark.parametrize("gevent", [False, True], ids=["threads", "gevent"])
def test_dns_counts_against_the_deadline(namespace, gevent):
    result = in_namespace(namespace, "fetch_a_name_dns_never_answers", gevent=gevent)
    assert result["error"] == "FetchTimeout"
    assert 0.9 < result["elapsed"] < 2.0
    if gevent:  # other greenlets ran while the look-up was waited for
        assert result["ticks"] >= 10


def test_a_redirect_inside_is_refused_before_connecting(namespace):
    result = in_namespace(namespace, "redirect_inside")
    assert result["outward"][:2] == ["ok", f"{PUBLIC}:{result['port']}"]
    assert result["inward"][:2] == ["AddressRefused", "127.0.0.1: is a private or local address"]
    assert result["paths"] == ["/go", "/answer", "/go"]
    assert result["connections"] == 0


def test_public_addresses_and_names_are_connected_to(namespace):
    result = in_namespace(namespace, "connect_outward")
    assert result["served"][:2] == ["ok", f"{PUBLIC}:{result['port']}"]
    assert result["by name"][:2] == ["ok", f"public.example:{result['port']}"]
    for error, message, _ in result["unroutable"]:
        assert (error, "Network is unreachable" in message) == ("Unreachable", True), message


def test_a_name_with_any_address_inside_is_refused_whole(namespace):
    result = in_namespace(namespace, "fetch_a_name_half_inside")
    assert result["outcome"][:2] == [
        "AddressRefused",
        "mixed.example: is a private or local address",
    ]
    assert result["connections"] == 0


def test_https_checks_the_certificate_for_the_name_while_connecting_to_its_address(
    namespace, tmp_path
):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    certificate, key = str(tmp_path / "certificate.pem"), str(tmp_path / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=public.example", "-addext", "subjectAltName=DNS:public.example",
         "-out", certificate, "-keyout", key],
        check=True, capture_output=True,
    )  # fmt: skip
    # The fetcher trusts the system's certificates, which SSL_CERT_FILE makes this one.
    result = in_namespace(
        namespace, "fetch_over_https", certificate, key, SSL_CERT_FILE=certificate
    )
    assert result["by name"][:2] == ["ok", f"public.example:{result['port']}"]
    assert result["by address"][0] == "Unreachable"
    assert "certificate" in result["by address"][1]
