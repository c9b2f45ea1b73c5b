"""liveblog import from what newsrooms use today: a WordPress export (WXR) of a Liveblog
plugin post, a plain-text article; which format a file is; what a damaged or foreign
file is told."""

import gzip
import shutil
import tarfile
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from liveblog import store
from liveblog.cli import cli
from liveblog.labels import entry_label
from liveblog.models import Entry
from liveblog.models import Revision
from liveblog.models import User
from liveblog.transfer.article import read_article
from liveblog.transfer.sources import detect
from tests.factories import make_user
from tests.support import soup

DATA = Path(__file__).parent / "data"
WXR = DATA / "liveblog-wxr.xml"
SEED = DATA / "seed-article.txt"


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(cli, list(args))


def succeeded(result: Any) -> str:
    assert result.exit_code == 0, result.output
    return str(result.output)


def failed_cleanly(result: Any, message: str) -> str:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert message in result.output, result.output
    return str(result.output)


def blog_of(session: Session, slug: str) -> Any:
    """The blog ``slug`` as the database has it now."""
    session.rollback()
    return store.get_blog(session, slug)


def entries_of(session: Session, slug: str) -> list[Entry]:
    blog = blog_of(session, slug)
    return list(session.scalars(select(Entry).where(Entry.blog_id == blog.id).order_by(Entry.id)))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# WordPress (WXR)


def test_a_wordpress_liveblog_post_becomes_a_blog_with_edits_and_deletes_applied(app, session):
    rima = make_user(session, "editor", email="rima@newsroom.example", name="Rima H.")
    output = succeeded(run(app, "import", str(WXR)))
    assert (
        "Imported /battle-for-hama-live/ (live): 5 entries, 4 published; 2 new authors." in output
    )
    blog = blog_of(session, "battle-for-hama-live")
    assert (blog.title, blog.standfirst, blog.language) == (
        "Battle for Hama: live",
        "Rebels close in on Hama.",
        "en-GB",
    )
    opening, edited, key, deleted, tweeted = entries_of(session, blog.slug)
    assert opening.blocks == [
        {"type": "text", "markdown": "Follow the rebel offensive north of **Hama** as it happens."}
    ]
    # 101 and its edit 104: one entry, shown at the first time with the last words.
    assert edited.blocks == [
        {"type": "text", "markdown": "Rebels have taken Qomhana after a night of fighting."}
    ]
    assert (edited.published_at, edited.edited_at) == (
        at("2017-03-24 07:45"),
        at("2017-03-24 08:30"),
    )
    assert (edited.version, edited.author_id) == (2, rima.id)
    revisions = session.scalars(
        select(Revision).where(Revision.entry_id == edited.id).order_by(Revision.version)
    ).all()
    assert "Qomhana" in revisions[0].data["blocks"][0]["markdown"]
    assert "suicide car bomb" in revisions[0].data["blocks"][0]["markdown"]
    # The /key command and its meta: a key event, the command's span gone from the text.
    assert key.key_event and not edited.key_event
    assert key.blocks[0]["markdown"].startswith("Ahrar al-Sham has joined")
    assert "[map](https://newsroom.example/map)" in key.blocks[0]["markdown"]
    assert key.author.name == "Tom Price"
    # 103, in the trash, deleted by 105: a tombstone, not a published entry.
    assert (deleted.status, deleted.version) == ("deleted", 2)
    assert blog_of(session, blog.slug).last_seq == 4
    # A bare link alone on its line is the post's own block; the script is gone.
    assert [block["type"] for block in tweeted.blocks] == ["text", "social", "text"]
    assert tweeted.blocks[1]["url"] == "https://x.com/someone/status/1234567890"
    assert soup(tweeted.html).select("script") == []
    assert 'alert("xss")' not in tweeted.html
    assert tweeted.author.name == "Guest Writer"
    assert tweeted.author.email.endswith("@import.liveblog.invalid")
    assert "An ordinary comment" not in str([e.blocks for e in entries_of(session, blog.slug)])


def test_one_wordpress_post_is_chosen_by_post(app, session):
    succeeded(run(app, "import", str(WXR), "--post", "40", "--slug", "hama"))
    assert len(entries_of(session, "hama")) == 5
    failed_cleanly(
        run(app, "import", str(WXR), "--post", "2"), "has no post 2 with Liveblog entries"
    )


def test_xml_with_entities_is_refused(app, tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>\n'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>&b;</title></channel></rss>'
    )
    failed_cleanly(run(app, "import", str(bomb)), "XML features refused for safety")
    external = tmp_path / "external.xml"
    external.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>&x;</title></channel></rss>'
    )
    failed_cleanly(run(app, "import", str(external)), "XML features refused for safety")


# Plain-text articles


def test_the_seed_article_gives_entries_labelled_as_it_was(app, session):
    output = succeeded(run(app, "import", str(SEED), "--slug", "seed", "--date", "2017-03-24"))
    assert "Imported /seed/ (ended): 2 entries, 2 published" in output
    blog = blog_of(session, "seed")
    assert blog.title.startswith("Syria’s rebels continue advance in Hama offensive")
    assert blog.standfirst == "US Special Forces and Rebel Offensive v. ISIS in Eastern Syria"
    opening, update = entries_of(session, "seed")
    assert opening.blocks[0]["markdown"] == blog.standfirst
    assert update.published_at == at("2017-03-24 07:45")
    assert entry_label(blog, update) == "UPDATE 0745 GMT"
    text = update.blocks[0]["markdown"]
    assert text.startswith("Anti-Assad forces have launched their assault")
    assert "UPDATE 0745 GMT" not in text
    assert "Pro-Assad Activist Calls for Use of Chemical Weapons" in text
    assert update.author.name == "Live desk" and update.author.password_hash is None


def test_without_a_date_the_labels_are_today(app, session):
    succeeded(run(app, "import", str(SEED), "--slug", "seed"))
    blog = blog_of(session, "seed")
    update = entries_of(session, "seed")[-1]
    assert entry_label(blog, update) == "UPDATE 0745 GMT"
    assert update.published_at is not None
    assert update.published_at.date() == datetime.now(UTC).date()


def test_each_label_begins_an_entry_in_the_labels_zone(app, session, tmp_path):
    article = tmp_path / "article.md"
    article.write_text(
        "Storm Eunice reaches London\n\nThe strongest storm in decades.\n\n"
        "UPDATE 0930 GMT: Trains are **cancelled**.\n\nMore later.\n\n"
        "UPDATE 1015 GMT:\n\nThe O2's roof is torn.\n\nhttps://x.com/someone/status/1234567890\n",
        encoding="utf-8",
    )
    succeeded(run(app, "import", str(article), "--date", "2022-02-18"))
    blog = blog_of(session, "storm-eunice-reaches-london")
    opening, trains, roof = entries_of(session, blog.slug)
    assert [entry_label(blog, e) for e in (trains, roof)] == ["UPDATE 0930 GMT", "UPDATE 1015 GMT"]
    assert trains.blocks == [
        {"type": "text", "markdown": "Trains are **cancelled**.\n\nMore later."}
    ]
    assert [block["type"] for block in roof.blocks] == ["text", "social"]
    assert opening.published_at == trains.published_at
    bst = tmp_path / "bst.txt"
    bst.write_text("Summer fete\n\nUPDATE 1400 BST: Cake.\n", encoding="utf-8")
    succeeded(run(app, "import", str(bst), "--date", "2022-07-01"))
    fete = blog_of(session, "summer-fete")
    (cake,) = entries_of(session, "summer-fete")
    assert fete.timezone == "Europe/London"
    assert cake.published_at == at("2022-07-01 13:00")
    assert entry_label(fete, cake) == "UPDATE 1400 BST"


def test_an_article_without_labels_is_refused(app, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("A title\n\nJust a story, with no updates.\n", encoding="utf-8")
    failed_cleanly(run(app, "import", str(plain)), "no paragraph that starts with a label")


# Formats


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b'{"format": "liveblog-export"', "json"),
        (b"\xef\xbb\xbf\n  {", "json"),
        (gzip.compress(b"x", mtime=0)[:10], "archive"),
        (b'<?xml version="1.0"?><rss xmlns:wp="http://wordpress.org/export/1.2/">', "wxr"),
        (b"Headline\n\nUPDATE 0745 GMT: Qomhana", "text"),
        ("Une mise à jour".encode()[:14], "text"),  # cut inside a character
    ],
)
def test_formats_are_told_by_their_first_bytes(head, kind):
    assert detect(head) == kind


def test_detected_formats_import(app, session, tmp_path):
    article = tmp_path / "article"
    shutil.copy(SEED, article)
    succeeded(run(app, "import", str(article), "--slug", "a", "--date", "2017-03-24"))
    wordpress = tmp_path / "export"
    shutil.copy(WXR, wordpress)
    succeeded(run(app, "import", str(wordpress)))
    assert len(entries_of(session, "battle-for-hama-live")) == 5
    succeeded(run(app, "export", "a", "-o", str(tmp_path / "a.data")))
    succeeded(run(app, "import", str(tmp_path / "a.data"), "--slug", "b"))
    succeeded(run(app, "export", "a", "-o", str(tmp_path / "a.bin"), "--with-media"))
    succeeded(run(app, "import", str(tmp_path / "a.bin"), "--slug", "c"))
    assert [len(entries_of(session, slug)) for slug in "abc"] == [2, 2, 2]
    assert session.scalars(select(User).where(User.name == "Live desk")).one()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x00\x01\x02\xff\xfe binary", "neither a Liveblog export, nor a WordPress export"),
        (b'<?xml version="1.0"?><html><body>hi</body></html>', "XML but not a WordPress export"),
        (b'{"title": "Some other JSON"}', "JSON but not a Liveblog export"),
        (b"[1, 2, 3]", "JSON but not a Liveblog export"),
        (b'{"format": "liveblog-export", "version": 1, "blog": {"slug": "x", ', "not valid JSON"),
        (gzip.compress(b"not a tar at all" * 100, mtime=0), "The archive is damaged or incomplete"),
        (b"\x1f\x8b\x08\x00garbage", "The archive is damaged or incomplete"),
        (b'<?xml version="1.0"?><rss xmlns:wp="http://wordpress.org/export/1.2/"><channel>', "not well-formed XML"),
        (b'<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel></channel></rss>', "no post with Liveblog entries"),
    ],
)  # fmt: skip
def test_a_damaged_or_foreign_file_is_told_what_is_wrong(app, tmp_path, content, message):
    path = tmp_path / "file"
    path.write_bytes(content)
    output = failed_cleanly(run(app, "import", str(path)), message)
    assert output.startswith("Error: Nothing was imported.")


def test_a_format_given_is_used(app, tmp_path):
    failed_cleanly(run(app, "import", str(SEED), "--format", "json"), "not valid JSON")
    failed_cleanly(run(app, "import", str(SEED), "--format", "wxr"), "not well-formed XML")
    failed_cleanly(run(app, "import", str(WXR), "--format", "text"), "no paragraph that starts")


def test_an_archive_without_a_document(app, tmp_path):
    archive = tmp_path / "media.tar.gz"
    with tarfile.open(archive, "w:gz") as out:
        out.add(SEED, arcname="notes.txt")
    failed_cleanly(run(app, "import", str(archive)), "has no export.json")


def test_a_date_must_be_one(app, session):
    result = run(app, "import", str(SEED), "--date", "24/03/2017")
    assert result.exit_code == 2 and "does not match the format '%Y-%m-%d'" in result.output
    succeeded(run(app, "import", str(SEED), "--slug", "seed", "--date", "2016-02-29"))
    update = entries_of(session, "seed")[-1]
    assert update.published_at is not None
    assert update.published_at.date() == date(2016, 2, 29)


def test_an_article_reads_the_labels_the_composer_reads():
    text = (
        "Storm\n\nUpdate 07:45 BST — Trains cancelled.\n\nMISE À JOUR 09h30 CET : Toits arrachés.\n"
    )
    parts = list(read_article(text, date(2026, 7, 1)))
    blog = next(value for kind, value in parts if kind == "blog")
    entries = [value for kind, value in parts if kind == "entry"]
    assert (blog["timezone"], blog["label_format"]) == ("Europe/London", "Update %H%M %Z")
    assert [(e["published_at"], e["blocks"][0]["markdown"]) for e in entries] == [
        ("2026-07-01T07:45:00+01:00", "Trains cancelled."),
        ("2026-07-01T09:30:00+02:00", "Toits arrachés."),
    ]
