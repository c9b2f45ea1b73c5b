"""schema.org JSON-LD of the live page and permalinks, held to the vocabulary in tests/data."""

import json

import pytest

from tests.schemaorg import problems
from tests.support import soup

MAP = {
    "type": "map",
    "center": {"lat": 35.2, "lon": 36.7},
    "zoom": 10,
    "markers": [
        {"lat": 35.2094, "lon": 36.7539, "label": "Qomhana"},
        {"lat": 35.1769, "lon": 36.8361, "label": "Kawkab"},
    ],
    "caption": "Northern Hama Province",
}
PHOTO = {
    "type": "image",
    "url": "/media/uploads/" + "a" * 64 + ".jpg",
    "alt": "Fighters near Qomhana",
    "width": 1600,
    "height": 900,
}


def json_ld(response):
    assert response.status_code == 200
    return json.loads(soup(response).select_one('script[type="application/ld+json"]').string)


@pytest.fixture
def story(api):
    """A live blog with a sized top photo, a back-dated first update, a map and a photo."""
    api.as_role("admin").patch(
        "/api/v1/blogs/hama",
        json={
            "standfirst": "Rebels close in on Hama city.",
            "top_image": {"url": "/media/top.jpg", "alt": "Convoy", "width": 1200, "height": 675},
        },
    )
    return {
        "early": api.post_entry(body="Overnight.", published_at="2017-03-23T22:10:00Z"),
        "map": api.post_entry(
            body="Rebels enter Qomhana.", blocks=[MAP], published_at="2017-03-24T07:45:00Z"
        ),
        "photo": api.post_entry(blocks=[PHOTO], published_at="2017-03-24T08:30:00Z"),
        "plain": api.post_entry(body="Quiet now.", published_at="2017-03-24T09:00:00Z"),
    }


def test_the_checker_refuses_what_schema_org_does_not_define():
    found = problems(
        {
            "@context": "https://schema.org",
            "@type": "LiveBlogPosting",
            "coverageStartTime": "yesterday",
            "headline": 12,
            "colour": "red",
            "liveBlogUpdate": {"@type": "Person", "name": "A"},
            "about": {"@type": "Happening", "name": "B"},
            "publisher": {"@type": "Organization", "articleBody": "C"},
            "image": {"name": "no type"},
            "contentLocation": {"@type": "Place", "geo": {"@type": "GeoCoordinates", "url": "x"}},
        }
    )
    assert found == [
        "$.coverageStartTime: 'yesterday' is not an ISO 8601 DateTime",
        "$.headline: 12 is not a Text",
        "$.colour: unknown property colour",
        "$.liveBlogUpdate: a Person where BlogPosting is expected",
        "$.about: unknown type Happening",
        "$.publisher.articleBody: articleBody is not a property of Organization",
        "$.image: has no @type",
        "$.contentLocation.geo.url: 'x' is not an absolute URL",
    ]
    assert problems({"@type": "Thing"}) == ["@context is None, not https://schema.org"]


def test_the_live_page_is_described_completely(client, story):
    data = json_ld(client.get("/hama/"))
    assert problems(data) == []
    assert data["mainEntityOfPage"] == {
        "@type": "WebPage",
        "@id": "https://news.example/hama/",
        "url": "https://news.example/hama/",
    }
    assert data["image"] == {
        "@type": "ImageObject",
        "url": "https://news.example/media/top.jpg",
        "width": 1200,
        "height": 675,
    }
    assert data["about"]["@type"] == "Event" and data["about"]["name"] == "Hama"
    assert data["about"]["location"] == {
        "@type": "Place",
        "name": "Qomhana",
        "geo": {"@type": "GeoCoordinates", "latitude": 35.2094, "longitude": 36.7539},
    }
    assert "logo" not in data["publisher"]
    by_url = {update["url"]: update for update in data["liveBlogUpdate"]}
    with_map = by_url[f"https://news.example/hama/updates/{story['map']['id']}"]
    assert with_map["contentLocation"]["name"] == "Qomhana"
    plain = by_url[f"https://news.example/hama/updates/{story['plain']['id']}"]
    assert "contentLocation" not in plain and "image" in plain  # the blog's top photo


def test_coverage_starts_at_the_earliest_update_when_it_is_back_dated(client, session, story):
    data = json_ld(client.get("/hama/"))
    assert data["coverageStartTime"] == "2017-03-23T22:10:00+00:00"
    assert data["about"]["startDate"] == data["coverageStartTime"]
    assert data["datePublished"] > data["coverageStartTime"]  # when the blog went live


def test_coverage_starts_when_the_blog_went_live_before_any_update(api, client):
    api.post_entry(body="Later.", published_at="2099-01-01T00:00:00Z", status="scheduled")
    data = json_ld(client.get("/hama/"))
    assert data["coverageStartTime"] == data["datePublished"]
    assert "location" not in data["about"] and problems(data) == []


def test_a_permalink_with_a_map_names_its_place(client, story):
    data = json_ld(client.get(f"/hama/updates/{story['map']['id']}"))
    assert problems(data) == []
    assert data["contentLocation"] == {
        "@type": "Place",
        "name": "Qomhana",
        "geo": {"@type": "GeoCoordinates", "latitude": 35.2094, "longitude": 36.7539},
    }
    assert data["isPartOf"]["@id"] == "https://news.example/hama/"
    assert data["mainEntityOfPage"]["@id"] == data["url"]


def test_a_map_without_markers_is_placed_at_its_centre(api, client):
    centre = {"type": "map", "center": {"lat": 33.5, "lon": 36.3}}
    twice = api.post_entry(blocks=[centre, MAP])
    data = json_ld(client.get(f"/hama/updates/{twice['id']}"))
    assert problems(data) == []
    assert data["contentLocation"] == [
        {"@type": "Place", "geo": {"@type": "GeoCoordinates", "latitude": 33.5, "longitude": 36.3}},
        {
            "@type": "Place",
            "name": "Qomhana",
            "geo": {"@type": "GeoCoordinates", "latitude": 35.2094, "longitude": 36.7539},
        },
    ]


def test_an_entry_with_images_shows_their_size(api, client, story):
    data = json_ld(client.get(f"/hama/updates/{story['photo']['id']}"))
    assert problems(data) == []
    assert data["image"] == {
        "@type": "ImageObject",
        "url": f"https://news.example{PHOTO['url']}",
        "width": 1600,
        "height": 900,
    }
    by_url = f"https://example.org/{'b' * 8}.jpg"
    unsized = api.post_entry(blocks=[{"type": "image", "url": by_url, "alt": "Smoke"}])
    data = json_ld(client.get(f"/hama/updates/{unsized['id']}"))
    assert data["image"] == {"@type": "ImageObject", "url": by_url} and problems(data) == []


def test_an_ended_blog_ends_its_coverage_and_its_event(api, client, story):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    data = json_ld(client.get("/hama/"))
    assert problems(data) == []
    assert data["coverageEndTime"] == data["about"]["endDate"]
    assert data["coverageEndTime"] >= data["coverageStartTime"]


def test_the_publisher_logo_comes_from_the_settings(make_app, story):
    client = make_app(
        PUBLISHER_LOGO_URL="/media/logo.png", PUBLISHER_LOGO_WIDTH=600, PUBLISHER_LOGO_HEIGHT=60
    ).test_client()
    for path in ("/hama/", f"/hama/updates/{story['map']['id']}"):
        data = json_ld(client.get(path))
        assert problems(data) == []
        assert data["publisher"]["logo"] == {
            "@type": "ImageObject",
            "url": "https://news.example/media/logo.png",
            "width": 600,
            "height": 60,
        }
    elsewhere = make_app(PUBLISHER_LOGO_URL="https://cdn.example/logo.svg").test_client()
    logo = json_ld(elsewhere.get("/hama/"))["publisher"]["logo"]
    assert logo == {"@type": "ImageObject", "url": "https://cdn.example/logo.svg"}


@pytest.mark.parametrize("url", ["logo.png", "//cdn.example/logo.png", "javascript:alert(1)"])
def test_a_logo_that_could_not_be_shown_stops_the_start(make_app, url):
    with pytest.raises(SystemExit) as caught:
        make_app(PUBLISHER_LOGO_URL=url)
    assert "LIVEBLOG_PUBLISHER_LOGO_URL must be an http(s) URL or a path" in str(caught.value)


def test_the_demo_is_described_within_the_vocabulary(demo_app):
    client = demo_app.test_client()
    live = json_ld(client.get("/syria-hama-offensive/"))
    assert problems(live) == []
    assert live["about"]["location"]["name"] == "Qomhana"
    with_map = next(u for u in live["liveBlogUpdate"] if "contentLocation" in u)
    permalink = json_ld(client.get(with_map["url"].removeprefix("https://news.example")))
    assert problems(permalink) == [] and permalink["contentLocation"] == with_map["contentLocation"]


def test_the_event_is_placed_by_the_earliest_published_map(api, client):
    elsewhere = {"type": "map", "center": {"lat": 33.5, "lon": 36.3}, "markers": []}
    damascus = {**elsewhere, "markers": [{"lat": 33.51, "lon": 36.29, "label": "Damascus"}]}
    api.post_entry(blocks=[elsewhere], status="draft", published_at="2017-03-20T00:00:00Z")
    api.post_entry(body="Later.", blocks=[MAP], published_at="2017-03-24T09:00:00Z")
    api.post_entry(body="Earlier.", blocks=[damascus], published_at="2017-03-23T09:00:00Z")
    data = json_ld(client.get("/hama/"))
    assert data["about"]["location"]["name"] == "Damascus" and problems(data) == []


def test_a_corrected_update_stays_within_the_vocabulary(api, client, story):
    response = api.edit_entry(story["map"], body="Rebels enter Kawkab.", correction="Not Qomhana.")
    assert response.status_code == 200
    for path in ("/hama/", f"/hama/updates/{story['map']['id']}"):
        data = json_ld(client.get(path))
        assert problems(data) == []
    assert data["correction"][0]["@type"] == "CorrectionComment"
    assert data["dateModified"] == data["correction"][0]["datePublished"]
