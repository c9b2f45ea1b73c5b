"""Atom, RSS and JSON Feed documents of a blog. Pure functions with deterministic output.

No Flask: callers pass the blog, its entries (newest first) and the URLs to use. The same
blog state always gives byte-identical documents, because every date comes from the data
(feedgen would otherwise fill ``updated``/``lastBuildDate`` with the time of the build)
and entries keep the order they are given in.

Choices every format shares:

- An entry's id is a tag URI (RFC 4151) from the BASE_URL host, the day the blog was
  created and the entry id, e.g. ``tag:news.example,2017-03-24:hama/updates/42``. It never
  changes when the entry is edited, and is the same in every format and variant (Atom id,
  RSS guid with ``isPermaLink="false"``, JSON Feed id).
- An entry's title is its headline, or its label (``UPDATE 0745 GMT``) when it has none,
  then " — " and the blog's title, so that it makes sense in a reader's mixed river.
- ``published`` is when the label says it was published; ``updated`` is its last edit or
  correction after publishing (pinning is not an edit), never earlier than ``published``.
- Content is the entry's stored HTML (sanitised once, when saved) with relative URLs made
  absolute, since feed readers show it away from our pages, then its correction notes.
- An ended blog says so where readers look: the feed's title and description, and a
  first item, "This live blog has ended", dated when it ended.
"""

import json
import re
import threading
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from markupsafe import Markup
from markupsafe import escape

from .corrections import corrections_html
from .corrections import last_modified
from .i18n import translations_for
from .labels import entry_label
from .lru import LruCache
from .models import Blog
from .models import Entry
from .models import User

FORMATS = ("atom", "rss", "json")
MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
VARIANTS = ("all", "key-events")
KEY_EVENT_TERM = "key-event"
TITLE_SEPARATOR = " — "
GENERATOR = "Liveblog"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"

# Characters XML 1.0 cannot carry; single-line text fields may hold them, and lxml refuses them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A start tag, attributes quoted or not; text and attribute values never hold a raw "<".
_START_TAG = re.compile(
    r"""<[a-zA-Z][^\s/>]*(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>"""
)
_URL_ATTRIBUTE = re.compile(
    r"""(\s(?:href|src|cite|poster)\s*=\s*)(?:"(/[^"]*)"|'(/[^']*)')""", re.I
)
_SRCSET = re.compile(r"""(\ssrcset\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.I)


@dataclass(frozen=True)
class FeedLinks:
    """The URLs one feed document needs; all absolute."""

    base: str
    """The public origin (BASE_URL, no trailing slash): ids and relative URLs use it."""
    home: str
    """The live page: the feed's alternate link."""
    self_url: str
    """This document's own URL (its WebSub topic)."""
    permalink: Callable[[Entry], str]
    """An entry's permalink."""
    hub: str | None = None
    """The WebSub hub to advertise, if any."""
    author_page: Callable[[User], str] | None = None
    """An author's page, if authors have pages."""


def feed_path(slug: str, fmt: str, variant: str = "all") -> str:
    """The path of a blog's feed: ``/hama/feed.atom``, ``/hama/key-events.json``…"""
    name = "feed" if variant == "all" else variant
    return f"/{slug}/{name}.{fmt}"


def feed_urls(base_url: str, slug: str) -> list[str]:
    """Every feed URL of a blog, in every format and variant."""
    return [f"{base_url}{feed_path(slug, fmt, variant)}" for variant in VARIANTS for fmt in FORMATS]


def tag_uri(base_url: str, blog: Blog, specific: str) -> str:
    """A tag URI minted by our host on the day ``blog`` was created (RFC 4151)."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{_utc(blog.created_at):%Y-%m-%d}:{specific}"


def feed_id(base_url: str, blog: Blog, variant: str = "all") -> str:
    return tag_uri(base_url, blog, blog.slug if variant == "all" else f"{blog.slug}/{variant}")


def entry_id(base_url: str, blog: Blog, entry: Entry) -> str:
    """The entry's permanent id; the same in every format and variant."""
    return tag_uri(base_url, blog, f"{blog.slug}/updates/{entry.id}")


def feed_title(blog: Blog, variant: str = "all") -> str:
    gettext = translations_for(blog.language).gettext
    title = (
        gettext("%(title)s (ended)") % {"title": blog.title}
        if blog.status == "ended"
        else blog.title
    )
    if variant == "key-events":
        key_events = gettext("Key events")
        return f"{key_events}{TITLE_SEPARATOR}{title}"
    return title


def feed_description(blog: Blog) -> str | None:
    """The standfirst, after a sentence saying that the blog has ended, if it has."""
    if blog.status != "ended":
        return blog.standfirst or None
    ended = translations_for(blog.language).gettext("This live blog has ended.")
    return f"{ended} {blog.standfirst}".strip()


@dataclass(frozen=True)
class Ending:
    """The item an ended blog's feeds carry first."""

    id: str
    title: str
    moment: datetime
    html: str


def ending(blog: Blog, links: FeedLinks) -> Ending | None:
    """The "This live blog has ended" item, for an ended blog."""
    if blog.status != "ended":
        return None
    gettext = translations_for(blog.language).gettext
    home = Markup('<a href="{}">{}</a>').format(links.home, blog.title)
    sentence = gettext("This live blog has ended: no more updates will be added to %(blog)s.")
    return Ending(
        id=tag_uri(links.base, blog, f"{blog.slug}/ended"),
        title=gettext("This live blog has ended") + f"{TITLE_SEPARATOR}{blog.title}",
        moment=_utc(blog.ended_at or blog.changed_at),
        html=Markup("<p>{}</p>").format(escape(sentence) % {"blog": home}),
    )


def key_event_label(blog: Blog) -> str:
    """The category of key events, in the blog's language."""
    return translations_for(blog.language).gettext("Key event")


def entry_title(blog: Blog, entry: Entry) -> str:
    """``Assault on Qomhana — Hama``, or ``UPDATE 0745 GMT — Hama`` without a headline."""
    lead = (
        entry.headline
        or entry_label(blog, entry)
        or translations_for(blog.language).gettext("Update %(id)s") % {"id": entry.id}
    )
    return f"{lead}{TITLE_SEPARATOR}{blog.title}"


def entry_updated(entry: Entry) -> datetime:
    """When the entry's words were last edited or corrected, never before it was published."""
    published = _utc(entry.published_at or entry.created_at)
    modified = last_modified(entry)
    return max(_utc(modified), published) if modified else published


def entry_content(blog: Blog, entry: Entry, base_url: str) -> str:
    """The entry's HTML for a feed: absolute URLs, then its correction notes."""
    return absolutize(str(entry.html), base_url) + corrections_html(blog, entry)


def absolutize(html: str, base_url: str) -> str:
    """``html`` with paths (``/media/x.png``, ``//cdn/y``) in ``href``, ``src``, ``cite`` and
    ``srcset`` made absolute."""
    scheme = urlsplit(base_url).scheme or "https"

    def made_absolute(url: str) -> str:
        if not url.startswith("/"):
            return url
        return f"{scheme}:{url}" if url.startswith("//") else f"{base_url}{url}"

    def absolute(match: re.Match[str]) -> str:
        prefix, double_quoted, single_quoted = match.groups()
        quote, url = ('"', double_quoted) if double_quoted is not None else ("'", single_quoted)
        return f"{prefix}{quote}{made_absolute(url)}{quote}"

    def absolute_srcset(match: re.Match[str]) -> str:
        # "url 480w, url 960w": each candidate's URL, then its descriptor
        prefix, double_quoted, single_quoted = match.groups()
        quote, value = ('"', double_quoted) if double_quoted is not None else ("'", single_quoted)
        candidates = []
        for candidate in value.split(","):
            url, _, descriptor = candidate.strip().partition(" ")
            candidates.append(f"{made_absolute(url)} {descriptor}".strip())
        return f"{prefix}{quote}{', '.join(candidates)}{quote}"

    def rewrite(tag: re.Match[str]) -> str:
        return _SRCSET.sub(absolute_srcset, _URL_ATTRIBUTE.sub(absolute, tag.group(0)))

    return _START_TAG.sub(rewrite, html)


def top_image_url(blog: Blog, base_url: str) -> str | None:
    """The blog's top photo as an absolute URL, if it has one."""
    url = (blog.top_image or {}).get("url")
    return _absolute(url, base_url) if url else None


def _absolute(url: str, base_url: str) -> str:
    if url.startswith("//"):
        return f"{urlsplit(base_url).scheme or 'https'}:{url}"
    return f"{base_url}{url}" if url.startswith("/") else str(url)


def build_feed(
    fmt: str, blog: Blog, entries: Sequence[Entry], links: FeedLinks, variant: str = "all"
) -> bytes:
    """The feed document of ``blog`` in ``fmt`` (atom, rss or json), UTF-8 encoded.

    ``entries`` are the published entries to include, newest first; the order is kept.
    """
    if fmt == "atom":
        return atom_feed(blog, entries, links, variant)
    if fmt == "rss":
        return rss_feed(blog, entries, links, variant)
    if fmt == "json":
        return json_feed(blog, entries, links, variant)
    raise ValueError(f"unknown feed format {fmt!r}; expected one of {', '.join(FORMATS)}")


def atom_feed(
    blog: Blog, entries: Sequence[Entry], links: FeedLinks, variant: str = "all"
) -> bytes:
    """An Atom 1.0 document (RFC 4287)."""
    fg = _generator("atom", blog, links, variant)
    description = feed_description(blog)
    if description:
        fg.subtitle(_xml(description))
    logo = top_image_url(blog, links.base)
    if logo:
        fg.logo(_xml(logo))
    if end := ending(blog, links):
        fe = _add_ending(fg, end, links)
        fe.author(name=_xml(blog.title))
    for entry in entries:
        fe = _add_entry(fg, blog, entry, links)
        for author in _authors(blog, entry, links):
            fe.author(
                {"name": author["name"], **({"uri": author["url"]} if "url" in author else {})}
            )
        fe.content(_xml(entry_content(blog, entry, links.base)), type="html")
        if entry.key_event:
            fe.category(term=KEY_EVENT_TERM, label=key_event_label(blog))
    document: bytes = fg.atom_str(pretty=True)
    return document


def rss_feed(blog: Blog, entries: Sequence[Entry], links: FeedLinks, variant: str = "all") -> bytes:
    """An RSS 2.0 document, with an ``atom:link`` to itself (and to the hub)."""
    fg = _generator("rss", blog, links, variant)
    # RSS needs a description: the standfirst, else the title. RSS 2.0 calls it a phrase,
    # so it stays plain text (some readers guess HTML when it holds something like a tag).
    fg.description(_xml(feed_description(blog) or fg.title()))
    logo = top_image_url(blog, links.base)
    if logo:
        fg.logo(_xml(logo))  # becomes <image> with the channel's title and link
    if links.hub:
        fg.register_extension("websub", _RssHubLink, _NoEntryExtension, atom=False, rss=True)
        fg.websub.hub = _xml(links.hub)
    # RSS <author> must be an email address, and editors' addresses are not for readers.
    fg.load_extension("dc", atom=False, rss=True)
    if end := ending(blog, links):
        _add_ending(fg, end, links).dc.dc_creator(_xml(blog.title))
    for entry in entries:
        fe = _add_entry(fg, blog, entry, links)
        fe.dc.dc_creator([author["name"] for author in _authors(blog, entry, links)])
        fe.content(_xml(entry_content(blog, entry, links.base)), type="html")
        if entry.key_event:
            fe.category(term=KEY_EVENT_TERM, label=key_event_label(blog))
    document: bytes = fg.rss_str(pretty=True)
    return document


def json_feed(
    blog: Blog, entries: Sequence[Entry], links: FeedLinks, variant: str = "all"
) -> bytes:
    """A JSON Feed 1.1 document (https://jsonfeed.org/version/1.1)."""
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed_title(blog, variant),
        "home_page_url": links.home,
        "feed_url": links.self_url,
    }
    description = feed_description(blog)
    if description:
        document["description"] = description
    icon = top_image_url(blog, links.base)
    if icon:
        document["icon"] = icon
    document["language"] = blog.language
    if blog.status == "ended":
        document["expired"] = True
    if links.hub:
        document["hubs"] = [{"type": "WebSub", "url": links.hub}]
    items = [_json_item(blog, entry, links) for entry in entries]
    if end := ending(blog, links):
        moment = end.moment.isoformat()
        items.insert(
            0,
            {
                "id": end.id,
                "url": links.home,
                "title": end.title,
                "content_html": end.html,
                "date_published": moment,
                "date_modified": moment,
            },
        )
    document["items"] = items
    return json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n"


def _json_item(blog: Blog, entry: Entry, links: FeedLinks) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry_id(links.base, blog, entry),
        "url": links.permalink(entry),
        "title": entry_title(blog, entry),
        "content_html": entry_content(blog, entry, links.base),
    }
    if entry.published_at is not None:
        item["date_published"] = _utc(entry.published_at).isoformat()
    item["date_modified"] = entry_updated(entry).isoformat()
    item["authors"] = _authors(blog, entry, links)
    if entry.key_event:
        item["tags"] = [key_event_label(blog)]
    return item


def _generator(fmt: str, blog: Blog, links: FeedLinks, variant: str) -> FeedGenerator:
    """A FeedGenerator with the feed-level fields both XML formats share."""
    fg = FeedGenerator()
    fg.id(feed_id(links.base, blog, variant))
    fg.title(_xml(feed_title(blog, variant)))
    fg.updated(_utc(blog.changed_at))  # also RSS lastBuildDate; feedgen's default is now()
    fg.generator(GENERATOR)
    fg.language(blog.language)
    fg.link(href=links.self_url, rel="self", type=MEDIA_TYPES[fmt])
    if links.hub:
        fg.link(href=links.hub, rel="hub")  # RSS ignores it; _RssHubLink adds it there
    # Last: feedgen uses the last link as RSS <link>, which must be the live page.
    fg.link(href=links.home, rel="alternate", type="text/html")
    return fg


def _add_entry(fg: FeedGenerator, blog: Blog, entry: Entry, links: FeedLinks) -> Any:
    fe = fg.add_entry(order="append")  # feedgen prepends by default; ours come newest first
    fe.id(entry_id(links.base, blog, entry))
    fe.title(_xml(entry_title(blog, entry)))
    fe.link(href=links.permalink(entry), rel="alternate", type="text/html")
    if entry.published_at is not None:
        fe.published(_utc(entry.published_at))
    fe.updated(entry_updated(entry))
    return fe


def _add_ending(fg: FeedGenerator, end: Ending, links: FeedLinks) -> Any:
    fe = fg.add_entry(order="append")
    fe.id(end.id)
    fe.title(_xml(end.title))
    fe.link(href=links.home, rel="alternate", type="text/html")
    fe.published(end.moment)
    fe.updated(end.moment)
    fe.content(_xml(end.html), type="html")
    return fe


def _authors(blog: Blog, entry: Entry, links: FeedLinks) -> list[dict[str, str]]:
    """Each author the byline names: name, and for an active one their page and photo."""
    found = []
    for user in entry.credited():
        # Atom needs an author on every entry when the feed has none, and a name in it.
        author = {"name": _xml(user.name) or blog.title}
        if user.active and links.author_page is not None:
            author["url"] = links.author_page(user)
            if user.photo:
                author["avatar"] = _absolute(user.photo["url"], links.base)
        found.append(author)
    return found


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


class _RssHubLink(BaseExtension):  # type: ignore[misc]
    """Adds ``<atom:link rel="hub">`` to an RSS channel; feedgen only writes rel="self" there."""

    hub: str | None = None

    def extend_rss(self, feed: Any) -> Any:
        if self.hub:
            xml_elem(f"{{{ATOM_NS}}}link", feed[0], href=self.hub, rel="hub")
        return feed


class _NoEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """feedgen registers every feed extension on entries too; ours has nothing to add there."""


class FeedCache:
    """Built feeds of this process, one per (blog, format, variant), valid for one ``last_seq``.

    Every reader-visible change bumps the blog's ``last_seq``, so a document is built once
    per change per process however many readers ask. Concurrent requests for the same
    document wait for one build. Bounded: the least recently used documents are dropped.
    """

    def __init__(self, max_documents: int = 512) -> None:
        self.builds = 0
        """How many documents were built (a miss); tests and metrics read it."""
        self._documents: LruCache[tuple[int, bytes]] = LruCache(max_documents)
        # Builds of one key queue on one lock; a fixed set, so no lock outlives its document.
        self._building = tuple(threading.Lock() for _ in range(64))
        self._counting = threading.Lock()

    def get(self, key: Hashable, seq: int, build: Callable[[], bytes]) -> bytes:
        """The document ``key`` at ``seq``: cached, or ``build()`` once and kept."""
        cached = self._documents.get(key)
        if cached is not None and cached[0] == seq:
            return cached[1]
        with self._building[hash(key) % len(self._building)]:
            cached = self._documents.get(key)
            if cached is not None and cached[0] == seq:
                return cached[1]
            document = build()
            with self._counting:
                self.builds += 1
            # A request that read an older seq must not replace a newer document.
            self._documents.put(key, (seq, document), replaces=lambda kept: kept[0] <= seq)
            return document
