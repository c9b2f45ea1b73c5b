"""Bylines: public profiles, several authors per entry, author pages, and every surface
that shows an update naming each author."""

import io
import json
import re
import shutil

import feedparser
import jsonschema
import pytest

from liveblog import accounts
from liveblog import db
from liveblog.errors import ValidationError
from liveblog.themes import Themes
from liveblog.transfer.document import read_document
from liveblog.transfer.document import schema
from liveblog.transfer.importer import import_blog
from tests.editor_helpers import EditorClient
from tests.factories import app_config
from tests.factories import assert_problem
from tests.factories import changes
from tests.factories import make_user
from tests.factories import open_blog
from tests.fakes import image_bytes
from tests.support import soup

ME = "/api/v1/users/me"
VALIDATOR = jsonschema.Draft202012Validator(
    schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def upload_photo(api, size=(600, 400)) -> dict:
    response = api.post(
        "/api/v1/uploads",
        data={"file": (io.BytesIO(image_bytes(size, "JPEG")), "me.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def set_profile(api, **profile) -> dict:
    response = api.patch(ME, json=profile)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def correspondent(api):
    """The editor, with a full profile and a photo."""
    photo = upload_photo(api)
    set_profile(
        api,
        name="Lina Haddad",
        title="Middle East correspondent",
        bio="Covers Syria.\n\nBased in Beirut.",
        links=["https://example.org/lina", "https://social.example/@lina"],
        slug="lina-haddad",
        photo={"url": photo["url"], "alt": "Lina Haddad, smiling"},
    )
    return api


# The profile in the API


def test_a_user_reads_and_changes_their_own_profile(api):
    me = api.get(ME).get_json()
    assert me["id"] == api.user.id and me["title"] == "" and me["links"] == []
    assert me["photo"] is None and me["url"] == f"https://news.example/authors/{api.user.id}"
    photo = upload_photo(api, (900, 600))

    changed = set_profile(
        api,
        name="  Lina   Haddad ",
        title="Middle East correspondent",
        bio="Line one.\nLine two.",
        links=["https://example.org/lina"],
        slug="lina",
        photo={"url": photo["url"], "alt": "Portrait"},
    )

    assert changed["name"] == "Lina Haddad"
    assert changed["bio"] == "Line one.\nLine two."
    assert changed["photo"] == {"url": photo["url"], "alt": "Portrait", "width": 900, "height": 600}
    assert changed["url"] == "https://news.example/authors/lina"
    assert api.get(ME).get_json() == changed
    cleared = set_profile(api, title=None, bio="", links=None, photo=None, slug=None)
    assert (cleared["title"], cleared["bio"], cleared["links"]) == ("", "", [])
    assert cleared["photo"] is None and cleared["slug"] is None


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"title": "x" * 201}, "title"),
        ({"bio": "x" * 1001}, "bio"),
        ({"links": ["javascript:alert(1)"]}, "links[0]"),
        ({"links": ["https://a.example", "ftp://b.example"]}, "links[1]"),
        ({"links": [f"https://{n}.example" for n in range(6)]}, "links"),
        ({"links": "https://a.example"}, "links"),
        ({"slug": "Lina Haddad"}, "slug"),
        ({"slug": "1234"}, "slug"),
        ({"photo": {"url": "https://elsewhere.example/me.jpg", "alt": "Me"}}, "photo.url"),
        ({"photo": {"url": "/media/uploads/" + "0" * 64 + ".jpg", "alt": "Me"}}, "photo.url"),
        ({"photo": {"url": "/media/uploads/x.jpg"}}, "photo.alt"),
        ({"role": "admin"}, "role"),
    ],
)
def test_a_profile_that_is_wrong_is_refused_naming_the_field(api, profile, field):
    before = api.get(ME).get_json()
    problem = assert_problem(api.patch(ME, json=profile), 422)
    assert field in {error["field"] for error in problem["errors"]}
    assert api.get(ME).get_json() == before


def test_a_photo_needs_its_alt_text(api):
    photo = upload_photo(api)
    problem = assert_problem(api.patch(ME, json={"photo": {"url": photo["url"]}}), 422)
    assert problem["errors"] == [{"field": "photo.alt", "message": "is required"}]
    problem = assert_problem(api.patch(ME, json={"photo": {"url": photo["url"], "alt": " "}}), 422)
    assert problem["errors"][0]["field"] == "photo.alt"


def test_an_author_address_belongs_to_one_author(api):
    set_profile(api, slug="lina")
    other = api.as_role("contributor")
    problem = assert_problem(other.patch(ME, json={"slug": "lina"}), 409)
    assert "lina" in problem["detail"]


def test_admins_change_anyones_profile_and_nobody_else_does(api, session):
    admin = api.as_role("admin")
    target = api.user.id
    response = admin.patch(f"/api/v1/users/{target}", json={"title": "Chief reporter"})
    assert response.status_code == 200, response.get_json()
    assert api.get(ME).get_json()["title"] == "Chief reporter"
    # An admin may change their own profile there too, though not their own role.
    assert admin.patch(f"/api/v1/users/{admin.user.id}", json={"title": "Desk"}).status_code == 200
    assert_problem(admin.patch(f"/api/v1/users/{admin.user.id}", json={"role": "editor"}), 403)
    for role in ("editor", "contributor"):
        other = api.as_role(role)
        assert_problem(other.patch(f"/api/v1/users/{target}", json={"title": "Intern"}), 403)
    assert api.get(ME).get_json()["title"] == "Chief reporter"
    assert_problem(admin.patch("/api/v1/users/999999", json={"title": "Ghost"}), 404)


def test_a_profile_change_tells_readers_of_blogs_that_show_the_byline(api, session):
    api.post_entry(body="Published.")
    api.post_entry(body="Only a draft.", status="draft")
    before = changes(session)
    set_profile(api, title="Correspondent")
    assert changes(session)[len(before) :] == [(len(before) + 1, "blog.updated", None)]


# Several authors per entry


def test_an_entry_credits_its_poster_by_default_and_any_active_users_given(api, session):
    first = api.post_entry()
    assert first["authors"] == [api.user.id]
    other = api.as_role("contributor")
    third = api.as_role("editor")

    both = api.post_entry(authors=[other.user.id, api.user.id])
    assert both["authors"] == [other.user.id, api.user.id]
    assert both["author"]["id"] == api.user.id

    response = api.edit_entry(both, authors=[third.user.id, other.user.id])
    assert response.status_code == 200, response.get_json()
    edited = response.get_json()
    assert edited["authors"] == [third.user.id, other.user.id]
    assert edited["version"] == both["version"] + 1
    assert edited["edited_at"] is None, "a new byline is not an edit of the words"
    assert changes(session)[-1] == (changes(session)[-1][0], "entry.updated", both["id"])
    got = api.get(f"/api/v1/blogs/hama/entries/{both['id']}").get_json()
    assert got["authors"] == [third.user.id, other.user.id]


@pytest.mark.parametrize(
    ("authors", "field", "words"),
    [
        ([], "authors", "at least one"),
        (None, "authors", "at least one"),
        ([999999], "authors[0]", "no user"),
        (["1"], "authors[0]", "user's id"),
        ([True], "authors[0]", "user's id"),
        ("inactive", "authors[1]", "deactivated"),
        ("twice", "authors[1]", "once"),
    ],
)
def test_authors_that_are_not_active_users_are_refused(api, session, authors, field, words):
    if authors == "inactive":
        gone = api.as_role("contributor").user
        api.as_role("admin").patch(f"/api/v1/users/{gone.id}", json={"active": False})
        authors = [api.user.id, gone.id]
    elif authors == "twice":
        authors = [api.user.id, api.user.id]
    response = api.post("/api/v1/blogs/hama/entries", json={"body": "x", "authors": authors})
    problem = assert_problem(response, 422)
    messages = {error["field"]: error["message"] for error in problem["errors"]}
    assert words in messages[field]
    assert api.get("/api/v1/blogs/hama/entries").get_json()["items"] == []


def test_a_contributor_adds_co_authors_to_their_own_drafts_only(api):
    writer = api.as_role("contributor")
    colleague = api.as_role("contributor")
    draft = writer.post_entry(authors=[writer.user.id, colleague.user.id])
    assert draft["status"] == "draft"
    assert draft["authors"] == [writer.user.id, colleague.user.id]
    response = writer.edit_entry(draft, authors=[colleague.user.id])
    assert response.status_code == 200 and response.get_json()["authors"] == [colleague.user.id]

    theirs = colleague.post_entry()
    assert_problem(writer.edit_entry(theirs, authors=[writer.user.id]), 404)
    published = api.post_entry()
    assert_problem(writer.edit_entry(published, authors=[writer.user.id]), 403)


# Bylines on the reader surfaces


def test_the_byline_shows_each_authors_photo_name_page_and_title(correspondent, client):
    api = correspondent
    plain = api.as_role("contributor", name="Sami Nasser")
    entry = api.post_entry(authors=[api.user.id, plain.user.id])

    for path in ("/hama/", f"/hama/updates/{entry['id']}", f"/hama/embed?update={entry['id']}"):
        article = soup(client.get(path)).select_one(f"#update-{entry['id']}")
        authors = article.select(".entry-author")
        assert [a.select_one(".entry-author-name").get_text() for a in authors] == [
            "Lina Haddad",
            "Sami Nasser",
        ], path
        first, second = authors
        link = first.select_one("a.entry-author-name")
        assert link["href"] == "/authors/lina-haddad" and link["rel"] == ["author"]
        photo = first.select_one("img")
        assert (photo["width"], photo["height"]) == ("48", "32")
        assert photo["alt"] == "Lina Haddad, smiling" and photo["src"].startswith("/media/")
        assert "Middle East correspondent" in first.select_one(".entry-author-title").get_text()
        assert second.select_one("img") is None and second.select_one(".entry-author-title") is None
        assert second.select_one("a")["href"] == f"/authors/{plain.user.id}"


def test_the_live_event_carries_the_byline_as_the_page_shows_it(correspondent, client):
    api = correspondent
    entry = api.post_entry()
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    stream = client.get("/hama/events?since=0").get_data(as_text=True)
    data = [json.loads(line[6:]) for line in stream.splitlines() if line.startswith("data: ")]
    published = next(item for item in data if item.get("entry_id") == entry["id"])
    page = client.get("/hama/").get_data(as_text=True)
    article = re.search(rf'<article [^>]*id="update-{entry["id"]}".*?</article>', page, re.S)
    assert article is not None and published["html"] == article.group(0)
    assert 'href="/authors/lina-haddad"' in published["html"]


def test_a_deactivated_authors_byline_keeps_their_name_without_a_page(api, client):
    gone = api.as_role("contributor", name="Former Reporter")
    entry = api.post_entry(authors=[gone.user.id])
    api.as_role("admin").patch(f"/api/v1/users/{gone.user.id}", json={"active": False})
    article = soup(client.get("/hama/")).select_one(f"#update-{entry['id']}")
    assert article.select_one(".entry-author-name").get_text() == "Former Reporter"
    assert article.select_one(".entry-author a") is None
    assert client.get(f"/authors/{gone.user.id}").status_code == 404


def test_structured_data_names_each_author_as_a_person_with_their_page(correspondent, client):
    api = correspondent
    plain = api.as_role("contributor", name="Sami Nasser")
    entry = api.post_entry(authors=[api.user.id, plain.user.id])
    for path in (f"/hama/updates/{entry['id']}", "/hama/"):
        script = soup(client.get(path)).select_one('script[type="application/ld+json"]')
        data = json.loads(script.string)
        posting = data if data["@type"] == "BlogPosting" else data["liveBlogUpdate"][0]
        first, second = posting["author"]
        assert first["@type"] == "Person" and first["name"] == "Lina Haddad"
        assert first["url"] == "https://news.example/authors/lina-haddad"
        assert first["jobTitle"] == "Middle East correspondent"
        assert first["image"].startswith("https://news.example/media/uploads/")
        assert second == {
            "@type": "Person",
            "name": "Sami Nasser",
            "url": f"https://news.example/authors/{plain.user.id}",
        }


def test_feeds_name_every_author(correspondent, client):
    api = correspondent
    plain = api.as_role("contributor", name="Sami Nasser")
    api.post_entry(authors=[api.user.id, plain.user.id])
    lina = "https://news.example/authors/lina-haddad"
    sami = f"https://news.example/authors/{plain.user.id}"

    atom = feedparser.parse(client.get("/hama/feed.atom").data)
    assert not atom.bozo
    assert [(a["name"], a["href"]) for a in atom.entries[0].authors] == [
        ("Lina Haddad", lina),
        ("Sami Nasser", sami),
    ]
    rss = client.get("/hama/feed.rss").get_data(as_text=True)
    assert not feedparser.parse(rss).bozo
    assert re.findall(r"<dc:creator>(.*?)</dc:creator>", rss) == ["Lina Haddad", "Sami Nasser"]
    item = client.get("/hama/feed.json").get_json()["items"][0]
    avatar = item["authors"][0].pop("avatar")
    assert avatar.startswith("https://news.example/media/uploads/")
    assert item["authors"] == [
        {"name": "Lina Haddad", "url": lina},
        {"name": "Sami Nasser", "url": sami},
    ]


def test_a_new_byline_reaches_cached_pages_and_feeds(correspondent, client):
    api = correspondent
    api.post_entry()
    page = client.get("/hama/")
    feed = client.get("/hama/feed.json")
    set_profile(api, name="Lina H. Haddad")
    assert client.get("/hama/", headers={"If-None-Match": page.headers["ETag"]}).status_code == 200
    assert "Lina H. Haddad" in client.get("/hama/").get_data(as_text=True)
    assert client.get("/hama/feed.json").get_json()["items"][0]["authors"][0]["name"] == (
        "Lina H. Haddad"
    )
    assert feed.get_json()["items"][0]["authors"][0]["name"] == "Lina Haddad"


# The author page


def test_the_author_page_shows_the_profile_and_recent_published_updates(correspondent, client):
    api = correspondent
    open_blog(api, slug="aleppo", title="Aleppo", status="live")
    open_blog(api, slug="secret", title="Secret", status="draft")
    older = api.post_entry(headline="Older, on Hama")
    newer = api.post_entry(blog="aleppo", headline="Newer, on Aleppo")
    api.post_entry(headline="A draft", status="draft")
    api.post_entry(blog="secret", headline="On a draft blog")
    deleted = api.post_entry(headline="Retracted")
    api.delete(f"/api/v1/blogs/hama/entries/{deleted['id']}", headers={"If-Match": '"1"'})
    api.as_role("editor").post_entry(headline="Someone else's")

    response = client.get("/authors/lina-haddad")

    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("h1").get_text() == "Lina Haddad"
    assert page.select_one(".author-title").get_text() == "Middle East correspondent"
    assert [p.get_text() for p in page.select(".author-bio")] == [
        "Covers Syria.",
        "Based in Beirut.",
    ]
    assert [a["href"] for a in page.select(".author-links a")] == [
        "https://example.org/lina",
        "https://social.example/@lina",
    ]
    photo = page.select_one("img.author-photo")
    assert (photo["width"], photo["height"], photo["alt"]) == ("128", "85", "Lina Haddad, smiling")
    updates = page.select(".author-update")
    assert [u.select_one(".author-update-title").get_text() for u in updates] == [
        "Newer, on Aleppo",
        "Older, on Hama",
    ]
    assert [u.select_one("a")["href"] for u in updates] == [
        f"/aleppo/updates/{newer['id']}",
        f"/hama/updates/{older['id']}",
    ]
    assert page.select_one('link[rel="canonical"]')["href"] == (
        "https://news.example/authors/lina-haddad"
    )
    data = json.loads(page.select_one('script[type="application/ld+json"]').string)
    assert data["@type"] == "ProfilePage" and data["mainEntity"]["name"] == "Lina Haddad"
    # By id too, with the same canonical address.
    by_id = soup(client.get(f"/authors/{api.user.id}"))
    assert by_id.select_one('link[rel="canonical"]')["href"].endswith("/authors/lina-haddad")


def test_the_author_page_is_paginated_newest_first(app, api, client, monkeypatch):
    monkeypatch.setattr("liveblog.web.public.AUTHOR_PAGE_SIZE", 2)
    made = [api.post_entry(headline=f"Number {n}") for n in range(5)]
    titles, path = [], f"/authors/{api.user.id}"
    while path:
        page = soup(client.get(path))
        titles += [t.get_text() for t in page.select(".author-update-title")]
        older = page.select_one('a[rel="next"]')
        path = older["href"] if older else None
    assert titles == [entry["headline"] for entry in reversed(made)]


def test_the_author_page_is_cacheable_until_something_it_shows_changes(correspondent, client):
    api = correspondent
    first = client.get("/authors/lina-haddad")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get("/authors/lina-haddad", headers={"If-None-Match": etag})
    assert again.status_code == 304
    since = client.get("/authors/lina-haddad", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    api.post_entry(headline="News")
    after_entry = client.get("/authors/lina-haddad", headers={"If-None-Match": etag})
    assert after_entry.status_code == 200 and "News" in after_entry.get_data(as_text=True)
    etag = after_entry.headers["ETag"]
    set_profile(api, title="Bureau chief")
    after_profile = client.get("/authors/lina-haddad", headers={"If-None-Match": etag})
    assert after_profile.status_code == 200
    assert "Bureau chief" in after_profile.get_data(as_text=True)


@pytest.mark.parametrize("ref", ["nobody", "999999", "0", "99999999999999999999", "Lina-Haddad"])
def test_an_unknown_author_is_not_found(correspondent, client, ref):
    response = client.get(f"/authors/{ref}")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "correspondent" not in response.get_data(as_text=True)


def test_a_deactivated_author_has_no_page(correspondent, client):
    api = correspondent
    api.as_role("admin").patch(f"/api/v1/users/{api.user.id}", json={"active": False})
    for path in ("/authors/lina-haddad", f"/authors/{api.user.id}"):
        response = client.get(path)
        assert response.status_code == 404
        assert "correspondent" not in response.get_data(as_text=True)


def test_a_blog_cannot_take_the_authors_address(api):
    admin = api.as_role("admin")
    response = admin.post("/api/v1/blogs", json={"slug": "authors", "title": "Authors"})
    assert_problem(response, 422)


# Export and import


def test_profiles_and_bylines_travel_in_the_export(
    correspondent, make_bare_app, sqlite_template, tmp_path
):
    api = correspondent
    plain = api.as_role("contributor", name="Sami Nasser")
    api.post_entry(authors=[plain.user.id, api.user.id])
    api.post_entry()
    exported = api.get("/api/v1/blogs/hama/export").get_data(as_text=True)
    document = json.loads(exported)
    VALIDATOR.validate(document)
    people = {person["id"]: person for person in document["authors"]}
    lina = next(p for p in people.values() if p["name"] == "Lina Haddad")
    assert lina["title"] == "Middle East correspondent" and lina["slug"] == "lina-haddad"
    assert lina["photo"]["alt"] == "Lina Haddad, smiling"
    assert lina["links"] == ["https://example.org/lina", "https://social.example/@lina"]
    assert lina["photo"]["url"] in {upload["url"] for upload in document["uploads"]}
    assert [people[n]["name"] for n in document["entries"][0]["authors"]] == [
        "Sami Nasser",
        "Lina Haddad",
    ]

    path = tmp_path / "other.sqlite"
    shutil.copy(sqlite_template, path)
    other = make_bare_app(**app_config(f"sqlite:///{path}", tmp_path / "other"))
    with other.app_context():
        target = db.session()
        imported = import_blog(target, Themes(), read_document(io.BytesIO(exported.encode())))
        assert imported.new_people == len(people)
        admin = accounts.create_user(target, "desk@news.example", "admin", None)
        token = accounts.create_token(target, admin)
    client = other.test_client()
    names = [a.get_text() for a in soup(client.get("/hama/")).select(".entry-author-name")]
    assert names == ["Lina Haddad", "Sami Nasser", "Lina Haddad"]
    assert client.get("/authors/lina-haddad").status_code == 200
    again = client.get("/api/v1/blogs/hama/export", headers={"Authorization": f"Bearer {token}"})
    second = json.loads(again.get_data(as_text=True))
    for entry in (*document["entries"], *second["entries"]):
        entry.pop("id")
    assert second == document


def test_an_older_export_without_bylines_credits_each_entry_to_its_author(api, session):
    exported = json.loads(api.get("/api/v1/blogs/hama/export").get_data(as_text=True))
    exported["blog"]["slug"] = "copy"
    exported["authors"] = [{"id": 1, "name": "Old Hand", "email": "old@news.example"}]
    exported["entries"] = [
        {
            "id": 7, "author": 1, "headline": None, "blocks": [{"type": "text", "markdown": "Hi"}],
            "status": "published", "published_at": "2017-03-24T07:45:00+00:00", "pinned": False,
            "key_event": False, "review": None, "review_note": None, "version": 1,
            "created_at": "2017-03-24T07:45:00+00:00", "updated_at": "2017-03-24T07:45:00+00:00",
            "edited_at": None, "revisions": [],
        }
    ]  # fmt: skip
    import_blog(session, Themes(), read_document(io.BytesIO(json.dumps(exported).encode())))
    imported = api.as_role("admin").get("/api/v1/blogs/copy/entries")  # admins: every desk
    entry = imported.get_json()["items"][0]
    assert entry["authors"] == [entry["author"]["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"authors": [3]}, "entries[0].authors[0]"),
        ({"authors": []}, "entries[0].authors"),
        ({"authors": [1, 1]}, "entries[0].authors[1]"),
    ],
)
def test_an_import_refuses_bylines_naming_no_author_of_the_document(api, session, change, field):
    api.post_entry()
    exported = json.loads(api.get("/api/v1/blogs/hama/export").get_data(as_text=True))
    exported["blog"]["slug"] = "copy"
    exported["entries"][0].update(change)
    with pytest.raises(ValidationError) as raised:
        import_blog(session, Themes(), read_document(io.BytesIO(json.dumps(exported).encode())))
    assert field in {error.field for error in raised.value.errors}


# The editor's profile page


@pytest.fixture
def as_reporter(client, session):
    reporter = make_user(session, "contributor", name="Rima")
    editor_client = EditorClient(client)
    editor_client.log_in(reporter.email)
    editor_client.user = reporter
    return editor_client


def profile_form(**changes) -> dict:
    return {
        "name": "Rima Khalil",
        "title": "Stringer, Hama",
        "bio": "Reports from central Syria.",
        "links": "https://example.org/rima\n\nhttps://social.example/@rima\n",
        "slug": "rima-khalil",
        "alt": "",
        **changes,
    }


def test_the_profile_page_saves_the_byline_and_a_photo(as_reporter, session):
    page = soup(as_reporter.client.get("/editor/profile"))
    assert page.select_one("#name")["value"] == "Rima"
    assert page.select_one("form[enctype='multipart/form-data'] input[name=csrf_token]")
    photo = (io.BytesIO(image_bytes((400, 400), "PNG")), "rima.png")

    saved = as_reporter.post(
        "/editor/profile", profile_form(photo=photo, alt="Rima Khalil in Hama")
    )

    assert saved.status_code == 303 and saved.headers["Location"] == "/editor/profile?saved=yes"
    me = as_reporter.api("GET", ME).get_json()
    assert (me["name"], me["title"], me["slug"]) == ("Rima Khalil", "Stringer, Hama", "rima-khalil")
    assert me["links"] == ["https://example.org/rima", "https://social.example/@rima"]
    assert me["photo"]["alt"] == "Rima Khalil in Hama" and me["photo"]["width"] == 400
    page = soup(as_reporter.client.get("/editor/profile?saved=yes"))
    assert page.select_one(".notice").get_text() == "Your profile is saved."
    assert page.select_one("img.profile-photo")["alt"] == "Rima Khalil in Hama"
    assert (
        page.select_one("#links").get_text()
        == "https://example.org/rima\nhttps://social.example/@rima"
    )

    # The alt text changes alone; then the photo goes.
    as_reporter.post("/editor/profile", profile_form(alt="Rima, reporting"))
    assert as_reporter.api("GET", ME).get_json()["photo"]["alt"] == "Rima, reporting"
    as_reporter.post("/editor/profile", profile_form(remove_photo="yes"))
    assert as_reporter.api("GET", ME).get_json()["photo"] is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"links": "https://a.example\nnot a link"}, "links", "Link 2 must be an http(s) URL"),
        ({"name": ""}, "name", "must not be empty"),
        ({"slug": "Rima!"}, "slug", "lowercase"),
        ({"photo": image_bytes(), "alt": ""}, "alt", "Alt text"),
        ({"photo": b"not an image", "alt": "Me"}, "photo", "Photo"),
    ],
)
def test_the_profile_page_shows_what_is_wrong_next_to_the_field(as_reporter, changes, field, words):
    if "photo" in changes:
        changes = {**changes, "photo": (io.BytesIO(changes["photo"]), "p.png")}
    response = as_reporter.post("/editor/profile", profile_form(**changes))
    assert response.status_code == 422
    page = soup(response)
    assert words in page.select_one(f"#{field}-error").get_text()
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    assert as_reporter.api("GET", ME).get_json()["name"] == "Rima"


def test_the_profile_form_needs_its_csrf_token(as_reporter):
    response = as_reporter.client.post("/editor/profile", data=profile_form())
    assert response.status_code == 403
    assert as_reporter.api("GET", ME).get_json()["name"] == "Rima"


def test_the_composer_offers_the_desks_active_users_for_the_byline(as_reporter, api, session):
    gone = api.as_role("contributor", name="Gone Reporter")
    api.as_role("admin").patch(f"/api/v1/users/{gone.user.id}", json={"active": False})
    page = soup(as_reporter.client.get("/editor/blogs/hama/"))
    options = page.select("#authors option")
    assert "Gone Reporter" not in [option.get_text() for option in options]
    chosen = [option["value"] for option in options if option.has_attr("selected")]
    assert chosen == [str(as_reporter.user.id)]
    assert page.select_one("label[for=authors]")
