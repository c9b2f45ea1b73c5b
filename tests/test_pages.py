"""Reader pages: the live page, permalinks, the index, themes, structured data, caching."""

import json

import pytest

from tests.factories import statements_of_this_thread
from tests.support import soup


def structured_data(page):
    return json.loads(page.select_one('script[type="application/ld+json"]').string)


@pytest.fixture
def story(api):
    """Three published entries on the live blog 'hama', oldest first, plus a draft."""
    api.as_role("admin").patch(
        "/api/v1/blogs/hama",
        json={
            "standfirst": "Rebels close in on Hama city.",
            "top_image": {
                "url": "/media/top.jpg",
                "alt": "Armoured vehicles",
                "caption": "Near Qomhana",
                "credit": "Activists",
            },
        },
    )
    entries = [
        api.post_entry(body="First *update*.", published_at="2017-03-23T22:10:00Z"),
        api.post_entry(
            body="Second update.",
            headline="Assault on Qomhana",
            key_event=True,
            published_at="2017-03-24T07:45:00Z",
        ),
        api.post_entry(body="Third update.", published_at="2017-03-24T08:30:00Z"),
    ]
    api.post_entry(body="Secret draft.", status="draft")
    return entries


def test_live_page_shows_the_story_newest_first(client, story):
    response = client.get("/hama/")
    assert response.status_code == 200
    page = soup(response)
    assert page.html["lang"] == "en"
    assert page.select_one("h1").get_text() == "Hama"
    assert page.select_one(".blog-status").get_text() == "Live"
    assert page.select_one(".blog-standfirst").get_text() == "Rebels close in on Hama city."
    assert page.select_one(".blog-top-image img")["alt"] == "Armoured vehicles"
    assert "Near Qomhana" in page.select_one(".blog-top-image figcaption").get_text()
    articles = page.select(".updates article")
    assert [a["id"] for a in articles] == [f"update-{e['id']}" for e in reversed(story)]
    second = page.select_one(f"#update-{story[1]['id']}")
    assert second.select_one("time")["datetime"] == "2017-03-24T07:45:00+00:00"
    assert second.select_one(".entry-label").get_text() == "UPDATE 0745 GMT"
    assert second.select_one(".entry-headline").get_text() == "Assault on Qomhana"
    assert second.select_one(".entry-permalink")["href"] == f"/hama/updates/{story[1]['id']}"
    assert b"Secret draft" not in response.data


def test_days_get_headings_when_entries_span_several(client, story):
    headings = soup(client.get("/hama/")).select(".updates-day")
    assert [h.get_text() for h in headings] == ["Friday 24 March 2017", "Thursday 23 March 2017"]
    assert not any(h.has_attr("hidden") for h in headings)


def test_a_single_day_keeps_its_heading_hidden_for_the_live_script(api, client):
    api.post_entry(body="Morning.", published_at="2017-03-24T07:45:00Z")
    api.post_entry(body="Evening.", published_at="2017-03-24T19:00:00Z")
    page = soup(client.get("/hama/"))
    headings = page.select(".updates-day")
    assert [(h.get_text(), h.has_attr("hidden")) for h in headings] == [
        ("Friday 24 March 2017", True)
    ]
    assert {a["data-day"] for a in page.select(".updates article")} == {"2017-03-24"}


def test_key_events_and_the_pinned_entry(api, client, story):
    api.edit_entry(story[0], pinned=True)
    page = soup(client.get("/hama/"))
    assert page.select_one(".pinned article")["id"] == f"update-{story[0]['id']}"
    assert len(page.select(f"#update-{story[0]['id']}")) == 1
    links = [a["href"] for a in page.select(".key-events li a")]
    assert links == [f"#update-{story[1]['id']}"]


def test_edited_entries_say_so(api, client, story):
    api.edit_entry(story[2], body="Third update, corrected.")
    article = soup(client.get("/hama/")).select_one(f"#update-{story[2]['id']}")
    assert "Updated" in article.select_one(".entry-edited").get_text()


def test_deleted_draft_and_scheduled_entries_are_never_shown(api, client, story):
    api.delete(f"/api/v1/blogs/hama/entries/{story[0]['id']}", headers={"If-Match": '"1"'})
    api.post_entry(body="Embargoed", status="scheduled", published_at="2999-01-01T00:00:00Z")
    body = client.get("/hama/").data
    assert b"First " not in body and b"Embargoed" not in body
    assert client.get(f"/hama/updates/{story[0]['id']}").status_code == 410


def test_older_updates_page_by_a_stable_cursor(app, api, client):
    app.config["READER_PAGE_SIZE"] = 2
    created = [
        api.post_entry(body=f"Update {n}", published_at=f"2017-03-24T0{n}:00:00Z")
        for n in range(1, 6)
    ]
    first = soup(client.get("/hama/"))
    older = first.select_one("a.pagination-older")["href"]
    api.post_entry(body="Breaking", published_at="2017-03-24T09:30:00Z")
    second = soup(client.get(older))
    third = soup(client.get(second.select_one("a.pagination-older")["href"]))
    assert third.select_one("a.pagination-older") is None
    seen = [
        a["data-entry-id"]
        for page in (first, second, third)
        for a in page.select(".updates article")
    ]
    assert seen == [str(e["id"]) for e in reversed(created)]
    assert client.get("/hama/?before=garbage").status_code == 400


def test_draft_blogs_are_invisible_to_readers(api, client):
    api.as_role("admin").post("/api/v1/blogs", json={"slug": "secret", "title": "Embargoed story"})
    assert client.get("/secret/").status_code == 404
    index = client.get("/")
    assert b"Hama" in index.data and b"Embargoed story" not in index.data
    assert client.get("/no-such-blog/").status_code == 404


def test_permalink_uses_the_same_partial_and_links_around(app, client, story):
    live = soup(client.get("/hama/")).select_one(f"#update-{story[1]['id']}")
    response = client.get(f"/hama/updates/{story[1]['id']}")
    page = soup(response)
    article = page.select_one("article.entry")
    assert article["id"] == live["id"]
    assert str(article.select_one(".entry-body")) == str(live.select_one(".entry-body"))
    assert (
        article.select_one(".entry-label").get_text() == live.select_one(".entry-label").get_text()
    )
    assert page.select_one("a.entry-all")["href"] == f"/hama/#update-{story[1]['id']}"
    assert page.select_one("a.entry-older")["href"] == f"/hama/updates/{story[0]['id']}"
    assert page.select_one("a.entry-newer")["href"] == f"/hama/updates/{story[2]['id']}"
    canonical = f"https://news.example/hama/updates/{story[1]['id']}"
    assert page.select_one('link[rel="canonical"]')["href"] == canonical
    assert page.select_one('meta[property="og:title"]')["content"] == "Assault on Qomhana — Hama"
    assert page.select_one('meta[property="og:description"]')["content"] == "Second update."
    assert (
        page.select_one('meta[property="og:image"]')["content"]
        == "https://news.example/media/top.jpg"
    )
    assert page.select_one('meta[name="twitter:card"]')["content"] == "summary_large_image"
    assert client.get("/hama/updates/999999").status_code == 404


def test_gone_page_links_back_to_the_live_blog(api, client, story):
    api.delete(f"/api/v1/blogs/hama/entries/{story[2]['id']}", headers={"If-Match": '"1"'})
    response = client.get(f"/hama/updates/{story[2]['id']}")
    assert response.status_code == 410
    assert soup(response).select_one("main a")["href"] == "/hama/"


def test_live_page_carries_live_blog_posting(api, client, story):
    data = structured_data(soup(client.get("/hama/")))
    assert data["@type"] == "LiveBlogPosting"
    assert data["headline"] == "Hama"
    assert data["description"] == "Rebels close in on Hama city."
    assert "coverageStartTime" in data and "coverageEndTime" not in data
    assert data["publisher"]["name"] == "Liveblog"
    updates = data["liveBlogUpdate"]
    assert [u["url"] for u in updates] == [
        f"https://news.example/hama/updates/{e['id']}" for e in reversed(story)
    ]
    assert updates[1]["@type"] == "BlogPosting"
    assert updates[1]["articleBody"] == "Second update."
    assert {"headline", "datePublished", "dateModified"} <= set(updates[1])
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    ended = soup(client.get("/hama/"))
    assert ended.select_one(".blog-status").get_text() == "Ended"
    assert "coverageEndTime" in structured_data(ended)


def test_permalink_carries_blog_posting(client, story):
    data = structured_data(soup(client.get(f"/hama/updates/{story[0]['id']}")))
    assert data["@type"] == "BlogPosting"
    assert data["datePublished"] == "2017-03-23T22:10:00+00:00"
    assert data["articleBody"] == "First update."


def test_user_text_is_escaped_and_marked_for_direction(api, client):
    api.post_entry(
        headline="<script>alert(1)</script> عاجل", body="<img src=x onerror=alert(1)> نص عربي"
    )
    response = client.get("/hama/")
    page = soup(response)
    scripts = [s.get("type") or s["src"].split("/")[-1] for s in page.select("script")]
    assert scripts == ["application/ld+json", "video.js", "map.js", "updated.js", "live.js"]
    assert not page.select("[onerror]") and not page.select("main img")
    assert "<img src=x onerror=alert(1)>" in page.select_one(".entry-body").get_text()
    headline = page.select_one(".entry-headline")
    assert headline["dir"] == "auto" and "عاجل" in headline.get_text()


def test_reader_responses_revalidate_by_the_change_log(app, api, client, story):
    first = client.get("/hama/")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "s-maxage=" in first.headers["Cache-Control"]
    assert "stale-while-revalidate=" in first.headers["Cache-Control"]
    with statements_of_this_thread(app) as statements:
        again = client.get("/hama/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    queries = [statement for statement in statements if statement.startswith("SELECT")]
    assert len(queries) <= 1, "a 304 reads the blog row at most (none from the page cache)"
    assert all("FROM blogs" in query for query in queries)
    assert client.get("/hama/", headers={"If-Modified-Since": last_modified}).status_code == 304
    api.post_entry(body="News")
    changed = client.get("/hama/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    permalink = client.get(f"/hama/updates/{story[0]['id']}")
    assert (
        client.get(
            f"/hama/updates/{story[0]['id']}", headers={"If-None-Match": permalink.headers["ETag"]}
        ).status_code
        == 304
    )


def test_a_blog_on_the_ticker_theme_inherits_what_it_does_not_override(api, client, story):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"theme": "ticker"})
    page = soup(client.get("/hama/"))
    assert page.select_one("article .entry-main") is not None
    assert page.select_one(".blog-standfirst") is not None
    stylesheet = page.select_one('link[rel="stylesheet"]')["href"]
    assert stylesheet.startswith("/assets/ticker/")
    with client.get(stylesheet) as css:
        assert b"--background: #121210" in css.data
        assert "immutable" in css.headers["Cache-Control"]
        assert css.headers["Vary"] == "Accept-Encoding"  # a front may compress it


def test_a_deployment_theme_folder_overrides_templates(make_app, tmp_path, client, story):
    (tmp_path / "overrides").mkdir()
    (tmp_path / "overrides" / "_entry.html").write_text(
        '<article id="update-{{ entry.id }}">OVERRIDDEN</article>'
    )
    app = make_app(THEMES_PATH=str(tmp_path / "overrides"))
    page = app.test_client().get("/hama/")
    assert b"OVERRIDDEN" in page.data and b"blog-standfirst" in page.data


def test_assets_are_found_along_the_theme_chain_only(client):
    with client.get("/assets/default/x/style.css") as found:
        assert found.status_code == 200
    assert client.get("/assets/default/x/../theme.toml").status_code == 404
    assert client.get("/assets/default/x/%2e%2e/theme.toml").status_code == 404
    assert client.get("/assets/nope/x/style.css").status_code == 404


def test_pages_send_a_strict_content_security_policy(client, story):
    policy = client.get("/hama/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_impossible_reader_urls_are_plain_404s(client, story):
    assert client.get("/favicon.ico").status_code == 404
    assert client.get("/hama/updates/99999999999999999999").status_code == 404
    assert client.get("/Hama%00/").status_code == 404


def test_the_index_revalidates_like_every_reader_page(api, client, story):
    first = client.get("/")
    assert "stale-while-revalidate=" in first.headers["Cache-Control"]
    assert client.get("/", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    last_modified = first.headers["Last-Modified"]
    assert client.get("/", headers={"If-Modified-Since": last_modified}).status_code == 304
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"title": "Hama offensive"})
    assert client.get("/", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_the_live_page_advertises_the_key_events_feeds(api, client, story):
    page = soup(client.get("/hama/"))
    alternates = {
        link["href"]: (link["type"], link["title"])
        for link in page.select('link[rel="alternate"]')
        if "/key-events." in link["href"]
    }
    assert alternates == {
        "/hama/key-events.atom": ("application/atom+xml", "Hama: key events (Atom)"),
        "/hama/key-events.rss": ("application/rss+xml", "Hama: key events (RSS)"),
        "/hama/key-events.json": ("application/feed+json", "Hama: key events (JSON Feed)"),
    }
    visible = page.select_one(".key-events .key-events-feed a")
    assert visible["href"] == "/hama/key-events.atom"
    assert "key events" in visible.get_text()
    for href in alternates:
        assert client.get(href).status_code == 200
