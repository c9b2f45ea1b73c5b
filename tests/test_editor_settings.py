"""A blog's clock in the blog form: label format presets, their example, the time zone list."""

import re
import zoneinfo

import pytest

from liveblog.web.editor import LABEL_PRESETS
from tests.editor_helpers import EditorClient
from tests.factories import assert_problem
from tests.support import soup


@pytest.fixture
def as_admin(client, admin):
    editor_client = EditorClient(client)
    editor_client.log_in(admin.email)
    return editor_client


def test_the_blog_form_offers_presets_and_every_time_zone(as_admin):
    page = soup(as_admin.client.get("/editor/"))
    options = page.select("#label_preset option")
    assert [(o["value"], o.text) for o in options] == [*LABEL_PRESETS, ("custom", "Custom…")]
    assert options[0].has_attr("selected")
    assert page.select_one("#label-custom").has_attr("hidden")
    assert page.select_one("#label_format")["value"] == "UPDATE %H%M %Z"
    zones = [option["value"] for option in page.select("datalist#zones option")]
    assert zones == sorted(zoneinfo.available_timezones()) and "Asia/Beirut" in zones
    assert page.select_one("#timezone")["list"] == "zones"


def test_a_custom_format_that_was_refused_comes_back_as_custom(as_admin):
    form = {"title": "Hama", "timezone": "Europe/Londres", "label_format": "%H%M %Q"}
    page = soup(as_admin.post("/editor/blogs", form))
    custom = [o["value"] for o in page.select("#label_preset option[selected]")]
    assert custom == ["custom"] and not page.select_one("#label-custom").has_attr("hidden")
    assert page.select_one("#label_format")["value"] == "%H%M %Q"
    assert "may only use the directives" in page.select_one("#label_format-error").text
    assert "IANA" in page.select_one("#timezone-error").text
    assert page.select_one("#timezone")["value"] == "Europe/Londres"


@pytest.mark.parametrize(
    ("query", "pattern"),
    [
        ({}, r"UPDATE \d{4} GMT"),
        ({"label_format": "%H:%M %Z", "timezone": "Asia/Tokyo"}, r"\d\d:\d\d JST"),
        ({"label_format": "%e %b, %H%M", "timezone": "America/New_York"}, r"\d{1,2} \w{3}, \d{4}"),
        ({"language": "fr"}, r"MISE À JOUR \d\dh\d\d UTC"),
        ({"language": "ar-SY", "timezone": "Europe/London"}, r"تحديث \d{4} بتوقيت \S+"),
        ({"label_format": "%a %H%M", "language": "fr"}, r"\w+\. \d{4}"),
    ],
)
def test_the_label_example_reads_as_a_label_posted_now(as_admin, query, pattern):
    response = as_admin.client.get("/editor/label-example", query_string=query)
    assert response.status_code == 200
    assert re.fullmatch(pattern, response.get_json()["label"])


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"label_format": "%H%M %Q"}, "may only use the directives"),
        ({"label_format": "  "}, "Choose a label format"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'; use an IANA name"),
        ({"timezone": "../etc/passwd"}, "Unknown time zone"),
    ],
)
def test_a_bad_format_or_zone_gets_a_problem_that_says_what_to_fix(as_admin, query, words):
    response = as_admin.client.get("/editor/label-example", query_string=query)
    assert words in assert_problem(response, 400)["detail"]
