"""Requests an attacker or a careless client sends: each once gave a 5xx or leaked.

Every test here names the item of the hardening issue it keeps fixed.
"""

import re
import threading

import pytest

from liveblog import grip
from liveblog.live import PollingSource
from liveblog.store import MAX_ID
from liveblog.validation import whole_number
from liveblog.web.converters import numbers_below
from tests.editor_helpers import EditorClient
from tests.factories import assert_problem

ENTRIES = "/api/v1/blogs/hama/entries"
BROKEN_URL = "http://[::1"
TOO_BIG = ["2147483648", str(2**63), str(2**64), "99999999999999999999999"]


# 1. A race for a unique value is a 409 on every backend


def test_a_race_for_one_email_gives_one_201_and_the_rest_409(app, api):
    admin = api.as_role("admin")
    statuses: list[int] = []
    start = threading.Barrier(20)

    def create():
        client = app.test_client()
        start.wait()
        response = client.post(
            "/api/v1/users",
            json={"email": "same@example.org", "role": "editor"},
            headers={"Authorization": f"Bearer {admin.token}"},
        )
        statuses.append(response.status_code)
        if response.status_code == 409:
            assert "already exists" in response.get_json()["detail"]

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201] + [409] * 19


def test_a_race_for_one_slug_gives_one_201_and_the_rest_409(app, api):
    admin = api.as_role("admin")
    statuses: list[int] = []
    start = threading.Barrier(10)

    def create():
        client = app.test_client()
        start.wait()
        response = client.post(
            "/api/v1/blogs",
            json={"slug": "same-story", "title": "Same story"},
            headers={"Authorization": f"Bearer {admin.token}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201] + [409] * 9


# 2. Ids too large for the database name nothing: 404, never a 500


@pytest.mark.parametrize("number", TOO_BIG)
def test_ids_too_large_for_the_database_are_not_found(api, number):
    admin = api.as_role("admin")
    calls = [
        (admin, "PATCH", f"/api/v1/users/{number}", {"role": "editor"}),
        (admin, "POST", f"/api/v1/users/{number}/tokens", {}),
        (admin, "DELETE", f"/api/v1/tokens/{number}", None),
        (api, "GET", f"{ENTRIES}/{number}", None),
        (api, "PATCH", f"{ENTRIES}/{number}", {"headline": "x"}),
        (api, "DELETE", f"{ENTRIES}/{number}", None),
        (api, "GET", f"{ENTRIES}/{number}/revisions", None),
    ]
    for caller, method, path, body in calls:
        response = caller._call(method, path, json=body, headers={"If-Match": '"1"'})
        assert_problem(response, 404)
    assert api.client.get(f"/hama/updates/{number}").status_code == 404


@pytest.mark.parametrize("limit", [2, 10, 57, 100, 3000, 2**31])
def test_the_id_pattern_matches_exactly_the_numbers_below_its_limit(limit):
    pattern = re.compile(f"(?:{numbers_below(limit)})")
    tried = [*range(0, 5000), limit - 1, limit, limit + 1, 10 * limit, 2**63]
    assert {n for n in tried if pattern.fullmatch(str(n))} == {n for n in tried if 0 < n < limit}
    assert not pattern.fullmatch("01")


def test_editor_forms_with_ids_too_large_are_not_found(client, admin):
    editor = EditorClient(client)
    editor.log_in(admin.email)
    for path in (
        f"/editor/admin/users/{TOO_BIG[0]}",
        f"/editor/admin/users/{TOO_BIG[1]}/tokens",
        f"/editor/admin/tokens/{TOO_BIG[2]}/revoke",
    ):
        assert editor.post(path, {"role": "editor"}).status_code == 404


# 3. A URL with an unclosed IPv6 bracket is a field error


BROKEN_BLOCKS = {
    "image url": {"type": "image", "url": BROKEN_URL, "alt": "A photo"},
    "social url": {"type": "social", "url": BROKEN_URL, "text": "A post"},
    "social author_url": {"type": "social", "text": "A post", "author_url": BROKEN_URL},
    "social media url": {"type": "social", "text": "A post", "media": [{"url": BROKEN_URL}]},
    "video url": {"type": "video", "url": BROKEN_URL},
    "map image url": {
        "type": "map",
        "center": {"lat": 35.1, "lon": 36.7},
        "image": {"url": BROKEN_URL, "alt": "A map"},
    },
}


@pytest.mark.parametrize("block", BROKEN_BLOCKS.values(), ids=BROKEN_BLOCKS)
def test_a_broken_url_in_any_block_is_a_422_naming_the_field(api, block):
    for path in (ENTRIES, "/api/v1/blogs/hama/preview"):
        problem = assert_problem(api.post(path, json={"blocks": [block]}), 422)
        assert "is not a valid URL (Invalid IPv6 URL)" in problem["detail"]
        assert problem["errors"][0]["field"].startswith("blocks[0].")


def test_a_broken_url_elsewhere_is_a_422(api):
    admin = api.as_role("admin")
    top_image = {"top_image": {"url": BROKEN_URL, "alt": "A photo"}}
    problem = assert_problem(admin.patch("/api/v1/blogs/hama", json=top_image), 422)
    assert problem["errors"][0]["field"] == "top_image.url"
    problem = assert_problem(api.post("/api/v1/embeds/resolve", json={"url": BROKEN_URL}), 422)
    assert problem["errors"][0]["field"] == "url"


# 4. NUL bytes and header-breaking characters


def test_a_nul_byte_in_a_file_path_is_not_found(client):
    for path in ("/assets/default/x/a%00b", "/media/a%00b", "/editor/static/x/a%00b"):
        assert client.get(path).status_code == 404


def test_a_file_name_too_long_for_the_os_is_not_found(client):
    name = "x" * 300  # Linux refuses names over 255 bytes (ENAMETOOLONG)
    for path in (f"/assets/default/x/{name}", f"/media/{name}", f"/editor/static/x/{name}"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize(
    "target",
    [
        "/editor/\r\nX: 1",
        "/editor/\nLocation: https://evil.example/",
        "/editor/\x00",
        "/editor/\\evil.example",
        "//evil.example/editor/",
        "https://evil.example/editor/",
        "http://[",
        "/elsewhere/",
    ],
)
def test_after_log_in_only_editor_paths_on_this_site_are_followed(client, admin, target):
    assert client.get("/editor/login", query_string={"next": target}).status_code == 200
    response = EditorClient(client).log_in(admin.email, query_string={"next": target})
    assert (response.status_code, response.headers["Location"]) == (303, "/editor/")
    again = client.get("/editor/login", query_string={"next": target})  # now logged in
    assert (again.status_code, again.headers["Location"]) == (302, "/editor/")


def test_after_log_in_an_editor_path_is_followed(client, admin):
    response = EditorClient(client).log_in(
        admin.email, query_string={"next": "/editor/admin/users"}
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/editor/admin/users")


# 5. Contributors see the history of their own entries only


def test_contributors_cannot_read_the_drafts_behind_someone_elses_entry(api):
    draft = api.post_entry(status="draft", body="Unchecked rumour about Qomhana.")
    api.edit_entry(draft, status="published", body="Confirmed: rebels entered Qomhana.")
    contributor = api.as_role("contributor")
    path = f"{ENTRIES}/{draft['id']}/revisions"
    problem = assert_problem(contributor.get(path), 403)
    assert "own entries" in problem["detail"]
    assert "rumour" not in str(problem)
    own = contributor.post_entry(body="My draft.")
    assert contributor.get(f"{ENTRIES}/{own['id']}/revisions").status_code == 200
    assert api.get(path).status_code == 200


# 11. Headers: no sniffing anywhere, no storing of secrets, HSTS over HTTPS, legacy framing


def test_every_kind_of_response_forbids_content_sniffing(api, client):
    entry = api.post_entry()
    paths = [
        "/hama/",
        f"/hama/updates/{entry['id']}",
        "/hama/feed.atom",
        "/hama/feed.rss",
        "/hama/feed.json",
        "/hama/changes?since=0",
        "/no-such-blog/",
        "/editor/login",
    ]
    for path in paths:
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path
    assert api.get("/api/v1/blogs").headers["X-Content-Type-Options"] == "nosniff"
    with client.get("/hama/events") as stream:
        assert stream.headers["X-Content-Type-Options"] == "nosniff"


def test_api_answers_and_new_tokens_are_never_stored(api):
    admin = api.as_role("admin")
    created = admin.post(f"/api/v1/users/{api.user.id}/tokens", json={"label": "desk"})
    assert created.status_code == 201 and created.get_json()["token"]
    for response in (created, api.get("/api/v1/blogs"), admin.get("/api/v1/users")):
        assert response.headers["Cache-Control"] == "no-store"
    missing = api.get("/api/v1/blogs/nope")
    assert (missing.status_code, missing.headers["Cache-Control"]) == (404, "no-store")


def test_pages_say_how_they_may_be_framed_to_old_browsers_too(api, client):
    for path in ("/hama/", "/no-such-blog/", "/editor/login"):
        response = client.get(path)
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path
    assert "X-Frame-Options" not in client.get("/hama/feed.atom").headers


def test_strict_transport_security_only_over_https(make_app, api):
    app = api.client.application
    over_https = app.test_client().get("/hama/", base_url="https://news.example")
    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in app.test_client().get("/hama/").headers
    off = make_app(HSTS_SECONDS=0).test_client().get("/", base_url="https://news.example")
    assert "Strict-Transport-Security" not in off.headers


def test_strict_transport_security_is_never_replayed_from_the_page_cache(api):
    client = api.client.application.test_client()
    for _ in range(2):  # the second answer of each comes from the page cache
        secure = client.get("/hama/", base_url="https://news.example")
        plain = client.get("/hama/")
        assert "Strict-Transport-Security" in secure.headers
        assert "Strict-Transport-Security" not in plain.headers


def test_behind_a_trusted_proxy_the_page_cache_sees_the_clients_scheme(make_app, api):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    for _ in range(2):
        forwarded = client.get("/hama/", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" in forwarded.headers
        assert "Strict-Transport-Security" not in client.get("/hama/").headers


# Found by fuzzing


def test_numbers_too_long_for_int_are_beyond_the_log_or_a_400(api, client):
    """int() refuses more than 4,300 digits: a since that long is ahead of the log like any
    other (a reset), a limit that long is out of range."""
    huge = "9" * 5000
    body = client.get("/hama/changes", query_string={"since": "0" * 5000 + huge}).get_json()
    assert (body["reset"], body["events"]) == (True, [])
    for attempt in ({"query_string": {"since": huge}}, {"headers": {"Last-Event-ID": huge}}):
        with client.get("/hama/events", **attempt) as stream:
            assert stream.get_data().endswith(b"event: reset\ndata: {}\n\n")
    assert client.get("/hama/changes", query_string={"since": "0" * 5000}).status_code == 200
    problem = assert_problem(api.get(ENTRIES, query_string={"limit": huge}), 400)
    assert problem["detail"] == "limit must be a whole number from 1 to 200."
    assert api.get(ENTRIES, query_string={"limit": "0" * 5000 + "5"}).status_code == 200


@pytest.mark.parametrize(
    ("raw", "most", "number"),
    [
        ("0", 10, 0),
        ("007", 10, 7),
        ("10", 10, 10),
        ("11", 10, 11),
        ("9" * 5000, 10, 11),
        ("0" * 5000 + "3", 10, 3),
        ("", 10, None),
        ("-1", 10, None),
        ("²", 10, None),
        ("٣", 10, None),
        (" 1", 10, None),
    ],
)
def test_whole_numbers_are_judged_without_int_ever_refusing_them(raw, most, number):
    assert whole_number(raw, most) == number


def test_numbers_too_long_for_int_in_embed_and_oembed_queries_are_no_500(api, client):
    entry = api.post_entry()
    huge = "9" * 5000
    for name in ("teaser", "update"):
        page = client.get("/hama/embed", query_string={name: huge})
        assert page.status_code == 400 and f"{name} must be a whole number" in page.text
    permalink = f"https://news.example/hama/updates/{entry['id']}"
    answer = client.get("/oembed", query_string={"url": permalink, "maxwidth": huge})
    assert answer.status_code == 200 and answer.get_json()["width"] <= 100_000


def test_messages_with_numbers_too_long_for_int_are_no_crash():
    assert PollingSource.parse_payload("1:" + "9" * 5000) == (1, MAX_ID + 1)
    assert PollingSource.parse_payload("²:1") is None
    assert grip.last_id(["blog-1; last-id=" + "9" * 5000], "blog-1") == MAX_ID + 1
    assert grip.last_id(["blog-1; last-id=²"], "blog-1") is None
