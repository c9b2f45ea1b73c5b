"""A built wheel is the whole product: installed into a fresh virtualenv, away from this
checkout, it migrates, loads the demo and serves it with its themes and Leaflet."""

import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

from tests.servers import Server
from tests.servers import running
from tests.support import soup

REPO = Path(__file__).resolve().parent.parent
DEMO = "/syria-hama-offensive/"


def run(*command, **options):
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=300, **options
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get_content_type(), response.read()


def test_a_wheel_installed_elsewhere_serves_the_demo(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp_path, REPO)
    (wheel,) = tmp_path.glob("liveblog-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {
        "liveblog/bundled_themes/default/templates/blog.html",
        "liveblog/bundled_themes/ticker/theme.toml",
        "liveblog/migrations/env.py",
        "liveblog/static/editor/editor.js",
        "liveblog/demo/syria.json",
    } <= names
    assert not [name for name in names if name.startswith(("tests/", "themes/"))]

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "pip", "install", "--quiet", wheel)
    installed = run(
        venv / "bin" / "python",
        "-c",
        "import liveblog.themes; print(liveblog.themes.THEMES_DIR)",
        cwd=tmp_path,  # where this checkout is not importable
    )
    assert Path(installed.strip()).is_relative_to(venv)

    server = Server(f"sqlite:///{tmp_path / 'demo.sqlite'}", tmp_path, workers=1)
    server.command = venv / "bin" / "liveblog"
    run(server.command, "db", "upgrade", env=server.env(), cwd=tmp_path)
    assert "Loaded the demo blog" in run(server.command, "demo", env=server.env(), cwd=tmp_path)
    with running(server):
        status, kind, body = fetch(server.origin + DEMO)
        assert (status, kind) == (200, "text/html")
        page = soup(body)
        assert page.h1.get_text(strip=True).startswith("Syria’s rebels continue advance in Hama")
        map_script = page.find("script", attrs={"data-leaflet": True})
        assets = {
            page.find("link", rel="stylesheet")["href"]: "text/css",
            map_script["data-leaflet"]: "text/javascript",
            map_script["data-leaflet-css"]: "text/css",
        }
        for path, expected in assets.items():
            status, kind, body = fetch(server.origin + path)
            assert (status, kind, bool(body)) == (200, expected, True), path
