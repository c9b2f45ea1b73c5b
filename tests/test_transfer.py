"""liveblog export and import of our own documents, through the command as an editor runs it,
on every backend: lossless round trips, one transaction, the change log rebuilt."""

import copy
import io
import itertools
import json
import shutil
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from liveblog import db
from liveblog import desks
from liveblog import publishing
from liveblog import store
from liveblog.cli import cli
from liveblog.embeds import uploads
from liveblog.models import Blog
from liveblog.models import Change
from liveblog.models import Entry
from liveblog.models import Revision
from liveblog.models import User
from liveblog.models import utcnow
from liveblog.publishing import entry_etag
from liveblog.transfer import importer
from liveblog.transfer.document import read_document
from liveblog.transfer.document import schema
from liveblog.transfer.export import Export
from tests.factories import app_config
from tests.factories import assert_problem
from tests.factories import make_blog
from tests.factories import make_user
from tests.fakes import image_bytes
from tests.feedreader import read_feed
from tests.support import TWEET
from tests.support import soup

VALIDATOR = jsonschema.Draft202012Validator(
    schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def run(app: Flask, *args: str) -> Any:
    """``liveblog ARGS…`` run in ``app``, as tests/test_cli.py drives the command."""
    return app.test_cli_runner().invoke(cli, list(args))


def succeeded(result: Any) -> str:
    assert result.exit_code == 0, result.output
    return str(result.output)


def failed_cleanly(result: Any, message: str) -> str:
    """A non-zero exit that says ``message``, and no traceback."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert message in result.output, result.output
    return str(result.output)


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its entries' ids, which an import renumbers, taken out."""
    document = copy.deepcopy(document)
    for entry in document["entries"]:
        entry["id"] = None
    return document


def export(app: Flask, slug: str, path: Path) -> dict[str, Any]:
    succeeded(run(app, "export", slug, "-o", str(path)))
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    VALIDATOR.validate(document)
    return document


@pytest.fixture
def other_app(make_bare_app, sqlite_template, tmp_path) -> Flask:
    """Another Liveblog: its own fresh database and media folder."""
    path = tmp_path / "other.sqlite"
    shutil.copy(sqlite_template, path)
    return make_bare_app(**app_config(f"sqlite:///{path}", tmp_path / "other"))


@pytest.fixture
def world(app: Flask, session: Session) -> dict[str, Any]:
    """A blog with an entry of every kind: edited, pinned, key event, every block type
    (with uploads), a draft in review, a scheduled one, a deleted one."""
    themes = app.extensions["liveblog.themes"]
    media = Path(app.config["MEDIA_PATH"])
    admin = make_user(session, "admin", password=None, name="Desk Admin")
    editor = make_user(session, "editor", password=None, name="Rima Editor")
    contributor = make_user(session, "contributor", password=None, name="Sami Stringer")
    photo = uploads.save_image(image_bytes((1000, 600), "PNG", "teal"), media)
    poster = uploads.save_image(image_bytes((640, 360), "PNG", "navy"), media)
    make_blog(
        session,
        admin,
        slug="hama",
        title="Hama offensive",
        standfirst="Rebels close in on Hama.",
        timezone="Asia/Damascus",
        top_image={"url": photo["url"], "alt": "Rebel vehicles", "credit": "Agency"},
        embed_origins=["https://partner.example"],
        ended_order="oldest",
    )

    def write(user: User, **data: Any) -> Entry:
        return publishing.create_entry(session, themes, "hama", data, user)

    first = write(editor, headline="Assault on Qomhana", body="Rebels **attack**.", key_event=True)
    publishing.update_entry(
        session, themes, "hama", first.id,
        {"body": "Rebels **attack** the village.", "correction": "The village was misnamed."},
        editor, entry_etag(first),
    )  # fmt: skip
    write(editor, body="Read our explainer.", pinned=True)
    blocks = [
        {
            "type": "social",
            "url": TWEET,
            "author_name": "Some One",
            "author_handle": "@someone",
            "text": "Rebels have entered Qomhana",
            "posted_at": "2017-03-24T07:40:00+00:00",
            "media": [{"url": photo["url"], "alt": "A photo from the post"}],
        },
        {
            "type": "map",
            "center": {"lat": 35.2, "lon": 36.7},
            "zoom": 9,
            "markers": [{"lat": 35.3, "lon": 36.6, "label": "Qomhana"}],
            "geojson": {"type": "Point", "coordinates": [36.6, 35.3]},
            "image": {"url": photo["url"], "alt": "Map of the front"},
            "caption": "The front line",
            "credit": "OpenStreetMap",
        },
        {
            "type": "image",
            "url": photo["url"],
            "alt": "Armoured vehicles",
            "caption": "On the road north",
            "credit": "Agency",
            "width": 1000,
            "height": 600,
        },
        {
            "type": "video",
            "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "title": "Footage from the front",
            "poster": {"url": poster["url"], "width": 640, "height": 360},
            "caption": "Filmed on Friday",
        },
    ]
    write(editor, body="Everything at once:", blocks=blocks)
    write(contributor, body="A draft for the desk.", review="pending")
    later = (utcnow() + timedelta(days=1)).isoformat()
    write(editor, body="Due tomorrow.", status="scheduled", published_at=later)
    gone = write(editor, body="Posted by mistake.")
    publishing.delete_entry(session, "hama", gone.id, editor, entry_etag(gone))
    return {"photo": photo, "poster": poster, "media": media}


def test_an_export_holds_every_entry_and_validates_against_the_schema(app, world, tmp_path):
    document = export(app, "hama", tmp_path / "hama.json")
    assert document["blog"]["top_image"]["url"] == world["photo"]["url"]
    assert document["blog"]["ended_order"] == "oldest"
    statuses = sorted(entry["status"] for entry in document["entries"])
    assert statuses == ["deleted", "draft", "published", "published", "published", "scheduled"]
    assert [entry["version"] for entry in document["entries"]] == [2, 1, 1, 1, 1, 2]
    edited = document["entries"][0]
    assert [r["version"] for r in edited["revisions"]] == [1, 2]
    assert edited["revisions"][0]["data"]["blocks"] == [
        {"type": "text", "markdown": "Rebels **attack**."}
    ]
    assert [(c["version"], c["note"]) for c in edited["corrections"]] == [
        (2, "The village was misnamed.")
    ]
    assert edited["corrections"][0]["created_at"] == edited["edited_at"]
    assert all(entry["corrections"] == [] for entry in document["entries"][1:])
    assert edited["key_event"] and document["entries"][1]["pinned"]
    assert document["entries"][3]["review"] == "pending"
    kinds = [block["type"] for block in document["entries"][2]["blocks"]]
    assert kinds == ["text", "social", "map", "image", "video"]
    # The desk travels with the people: its creator, and its editor and contributor.
    desk = {author["name"]: author["desk"] for author in document["authors"]}
    assert desk == {"Desk Admin": "admin", "Rima Editor": "editor", "Sami Stringer": "contributor"}
    assert {author["id"] for author in document["authors"]} == {1, 2, 3}
    assert {upload["url"] for upload in document["uploads"]} == {
        world["photo"]["url"],
        world["poster"]["url"],
    }
    text = (tmp_path / "hama.json").read_text(encoding="utf-8")
    assert "password" not in text and "token" not in text and "lb_" not in text


def test_export_then_import_into_another_database_then_export_is_lossless(
    app, other_app, world, tmp_path
):
    before = export(app, "hama", tmp_path / "hama.json")
    output = succeeded(run(other_app, "import", str(tmp_path / "hama.json")))
    assert "Imported /hama/ (live): 6 entries, 3 published; 3 new authors." in output
    assert "2 uploads it shows are not in" in output
    after = export(other_app, "hama", tmp_path / "again.json")
    assert comparable(after) == comparable(before)
    assert [e["id"] for e in after["entries"]] == sorted(e["id"] for e in after["entries"])
    with db.database(other_app).sessions() as session:
        people = session.scalars(select(User).order_by(User.name)).all()
        assert [(u.name, u.role, u.password_hash) for u in people] == [
            ("Desk Admin", "contributor", None),
            ("Rima Editor", "contributor", None),
            ("Sami Stringer", "contributor", None),
        ]
        # On the desk with the roles they had; nobody does more than their own role allows.
        blog = store.get_blog(session, "hama")
        assert [desks.role_on(session, user, blog) for user in people] == ["contributor"] * 3
        assert session.scalar(select(func.count()).select_from(Revision)) == 8
        corrected = session.scalars(select(Entry).where(Entry.key_event)).one()
        assert [c.note for c in corrected.corrections] == ["The village was misnamed."]


def test_an_archive_with_media_brings_the_uploads_along(app, other_app, world, tmp_path):
    archive = tmp_path / "hama.tar.gz"
    output = succeeded(run(app, "export", "hama", "-o", str(archive), "--with-media"))
    assert "Exported 6 entries of /hama/ and 5 media files" in output  # 2 uploads, 3 copies
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        document = json.load(opened.extractfile("export.json"))  # type: ignore[arg-type]
    VALIDATOR.validate(document)
    assert names[0] == "export.json"
    photo = world["photo"]["url"].removeprefix("/media/")
    assert f"media/{photo}" in names and f"media/{photo.replace('.png', '-480w.png')}" in names
    output = succeeded(run(other_app, "import", str(archive)))
    assert "3 new authors; 5 media files." in output and "not in" not in output
    media = Path(other_app.config["MEDIA_PATH"])
    for name in names[1:]:
        copied = media / name.removeprefix("media/")
        assert copied.is_file(), name
    assert uploads.store_copy(photo.removeprefix("uploads/"), b"", media) is None  # kept
    after = export(other_app, "hama", tmp_path / "again.json")
    assert comparable(after) == comparable(document)
    page = other_app.test_client().get(world["photo"]["url"])
    assert page.status_code == 200 and page.mimetype == "image/png"
    page.close()


def test_import_with_slug_keeps_both_and_finds_the_authors_by_email(app, session, world, tmp_path):
    before = export(app, "hama", tmp_path / "hama.json")
    people = session.scalar(select(func.count()).select_from(User))
    output = succeeded(run(app, "import", str(tmp_path / "hama.json"), "--slug", "hama-copy"))
    assert "0 new authors" in output and "not in" not in output
    assert session.scalar(select(func.count()).select_from(User)) == people
    after = export(app, "hama-copy", tmp_path / "copy.json")
    assert after["blog"]["slug"] == "hama-copy"
    after["blog"]["slug"] = "hama"
    assert comparable(after) == comparable(before)
    ids = {e["id"] for e in before["entries"]}
    assert not ids & {e["id"] for e in after["entries"]}


def test_an_existing_slug_is_refused_and_nothing_changes(app, session, world, tmp_path):
    export(app, "hama", tmp_path / "hama.json")
    counts = table_counts(session)
    result = run(app, "import", str(tmp_path / "hama.json"))
    failed_cleanly(result, "A live blog with the slug 'hama' already exists")
    assert "--slug NEW" in result.output
    assert table_counts(session) == counts


def table_counts(session: Session) -> dict[str, int]:
    session.rollback()
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Blog, Entry, Revision, Change, User)
    }


def entry_document(number: int, author: int = 1, **overrides: Any) -> dict[str, Any]:
    moment = f"2017-03-24T{7 + number // 60:02d}:{number % 60:02d}:00+00:00"
    return {
        "id": number,
        "author": author,
        "headline": None,
        "blocks": [{"type": "text", "markdown": f"Update number {number}."}],
        "status": "published",
        "published_at": moment,
        "pinned": False,
        "key_event": False,
        "review": None,
        "review_note": None,
        "version": 1,
        "created_at": moment,
        "updated_at": moment,
        "edited_at": None,
        "revisions": [],
        **overrides,
    }


def document_of(entries: list[dict[str, Any]], **blog: Any) -> dict[str, Any]:
    return {
        "format": "liveblog-export",
        "version": 1,
        "blog": {
            "slug": "imported",
            "title": "Imported blog",
            "standfirst": "",
            "top_image": None,
            "status": "live",
            "timezone": "UTC",
            "label_format": "UPDATE %H%M %Z",
            "language": "en",
            "theme": "default",
            "embed_widgets": False,
            "created_at": "2017-03-24T07:00:00+00:00",
            "updated_at": "2017-03-24T07:00:00+00:00",
            "started_at": "2017-03-24T07:00:00+00:00",
            "ended_at": None,
            **blog,
        },
        "authors": [
            {"id": 1, "name": "New Reporter", "email": "new.reporter@elsewhere.example"},
            {"id": 2, "name": "No Email"},
        ],
        "entries": entries,
        "uploads": [],
    }


def write_document(path: Path, document: dict[str, Any]) -> str:
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_an_import_failing_halfway_leaves_nothing(app, session, world, tmp_path):
    """The bad entry comes after a whole batch has been written to the database."""
    entries = [entry_document(n, author=1 + n % 2) for n in range(1, importer.BATCH + 3)]
    entries[-1]["blocks"] = [{"type": "image", "url": "/media/x.png"}]  # no alt text
    path = write_document(tmp_path / "bad.json", document_of(entries))
    counts = table_counts(session)
    result = run(app, "import", path)
    failed_cleanly(
        result, f"Nothing was imported. entries[{importer.BATCH + 1}].blocks[0].alt: is required"
    )
    assert table_counts(session) == counts
    assert store.get_user_by_email(session, "new.reporter@elsewhere.example") is None


def test_an_archive_failing_leaves_no_media_behind(app, other_app, world, tmp_path):
    archive = tmp_path / "hama.tar.gz"
    succeeded(run(app, "export", "hama", "-o", str(archive), "--with-media"))
    with tarfile.open(archive) as opened:
        document = json.load(opened.extractfile("export.json"))  # type: ignore[arg-type]
        media = [(m, opened.extractfile(m).read()) for m in opened.getmembers()[1:]]  # type: ignore[union-attr]
    document["uploads"].append({"url": "/media/uploads/" + "0" * 64 + ".png", "hash": "1" * 64})
    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(broken, "w:gz") as out:
        data = json.dumps(document).encode()
        info = tarfile.TarInfo("export.json")
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
        for member, content in media:
            out.addfile(member, io.BytesIO(content))
    failed_cleanly(run(other_app, "import", str(broken)), "uploads[2].hash: must be the hash")
    assert not (Path(other_app.config["MEDIA_PATH"]) / "uploads").exists() or not any(
        (Path(other_app.config["MEDIA_PATH"]) / "uploads").iterdir()
    )
    with db.database(other_app).sessions() as other:
        assert other.scalar(select(func.count()).select_from(Blog)) == 0


def test_the_change_log_and_feeds_of_an_imported_blog(app, client, session, tmp_path):
    entries = [entry_document(n) for n in range(1, 8)]
    entries[2]["status"] = "draft"
    entries[2]["published_at"] = None
    entries[4] = entry_document(5, status="deleted", version=2)
    entries[5] = entry_document(6, published_at="2017-03-24T06:00:00+00:00")  # the oldest
    path = write_document(tmp_path / "doc.json", document_of(entries))
    output = succeeded(run(app, "import", path))
    assert "7 entries, 5 published; 2 new authors" in output
    blog = store.get_blog(session, "imported")
    published = session.scalars(
        select(Entry).where(Entry.blog_id == blog.id, Entry.status == "published")
        .order_by(Entry.published_at, Entry.id)
    ).all()  # fmt: skip
    logged = store.changes_since(session, blog, 0)
    assert [(c.seq, c.kind, c.entry_id) for c in logged] == [
        (seq, "entry.published", entry.id) for seq, entry in enumerate(published, 1)
    ]
    assert blog.last_seq == 5
    feed = read_feed(client.get("/imported/feed.atom"))
    assert len(feed.items) == 5
    assert "Update number 7." in feed.items[0].content
    assert "Update number 6." in feed.items[-1].content
    changes = client.get("/imported/changes?since=0").get_json()
    assert [event["seq"] for event in changes["events"]] == [1, 2, 3, 4, 5]
    page = client.get(f"/imported/updates/{published[0].id}")
    assert page.status_code == 200
    with db.database(app).sessions() as other:
        assert other.get(User, published[0].author_id).name == "New Reporter"  # type: ignore[union-attr]


def test_imported_content_is_sanitised_like_any_entry(app, session, tmp_path):
    evil = "<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)>"
    entry = entry_document(1, blocks=[{"type": "text", "markdown": evil}])
    succeeded(run(app, "import", write_document(tmp_path / "doc.json", document_of([entry]))))
    html = soup(session.scalars(select(Entry.html)).one())
    assert html.select("script, img") == []
    assert [a.get("href") for a in html.select("a")] == [None]
    assert "<script>alert(1)</script>" in html.get_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["entries"][0].update(status="live"), "entries[0].status: must be one of"),
        (lambda d: d["entries"][0].update(author=9), "entries[0].author: is 9, which is not the id"),
        (lambda d: d["entries"][0].update(published_at=None), "entries[0].published_at: is required for a published entry"),
        (lambda d: d["entries"][0].update(colour="red"), "entries[0].colour: unknown field"),
        (lambda d: d["entries"][0]["blocks"][0].update(type="poll"), "entries[0].blocks[0].type: must be one of"),
        (lambda d: d["blog"].update(timezone="Mars/Olympus"), "blog.timezone: unknown time zone"),
        (lambda d: d["blog"].pop("created_at"), "blog.created_at: is required"),
        (lambda d: d["blog"].update(ended_order="sideways"), "blog.ended_order: must be one of: newest, oldest"),
        (lambda d: d["authors"][0].update(email="nobody"), "authors[0].email: must be an email address"),
        (lambda d: d["entries"][0].update(corrections=[{"version": 2, "created_at": "2017-03-24T08:00:00Z", "note": "Fixed"}]), "entries[0].corrections[0].version: is 2, which is not the version of a revision"),
        (lambda d: d["entries"][0].update(corrections=[{"version": 1, "created_at": "2017-03-24T08:00:00Z", "note": "x" * 501}]), "entries[0].corrections[0].note: must be at most 500 characters"),
        (lambda d: d.update(version=2), "The export is of version 2"),
        (lambda d: d.update(format="other"), "The file is not a Liveblog export"),
        (lambda d: d["entries"].append(entry_document(2, pinned=True)) or d["entries"][0].update(pinned=True), "only one published entry can be pinned"),
    ],
)  # fmt: skip
def test_an_invalid_document_says_what_is_wrong(app, session, tmp_path, change, message):
    document = document_of([entry_document(1)])
    change(document)
    counts = table_counts(session)
    failed_cleanly(run(app, "import", write_document(tmp_path / "doc.json", document)), message)
    assert table_counts(session) == counts


def test_a_slug_given_must_be_a_slug(app, tmp_path):
    path = write_document(tmp_path / "doc.json", document_of([entry_document(1)]))
    failed_cleanly(run(app, "import", path, "--slug", "Not A Slug"), "blog.slug: may only hold")


def test_export_of_a_missing_blog_and_an_archive_without_a_file(app, world):
    failed_cleanly(run(app, "export", "nowhere"), "There is no live blog 'nowhere'.")
    failed_cleanly(run(app, "export", "hama", "--with-media"), "give -o FILE.tar.gz")


def test_export_to_standard_output_prints_the_document_alone(app, world):
    result = run(app, "export", "hama")
    assert result.exit_code == 0, result.output
    VALIDATOR.validate(json.loads(result.stdout))
    assert result.stderr == "Exported 6 entries of /hama/.\n"  # no progress bar off a terminal


def test_the_api_exports_for_editors(api, client, session):
    api.post_entry(body="Published.")
    api.post_entry(body="A draft.", status="draft")
    response = api.get("/api/v1/blogs/hama/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="hama.json"'
    assert response.headers["Cache-Control"] == "no-store"
    document = json.loads(response.get_data(as_text=True))
    VALIDATOR.validate(document)
    assert sorted(e["status"] for e in document["entries"]) == ["draft", "published"]


def test_the_api_refuses_contributors_and_names_a_missing_blog(api):
    problem = assert_problem(api.as_role("contributor").get("/api/v1/blogs/hama/export"), 403)
    assert "editors and admins" in problem["detail"]
    assert_problem(api.get("/api/v1/blogs/nowhere/export"), 404)


def test_an_export_reads_entries_page_by_page(app, session, world):
    pages: list[int] = []
    pieces = list(Export(session, "hama", progress=pages.append, page_size=4))
    assert pages == [4, 2]
    assert len(pieces) == 1 + 6 + 1  # the blog and its people, each entry, the uploads
    VALIDATOR.validate(json.loads("".join(pieces)))


class CutShort:
    """A stream that gives ``data`` a few bytes at a time, then fails as a lost disk would."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        if size and not self.data:
            raise OSError("the rest of the file is gone")
        chunk, self.data = self.data[: min(size, 16)], self.data[min(size, 16) :]
        return chunk


def test_a_document_is_read_one_entry_at_a_time():
    text = json.dumps(document_of([entry_document(1), entry_document(2)]))
    cut = text.index("Update number 2.")  # the stream ends inside the second entry
    parts = read_document(CutShort(text[: cut + 5].encode()))
    assert [kind for kind, _value in itertools.islice(parts, 3)] == ["blog", "authors", "entry"]
    with pytest.raises(OSError, match="the rest of the file is gone"):
        next(parts)
