"""oEmbed look-ups against a real HTTP provider on 127.0.0.1: snapshots, discovery, failures."""

import json
import socket
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from liveblog.embeds.fetch import Fetcher
from liveblog.embeds.resolver import Resolver
from liveblog.embeds.resolver import save_poster
from liveblog.embeds.snapshot import discover
from liveblog.embeds.snapshot import snapshot
from liveblog.errors import EmbedError
from liveblog.lru import LruCache
from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.support import TWEET
from tests.support import TWEET_ANSWER

SKEET = "https://bsky.app/profile/someone.bsky.social/post/3kabc2xyz"
SKEET_ANSWER = {
    "type": "rich",
    "version": "1.0",
    "author_name": "Some One",
    "author_url": "https://bsky.app/profile/someone.bsky.social",
    "html": (
        '<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:x/app.bsky.feed.post/3k">'
        '<p lang="ar">الثوار يتقدمون<br><br>Second paragraph</p>&mdash; Some One '
        '(<a href="https://bsky.app/profile/did:plc:x">@someone.bsky.social</a>) '
        '<a href="https://bsky.app/profile/did:plc:x/post/3k">March 24, 2017 at 7:45 AM</a>'
        '</blockquote><script async src="https://embed.bsky.app/static/embed.js"></script>'
    ),
}
VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.fixture
def provider():
    with fake_server() as server:
        yield server


def make_resolver(provider, *, timeout=2.0, max_bytes=64_000, allow_private=True, **options):
    endpoints = {
        key: provider.url(f"/{key}/oembed")
        for key in ("x", "bluesky", "mastodon", "youtube", "vimeo", "instagram")
    }
    return Resolver(
        Fetcher(timeout, max_bytes, allow_private=allow_private), endpoints=endpoints, **options
    )


def answer(provider, key, data, **options):
    provider.route(f"/{key}/oembed", json.dumps(data), **options)


def failure(resolver, url) -> EmbedError:
    with pytest.raises(EmbedError) as caught:
        resolver.resolve(url)
    return caught.value


# Snapshots


def test_a_post_is_looked_up_and_kept_as_a_snapshot(provider):
    answer(provider, "x", TWEET_ANSWER)
    resolved = make_resolver(provider).resolve(TWEET)
    assert resolved.block == {
        "type": "social",
        "url": TWEET,
        "provider": "x",
        "author_name": "Some One",
        "author_handle": "@someone",
        "author_url": "https://twitter.com/someone",
        "text": "Rebels have entered Qomhana\n& are moving south pic.twitter.com/abc",
        "posted_at": "2017-03-24T00:00:00+00:00",
    }
    assert resolved.cached is False
    (request,) = provider.requests
    query = parse_qs(urlsplit(request).query)
    assert query["url"] == [TWEET] and query["format"] == ["json"] and query["dnt"] == ["true"]


def test_paragraphs_handles_and_times_are_read_from_the_quote(provider):
    answer(provider, "bluesky", SKEET_ANSWER)
    block = make_resolver(provider).resolve(SKEET).block
    assert block["text"] == "الثوار يتقدمون\n\nSecond paragraph"
    assert block["author_handle"] == "@someone.bsky.social"
    assert block["posted_at"] == "2017-03-24T07:45:00+00:00"
    assert block["provider"] == "bluesky"


def test_without_a_quote_the_title_is_the_text_and_the_profile_gives_the_handle():
    block = snapshot(
        {
            "author_name": "Someone",
            "author_url": "https://mastodon.social/@someone",
            "title": "New post",
            "html": '<iframe src="https://mastodon.social/@someone/1/embed"></iframe>',
            "thumbnail_url": "https://files.mastodon.social/x.jpg",
        },
        "https://mastodon.social/@someone/109876543210",
    )
    assert block["text"] == "New post"
    assert block["author_handle"] == "@someone@mastodon.social"
    assert block["media"] == [{"url": "https://files.mastodon.social/x.jpg", "alt": "New post"}]


def test_mastodon_is_asked_on_the_posts_own_instance():
    resolver = Resolver(Fetcher(1, 1000))
    endpoint = resolver.endpoint("https://social.example.org/@someone/1234")
    assert endpoint.startswith("https://social.example.org/api/oembed?url=https%3A%2F%2Fsocial")


HOSTILE_ANSWER = {
    "author_name": "Evil\x00 <b>Name</b>\u202e",
    "author_url": "javascript:alert(1)",
    "thumbnail_url": "javascript:alert(2)",
    "html": (
        "<blockquote><p>&lt;script&gt;alert(1)&lt;/script&gt; said"
        "<script>stolen()</script><img src=x onerror=alert(1)>"
        '<a href="javascript:alert(3)" onclick="alert(4)">here</a>'
        "<style>p{}</style> \ud800broken</p></blockquote>"
    ),
}


def test_the_answer_is_read_as_text_and_cleaned_like_editor_input():
    block = snapshot(HOSTILE_ANSWER, TWEET)
    assert block == {
        "type": "social",
        "url": TWEET,
        "provider": "x",
        "author_name": "Evil <b>Name</b>\u202e",
        "text": "<script>alert(1)</script> saidhere \ufffdbroken",
    }


def test_overlong_text_is_cut_to_what_a_block_holds():
    block = snapshot({"html": f"<blockquote><p>{'word ' * 3000}</p></blockquote>"}, TWEET)
    assert len(block["text"]) == 10_000 and block["text"].endswith("…")


def test_a_video_gets_its_title_and_its_thumbnail_stored_here_as_the_poster(provider, tmp_path):
    thumbnail = provider.route(
        "/vi/hq.jpg", image_bytes((480, 360), "JPEG"), content_type="image/jpeg"
    )
    answer(
        provider, "youtube", {"type": "video", "title": "Drone footage", "thumbnail_url": thumbnail}
    )
    block = (
        make_resolver(provider, save_poster=lambda data: save_poster(data, tmp_path))
        .resolve(VIDEO)
        .block
    )
    poster = block.pop("poster")
    assert block == {"type": "video", "url": VIDEO, "provider": "youtube", "title": "Drone footage"}
    assert poster["url"].startswith("/media/uploads/") and poster["width"] == 480
    assert (tmp_path / poster["url"].removeprefix("/media/")).is_file()


def test_a_video_whose_thumbnail_cannot_be_fetched_has_no_poster(provider, tmp_path):
    answer(
        provider,
        "youtube",
        {"type": "video", "title": "Clip", "thumbnail_url": provider.url("/gone.jpg")},
    )
    block = (
        make_resolver(provider, save_poster=lambda data: save_poster(data, tmp_path))
        .resolve(VIDEO)
        .block
    )
    assert "poster" not in block and block["title"] == "Clip"


# Discovery


def test_an_unknown_site_is_asked_through_the_link_its_page_advertises(provider):
    endpoint = provider.route("/services/oembed", json.dumps(TWEET_ANSWER | {"author_url": None}))
    page = provider.route(
        "/news/story-1",
        '<!doctype html><html><head><title>x</title><link rel="alternate" '
        f'type="application/json+oembed" href="/services/oembed?url={provider.url("/news/story-1")}">'
        "</head><body></body></html>",
        content_type="text/html",
    )
    block = make_resolver(provider).resolve(page).block
    assert block["provider"] == "other" and block["url"] == page
    assert block["text"].startswith("Rebels have entered Qomhana")
    assert provider.paths() == ["/news/story-1", urlsplit(endpoint).path]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            '<link rel="alternate" type="application/json+oembed" href="/o">',
            "https://site.example/o",
        ),
        (
            '<LINK REL="Alternate Home" TYPE="application/json+oembed" HREF="x">',
            "https://site.example/a/x",
        ),
        ('<link rel="alternate" type="text/xml+oembed" href="/o.xml">', None),
        ('<link rel="alternate" type="application/json+oembed" href="javascript:alert(1)">', None),
        ("<p>nothing here</p>", None),
    ],
)
def test_discovery_reads_the_json_oembed_link(page, expected):
    assert discover(page, "https://site.example/a/b") == expected


def test_a_page_without_oembed_asks_for_a_hand_written_snapshot(provider):
    page = provider.route("/plain", "<html><head></head></html>", content_type="text/html")
    error = failure(make_resolver(provider), page)
    assert error.status == 422
    assert "does not offer oEmbed" in error.detail and "by hand" in error.detail


def test_a_link_to_something_other_than_a_page_is_not_discovered(provider):
    picture = provider.route("/photo.png", image_bytes(), content_type="image/png")
    error = failure(make_resolver(provider), picture)
    assert error.status == 422 and "did not send a web page" in error.detail


def test_telegram_has_no_endpoint_so_its_page_is_tried(provider):
    resolver = make_resolver(provider)
    assert "telegram" not in resolver.endpoints
    resolver.endpoints["telegram"] = provider.url("/telegram/oembed")
    answer(
        provider,
        "telegram",
        {"author_name": "Channel", "html": "<blockquote><p>Hi</p></blockquote>"},
    )
    assert resolver.resolve("https://t.me/somechannel/1234").block["author_name"] == "Channel"


# Failures: each gives the editor a message that says what happened and what to do


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("route", "status", "message"),
    [
        ({"status": 404}, 502, "says this post does not exist"),
        ({"status": 410}, 502, "says this post does not exist"),
        ({"status": 403}, 502, "will not share this post"),
        ({"status": 429}, 502, "too many look-ups"),
        ({"status": 500}, 502, "could not answer (HTTP 500)"),
        ({"body": b"x" * 70_000}, 502, "sent more than 62 kB"),
        ({"body": b"x" * 70_000, "send_length": False}, 502, "sent more than 62 kB"),
        ({"body": b"<html>Rate limited</html>"}, 502, "not valid oEmbed (it is not JSON)"),
        ({"body": b'["a", "list"]'}, 502, "not valid oEmbed (not a JSON object)"),
        ({"body": b"[" * 30_000 + b"]" * 30_000}, 502, "not valid oEmbed (it nests too deeply)"),
        ({"body": b"\xff\xfe{"}, 502, "not valid oEmbed"),
        ({"delay": 1.0}, 504, "did not answer within 0.3 seconds"),
    ],
    ids=[
        "404", "410", "403", "429", "500", "oversized", "oversized-unannounced", "not-json",
        "not-an-object", "deeply-nested", "bad-bytes", "timeout",
    ],
)  # fmt: skip
def test_each_failure_of_the_provider_has_a_clear_message(provider, route, status, message):
    route = dict(route)  # parameters are shared by every run of the test
    provider.route("/x/oembed", route.pop("body", b"{}"), **route)
    error = failure(make_resolver(provider, timeout=0.3), TWEET)
    assert (error.status, message in error.detail) == (status, True), error.detail
    assert "127.0.0.1" in error.detail
    assert "by hand" in error.detail


def test_a_content_length_python_cannot_read_as_a_number_is_no_server_error(provider):
    """A superscript two is a digit to str.isdigit() but not to int(), which also refuses
    4,301 digits: the first is no length at all, the second more than any cap."""
    for length, outcome in [("²", "ok"), ("9" * 4301, "sent more than 62 kB")]:
        headers = (("Content-Length", length),)
        answer(provider, "x", TWEET_ANSWER, send_length=False, headers=headers)
        try:
            detail = "ok" if make_resolver(provider).resolve(TWEET).block["text"] else "no text"
        except EmbedError as error:
            detail = error.detail
        assert outcome in detail, length[:10]


def test_an_unreachable_provider_is_named():
    resolver = Resolver(
        Fetcher(1, 1000, allow_private=True),
        endpoints={"x": f"http://127.0.0.1:{closed_port()}/oembed"},
    )
    error = failure(resolver, TWEET)
    assert error.status == 502
    assert error.detail.startswith("Could not reach 127.0.0.1 (") and "by hand" in error.detail


def test_private_addresses_are_never_fetched_unless_allowed(provider):
    answer(provider, "x", TWEET_ANSWER)
    error = failure(make_resolver(provider, allow_private=False), TWEET)
    assert error.status == 422 and "private or local address" in error.detail
    assert provider.requests == []


def test_redirects_are_followed_a_few_times_over_http_only(provider):
    answer(provider, "moved", TWEET_ANSWER)
    provider.route("/x/oembed", status=301, headers=(("Location", "/moved/oembed"),))
    assert make_resolver(provider).resolve(TWEET).block["author_name"] == "Some One"

    provider.route("/x/oembed", status=302, headers=(("Location", "file:///etc/passwd"),))
    assert "HTTP 302" in failure(make_resolver(provider), TWEET).detail

    for hop in range(1, 6):
        provider.route(f"/r{hop}", status=302, headers=(("Location", f"/r{hop + 1}"),))
    resolver = make_resolver(provider)
    resolver.endpoints["x"] = provider.url("/r1")
    before = len(provider.requests)
    assert "HTTP 302" in failure(resolver, TWEET).detail
    assert provider.paths()[before:] == ["/r1", "/r2", "/r3", "/r4"]  # three redirects at most


def test_meta_providers_need_the_app_token(provider):
    post = "https://www.instagram.com/p/C4abcDEF/"
    error = failure(make_resolver(provider), post)
    assert error.status == 422 and "LIVEBLOG_OEMBED_META_TOKEN" in error.detail
    assert provider.requests == []

    answer(provider, "instagram", {"author_name": "someone", "title": "A photo"})
    block = make_resolver(provider, meta_token="1|abc").resolve(post).block
    assert block["author_name"] == "someone" and block["provider"] == "instagram"
    assert parse_qs(urlsplit(provider.requests[-1]).query)["access_token"] == ["1|abc"]


def test_a_link_that_is_not_http_is_refused_before_any_fetch(provider):
    error = failure(make_resolver(provider), "javascript:alert(1)")
    assert error.status == 422 and error.detail == "The link must be an http(s) URL."


# Cache


def test_answers_are_cached_for_a_while(provider):
    now = [1000.0]
    resolver = make_resolver(provider, snapshots=LruCache(512, ttl=60, clock=lambda: now[0]))
    answer(provider, "x", TWEET_ANSWER)
    first = resolver.resolve(TWEET)
    second = resolver.resolve(TWEET)
    assert (first.cached, second.cached) == (False, True)
    assert second.block == first.block and len(provider.requests) == 1
    second.block["text"] = "changed by a caller"
    assert resolver.resolve(TWEET).block == first.block

    now[0] += 61
    assert resolver.resolve(TWEET).cached is False
    assert len(provider.requests) == 2


def test_failures_are_not_cached(provider):
    resolver = make_resolver(provider, snapshots=LruCache(512, ttl=60))
    provider.route("/x/oembed", status=503)
    failure(resolver, TWEET)
    answer(provider, "x", TWEET_ANSWER)
    assert resolver.resolve(TWEET).cached is False
