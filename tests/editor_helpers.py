"""Helpers for the editor's tests: a logged-in test client and a browser that logs in."""

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support import AXE

PASSWORD = "correct horse battery"


def csrf_of(response: TestResponse) -> str:
    """The CSRF token in a page's forms (and in its csrf-token meta)."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


class EditorClient:
    """A test client that has logged in through the form, and knows its CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def log_in(self, email: str, password: str = PASSWORD, **kwargs: Any) -> TestResponse:
        self.csrf = csrf_of(self.client.get("/editor/login", follow_redirects=True))
        data = {"email": email, "password": password, "csrf_token": self.csrf}
        response = self.client.post("/editor/login", data=data, **kwargs)
        if response.status_code == 303:
            self.csrf = csrf_of(self.client.get("/editor/"))
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        """A form POST with the CSRF token."""
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def api(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        """An API call with the session cookie and the CSRF header, as editor.js makes it."""
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)


def log_in_browser(page: Any, origin: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{origin}/editor/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/editor/")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page; the CSP forbids inline scripts, so the driver runs it."""
    page.evaluate(AXE.read_text() + "\n;0")  # evaluated by the driver, not by the page
    result = page.evaluate("axe.run(document).then(r => r.violations)")
    return [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"]]} for v in result]
