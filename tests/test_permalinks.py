"""Permalinks worth landing on: the date and time on the blog's clock, the updates either
side, how many came since, and share links that are plain links."""

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.support import soup


@pytest.fixture
def story(api):
    """Four published updates on 'hama' (a London blog), oldest first, the third without
    a headline; a draft and a scheduled update that readers never see."""
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"timezone": "Europe/London"})
    entries = [
        api.post_entry(headline="Rebels gather", published_at="2017-03-23T22:10:00Z"),
        api.post_entry(
            headline='Assault on "Qomhana" & beyond', published_at="2017-03-24T07:45:00Z"
        ),
        api.post_entry(body="Third.", published_at="2017-03-24T08:30:00Z"),
        api.post_entry(headline="Summer", published_at="2017-07-01T12:00:00Z"),
    ]
    api.post_entry(body="Draft", status="draft")
    api.post_entry(body="Later", status="scheduled", published_at="2999-01-01T00:00:00Z")
    return entries


def permalink(client, entry):
    response = client.get(f"/hama/updates/{entry['id']}")
    assert response.status_code == 200
    return soup(response)


def test_the_date_and_time_are_on_the_blogs_clock(client, story):
    winter = permalink(client, story[1]).select_one(".entry-date time")
    assert winter["datetime"] == "2017-03-24T07:45:00+00:00"
    assert winter.get_text() == "Friday 24 March 2017, 07:45 GMT"
    summer = permalink(client, story[3]).select_one(".entry-date time")
    assert summer["datetime"] == "2017-07-01T12:00:00+00:00"
    assert summer.get_text() == "Saturday 1 July 2017, 13:00 BST"


def test_previous_and_next_updates_with_their_labels_and_headlines(client, story):
    page = permalink(client, story[2])
    older, newer = page.select_one("a.entry-older"), page.select_one("a.entry-newer")
    assert older["href"] == f"/hama/updates/{story[1]['id']}" and older["rel"] == ["prev"]
    assert older.select_one("time").get_text() == "UPDATE 0745 GMT"
    assert 'Assault on "Qomhana" & beyond' in older.get_text()
    assert newer["href"] == f"/hama/updates/{story[3]['id']}" and newer["rel"] == ["next"]
    assert " ".join(newer.get_text().split()) == "Next update UPDATE 1300 BST Summer"
    middle = permalink(client, story[1]).select_one("a.entry-newer")
    assert " ".join(middle.get_text().split()) == "Next update UPDATE 0830 GMT"
    first, last = permalink(client, story[0]), permalink(client, story[3])
    assert first.select_one("a.entry-older") is None and first.select_one("a.entry-newer")
    assert last.select_one("a.entry-newer") is None and last.select_one("a.entry-older")


def test_newer_updates_are_counted_when_the_page_is_asked_for(api, client, story):
    newer = permalink(client, story[1]).select_one(".entry-newer-count a")
    assert newer.get_text() == "2 newer updates" and newer["href"] == "/hama/#updates"
    assert permalink(client, story[2]).select_one(".entry-newer-count").get_text(strip=True) == (
        "1 newer update"
    )
    assert permalink(client, story[3]).select_one(".entry-newer-count") is None
    api.post_entry(body="Breaking")
    assert permalink(client, story[3]).select_one(".entry-newer-count a").get_text() == (
        "1 newer update"
    )
    api.as_role("admin").patch(
        "/api/v1/blogs/hama", json={"status": "ended", "ended_order": "oldest"}
    )
    latest = permalink(client, story[3]).select_one(".entry-newer-count a")["href"]
    assert latest == "/hama/?order=newest#updates"


def test_share_links_carry_the_address_and_title_encoded(client, story):
    page = permalink(client, story[1])
    url = f"https://news.example/hama/updates/{story[1]['id']}"
    title = 'Assault on "Qomhana" & beyond — Hama'
    links = {a["class"][1]: a["href"] for a in page.select("a.share-link")}
    assert set(links) == {
        "share-x", "share-bluesky", "share-facebook", "share-whatsapp", "share-telegram",
        "share-email",
    }  # fmt: skip

    def query(href):
        parts = urlsplit(href)
        return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)

    assert query(links["share-x"]) == ("https://x.com/intent/post", {"text": [title], "url": [url]})
    assert query(links["share-bluesky"]) == (
        "https://bsky.app/intent/compose",
        {"text": [f"{title} {url}"]},
    )
    assert query(links["share-facebook"]) == (
        "https://www.facebook.com/sharer/sharer.php",
        {"u": [url]},
    )
    assert query(links["share-whatsapp"]) == ("https://wa.me/", {"text": [f"{title} {url}"]})
    assert query(links["share-telegram"]) == (
        "https://t.me/share/url",
        {"url": [url], "text": [title]},
    )
    email = links["share-email"]
    assert email.startswith("mailto:?") and "+" not in email and "&amp;" not in email
    assert parse_qs(email.removeprefix("mailto:?")) == {"subject": [title], "body": [url]}
    assert "%26" in links["share-x"] and "%22" in links["share-x"]
    assert page.select_one("input#share-url")["value"] == url
    assert page.select_one("label[for=share-url]") is not None
    assert page.select_one(".share-copy-button").has_attr("hidden")
    assert page.select_one(".share-native").has_attr("hidden")


def test_a_permalink_does_not_link_to_itself(client, story):
    page = permalink(client, story[1])
    path = f"/hama/updates/{story[1]['id']}"
    assert [a for a in page.select("a[href]") if a["href"].split("#")[0] == path] == []
    assert "Link to this update" not in page.get_text()
    assert page.select_one("article .entry-label").name == "span"


def test_permalinks_on_the_ticker_theme_do_not_link_to_themselves(api, client, story):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"theme": "ticker"})
    page = permalink(client, story[1])
    path = f"/hama/updates/{story[1]['id']}"
    assert [a for a in page.select("a[href]") if a["href"] == path] == []
    assert page.select_one("a.entry-older") and page.select_one(".share")
