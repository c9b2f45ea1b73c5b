"""The editor's static files: one digest over the whole folder names every URL.

ES modules import each other by URLs relative to their own, so an imported module is only
fetched afresh when the URL of the page's script changes too: any change to any file must
move them all, and each module must be served as JavaScript, cached for a year.
"""

import re
import shutil
from urllib.parse import urljoin

import pytest

from liveblog.web import editor
from liveblog.web.conditional import ONE_YEAR
from tests.support import soup

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FILES = sorted(
    p.relative_to(editor.STATIC).as_posix() for p in editor.STATIC.rglob("*") if p.is_file()
)
MODULES = {name for name in FILES if name.endswith(".js")}
IMPORT = re.compile(r'^import .* from "(\./[^"]+)";$', re.MULTILINE)


def asset_urls(app, monkeypatch, folder):
    """Every editor file's URL, with the editor's static files taken from ``folder``."""
    monkeypatch.setattr(editor, "STATIC", folder)
    with app.test_request_context():
        return {name: editor.static_url(name) for name in FILES}


@pytest.mark.parametrize("changed", FILES)
def test_a_change_to_any_editor_file_moves_every_editor_url(app, monkeypatch, tmp_path, changed):
    before = shutil.copytree(editor.STATIC, tmp_path / "before")
    after = shutil.copytree(editor.STATIC, tmp_path / "after")
    with open(after / changed, "ab") as file:
        file.write(b"\n")
    old = asset_urls(app, monkeypatch, before)
    new = asset_urls(app, monkeypatch, after)
    assert [name for name in FILES if old[name] == new[name]] == []


def test_a_renamed_or_added_editor_file_moves_every_editor_url(app, monkeypatch, tmp_path):
    original = asset_urls(app, monkeypatch, shutil.copytree(editor.STATIC, tmp_path / "a"))
    renamed = shutil.copytree(editor.STATIC, tmp_path / "b")
    (renamed / FILES[0]).rename(renamed / ("renamed-" + FILES[0]))
    added = shutil.copytree(editor.STATIC, tmp_path / "c")
    (added / "extra.js").write_text("export const extra = 1;\n")
    for folder in (renamed, added):
        urls = asset_urls(app, monkeypatch, folder)
        assert [name for name in FILES if urls[name] == original[name]] == []


def test_the_page_and_every_module_it_imports_share_one_digest(client):
    page = soup(client.get("/editor/login"))
    script = page.select_one("script[src]")["src"]
    assert script.endswith("/editor.js")
    others = [link["href"] for link in page.select("link[href^='/editor/static/']")]
    assert {url.rsplit("/", 2)[1] for url in others + [script]} == {script.rsplit("/", 2)[1]}

    fetched, waiting = set(), [script]
    while waiting:  # the imports from the entry point, resolved as a browser resolves them
        url = waiting.pop()
        if url in fetched:
            continue
        fetched.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "text/javascript", url
        assert response.headers["Cache-Control"] == f"public, max-age={ONE_YEAR}, immutable"
        assert response.headers["Vary"] == "Accept-Encoding", "the same for everyone: shareable"
        waiting += [urljoin(url, name) for name in IMPORT.findall(response.get_data(as_text=True))]
        response.close()
    assert {url.rsplit("/", 2)[1] for url in fetched} == {script.rsplit("/", 2)[1]}
    assert {url.rsplit("/", 1)[1] for url in fetched} == MODULES  # every module, none missing
    preloaded = {link["href"] for link in page.select("link[rel=modulepreload]")}
    assert preloaded == fetched - {script}  # fetched side by side, not one import at a time
