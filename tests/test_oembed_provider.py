"""This site as an oEmbed provider: rich answers for live pages and permalinks, their
discovery links, and the errors the specification names."""

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.factories import assert_problem
from tests.support import soup

BASE = "https://news.example"


@pytest.fixture
def entry(api):
    return api.post_entry(headline="Rebels reach Qomhana", body="Fighting inside the village.")


def oembed(client, url, **args):
    return client.get("/oembed", query_string={"url": url, **args})


def embed_code(answer):
    """The iframe and the script of an answer's html."""
    html = soup(answer["html"])
    assert [tag.name for tag in html.find_all(True)] == ["iframe", "script"]
    return html.iframe, html.script


def test_a_live_page_is_a_rich_embed_of_its_embed_page(client, entry):
    response = oembed(client, f"{BASE}/hama/", format="json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert {key: answer[key] for key in ("type", "version", "title")} == {
        "type": "rich",
        "version": "1.0",
        "title": "Hama",
    }
    assert (answer["provider_name"], answer["provider_url"]) == ("Liveblog", f"{BASE}/")
    assert (answer["width"], answer["height"]) == (640, 800)
    iframe, script = embed_code(answer)
    assert iframe["src"] == f"{BASE}/hama/embed"
    assert (iframe["width"], iframe["height"]) == ("640", "800")
    assert iframe["title"] == "Hama" and iframe.has_attr("data-liveblog-embed")
    assert not iframe.has_attr("data-max-height")
    assert script["src"] == f"{BASE}/embed.js" and script.has_attr("async")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_permalink_is_the_card_of_its_update(client, entry):
    answer = oembed(client, f"{BASE}/hama/updates/{entry['id']}").get_json()
    assert answer["type"] == "rich"
    assert answer["title"] == "Rebels reach Qomhana — Hama"
    assert answer["author_name"] == entry["author"]["name"]
    iframe, _script = embed_code(answer)
    assert iframe["src"] == f"{BASE}/hama/embed?update={entry['id']}"
    assert (int(iframe["width"]), int(iframe["height"])) == (answer["width"], answer["height"])
    card = client.get(urlsplit(iframe["src"]).path + "?" + urlsplit(iframe["src"]).query)
    assert soup(card).select_one("article")["id"] == f"update-{entry['id']}"


@pytest.mark.parametrize(
    ("limits", "size", "max_height"),
    [
        ({"maxwidth": "300", "maxheight": "200"}, (300, 200), "200"),
        ({"maxwidth": "2000", "maxheight": "5000"}, (640, 800), "5000"),
        ({"maxwidth": "480"}, (480, 800), None),
        ({"maxheight": "600"}, (640, 600), "600"),
        ({"maxwidth": "", "maxheight": ""}, (640, 800), None),
    ],
)
def test_sizes_stay_within_maxwidth_and_maxheight(client, entry, limits, size, max_height):
    answer = oembed(client, f"{BASE}/hama/", **limits).get_json()
    assert (answer["width"], answer["height"]) == size
    iframe, _script = embed_code(answer)
    assert (int(iframe["width"]), int(iframe["height"])) == size
    assert iframe.get("data-max-height") == max_height
    card = oembed(client, f"{BASE}/hama/updates/{entry['id']}", **limits).get_json()
    assert card["width"] <= int(limits.get("maxwidth") or 10**6)
    assert card["height"] <= int(limits.get("maxheight") or 10**6)


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/hama",
        f"{BASE}/hama/?before=whatever",
        f"{BASE}/hama/#update-1",
        "HTTPS://NEWS.EXAMPLE/hama/",
        f"{BASE}:443/hama/",
        f"{BASE}/%68ama/",
    ],
)
def test_every_spelling_of_a_live_page_is_found(client, entry, url):
    answer = oembed(client, url).get_json()
    assert embed_code(answer)[0]["src"] == f"{BASE}/hama/embed", url


@pytest.mark.parametrize(
    "url",
    [
        "https://other.example/hama/",
        "http://news.example/hama/",
        "https://news.example:8443/hama/",
        "https://news.example.evil.example/hama/",
        f"{BASE}/no-such-blog/",
        f"{BASE}/secret/",
        f"{BASE}/hama/updates/999999",
        f"{BASE}/hama/updates/99999999999",
        f"{BASE}/",
        f"{BASE}/hama/feed.atom",
        f"{BASE}/hama/embed",
        f"{BASE}/api/v1/blogs/hama",
        f"{BASE}/oembed?url={BASE}/hama/",
    ],
)
def test_a_url_that_is_not_a_page_of_ours_is_a_404(api, client, entry, url):
    api.as_role("admin").post("/api/v1/blogs", json={"slug": "secret", "title": "Embargoed"})
    assert_problem(oembed(client, url), 404)


def test_unpublished_and_removed_updates_are_404s(api, client, entry):
    draft = api.post_entry(body="Draft", status="draft")
    assert_problem(oembed(client, f"{BASE}/hama/updates/{draft['id']}"), 404)
    api.delete(f"/api/v1/blogs/hama/entries/{entry['id']}", headers={"If-Match": '"1"'})
    assert_problem(oembed(client, f"{BASE}/hama/updates/{entry['id']}"), 404)


def test_formats_other_than_json_are_not_implemented(client, entry):
    assert_problem(oembed(client, f"{BASE}/hama/", format="xml"), 501)
    assert oembed(client, f"{BASE}/hama/", format="JSON").status_code == 200


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"url": ""},
        {"url": "not a url"},
        {"url": "ftp://news.example/hama/"},
        {"url": "/hama/"},
        {"url": "https://news.example:99999/hama/"},
        {"url": f"{BASE}/hama/", "maxwidth": "wide"},
        {"url": f"{BASE}/hama/", "maxwidth": "0"},
        {"url": f"{BASE}/hama/", "maxheight": "-5"},
    ],
)
def test_a_missing_or_malformed_argument_is_a_400(client, entry, args):
    assert_problem(client.get("/oembed", query_string=args), 400)


def test_answers_are_cached_like_the_pages(api, client, entry):
    first = oembed(client, f"{BASE}/hama/")
    assert "s-maxage=" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    assert client.get(first.request.full_path, headers={"If-None-Match": etag}).status_code == 304
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"title": "Hama offensive"})
    changed = client.get(first.request.full_path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["title"] == "Hama offensive"


def test_live_pages_and_permalinks_advertise_their_oembed(client, entry):
    for path in ("/hama/", f"/hama/updates/{entry['id']}"):
        links = soup(client.get(path)).select(
            'link[rel="alternate"][type="application/json+oembed"]'
        )
        assert len(links) == 1, path
        href = urlsplit(links[0]["href"])
        assert f"{href.scheme}://{href.netloc}" == BASE
        answer = client.get(f"{href.path}?{href.query}").get_json()
        assert answer["type"] == "rich"
        assert embed_code(answer)[0]["src"].startswith(f"{BASE}/hama/embed"), path


def test_older_updates_pages_advertise_the_live_page(app, api, client, entry):
    app.config["READER_PAGE_SIZE"] = 1
    api.post_entry(body="Newer")
    older = soup(client.get("/hama/")).select_one("a.pagination-older")["href"]
    link = soup(client.get(older)).select_one('link[type="application/json+oembed"]')
    assert parse_qs(urlsplit(link["href"]).query) == {"url": [f"{BASE}/hama/"], "format": ["json"]}


def test_oembed_is_no_slug(api):
    response = api.as_role("admin").post("/api/v1/blogs", json={"slug": "oembed", "title": "O"})
    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {"field": "slug", "message": "'oembed' is reserved; choose another"}
    ]
