"""Import boundaries: only the wiring modules know Flask, and themes do without Pillow."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import liveblog
from tests.support import ROOT

PACKAGE = Path(liveblog.__file__).parent
WIRING = {"__init__.py", "app.py", "db.py", "cli.py"}
"""The modules at the top of the package that may import Flask, besides all of web/."""


def core_modules() -> list[Path]:
    """Every module of the package, at any depth, but the wiring ones and web/."""
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "web"
        and str(path.relative_to(PACKAGE)) not in WIRING
    )


def flask_imports(path: Path, root: Path) -> list[str]:
    """Each import of flask (or of a flask submodule) in ``path``, as 'file:line module'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        found += [
            f"{path.relative_to(root)}:{node.lineno} {name}"
            for name in names
            if name.split(".")[0] == "flask"
        ]
    return found


def test_core_modules_do_not_import_flask():
    core = {str(path.relative_to(PACKAGE)) for path in core_modules()}
    assert {"models.py", "store.py", "publishing.py", "render.py", "config.py"} <= core
    assert {"embeds/__init__.py", "embeds/fetch.py", "migrations/env.py"} <= core
    assert not core & {"__init__.py", "app.py", "db.py", "cli.py", "web/api.py"}
    assert [hit for path in core_modules() for hit in flask_imports(path, PACKAGE)] == []


def test_the_boundary_check_sees_flask_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nimport flask.json\nfrom flask import g\nfrom .flask import x\n")
    assert flask_imports(sample, tmp_path) == ["sample.py:2 flask.json", "sample.py:3 flask"]


REPORT = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"


def modules_loaded_by(code: str) -> set[str]:
    """The top-level packages loaded once ``code`` ran in a fresh interpreter in the checkout."""
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("module", ["liveblog.themes", "liveblog.store", "liveblog.publishing"])
def test_importing_a_core_module_loads_neither_flask_nor_pillow(module):
    loaded = modules_loaded_by(f"import {module}")
    assert "sqlalchemy" in loaded or module == "liveblog.themes"
    assert not loaded & {"PIL", "flask"}


def test_the_factory_still_builds_the_whole_app():
    config = {"DATABASE_URL": "sqlite://", "SECRET_KEY": "test"}  # nothing kept in instance/
    loaded = modules_loaded_by(f"import liveblog; liveblog.create_app({config!r})")
    assert {"flask", "PIL"} <= loaded
