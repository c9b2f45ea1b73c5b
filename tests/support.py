"""What test modules share besides fixtures and builders: backends, HTML, sample posts, the
browser, Pushpin, the HTML checker, and waiting for something to happen.

Test modules import from here, never from each other (nor from conftest.py).
"""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from bs4 import BeautifulSoup
from werkzeug.test import TestResponse

ROOT = Path(__file__).parent.parent
"""The repository: the checkout under test."""

# Backends

POSTGRES_URL = os.environ.get("LIVEBLOG_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LIVEBLOG_TEST_REDIS_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="set LIVEBLOG_TEST_DATABASE_URL to run against PostgreSQL"
        ),
    ),
]
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="set LIVEBLOG_TEST_REDIS_URL to fan out through Redis"
)

# HTML


def soup(page: TestResponse | str | bytes) -> BeautifulSoup:
    """A response's body (or some HTML) parsed, for CSS selectors."""
    if isinstance(page, TestResponse):
        page = page.get_data(as_text=True)
    elif isinstance(page, bytes):
        page = page.decode("utf-8")
    return BeautifulSoup(page, "html.parser")


# Sample posts

TWEET = "https://x.com/someone/status/1234567890"
TWEET_ANSWER = {
    "type": "rich",
    "version": "1.0",
    "url": TWEET,
    "author_name": "Some One",
    "author_url": "https://twitter.com/someone",
    "provider_name": "Twitter",
    "html": (
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Rebels have entered '
        'Qomhana<br>&amp; are moving south <a href="https://t.co/abc">pic.twitter.com/abc</a>'
        "</p>&mdash; Some One (@someone) "
        '<a href="https://twitter.com/someone/status/1234567890?ref_src=twsrc%5Etfw">'
        "March 24, 2017</a></blockquote>\n"
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    ),
}
"""What X's oEmbed endpoint answers for TWEET."""

# The browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
AXE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core, which the editor's browser tests inject to check accessibility."""
needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="needs Debian's chromium: run 'make test-tools' (make test does it)",
)

# Pushpin

needs_pushpin = pytest.mark.skipif(
    not all(shutil.which(program) for program in ("pushpin", "zurl", "condure")),
    reason="needs Debian's pushpin, zurl and condure: run 'make test-tools' (make test does it)",
)

# The Nu HTML checker

VNU_JAR = Path(
    os.environ.get("LIVEBLOG_VNU_JAR", ROOT / ".tools/node_modules/vnu-jar/build/dist/vnu.jar")
)
needs_vnu = pytest.mark.skipif(
    not VNU_JAR.is_file() or shutil.which("java") is None,
    reason="needs Java and vnu.jar: run 'make test-tools' (make test does it)",
)


def check(files: list[Path]) -> list[str]:
    """The checker's errors for ``files``, as 'file:line: message' strings."""
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--format", "json", "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}" for m in messages]


# Waiting

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float = 5.0,
    message: str | Callable[[], str] = "the condition never held",
    interval: float = 0.01,
) -> T:
    """Call ``condition`` every ``interval`` seconds until it returns something true; return it.

    After ``timeout`` seconds, fail with ``message`` (a callable is called then, for what is
    known only at that moment) and the last value ``condition`` returned.
    """
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"{said} (in {timeout} s; last seen: {value!r})")
        time.sleep(interval)
    return value
