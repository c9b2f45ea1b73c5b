"""A label typed or pasted at the start of a new entry's text gives it its time, through the API."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.factories import assert_problem


def today_at(hour: int, minute: int) -> datetime:
    now = datetime.now(UTC)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment if moment <= now + timedelta(minutes=1) else moment - timedelta(days=1)


def test_a_pasted_label_gives_the_entry_its_time_and_leaves_the_text(api):
    entry = api.post_entry(body="UPDATE 0745 GMT: Anti-Assad forces have launched their assault.")
    assert entry["published_at"] == today_at(7, 45).isoformat()
    assert entry["label"] == "UPDATE 0745 GMT"
    assert entry["blocks"] == [
        {"type": "text", "markdown": "Anti-Assad forces have launched their assault."}
    ]
    assert "UPDATE 0745" not in entry["html"]
    page = api.client.get(f"/hama/updates/{entry['id']}").get_data(as_text=True)
    assert page.count("UPDATE 0745 GMT") >= 1 and "Anti-Assad forces" in page


def test_a_label_in_the_blogs_zone_and_one_that_names_another(api):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"timezone": "Asia/Damascus"})
    local = api.post_entry(body="UPDATE 0745: Shelling in Jobar.")
    greenwich = api.post_entry(body="UPDATE 0745 GMT: Shelling in Jobar.")
    moment = datetime.fromisoformat(local["published_at"])
    assert moment.astimezone(ZoneInfo("Asia/Damascus")).strftime("%H%M") == "0745"
    assert local["label"] == "UPDATE 0745 +03"
    assert greenwich["published_at"] == today_at(7, 45).isoformat()


def test_an_explicit_time_wins_and_keep_label_keeps_the_text(api):
    given = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    timed = api.post_entry(body="UPDATE 0745 GMT: Rebels advance.", published_at=given.isoformat())
    assert timed["published_at"] == given.isoformat()
    assert timed["blocks"][0]["markdown"] == "Rebels advance."
    kept = api.post_entry(body="UPDATE 0745 GMT: Rebels advance.", keep_label=True)
    assert kept["blocks"][0]["markdown"] == "UPDATE 0745 GMT: Rebels advance."
    assert datetime.fromisoformat(kept["published_at"]) > datetime.now(UTC) - timedelta(minutes=1)


def test_an_edit_does_not_read_labels(api):
    entry = api.post_entry(body="Rebels advance.")
    response = api.edit_entry(entry, body="UPDATE 0745 GMT: Rebels advance.")
    assert response.status_code == 200
    assert response.get_json()["published_at"] == entry["published_at"]
    assert api.edit_entry(response.get_json(), keep_label=True).status_code == 422


def test_the_preview_shows_the_text_without_its_label(api):
    response = api.post("/api/v1/blogs/hama/preview", json={"body": "UPDATE 0745 GMT: Rebels."})
    assert response.status_code == 200
    assert response.get_json()["label"] == "UPDATE 0745 GMT"
    assert "UPDATE 0745" not in response.get_json()["html"].split("</header>")[-1]


def test_what_the_server_understood(api):
    response = api.post("/api/v1/blogs/hama/labels", json={"body": "UPDATE 0745 GMT: Rebels."})
    assert response.status_code == 200
    found = response.get_json()
    moment = today_at(7, 45)
    day = "today" if moment.date() == datetime.now(UTC).date() else "yesterday"
    assert found == {
        "label": {
            "written": "UPDATE 0745 GMT:",
            "published_at": moment.isoformat(),
            "label": "UPDATE 0745 GMT",
            "understood": f"UPDATE 0745 GMT, {day} {moment.day} {moment:%B}",
            "note": None,
            "body": "Rebels.",
        },
        "updates": [],
    }
    plain = api.post("/api/v1/blogs/hama/labels", json={"body": "Rebels."}).get_json()
    assert plain == {"label": None, "updates": []}


def test_pasted_updates_are_listed_oldest_first(api):
    # Two and one hours ago, so that each reads as the moment it names at any time of day
    # (a later time of day than now reads as yesterday's).
    now = datetime.now(UTC)
    earlier, later = (f"UPDATE {now - timedelta(hours=hours):%H%M} GMT" for hours in (2, 1))
    pasted = f"{later}: Airstrikes on Ariha.\n\n{earlier}: The assault began.\n\nMore."
    found = api.post("/api/v1/blogs/hama/labels", json={"body": pasted}).get_json()
    assert [(u["label"], u["body"]) for u in found["updates"]] == [
        (earlier, "The assault began.\n\nMore."),
        (later, "Airstrikes on Ariha."),
    ]


def test_reading_labels_needs_a_body(api):
    problem = assert_problem(api.post("/api/v1/blogs/hama/labels", json={}), 422)
    assert problem["errors"] == [{"field": "body", "message": "is required"}]
    assert_problem(api.post("/api/v1/blogs/nowhere/labels", json={"body": "x"}), 404)
