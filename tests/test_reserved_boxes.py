"""Every picture, map and player on the reader pages has its box before it loads (what
tests/test_layout_shift.py measures in a browser), and what Lighthouse asks of a page."""

import re

import pytest

from liveblog.themes import THEMES_DIR
from tests.support import soup

UPLOAD = "/media/uploads/" + "c" * 64 + ".png"
MARKERS = [{"lat": 35.2094, "lon": 36.7539, "label": "Qomhana"}]
# The images whose size is not known, and the rule of embeds.css that gives each its box.
RESERVED = {
    "img.image-unsized": ".image-unsized",
    ".block-text img": ".block-text img",
    ".social-media img": ".social-media img",
    ".map-box > img.map-image": ".map-box",
    ".video-poster img.video-poster-image": ".video-poster",
}


def css_rules() -> dict[str, str]:
    """embeds.css as {selector: declarations}, one entry per selector of each rule."""
    css = re.sub(
        r"/\*.*?\*/", "", (THEMES_DIR / "default/static/embeds.css").read_text(), flags=re.S
    )
    rules = {}
    for selectors, declarations in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        for selector in selectors.split(","):
            rules[selector.strip()] = rules.get(selector.strip(), "") + declarations
    return rules


@pytest.fixture
def entries(api):
    """An update of every kind of picture, sized and not, and one with a map alone."""
    api.as_role("admin").patch(
        "/api/v1/blogs/hama",
        json={"top_image": {"url": "https://example.org/top.jpg", "alt": "Top"}},
    )
    pictures = api.post_entry(
        body="![A chart](https://example.org/chart.png)",
        blocks=[
            {"type": "image", "url": UPLOAD, "alt": "Sized", "width": 1600, "height": 900},
            {"type": "image", "url": "https://example.org/photo.jpg", "alt": "Unsized"},
            {
                "type": "map",
                "center": {"lat": 35.2, "lon": 36.7},
                "markers": MARKERS,
                "image": {"url": UPLOAD, "alt": "Static map"},
            },
            {"type": "social", "text": "Look", "media": [{"url": UPLOAD, "alt": "Attached"}]},
            {
                "type": "video",
                "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                "poster": {"url": UPLOAD},
            },
        ],
    )
    places = api.post_entry(
        blocks=[{"type": "map", "center": {"lat": 35.2, "lon": 36.7}, "markers": MARKERS}]
    )
    return {"pictures": pictures, "places": places}


def test_every_image_has_its_size_or_a_box_of_its_own(client, entries):
    rules = css_rules()
    for rule in RESERVED.values():
        assert "aspect-ratio" in rules[rule], rule
    for path in ("/hama/", f"/hama/updates/{entries['pictures']['id']}"):
        page = soup(client.get(path))
        boxed = {id(image) for selector in RESERVED for image in page.select(selector)}
        images = page.select("img")
        assert len(images) >= 6  # the five kinds of picture, the top photo on the live page
        for image in images:
            sized = image.has_attr("width") and image.has_attr("height")
            assert sized or id(image) in boxed, image
    sized = soup(client.get(f"/hama/updates/{entries['pictures']['id']}")).select_one(
        f'.block-image img[src="{UPLOAD}"]'
    )
    assert (sized["width"], sized["height"]) == ("1600", "900")
    assert not sized.has_attr("class")


def test_a_map_box_is_reserved_and_holds_the_places_until_the_map_covers_it(client, entries):
    rules = css_rules()
    assert "aspect-ratio" in rules[".map-box"]
    assert "position: absolute" in rules[".map-canvas"] and "inset: 0" in rules[".map-canvas"]
    assert "height: 100%" in rules[".map-box > .map-places"]
    page = soup(client.get(f"/hama/updates/{entries['places']['id']}"))
    assert [a.get_text() for a in page.select(".block-map .map-box > .map-places a")] == ["Qomhana"]
    with_image = soup(client.get(f"/hama/updates/{entries['pictures']['id']}"))
    assert with_image.select(".map-box > img.map-image")
    # Beside a static image, the places are listed below the box, where they always stay.
    assert with_image.select(".block-map > .map-places") and not with_image.select(
        ".map-box > .map-places"
    )


def test_quotes_and_players_keep_their_boxes(client, entries):
    rules = css_rules()
    assert "grid-area: 1 / 1" in rules[".block-social > .social-widget"]
    assert "grid-area: 1 / 1" in rules[".block-social > .social-post"]
    assert "visibility: hidden" in rules[".social-widget-shown .social-post"]
    assert "aspect-ratio: 16 / 9" in rules[".video-poster"]
    assert "aspect-ratio: 16 / 9" in rules[".video-frame"]


def test_demo_pages_describe_themselves_and_size_their_top_photo(demo_app):
    client = demo_app.test_client()
    live = soup(client.get("/syria-hama-offensive/"))
    top = live.select_one(".blog-top-image img")
    assert (top["width"], top["height"]) == ("1200", "675")
    permalink = soup(client.get("/syria-hama-offensive/updates/3"))
    for page in (live, permalink):
        assert page.select_one('meta[name="description"]')["content"].strip()
        assert page.html["lang"] == "en"
        assert not page.select('meta[name="robots"]')  # nothing keeps search engines away
