"""Entry labels such as ``UPDATE 0745 GMT``, in the blog's own time zone and format."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from liveblog.blogs import read_blog
from liveblog.errors import ValidationError
from liveblog.labels import DEFAULT_FORMAT
from liveblog.labels import format_label
from liveblog.labels import format_problem
from liveblog.labels import zone
from liveblog.themes import Themes

MORNING = datetime(2017, 3, 24, 7, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "timezone_name", "expected"),
    [
        pytest.param(MORNING, "UTC", "UPDATE 0745 GMT", id="utc-blog"),
        pytest.param(MORNING, "Etc/UTC", "UPDATE 0745 GMT", id="etc-utc"),
        pytest.param(datetime(2017, 3, 24, 6, 0, tzinfo=UTC), "UTC", "UPDATE 0600 GMT", id="0600"),
        pytest.param(
            datetime(2017, 7, 1, 7, 45, tzinfo=UTC),
            "Europe/London",
            "UPDATE 0845 BST",
            id="london-summer",
        ),
        pytest.param(
            datetime(2017, 1, 10, 7, 45, tzinfo=UTC),
            "Europe/London",
            "UPDATE 0745 GMT",
            id="london-winter",
        ),
        # The clocks went forward at 01:00 UTC on 26 March 2017.
        pytest.param(
            datetime(2017, 3, 26, 0, 59, tzinfo=UTC),
            "Europe/London",
            "UPDATE 0059 GMT",
            id="before-change",
        ),
        pytest.param(
            datetime(2017, 3, 26, 1, 0, tzinfo=UTC),
            "Europe/London",
            "UPDATE 0200 BST",
            id="after-change",
        ),
        pytest.param(MORNING, "America/New_York", "UPDATE 0345 EDT", id="new-york"),
        pytest.param(MORNING, "Asia/Dubai", "UPDATE 1145 +04", id="no-abbreviation"),
        pytest.param(
            datetime(2017, 3, 24, 23, 30, tzinfo=UTC),
            "Asia/Kolkata",
            "UPDATE 0500 IST",
            id="half-hour-zone",
        ),
    ],
)
def test_default_label(moment, timezone_name, expected):
    assert format_label(moment, timezone_name) == expected


def test_label_uses_the_moment_not_the_offset_it_was_given_in():
    damascus_time = datetime(2017, 3, 24, 9, 45, tzinfo=timezone(timedelta(hours=2)))
    assert format_label(damascus_time, "UTC") == "UPDATE 0745 GMT"


@pytest.mark.parametrize(
    ("label_format", "expected"),
    [
        ("%H:%M %Z", "07:45 GMT"),
        ("%I.%M%p", "07.45AM"),
        ("%a %e %b, %H%M", "Fri 24 Mar, 0745"),
        ("%A %d/%m/%Y", "Friday 24/03/2017"),
        ("%B %y", "March 17"),
        ("Update, 100%% live", "Update, 100% live"),
        ("No time at all", "No time at all"),
    ],
)
def test_custom_formats(label_format, expected):
    assert format_problem(label_format) is None
    assert format_label(MORNING, "UTC", label_format) == expected


def test_day_without_leading_zero():
    early_month = datetime(2017, 4, 3, 7, 45, tzinfo=UTC)
    assert format_label(early_month, "Europe/London", "%e %B, %H:%M %Z") == "3 April, 08:45 BST"


@pytest.mark.parametrize(
    "label_format",
    ["%s", "%c", "%x", "%j", "%-d", "%H%M%Q", "UPDATE %", "%n%t", "%%%"],
)
def test_invalid_formats_are_rejected(label_format):
    problem = format_problem(label_format)
    assert problem is not None
    assert problem.startswith("may only use the directives %H %M")


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",
        "",
        "utc",
        "../../etc/passwd",
        "/usr/share/zoneinfo/UTC",
        "Europe/../UTC",
        " Europe/London",
        "Europe/London\x00",
        "GMT+25",
    ],
)
def test_unknown_time_zones_are_rejected(name):
    with pytest.raises(ValueError, match="unknown time zone"):
        zone(name)
    with pytest.raises(ValueError):
        format_label(MORNING, name)


def test_known_zone():
    assert str(zone("Europe/London")) == "Europe/London"


@pytest.fixture(scope="module")
def themes():
    return Themes()


def test_blog_settings_reject_bad_zones_and_formats(themes):
    with pytest.raises(ValidationError) as caught:
        read_blog({"timezone": "Middle/Earth", "label_format": "UPDATE %s"}, themes, creating=False)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        (
            "timezone",
            "unknown time zone 'Middle/Earth'; use an IANA name such as Europe/London",
        ),
        (
            "label_format",
            "may only use the directives %H %M %I %p %d %m %y %Y %b %B %a %A %e %Z %%",
        ),
    ]


def test_blog_settings_accept_good_zones_and_formats(themes):
    values = read_blog(
        {"timezone": "Asia/Damascus", "label_format": "%H:%M %Z"}, themes, creating=False
    )
    assert values == {"timezone": "Asia/Damascus", "label_format": "%H:%M %Z"}
    assert DEFAULT_FORMAT == "UPDATE %H%M %Z"
