"""Idempotency-Key on POST entries: a request sent again, after an answer lost with a host
that died, gets the entry it created rather than a second one (tests/test_durability.py
retries through a real kill)."""

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from liveblog.models import Entry
from liveblog.models import EntryRequest
from liveblog.models import utcnow
from tests.factories import assert_problem
from tests.factories import changes
from tests.factories import open_blog

ENTRIES = "/api/v1/blogs/hama/entries"
KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"
BODY = {"body": "Rebels reach the outskirts of Hama."}


def post(api, key=KEY, body=BODY, path=ENTRIES):
    return api.post(path, json=body, headers={"Idempotency-Key": key})


def entry_ids(session):
    session.rollback()
    return session.scalars(select(Entry.id).order_by(Entry.id)).all()


def test_the_same_request_sent_again_gets_the_entry_it_created(api, session):
    first = post(api)
    again = post(api)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    entry_id = first.get_json()["id"]
    assert entry_ids(session) == [entry_id]
    assert changes(session) == [(1, "entry.published", entry_id)]


def test_a_key_in_quotes_is_the_same_key(api, session):
    first = post(api, key=KEY)
    again = post(api, key=f'"{KEY}"')
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(entry_ids(session)) == 1


def test_without_a_key_the_same_request_makes_a_new_entry(api, session):
    for _ in range(2):
        assert api.post(ENTRIES, json=BODY).status_code == 201
    assert len(entry_ids(session)) == 2


def test_the_entry_sent_again_is_the_entry_as_it_is_now(api, session):
    first = post(api).get_json()
    edited = api.edit_entry(first, body="Rebels enter Hama.")
    assert edited.status_code == 200
    again = post(api)
    assert again.status_code == 201
    assert again.get_json()["id"] == first["id"]
    assert again.get_json()["version"] == 2


def test_a_key_sent_again_with_another_entry_is_refused(api, session):
    first = post(api).get_json()
    problem = assert_problem(post(api, body={"body": "Another update."}), 422)
    assert [error["field"] for error in problem["errors"]] == ["Idempotency-Key"]
    assert entry_ids(session) == [first["id"]]


def test_a_key_whose_entry_was_deleted_since_is_a_conflict(api, session):
    first = post(api).get_json()
    deleted = api.delete(f"{ENTRIES}/{first['id']}", headers={"If-Match": '"1"'})
    assert deleted.status_code == 204
    problem = assert_problem(post(api), 409)
    assert str(first["id"]) in problem["detail"]
    assert entry_ids(session) == [first["id"]]


def test_keys_are_each_users_and_each_blogs(api, session):
    mine = post(api).get_json()["id"]
    colleagues = post(api.as_role("editor")).get_json()["id"]
    open_blog(api, slug="aleppo", title="Aleppo", status="live")
    other_blog = post(api, path="/api/v1/blogs/aleppo/entries").get_json()["id"]
    assert len({mine, colleagues, other_blog}) == 3
    assert post(api).get_json()["id"] == mine


def test_a_key_lasts_a_day(api, session):
    first = post(api).get_json()["id"]
    session.execute(update(EntryRequest).values(created_at=utcnow() - timedelta(hours=25)))
    session.commit()
    second = post(api)
    assert second.status_code == 201 and second.get_json()["id"] != first
    session.rollback()
    assert session.scalar(select(func.count()).select_from(EntryRequest)) == 1
    assert post(api).get_json()["id"] == second.get_json()["id"]


@pytest.mark.parametrize(
    "key", ["", '""', " ", "a" * 256, "two words", 'in"side', "back\\slash", "tab\tbed", "é"]
)
def test_a_malformed_key_is_refused_and_nothing_is_stored(api, session, key):
    problem = assert_problem(post(api, key=key), 400)
    assert "Idempotency-Key" in problem["detail"]
    assert entry_ids(session) == []


def test_a_refused_request_keeps_no_key(api, session):
    assert_problem(post(api, body={"body": ""}), 422)
    assert post(api).status_code == 201
    assert len(entry_ids(session)) == 1
