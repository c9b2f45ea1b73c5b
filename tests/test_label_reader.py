"""Labels typed or pasted at the start of an update, read back into their time. No app."""

from datetime import UTC
from datetime import datetime

import pytest

from liveblog.label_reader import describe
from liveblog.label_reader import find_label
from liveblog.label_reader import read_label
from liveblog.label_reader import split_updates
from tests.support import ROOT

NOON = datetime(2026, 12, 1, 13, 1, tzinfo=UTC)
SEED = ROOT / "tests" / "data" / "seed-article.txt"  # the reference article


@pytest.mark.parametrize(
    ("text", "written", "moment"),
    [
        ("UPDATE 0745 GMT: Anti-Assad forces…", "UPDATE 0745 GMT:", "2026-12-01T07:45+00:00"),
        ("UPDATE 0745: Rebels advance", "UPDATE 0745:", "2026-12-01T07:45+00:00"),
        ("0745 GMT — Rebels advance", "0745 GMT —", "2026-12-01T07:45+00:00"),
        ("Update 07:45 BST: Rebels advance", "Update 07:45 BST:", "2026-12-01T06:45+00:00"),
        ("07:45 — Rebels advance", "07:45 —", "2026-12-01T07:45+00:00"),
        ("update 7:45am - Rebels advance", "update 7:45am -", "2026-12-01T07:45+00:00"),
        ("UPDATE 7.45pm: Rebels advance", "UPDATE 7.45pm:", "2026-11-30T19:45+00:00"),
        ("UPDATE 1200 EST: Rebels advance", "UPDATE 1200 EST:", "2026-11-30T17:00+00:00"),
        ("  UPDATE 0745 CET:\nRebels advance", "UPDATE 0745 CET:", "2026-12-01T06:45+00:00"),
        (
            "MISE À JOUR 07h45 GMT : Les rebelles",
            "MISE À JOUR 07h45 GMT :",
            "2026-12-01T07:45+00:00",
        ),
        (
            "Mise à jour 7 h 45\u00a0: Les rebelles",
            "Mise à jour 7 h 45\u00a0:",
            "2026-12-01T07:45+00:00",
        ),
        (
            "MAJ 08h15 heure de Paris : Les rebelles",
            "MAJ 08h15 heure de Paris :",
            "2026-12-01T07:15+00:00",
        ),
        ("تحديث 0745 بتوقيت غرينتش: تقدم", "تحديث 0745 بتوقيت غرينتش:", "2026-12-01T07:45+00:00"),
        ("تحديث ٠٧:٤٥ بتوقيت دمشق: تقدم", "تحديث ٠٧:٤٥ بتوقيت دمشق:", "2026-12-01T04:45+00:00"),
        ("عاجل 0930 ت.غ - تقدم", "عاجل 0930 ت.غ -", "2026-12-01T09:30+00:00"),
    ],
)
def test_labels_newsrooms_write(text, written, moment):
    label = read_label(text, "UTC", NOON)
    assert label is not None
    assert label.written == written
    assert label.published_at == datetime.fromisoformat(moment)
    assert label.note is None
    assert not label.text.startswith((":", "—", " "))


def test_the_seed_article_starts_an_update_at_0745():
    line = next(line for line in SEED.read_text().splitlines() if line.startswith("UPDATE"))
    label = read_label(line, "UTC", NOON)
    assert label.written == "UPDATE 0745 GMT:"
    assert label.text.startswith("Anti-Assad forces have launched their assault")
    assert describe(label, "UTC", NOON) == "UPDATE 0745 GMT, today 1 December"


@pytest.mark.parametrize(
    "text",
    [
        "Rebels advance on Qomhana.",
        "1945 — the year the war ended",  # a bare number with a dash is a year, not a time
        "2017 was the year",
        "UPDATE 0745 anti-war marches: crowds",
        "UPDATE 2561 GMT: no such time",
        "UPDATE 19:45 pm: no such time",
        "UPDATE 0745 GMT:",  # nothing after the label
        "The UPDATE 0745 GMT: not at the start",
    ],
)
def test_text_that_is_no_label(text):
    assert read_label(text, "UTC", NOON) is None


def test_the_blogs_own_format_is_read():
    label = read_label(
        "Dernière heure 07h45 : Les rebelles", "Europe/Paris", NOON, "Dernière heure %Hh%M"
    )
    assert label is not None
    assert label.published_at == datetime(2026, 12, 1, 6, 45, tzinfo=UTC)
    assert find_label("UPDATE 0745 GMT: x", "No time at all") is not None  # the table still reads


@pytest.mark.parametrize(
    ("text", "timezone", "now", "moment"),
    [
        # 2345 pasted ten minutes after midnight is yesterday's.
        ("UPDATE 2345: x", "UTC", "2026-12-01T00:10+00:00", "2026-11-30T23:45+00:00"),
        ("UPDATE 0005: x", "UTC", "2026-12-01T00:10+00:00", "2026-12-01T00:05+00:00"),
        # This minute is now, and a clock a little slow is forgiven.
        ("UPDATE 0010: x", "UTC", "2026-12-01T00:10:30+00:00", "2026-12-01T00:10+00:00"),
        ("UPDATE 0011: x", "UTC", "2026-12-01T00:10:30+00:00", "2026-12-01T00:11+00:00"),
        ("UPDATE 0013: x", "UTC", "2026-12-01T00:10:30+00:00", "2026-11-30T00:13+00:00"),
        # The blog's clock decides the day: 2330 in New York is 0430 UTC the next day.
        ("UPDATE 2330: x", "America/New_York", "2026-12-01T05:00+00:00", "2026-12-01T04:30+00:00"),
        # A zone the label names wins over the blog's.
        (
            "UPDATE 2330 GMT: x",
            "America/New_York",
            "2026-12-01T05:00+00:00",
            "2026-11-30T23:30+00:00",
        ),
        # London, clocks back on 25 October 2026 (01:00 UTC): 0130 happened twice.
        ("UPDATE 0130: x", "Europe/London", "2026-10-25T00:40+00:00", "2026-10-25T00:30+00:00"),
        ("UPDATE 0130: x", "Europe/London", "2026-10-25T01:45+00:00", "2026-10-25T01:30+00:00"),
        ("UPDATE 0130 BST: x", "Europe/London", "2026-10-25T01:45+00:00", "2026-10-25T00:30+00:00"),
        ("UPDATE 0130 GMT: x", "Europe/London", "2026-10-25T01:45+00:00", "2026-10-25T01:30+00:00"),
        # London in summer: GMT in a label is an hour behind the blog's clock.
        ("UPDATE 0745 GMT: x", "Europe/London", "2026-07-01T12:00+00:00", "2026-07-01T07:45+00:00"),
        ("UPDATE 0745: x", "Europe/London", "2026-07-01T12:00+00:00", "2026-07-01T06:45+00:00"),
    ],
)
def test_the_most_recent_moment_not_in_the_future(text, timezone, now, moment):
    label = read_label(text, timezone, datetime.fromisoformat(now))
    assert label.published_at == datetime.fromisoformat(moment)


def test_a_time_the_clocks_skipped_is_read_after_the_gap():
    # London, clocks forward on 29 March 2026 at 01:00 UTC: 0130 never happened.
    label = read_label("UPDATE 0130: x", "Europe/London", datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    assert label.published_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (
        label.note
        == "01:30 did not exist on 29 March (the clocks went forward), so it was read as 02:30 BST."
    )


def test_an_ambiguous_zone_is_read_on_the_blogs_clock_with_a_note():
    label = read_label("UPDATE 0745 IST: x", "Europe/Dublin", NOON)
    assert label.published_at == datetime(2026, 12, 1, 7, 45, tzinfo=UTC)
    assert (
        label.note
        == "IST could name several time zones: the time was read on the blog's clock (Europe/Dublin)."
    )
    indian = read_label("UPDATE 0745 IST: x", "Asia/Kolkata", NOON)
    assert indian.published_at == datetime(2026, 12, 1, 2, 15, tzinfo=UTC) and indian.note is None


def test_several_labelled_paragraphs_are_several_updates_oldest_first():
    pasted = (
        "UPDATE 1130 GMT: Regime airstrikes on Ariha.\n\nPro-opposition Orient News reports.\n\n"
        "UPDATE 0745 GMT:\n\nAnti-Assad forces have launched their assault.\n\n"
        "0600 GMT — Overnight, heavy fighting near Kawkab."
    )
    updates = split_updates(pasted, "UTC", NOON)
    assert [(u.written, u.published_at.hour, u.text) for u in updates] == [
        ("0600 GMT —", 6, "Overnight, heavy fighting near Kawkab."),
        ("UPDATE 0745 GMT:", 7, "Anti-Assad forces have launched their assault."),
        (
            "UPDATE 1130 GMT:",
            11,
            "Regime airstrikes on Ariha.\n\nPro-opposition Orient News reports.",
        ),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "UPDATE 0745 GMT: one update\n\nwith two paragraphs",
        "An opening paragraph.\n\nUPDATE 0745 GMT: x\n\nUPDATE 0800 GMT: y",
        "",
    ],
)
def test_one_update_is_not_split(text):
    assert split_updates(text, "UTC", NOON) == []


def test_describe_names_yesterday():
    now = datetime(2026, 12, 1, 0, 10, tzinfo=UTC)
    label = read_label("UPDATE 2345 GMT: x", "Europe/London", now)
    assert describe(label, "Europe/London", now) == "UPDATE 2345 GMT, yesterday 30 November"
