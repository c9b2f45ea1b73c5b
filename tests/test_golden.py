"""The demo blog's feeds and live page, byte for byte as reviewed, in tests/golden/.

The demo is loaded by the real ``liveblog demo``. Every moment its data does not give (when
the blog and its entries were stored, which is "now" while loading) is set to a fixed one
first, so the files hold on any day and on every backend. After an intended change,
``make golden`` rewrites them: review their diff like code.
"""

import difflib
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from werkzeug.test import TestResponse

from liveblog import db
from liveblog.models import Blog
from liveblog.models import Entry

GOLDEN = Path(__file__).parent / "golden"
DEMO = "/syria-hama-offensive"
FILES = {
    "demo.atom": f"{DEMO}/feed.atom",
    "demo.rss": f"{DEMO}/feed.rss",
    "demo.json": f"{DEMO}/feed.json",
    "demo-live.html": f"{DEMO}/",
}
STARTED = datetime(2017, 3, 24, 5, 45, tzinfo=UTC)
"""When the demo blog was created and went live, as far as these files know."""


@pytest.fixture
def fixed_demo(demo_app: Flask) -> Flask:
    """The demo app, its blog and entries stored at fixed moments rather than at "now".

    Each entry was stored when it was published; the blog changed last with its last entry.
    """
    with db.database(demo_app).sessions() as session, session.begin():
        session.execute(
            update(Entry).values(created_at=Entry.published_at, updated_at=Entry.published_at)
        )
        last = session.scalar(select(func.max(Entry.published_at)))
        session.execute(
            update(Blog).values(
                created_at=STARTED, updated_at=STARTED, started_at=STARTED, changed_at=last
            )
        )
    return demo_app


def mismatch(name: str, expected: bytes, response: TestResponse) -> str:
    """How the response differs from the golden file, as a unified diff."""
    diff = difflib.unified_diff(
        expected.decode().splitlines(keepends=True),
        response.get_data(as_text=True).splitlines(keepends=True),
        f"tests/golden/{name}",
        f"GET {FILES[name]}",
    )
    return f"not as reviewed (after an intended change, make golden rewrites it):\n{''.join(diff)}"


@pytest.mark.parametrize("name", FILES)
def test_the_demo_renders_as_its_golden_file(fixed_demo, update_golden, name):
    response = fixed_demo.test_client().get(FILES[name])
    assert response.status_code == 200
    path = GOLDEN / name
    if update_golden:
        path.write_bytes(response.data)
    expected = path.read_bytes()
    assert response.data == expected, mismatch(name, expected, response)
