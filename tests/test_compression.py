"""gzip on the embedded server: what readers fetch comes compressed when they ask, a
cached page is compressed once, and streams are never held back."""

import gzip
import urllib.request

import pytest

from liveblog.web import compression
from liveblog.web.compression import accepts_gzip
from tests.servers import Server
from tests.servers import prepare
from tests.servers import running
from tests.support import soup

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("br", False),
    ],
)
def test_which_requests_take_gzip(header, takes):
    assert accepts_gzip(header) is takes


def reader_paths(api):
    entry = api.post_entry(body="Rebels advance on Qomhana. " * 100)
    return [
        "/hama/",
        f"/hama/updates/{entry['id']}",
        "/hama/feed.atom",
        "/hama/feed.rss",
        "/hama/feed.json",
        "/hama/changes?since=0",
        "/no-such-blog/",
    ]


def test_reader_answers_are_gzipped_for_clients_that_ask(api, client):
    page = soup(client.get("/hama/"))
    assets = [page.find("link", rel="stylesheet")["href"], page.find("script", src=True)["src"]]
    for path in reader_paths(api) + assets:
        with client.get(path) as plain, client.get(path, headers=GZIP) as packed:
            check_compressed(path, plain, packed)


def check_compressed(path, plain, packed):
    if len(plain.data) < compression.MIN_SIZE:  # the not-found page: not worth it
        assert packed.data == plain.data and "Content-Encoding" not in packed.headers
        return
    assert packed.headers["Content-Encoding"] == "gzip", path
    assert "Accept-Encoding" in packed.headers["Vary"], path
    assert gzip.decompress(packed.data) == plain.data, path
    assert int(packed.headers["Content-Length"]) == len(packed.data)
    assert "Content-Encoding" not in plain.headers
    if "ETag" in plain.headers:  # the same representation's bytes no longer
        assert packed.headers["ETag"] == "W/" + plain.headers["ETag"].removeprefix("W/")


def test_a_compressed_copy_still_revalidates_to_304(api, client):
    reader_paths(api)
    packed = client.get("/hama/", headers=GZIP)
    again = client.get("/hama/", headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")


def test_api_answers_are_gzipped_too(api):
    reader_paths(api)
    response = api.get("/api/v1/blogs/hama/entries", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data).startswith(b'{"items":')


def test_a_cached_page_is_compressed_once(api, client, monkeypatch):
    reader_paths(api)
    compressed = []
    original = compression.gzip.compress

    def counted(data, **options):
        compressed.append(len(data))
        return original(data, **options)

    monkeypatch.setattr(compression.gzip, "compress", counted)
    bodies = {client.get("/hama/", headers=GZIP).data for _ in range(5)}
    assert len(bodies) == 1 and len(compressed) == 1
    api.post_entry(body="A change makes a new page. " * 50)
    client.get("/hama/", headers=GZIP)
    assert len(compressed) == 2


def test_small_answers_heads_and_refusals_stay_as_they_are(api, client):
    reader_paths(api)
    assert "Content-Encoding" not in client.get("/hama/changes?since=99999").headers  # small
    assert "Content-Encoding" not in client.head("/hama/", headers=GZIP).headers
    refused = {"Accept-Encoding": "gzip;q=0, identity"}
    assert "Content-Encoding" not in client.get("/hama/", headers=refused).headers


def test_streams_are_not_compressed_or_held_back(api, client):
    with client.get("/hama/events", headers=GZIP) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert "Content-Encoding" not in stream.headers
        assert next(iter(stream.response)).startswith(b"retry:")


def test_liveblog_serve_compresses(tmp_path, sqlite_template):
    import shutil

    shutil.copy(sqlite_template, tmp_path / "db.sqlite")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    deployment = prepare(url)
    server = Server(url, tmp_path, workers=1)
    with running(server):
        entries = f"/api/v1/blogs/{deployment.slug}/entries"
        server.api(deployment.editor_token, "POST", entries, {"body": "Qomhana. " * 300})
        request = urllib.request.Request(f"{server.origin}/{deployment.slug}/", headers=GZIP)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert b"Qomhana." in gzip.decompress(response.read())
