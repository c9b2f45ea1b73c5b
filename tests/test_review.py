"""Contributors submit drafts for review; editors publish them or return them with a note."""

from tests.factories import assert_problem


def test_a_contributor_submits_and_an_editor_returns_then_publishes(api):
    contributor = api.as_role("contributor")
    draft = contributor.post_entry(body="Eyewitness: tanks on the bridge.", review="pending")
    assert (draft["status"], draft["review"]) == ("draft", "pending")

    returned = api.edit_entry(draft, review="returned", review_note="Who is the eyewitness?")
    assert returned.status_code == 200
    returned = returned.get_json()
    assert (returned["review"], returned["review_note"]) == ("returned", "Who is the eyewitness?")

    again = contributor.edit_entry(
        returned, body="A farmer in Halfaya: tanks on the bridge.", review="pending"
    ).get_json()
    assert (again["review"], again["review_note"]) == ("pending", None)

    published = api.edit_entry(again, status="published").get_json()
    assert (published["status"], published["review"], published["review_note"]) == (
        "published",
        None,
        None,
    )


def test_only_editors_return_drafts(api):
    contributor = api.as_role("contributor")
    draft = contributor.post_entry(body="Report", review="pending")
    problem = assert_problem(contributor.edit_entry(draft, review="returned"), 403)
    assert "Only editors" in problem["detail"]


def test_review_applies_to_drafts_only(api):
    response = api.post("/api/v1/blogs/hama/entries", json={"body": "x", "review": "pending"})
    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {
            "field": "review",
            "message": "applies to drafts only; publishing an entry ends its review",
        }
    ]
    response = api.post("/api/v1/blogs/hama/entries", json={"body": "x", "review": "maybe"})
    assert assert_problem(response, 422)["errors"][0]["field"] == "review"
