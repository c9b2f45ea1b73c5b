"""A blog's embed_origins: the https origins that may frame its embed pages, validated
and stored in one spelling each."""

import pytest

from tests.factories import assert_problem


def test_embed_origins_are_stored_in_one_spelling_each(api):
    admin = api.as_role("admin")
    given = [
        "https://CMS.Example.org",
        "https://cms.example.org:443",
        "https://cms.example.org:8443",
    ]
    blog = admin.patch("/api/v1/blogs/hama", json={"embed_origins": given}).get_json()
    assert blog["embed_origins"] == ["https://cms.example.org", "https://cms.example.org:8443"]
    created = admin.post(
        "/api/v1/blogs",
        json={"slug": "framed", "title": "Framed", "embed_origins": ["https://203.0.113.5"]},
    ).get_json()
    assert created["embed_origins"] == ["https://203.0.113.5"]
    assert admin.get("/api/v1/blogs/hama").get_json()["embed_origins"] == blog["embed_origins"]


ORIGIN_PROBLEM = (
    "must be an https origin such as https://cms.example.org or "
    "https://cms.example.org:8443, without a path, a query or a wildcard"
)


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("https://cms.example.org", [("embed_origins", "must be a list")]),
        ({"origin": "https://cms.example.org"}, [("embed_origins", "must be a list")]),
        ([42], [("embed_origins[0]", "must be a string")]),
        (["http://cms.example.org"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://cms.example.org/"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://cms.example.org/live"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://cms.example.org?a=1"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://*.example.org"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://user@cms.example.org"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["cms.example.org"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["*"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["'self'"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://cms.example.org; script-src *"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://-cms.example.org"], [("embed_origins[0]", ORIGIN_PROBLEM)]),
        (["https://cms.example.org:0"], [("embed_origins[0]", "must have a port between 1 and 65535")]),
        (["https://cms.example.org:70000"], [("embed_origins[0]", "must have a port between 1 and 65535")]),
        (
            ["https://ok.example.org", "ftp://x.example.org", "https://b\u00e9.example.org"],
            [("embed_origins[1]", ORIGIN_PROBLEM), ("embed_origins[2]", ORIGIN_PROBLEM)],
        ),
        ([f"https://s{n}.example.org" for n in range(51)], [("embed_origins", "must have at most 50 items")]),
    ],
)  # fmt: skip
def test_embed_origins_must_be_https_origins(api, value, errors):
    admin = api.as_role("admin")
    problem = assert_problem(admin.patch("/api/v1/blogs/hama", json={"embed_origins": value}), 422)
    assert [(e["field"], e["message"]) for e in problem["errors"]] == errors
    assert admin.get("/api/v1/blogs/hama").get_json()["embed_origins"] is None


def test_only_admins_set_embed_origins(api):
    response = api.patch("/api/v1/blogs/hama", json={"embed_origins": ["https://cms.example.org"]})
    assert_problem(response, 403)
