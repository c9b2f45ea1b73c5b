"""The live page's header and pinned box: a long pinned update shows its first paragraph
and "Read more", without JavaScript; "Last updated" is the time of the blog's last change."""

import re

from liveblog.summaries import split_lead
from tests.support import soup

LONG = "\n\n".join(
    [
        "What we know so far: rebels have reached the outskirts of Hama.",
        "The advance began on Tuesday. " * 8,
        "Aid agencies warn of a crisis. " * 8,
    ]
)
PHOTO = {"type": "image", "url": "https://example.org/p.jpg", "alt": "A checkpoint"}


def pinned_box(client):
    return soup(client.get("/hama/")).select_one(".pinned article")


def test_a_long_pinned_update_shows_its_first_paragraph_and_read_more(api, client):
    entry = api.post_entry(headline="What we know", body=LONG, pinned=True)
    article = pinned_box(client)
    body = article.select_one(".entry-body")
    lead = body.find(recursive=False)
    assert (
        lead.get_text(strip=True)
        == "What we know so far: rebels have reached the outskirts of Hama."
    )
    assert lead["dir"] == "auto"
    more = body.select_one(":scope > details.entry-more")
    assert not more.has_attr("open")
    assert more.select_one(":scope > summary").get_text() == "Read more"
    assert "Aid agencies warn" in more.get_text(), "the rest is in the page, for readers without JS"
    assert len(body.select("p")) == 3
    # The permalink shows it all, and so does an unpinned update.
    permalink = soup(client.get(f"/hama/updates/{entry['id']}"))
    assert permalink.select_one("article details") is None
    api.edit_entry(entry, pinned=False)
    assert soup(client.get("/hama/")).select_one(f"#update-{entry['id']} details") is None


def test_a_short_pinned_update_is_shown_whole_unless_a_picture_follows(api, client):
    entry = api.post_entry(body="Follow our coverage.\n\nCorrections below.", pinned=True)
    assert pinned_box(client).select_one("details") is None
    api.edit_entry(entry, blocks=[{"type": "text", "markdown": "Follow our coverage."}, PHOTO])
    more = pinned_box(client).select_one("details.entry-more")
    assert more.select_one("img")["alt"] == "A checkpoint"
    only = api.post_entry(body="x " * 400, pinned=True)
    assert soup(client.get("/hama/")).select_one(f"#update-{only['id']} details") is None


def test_live_updates_carry_the_pinned_box_as_the_page_renders_it(api, client):
    entry = api.post_entry(body=LONG)
    api.edit_entry(entry, pinned=True)
    events = client.get("/hama/changes?since=1").get_json()["events"]
    assert [event["type"] for event in events] == ["entry.pinned"]
    page = client.get("/hama/").get_data(as_text=True)
    article = re.search(r'<article [^>]*id="update-\d+".*?</article>', page, re.S)
    assert events[0]["html"] == article.group(0)
    assert "<details" in events[0]["html"]


def test_last_updated_is_the_time_of_the_blogs_last_change(api, client):
    assert soup(client.get("/hama/")).select_one(".blog-updated") is None, "nothing yet"
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"timezone": "Europe/London"})
    api.post_entry(body="First")
    blog = api.get("/api/v1/blogs/hama").get_json()
    changes = client.get("/hama/changes?since=0").get_json()["events"]
    time = soup(client.get("/hama/")).select_one(".blog-header .blog-updated time")
    assert time["datetime"] == changes[-1]["changed_at"]
    assert time.parent.get_text(" ", strip=True).startswith("Last updated")
    assert time.get_text() == time["title"]
    assert re.fullmatch(r"\w+day \d{1,2} \w+ \d{4}, \d\d:\d\d (GMT|BST)", time.get_text())
    assert blog["last_seq"] == changes[-1]["seq"]


def test_split_lead_keeps_the_first_paragraph_in_its_text_block():
    html = (
        '<div class="block block-text" dir="auto">\n<p>One <b>1</b></p>\n<p>Two</p>\n</div>\n'
        '<figure class="block"><img src="a.jpg" alt="A"><figcaption>C</figcaption></figure>\n'
        "<hr>"
    )
    lead, rest = split_lead(html)
    assert lead == '<div class="block block-text" dir="auto">\n<p>One <b>1</b></p>\n</div>'
    assert rest == [
        ("div", '<div class="block block-text" dir="auto">\n<p>Two</p>\n</div>'),
        (
            "figure",
            '<figure class="block"><img src="a.jpg" alt="A"><figcaption>C</figcaption></figure>',
        ),
        ("hr", "<hr>"),
    ]
    assert split_lead("<p>Only</p>") == ("<p>Only</p>", [])
    assert split_lead("") == ("", [])
    assert split_lead('<div id="x"><p>a</p><p>b</p></div>')[1] == [], "an id is never doubled"
