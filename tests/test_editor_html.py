"""The editor's pages are valid HTML according to the Nu HTML checker."""

import pytest

from tests.editor_helpers import EditorClient
from tests.support import check
from tests.support import needs_vnu

pytestmark = needs_vnu


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_editor_pages_have_no_html_errors(client, api, admin, tmp_path):
    editor = EditorClient(client)
    pages = {"login.html": client.get("/editor/login")}
    editor.log_in(admin.email)
    api.post_entry(body="Rebels advance.")
    pages["dashboard.html"] = client.get("/editor/")
    pages["compose.html"] = client.get("/editor/blogs/hama/")
    pages["users.html"] = client.get("/editor/admin/users")
    pages["invalid.html"] = editor.post("/editor/blogs", {"title": "x", "slug": "Bad Slug"})
    files = []
    for name, response in pages.items():
        assert response.mimetype == "text/html", name
        path = tmp_path / name
        path.write_bytes(response.data)
        files.append(path)
    assert check(files) == []
