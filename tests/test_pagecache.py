"""The page cache: reader responses answered from memory until their blog changes."""

from datetime import UTC
from datetime import datetime

import pytest
from flask import Flask
from werkzeug.test import Client

from liveblog import store
from liveblog.web import pagecache
from liveblog.web.pagecache import PageCache
from liveblog.web.pagecache import mark
from tests.factories import ApiClient
from tests.factories import statements_of_this_thread
from tests.factories import wait_until_current
from tests.support import wait_until


def page_cache(app: Flask) -> PageCache:
    found = app.extensions[pagecache.EXTENSION]
    assert isinstance(found, PageCache)
    return found


@pytest.fixture
def story(api):
    return [api.post_entry(body=f"Update number {n}.") for n in range(3)]


@pytest.mark.parametrize(
    "path",
    [
        "/hama/",
        "/hama/?before={cursor}",
        "/hama/updates/{first}",
        "/hama/feed.atom",
        "/hama/changes?since=1",
    ],
)
def test_a_reader_response_is_served_from_memory_until_the_blog_changes(
    app, client, api, story, path
):
    newest = story[-1]
    cursor = store.encode_cursor(datetime.fromisoformat(newest["published_at"]), newest["id"])
    path = path.format(cursor=cursor, first=story[0]["id"])
    first = client.get(path)
    assert first.status_code == 200
    wait_until_current(app)
    with statements_of_this_thread(app) as statements:
        again = client.get(path)
    assert statements == []
    assert again.data == first.data
    for name in ("ETag", "Last-Modified", "Content-Type", "Cache-Control"):
        assert again.headers[name] == first.headers[name]

    api.post_entry(body="Fresh news from the front.")
    with statements_of_this_thread(app) as statements:
        changed = client.get(path)
    assert statements, "a change sends the next request through to Flask"
    assert changed.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize("path", ["/hama/", "/hama/updates/{first}", "/hama/feed.atom"])
def test_a_deleted_blog_is_gone_at_once_from_the_cache(app, client, api, story, path):
    path = path.format(first=story[0]["id"])
    assert client.get(path).status_code == 200
    wait_until_current(app)
    admin = api.as_role("admin")
    etag = admin.get("/api/v1/blogs/hama").headers["ETag"]
    assert admin.delete("/api/v1/blogs/hama", headers={"If-Match": etag}).status_code == 204
    assert client.get(path).status_code == 410
    assert client.get(path).status_code == 410


def test_a_new_entry_shows_at_once_in_the_process_that_published_it(app, client, api, story):
    client.get("/hama/")
    wait_until_current(app)
    api.post_entry(body="Shelling reported near the airport.")
    assert b"Shelling reported near the airport." in client.get("/hama/").data


def test_revalidations_are_answered_from_memory(app, client, story):
    first = client.get("/hama/")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    wait_until_current(app)
    with statements_of_this_thread(app) as statements:
        exact = client.get("/hama/", headers={"If-None-Match": etag})
        weak = client.get("/hama/", headers={"If-None-Match": f'"other", W/{etag}'})
        by_date = client.get("/hama/", headers={"If-Modified-Since": last_modified})
        other = client.get("/hama/", headers={"If-None-Match": '"other"'})
        old_date = client.get(
            "/hama/", headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}
        )
    assert statements == []
    for response in (exact, weak, by_date):
        assert response.status_code == 304 and response.data == b""
        assert response.headers["ETag"] == etag
        assert "Last-Modified" not in response.headers  # the ETag is enough (RFC 9110)
        assert response.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert other.status_code == old_date.status_code == 200
    assert other.data == old_date.data == first.data


def test_a_revalidation_fills_a_cold_cache_with_validators(make_app, client, story):
    etag = client.get("/hama/").headers["ETag"]
    other = make_app()  # another process: an empty cache
    reader = other.test_client()
    assert reader.get("/hama/", headers={"If-None-Match": etag}).status_code == 304
    wait_until_current(other)
    with statements_of_this_thread(other) as statements:
        assert reader.get("/hama/", headers={"If-None-Match": etag}).status_code == 304
    assert statements == []
    with statements_of_this_thread(other) as statements:
        full = reader.get("/hama/")
    assert statements, "only the validators were known: the page itself is built"
    assert full.headers["ETag"] == etag


def test_another_process_change_reaches_the_cache_within_a_poll(app, make_app, client, api, story):
    client.get("/hama/")
    wait_until_current(app)
    other = make_app()
    ApiClient(other.test_client(), api.session).as_user(api.user).post_entry(
        body="Posted through another process."
    )
    wait_until(
        lambda: b"Posted through another process." in client.get("/hama/").data,
        message="the page never showed the other process's entry",
        interval=0.02,
    )


def test_without_a_current_source_every_request_reads_the_database(app, client, story):
    client.get("/hama/")
    wait_until_current(app)
    app.extensions["liveblog.live"].source.stop(timeout=5)
    with statements_of_this_thread(app) as statements:
        assert client.get("/hama/").status_code == 200
    assert any("FROM blogs" in statement for statement in statements)


def test_a_blog_taken_off_air_disappears_at_once(app, client, api, story):
    client.get("/hama/")
    wait_until_current(app)
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "draft"})
    assert client.get("/hama/").status_code == 404


def test_only_whole_successful_reader_responses_are_kept(app, client, api, story):
    cache = page_cache(app)
    client.get("/hama/updates/99999")
    client.get("/hama/?before=nonsense")
    client.get("/nope/")
    api.get("/api/v1/blogs/hama/entries")
    client.head("/hama/")
    assert len(cache) == 0

    first = client.get("/hama/")
    wait_until_current(app)
    with statements_of_this_thread(app) as statements:
        head = client.head("/hama/")
    assert statements == []
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(first.data))
    assert len(cache) == 1


@pytest.mark.parametrize(
    "header", [("Set-Cookie", "session=abc; HttpOnly"), ("Vary", "Accept-Encoding, Cookie")]
)
def test_a_response_for_one_visitor_is_never_kept(app, header):
    def personal(environ, start_response):
        mark(environ, 1, 1, datetime(2017, 3, 24, tzinfo=UTC))
        start_response("200 OK", [("ETag", '"mine"'), header])
        return [b"For your eyes only"]

    live = app.extensions["liveblog.live"]
    cache = PageCache(personal, live.notifier, live.source, 8)
    assert Client(cache).get("/hama/").data == b"For your eyes only"
    assert len(cache) == 0


def test_a_kept_response_is_framed_by_its_own_length(app):
    def streamed(environ, start_response):
        mark(environ, 1, 1, datetime(2017, 3, 24, tzinfo=UTC))
        start_response("200 OK", [("ETag", '"streamed"'), ("Content-Type", "text/plain")])
        return iter([b"UPDATE 0745 GMT: ", b"shelling resumed."])

    live = app.extensions["liveblog.live"]
    cache = PageCache(streamed, live.notifier, live.source, 8)
    Client(cache).get("/hama/")
    wait_until_current(app)
    status, headers, body = cache.answer(pagecache.cache_key("http", "/hama/", ""), None, None)
    assert body == b"UPDATE 0745 GMT: shelling resumed."
    assert ("Content-Length", str(len(body))) in headers


def test_a_path_split_inside_a_segment_is_never_kept(app, client, story):
    """A proxy's SCRIPT_NAME of /x on /xhama/ leaves PATH_INFO hama/, which routes to the
    blog hama: that page must not be kept as the answer for /xhama/."""
    split = client.get("/xhama/", environ_overrides={"SCRIPT_NAME": "/x", "PATH_INFO": "hama/"})
    assert split.status_code == 200
    assert len(page_cache(app)) == 0


def test_the_cache_holds_at_most_its_size(make_app, api, story):
    small = make_app(PAGE_CACHE_SIZE=2)
    reader = small.test_client()
    for entry in story:
        assert reader.get(f"/hama/updates/{entry['id']}").status_code == 200
    assert len(page_cache(small)) == 2


def test_a_size_of_zero_turns_the_cache_off(make_app):
    assert pagecache.EXTENSION not in make_app(PAGE_CACHE_SIZE=0).extensions


def test_a_front_that_knows_a_newer_seq_gets_nothing_older(app, client, api, story):
    page = client.get("/hama/")
    wait_until_current(app)
    seq = int(client.get("/hama/seq").headers["Liveblog-Seq"])
    with statements_of_this_thread(app) as statements:
        at_seq = client.get("/hama/", headers={"Liveblog-Seq": str(seq)})
    assert statements == [] and at_seq.data == page.data
    with statements_of_this_thread(app) as statements:
        beyond = client.get("/hama/", headers={"Liveblog-Seq": str(seq + 1)})
    assert statements, "a copy older than the front's seq goes through Flask"
    assert beyond.data == page.data  # the database is at seq: the same page, built again


@pytest.mark.parametrize("through", ["flask", "memory"])
def test_a_front_behind_the_blog_keeps_its_copy_rather_than_cost_a_second_render(
    app, client, api, story, through
):
    """nginx refreshing what it keeps under the old seq's key is told to keep it; it asks
    under the new seq's key once it learns that seq, and only that answer is rendered."""
    kept = client.get("/hama/")
    seq = int(client.get("/hama/seq").headers["Liveblog-Seq"])
    api.post_entry(body="News the front has not heard of.")
    if through == "memory":
        assert b"News the front" in client.get("/hama/").data
        wait_until_current(app)
    behind = {"Liveblog-Seq": str(seq), "If-None-Match": kept.headers["ETag"]}

    with statements_of_this_thread(app) as statements:
        refreshed = client.get("/hama/", headers=behind)

    assert (refreshed.status_code, refreshed.data) == (304, b"")
    assert refreshed.headers["ETag"] == kept.headers["ETag"]
    assert refreshed.headers["Cache-Control"] == kept.headers["Cache-Control"]
    assert (statements == []) == (through == "memory")
    # What the front asks once it knows the seq, or without a copy, is the blog as it is.
    for headers in (
        {**behind, "Liveblog-Seq": str(seq + 1)},
        {"Liveblog-Seq": str(seq)},
        {**behind, "If-None-Match": '"not one of ours"'},
    ):
        answer = client.get("/hama/", headers=headers)
        assert answer.status_code == 200 and b"News the front" in answer.data, headers
    assert client.get("/hama/", headers={"If-None-Match": kept.headers["ETag"]}).status_code == 200


@pytest.mark.parametrize("raw", ["", "x", "-1", "1.5", "٣", "9" * 13])
def test_a_seq_header_that_names_no_seq_sets_no_floor(app, client, story, raw):
    client.get("/hama/")
    wait_until_current(app)
    with statements_of_this_thread(app) as statements:
        client.get("/hama/", headers={"Liveblog-Seq": raw})
    assert statements == []


def test_the_seq_is_read_from_the_database_every_time(app, client, api, story):
    first = client.get("/hama/seq")
    assert first.status_code == 204 and first.data == b""
    assert first.headers["Cache-Control"] == client.get("/hama/").headers["Cache-Control"]
    assert "ETag" not in first.headers
    seq = int(first.headers["Liveblog-Seq"])
    assert seq == store.get_blog(api.session, "hama").last_seq
    wait_until_current(app)
    with statements_of_this_thread(app) as statements:
        client.get("/hama/seq")
    assert statements, "never answered from the page cache"
    api.post_entry(body="One more.")
    assert client.get("/hama/seq").headers["Liveblog-Seq"] == str(seq + 1)


def test_a_blog_readers_cannot_see_is_at_seq_0(client, api):
    api.as_role("admin").post("/api/v1/blogs", json={"slug": "idlib", "title": "Idlib"})
    for slug in ("idlib", "nowhere"):
        answer = client.get(f"/{slug}/seq")
        assert (answer.status_code, answer.headers["Liveblog-Seq"]) == (204, "0")
