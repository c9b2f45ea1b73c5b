"""Feeds: Atom, RSS and JSON Feed, read as a reader would, validated, cached per change."""

import ast
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from liveblog import feeds
from liveblog import publishing
from liveblog import store
from liveblog.models import utcnow
from liveblog.web.feeds import feed_cache
from tests.factories import open_blog
from tests.factories import statements_of_this_thread
from tests.feedreader import JSON_FEED_VALIDATOR
from tests.feedreader import read_feed
from tests.support import wait_until

FORMATS = ("atom", "rss", "json")
ATOM = "{http://www.w3.org/2005/Atom}"
RFC_3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
RFC_822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)


def moment(text):
    return datetime.fromisoformat(text)


def blog_row(session, slug="hama"):
    """The blog as stored now (ending any older snapshot of the session)."""
    session.rollback()
    return store.get_blog(session, slug)


def expected_id(session, entry_id, slug="hama"):
    created = blog_row(session, slug).created_at
    return f"tag:news.example,{created:%Y-%m-%d}:{slug}/updates/{entry_id}"


def same_time(fmt, seen, expected):
    """RSS dates have whole seconds; Atom and JSON Feed keep the microseconds."""
    expected = moment(expected) if isinstance(expected, str) else expected
    if fmt == "rss":
        expected = expected.replace(microsecond=0)
    return seen == expected


# What readers get


@pytest.mark.parametrize("fmt", FORMATS)
def test_feed_lists_published_entries_newest_first(api, client, session, fmt):
    early = api.post_entry(headline="Early", published_at="2017-03-24T07:00:00Z")
    late = api.post_entry(body="No headline", published_at="2017-03-24T09:00:00Z")
    middle = api.post_entry(headline="Middle", published_at="2017-03-24T08:00:00Z")
    api.post_entry(headline="Draft", status="draft")
    api.post_entry(headline="Later", status="scheduled", published_at="2999-01-01T00:00:00Z")

    feed = read_feed(client.get(f"/hama/feed.{fmt}"))

    assert [item.id for item in feed.items] == [
        expected_id(session, entry["id"]) for entry in (late, middle, early)
    ]
    assert [item.link for item in feed.items] == [
        f"https://news.example/hama/updates/{entry['id']}" for entry in (late, middle, early)
    ]
    assert [item.title for item in feed.items] == [
        "UPDATE 0900 GMT — Hama",
        "Middle — Hama",
        "Early — Hama",
    ]
    for item, entry in zip(feed.items, (late, middle, early), strict=True):
        assert same_time(fmt, item.published, entry["published_at"])
        assert item.author == api.user.name
        assert "<p>" in item.content
        if fmt != "rss":
            assert item.updated == moment(entry["published_at"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_feed_describes_the_blog(api, client, session, fmt):
    api.as_role("admin").patch(
        "/api/v1/blogs/hama",
        json={
            "standfirst": "Rebels push towards the city.",
            "language": "en-GB",
            "top_image": {"url": "/media/top.jpg", "alt": "Smoke over Hama"},
        },
    )
    api.post_entry()
    feed = read_feed(client.get(f"/hama/feed.{fmt}"))
    assert feed.title == "Hama"
    assert feed.subtitle == "Rebels push towards the city."
    assert feed.home == "https://news.example/hama/"
    assert feed.self_url == f"https://news.example/hama/feed.{fmt}"
    assert feed.language.lower() == "en-gb"
    assert feed.image == "https://news.example/media/top.jpg"
    assert feed.hubs == []
    if fmt != "json":
        assert same_time(fmt, feed.updated, blog_row(session).changed_at)


def test_feed_updated_is_the_blogs_last_change_not_the_time_of_the_request(api, client, session):
    api.post_entry(published_at="2017-03-24T07:00:00Z")
    changed_at = blog_row(session).changed_at
    wait_until(lambda: utcnow() > changed_at, message="the clock never moved on")
    document = ET.fromstring(client.get("/hama/feed.atom").data)
    assert moment(document.findtext(f"{ATOM}updated")) == changed_at


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_is_escaped_in_every_format(api, client, fmt):
    title = 'حماة: "الحصار" & <المعركة> 🔥'
    standfirst = 'Rebels & <troops> say "it\'s over" — انتهى 🕊️'
    headline = 'Tom & "Jerry\'s" <b>bold</b> a < b 🎉 حماة'
    api.as_role("admin").patch(
        "/api/v1/blogs/hama", json={"title": title, "standfirst": standfirst}
    )
    api.post_entry(headline=headline, body="a < b & c \"quoted\" 'single' 🎉 مرحبا")

    feed = read_feed(client.get(f"/hama/feed.{fmt}"))

    assert feed.title == title
    if fmt == "rss":
        # An RSS channel description is plain text, but feedparser takes "<troops>" for a
        # tag and drops it: check the document itself.
        document = ET.fromstring(client.get("/hama/feed.rss").data)
        assert document.findtext("channel/description") == standfirst
    else:
        assert feed.subtitle == standfirst
    assert feed.items[0].title == f"{headline} — {title}"
    assert "a &lt; b &amp; c" in feed.items[0].content
    assert "🎉 مرحبا" in feed.items[0].content


@pytest.mark.parametrize("fmt", ("atom", "rss"))
def test_characters_xml_cannot_carry_are_dropped(api, client, fmt):
    api.post_entry(headline="Bell\uffff rings")  # a noncharacter: valid JSON, not XML
    feed = read_feed(client.get(f"/hama/feed.{fmt}"))
    assert feed.items[0].title == "Bell rings — Hama"


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_edit_shows_in_the_feed_under_the_same_id(api, client, session, fmt):
    entry = api.post_entry(
        headline="Fist", body="Rebels advance.", published_at="2017-03-24T07:45:00Z"
    )
    before = read_feed(client.get(f"/hama/feed.{fmt}")).items[0]

    edited = api.edit_entry(entry, headline="First", body="Rebels **retreat**.").get_json()
    after = read_feed(client.get(f"/hama/feed.{fmt}")).items[0]

    assert after.id == before.id == expected_id(session, entry["id"])
    assert (before.title, after.title) == ("Fist — Hama", "First — Hama")
    assert "<strong>retreat</strong>" in after.content
    assert after.published == before.published
    if fmt != "rss":
        assert before.updated == moment(entry["published_at"])
        assert after.updated == moment(edited["edited_at"]) > before.updated


def test_pinning_is_not_a_correction(api, client):
    entry = api.post_entry(body="Rebels advance.", published_at="2017-03-24T07:45:00Z")
    api.edit_entry(entry, pinned=True)
    item = read_feed(client.get("/hama/feed.atom")).items[0]
    assert item.updated == moment(entry["published_at"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_deleted_entry_leaves_the_feed(api, client, fmt):
    kept = api.post_entry(headline="Kept")
    gone = api.post_entry(headline="Gone")
    response = api.delete(
        f"/api/v1/blogs/hama/entries/{gone['id']}", headers={"If-Match": f'"{gone["version"]}"'}
    )
    assert response.status_code == 204
    assert [
        item.link.rsplit("/", 1)[1] for item in read_feed(client.get(f"/hama/feed.{fmt}")).items
    ] == [str(kept["id"])]


def test_a_scheduled_entry_appears_when_its_time_comes(api, client, session):
    due = "2999-01-01T00:00:00+00:00"
    api.post_entry(headline="Now")
    api.post_entry(headline="Later", status="scheduled", published_at=due)
    assert [item.title for item in read_feed(client.get("/hama/feed.json")).items] == ["Now — Hama"]

    publishing.publish_due_entries(session, now=moment("2998-12-31T23:59:59+00:00"))
    assert [item.title for item in read_feed(client.get("/hama/feed.json")).items] == ["Now — Hama"]

    assert publishing.publish_due_entries(session, now=moment(due)) == 1
    titles = [item.title for item in read_feed(client.get("/hama/feed.json")).items]
    assert titles == ["Later — Hama", "Now — Hama"]


def test_feeds_hold_the_newest_feed_max_entries(app, api, client):
    app.config["FEED_MAX_ENTRIES"] = 2
    created = [api.post_entry(published_at=f"2017-03-24T0{hour}:00:00Z") for hour in (1, 2, 3)]
    for fmt in FORMATS:
        links = [item.link for item in read_feed(client.get(f"/hama/feed.{fmt}")).items]
        assert links == [created[2]["permalink"], created[1]["permalink"]]


def test_a_draft_blog_has_no_feeds(api, client):
    assert open_blog(api, slug="idlib", title="Idlib")["status"] == "draft"
    api.post_entry(blog="idlib")
    for path in feeds.feed_urls("", "idlib") + feeds.feed_urls("", "nowhere"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("variant", ["feed", "key-events"])
def test_an_ended_blog_says_so_in_its_feeds(api, client, session, fmt, variant):
    entry = api.post_entry(key_event=True)
    admin = api.as_role("admin")
    admin.patch("/api/v1/blogs/hama", json={"standfirst": "Rebels close in."})
    ended = admin.patch("/api/v1/blogs/hama", json={"status": "ended"}).get_json()

    feed = read_feed(client.get(f"/hama/{variant}.{fmt}"))
    assert feed.title.endswith("Hama (ended)")
    assert feed.subtitle == "This live blog has ended. Rebels close in."
    final, only = feed.items
    assert final.title == "This live blog has ended — Hama"
    assert final.link == "https://news.example/hama/"
    assert final.id == expected_id(session, entry["id"]).replace(f"updates/{entry['id']}", "ended")
    assert same_time(fmt, final.published, ended["ended_at"])
    assert "no more updates" in final.content
    assert only.id == expected_id(session, entry["id"])
    if fmt == "json":
        assert json.loads(client.get(f"/hama/{variant}.json").data)["expired"] is True

    admin.patch("/api/v1/blogs/hama", json={"status": "live"})
    reopened = read_feed(client.get(f"/hama/{variant}.{fmt}"))
    assert reopened.title.endswith("Hama") and len(reopened.items) == 1
    assert reopened.subtitle == "Rebels close in."


@pytest.mark.parametrize("fmt", FORMATS)
def test_key_events_feed_holds_key_events_only(api, client, session, fmt):
    key = api.post_entry(headline="Airport falls", key_event=True)
    api.post_entry(headline="Routine")
    demoted = api.post_entry(headline="Was key", key_event=True)
    api.edit_entry(demoted, key_event=False)

    feed = read_feed(client.get(f"/hama/key-events.{fmt}"))
    assert feed.title == "Key events — Hama"
    assert feed.self_url == f"https://news.example/hama/key-events.{fmt}"
    assert [item.id for item in feed.items] == [expected_id(session, key["id"])]
    assert feed.items[0].tags == ["Key event"]

    everything = read_feed(client.get(f"/hama/feed.{fmt}"))
    assert [item.tags for item in everything.items] == [[], [], ["Key event"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_key_events_query_redirects_to_the_key_events_feed(client, api, fmt):
    response = client.get(f"/hama/feed.{fmt}?key_events=1")
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://news.example/hama/key-events.{fmt}"
    assert client.get(f"/hama/feed.{fmt}?key_events=0").status_code == 200


def test_relative_urls_in_content_become_absolute(api, client):
    api.post_entry(
        blocks=[
            {"type": "text", "markdown": 'See [the map](/hama/updates/1) and `href="/kept"`.'},
            {"type": "image", "url": "/media/photo.jpg", "alt": "A street in Hama"},
        ]
    )
    for fmt in FORMATS:
        content = read_feed(client.get(f"/hama/feed.{fmt}")).items[0].content
        assert 'href="https://news.example/hama/updates/1"' in content, fmt
        assert 'src="https://news.example/media/photo.jpg"' in content, fmt
        assert 'href="/kept"' in content, fmt  # text inside <code>, not a link


def test_absolutize_rewrites_only_url_attributes_of_tags():
    base = "https://news.example"
    assert feeds.absolutize("<a href=\"/a\">x</a><img src='/b.png'>", base) == (
        "<a href=\"https://news.example/a\">x</a><img src='https://news.example/b.png'>"
    )
    assert (
        feeds.absolutize("""<a href="/it's">""", base) == """<a href="https://news.example/it's">"""
    )
    assert feeds.absolutize('<img src="//cdn.example/c.png">', base) == (
        '<img src="https://cdn.example/c.png">'
    )
    untouched = '<a href="https://elsewhere.example/">x</a> href="/text" <a title="a>b" href="#x">'
    assert feeds.absolutize(untouched, base) == untouched
    assert feeds.absolutize('<a title="a>b" href="/c">', base) == (
        '<a title="a>b" href="https://news.example/c">'
    )
    assert feeds.absolutize(
        '<img src="/a.jpg" srcset="/a-480w.jpg 480w, https://cdn.example/a.jpg 960w,/a.jpg 1000w">',
        base,
    ) == (
        '<img src="https://news.example/a.jpg" srcset="https://news.example/a-480w.jpg 480w, '
        'https://cdn.example/a.jpg 960w, https://news.example/a.jpg 1000w">'
    )
    geojson = """<figure data-geojson='{"href": "/x"}' data-lat="1">"""
    assert feeds.absolutize(geojson, base) == geojson


# Validity


def test_atom_has_what_rfc_4287_requires(api, client):
    api.as_role("admin").patch(
        "/api/v1/blogs/hama", json={"top_image": {"url": "/media/top.jpg", "alt": "Smoke"}}
    )
    api.post_entry(headline="Key", key_event=True, published_at="2017-03-24T07:45:00Z")
    api.post_entry()
    root = ET.fromstring(client.get("/hama/feed.atom").data)

    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert RFC_3339.match(root.findtext(f"{ATOM}updated"))
    assert root.findtext(f"{ATOM}id").startswith("tag:news.example,")
    links = root.findall(f"{ATOM}link")
    assert [link.get("href") for link in links if link.get("rel") == "self"] == [
        "https://news.example/hama/feed.atom"
    ]
    assert root.findtext(f"{ATOM}logo") == "https://news.example/media/top.jpg"
    feed_has_author = root.find(f"{ATOM}author") is not None
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert RFC_3339.match(entry.findtext(f"{ATOM}updated"))
        assert RFC_3339.match(entry.findtext(f"{ATOM}published"))
        assert feed_has_author or entry.findtext(f"{ATOM}author/{ATOM}name")
        alternates = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert len(alternates) == 1
        assert alternates[0].get("href").startswith("https://news.example/hama/updates/")
        assert entry.find(f"{ATOM}content").get("type") == "html"
    assert [c.get("term") for c in entries[1].findall(f"{ATOM}category")] == ["key-event"]


def test_rss_has_what_rss_2_requires(api, client):
    api.as_role("admin").patch(
        "/api/v1/blogs/hama", json={"top_image": {"url": "/media/top.jpg", "alt": "Smoke"}}
    )
    api.post_entry(headline="Key", key_event=True)
    api.post_entry()
    root = ET.fromstring(client.get("/hama/feed.rss").data)

    assert (root.tag, root.get("version")) == ("rss", "2.0")
    channels = root.findall("channel")
    assert len(channels) == 1
    channel = channels[0]
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    assert channel.findtext("link") == "https://news.example/hama/"
    assert RFC_822.match(channel.findtext("lastBuildDate"))
    assert channel.findtext("image/url") == "https://news.example/media/top.jpg"
    assert channel.findtext("image/link") == channel.findtext("link")
    self_links = [link for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert [link.get("href") for link in self_links] == ["https://news.example/hama/feed.rss"]
    items = channel.findall("item")
    assert len(items) == 2
    for item in items:
        assert item.findtext("title")
        assert item.findtext("link").startswith("https://news.example/hama/updates/")
        guid = item.find("guid")
        assert guid.text.startswith("tag:news.example,") and guid.get("isPermaLink") == "false"
        assert RFC_822.match(item.findtext("pubDate")), item.findtext("pubDate")
        assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
        assert item.find("author") is None  # RSS authors are email addresses; we keep those
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator")
    assert [c.text for c in items[1].findall("category")] == ["Key event"]


def test_json_feed_matches_the_json_feed_1_1_schema(api, client):
    api.as_role("admin").patch(
        "/api/v1/blogs/hama",
        json={"standfirst": "S", "top_image": {"url": "/media/top.jpg", "alt": "Smoke"}},
    )
    api.post_entry(headline="Key", key_event=True)
    api.post_entry()
    response = client.get("/hama/feed.json")
    assert response.mimetype == "application/feed+json"
    document = json.loads(response.data)
    assert list(JSON_FEED_VALIDATOR.iter_errors(document)) == []
    assert len(document["items"]) == 2


@pytest.mark.parametrize(
    "breakage",
    [
        lambda doc: doc.pop("version"),
        lambda doc: doc["items"][0].pop("id"),
        lambda doc: doc["items"][0].pop("content_html"),
        lambda doc: doc["items"][0].update(date_published="24 March 2017"),
        lambda doc: doc["items"][0].update(date_modifed="2017-03-24T07:45:00Z"),
        lambda doc: doc.update(hubs=[{"type": "WebSub"}]),
    ],
)
def test_the_json_feed_schema_rejects_broken_documents(api, client, breakage):
    api.post_entry()
    document = json.loads(client.get("/hama/feed.json").data)
    breakage(document)
    assert list(JSON_FEED_VALIDATOR.iter_errors(document))


def test_feed_responses_have_their_media_types(api, client):
    for fmt, media_type in feeds.MEDIA_TYPES.items():
        for path in (f"/hama/feed.{fmt}", f"/hama/key-events.{fmt}"):
            response = client.get(path)
            assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"


# Determinism and caching


def test_the_same_state_gives_byte_identical_feeds(make_app, api, client, session):
    api.post_entry(headline="One", key_event=True)
    api.post_entry(headline="Two")
    blog = blog_row(session)
    entries = store.published_entries(session, blog, limit=50)
    links = feeds.FeedLinks(
        base="https://news.example",
        home="https://news.example/hama/",
        self_url="https://news.example/hama/feed.atom",
        permalink=lambda entry: f"https://news.example/hama/updates/{entry.id}",
    )
    first = {fmt: feeds.build_feed(fmt, blog, entries, links) for fmt in FORMATS}
    built = utcnow()
    wait_until(lambda: utcnow() > built, message="the clock never moved on")
    for fmt in FORMATS:  # a build that used the clock would now differ
        assert feeds.build_feed(fmt, blog, entries, links) == first[fmt]

    # Another process (here: another app, so another cache) serves the same bytes.
    other = make_app()
    for path in feeds.feed_urls("", "hama"):
        assert other.test_client().get(path).data == client.get(path).data, path


def test_two_requests_build_a_feed_once_per_change(app, api, client):
    api.post_entry()
    cache = feed_cache(app)
    assert cache.builds == 0
    first = client.get("/hama/feed.atom")
    second = client.get("/hama/feed.atom")
    assert first.data == second.data
    assert cache.builds == 1

    client.get("/hama/feed.rss")
    client.get("/hama/key-events.atom")
    assert cache.builds == 3  # one per format and variant

    api.post_entry(headline="News")
    third = client.get("/hama/feed.atom")
    client.get("/hama/feed.atom")
    assert cache.builds == 4
    assert "News — Hama" in third.get_data(as_text=True)


def test_a_current_reader_gets_304_without_entries_being_loaded(app, api, client):
    api.post_entry()
    first = client.get("/hama/feed.json")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "s-maxage=" in first.headers["Cache-Control"]
    builds = feed_cache(app).builds

    with statements_of_this_thread(app) as statements:
        by_etag = client.get("/hama/feed.json", headers={"If-None-Match": etag})
        by_date = client.get("/hama/feed.json", headers={"If-Modified-Since": last_modified})

    assert (by_etag.status_code, by_date.status_code) == (304, 304)
    assert by_etag.data == b""
    assert by_etag.headers["ETag"] == etag
    assert feed_cache(app).builds == builds
    assert not [s for s in statements if re.search(r"\bentries\b", s)], statements

    assert client.get("/hama/feed.atom", headers={"If-None-Match": etag}).status_code == 200
    api.post_entry()
    assert client.get("/hama/feed.json", headers={"If-None-Match": etag}).status_code == 200


def test_feed_cache_builds_once_and_keeps_the_newest():
    cache = feeds.FeedCache(max_documents=2)
    assert cache.get("a", 1, lambda: b"a1") == b"a1"
    assert cache.get("a", 1, lambda: b"again") == b"a1"
    assert cache.get("a", 2, lambda: b"a2") == b"a2"
    assert cache.get("a", 1, lambda: b"old") == b"old"  # a late reader gets what it asked for
    assert cache.get("a", 2, lambda: b"rebuilt") == b"a2"  # but the newer one stays cached
    cache.get("b", 1, lambda: b"b1")
    cache.get("c", 1, lambda: b"c1")
    assert cache.get("a", 2, lambda: b"evicted") == b"evicted"
    assert cache.builds == 6


# Layout


@pytest.mark.parametrize("module", ("feeds.py", "websub.py"))
def test_core_modules_do_not_import_flask(module):
    source = (Path(__file__).parent.parent / "liveblog" / module).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert "flask" not in imported and "werkzeug" not in imported
