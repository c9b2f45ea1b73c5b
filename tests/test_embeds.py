"""Embeds through the API and on every reader surface: the live page, the permalink, the
feeds and the live-update payloads; the oEmbed look-up endpoint; providers' widgets."""

import io
import json
import xml.etree.ElementTree as ET

import pytest

from tests.factories import assert_problem
from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.feedreader import read_feed
from tests.support import TWEET
from tests.support import TWEET_ANSWER
from tests.support import soup

BASE = "https://news.example"
HOSTILE = "<script>alert(1)</script>\"'&<img src=x onerror=alert(1)>"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def provider(app):
    """A fake oEmbed provider on 127.0.0.1 that the app's look-ups are pointed at."""
    with fake_server() as server:
        app.config.update(
            OEMBED_ENDPOINTS={key: server.url(f"/{key}/oembed") for key in ("x", "youtube")},
            FETCH_PRIVATE_ADDRESSES=True,
            OEMBED_TIMEOUT=0.3,
        )
        yield server


def resolve(api, url, **kwargs):
    return api.post("/api/v1/embeds/resolve", json={"url": url}, **kwargs)


def upload(api, data, name="photo.jpg"):
    return api.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


# Looking posts up


def test_an_editor_resolves_a_post_checks_it_and_publishes_it(api, client, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    response = resolve(api, TWEET)
    assert response.status_code == 200, response.get_json()
    block = response.get_json()["block"]
    assert block["author_handle"] == "@someone" and block["text"].startswith("Rebels have entered")
    assert response.get_json()["cached"] is False
    assert resolve(api, TWEET).get_json()["cached"] is True
    assert len(provider.requests) == 1

    entry = api.post_entry(blocks=[block])
    figure = soup(client.get("/hama/").data).select_one(f"#update-{entry['id']} .block-social")
    assert figure.select_one("blockquote")["cite"] == TWEET
    assert figure.select_one(".social-handle").get_text() == "@someone"
    assert figure.select_one("time")["datetime"] == "2017-03-24T00:00:00+00:00"
    assert figure.select_one("a.social-original")["href"] == TWEET


@pytest.mark.parametrize(
    ("route", "status", "detail"),
    [
        ({"status": 404}, 502, "says this post does not exist"),
        ({"delay": 1.0}, 504, "did not answer within 0.3 seconds"),
        ({"body": b"x" * 600_000}, 502, "sent more than"),
        ({"body": b"<html>"}, 502, "not valid oEmbed"),
    ],
    ids=["404", "timeout", "oversized", "malformed"],
)
def test_a_failed_look_up_explains_itself_and_the_post_can_be_written_by_hand(
    api, provider, route, status, detail
):
    route = dict(route)  # parameters are shared by every run of the test
    provider.route("/x/oembed", route.pop("body", b"{}"), **route)
    problem = assert_problem(resolve(api, TWEET), status)
    assert detail in problem["detail"] and "by hand" in problem["detail"]
    assert problem["block"] == {"type": "social", "url": TWEET, "provider": "x"}

    by_hand = {**problem["block"], "author_name": "Some One", "text": "Rebels have entered."}
    entry = api.post_entry(blocks=[by_hand])
    assert "Rebels have entered." in entry["html"]


def test_an_unreachable_provider_is_a_bad_gateway(app, api, provider):
    provider.stop()
    problem = assert_problem(resolve(api, TWEET), 502)
    assert problem["detail"].startswith("Could not reach 127.0.0.1")


def test_private_addresses_are_refused_by_default(app, api, provider):
    app.config["FETCH_PRIVATE_ADDRESSES"] = False
    problem = assert_problem(resolve(api, provider.url("/article")), 422)
    assert "private or local address" in problem["detail"]
    assert provider.requests == []


def test_resolving_needs_a_url(api):
    problem = assert_problem(resolve(api, "javascript:alert(1)"), 422)
    assert problem["errors"] == [{"field": "url", "message": "must be an http(s) URL"}]
    problem = assert_problem(api.post("/api/v1/embeds/resolve", json={}), 422)
    assert problem["errors"] == [{"field": "url", "message": "is required"}]
    assert_problem(api.post("/api/v1/embeds/resolve", data="url=x"), 415)


def test_contributors_resolve_and_strangers_do_not(api, client, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    assert resolve(api.as_role("contributor"), TWEET).status_code == 200
    assert_problem(client.post("/api/v1/embeds/resolve", json={"url": TWEET}), 401)
    assert_problem(client.post("/api/v1/uploads"), 401)


def test_a_resolved_video_gets_a_poster_stored_here(api, client, provider):
    thumbnail = provider.route(
        "/vi/hq.jpg", image_bytes((1280, 720), "JPEG"), content_type="image/jpeg"
    )
    provider.route(
        "/youtube/oembed", json.dumps({"title": "Drone footage", "thumbnail_url": thumbnail})
    )
    url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=75"
    block = resolve(api, url).get_json()["block"]
    assert block["type"] == "video" and block["title"] == "Drone footage"
    poster = block["poster"]
    assert (poster["width"], poster["height"]) == (1280, 720)
    with client.get(poster["url"]) as response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"

    entry = api.post_entry(blocks=[block])
    link = soup(entry["html"]).select_one("a.video-poster")
    assert link["href"] == url
    assert link["data-player"] == (
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1&start=75"
    )
    assert link.select_one("img")["src"] == poster["url"]
    assert link.select_one(".video-title").get_text() == "Drone footage"


# Uploads


def test_an_uploaded_photo_is_stored_with_its_sizes_and_served_for_a_year(api, client):
    response = upload(api, image_bytes((2000, 1000), "JPEG"))
    assert response.status_code == 201, response.get_json()
    saved = response.get_json()
    assert saved["url"].startswith("/media/uploads/") and saved["url"].endswith(".jpg")
    assert response.headers["Location"] == saved["url"]
    assert (saved["width"], saved["height"], saved["type"]) == (2000, 1000, "image/jpeg")
    assert [size["width"] for size in saved["sizes"]] == [480, 960, 1600, 2000]
    assert saved["srcset"].endswith(f"{saved['url']} 2000w")
    for size in saved["sizes"]:
        with client.get(size["url"]) as served:
            assert served.status_code == 200
            assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert served.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("data", "name", "status", "detail"),
    [
        (b"GIF89a not really", "photo.gif", 415, "not a JPEG, PNG, WebP or GIF image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "photo.png", 415, "judged by its content"),
        (image_bytes(fmt="JPEG")[:300], "photo.jpg", 422, "damaged or incomplete"),
        (image_bytes((64, 64), "BMP"), "photo.bmp", 415, "not a JPEG"),
        (b"", "empty.jpg", 400, "The file is empty."),
    ],
    ids=["fake-gif", "svg", "truncated", "bmp", "empty"],
)
def test_uploads_are_judged_by_their_content(api, data, name, status, detail):
    problem = assert_problem(upload(api, data, name), status)
    assert detail in problem["detail"]


def test_uploads_have_a_size_limit(app, api):
    app.config["UPLOAD_MAX_BYTES"] = 50_000
    problem = assert_problem(upload(api, b"x" * 50_001), 413)
    assert problem["detail"] == "The image is larger than the 50,000 bytes this server accepts."
    problem = assert_problem(upload(api, b"x" * 200_000), 413)
    assert "50,000 bytes" in problem["detail"]


def test_uploads_may_be_larger_than_other_requests(app, api):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    assert upload(api, image_bytes((800, 800), "PNG", "white") + b"\0" * 20_000).status_code == 201


def test_an_upload_needs_its_file_field(api):
    problem = assert_problem(api.post("/api/v1/uploads", data={"other": "x"}), 400)
    assert "field named 'file'" in problem["detail"]


# Every block on every surface


def hostile_entry(api, tmp_path):
    """One entry with each block type, hostile text in every text field, local images only."""
    photo = upload(api, image_bytes((1200, 800), "JPEG")).get_json()
    poster = upload(api, image_bytes((640, 360), "PNG")).get_json()
    return api.post_entry(
        headline=HOSTILE,
        blocks=[
            {"type": "text", "markdown": f"{HOSTILE} [x](javascript:alert(1))"},
            {
                "type": "social",
                "url": TWEET,
                "author_name": HOSTILE,
                "author_handle": HOSTILE,
                "author_url": "https://twitter.com/someone",
                "text": f"{HOSTILE}\n\nSecond paragraph",
                "posted_at": "2017-03-24T07:00:00Z",
                "media": [{"url": poster["url"], "alt": HOSTILE}],
            },
            {
                "type": "map",
                "center": {"lat": 35.2, "lon": 36.7},
                "zoom": 9,
                "markers": [{"lat": 35.2094, "lon": 36.7539, "label": HOSTILE}],
                "geojson": {
                    "type": "Feature",
                    "properties": {"name": HOSTILE, "'></figure><script>x</script>": 1},
                    "geometry": {"type": "LineString", "coordinates": [[36.7, 35.2], [36.8, 35.3]]},
                },
                "image": {"url": photo["url"], "alt": HOSTILE},
                "caption": HOSTILE,
                "credit": HOSTILE,
            },
            {
                "type": "image",
                "url": photo["url"],
                "alt": HOSTILE,
                "caption": HOSTILE,
                "credit": HOSTILE,
                "width": photo["width"],
                "height": photo["height"],
            },
            {
                "type": "video",
                "url": "https://vimeo.com/123456789",
                "title": HOSTILE,
                "poster": {"url": poster["url"], "width": 640, "height": 360},
                "caption": HOSTILE,
            },
        ],
    )


def surfaces(client, entry):
    """The entry's HTML as each surface delivers it."""
    found = {}
    page = soup(client.get("/hama/").data)
    found["live page"] = str(page.select_one(f"#update-{entry['id']}"))
    permalink = soup(client.get(f"/hama/updates/{entry['id']}").data)
    found["permalink"] = str(permalink.select_one(f"#update-{entry['id']}"))
    atom = ET.fromstring(client.get("/hama/feed.atom").data)
    found["atom"] = atom.find(f"{ATOM}entry/{ATOM}content").text
    rss = ET.fromstring(client.get("/hama/feed.rss").data)
    found["rss"] = rss.find("channel/item/description").text
    found["json feed"] = json.loads(client.get("/hama/feed.json").data)["items"][0]["content_html"]
    events = client.get("/hama/changes?since=0").get_json()["events"]
    found["live update"] = next(e["html"] for e in events if e.get("entry_id") == entry["id"])
    return found


SURFACES = ["live page", "permalink", "atom", "rss", "json feed", "live update"]


@pytest.fixture
def every_block(api, client, tmp_path):
    entry = hostile_entry(api, tmp_path)
    return entry, surfaces(client, entry)


@pytest.mark.parametrize("surface", SURFACES)
def test_every_block_renders_on_every_surface(every_block, surface):
    entry, found = every_block
    html = soup(found[surface])
    kinds = [figure["class"][1] for figure in html.select(".block")]
    assert kinds == ["block-text", "block-social", "block-map", "block-image", "block-video"]
    social = html.select_one(".block-social")
    assert [p.get_text() for p in social.select("blockquote p")] == [HOSTILE, "Second paragraph"]
    assert social.select_one(".social-author a").get_text() == HOSTILE
    assert social.select_one("time")["datetime"] == "2017-03-24T07:00:00+00:00"
    assert social.select_one("a.social-original")["href"] == TWEET
    map_ = html.select_one(".block-map")
    assert json.loads(map_["data-geojson"])["properties"]["name"] == HOSTILE
    assert map_.select_one(".map-places li a").get_text() == HOSTILE
    assert map_.select_one(".map-places li a")["href"].startswith("https://www.openstreetmap.org/")
    assert map_.select_one("img.map-image")["alt"] == HOSTILE
    image = html.select_one(".block-image img")
    assert image["alt"] == HOSTILE and len(image["srcset"].split(",")) == 3
    video = html.select_one(".block-video a.video-poster")
    assert video["href"] == "https://vimeo.com/123456789"
    assert video["data-player"] == "https://player.vimeo.com/video/123456789?autoplay=1&dnt=1"
    assert video.select_one(".video-title").get_text() == HOSTILE


@pytest.mark.parametrize("surface", SURFACES)
def test_no_surface_runs_hostile_input_or_asks_a_third_party_for_anything(every_block, surface):
    entry, found = every_block
    html = soup(found[surface])
    assert html.find_all(["script", "iframe", "style", "object", "embed"]) == []
    for element in html.find_all(True):
        assert not [name for name in element.attrs if name.startswith("on") or name == "style"]
        for name in ("href", "cite"):
            if element.has_attr(name):
                assert element[name].startswith(("https://", "/", "#")), element
        # Nothing is fetched from another site before a reader asks: every picture is ours.
        if element.has_attr("src"):
            assert element["src"].startswith(("/media/", f"{BASE}/media/")), element
        if element.has_attr("srcset"):
            for candidate in element["srcset"].split(","):
                assert candidate.strip().startswith(("/media/", f"{BASE}/media/")), element
    assert "javascript:" not in found[surface]


def test_feeds_make_every_local_address_absolute(every_block):
    entry, found = every_block
    for surface in ("atom", "rss", "json feed"):
        html = soup(found[surface])
        for element in html.select("[src], [srcset]"):
            urls = [element.get("src")] + [
                candidate.split()[0]
                for candidate in element.get("srcset", "").split(",")
                if candidate
            ]
            assert all(url.startswith(f"{BASE}/media/uploads/") for url in urls if url), element


def test_a_feed_reader_sees_the_quote_the_places_and_the_video_link(api, client, every_block):
    item = read_feed(client.get("/hama/feed.atom")).items[0]
    html = soup(item.content)
    assert html.select_one("blockquote p").get_text() == HOSTILE
    assert html.find("a", href="https://twitter.com/someone") is not None
    places = [a["href"] for a in html.find_all("a", string=HOSTILE)]
    assert any(href.startswith("https://www.openstreetmap.org/?mlat=35.2094") for href in places)
    assert html.find("a", href="https://vimeo.com/123456789") is not None


# Pages: scripts, settings, widgets


def page(client, path="/hama/"):
    response = client.get(path)
    return response, soup(response.data)


def test_pages_load_the_embed_scripts_from_this_site_with_the_tile_settings(app, api, client):
    app.config.update(
        MAP_TILE_URL="http://{s}.tiles.example:8080/{z}/{x}/{y}.png",
        MAP_TILE_ATTRIBUTION='Tiles <a href="https://tiles.example" onclick="x()">Example</a><script>x</script>',
    )
    entry = api.post_entry(body="Hello")
    for path in ("/hama/", f"/hama/updates/{entry['id']}"):
        response, html = page(client, path)
        map_script = html.select_one('script[src*="/map.js"]')
        assert map_script["src"].startswith("/assets/default/")
        assert map_script["data-leaflet"].endswith("/vendor/leaflet/leaflet.js")
        assert map_script["data-leaflet-css"].endswith("/vendor/leaflet/leaflet.css")
        assert map_script["data-tiles"] == "http://{s}.tiles.example:8080/{z}/{x}/{y}.png"
        assert map_script["data-attribution"] == (
            'Tiles <a href="https://tiles.example" rel="nofollow noopener">Example</a>x'
        )
        assert html.select_one('script[src*="/video.js"]') is not None
        assert html.select_one('script[src*="/widgets.js"]') is None
        policy = response.headers["Content-Security-Policy"]
        assert "img-src 'self' https: data: http://*.tiles.example:8080;" in policy
        assert "script-src 'self';" in policy
        for script in html.select("script[src]"):
            assert script["src"].startswith("/assets/")
    with client.get(map_script["data-leaflet"]) as leaflet:
        assert leaflet.status_code == 200 and b"Leaflet" in leaflet.data[:200]


def test_leaflet_comes_with_its_licence_and_images(client):
    for name in ("LICENSE", "leaflet.css", "images/marker-icon.png", "images/layers.png"):
        with client.get(f"/assets/default/x/vendor/leaflet/{name}") as response:
            assert response.status_code == 200, name


def test_provider_widgets_only_for_blogs_that_opt_in(api, client):
    api.post_entry(
        blocks=[
            {"type": "social", "url": TWEET, "text": "Quoted"},
            {"type": "social", "url": "https://social.example.org/@someone/1234", "text": "Toot"},
        ]
    )
    response, html = page(client)
    assert html.select_one('script[src*="widgets.js"]') is None
    assert "twitter" not in response.headers["Content-Security-Policy"]

    admin = api.as_role("admin")
    blog = admin.patch("/api/v1/blogs/hama", json={"embed_widgets": True}).get_json()
    assert blog["embed_widgets"] is True
    response, html = page(client)
    widgets = json.loads(html.select_one('script[src*="widgets.js"]')["data-widgets"])
    assert widgets["x"] == "https://platform.twitter.com/widgets.js"
    assert widgets["mastodon"] == "https://{host}/embed.js"
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"].split() == [
        "'self'",
        "https://platform.twitter.com",
        "https://cdn.syndication.twimg.com",
        "https://embed.bsky.app",
        "https://www.instagram.com",
        "https://www.threads.net",
        "https://social.example.org",
    ]
    assert "https://social.example.org" in policy["frame-src"].split()
    assert "https://www.youtube-nocookie.com" in policy["frame-src"].split()
    # The stored entry, and so the feeds, carry no widget script either way.
    assert b"platform.twitter.com" not in client.get("/hama/feed.atom").data

    problem = assert_problem(admin.patch("/api/v1/blogs/hama", json={"embed_widgets": "yes"}), 422)
    assert problem["errors"] == [{"field": "embed_widgets", "message": "must be true or false"}]


def test_the_top_photo_is_an_upload_too(api, client):
    photo = upload(api, image_bytes((1600, 900), "JPEG")).get_json()
    top = {"url": photo["url"], "alt": "Smoke", "width": 1600, "height": 900}
    blog = api.as_role("admin").patch("/api/v1/blogs/hama", json={"top_image": top}).get_json()
    assert blog["top_image"] == top
    image = page(client)[1].select_one(".blog-top-image img")
    assert (image["src"], image["width"], image["height"]) == (photo["url"], "1600", "900")
    assert image["srcset"] == photo["srcset"]


BROKEN = "Qomhana \ud800 taken"


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({"type": "social", "url": TWEET, "text": BROKEN}, "text"),
        ({"type": "social", "text": "x", "author_name": BROKEN}, "author_name"),
        (
            {"type": "social", "text": "x", "media": [{"url": "/m.jpg", "alt": BROKEN}]},
            "media[0].alt",
        ),
        (
            {
                "type": "map",
                "center": {"lat": 1, "lon": 2},
                "markers": [{"lat": 1, "lon": 2, "label": BROKEN}],
            },
            "markers[0].label",
        ),
        (
            {
                "type": "map",
                "center": {"lat": 1, "lon": 2},
                "image": {"url": "/m.png", "alt": BROKEN},
            },
            "image.alt",
        ),
        (
            {
                "type": "map",
                "center": {"lat": 1, "lon": 2},
                "geojson": {"type": "Feature", "properties": {"n": BROKEN}, "geometry": None},
            },
            "geojson",
        ),
        ({"type": "image", "url": "/m.png", "alt": BROKEN}, "alt"),
        ({"type": "video", "url": "https://vimeo.com/1", "title": BROKEN}, "title"),
        ({"type": "video", "url": "https://vimeo.com/1", "caption": BROKEN}, "caption"),
    ],
)
def test_broken_unicode_in_any_embed_field_is_refused_by_name(api, block, field):
    problem = assert_problem(api.post("/api/v1/blogs/hama/entries", json={"blocks": [block]}), 422)
    assert problem["errors"] == [
        {"field": f"blocks[0].{field}", "message": "contains invalid Unicode"}
    ]
