"""What reader templates receive: each blog's theme environment, its helpers, entry views.

The template context is a contract with theme authors; EntryView documents it.
"""

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from functools import partial
from typing import Any

from flask import current_app
from flask import url_for
from jinja2 import Environment
from markupsafe import Markup

from ..feeds import MEDIA_TYPES
from ..feeds import feed_path
from ..labels import entry_label
from ..labels import format_label
from ..labels import zone
from ..models import Blog
from ..models import Entry
from ..render import sanitize
from ..summaries import excerpt
from ..themes import Themes
from .urls import absolute
from .urls import entry_path
from .urls import permalink


@dataclass(frozen=True)
class EntryView:
    """One entry as every reader surface shows it (rendered by ``_entry.html``)."""

    id: int = field(metadata={"help": "Public, stable id; the anchor is update-<id>"})
    label: str = field(metadata={"help": "e.g. UPDATE 0745 GMT, in the blog's time zone"})
    headline: str | None = field(metadata={"help": "Optional headline (plain text)"})
    summary: str = field(metadata={"help": "The first words of the body (plain text)"})
    author: str = field(metadata={"help": "The author's display name"})
    html: Markup = field(metadata={"help": "The body, already sanitised; print as is"})
    published_at: datetime = field(metadata={"help": "Aware UTC time the label shows"})
    edited_at: datetime | None = field(metadata={"help": "Last edit after publishing, if any"})
    edited_label: str | None = field(metadata={"help": "The edit time, e.g. 0812 GMT"})
    day: date = field(metadata={"help": "Local calendar day, for day headings"})
    day_label: str = field(metadata={"help": "e.g. Friday 24 March 2017"})
    pinned: bool = field(metadata={"help": "Pinned to the top of the live page"})
    key_event: bool = field(metadata={"help": "Listed among the key events"})
    version: int = field(metadata={"help": "Changes with every edit"})
    path: str = field(metadata={"help": "The permalink's path on this site"})
    url: str = field(metadata={"help": "The permalink's absolute URL"})

    @property
    def title(self) -> str:
        """The headline, or else the label: what a list of entries shows."""
        return self.headline or self.label


def entry_view(blog: Blog, entry: Entry) -> EntryView:
    """The entry for templates; a draft with no time yet (shown to editors) has its creation
    time."""
    published_at = entry.published_at or entry.created_at
    local = published_at.astimezone(zone(blog.timezone))
    edited = entry.edited_at
    return EntryView(
        id=entry.id,
        label=entry_label(blog, entry)
        or format_label(published_at, blog.timezone, blog.label_format),
        headline=entry.headline,
        summary=excerpt(entry.html, 90),
        author=entry.author.name,
        html=Markup(entry.html),
        published_at=published_at,
        edited_at=edited,
        edited_label=format_label(edited, blog.timezone, "%H%M %Z") if edited else None,
        day=local.date(),
        day_label=local.strftime("%A %-d %B %Y"),
        pinned=entry.pinned,
        key_event=entry.key_event,
        version=entry.version,
        path=entry_path(blog, entry),
        url=permalink(blog, entry),
    )


def themes() -> Themes:
    """The app's installed themes."""
    installed: Themes = current_app.extensions["liveblog.themes"]
    return installed


def templates(blog: Blog) -> Environment:
    """The Jinja environment of the blog's theme."""
    return theme_templates(blog.theme)


def render_page(blog: Blog, template: str, **context: Any) -> str:
    """``template`` of the blog's theme, rendered for ``blog``."""
    return templates(blog).get_template(template).render(blog=blog, **context)


def theme_templates(theme: str) -> Environment:
    """The Jinja environment of ``theme``, with the helpers templates may call."""
    environment = themes().environment(theme)
    if "asset" not in environment.globals:
        environment.globals.update(
            url_for=url_for,
            asset=partial(asset_url, theme),
            site_name=current_app.config["SITE_NAME"],
            map_tiles=map_tiles,
        )
    return environment


def map_tiles() -> dict[str, str]:
    """Interactive maps' tile URL template and its credit (settings MAP_TILE_URL and
    MAP_TILE_ATTRIBUTION); Leaflet shows the credit as HTML, so it is sanitised too."""
    return {
        "url": current_app.config["MAP_TILE_URL"],
        "attribution": sanitize(current_app.config["MAP_TILE_ATTRIBUTION"]),
    }


def asset_url(theme: str, filename: str) -> str:
    """A static file's URL with its content digest, so it can be cached for a year."""
    digest = themes().asset_digest(theme, filename)
    return url_for("public.asset", theme=theme, digest=digest, filename=filename)


def feed_links(blog: Blog) -> list[dict[str, str]]:
    """Autodiscovery links for the blog's feeds."""
    names = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
    return [
        {
            "type": media_type,
            "title": f"{blog.title} ({names[fmt]})",
            "href": feed_path(blog.slug, fmt),
        }
        for fmt, media_type in MEDIA_TYPES.items()
    ]


def oembed_link(url: str) -> str:
    """The oEmbed discovery link of our page at ``url`` (absolute), as consumers expect it."""
    return absolute(url_for("oembed.oembed", url=url, format="json"))


def image_of(blog: Blog, entry: Entry | None = None) -> str | None:
    """The picture a link preview shows: the entry's first image or map image, else the top photo."""
    for block in entry.blocks if entry else []:
        url = (
            block.get("url") if block["type"] == "image" else (block.get("image") or {}).get("url")
        )
        if url:
            return absolute_url(url)
    top = blog.top_image or {}
    return absolute_url(top["url"]) if top.get("url") else None


def absolute_url(url: str) -> str:
    """``url`` as is, or made absolute when it is a path on this site."""
    return absolute(url) if url.startswith("/") else url


def entry_description(entry: Entry) -> str:
    return excerpt(entry.html)
