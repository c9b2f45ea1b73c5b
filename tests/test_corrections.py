"""Corrections: a public note on an edit, shown with the update on every surface, and the
update's public history of published versions."""

import json
from datetime import datetime

import pytest

from liveblog.history import text_changes
from liveblog.labels import format_label
from tests.factories import assert_problem
from tests.factories import changes
from tests.factories import open_blog
from tests.feedreader import read_feed
from tests.support import soup

FORMATS = ("atom", "rss", "json")
NOTE = "An earlier version of this update gave the wrong death toll."


def time_of(stamp: str) -> str:
    """``1305 GMT`` for an ISO time, as the blog (in UTC) shows it."""
    return format_label(datetime.fromisoformat(stamp), "UTC", "%H%M %Z")


def entry_path(entry):
    return f"/api/v1/blogs/hama/entries/{entry['id']}"


def current(api, entry):
    return api.get(entry_path(entry)).get_json()


@pytest.fixture
def corrected(api):
    """A published update, corrected once with a note."""
    entry = api.post_entry(headline="Toll rises", body="Ten people were killed in Hama.")
    response = api.edit_entry(entry, body="Twelve people were killed in Hama.", correction=NOTE)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# The API


def test_an_editor_corrects_a_published_update_with_a_note(api, session, corrected):
    assert [c["note"] for c in corrected["corrections"]] == [NOTE]
    assert corrected["corrections"][0]["version"] == corrected["version"] == 2
    assert corrected["corrections"][0]["created_at"] == corrected["edited_at"]
    assert current(api, corrected)["corrections"] == corrected["corrections"]
    assert changes(session)[-1] == (2, "entry.updated", corrected["id"])


def test_several_notes_stay_oldest_first_and_a_note_alone_is_a_change(api, session, corrected):
    again = api.edit_entry(corrected, correction="  The victims' names   were misspelt. ")
    assert again.status_code == 200
    notes = [c["note"] for c in again.get_json()["corrections"]]
    assert notes == [NOTE, "The victims' names were misspelt."]
    assert again.get_json()["version"] == 3
    assert changes(session)[-1] == (3, "entry.updated", corrected["id"])


def test_an_edit_without_a_note_adds_none(api, corrected):
    edited = api.edit_entry(corrected, body="Twelve people died in Hama.", correction=None)
    assert edited.status_code == 200
    assert len(edited.get_json()["corrections"]) == 1
    blank = api.edit_entry(edited.get_json(), headline="Toll", correction="   ")
    assert len(blank.get_json()["corrections"]) == 1


def test_contributors_cannot_add_a_note(api):
    contributor = api.as_role("contributor")
    draft = contributor.post_entry(body="Draft")
    problem = assert_problem(contributor.edit_entry(draft, correction="Fixed"), 403)
    assert "Only editors and admins can add a correction note" in problem["detail"]
    assert current(api, draft)["corrections"] == []


@pytest.mark.parametrize(
    ("setup", "fields", "message"),
    [
        ("published", {"correction": "x" * 501}, "must be at most 500 characters"),
        ("published", {"correction": 12}, "must be a string"),
        ("draft", {"correction": "Fixed"}, "applies to published updates"),
        ("published", {"status": "draft", "correction": "Fixed"}, "applies to published updates"),
    ],
)
def test_notes_that_cannot_be_stored_are_422s_naming_the_field(api, setup, fields, message):
    entry = api.post_entry(body="Words", status=setup)
    problem = assert_problem(api.edit_entry(entry, **fields), 422)
    assert any(
        error["field"] == "correction" and message in error["message"]
        for error in problem["errors"]
    ), problem
    assert current(api, entry)["version"] == entry["version"]


def test_a_new_update_cannot_carry_a_note(api):
    response = api.post("/api/v1/blogs/hama/entries", json={"body": "New", "correction": "Fix"})
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "correction"


def test_a_stale_edit_stores_no_note(api, corrected):
    stale = {**corrected, "version": 1}
    assert_problem(api.edit_entry(stale, correction="Second thoughts"), 412)
    assert len(current(api, corrected)["corrections"]) == 1


# What readers see


def correction_lines(article):
    return [" ".join(p.get_text().split()) for p in article.select(".entry-correction")]


def test_every_page_shows_the_note_instead_of_updated(api, client, corrected):
    line = f"Correction, {time_of(corrected['corrections'][0]['created_at'])}: {NOTE}"
    entry_id = corrected["id"]
    pages = {
        "live": "/hama/",
        "permalink": f"/hama/updates/{entry_id}",
        "embed": "/hama/embed",
        "card": f"/hama/embed?update={entry_id}",
    }
    for name, path in pages.items():
        article = soup(client.get(path)).select_one(f"#update-{entry_id}")
        assert correction_lines(article) == [line], name
        when = article.select_one(".entry-correction time")["datetime"]
        assert datetime.fromisoformat(when) == datetime.fromisoformat(
            corrected["corrections"][0]["created_at"]
        ).replace(microsecond=0)
        assert article.select_one(".entry-edited") is None, name


def test_a_silent_edit_after_a_note_says_updated_again(api, client, corrected):
    api.edit_entry(corrected, body="Twelve people died in Hama.")
    article = soup(client.get("/hama/")).select_one(f"#update-{corrected['id']}")
    assert "Updated" in article.select_one(".entry-edited").get_text()
    assert len(correction_lines(article)) == 1


def test_notes_are_plain_text_in_every_theme(api, client):
    open_blog(api, slug="ticker", title="T", theme="ticker", status="live")
    entry = api.post_entry(blog="ticker", body="Words")
    note = 'Fixed <script>alert(1)</script> & "quotes"'
    first = api.edit_entry(entry, correction=note).get_json()
    api.edit_entry(first, correction="Second note")
    page = client.get("/ticker/")
    assert b"<script>alert" not in page.data
    article = soup(page).select_one(f"#update-{entry['id']}")
    assert [line.split(": ", 1)[1] for line in correction_lines(article)] == [note, "Second note"]


def test_the_pushed_update_is_the_server_rendered_one_with_its_note(api, client, corrected):
    events = client.get("/hama/changes?since=1").get_json()["events"]
    assert [event["type"] for event in events] == ["entry.updated"]
    live = client.get("/hama/").get_data(as_text=True)
    assert events[0]["html"] in live
    assert correction_lines(soup(events[0]["html"])) == correction_lines(
        soup(live).select_one(f"#update-{corrected['id']}")
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_feeds_carry_the_notes_and_date_the_update_by_them(api, client, corrected, fmt):
    later = api.edit_entry(corrected, correction="Names corrected.").get_json()
    item = read_feed(client.get(f"/hama/feed.{fmt}")).items[0]
    first, second = later["corrections"]
    text = " ".join(soup(item.content).get_text(" ").split())
    assert text.endswith(
        f"Correction, {time_of(first['created_at'])}: {NOTE} "
        f"Correction, {time_of(second['created_at'])}: Names corrected."
    )
    assert text.startswith("Twelve people were killed in Hama.")
    if fmt != "rss":
        assert item.updated == datetime.fromisoformat(second["created_at"])


def test_structured_data_has_a_correction_comment(api, client, corrected):
    note = corrected["corrections"][0]
    expected = [
        {
            "@type": "CorrectionComment",
            "text": NOTE,
            "datePublished": datetime.fromisoformat(note["created_at"]).isoformat(
                timespec="seconds"
            ),
        }
    ]
    permalink = soup(client.get(f"/hama/updates/{corrected['id']}"))
    posting = json.loads(permalink.select_one('script[type="application/ld+json"]').string)
    assert posting["correction"] == expected
    live = soup(client.get("/hama/"))
    updates = json.loads(live.select_one('script[type="application/ld+json"]').string)
    assert updates["liveBlogUpdate"][0]["correction"] == expected
    plain = api.post_entry(body="Never corrected")
    permalink = soup(client.get(f"/hama/updates/{plain['id']}"))
    assert "correction" not in json.loads(
        permalink.select_one('script[type="application/ld+json"]').string
    )


# The history page


def history(client, entry):
    return client.get(f"/hama/updates/{entry['id']}/history")


def test_the_history_shows_published_versions_only_with_their_changes(api, client):
    draft = api.post_entry(headline="Toll", body="Draft words nobody saw.", status="draft")
    entry = api.edit_entry(draft, body="Ten people were killed.", status="published").get_json()
    entry = api.edit_entry(entry, pinned=True).get_json()  # no new words, no new version
    entry = api.edit_entry(entry, body="Twelve people were killed.", correction=NOTE).get_json()
    entry = api.edit_entry(entry, status="draft").get_json()
    entry = api.edit_entry(entry, body="Unpublished words, never seen.").get_json()
    entry = api.edit_entry(entry, body="Twelve people were killed.", status="published").get_json()

    response = history(client, entry)
    assert response.status_code == 200
    page = soup(response)
    versions = page.select(".history-version")
    assert [v["id"] for v in versions] == ["version-2", "version-1"]
    newest, first = versions
    assert [d.get_text() for d in newest.select("del")] == ["Ten"]
    assert [i.get_text() for i in newest.select("ins")] == ["Twelve"]
    assert " ".join(newest.select_one(".history-text").get_text().split()) == (
        "Toll TenTwelve people were killed."
    )
    assert NOTE in newest.select_one(".entry-correction").get_text()
    assert first.select("ins, del, .entry-correction") == []
    assert first.select_one(".history-text").get_text() == "Toll\n\nTen people were killed."
    assert b"nobody saw" not in response.data and b"never seen" not in response.data


def test_the_update_links_its_history_once_it_has_two_versions(api, client):
    entry = api.post_entry(body="Ten people were killed.")
    page = soup(client.get("/hama/"))
    assert page.select(f"#update-{entry['id']} .entry-history") == []
    assert soup(history(client, entry)).select(".history-version")[0]["id"] == "version-1"
    api.edit_entry(entry, body="Twelve people were killed.")
    for path in ("/hama/", f"/hama/updates/{entry['id']}"):
        link = soup(client.get(path)).select_one(f"#update-{entry['id']} a.entry-history")
        assert link["href"] == f"/hama/updates/{entry['id']}/history"


def test_the_history_never_shows_review_notes_or_editors(api, client):
    contributor = api.as_role("contributor", name="Rania Reporter")
    draft = contributor.post_entry(body="Ten killed.", review="pending", review_note="Check toll")
    entry = api.edit_entry(draft, status="published").get_json()
    api.edit_entry(entry, body="Twelve killed.")
    body = history(client, entry).get_data(as_text=True)
    assert "Check toll" not in body and api.user.name not in body


def test_the_history_is_cacheable_by_the_blogs_seq(api, client, corrected):
    response = history(client, corrected)
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    again = client.get(
        f"/hama/updates/{corrected['id']}/history",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    api.post_entry(body="Elsewhere")
    changed = client.get(
        f"/hama/updates/{corrected['id']}/history",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert changed.status_code == 200


def test_the_history_of_a_deleted_update_is_gone(api, client, corrected):
    api.delete(entry_path(corrected), headers={"If-Match": f'"{corrected["version"]}"'})
    assert history(client, corrected).status_code == 410
    assert NOTE.encode() not in history(client, corrected).data


def test_no_history_of_drafts_scheduled_or_missing_updates(api, client):
    draft = api.post_entry(body="Draft", status="draft")
    scheduled = api.post_entry(
        body="Later", status="scheduled", published_at="2999-01-01T00:00:00Z"
    )
    for entry in (draft, scheduled, {"id": 999}):
        response = history(client, entry)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
    assert client.get("/nowhere/updates/1/history").status_code == 404


# The pure parts


@pytest.mark.parametrize(
    ("before", "after", "runs"),
    [
        ("", "Ten killed.", [("added", "Ten killed.")]),
        ("Ten killed.", "Ten killed.", [("same", "Ten killed.")]),
        (
            "Ten people killed.",
            "Twelve people killed.",
            [("removed", "Ten"), ("added", "Twelve"), ("same", " people killed.")],
        ),
        ("A\n\nB", "A\n\nB\n\nC", [("same", "A\n\nB"), ("added", "\n\nC")]),
    ],
)
def test_text_changes_are_runs_of_whole_words(before, after, runs):
    found = [(change.kind, change.text) for change in text_changes(before, after)]
    assert found == runs
    assert "".join(text for kind, text in found if kind != "removed") == after
    assert "".join(text for kind, text in found if kind != "added") == before


def test_the_contract_describes_the_note_and_the_entries_notes(api, client, corrected):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    note = schemas["EntryInput"]["properties"]["correction"]
    assert note["type"] == ["string", "null"] and note["maxLength"] == 500
    listed = schemas["Entry"]["properties"]["corrections"]["items"]
    assert set(listed["required"]) == set(corrected["corrections"][0])
