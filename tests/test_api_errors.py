"""Every API error is RFC 9457 problem JSON a person can act on, and no input causes a 500."""

import base64
import json
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import NamedTuple

import pytest

from liveblog.store import encode_cursor
from tests.factories import assert_problem
from tests.factories import changes

BLOGS = "/api/v1/blogs"
BLOG = "/api/v1/blogs/hama"
ENTRIES = "/api/v1/blogs/hama/entries"
ENTRY = "/api/v1/blogs/hama/entries/{entry}"
JSON = "application/json"


def send(caller, method, path, payload, **kwargs):
    """Send ``payload`` as the body: text and bytes as they are, anything else as JSON."""
    if not isinstance(payload, str | bytes):
        payload = json.dumps(payload)
    kwargs.setdefault("content_type", JSON)
    return caller._call(method, path, data=payload, **kwargs)


def error_fields(problem):
    return [error["field"] for error in problem["errors"]]


# Authentication

GARBLED_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer    ",
    "Basic ZWRpdG9yOnNlY3JldA==",
    "Token lb_abc",
    "Bearer lb_forged",
    "Bearer lb_\xe9\xe8\xff",
    "lb_abc",
]


def test_missing_or_garbled_authorization_is_401(client, api):
    for authorization in GARBLED_AUTHORIZATION:
        headers = {} if authorization is None else {"Authorization": authorization}
        response = client.post(ENTRIES, json={"body": "Rebels advance."}, headers=headers)
        problem = assert_problem(response, 401)
        assert "token" in problem["detail"], authorization
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="liveblog"'
    assert api.get(ENTRIES).get_json()["items"] == []


# The body

MALFORMED_JSON = [
    '{"body": "Rebels advance."',
    "{'body': 'Rebels advance.'}",
    '{"body": "Rebels advance.",}',
    '{"body": "x"} {"body": "y"}',
    "",
    b'{"body": "\xff\xfe"}',
    "[" * 100_000 + "]" * 100_000,
    '{"body": ' + "9" * 5000 + "}",
]


def test_malformed_json_is_400(api):
    for body in MALFORMED_JSON:
        problem = assert_problem(send(api, "POST", ENTRIES, body), 400)
        assert "not valid JSON" in problem["detail"] or "UTF-8" in problem["detail"], body[:40]
    assert api.get(ENTRIES).get_json()["items"] == []


def test_nan_and_infinity_are_not_json(api):
    for body in (
        '{"body": "x", "pinned": NaN}',
        '{"body": "x", "key_event": Infinity}',
        '{"blocks": [{"type": "map", "center": {"lat": -Infinity, "lon": 0}}]}',
    ):
        problem = assert_problem(send(api, "POST", ENTRIES, body), 400)
        assert problem["detail"].endswith("is not a JSON number."), body


def test_numbers_beyond_a_float_are_422_not_500(api):
    """1e999 is valid JSON but parses as infinity; 10**400 is an int no float can hold."""
    for lat, message in [
        ("1e999", "must be a number"),
        ("1" + "0" * 400, "must be between -90 and 90"),
    ]:
        body = '{"blocks": [{"type": "map", "center": {"lat": ' + lat + ', "lon": 0}}]}'
        problem = assert_problem(send(api, "POST", ENTRIES, body), 422)
        assert problem["errors"] == [{"field": "blocks[0].center.lat", "message": message}]


def test_lone_surrogates_are_invalid_unicode(api):
    """Escaped ("\\ud800") or raw (JSON decodes UTF-8 bytes with surrogatepass) alike."""
    admin = api.as_role("admin")
    for method, path, body, field in [
        ("POST", ENTRIES, '{"headline": "\\ud800", "body": "x"}', "headline"),
        ("POST", ENTRIES, '{"body": "Rebels \\udfff advance."}', "body"),
        (
            "POST",
            ENTRIES,
            '{"blocks": [{"type": "text", "markdown": "\\ud83d"}]}',
            "blocks[0].markdown",
        ),
        ("POST", ENTRIES, b'{"body": "\xed\xa0\x80"}', "body"),
        ("PATCH", BLOG, '{"title": "Hama \\ud800"}', "title"),
    ]:
        problem = assert_problem(send(admin, method, path, body), 422)
        assert problem["errors"] == [{"field": field, "message": "contains invalid Unicode"}]


def test_a_body_that_is_not_json_is_415(api):
    for content_type, body in [
        ("text/plain", '{"body": "Rebels advance."}'),
        ("application/x-www-form-urlencoded", "body=Rebels+advance."),
        ("multipart/form-data; boundary=xyz", "--xyz--"),
        ("application/xml", "<entry><body>Rebels advance.</body></entry>"),
        (None, '{"body": "Rebels advance."}'),
    ]:
        response = api._call("POST", ENTRIES, data=body, content_type=content_type)
        problem = assert_problem(response, 415)
        assert "Content-Type: application/json" in problem["detail"]
    assert api.get(ENTRIES).get_json()["items"] == []


def test_a_body_over_the_configured_limit_is_413(api, make_app):
    """LIVEBLOG_MAX_REQUEST_BYTES is honoured, and the problem says what the limit is."""
    client = make_app(MAX_REQUEST_BYTES=2_000).test_client()
    headers = {"Authorization": f"Bearer {api.token}"}
    fits = client.post(ENTRIES, json={"body": "x" * 1_900}, headers=headers)
    assert fits.status_code == 201
    response = client.post(ENTRIES, json={"body": "x" * 2_000}, headers=headers)
    problem = assert_problem(response, 413)
    assert "2,000 bytes" in problem["detail"]
    assert len(api.get(ENTRIES).get_json()["items"]) == 1


def test_the_default_limit_is_one_mebibyte(api):
    response = api.post(ENTRIES, json={"body": "x" * (1024 * 1024)})
    problem = assert_problem(response, 413)
    assert "1,048,576 bytes" in problem["detail"]


# Fields


@pytest.mark.parametrize(
    ("method", "path", "role", "body", "field"),
    [
        ("POST", ENTRIES, "editor", {"body": "x", "colour": "red"}, "colour"),
        ("PATCH", ENTRY, "editor", {"headline": "x", "Headline": "y"}, "Headline"),
        (
            "POST",
            ENTRIES,
            "editor",
            {"blocks": [{"type": "text", "markdown": "x", "colour": "red"}]},
            "blocks[0].colour",
        ),
        (
            "POST",
            BLOGS,
            "admin",
            {"slug": "aleppo", "title": "Aleppo", "subtitle": "x"},
            "subtitle",
        ),
        ("PATCH", BLOG, "admin", {"last_seq": 0}, "last_seq"),
        (
            "PATCH",
            BLOG,
            "admin",
            {"top_image": {"url": "/a.png", "alt": "a", "w": 1}},
            "top_image.w",
        ),
    ],
    ids=["entry", "entry-patch", "block", "blog", "blog-patch", "top-image"],
)
def test_unknown_fields_are_named(api, method, path, role, body, field):
    """Typos are not silently ignored: the field is named, with the ones expected."""
    entry = api.post_entry()
    caller = api if role == "editor" else api.as_role(role)
    headers = {"If-Match": '"1"'} if path == ENTRY else {}
    response = send(caller, method, path.format(entry=entry["id"]), body, headers=headers)
    problem = assert_problem(response, 422)
    assert error_fields(problem) == [field]
    assert problem["errors"][0]["message"].startswith("unknown field; expected one of: ")


WRONG_VALUES = {
    "pinned": [("yes", "must be true or false"), (None, "must be true or false")],
    "key_event": [(1, "must be true or false")],
    "headline": [(5, "must be a string"), ("x" * 301, "must be at most 300 characters")],
    "status": [("live", "must be one of: published, draft, scheduled")],
    "published_at": [
        (1490341500, "must be an ISO 8601 date-time string"),
        ("24/03/2017 07:45", "must be an ISO 8601 date-time such as 2017-03-24T07:45:00Z"),
        ("2017-03-24T07:45:00", "must include a time zone offset, such as 2017-03-24T07:45:00Z"),
        # Times that cannot be shown in every zone would break the labels of the whole blog.
        ("0001-01-01T00:00:00+05:00", "must be a date between the years 1 and 9999"),
        ("0001-01-01T00:00:00Z", "must be a date between the years 1 and 9999"),
        ("9999-12-31T23:59:59-05:00", "must be a date between the years 1 and 9999"),
    ],
    "body": [
        (["Rebels advance."], "must be a string"),
        ("  ", "is required (or blocks): an entry needs some content"),
    ],
    "blocks": [("Rebels advance.", "must be a list"), ([], "must hold at least one block")],
}


@pytest.mark.parametrize("field", WRONG_VALUES)
def test_wrong_values_are_422_naming_the_field(api, field):
    for value, message in WRONG_VALUES[field]:
        body = {field: value} if field in ("body", "blocks") else {"body": "x", field: value}
        problem = assert_problem(api.post(ENTRIES, json=body), 422)
        assert problem["errors"] == [{"field": field, "message": message}], value
        assert problem["detail"] == f"{field}: {message}"
    assert api.get(ENTRIES).get_json()["items"] == []


def test_every_problem_is_reported_at_once(api):
    response = api.post(ENTRIES, json={"headline": 1, "pinned": "yes", "blocks": [{}]})
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["headline", "pinned", "blocks[0].type"]


# Blogs


SLUG_RULE = "may only hold lowercase letters, digits and single hyphens"
BAD_BLOG_SETTINGS = {
    "slug": [
        ("Hama Offensive", SLUG_RULE),
        ("-hama", SLUG_RULE),
        ("hama--2017", SLUG_RULE),
        ("hamá", SLUG_RULE),
        ("h" * 81, "must be at most 80 characters"),
        ("api", "'api' is reserved; choose another"),
        ("editor", "'editor' is reserved; choose another"),
    ],
    "timezone": [
        ("Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("Europe", "unknown time zone 'Europe'"),  # a folder of the zone database
        ("../../etc/passwd", "unknown time zone '../../etc/passwd'"),
    ],
    "label_format": [
        ("UPDATE %Q", "may only use the directives"),
        ("UPDATE %", "may only use the directives"),
    ],
    "language": [
        ("english", "must be a language tag such as en, ar or pt-BR"),
        ("en_GB", "must be a language tag such as en, ar or pt-BR"),
    ],
    "theme": [("no-such-theme", "must be one of: ")],
    "status": [("published", "must be one of: draft, live, ended")],
}


@pytest.mark.parametrize("field", BAD_BLOG_SETTINGS)
def test_bad_blog_settings_are_422_naming_the_field(api, field):
    """Checked on creation and, except for the slug, on PATCH."""
    admin = api.as_role("admin")
    for value, message in BAD_BLOG_SETTINGS[field]:
        body = {"slug": "aleppo", "title": "Aleppo", field: value}
        problem = assert_problem(admin.post(BLOGS, json=body), 422)
        assert error_fields(problem) == [field], value
        assert problem["errors"][0]["message"].startswith(message), value
        if field != "slug":
            patched = assert_problem(admin.patch(BLOG, json={field: value}), 422)
            assert patched["errors"] == problem["errors"]
    assert [blog["slug"] for blog in admin.get(BLOGS).get_json()["items"]] == ["hama"]


def test_a_taken_slug_is_409(api):
    admin = api.as_role("admin")
    problem = assert_problem(admin.post(BLOGS, json={"slug": "hama", "title": "Again"}), 409)
    assert "'hama' already exists" in problem["detail"]
    assert [blog["title"] for blog in admin.get(BLOGS).get_json()["items"]] == ["Hama"]


# Blocks


@pytest.mark.parametrize(
    ("blocks", "field", "message"),
    [
        pytest.param(
            [
                {"type": "text", "markdown": "Shelling overnight."},
                {"type": "text", "markdown": "Rebels advance."},
                {
                    "type": "map",
                    "center": {"lat": 35.1, "lon": 36.7},
                    "markers": [{"lat": 95, "lon": 0}],
                },
            ],
            "blocks[2].markers[0].lat",
            "must be between -90 and 90",
            id="marker-latitude",
        ),
        pytest.param(
            [{"type": "map", "center": {"lat": 35.1, "lon": 200}}],
            "blocks[0].center.lon",
            "must be between -180 and 180",
            id="centre-longitude",
        ),
        pytest.param(
            [
                {
                    "type": "map",
                    "center": {"lat": 0, "lon": 0},
                    "geojson": {
                        "type": "FeatureCollection",
                        "features": [
                            {
                                "type": "Feature",
                                "geometry": {"type": "Point", "coordinates": [0, 95]},
                            }
                        ],
                    },
                }
            ],
            "blocks[0].geojson.features[0].geometry.coordinates[1]",
            "latitude must be between -90 and 90",
            id="geojson-position",
        ),
        pytest.param(
            [{"type": "social", "text": "Hi", "media": [{"url": "https://a.example/1.jpg"}, {}]}],
            "blocks[0].media[1].url",
            "is required",
            id="social-media-url",
        ),
        pytest.param(
            [{"type": "video", "url": "https://example.com/clip.mp4"}],
            "blocks[0].url",
            "must be a YouTube or Vimeo video link",
            id="video-provider",
        ),
        pytest.param(
            [{"type": "text"}], "blocks[0].markdown", "is required", id="text-without-markdown"
        ),
        pytest.param(
            [{"type": "poll"}],
            "blocks[0].type",
            "must be one of: text, social, map, image, video",
            id="unknown-type",
        ),
        pytest.param(
            [{"type": "image", "url": "/a.png", "alt": "A", "width": 1.5}],
            "blocks[0].width",
            "must be a whole number",
            id="image-width",
        ),
    ],
)
def test_block_errors_name_the_exact_path(api, blocks, field, message):
    problem = assert_problem(api.post(ENTRIES, json={"blocks": blocks}), 422)
    assert problem["errors"] == [{"field": field, "message": message}]
    assert problem["detail"] == f"{field}: {message}"


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ({}, "is required"),
        ({"alt": "   "}, "must not be empty"),
        ({"alt": None}, "must be a string"),
    ],
    ids=["missing", "blank", "null"],
)
def test_images_need_alt_text(api, image, message):
    image_block = {"type": "image", "url": "https://a.example/tank.jpg", **image}
    map_block = {"type": "map", "center": {"lat": 0, "lon": 0}, "image": {"url": "/m.png", **image}}
    problem = assert_problem(api.post(ENTRIES, json={"blocks": [image_block, map_block]}), 422)
    assert problem["errors"] == [
        {"field": "blocks[0].alt", "message": message},
        {"field": "blocks[1].image.alt", "message": message},
    ]
    top_image = {"url": "https://a.example/top.jpg", **image}
    admin = api.as_role("admin")
    problem = assert_problem(admin.patch(BLOG, json={"top_image": top_image}), 422)
    assert problem["errors"] == [{"field": "top_image.alt", "message": message}]


DANGEROUS_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "  javascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x.png",
    "https://",
]


@pytest.mark.parametrize(
    ("field", "block"),
    [
        ("blocks[0].url", lambda url: {"type": "image", "url": url, "alt": "A tank"}),
        ("blocks[0].url", lambda url: {"type": "social", "text": "Hi", "url": url}),
        ("blocks[0].author_url", lambda url: {"type": "social", "text": "Hi", "author_url": url}),
        (
            "blocks[0].media[0].url",
            lambda url: {"type": "social", "text": "Hi", "media": [{"url": url}]},
        ),
        ("blocks[0].url", lambda url: {"type": "video", "url": url}),
        (
            "blocks[0].image.url",
            lambda url: {
                "type": "map",
                "center": {"lat": 0, "lon": 0},
                "image": {"url": url, "alt": "A"},
            },
        ),
    ],
    ids=["image", "social", "social-author", "social-media", "video", "map-image"],
)
def test_url_fields_accept_only_http_links(api, field, block):
    for url in DANGEROUS_URLS:
        problem = assert_problem(api.post(ENTRIES, json={"blocks": [block(url)]}), 422)
        assert error_fields(problem) == [field], url
        assert problem["errors"][0]["message"].startswith("must be "), url
    assert api.get(ENTRIES).get_json()["items"] == []


def test_a_blogs_top_image_accepts_only_http_links(api):
    admin = api.as_role("admin")
    for url in DANGEROUS_URLS:
        problem = assert_problem(
            admin.patch(BLOG, json={"top_image": {"url": url, "alt": "A"}}), 422
        )
        assert error_fields(problem) == ["top_image.url"], url
    assert admin.get(BLOG).get_json()["top_image"] is None


# Not found, wrong method


def test_unknown_blogs_and_entries_are_404(api):
    entry = api.post_entry()
    problem = assert_problem(api.get(f"{BLOGS}/aleppo"), 404)
    assert problem["detail"] == "There is no live blog 'aleppo'."
    assert_problem(api.get(f"{BLOGS}/aleppo/entries/{entry['id']}"), 404)
    problem = assert_problem(api.get(f"{ENTRIES}/{entry['id'] + 1}"), 404)
    assert problem["detail"] == f"Live blog 'hama' has no entry {entry['id'] + 1}."


def test_unknown_routes_and_wrong_methods_are_problems_too(api):
    for method, path, status, allow in [
        ("GET", "/api/v1/", 404, None),
        ("GET", "/api/v1/nope", 404, None),
        ("GET", "/api/v2/blogs", 404, None),
        ("GET", f"{ENTRIES}/latest", 404, None),
        ("PUT", BLOG, 405, {"GET", "PATCH"}),
        ("DELETE", BLOGS, 405, {"GET", "POST"}),
        ("POST", f"{ENTRIES}/1", 405, {"GET", "PATCH", "DELETE"}),
        ("PATCH", f"{ENTRIES}/1/revisions", 405, {"GET"}),
    ]:
        response = api._call(method, path, json={"headline": "x"})
        assert_problem(response, status)
        if allow:
            allowed = {name.strip() for name in response.headers["Allow"].split(",")}
            assert allow <= allowed, (method, path)


# The contract: every endpoint, many bad requests, always a problem

ENDPOINTS = [
    ("GET", BLOGS),
    ("POST", BLOGS),
    ("GET", BLOG),
    ("PATCH", BLOG),
    ("GET", ENTRIES),
    ("POST", ENTRIES),
    ("GET", ENTRY),
    ("PATCH", ENTRY),
    ("DELETE", ENTRY),
    ("GET", ENTRY + "/revisions"),
]
WITH_BODY = [(method, path) for method, path in ENDPOINTS if method in ("POST", "PATCH")]
VALID_BODY = {
    ("POST", BLOGS): {"slug": "aleppo", "title": "Aleppo"},
    ("PATCH", BLOG): {"title": "Hama"},
    ("POST", ENTRIES): {"body": "Rebels advance."},
    ("PATCH", ENTRY): {"headline": "Rebels advance"},
}


class Bad(NamedTuple):
    """A bad request and the status it must get; ``{entry}`` in the path is a real entry."""

    method: str
    path: str
    status: int
    role: str | None = "editor"  # None: no Authorization header of ours
    kwargs: dict[str, Any] = {}


def _role(path):
    return "admin" if path in (BLOGS, BLOG) else "editor"


def _valid(method, path, **kwargs):
    """Request kwargs with a valid body for the endpoint, so only the flaw under test is wrong."""
    return {"json": VALID_BODY.get((method, path)), **kwargs}


def _raw(data, content_type=JSON):
    return {"data": data, "content_type": content_type}


def _cursor(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FORGED = {"headers": {"Authorization": "Bearer lb_forged"}}
BAD_REQUESTS = {
    "no-auth": [Bad(m, p, 401, None, _valid(m, p)) for m, p in ENDPOINTS],
    "forged-token": [Bad(m, p, 401, None, _valid(m, p, **FORGED)) for m, p in ENDPOINTS],
    "unknown-blog": [
        *(
            Bad(m, p.replace("hama", "nowhere"), 404, _role(p), _valid(m, p))
            for m, p in ENDPOINTS[2:]
        ),
        Bad("GET", f"{BLOGS}/hama%00", 404),
        Bad("GET", f"{BLOGS}/{'h' * 10_000}/entries", 404),
    ],
    "unknown-entry": [
        Bad(m, p.replace("{entry}", missing), 404, "editor", _valid(m, p))
        for m, p in ENDPOINTS[6:]
        for missing in ("0", "2147483647", "99999999999999999999")
    ],
    "malformed-json": [Bad(m, p, 400, _role(p), _raw('{"title": ')) for m, p in WITH_BODY],
    "nan": [Bad(m, p, 400, _role(p), _raw('{"title": NaN}')) for m, p in WITH_BODY],
    "not-json": [
        Bad(m, p, 415, _role(p), _raw("title=x", "application/x-www-form-urlencoded"))
        for m, p in WITH_BODY
    ],
    "not-an-object": [Bad(m, p, 422, _role(p), {"json": []}) for m, p in WITH_BODY],
    "unknown-field": [Bad(m, p, 422, _role(p), {"json": {"colour": "red"}}) for m, p in WITH_BODY],
    "forbidden": [
        Bad("POST", BLOGS, 403, "editor", _valid("POST", BLOGS)),
        Bad("PATCH", BLOG, 403, "editor", _valid("PATCH", BLOG)),
        Bad("POST", ENTRIES, 403, "contributor", {"json": {"body": "x", "status": "published"}}),
        Bad("PATCH", ENTRY, 403, "contributor", _valid("PATCH", ENTRY, headers={"If-Match": "*"})),
        Bad("DELETE", ENTRY, 403, "contributor", {"headers": {"If-Match": "*"}}),
    ],
    "preconditions": [
        Bad("PATCH", ENTRY, 428, "editor", _valid("PATCH", ENTRY)),
        Bad("PATCH", ENTRY, 412, "editor", _valid("PATCH", ENTRY, headers={"If-Match": '"7"'})),
        Bad("DELETE", ENTRY, 428),
        Bad("DELETE", ENTRY, 412, "editor", {"headers": {"If-Match": 'W/"1"'}}),
    ],
    "listing-query": [
        Bad("GET", f"{ENTRIES}?{query}", 400)
        for query in (
            "limit=0",
            "limit=201",
            "limit=-1",
            "limit=%C2%B2",
            "cursor=nonsense",
            "cursor=" + _cursor("2017-03-24T07:00:00|1"),
            "cursor=" + _cursor("2017-03-24T07:00:00+00:00|99999999999999999999"),
        )
    ],
    "routing": [
        Bad("PUT", BLOG, 405, "admin", _valid("PATCH", BLOG)),
        Bad("DELETE", BLOGS, 405),
        Bad("POST", ENTRY, 405, "editor", _valid("POST", ENTRIES)),
        Bad("GET", f"{BLOG}/comments", 404),
        Bad("GET", f"{ENTRIES}/latest", 404),
    ],
}


@pytest.mark.parametrize("kind", BAD_REQUESTS)
def test_every_bad_request_gets_a_problem(api, client, kind):
    entry = api.post_entry()
    callers = {"editor": api}
    failures = []
    for bad in BAD_REQUESTS[kind]:
        path = bad.path.replace("{entry}", str(entry["id"]))
        if bad.role is None:
            response = client.open(path, method=bad.method, **bad.kwargs)
        else:
            if bad.role not in callers:
                callers[bad.role] = api.as_role(bad.role)
            response = callers[bad.role]._call(bad.method, path, **bad.kwargs)
        try:
            assert_problem(response, bad.status)
        except AssertionError as error:
            failures.append(f"{bad.method} {path[:80]} as {bad.role}: {error}")
    assert failures == []


# No input produces a 500

DEEP = json.loads("[" * 500 + "]" * 500)
ODD_BODIES = [
    "",
    "   ",
    "null",
    "[]",
    '["body"]',
    '"body"',
    "0",
    "true",
    "1e999",
    "{}",
    '{"": ""}',
    '{"\\ud800": 1}',
    '{"body": "x", "body": 1}',
    '{"body": "x"} trailing',
    "{" * 100_000,
    b"\xff\xfe{\x00}\x00",
    None,
    [None],
    {"body": None},
    {"body": ""},
    {"body": "   \n\t "},
    {"body": "\x00\x01\x7f"},
    {"body": "x" * 60_000},
    {"body": "* " * 5_000 + "x"},  # lists nested deeper than Markdown can recurse
    {"body": "> " * 5_000},
    {"body": "[" * 300 + "x" + "]" * 300},  # (slow in Markdown beyond: quadratic)
    {"body": 10**400},
    {"body": DEEP},
    {"headline": "", "body": "x"},
    {"headline": "x" * 10_000, "body": "x"},
    {"headline": "Rebels\x00 advance", "body": "x"},
    {"headline": {"text": "x"}, "body": "x"},
    {"body": "x", "published_at": ""},
    {"body": "x", "published_at": "2017-02-30T07:45:00Z"},
    {"body": "x", "published_at": "0001-01-01T00:00:00-14:00"},
    {"body": "x", "published_at": "+10000-01-01T00:00:00Z"},
    {"body": "x", "published_at": 10**30},
    {"body": "x", "status": None},
    {"body": "x", "status": ["draft"]},
    {"body": "x", "status": {"draft": True}},
    {"body": "x", "pinned": None},
    {"body": "x", "pinned": 10**400},
    {"body": "x", "blocks": [{"type": "text", "markdown": "y"}]},
    {"blocks": None},
    {"blocks": {}},
    {"blocks": [None, 1, "text", [], {}]},
    {"blocks": [{"type": ["text"]}]},
    {"blocks": [{"type": {"text": 1}}]},
    {"blocks": [{"type": "text", "markdown": "x"}] * 60},
    {"blocks": [{"type": "text", "markdown": ["x"]}]},
    {"blocks": [{"type": "map"}]},
    {"blocks": [{"type": "map", "center": []}]},
    {"blocks": [{"type": "map", "center": {"lat": "1", "lon": None}, "zoom": 1.5}]},
    {"blocks": [{"type": "map", "center": {"lat": 10**400, "lon": -(10**400)}}]},
    {
        "blocks": [
            {"type": "map", "center": {"lat": 0, "lon": 0}, "markers": [None, [], {"lat": True}]}
        ]
    },
    {"blocks": [{"type": "map", "center": {"lat": 0, "lon": 0}, "markers": {"lat": 0}}]},
    {"blocks": [{"type": "map", "center": {"lat": 0, "lon": 0}, "geojson": "Point"}]},
    {"blocks": [{"type": "map", "center": {"lat": 0, "lon": 0}, "geojson": {"type": []}}]},
    {
        "blocks": [
            {
                "type": "map",
                "center": {"lat": 0, "lon": 0},
                "geojson": {"type": "Polygon", "coordinates": DEEP},
            }
        ]
    },
    {
        "blocks": [
            {
                "type": "map",
                "center": {"lat": 0, "lon": 0},
                "geojson": {
                    "type": "Feature",
                    "geometry": None,
                    "properties": {"deep": DEEP, "nul": "\x00", "big": 10**400},
                },
            }
        ]
    },
    {
        "blocks": [
            {
                "type": "map",
                "center": {"lat": 0, "lon": 0},
                "geojson": {"type": "MultiPoint", "coordinates": [[0, 0]] * 40_000},
            }
        ]
    },
    {
        "blocks": [
            {
                "type": "map",
                "center": {"lat": 0, "lon": 0},
                "geojson": {
                    "type": "GeometryCollection",
                    "geometries": [
                        {
                            "type": "GeometryCollection",
                            "geometries": [
                                {
                                    "type": "GeometryCollection",
                                    "geometries": [
                                        {
                                            "type": "GeometryCollection",
                                            "geometries": [
                                                {
                                                    "type": "GeometryCollection",
                                                    "geometries": [
                                                        {
                                                            "type": "GeometryCollection",
                                                            "geometries": [],
                                                        }
                                                    ],
                                                }
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                },
            }
        ]
    },
    {"blocks": [{"type": "image", "url": "", "alt": ""}]},
    {"blocks": [{"type": "image", "url": "/a.png", "alt": "a", "width": 0, "height": 10**10}]},
    {"blocks": [{"type": "social"}]},
    {
        "blocks": [
            {
                "type": "social",
                "media": [None, 1, {"url": None}, {"url": "https://a.example/x.jpg", "alt": []}],
            }
        ]
    },
    {
        "blocks": [
            {
                "type": "social",
                "url": "https://x.com/a/status/1",
                "posted_at": "0001-01-01T00:00:00+14:00",
            }
        ]
    },
    {"blocks": [{"type": "social", "url": "https://x.com/a/status/1", "provider": "myspace"}]},
    {"blocks": [{"type": "video", "url": "https://youtu.be/"}]},
    {"blocks": [{"type": "video", "url": "https://www.youtube.com/watch?v=" + "x" * 3_000}]},
]
ODD_BLOG_SETTINGS = [
    *ODD_BODIES[:17],
    {"title": None},
    {"title": ""},
    {"title": "\x00"},
    {"title": "x" * 10_000},
    {"title": 10**400},
    {"title": DEEP},
    {"slug": None},
    {"slug": "hama"},
    {"slug": "x" * 10_000},
    {"standfirst": None},
    {"standfirst": {"text": "x"}},
    {"standfirst": "x" * 10_000},
    {"status": None},
    {"status": {"live": True}},
    {"timezone": None},
    {"timezone": ""},
    {"timezone": "\x00"},
    {"timezone": "America/"},
    {"timezone": "Asia"},
    {"timezone": "Europe/London/.."},
    {"timezone": "/etc/localtime"},
    {"timezone": "x" * 65},
    {"timezone": 5},
    {"label_format": "%"},
    {"label_format": "%Z\x00"},
    {"label_format": "%" * 100},
    {"label_format": "%" * 101},
    {"language": ""},
    {"language": "x" * 36},
    {"theme": None},
    {"theme": ["default"]},
    {"top_image": []},
    {"top_image": "https://a.example/top.jpg"},
    {"top_image": {}},
    {"top_image": {"url": None, "alt": None}},
    {"top_image": {"url": "https://a.example/top.jpg", "alt": "a", "caption": DEEP}},
]


@pytest.mark.parametrize(
    ("method", "path", "role", "bodies"),
    [
        ("POST", ENTRIES, "editor", ODD_BODIES),
        ("PATCH", BLOG, "admin", ODD_BLOG_SETTINGS),
    ],
    ids=["post-entries", "patch-blog"],
)
def test_no_input_produces_a_500(api, method, path, role, bodies):
    """Odd bodies get a 2xx or a problem, never a 500; the blog still works afterwards."""
    caller = api if role == "editor" else api.as_role(role)
    failures = []
    for body in bodies:
        response = send(caller, method, path, body)
        if response.status_code >= 500 or (
            response.status_code >= 400 and response.mimetype != "application/problem+json"
        ):
            failures.append((repr(body)[:80], response.status_code))
    assert failures == []
    assert api.get(BLOG).status_code == 200
    assert api.get(ENTRIES).status_code == 200


# A rejected request changes nothing

REJECTED_EDITS = [
    ("editor", {"headline": "New", "colour": "red"}, {}, 422),
    (
        "editor",
        {"headline": "New", "blocks": [{"type": "map", "center": {"lat": 91, "lon": 0}}]},
        {},
        422,
    ),
    (
        "editor",
        {"headline": "New", "status": "scheduled", "published_at": "2001-01-01T00:00:00Z"},
        {},
        422,
    ),
    ("editor", {"headline": "New", "body": "* " * 5_000 + "x"}, {}, 422),  # fails while rendering
    ("editor", '{"headline": "New", "pinned": NaN}', {}, 400),
    ("editor", {"headline": "New"}, {"If-Match": '"7"'}, 412),
    ("editor", {"headline": "New"}, {"If-Match": None}, 428),
    ("contributor", {"headline": "New"}, {}, 403),
]


def test_a_rejected_edit_leaves_the_entry_as_it_was(api, session):
    """Checked after each request: entry, revisions and change log are all untouched."""
    entry = api.post_entry(headline="Old", pinned=True)
    path = ENTRY.format(entry=entry["id"])

    def state():
        return api.get(path).get_json(), api.get(f"{path}/revisions").get_json(), changes(session)

    before = state()
    callers = {"editor": api, "contributor": api.as_role("contributor")}
    for role, body, headers, status in REJECTED_EDITS:
        headers = {key: value for key, value in {"If-Match": '"1"', **headers}.items() if value}
        assert_problem(send(callers[role], "PATCH", path, body, headers=headers), status)
        assert state() == before, body


REJECTED_BLOG_CHANGES = [
    ("admin", {"title": "New", "timezone": "Mars/Olympus_Mons"}, 422),
    ("admin", {"title": "New", "slug": "hama-2017"}, 422),
    ("admin", {"title": "New", "theme": "no-such-theme"}, 422),
    ("admin", {"title": "New", "label_format": "%Q"}, 422),
    ("admin", {"title": "New", "top_image": {"url": "javascript:alert(1)", "alt": "x"}}, 422),
    ("admin", '{"title": "New", "status": NaN}', 400),
    ("editor", {"title": "New"}, 403),
]


def test_a_rejected_blog_change_leaves_the_blog_as_it_was(api, session):
    before = api.get(BLOG).get_json()
    callers = {"editor": api, "admin": api.as_role("admin")}
    for role, body, status in REJECTED_BLOG_CHANGES:
        assert_problem(send(callers[role], "PATCH", BLOG, body), status)
        assert api.get(BLOG).get_json() == before, body
    assert changes(session) == []


def test_a_rejected_delete_leaves_the_entry_as_it_was(api, session):
    entry = api.post_entry()
    path = ENTRY.format(entry=entry["id"])
    assert_problem(api.delete(path, headers={"If-Match": '"2"'}), 412)
    assert_problem(api.as_role("contributor").delete(path, headers={"If-Match": '"1"'}), 403)
    assert api.get(path).get_json() == entry
    assert changes(session) == [(1, "entry.published", entry["id"])]


def test_markdown_that_would_take_seconds_to_parse_is_refused(api, session):
    response = api.post("/api/v1/blogs/hama/entries", json={"body": "[a](" * 2001})
    assert_problem(response, 422)
    assert "'[' characters" in response.get_json()["errors"][0]["message"]
    assert changes(session, "hama") == []


def test_reader_cursor_out_of_range_is_a_client_error(client, api):
    cursor = encode_cursor(datetime(2017, 3, 24, tzinfo=UTC), 2**40)
    assert client.get(f"/hama/?before={cursor}").status_code == 400
