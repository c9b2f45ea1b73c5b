"""The caching front: a real `liveblog serve` behind a real nginx running deploy/nginx/.

Origin requests are counted in the app's own access log. Reader answers may be kept for
300 s (s-maxage), so anything that reaches readers sooner came through a purge.
"""

import concurrent.futures
import gzip
import json
import re
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import brotli
import pytest

from tests.fronts import Nginx
from tests.fronts import needs_nginx
from tests.servers import HOST
from tests.servers import Deployment
from tests.servers import Server
from tests.servers import SseReader
from tests.servers import prepare
from tests.support import BACKENDS
from tests.support import wait_until

pytestmark = needs_nginx

WITHIN = 1.0  # seconds from an editor's request to no front answer showing what it removed
_slugs = count(1)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case; repeated fields joined with ", "
    body: bytes

    @property
    def cache(self) -> str:
        return self.headers.get("x-cache-status", "")

    @property
    def decoded(self) -> bytes:
        """The body, decompressed from its Content-Encoding."""
        decode = {"gzip": gzip.decompress, "br": brotli.decompress}
        return decode.get(self.headers.get("content-encoding", ""), bytes)(self.body)


def fetch(url: str, **headers: str) -> Answer:
    """GET ``url`` as sent (urllib does not decompress); any status is an answer."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, raw, body = error.code, error.headers, error.read()
    fields: dict[str, str] = {}
    for name, value in raw.items():
        fields[name.lower()] = (
            f"{fields[name.lower()]}, {value}" if name.lower() in fields else value
        )
    return Answer(status, fields, body)


@dataclass
class Front:
    """The app (two workers) behind nginx, and the database's editor and admin."""

    server: Server
    nginx: Nginx
    deployment: Deployment

    def url(self, path: str) -> str:
        return self.nginx.origin + path

    def get(self, path: str, **headers: str) -> Answer:
        return fetch(self.url(path), **headers)

    def kept(self, path: str, **headers: str) -> Answer:
        """The front's answer to ``path`` from its copy. nginx marks a copy kept just after
        the reader who brought it has its last byte, so the next request may find none yet:
        asked again for up to a second."""

        def from_copy() -> Answer | None:
            answer = self.get(path, **headers)
            return answer if answer.cache == "HIT" else None

        return wait_until(from_copy, 1.0, f"{path} is not kept")

    def origin_requests(self, target: str, at_least: int = 1) -> int:
        """How many GETs of ``target`` reached the app: once ``at_least`` are logged, and a
        request sent after them is too (each worker logs after it answers)."""
        wait_until(lambda: self.server.requests_for(target) >= at_least, message=target)
        marker = f"/marker-{next(_slugs)}"
        fetch(self.server.origin + marker)
        wait_until(lambda: self.server.requests_for(marker) == 1, message="marker not logged")
        return self.server.requests_for(target)

    def new_blog(self, entries: int = 3) -> tuple[str, list[dict[str, Any]]]:
        """A new live blog (so that nothing of it is kept yet) with ``entries`` entries."""
        slug = f"front-{next(_slugs)}"
        self.server.api(
            self.deployment.admin_token,
            "POST",
            "/api/v1/blogs",
            {"slug": slug, "title": f"Front {slug}", "status": "live"},
        )
        self.server.api(
            self.deployment.admin_token,
            "POST",
            f"/api/v1/blogs/{slug}/members",
            {"user": self.deployment.editor_id, "role": "editor"},
        )
        return slug, [self.post(slug, f"Update {n} of {slug}.") for n in range(entries)]

    def post(self, slug: str, body: str) -> dict[str, Any]:
        entry: dict[str, Any] = self.server.api(
            self.deployment.editor_token, "POST", f"/api/v1/blogs/{slug}/entries", {"body": body}
        )
        return entry

    def change_entry(self, entry: dict[str, Any], method: str, body: Any = None) -> None:
        path = f"/api/v1/blogs/{entry['blog']}/entries/{entry['id']}"
        token = self.deployment.editor_token
        self.server.api(token, method, path, body, **{"If-Match": f'"{entry["version"]}"'})


@pytest.fixture(scope="module", params=BACKENDS)
def front(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Front]:
    workdir = tmp_path_factory.mktemp(f"front-{request.param}")
    if request.param == "postgresql":
        with request.getfixturevalue("server_databases").fresh() as url:
            yield from _front(url, workdir)
        return
    path = workdir / "liveblog.sqlite"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    yield from _front(f"sqlite:///{path}", workdir)


@pytest.fixture(scope="module")
def short_lived_front(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: str
) -> Iterator[Front]:
    """A front on SQLite whose copies expire after a second, and may be served stale (while
    refetched behind) for one second more."""
    workdir = tmp_path_factory.mktemp("front-short-lived")
    path = workdir / "liveblog.sqlite"
    shutil.copy(sqlite_template, path)
    yield from _front(
        f"sqlite:///{path}",
        workdir,
        LIVEBLOG_READER_MAX_AGE="1",
        LIVEBLOG_READER_STALE_WHILE_REVALIDATE="1",
    )


def _front(url: str, workdir: Path, **settings: str) -> Iterator[Front]:
    """The app behind nginx; ``settings`` are environment variables for the app."""
    deployment = prepare(url)
    nginx = Nginx(workdir / "nginx")
    server = Server(
        url,
        workdir,
        access_log=True,
        extra_env={
            "LIVEBLOG_PURGE_URLS": nginx.purge_url,
            "LIVEBLOG_READER_MAX_AGE": "300",
            "LIVEBLOG_READER_PAGE_SIZE": "2",
            "LIVEBLOG_TRUSTED_PROXIES": "1",
        }
        | settings,
    )
    try:
        server.start()
        nginx.app_port = server.port
        nginx.start()
        yield Front(server, nginx, deployment)
    finally:
        nginx.stop()
        server.kill()


def test_the_shipped_config_passes_nginx_t(tmp_path):
    nginx = Nginx(tmp_path, app_port=8000)
    nginx.configure()
    checked = nginx.check()
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    assert "[warn]" not in checked.stderr


def test_a_reader_url_fetched_twice_costs_one_origin_request(front):
    slug, entries = front.new_blog()
    for path in (f"/{slug}/", f"/{slug}/updates/{entries[0]['id']}", f"/{slug}/feed.atom"):
        first = front.get(path)
        assert (first.status, first.cache) == (200, "MISS"), path
        assert front.kept(path).body == first.body
        assert front.origin_requests(path) == 1, path
    # Behind every blog URL, the blog's seq: asked once.
    assert front.origin_requests(f"/{slug}/seq") == 1
    # The index (which nginx's start-up probe may have had kept already).
    before = front.origin_requests("/", at_least=0)
    front.get("/")
    front.kept("/")
    assert front.origin_requests("/") - before <= 1


def test_author_pages_go_to_the_app_unkept(front):
    slug, _ = front.new_blog(1)
    author = re.search(rb'href="(/authors/[^"]+)"', front.get(f"/{slug}/").body)
    assert author is not None
    # Never kept: no blog's purge would reach them.
    for path, status in ((author.group(1).decode(), 200), ("/authors/nobody", 404)):
        before = front.origin_requests(path, at_least=0)
        answers = [front.get(path) for _ in range(2)]
        assert [answer.status for answer in answers] == [status, status], path
        assert all("x-cache-status" not in answer.headers for answer in answers), path
        assert front.origin_requests(path, at_least=before + 2) == before + 2, path


def test_a_revalidation_is_answered_by_the_front(front):
    slug, _ = front.new_blog()
    first = front.get(f"/{slug}/")
    again = front.get(f"/{slug}/", **{"If-None-Match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""
    assert front.origin_requests(f"/{slug}/") == 1


def test_readers_asking_at_once_after_a_change_cost_one_origin_request(front):
    slug, entries = front.new_blog()
    page, feed = f"/{slug}/", f"/{slug}/feed.json"
    assert front.get(page).cache == front.get(feed).cache == "MISS"
    front.change_entry(entries[-1], "PATCH", {"body": "Corrected."})
    # The feed kept before the change shows it: the front has moved to the new seq.
    wait_until(lambda: b"Corrected." in front.get(feed).body, WITHIN)

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: front.get(page), range(20)))

    assert all(b"Corrected." in answer.body for answer in answers)
    assert sorted({answer.cache for answer in answers}) == ["HIT", "MISS"]
    assert front.origin_requests(page, at_least=2) == 2  # before the change, once after it


ENCODINGS = pytest.mark.parametrize("accepted", ["identity", "gzip, deflate, br"])


@ENCODINGS
def test_readers_asking_at_once_for_an_expired_copy_cost_one_origin_request(
    short_lived_front, accepted
):
    front = short_lived_front
    slug, _ = front.new_blog()
    page, asked = f"/{slug}/", {"Accept-Encoding": accepted}
    assert front.get(page, **asked).cache == "MISS"
    time.sleep(2.5)  # past s-maxage and stale-while-revalidate: the copy may not be served

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: front.get(page, **asked), range(20)))

    assert {answer.status for answer in answers} == {200}
    # The first request for the page, and one refetch of the expired copy.
    assert front.origin_requests(page, at_least=2) == 2


@ENCODINGS
def test_a_change_costs_one_render_when_the_copy_before_it_had_expired(short_lived_front, accepted):
    front = short_lived_front
    slug, _ = front.new_blog()
    page, asked = f"/{slug}/", {"Accept-Encoding": accepted}
    assert front.get(page, **asked).cache == "MISS"
    time.sleep(2.5)  # the page's copy and the blog's seq both expired
    front.post(slug, "After the quiet.")
    before = front.server.log().count(f'"GET {page} HTTP/1.1" 200 ')

    def ask_until_changed(_: int) -> bool:
        return wait_until(lambda: b"After the quiet." in front.get(page, **asked).decoded)

    # Readers at once, some learning the new seq and some still the old one.
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        assert all(pool.map(ask_until_changed, range(20)))

    front.origin_requests(page, at_least=2)
    assert front.server.log().count(f'"GET {page} HTTP/1.1" 200 ') - before == 1


@pytest.mark.parametrize(
    "path, media_type",
    [
        ("/{slug}/", "text/html"),
        ("/{slug}/feed.json", "application/feed+json"),
        ("/{slug}/feed.rss", "application/rss+xml"),
        ("{stylesheet}", "text/css"),
        ("/api/v1/blogs", "application/json"),
    ],
)
def test_gzip_and_brotli_decode_to_the_identity_bytes(front, path, media_type):
    slug, _ = front.new_blog()
    stylesheet = re.search(rb'href="(/assets/[^"]+\.css)"', front.get(f"/{slug}/").body)
    assert stylesheet is not None
    path = path.format(slug=slug, stylesheet=stylesheet.group(1).decode())

    auth = {"Authorization": f"Bearer {front.deployment.editor_token}"}
    identity = front.get(path, **auth, **{"Accept-Encoding": "identity"})
    gzipped = front.get(path, **auth, **{"Accept-Encoding": "gzip"})
    brotlied = front.get(path, **auth, **{"Accept-Encoding": "gzip, deflate, br"})

    assert identity.headers["content-type"].startswith(media_type)
    assert "content-encoding" not in identity.headers
    assert gzipped.headers["content-encoding"] == "gzip"
    assert brotlied.headers["content-encoding"] == "br"
    assert gzip.decompress(gzipped.body) == identity.body
    assert brotli.decompress(brotlied.body) == identity.body
    if not path.startswith("/api/"):  # kept by caches: each says what it varies on, once
        for answer in (identity, gzipped, brotlied):
            assert answer.headers["vary"] == "Accept-Encoding"
        # One copy for every encoding (the stylesheet may have been kept by another test).
        if path.endswith(".css"):
            assert front.origin_requests(path, at_least=0) <= 1
        else:
            assert front.origin_requests(path) == 1


def test_each_encoding_is_compressed_once_and_kept(front):
    slug, _ = front.new_blog()
    stylesheet = re.search(rb'href="(/assets/[^"]+\.css)"', front.get(f"/{slug}/").body)
    assert stylesheet is not None
    seq = front.get(f"/{slug}/seq").headers["liveblog-seq"]
    for path in (f"/{slug}/", f"/{slug}/feed.atom", stylesheet.group(1).decode()):
        for accepted, encoding in (("gzip, deflate, br", "br"), ("gzip, deflate", "gzip")):
            first = front.get(path, **{"Accept-Encoding": accepted})
            assert first.headers["content-encoding"] == encoding, (path, accepted)
            assert front.kept(path, **{"Accept-Encoding": accepted}).body == first.body
            # The copy kept is the compressed one (nginx writes each copy's key into it).
            key = (
                f"{encoding} {path}"
                if path.startswith("/assets/")
                else (f"{encoding} /{slug}/ {seq} {path}")
            )
            assert key in front.nginx.kept_keys(), key
        assert front.origin_requests(path, at_least=0) <= 1, path  # for every encoding


@pytest.mark.parametrize(
    "accepted, encoding",
    [
        ("GZIP", "gzip"),
        ("br;q=0.5, gzip;q=1", "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.000, br;q=0", None),
        ("deflate, x-br", None),
        ("*", None),
    ],
)
def test_the_encoding_kept_for_a_reader_honours_what_they_accept(front, accepted, encoding):
    slug, _ = front.new_blog(1)
    answer = front.get(f"/{slug}/", **{"Accept-Encoding": accepted})
    assert answer.status == 200
    assert answer.headers.get("content-encoding") == encoding


def test_a_compressed_copy_is_revalidated_by_the_front(front):
    slug, _ = front.new_blog()
    first = front.get(f"/{slug}/", **{"Accept-Encoding": "br"})
    assert first.headers["etag"].startswith('W/"')  # not the identity bytes' ETag
    again = front.get(
        f"/{slug}/", **{"Accept-Encoding": "br", "If-None-Match": first.headers["etag"]}
    )
    assert again.status == 304 and again.body == b""
    assert front.origin_requests(f"/{slug}/") == 1


def test_an_expired_compressed_copy_costs_no_render(short_lived_front):
    front = short_lived_front
    slug, _ = front.new_blog()
    page, asked = f"/{slug}/", {"Accept-Encoding": "gzip, deflate, br"}
    first = front.get(page, **asked)
    time.sleep(2.5)  # past s-maxage and stale-while-revalidate, at both servers
    assert front.get(page, **asked).body == first.body
    # Refreshed with the brotli copy's weak ETag, checked by the compressing server
    # against the app's, whose own copy the app confirms: nothing is rendered again.
    front.origin_requests(page, at_least=2)
    log = front.server.log()
    rendered, confirmed = (log.count(f'"GET {page} HTTP/1.1" {code} ') for code in (200, 304))
    assert (rendered, confirmed) == (1, 1)
    assert front.kept(page, **asked).body == first.body


def test_hashed_files_are_kept_for_a_year(front):
    slug, _ = front.new_blog()
    page, login = front.get(f"/{slug}/").body, front.get("/editor/login").body
    for pattern, html in (
        (rb'href="(/assets/[^"]+\.css)"', page),
        (rb'src="(/assets/[^"]+\.js)"', page),
        (rb'href="(/editor/static/[^"]+\.css)"', login),
    ):
        found = re.search(pattern, html)
        assert found is not None, pattern
        path = found.group(1).decode()
        first = front.get(path)
        assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
        front.kept(path)
        assert front.origin_requests(path, at_least=0) <= 1  # another test may have asked first


def test_the_api_and_the_editor_are_never_kept(front):
    slug, _ = front.new_blog()
    auth = {"Authorization": f"Bearer {front.deployment.editor_token}"}
    for path in (f"/api/v1/blogs/{slug}", "/editor/login"):
        before = front.origin_requests(path, at_least=0)
        answers = [front.get(path, **auth) for _ in range(2)]
        assert all(answer.status == 200 for answer in answers)
        assert all(answer.headers["cache-control"] == "no-store" for answer in answers)
        assert all("x-cache-status" not in answer.headers for answer in answers)
        assert front.origin_requests(path, at_least=before + 2) == before + 2


def _urls(slug: str, entries: list[dict[str, Any]], older: str) -> list[str]:
    feeds = [
        f"/{slug}/{name}.{fmt}"
        for name in ("feed", "key-events")
        for fmt in ("atom", "rss", "json")
    ]
    permalinks = [f"/{slug}/updates/{entry['id']}" for entry in entries]
    return [f"/{slug}/", older, *permalinks, *feeds]


# The copies a reader may get of each URL: in identity, and as browsers ask (brotli).
READERS_ENCODINGS = ({}, {"Accept-Encoding": "gzip, deflate, br"})


def _kept(front: Front, slug: str, entries: list[dict[str, Any]]) -> list[str]:
    """Every reader URL of the blog, fetched until the front keeps it in every encoding;
    their paths."""
    older = re.search(rb'href="([^"]*\?before=[^"]+)"', front.get(f"/{slug}/").body)
    assert older is not None, "no older page"
    urls = _urls(slug, entries, older.group(1).decode().replace("&amp;", "&"))
    for path in urls:
        for asked in READERS_ENCODINGS:
            front.get(path, **asked)
            front.kept(path, **asked)
    return urls


def _showing(front: Front, urls: list[str], text: bytes) -> list[str]:
    """The URLs whose copy, in any encoding, still shows ``text``."""
    return [
        path
        for path in urls
        if any(text in front.get(path, **asked).decoded for asked in READERS_ENCODINGS)
    ]


def _gone_within(front: Front, urls: list[str], text: bytes, action: Any) -> float:
    """Seconds from ``action`` until the live page (asked again and again) stops showing
    ``text``; by WITHIN, no URL may show it any more."""
    started = time.monotonic()
    action()
    wait_until(lambda: text not in front.get(urls[0]).body, WITHIN, f"{text!r} still shown")
    latency = time.monotonic() - started
    wait_until(lambda: not _showing(front, urls, text), started + WITHIN - time.monotonic())
    assert _showing(front, urls, text) == [], "came back"
    return latency


def test_a_deletion_leaves_every_url_of_the_blog_at_once(front):
    slug, entries = front.new_blog(5)
    urls = _kept(front, slug, entries)
    doomed = entries[1]
    assert len(_showing(front, urls, b"Update 1 of")) >= 3  # pages, permalinks, feeds

    latency = _gone_within(
        front, urls, b"Update 1 of", lambda: front.change_entry(doomed, "DELETE")
    )

    assert front.get(f"/{slug}/updates/{doomed['id']}").status == 410
    print(f"deletion gone from the front {latency * 1000:.0f} ms after the DELETE was sent")


def test_an_edit_and_a_blogs_end_leave_at_once_too(front):
    slug, entries = front.new_blog(3)
    urls = _kept(front, slug, entries)
    edited = entries[-1]

    latency = _gone_within(
        front, urls, b"Update 2 of", lambda: front.change_entry(edited, "PATCH", {"body": "Fixed."})
    )
    assert b"Fixed." in front.get(f"/{slug}/updates/{edited['id']}").body
    print(f"edit at the front {latency * 1000:.0f} ms after the PATCH was sent")

    started = time.monotonic()
    end = {"status": "ended"}
    front.server.api(front.deployment.admin_token, "PATCH", f"/api/v1/blogs/{slug}", end)
    wait_until(
        lambda: (
            b"blog-status-ended" in front.get(f"/{slug}/").body
            and b"blog-status-ended" in front.get("/").body
        ),
        WITHIN,
        "the front still shows the blog live",
    )
    print(f"end at the front {(time.monotonic() - started) * 1000:.0f} ms after the PATCH")


def test_a_refresh_reaches_the_very_next_reader(front):
    """The front holds each blog's seq in memory for a second; a refresh writes the new one
    over it before the app hears back, so no reader after it gets a copy under the old."""
    slug, _ = front.new_blog(1)
    page = f"/{slug}/"
    front.get(page)
    front.kept(page)
    front.post(slug, "Kept back for s-maxage.")  # new entries are not purged
    assert b"Kept back" not in front.get(page).body

    assert fetch(f"{front.nginx.purge_url}/{slug}/").status == 204
    assert b"Kept back" in front.get(page).body


def test_streams_go_through_unbuffered(front):
    slug, _ = front.new_blog(1)
    reader = SseReader(front.nginx.port, f"/{slug}/events")
    try:
        assert reader.wait_for(lambda r: r.retry is not None, 5), "no retry line through nginx"
        posted = time.monotonic()
        front.post(slug, "Through the front, at once.")
        assert reader.wait_for(lambda r: len(r.events) >= 1, 2), "the event was held back"
        assert reader.events[0].at - posted < 1.0
        assert reader.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in reader.headers
    finally:
        reader.close()
    polled = json.loads(front.get(f"/{slug}/changes?since=0").body)
    assert polled["seq"] >= 2


def test_only_the_apps_hosts_may_purge(front):
    slug, _ = front.new_blog(1)

    def purge_from(address: str) -> int:
        with socket.create_connection(
            (HOST, front.nginx.purge_port), timeout=5, source_address=(address, 0)
        ) as sock:
            sock.sendall(
                f"GET /purge/{slug}/ HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n".encode()
            )
            return int(sock.recv(4096).split()[1])

    assert purge_from("127.0.0.2") == 403
    assert purge_from("127.0.0.1") == 204
