"""Embed pages for other sites' iframes: the live page without chrome, its teaser and an
update's card; who may frame them (``embed_origins``); and embed.js."""

import pytest

from tests.support import soup


def policy(response):
    """The response's Content-Security-Policy as {directive: value}."""
    parts = response.headers["Content-Security-Policy"].split(";")
    return dict(part.strip().split(" ", 1) for part in parts)


@pytest.fixture
def story(api):
    """Three published entries on 'hama', oldest first (the first pinned), and a draft."""
    entries = [
        api.post_entry(body="First *update*.", published_at="2017-03-23T22:10:00Z", pinned=True),
        api.post_entry(
            body="Second update.",
            headline="Assault on Qomhana",
            published_at="2017-03-24T07:45:00Z",
        ),
        api.post_entry(body="Third update.", published_at="2017-03-24T08:30:00Z"),
    ]
    api.post_entry(body="Secret draft.", status="draft")
    return entries


def test_the_embed_is_the_live_page_without_the_sites_chrome(api, client, story):
    response = client.get("/hama/embed")
    assert response.status_code == 200
    page = soup(response)
    live = soup(client.get("/hama/"))
    assert page.select(".site-header, .site-footer, .key-events") == []
    base = page.select("base")
    assert [(b.get("target"), b.get("href")) for b in base] == [("_top", None)]
    head = [tag.name for tag in page.head.find_all(True, recursive=False)]
    assert head.index("base") < min(head.index("link"), head.index("script")), "before any URL"
    assert page.select_one('link[rel="canonical"]')["href"] == "https://news.example/hama/"
    # The same partial as the live page, byte for byte, where the live page has it.
    for selector in (".pinned > article", ".updates > article"):
        assert [str(a) for a in page.select(selector)] == [str(a) for a in live.select(selector)]
    assert [a["id"] for a in page.select(".pinned > article")] == [f"update-{story[0]['id']}"]
    assert [a["id"] for a in page.select(".updates > article")] == [
        f"update-{story[2]['id']}",
        f"update-{story[1]['id']}",
    ]
    assert b"Secret draft" not in response.data
    root = page.select_one(".live")
    assert (root["data-events"], root["data-changes"]) == ("/hama/events", "/hama/changes")
    assert root["data-seq"] == str(api.get("/api/v1/blogs/hama").get_json()["last_seq"])
    assert not root.has_attr("data-refresh")
    assert str(root) == str(live.select_one(".live"))
    scripts = [s["src"] for s in page.select("script[src]")]
    assert any("/live.js" in src for src in scripts) and any("/framed.js" in src for src in scripts)
    assert page.select_one("a.embed-follow")["href"] == "/hama/"


def test_the_embed_of_an_ended_blog_is_not_live(api, client, story):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    page = soup(client.get("/hama/embed"))
    assert page.select_one(".live") is None
    assert page.select_one(".blog-status").get_text() == "Ended"
    assert page.select_one(".updates > article") is not None


def test_the_embed_links_to_older_updates_on_the_live_page(app, api, client, story):
    app.config["READER_PAGE_SIZE"] = 1
    older = soup(client.get("/hama/embed")).select_one("a.pagination-older")["href"]
    assert older == soup(client.get("/hama/")).select_one("a.pagination-older")["href"]


def test_any_site_may_frame_the_embed_pages_by_default(client, story):
    for query in ("", "?teaser=3", f"?update={story[1]['id']}"):
        response = client.get(f"/hama/embed{query}")
        assert policy(response)["frame-ancestors"] == "*", query
        assert "X-Frame-Options" not in response.headers, query
        assert policy(response)["script-src"] == "'self'"


def test_embed_origins_restrict_who_frames_the_embed_pages_only(api, client, story):
    first = client.get("/hama/embed")
    admin = api.as_role("admin")
    origins = ["https://cms.example.org", "https://www.example.com:8443"]
    blog = admin.patch("/api/v1/blogs/hama", json={"embed_origins": origins}).get_json()
    assert blog["embed_origins"] == origins
    # The change is a change of the blog: no cached copy of the old policy is served.
    again = client.get("/hama/embed", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    expected = "'self' https://cms.example.org https://www.example.com:8443"
    for query in ("", "?teaser=3", f"?update={story[1]['id']}"):
        response = client.get(f"/hama/embed{query}")
        assert policy(response)["frame-ancestors"] == expected, query
        assert "X-Frame-Options" not in response.headers, query
    for path in ("/hama/", f"/hama/updates/{story[1]['id']}", "/"):
        response = client.get(path)
        assert policy(response)["frame-ancestors"] == "'self'", path
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path

    admin.patch("/api/v1/blogs/hama", json={"embed_origins": []})
    response = client.get("/hama/embed")
    assert policy(response)["frame-ancestors"] == "'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    blog = admin.patch("/api/v1/blogs/hama", json={"embed_origins": None}).get_json()
    assert blog["embed_origins"] is None
    assert policy(client.get("/hama/embed"))["frame-ancestors"] == "*"


def test_the_reader_pages_keep_to_this_site(client, story):
    for path in ("/hama/", f"/hama/updates/{story[1]['id']}"):
        response = client.get(path)
        assert policy(response)["frame-ancestors"] == "'self'", path
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path


def test_embed_pages_revalidate_by_the_change_log(api, client, story):
    for query in ("", "?teaser=2", f"?update={story[1]['id']}"):
        first = client.get(f"/hama/embed{query}")
        assert "s-maxage=" in first.headers["Cache-Control"]
        etag = first.headers["ETag"]
        again = client.get(f"/hama/embed{query}", headers={"If-None-Match": etag})
        assert again.status_code == 304, query
    etags = {
        query: client.get(f"/hama/embed{query}").headers["ETag"] for query in ("", "?teaser=2")
    }
    api.post_entry(body="News")
    for query, etag in etags.items():
        assert client.get(f"/hama/embed{query}", headers={"If-None-Match": etag}).status_code == 200


def test_the_teaser_lists_the_latest_headlines_linking_to_their_permalinks(api, client, story):
    response = client.get("/hama/embed?teaser=2")
    assert response.status_code == 200
    page = soup(response)
    assert page.select(".site-header, .updates, article") == []
    assert page.select_one("base")["target"] == "_top"
    items = page.select(".teaser .teaser-updates > li")
    assert [li["data-entry-id"] for li in items] == [str(story[2]["id"]), str(story[1]["id"])]
    newest, second = (li.select_one("a") for li in items)
    assert newest["href"] == f"/hama/updates/{story[2]['id']}"
    assert newest.select_one("time").get_text() == "UPDATE 0830 GMT"
    assert newest.select_one("time")["datetime"] == "2017-03-24T08:30:00+00:00"
    assert newest.select_one(".teaser-headline").get_text() == "Third update."  # no headline
    assert second.select_one(".teaser-headline").get_text() == "Assault on Qomhana"
    assert page.select_one(".teaser-title a")["href"] == "/hama/"
    root = page.select_one(".live")
    assert root["data-refresh"] == "/hama/embed?teaser=2"
    assert root["data-events"] == "/hama/events"
    assert any("/live.js" in s["src"] for s in page.select("script[src]"))
    everything = soup(client.get("/hama/embed?teaser=20")).select(".teaser-updates > li")
    assert len(everything) == 3
    assert client.get("/hama/embed?teaser=2&seq=7").data == response.data


def test_a_teaser_of_a_blog_without_updates(api, client):
    page = soup(client.get("/hama/embed?teaser=5"))
    assert page.select(".teaser-updates") == []
    assert page.select_one(".teaser .updates-none") is not None


@pytest.mark.parametrize(
    "query",
    ["teaser=0", "teaser=21", "teaser=", "teaser=two", "teaser=-1", "teaser=٣", "update=0",
     "update=x", "update=99999999999", "teaser=2&update=1", "teaser=2&seq=x"],
)  # fmt: skip
def test_impossible_embed_queries_are_400s(client, story, query):
    response = client.get(f"/hama/embed?{query}")
    assert response.status_code == 400, query
    assert response.mimetype == "text/html"


def test_the_card_of_an_update_is_its_entry_partial(api, client, story):
    entry = story[1]
    response = client.get(f"/hama/embed?update={entry['id']}")
    assert response.status_code == 200
    page = soup(response)
    live = soup(client.get("/hama/"))
    assert str(page.select_one("article.entry")) == str(live.select_one(f"#update-{entry['id']}"))
    assert len(page.select("article")) == 1 and page.select_one(".live") is None
    assert page.select_one("base")["target"] == "_top"
    canonical = f"https://news.example/hama/updates/{entry['id']}"
    assert page.select_one('link[rel="canonical"]')["href"] == canonical
    assert page.select_one(".embed-follow a")["href"] == f"/hama/#update-{entry['id']}"
    assert any("/framed.js" in s["src"] for s in page.select("script[src]"))


def test_cards_of_unpublished_and_removed_updates(api, client, story):
    draft = api.post_entry(body="Draft", status="draft")
    assert client.get(f"/hama/embed?update={draft['id']}").status_code == 404
    assert client.get("/hama/embed?update=999999").status_code == 404
    api.as_role("admin").post(
        "/api/v1/blogs", json={"slug": "other", "title": "Other", "status": "live"}
    )
    assert client.get(f"/other/embed?update={story[1]['id']}").status_code == 404
    api.delete(f"/api/v1/blogs/hama/entries/{story[1]['id']}", headers={"If-Match": '"1"'})
    gone = client.get(f"/hama/embed?update={story[1]['id']}")
    assert gone.status_code == 410
    page = soup(gone)
    assert page.select_one(".site-header") is None
    assert page.select_one(".embed-gone a")["href"] == "/hama/"
    assert policy(gone)["frame-ancestors"] == "*"


def test_no_embed_of_a_draft_blog(api, client):
    api.as_role("admin").post("/api/v1/blogs", json={"slug": "secret", "title": "Embargoed"})
    assert client.get("/secret/embed").status_code == 404


def test_embed_pages_of_a_ticker_blog_use_its_entry_partial(api, client, story):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"theme": "ticker"})
    page = soup(client.get("/hama/embed"))
    assert page.select_one("article .entry-main") is not None
    assert page.select_one('link[rel="stylesheet"]')["href"].startswith("/assets/ticker/")


def test_embed_js_has_a_stable_url_cached_briefly(client):
    with client.get("/embed.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert b"liveblog:embed-hello" in response.data
        cache = response.headers["Cache-Control"]
        assert cache == "public, max-age=300, stale-while-revalidate=3600"
        etag = response.headers["ETag"]
    with client.get("/embed.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
