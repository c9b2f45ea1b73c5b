"""HTML errors: every status a person can meet is the theme's error.html, found by the
same chain as every other template (the deployment's overrides first)."""

import pytest
from werkzeug.exceptions import InternalServerError

from liveblog.errors import TooManyAttempts
from tests.support import soup


def add_failing_routes(app):
    """Routes that fail the ways no reader URL does on purpose (a 429, a crash)."""

    def too_many():
        raise TooManyAttempts("Wait a minute before trying again.")

    def crash():
        raise RuntimeError("a bug")

    def werkzeug_500():
        raise InternalServerError()

    app.add_url_rule("/test/too-many", view_func=too_many)
    app.add_url_rule("/test/crash", view_func=crash)
    app.add_url_rule("/test/werkzeug-500", view_func=werkzeug_500)


def page(response):
    assert response.mimetype == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    return soup(response)


@pytest.mark.parametrize(
    ("path", "status", "heading", "says"),
    [
        ("/no-such-blog/", 404, "Not found", "There is no live blog 'no-such-blog'."),
        ("/favicon.ico", 404, "Not Found", "The requested URL was not found"),
        ("/test/too-many", 429, "Too many attempts", "Wait a minute before trying again."),
        ("/test/crash", 500, "Internal Server Error", "Something went wrong on our side"),
        ("/test/werkzeug-500", 500, "Internal Server Error", "The server encountered"),
    ],
)
def test_errors_are_the_themes_error_page(app, path, status, heading, says):
    add_failing_routes(app)
    response = app.test_client().get(path)
    assert response.status_code == status
    shown = page(response)
    assert shown.h1.get_text(strip=True) == heading
    assert says in shown.main.get_text(" ", strip=True)
    assert shown.find("link", rel="stylesheet")["href"].startswith("/assets/default/")
    assert shown.find("meta", attrs={"name": "robots"})["content"] == "noindex"


def test_a_body_too_large_for_a_page_is_the_error_page(app):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = app.test_client().post("/editor/login", data={"email": "x" * 500})
    assert response.status_code == 413
    assert "larger than the 100 bytes" in page(response).main.get_text()


def test_a_removed_update_is_the_error_page_with_its_own_words(api):
    entry = api.post("/api/v1/blogs/hama/entries", json={"body": "Soon gone."}).get_json()
    api.delete(f"/api/v1/blogs/hama/entries/{entry['id']}", headers={"If-Match": '"1"'})
    response = api.client.get(f"/hama/updates/{entry['id']}")
    assert response.status_code == 410
    shown = page(response)
    assert shown.h1.get_text(strip=True) == "This update has been removed"
    assert shown.main.a["href"] == "/hama/"
    assert shown.find("meta", attrs={"name": "robots"})["content"] == "noindex"


def test_the_deployments_own_error_page_wins(make_app, tmp_path):
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "error.html").write_text(
        '{% extends "default:error.html" %}'
        "{% block heading %}Newsroom says: {{ title }} ({{ status }}){% endblock %}"
    )
    app = make_app(THEMES_PATH=str(overrides))
    shown = page(app.test_client().get("/no-such-blog/"))
    assert shown.h1.get_text(strip=True) == "Newsroom says: Not found (404)"


def test_a_broken_error_page_still_answers_with_the_error(make_app, tmp_path):
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "error.html").write_text("{{ no_such_function() }}")
    app = make_app(THEMES_PATH=str(overrides))
    response = app.test_client().get("/no-such-blog/")
    assert (response.status_code, response.mimetype) == (404, "text/plain")
    assert "There is no live blog 'no-such-blog'." in response.get_data(as_text=True)


def test_programs_still_get_problem_json(app):
    response = app.test_client().get("/api/v1/no-such-route")
    assert (response.status_code, response.mimetype) == (404, "application/problem+json")
