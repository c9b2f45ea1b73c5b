"""Themes: folders of templates and static files, chosen per blog, inheriting by name."""

import hashlib
import os
import tomllib
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from functools import partial
from importlib.resources import files
from pathlib import Path

from jinja2 import BaseLoader
from jinja2 import ChoiceLoader
from jinja2 import Environment
from jinja2 import FileSystemLoader
from jinja2 import PrefixLoader
from jinja2 import select_autoescape

from .embeds.images import srcset
from .i18n import CATALOGS_DIR
from .i18n import catalog_language
from .i18n import cldr_date
from .i18n import live_strings
from .i18n import text_direction
from .i18n import translations
from .labels import local_datetime

DEFAULT_THEME = "default"


def bundled_themes() -> Path:
    """The themes that ship with Liveblog: inside the installed package, where a wheel puts
    them (``liveblog/bundled_themes``), or the repository's own ``themes/`` in a checkout."""
    installed = Path(str(files("liveblog") / "bundled_themes"))
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "themes"


THEMES_DIR = bundled_themes()


@dataclass(frozen=True)
class Theme:
    name: str
    description: str
    parent: str | None
    path: Path


class Themes:
    """The installed themes, with one cached Jinja environment per theme and language."""

    def __init__(self, themes_dir: Path = THEMES_DIR, override_dir: Path | None = None) -> None:
        self.override_dir = override_dir
        self.themes = {
            path.name: _read_theme(path)
            for path in sorted(themes_dir.iterdir())
            if (path / "theme.toml").is_file()
        }
        self._environments: dict[tuple[str, str], Environment] = {}
        self._versions: dict[str, str] = {}
        self._digests: dict[tuple[str, str], str] = {}

    def names(self) -> list[str]:
        return sorted(self.themes)

    def chain(self, name: str) -> list[Theme]:
        """``name``, its parents, then the default theme: the order templates are looked up."""
        chain: list[Theme] = []
        current: str | None = name if name in self.themes else DEFAULT_THEME
        while current and current not in [theme.name for theme in chain]:
            chain.append(self.themes[current])
            current = self.themes[current].parent
        if chain[-1].name != DEFAULT_THEME:
            chain.append(self.themes[DEFAULT_THEME])
        return chain

    def environment(self, name: str, language: str = "en") -> Environment:
        """The Jinja environment for blogs on theme ``name`` in ``language`` (a tag such as
        ``ar``), built once per catalog: ``_()`` and ``ngettext()`` speak its language."""
        key = (name, catalog_language(language))
        if key not in self._environments:
            environment = Environment(
                loader=self._loader(name),
                autoescape=select_autoescape(default=True, default_for_string=True),
                trim_blocks=True,
                lstrip_blocks=True,
                extensions=["jinja2.ext.i18n"],
            )
            environment.install_gettext_translations(  # type: ignore[attr-defined]
                translations(key[1]), newstyle=True
            )
            environment.filters["iso"] = iso_seconds
            environment.filters["local_datetime"] = local_datetime
            environment.filters["srcset"] = srcset
            environment.filters["direction"] = text_direction
            environment.filters["cldr_date"] = partial(cldr_date, language=key[1])
            environment.globals["live_strings"] = live_strings(key[1])
            self._environments[key] = environment
        return self._environments[key]

    def version(self, name: str) -> str:
        """A digest of every file ``name`` renders with, catalogs too; part of reader ETags."""
        if name not in self._versions:
            digest = hashlib.sha256()
            folders = [theme.path for theme in self.chain(name)] + [CATALOGS_DIR]
            if self.override_dir:
                folders.insert(0, self.override_dir)
            for folder in folders:
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        digest.update(str(path.relative_to(folder)).encode())
                        digest.update(path.read_bytes())
            self._versions[name] = digest.hexdigest()[:16]
        return self._versions[name]

    def static_file(self, name: str, filename: str) -> Path | None:
        """The file ``filename`` from the first static folder of ``name``'s chain that has it."""
        if "\x00" in filename:  # no file has one, and the OS refuses to look
            return None
        folders = [theme.path / "static" for theme in self.chain(name)]
        if self.override_dir:
            folders.insert(0, self.override_dir / "static")
        for folder in folders:
            candidate = (folder / filename).resolve()
            # os.path.isfile: a name too long for the OS is no file (Path.is_file raises).
            if candidate.is_relative_to(folder.resolve()) and os.path.isfile(candidate):
                return candidate
        return None

    def asset_digest(self, name: str, filename: str) -> str:
        """A short digest of a static file's content, for cache-busting URLs."""
        key = (name, filename)
        if key not in self._digests:
            path = self.static_file(name, filename)
            content = path.read_bytes() if path else b""
            self._digests[key] = hashlib.sha256(content).hexdigest()[:12]
        return self._digests[key]

    def _loader(self, name: str) -> BaseLoader:
        default = FileSystemLoader(self.themes[DEFAULT_THEME].path / "templates")
        loaders: list[BaseLoader] = []
        if self.override_dir:
            loaders.append(FileSystemLoader(self.override_dir))
        loaders += [FileSystemLoader(theme.path / "templates") for theme in self.chain(name)]
        loaders.append(PrefixLoader({"default": default}, delimiter=":"))
        return ChoiceLoader(loaders)


def iso_seconds(moment: datetime | date) -> str:
    """ISO 8601 to the second: what HTML's datetime attribute and schema.org accept."""
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="seconds")
    return moment.isoformat()


def _read_theme(path: Path) -> Theme:
    with (path / "theme.toml").open("rb") as file:
        data = tomllib.load(file)
    return Theme(
        name=path.name,
        description=str(data.get("description", "")),
        parent=data.get("parent"),
        path=path,
    )
