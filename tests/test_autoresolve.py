"""Bare post and video links in saved entries are looked up after the commit, off the request
path, and the entry completed as a new version; a failed look-up leaves a link card."""

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from liveblog import db
from liveblog import lookups
from liveblog.models import Entry
from liveblog.models import utcnow
from liveblog.themes import Themes
from liveblog.transfer.article import read_article
from liveblog.transfer.importer import import_blog
from tests.factories import ApiClient
from tests.factories import assert_problem
from tests.factories import changes
from tests.fakes import fake_server
from tests.feedreader import read_feed
from tests.support import TWEET
from tests.support import TWEET_ANSWER
from tests.support import soup
from tests.support import wait_until

VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
TOOT = "https://mastodon.social/@reporter/111222333"


@pytest.fixture
def provider():
    with fake_server() as server:
        yield server


def pointed_at(server, **settings):
    """Settings that send the app's look-ups to the fake ``server``."""
    return {
        "OEMBED_ENDPOINTS": {
            key: server.url(f"/{key}/oembed") for key in ("x", "youtube", "mastodon")
        },
        "FETCH_PRIVATE_ADDRESSES": True,
        "OEMBED_TIMEOUT": 0.5,
        **settings,
    }


@pytest.fixture
def app(make_app, provider):
    return make_app(**pointed_at(provider))


def lookups_of(app):
    return app.extensions["liveblog.lookups"]


def current(api, entry):
    return api.get(f"/api/v1/blogs/hama/entries/{entry['id']}").get_json()


def test_a_bare_link_is_looked_up_after_the_commit_and_becomes_the_quote(app, api, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    entry = api.post_entry(body=f"A pro-rebel activist tweeted:\n\n{TWEET}")
    assert provider.requests == []  # nothing was fetched while publishing
    assert entry["version"] == 1
    assert entry["unresolved"] == [{"block": 1, "url": TWEET, "state": "pending", "reason": None}]
    card = soup(api.client.get("/hama/").get_data(as_text=True)).select_one(".social-card")
    assert "Unknown author" not in card.text and "@someone" in card.text
    assert "X (Twitter)" in card.text and card.a["href"] == TWEET

    assert lookups_of(app).run_once() == 1
    done = current(api, entry)
    assert done["version"] == 2 and done["unresolved"] == []
    assert done["blocks"][1]["author_name"] == "Some One"
    assert done["blocks"][1]["text"].startswith("Rebels have entered Qomhana")
    assert done["edited_at"] is None  # the system completed the post: no "Updated" line
    assert changes(api.session) == [
        (1, "entry.published", entry["id"]),
        (2, "entry.updated", entry["id"]),
    ]
    page = soup(api.client.get(f"/hama/updates/{entry['id']}").get_data(as_text=True))
    assert "Rebels have entered Qomhana" in page.select_one("blockquote.social-post").text
    assert not page.select(".social-card") and not page.select(".entry-updated, .updated")
    feed = read_feed(api.client.get("/hama/feed.atom"))
    assert "Rebels have entered Qomhana" in feed.items[0].content
    assert lookups_of(app).run_once() == 0


def test_several_links_in_several_entries(app, api, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    provider.route("/mastodon/oembed", json.dumps({**TWEET_ANSWER, "author_name": "Reporter"}))
    provider.route("/youtube/oembed", json.dumps({"title": "Drone footage over Hama"}))
    first = api.post_entry(body=f"{TWEET}\n\nand\n\n{VIDEO}")
    second = api.post_entry(blocks=[{"type": "social", "url": TOOT}])
    assert [item["url"] for item in first["unresolved"]] == [TWEET, VIDEO]
    assert lookups_of(app).run_once() == 3
    first, second = current(api, first), current(api, second)
    assert first["blocks"][2] == {
        "type": "video",
        "url": VIDEO,
        "provider": "youtube",
        "title": "Drone footage over Hama",
    }
    assert first["blocks"][0]["author_handle"] == "@someone"
    assert second["blocks"][0]["author_name"] == "Reporter"
    assert first["unresolved"] == second["unresolved"] == []


def test_a_failed_look_up_leaves_a_link_card_a_warning_and_a_retry(app, api, provider):
    provider.route("/x/oembed", "gone", status=404, content_type="text/plain")
    entry = api.post_entry(body=TWEET)
    lookups_of(app).run_once()
    failed = current(api, entry)
    assert failed["version"] == 1 and failed["blocks"] == entry["blocks"]
    [item] = failed["unresolved"]
    assert item["state"] == "failed" and "does not exist" in item["reason"]
    card = soup(api.client.get("/hama/").get_data(as_text=True)).select_one(".social-card")
    assert "@someone" in card.text and "X (Twitter)" in card.text
    assert lookups_of(app).run_once() == 0  # a refusal waits for someone to retry

    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    retried = api.post(f"/api/v1/blogs/hama/entries/{entry['id']}/lookups")
    assert retried.status_code == 202
    assert retried.get_json()["unresolved"][0]["state"] == "pending"
    lookups_of(app).run_once()
    assert current(api, entry)["blocks"][0]["text"].startswith("Rebels have entered")


def test_a_timeout_is_tried_again_later_by_itself(app, api, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER), delay=1.0)
    entry = api.post_entry(body=TWEET)
    lookups_of(app).run_once()
    [item] = current(api, entry)["unresolved"]
    assert item["state"] == "pending" and "did not answer" in item["reason"]
    assert lookups_of(app).run_once() == 0  # not yet due
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    assert lookups_of(app).run_once(utcnow() + timedelta(seconds=11)) == 1
    assert current(api, entry)["unresolved"] == []


def test_an_edit_made_while_the_look_up_runs_is_kept(app, api, provider):
    app.config["OEMBED_TIMEOUT"] = 10  # the provider answers when the test lets it
    answer = threading.Event()
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER), gate=answer)
    entry = api.post_entry(body=f"Before.\n\n{TWEET}")
    worker = threading.Thread(target=lookups_of(app).run_once)
    worker.start()
    wait_until(lambda: provider.requests, message="the look-up never started")
    edited = api.edit_entry(entry, headline="Checked by the desk")
    answer.set()
    assert edited.status_code == 200
    worker.join()
    done = current(api, entry)
    assert done["headline"] == "Checked by the desk" and done["version"] == 3
    assert done["blocks"][1]["author_name"] == "Some One"
    stale = api.edit_entry(edited.get_json(), headline="From an old copy")
    assert_problem(stale, 412)  # the editor's copy is older than the completed post


def test_an_edit_that_drops_the_link_or_a_deletion_drops_its_look_up(app, api, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    dropped = api.post_entry(body=TWEET)
    api.edit_entry(dropped, body="No link after all.")
    deleted = api.post_entry(body=TWEET)
    api.delete(
        f"/api/v1/blogs/hama/entries/{deleted['id']}",
        headers={"If-Match": f'"{deleted["version"]}"'},
    )
    assert lookups_of(app).run_once() == 0
    assert provider.requests == []


def test_posts_given_in_full_are_not_looked_up(app, api, provider):
    entry = api.post_entry(blocks=[{"type": "social", "url": TWEET, "text": "Written by hand"}])
    assert entry["unresolved"] == []
    assert lookups_of(app).run_once() == 0


def test_pending_look_ups_survive_a_restart(make_app, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    # This process dies before it looks anything up: it never does.
    before = make_app(**pointed_at(provider, EMBED_LOOKUP_INTERVAL=0))
    with db.database(before).sessions() as session:
        api = ApiClient(before.test_client(), session)
        api.as_role("admin").post(
            "/api/v1/blogs", json={"slug": "hama", "title": "Hama", "status": "live"}
        )
        entry = api.as_role("editor").post_entry(body=TWEET)
    db.database(before).engine.dispose()  # the process is gone, its look-up not done

    # The look-up itself may take its time on a loaded machine: a timeout would put it off
    # by RETRY_DELAYS[0], past this test's wait.
    after = make_app(**pointed_at(provider, EMBED_LOOKUP_INTERVAL=0.05, OEMBED_TIMEOUT=5))
    client = after.test_client()
    client.get("/hama/")  # the first request starts the process's threads
    wait_until(
        lambda: (
            "Rebels have entered"
            in client.get(f"/hama/updates/{entry['id']}").get_data(as_text=True)
        ),
        message="the pending look-up was never done after the restart",
    )


def test_a_look_up_taken_by_a_process_that_died_is_taken_again(app, api, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    entry = api.post_entry(body=TWEET)
    worker = lookups_of(app)
    with db.database(app).sessions() as session:
        assert len(lookups.claim_due(session, utcnow(), worker.hold, 10)) == 1  # then it died
    assert worker.run_once() == 0
    assert worker.run_once(utcnow() + worker.hold + timedelta(seconds=1)) == 1
    assert current(api, entry)["unresolved"] == []


def test_retrying_is_for_who_may_edit_the_entry(app, api, provider):
    entry = api.post_entry(body=TWEET)
    contributor = api.as_role("contributor")
    assert_problem(contributor.post(f"/api/v1/blogs/hama/entries/{entry['id']}/lookups"), 403)
    assert_problem(api.post("/api/v1/blogs/hama/entries/999/lookups"), 404)


def test_bare_links_of_an_imported_article_are_looked_up(app, provider):
    provider.route("/x/oembed", json.dumps(TWEET_ANSWER))
    article = f"Hama offensive\n\nUPDATE 0745 GMT: A pro-rebel activist tweeted:\n\n{TWEET}\n"
    with db.database(app).sessions() as session:
        imported = import_blog(session, Themes(), read_article(article))
        assert lookups_of(app).run_once() == 1
        entry = session.scalars(select(Entry).where(Entry.blog_id == imported.blog.id)).one()
        session.refresh(entry)
        assert entry.blocks[1]["author_name"] == "Some One" and entry.version == 2
