"""What reader templates receive: each blog's theme environment, its helpers, entry views.

The template context is a contract with theme authors; EntryView documents it.
"""

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from datetime import datetime
from functools import partial
from typing import Any

from flask import current_app
from flask import url_for
from jinja2 import Environment
from markupsafe import Markup

from ..corrections import TIME_FORMAT
from ..corrections import correction_time
from ..corrections import silent_edit
from ..embeds.images import srcset
from ..feeds import MEDIA_TYPES
from ..feeds import VARIANTS
from ..feeds import feed_path
from ..history import TextRun
from ..i18n import catalog_language
from ..i18n import day_label
from ..labels import blog_label_format
from ..labels import entry_label
from ..labels import format_label
from ..labels import zone
from ..models import Blog
from ..models import Entry
from ..models import User
from ..render import sanitize
from ..summaries import excerpt
from ..summaries import plain_text
from ..summaries import split_lead
from ..themes import Themes
from .urls import absolute
from .urls import author_path
from .urls import entry_path
from .urls import history_path
from .urls import permalink

BYLINE_PHOTO_WIDTH = 48
"""How wide, in CSS pixels, a byline shows an author's photo."""


@dataclass(frozen=True)
class Photo:
    """An author's photo as a byline or author page shows it, ``width`` pixels wide."""

    url: str = field(metadata={"help": "The upload's URL"})
    alt: str = field(metadata={"help": "Its alt text"})
    width: int = field(metadata={"help": "The width to show it at"})
    height: int = field(metadata={"help": "The height that keeps its proportions"})
    srcset: str = field(metadata={"help": "Its stored sizes, for srcset (may be empty)"})


@dataclass(frozen=True)
class Byline:
    """One author an entry credits: their public profile."""

    name: str = field(metadata={"help": "The display name"})
    title: str = field(metadata={"help": "e.g. Middle East correspondent; may be empty"})
    path: str | None = field(metadata={"help": "Their author page; None once deactivated"})
    photo: Photo | None = field(metadata={"help": "Their photo, if they have one"})


def author_photo(user: User, width: int) -> Photo | None:
    """``user``'s photo shown ``width`` pixels wide, if they have one."""
    photo = user.photo
    if not photo:
        return None
    height = max(1, round(width * photo["height"] / photo["width"]))
    return Photo(photo["url"], photo["alt"], width, height, srcset(photo["url"], photo["width"]))


def byline(user: User) -> Byline:
    return Byline(
        name=user.name,
        title=user.title,
        path=author_path(user) if user.active else None,
        photo=author_photo(user, BYLINE_PHOTO_WIDTH) if user.active else None,
    )


@dataclass(frozen=True)
class CorrectionView:
    """One public correction note of an entry."""

    note: str = field(metadata={"help": "What was corrected (plain text)"})
    created_at: datetime = field(metadata={"help": "Aware UTC time of the correction"})
    time_label: str = field(metadata={"help": "Its time, e.g. 1305 GMT"})


@dataclass(frozen=True)
class EntryView:
    """One entry as every reader surface shows it (rendered by ``_entry.html``)."""

    id: int = field(metadata={"help": "Public, stable id; the anchor is update-<id>"})
    label: str = field(
        metadata={"help": "e.g. UPDATE 0745 GMT, in the blog's time zone and language"}
    )
    headline: str | None = field(metadata={"help": "Optional headline (plain text)"})
    summary: str = field(metadata={"help": "The first words of the body (plain text)"})
    author: str = field(metadata={"help": "The authors' display names, joined"})
    authors: tuple[Byline, ...] = field(metadata={"help": "Each author the byline names"})
    html: Markup = field(metadata={"help": "The body, already sanitised; print as is"})
    published_at: datetime = field(metadata={"help": "Aware UTC time the label shows"})
    edited_at: datetime | None = field(
        metadata={"help": "Last edit after publishing that no correction note explains, if any"}
    )
    edited_label: str | None = field(metadata={"help": "The edit time, e.g. 0812 GMT"})
    corrections: tuple[CorrectionView, ...] = field(
        metadata={"help": "Public correction notes, oldest first"}
    )
    history_path: str | None = field(
        metadata={"help": "The page of its published versions, once it has several"}
    )
    day: date = field(metadata={"help": "Local calendar day, for day headings"})
    day_label: str = field(metadata={"help": "e.g. Friday 24 March 2017, in the blog's language"})
    pinned: bool = field(metadata={"help": "Pinned to the top of the live page"})
    key_event: bool = field(metadata={"help": "Listed among the key events"})
    version: int = field(metadata={"help": "Changes with every edit"})
    path: str = field(metadata={"help": "The permalink's path on this site"})
    url: str = field(metadata={"help": "The permalink's absolute URL"})

    @property
    def title(self) -> str:
        """The headline, or else the label: what a list of entries shows."""
        return self.headline or self.label


@dataclass(frozen=True)
class VersionView:
    """One published version of an entry, on its history page (``history.html``)."""

    number: int = field(metadata={"help": "1 for the first published version, then 2, 3…"})
    published_at: datetime = field(metadata={"help": "Aware UTC time readers first saw it"})
    time_label: str = field(metadata={"help": "That time, e.g. 1305 GMT"})
    corrections: tuple[CorrectionView, ...] = field(
        metadata={"help": "The correction notes made while it was current"}
    )
    changes: list[TextRun] = field(
        metadata={"help": "Its text against the version before: runs of kind same/added/removed"}
    )


def entry_view(blog: Blog, entry: Entry) -> EntryView:
    """The entry for templates; a draft with no time yet (shown to editors) has its creation
    time."""
    published_at = entry.published_at or entry.created_at
    local = published_at.astimezone(zone(blog.timezone))
    edited = silent_edit(entry)
    return EntryView(
        id=entry.id,
        label=entry_label(blog, entry)
        or format_label(published_at, blog.timezone, blog_label_format(blog), blog.language),
        headline=entry.headline,
        summary=excerpt(entry.html, 90),
        author=", ".join(user.name for user in entry.credited()),
        authors=tuple(byline(user) for user in entry.credited()),
        html=Markup(entry.html),
        published_at=published_at,
        edited_at=edited,
        edited_label=format_label(edited, blog.timezone, TIME_FORMAT, blog.language)
        if edited
        else None,
        corrections=tuple(
            CorrectionView(
                note=correction.note,
                created_at=correction.created_at,
                time_label=correction_time(blog, correction),
            )
            for correction in entry.corrections
        ),
        history_path=history_path(blog, entry) if entry.edited_at else None,
        day=local.date(),
        day_label=day_label(local.date(), catalog_language(blog.language)),
        pinned=entry.pinned,
        key_event=entry.key_event,
        version=entry.version,
        path=entry_path(blog, entry),
        url=permalink(blog, entry),
    )


# A pinned update longer than this (in characters of text), or with a picture, post, map
# or video after its first paragraph, shows that paragraph alone and the rest behind
# "Read more".
PINNED_TEXT_LIMIT = 400
PINNED_TEXT_TAGS = frozenset({"div", "p", "ul", "ol"})


def pinned_view(blog: Blog, entry: Entry) -> EntryView:
    """The pinned entry as the pinned box shows it, on the live page and in live updates
    alike: when long, its first paragraph with the rest in a ``<details>`` ("Read more"),
    which opens without JavaScript, from the keyboard, and says it is collapsed."""
    view = entry_view(blog, entry)
    lead, rest = split_lead(entry.html)
    long = len(plain_text(entry.html)) > PINNED_TEXT_LIMIT
    if not rest or not (long or any(tag not in PINNED_TEXT_TAGS for tag, _ in rest)):
        return view
    html = (
        templates(blog)
        .get_template("_read_more.html")
        .render(lead=Markup(lead), rest=Markup("\n".join(markup for _, markup in rest)))
    )
    return replace(view, html=Markup(html))


def themes() -> Themes:
    """The app's installed themes."""
    installed: Themes = current_app.extensions["liveblog.themes"]
    return installed


def templates(blog: Blog) -> Environment:
    """The Jinja environment of the blog's theme, in the blog's language."""
    return theme_templates(blog.theme, blog.language)


def render_page(blog: Blog, template: str, **context: Any) -> str:
    """``template`` of the blog's theme, rendered for ``blog``."""
    return templates(blog).get_template(template).render(blog=blog, **context)


def theme_templates(theme: str, language: str = "en") -> Environment:
    """The Jinja environment of ``theme`` in ``language``, with the helpers templates may call."""
    environment = themes().environment(theme, language)
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
    """Autodiscovery links for the blog's feeds: every update, then the key events only."""
    names = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
    titles = {"all": blog.title, "key-events": f"{blog.title}: key events"}
    return [
        {
            "type": media_type,
            "title": f"{titles[variant]} ({names[fmt]})",
            "href": feed_path(blog.slug, fmt, variant),
        }
        for variant in VARIANTS
        for fmt, media_type in MEDIA_TYPES.items()
    ]


def oembed_link(url: str) -> str:
    """The oEmbed discovery link of our page at ``url`` (absolute), as consumers expect it."""
    return absolute(url_for("oembed.oembed", url=url, format="json"))


def image_of(blog: Blog, entry: Entry | None = None) -> str | None:
    """The picture a link preview shows: the entry's first image or map image, else the top photo."""
    picture = picture_of(blog, entry)
    return picture["url"] if picture else None


def picture_of(blog: Blog, entry: Entry | None = None) -> dict[str, Any] | None:
    """What ``image_of`` names, with its absolute ``url`` and its ``width`` and ``height``
    when they are known."""
    for block in entry.blocks if entry else []:
        picture = block if block["type"] == "image" else block.get("image") or {}
        if picture.get("url"):
            return _sized(picture)
    top = blog.top_image or {}
    return _sized(top) if top.get("url") else None


def _sized(picture: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": absolute_url(picture["url"]),
        **{side: picture[side] for side in ("width", "height") if picture.get(side)},
    }


def absolute_url(url: str) -> str:
    """``url`` as is, or made absolute when it is a path on this site."""
    return absolute(url) if url.startswith("/") else url


def entry_description(entry: Entry) -> str:
    return excerpt(entry.html)
