"""Reading a blog oldest first: ``?order=``, cursors in both directions, an ended blog's
own opening order (``ended_order``: API, editor form, export), canonical URLs and caching."""

import pytest

from tests.support import soup


@pytest.fixture
def story(app, api):
    """Five updates on 'hama', oldest first, one of them pinned; two to a page."""
    app.config["READER_PAGE_SIZE"] = 2
    created = [
        api.post_entry(
            body=f"Update {n}", key_event=n % 2 == 1, published_at=f"2017-03-24T0{n}:00:00Z"
        )
        for n in range(1, 6)
    ]
    api.post_entry(body="Read this first", pinned=True, published_at="2017-03-24T00:30:00Z")
    return created


def ids(page):
    return [int(article["data-entry-id"]) for article in page.select(".updates article")]


def read_all(client, path):
    """Every page from ``path`` on, following the next-page links: (pages, entry ids)."""
    pages, seen = [], []
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = soup(response)
        pages.append(page)
        seen += ids(page)
        link = page.select_one("a.pagination-older")
        path = link["href"] if link else None
    return pages, seen


def end(api, **settings):
    response = api.as_role("admin").patch(
        "/api/v1/blogs/hama", json={"status": "ended", **settings}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_oldest_first_pages_forward_by_a_stable_cursor(api, client, story):
    pages, seen = read_all(client, "/hama/?order=oldest")
    assert seen == [entry["id"] for entry in story]
    assert len(pages) == 3
    assert pages[0].select_one(".pinned article") is not None
    assert all(page.select_one(".pinned article") is None for page in pages[1:])
    later = pages[0].select_one("a.pagination-older")
    assert later.get_text() == "Later updates" and later["href"].startswith("/hama/?after=")
    assert pages[1].select_one("a.pagination-latest")["href"] == "/hama/?order=oldest"
    assert pages[0].select_one(".live") is None, "read oldest first, the page is not live"
    # A new update lands at the end, and the pages already read stay as they were.
    breaking = api.post_entry(body="Breaking", published_at="2017-03-24T09:30:00Z")
    second = soup(client.get(pages[0].select_one("a.pagination-older")["href"]))
    assert ids(second) == [story[2]["id"], story[3]["id"]]
    assert read_all(client, "/hama/?order=oldest")[1][-1] == breaking["id"]


def test_newest_first_is_unchanged_and_the_default(client, story):
    _, seen = read_all(client, "/hama/")
    pinned = seen[-1]  # in the pinned box on the first page, and in its place further down
    assert seen == [entry["id"] for entry in reversed(story)] + [pinned]
    assert read_all(client, "/hama/?order=newest")[1] == seen
    first = soup(client.get("/hama/"))
    assert first.select_one("a.pagination-older")["href"].startswith("/hama/?before=")
    assert first.select_one(".reading-order") is None, "a live blog reads newest first"


def test_key_events_follow_the_order(client, story):
    newest = soup(client.get("/hama/")).select(".key-events li")
    oldest = soup(client.get("/hama/?order=oldest")).select(".key-events li")
    assert [int(li["data-entry-id"]) for li in oldest] == [
        story[0]["id"],
        story[2]["id"],
        story[4]["id"],
    ]
    assert [li["data-entry-id"] for li in newest] == [
        li["data-entry-id"] for li in reversed(oldest)
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("order=sideways", "There is no order 'sideways'"),
        ("order=", "There is no order ''"),
        ("order=OLDEST", "There is no order 'OLDEST'"),
        ("before=x&after=y", "not both"),
    ],
)
def test_an_order_that_does_not_exist_is_a_400_that_says_so(client, story, query, message):
    response = client.get(f"/hama/?{query}")
    assert response.status_code == 400
    assert message in soup(response).get_text()
    assert response.mimetype == "text/html"


def test_a_cursor_goes_with_its_own_order(client, story):
    later = soup(client.get("/hama/?order=oldest")).select_one("a.pagination-older")["href"]
    older = soup(client.get("/hama/")).select_one("a.pagination-older")["href"]
    assert client.get(later + "&order=oldest").status_code == 200
    mismatch = client.get(later + "&order=newest")
    assert mismatch.status_code == 400
    assert "'after' pages the updates oldest first" in soup(mismatch).get_text()
    assert client.get(older + "&order=oldest").status_code == 400
    assert client.get("/hama/?after=garbage").status_code == 400


def test_an_ended_blog_opens_in_its_own_order(api, client, story):
    assert end(api)["ended_order"] == "newest"
    page = soup(client.get("/hama/"))
    assert ids(page) == [story[4]["id"], story[3]["id"]]
    links = {a.get_text(): a for a in page.select(".reading-order a")}
    assert (
        links["Newest first"]["href"] == "/hama/"
        and links["Newest first"]["aria-current"] == "page"
    )
    assert links["Oldest first"]["href"] == "/hama/?order=oldest"

    assert end(api, ended_order="oldest")["ended_order"] == "oldest"
    page = soup(client.get("/hama/"))
    assert ids(page) == [story[0]["id"], story[1]["id"]]
    links = {a.get_text(): a for a in page.select(".reading-order a")}
    assert (
        links["Oldest first"]["href"] == "/hama/"
        and links["Oldest first"]["aria-current"] == "page"
    )
    assert links["Newest first"]["href"] == "/hama/?order=newest"
    assert ids(soup(client.get("/hama/?order=newest"))) == [story[4]["id"], story[3]["id"]]
    # Reopened, the blog is live again and reads newest first; its choice is kept.
    reopened = api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "live"}).get_json()
    assert reopened["ended_order"] == "oldest"
    assert ids(soup(client.get("/hama/"))) == [story[4]["id"], story[3]["id"]]


def test_canonical_urls_name_each_page_once(api, client, story):
    def canonical(path):
        return soup(client.get(path)).select_one('link[rel="canonical"]')["href"]

    assert canonical("/hama/") == "https://news.example/hama/"
    assert canonical("/hama/?order=newest") == "https://news.example/hama/"
    assert canonical("/hama/?order=oldest") == "https://news.example/hama/?order=oldest"
    later = soup(client.get("/hama/?order=oldest")).select_one("a.pagination-older")["href"]
    assert canonical(later + "&order=oldest&utm_source=x") == f"https://news.example{later}"
    end(api, ended_order="oldest")
    assert canonical("/hama/?order=oldest") == "https://news.example/hama/"
    assert canonical("/hama/?order=newest") == "https://news.example/hama/?order=newest"


def test_each_order_is_cached_apart_and_until_the_blog_changes(api, client, story):
    newest, oldest = client.get("/hama/"), client.get("/hama/?order=oldest")
    assert newest.headers["ETag"] != oldest.headers["ETag"]
    assert client.get("/hama/?order=oldest").data == oldest.data
    revalidated = client.get(
        "/hama/?order=oldest", headers={"If-None-Match": oldest.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    end(api, ended_order="oldest")
    reopened = client.get("/hama/", headers={"If-None-Match": newest.headers["ETag"]})
    assert reopened.status_code == 200
    assert ids(soup(reopened)) == [story[0]["id"], story[1]["id"]]


def test_ended_order_is_set_by_admins_and_validated(api):
    admin = api.as_role("admin")
    assert admin.get("/api/v1/blogs/hama").get_json()["ended_order"] == "newest"
    response = admin.patch("/api/v1/blogs/hama", json={"ended_order": "sideways"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "ended_order", "message": "must be one of: newest, oldest"}
    ]
    assert api.patch("/api/v1/blogs/hama", json={"ended_order": "oldest"}).status_code == 403
    created = admin.post(
        "/api/v1/blogs", json={"slug": "story", "title": "Story", "ended_order": "oldest"}
    )
    assert created.status_code == 201 and created.get_json()["ended_order"] == "oldest"
