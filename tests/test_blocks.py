"""Blocks: validation with errors named by path, and bare URLs in Markdown becoming blocks."""

import json

import pytest

from liveblog.blocks import MAX_GEOJSON_BYTES
from liveblog.blocks import blocks_from_markdown
from liveblog.embeds import providers
from liveblog.errors import ValidationError
from liveblog.publishing import read_entry

TEXT = {"type": "text", "markdown": "Rebels advance."}
CENTER = {"lat": 35.2, "lon": 36.7}


def problems(blocks):
    """Every error an entry with these blocks gets, as ``path: message`` strings."""
    with pytest.raises(ValidationError) as caught:
        read_entry({"blocks": blocks}, creating=True)
    return [str(error) for error in caught.value.errors]


def cleaned(blocks):
    return read_entry({"blocks": blocks}, creating=True)["blocks"]


def a_map(**fields):
    return {"type": "map", "center": CENTER, **fields}


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        pytest.param(
            [TEXT, TEXT, a_map(markers=[{"lat": 91, "lon": 36.7}])],
            ["blocks[2].markers[0].lat: must be between -90 and 90"],
            id="marker-latitude",
        ),
        pytest.param(
            [a_map(markers=[{"lat": 35, "lon": 36}, {"lat": 35, "lon": -180.5, "label": "x"}])],
            ["blocks[0].markers[1].lon: must be between -180 and 180"],
            id="marker-longitude",
        ),
        pytest.param(
            [a_map(markers=[{"lon": 36, "name": "Kawkab"}])],
            [
                "blocks[0].markers[0].name: unknown field; expected one of: lat, lon, label",
                "blocks[0].markers[0].lat: is required",
            ],
            id="marker-unknown-field-and-missing-lat",
        ),
        pytest.param(
            [a_map(center={"lat": "35.2", "lon": 36.7})],
            ["blocks[0].center.lat: must be a number"],
            id="center-lat-string",
        ),
        pytest.param([{"type": "map"}], ["blocks[0].center: is required"], id="map-center"),
        pytest.param(
            [a_map(zoom=20)], ["blocks[0].zoom: must be between 0 and 19"], id="zoom-too-high"
        ),
        pytest.param(
            [a_map(zoom=-1)], ["blocks[0].zoom: must be between 0 and 19"], id="zoom-negative"
        ),
        pytest.param(
            [a_map(zoom=7.5)], ["blocks[0].zoom: must be a whole number"], id="zoom-fraction"
        ),
        pytest.param(
            [a_map(zoom=True)], ["blocks[0].zoom: must be a whole number"], id="zoom-boolean"
        ),
        pytest.param(
            [a_map(image={"url": "https://example.org/map.png"})],
            ["blocks[0].image.alt: is required"],
            id="map-image-alt",
        ),
        pytest.param(
            [TEXT, {"type": "image", "url": "https://example.org/a.png"}],
            ["blocks[1].alt: is required"],
            id="image-alt-missing",
        ),
        pytest.param(
            [{"type": "image", "url": "https://example.org/a.png", "alt": "   "}],
            ["blocks[0].alt: must not be empty"],
            id="image-alt-blank",
        ),
        pytest.param(
            [{"type": "image", "url": "javascript:alert(1)", "alt": "x"}],
            ["blocks[0].url: must be an http(s) URL or a path starting with /"],
            id="image-url-scheme",
        ),
        pytest.param(
            [{"type": "image", "url": "data:image/png;base64,AAAA", "alt": "x"}],
            ["blocks[0].url: must be an http(s) URL or a path starting with /"],
            id="image-data-url",
        ),
        pytest.param(
            [{"type": "video", "url": "https://example.org/clip.mp4"}],
            ["blocks[0].url: must be a YouTube or Vimeo video link"],
            id="video-other-site",
        ),
        pytest.param(
            [{"type": "video", "url": "https://x.com/someone/status/1"}],
            ["blocks[0].url: must be a YouTube or Vimeo video link"],
            id="video-social-post",
        ),
        pytest.param([{"type": "video"}], ["blocks[0].url: is required"], id="video-url"),
        pytest.param(
            [{"type": "social", "author_name": "Someone"}],
            ["blocks[0]: needs a url, or the post's text when it cannot be linked"],
            id="social-needs-url-or-text",
        ),
        pytest.param(
            [{"type": "social", "url": "javascript:alert(1)", "text": "x"}],
            ["blocks[0].url: must be an http(s) URL"],
            id="social-url-scheme",
        ),
        pytest.param(
            [{"type": "social", "text": "x", "provider": "myspace"}],
            [
                "blocks[0].provider: must be one of: x, bluesky, threads, telegram, facebook, "
                "instagram, youtube, vimeo, mastodon, other"
            ],
            id="social-provider",
        ),
        pytest.param(
            [{"type": "social", "text": "x", "posted_at": "yesterday"}],
            ["blocks[0].posted_at: must be an ISO 8601 date-time such as 2017-03-24T07:45:00Z"],
            id="social-posted-at",
        ),
        pytest.param(
            [{"type": "social", "text": "x", "media": [{"alt": "photo"}]}],
            ["blocks[0].media[0].url: is required"],
            id="social-media-url",
        ),
        pytest.param(
            [TEXT, {"type": "gallery"}],
            ["blocks[1].type: must be one of: text, social, map, image, video"],
            id="unknown-type",
        ),
        pytest.param(
            ["just text"],
            ["blocks[0].type: must be one of: text, social, map, image, video"],
            id="not-an-object",
        ),
        pytest.param(
            [{"type": "text", "markdown": ""}],
            ["blocks[0].markdown: must not be empty"],
            id="empty-text",
        ),
        pytest.param(
            [{"type": "text", "markdown": "x", "html": "<b>x</b>"}],
            ["blocks[0].html: unknown field; expected one of: type, markdown"],
            id="unknown-field",
        ),
        pytest.param([], ["blocks: must hold at least one block"], id="no-blocks"),
    ],
)
def test_invalid_blocks_are_named_by_path(blocks, expected):
    assert problems(blocks) == expected


def test_every_problem_is_reported_at_once():
    assert problems(
        [
            {"type": "image", "url": "https://example.org/a.png"},
            a_map(zoom=25, markers=[{"lat": 0, "lon": 200}]),
            {"type": "video", "url": "https://example.org/v"},
        ]
    ) == [
        "blocks[0].alt: is required",
        "blocks[1].zoom: must be between 0 and 19",
        "blocks[1].markers[0].lon: must be between -180 and 180",
        "blocks[2].url: must be a YouTube or Vimeo video link",
    ]


@pytest.mark.parametrize("zoom", [0, 1, 10, 19])
def test_zoom_from_0_to_19_is_accepted(zoom):
    assert cleaned([a_map(zoom=zoom)])[0]["zoom"] == zoom


def test_map_zoom_defaults_to_10_and_keeps_what_was_given():
    markers = [{"lat": 35.2094, "lon": 36.7539, "label": "Qomhana"}]
    assert cleaned([a_map(markers=markers, caption="Northern Hama")]) == [
        {
            "type": "map",
            "center": CENTER,
            "zoom": 10,
            "markers": markers,
            "caption": "Northern Hama",
        }
    ]


LINE = {"type": "LineString", "coordinates": [[36.7, 35.2], [36.8, 35.1]]}
POLYGON = {
    "type": "Polygon",
    "coordinates": [[[36.7, 35.2], [36.8, 35.2], [36.8, 35.1], [36.7, 35.2]]],
}


@pytest.mark.parametrize(
    "geojson",
    [
        pytest.param({"type": "Point", "coordinates": [36.7, 35.2]}, id="point"),
        pytest.param({"type": "Point", "coordinates": [36.7, 35.2, 310.5]}, id="point-altitude"),
        pytest.param(LINE, id="linestring"),
        pytest.param(POLYGON, id="polygon"),
        pytest.param({"type": "MultiPolygon", "coordinates": [POLYGON["coordinates"]]}, id="multi"),
        pytest.param(
            {"type": "Feature", "properties": {"name": "Front line"}, "geometry": LINE},
            id="feature",
        ),
        pytest.param({"type": "Feature", "properties": None, "geometry": None}, id="feature-null"),
        pytest.param(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": LINE},
                    {"type": "Feature", "properties": {}, "geometry": POLYGON},
                ],
            },
            id="feature-collection",
        ),
        pytest.param({"type": "GeometryCollection", "geometries": [LINE, POLYGON]}, id="geoms"),
    ],
)
def test_well_formed_geojson_is_kept(geojson):
    assert cleaned([a_map(geojson=geojson)])[0]["geojson"] == geojson


@pytest.mark.parametrize(
    ("geojson", "expected"),
    [
        pytest.param(
            "LINESTRING(1 2, 3 4)", "geojson: must be a GeoJSON object with a type", id="wkt"
        ),
        pytest.param(
            {"coordinates": [1, 2]}, "geojson: must be a GeoJSON object with a type", id="no-type"
        ),
        pytest.param(
            {"type": "Circle", "coordinates": [1, 2]},
            "geojson.type: must be a GeoJSON type such as Feature, Point, LineString or Polygon",
            id="unknown-type",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [200, 35]},
            "geojson.coordinates[0]: longitude must be between -180 and 180",
            id="longitude",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [36, -95]},
            "geojson.coordinates[1]: latitude must be between -90 and 90",
            id="latitude",
        ),
        pytest.param(
            {"type": "Point", "coordinates": [True, 35]},
            "geojson.coordinates: must be a position [longitude, latitude]",
            id="boolean-coordinate",
        ),
        pytest.param(
            {"type": "LineString", "coordinates": [36.7, 35.2]},
            "geojson.coordinates[0]: must be a position [longitude, latitude]",
            id="linestring-flat",
        ),
        pytest.param(
            {"type": "Polygon", "coordinates": []},
            "geojson.coordinates: must be a non-empty list of coordinates",
            id="polygon-empty",
        ),
        pytest.param(
            {"type": "FeatureCollection", "features": {}},
            "geojson.features: must be a list",
            id="features-not-list",
        ),
        pytest.param(
            {"type": "FeatureCollection", "features": [LINE]},
            "geojson.features[0]: must be a Feature",
            id="bare-geometry-in-collection",
        ),
        pytest.param(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": LINE},
                    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 91]}},
                ],
            },
            "geojson.features[1].geometry.coordinates[1]: latitude must be between -90 and 90",
            id="deep-path",
        ),
        pytest.param(
            {"type": "Feature", "properties": "Front line", "geometry": LINE},
            "geojson.properties: must be an object or null",
            id="properties",
        ),
        pytest.param(
            {"type": "GeometryCollection", "geometries": [LINE, {"type": "Point"}]},
            "geojson.geometries[1].coordinates: must be a position [longitude, latitude]",
            id="geometry-collection",
        ),
    ],
)
def test_malformed_geojson_is_rejected_with_its_path(geojson, expected):
    assert problems([TEXT, a_map(geojson=geojson)]) == [f"blocks[1].{expected}"]


def test_too_deeply_nested_geojson_is_rejected():
    geojson = LINE
    for _ in range(4):
        geojson = {"type": "GeometryCollection", "geometries": [geojson]}
    assert cleaned([a_map(geojson=geojson)])[0]["geojson"] == geojson
    deeper = {"type": "GeometryCollection", "geometries": [geojson]}
    assert problems([a_map(geojson=deeper)]) == [
        "blocks[0].geojson.geometries[0].geometries[0].geometries[0].geometries[0]"
        ".geometries[0]: is nested too deeply"
    ]


def test_geojson_has_a_size_cap():
    def points(count):
        return {"type": "MultiPoint", "coordinates": [[36.123456, 35.123456]] * count}

    one, per_point = (
        len(json.dumps(points(1))),
        len(json.dumps(points(2))) - len(json.dumps(points(1))),
    )
    fits = 1 + (MAX_GEOJSON_BYTES - one) // per_point
    assert len(json.dumps(points(fits))) <= MAX_GEOJSON_BYTES < len(json.dumps(points(fits + 1)))
    assert cleaned([a_map(geojson=points(fits))])[0]["geojson"] == points(fits)
    assert problems([a_map(geojson=points(fits + 1))]) == [
        f"blocks[0].geojson: must be at most {MAX_GEOJSON_BYTES // 1000} kB"
    ]


def test_image_keeps_alt_caption_and_credit():
    image = {
        "type": "image",
        "url": "/media/demo/top-photo.png",
        "alt": "Rebel armoured vehicles on a road",
        "caption": "Moving towards Qomhana",
        "credit": "Activist photo",
        "width": 1200,
        "height": 800,
    }
    assert cleaned([image]) == [image]


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube"),
        ("https://vimeo.com/123456789", "vimeo"),
    ],
)
def test_video_from_youtube_or_vimeo_gets_its_provider(url, provider):
    assert cleaned([{"type": "video", "url": url}]) == [
        {"type": "video", "url": url, "provider": provider}
    ]


@pytest.mark.parametrize(
    ("social", "expected"),
    [
        pytest.param(
            {"text": "Placeholder: the post is not reproduced."},
            {"text": "Placeholder: the post is not reproduced."},
            id="text-only",
        ),
        pytest.param(
            {"url": "https://mastodon.social/@someone/109876543210"},
            {"url": "https://mastodon.social/@someone/109876543210", "provider": "mastodon"},
            id="url-only-provider-recognised",
        ),
        pytest.param(
            {"url": "https://forum.example/thread/1"},
            {"url": "https://forum.example/thread/1", "provider": "other"},
            id="url-unknown-provider",
        ),
        pytest.param(
            {
                "url": "https://x.com/a/status/1",
                "provider": "x",
                "posted_at": "2017-03-24T07:45:00Z",
            },
            {
                "url": "https://x.com/a/status/1",
                "provider": "x",
                "posted_at": "2017-03-24T07:45:00+00:00",
            },
            id="posted-at-normalised",
        ),
    ],
)
def test_social_block_needs_url_or_text(social, expected):
    assert cleaned([{"type": "social", **social}]) == [{"type": "social", **expected}]


# Bare URLs in Markdown


@pytest.mark.parametrize(
    ("url", "kind", "provider"),
    [
        ("https://x.com/someone/status/1234567890", "social", "x"),
        ("https://twitter.com/someone/status/1234567890?s=20", "social", "x"),
        ("https://mobile.twitter.com/some_one/status/1", "social", "x"),
        ("https://bsky.app/profile/someone.bsky.social/post/3kabc2xyz", "social", "bluesky"),
        ("https://bsky.app/profile/did:plc:abc123/post/3kabc2xyz", "social", "bluesky"),
        ("https://mastodon.social/@someone/109876543210", "social", "mastodon"),
        ("https://infosec.exchange/@someone/111222333444", "social", "mastodon"),
        ("https://social.example.org/@someone@mastodon.social/1234", "social", "mastodon"),
        ("https://social.example.org/users/someone/statuses/1234", "social", "mastodon"),
        ("https://www.threads.net/@someone/post/C4abcDEF", "social", "threads"),
        ("https://www.threads.com/@some.one/post/C4abcDEF", "social", "threads"),
        ("https://t.me/somechannel/1234", "social", "telegram"),
        ("https://t.me/s/somechannel/1234", "social", "telegram"),
        ("https://www.facebook.com/someone/posts/pfbid0abc", "social", "facebook"),
        ("https://fb.watch/abcDEF/", "social", "facebook"),
        ("https://www.instagram.com/p/C4abcDEF/", "social", "instagram"),
        ("https://www.instagram.com/reel/C4abcDEF/", "social", "instagram"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video", "youtube"),
        ("https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ", "video", "youtube"),
        ("https://youtu.be/dQw4w9WgXcQ", "video", "youtube"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "video", "youtube"),
        ("https://vimeo.com/123456789", "video", "vimeo"),
    ],
)
def test_a_bare_url_on_its_own_line_becomes_a_block(url, kind, provider):
    body = f"Before.\n\n{url}\n\nAfter."
    assert blocks_from_markdown(body) == [
        {"type": "text", "markdown": "Before."},
        {"type": kind, "url": url, "provider": provider},
        {"type": "text", "markdown": "After."},
    ]


def test_blocks_from_markdown_keeps_order_and_accepts_angle_brackets():
    body = "  <https://x.com/a/status/1>  \r\nhttps://vimeo.com/1\r\nEnd."
    assert blocks_from_markdown(body) == [
        {"type": "social", "url": "https://x.com/a/status/1", "provider": "x"},
        {"type": "video", "url": "https://vimeo.com/1", "provider": "vimeo"},
        {"type": "text", "markdown": "End."},
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Watch https://youtu.be/dQw4w9WgXcQ now.", id="inside-a-sentence"),
        pytest.param("See https://x.com/someone/status/1", id="end-of-a-sentence"),
        pytest.param("[the post](https://x.com/someone/status/1)", id="markdown-link"),
        pytest.param("- https://x.com/someone/status/1", id="list-item"),
        pytest.param("> https://x.com/someone/status/1", id="quote"),
        pytest.param("```\nhttps://x.com/someone/status/1\n```", id="backtick-fence"),
        pytest.param("~~~\nhttps://youtu.be/dQw4w9WgXcQ\n~~~", id="tilde-fence"),
        pytest.param("```text\nhttps://vimeo.com/1\n\nhttps://t.me/a/1\n```", id="fence-with-info"),
        pytest.param("https://example.org/news/1", id="unknown-site"),
        pytest.param("https://x.com/someone", id="profile-not-post"),
        pytest.param("https://mastodon.social/@someone", id="mastodon-profile"),
        pytest.param("ftp://x.com/someone/status/1", id="not-http"),
    ],
)
def test_urls_that_are_not_alone_known_and_outside_code_stay_text(body):
    assert blocks_from_markdown(body) == [{"type": "text", "markdown": body}]


def test_a_url_after_a_closed_fence_becomes_a_block_again():
    body = "```\nhttps://x.com/a/status/1\n```\nhttps://x.com/b/status/2"
    assert blocks_from_markdown(body) == [
        {"type": "text", "markdown": "```\nhttps://x.com/a/status/1\n```"},
        {"type": "social", "url": "https://x.com/b/status/2", "provider": "x"},
    ]


def test_blank_markdown_makes_no_blocks():
    assert blocks_from_markdown("\n  \n") == []


# Embeds: video posters and titles, social media kept here, GeoJSON text


def test_a_video_block_keeps_its_title_and_a_poster_from_this_site():
    video = {
        "type": "video",
        "url": "https://vimeo.com/123456789",
        "title": "Drone footage",
        "poster": {"url": "/media/uploads/a.jpg", "width": 640, "height": 360},
        "caption": "Near Hama",
    }
    assert cleaned([video]) == [{**video, "provider": "vimeo"}]
    # What the API sends back can be sent again: the provider comes from the URL.
    assert cleaned(cleaned([video])) == cleaned([video])
    assert cleaned([{**video, "provider": "youtube"}])[0]["provider"] == "vimeo"


@pytest.mark.parametrize(
    ("poster", "expected"),
    [
        (
            {"url": "https://i.ytimg.com/vi/x/hq.jpg"},
            "blocks[0].poster.url: must be a path on this site, such as an upload's /media/… URL",
        ),
        (
            {"url": "//i.ytimg.com/vi/x/hq.jpg"},
            "blocks[0].poster.url: must be an http(s) URL or a path starting with /",
        ),
        (
            {"url": "javascript:alert(1)"},
            "blocks[0].poster.url: must be an http(s) URL or a path starting with /",
        ),
        ({"width": 10}, "blocks[0].poster.url: is required"),
        (
            {"url": "/a.jpg", "alt": "x"},
            "blocks[0].poster.alt: unknown field; expected one of: url, width, height",
        ),
        ("/a.jpg", "blocks[0].poster: must be a JSON object"),
    ],
)
def test_a_video_poster_is_never_fetched_from_elsewhere(poster, expected):
    video = {"type": "video", "url": "https://vimeo.com/1", "poster": poster}
    assert problems([video]) == [expected]


def test_social_media_may_be_a_file_kept_here():
    social = {"type": "social", "text": "x", "media": [{"url": "/media/uploads/a.jpg", "alt": "A"}]}
    assert cleaned([social])[0]["media"] == [{"url": "/media/uploads/a.jpg", "alt": "A"}]
    social["media"] = [{"url": "//evil.example/a.jpg"}]
    assert problems([social]) == [
        "blocks[0].media[0].url: must be an http(s) URL or a path starting with /"
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("\ud800", "blocks[0].geojson: contains invalid Unicode"),
        ("a\x00b", "blocks[0].geojson: must not contain NUL characters"),
    ],
)
def test_geojson_text_must_be_storable(name, expected):
    feature = {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Point", "coordinates": [36.7, 35.2]},
    }
    assert problems([a_map(geojson=feature)]) == [expected]


@pytest.mark.parametrize(
    "body",
    [
        "```\nhttps://x.com/a/status/1\n~~~\nhttps://x.com/a/status/2\n```",
        "Code:\n\n    https://x.com/a/status/1",
    ],
)
def test_urls_in_code_stay_text(body):
    assert blocks_from_markdown(body) == [{"type": "text", "markdown": body}]


def test_other_sites_with_at_paths_are_not_mastodon():
    assert providers.match("https://www.youtube.com/@channel/123") is None
    assert providers.match("https://mastodon.social/@alice/123").key == "mastodon"
