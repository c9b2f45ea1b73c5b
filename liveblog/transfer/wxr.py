"""A WordPress export (WXR) of a post run with Automattic's Liveblog plugin, read as the
parts of an export document. No Flask.

The post becomes the blog (its excerpt the standfirst, its text the opening entry). The
plugin keeps each entry as a comment of type ``liveblog``; an edit is a later comment
whose ``liveblog_replaces`` meta names the original, and a deletion one with no content
(the original may also be in the trash). Edits are applied to their original, in order,
each a revision; a deletion makes the entry a tombstone. Key events carry the meta
``liveblog_key_entry`` = ``true`` (and the ``/key`` command's span in their text).

The XML is parsed by defusedxml, which refuses DTDs, entities and external references
outright, item by item (``iterparse``); only the chosen post's comments are held.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError

from bs4 import BeautifulSoup
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from markdownify import markdownify

from ..blocks import blocks_from_markdown
from ..blogs import SLUG
from ..blogs import suggest_slug
from ..embeds import providers
from ..errors import LiveblogError
from ..validation import whole_number
from .document import Part
from .document import Readable

MAX_NUMBER = 2**63  # WordPress ids are 64-bit
WP = "http://wordpress.org/export/"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
REPLACES = "liveblog_replaces"
KEY_ENTRY = "liveblog_key_entry"
# The plugin's /key command, as it leaves it in an entry's HTML.
COMMAND = re.compile(r'<span class="liveblog-command type-(\w+)">[^<]*</span>')
BARE_URL = re.compile(r"https?://\S+")
# Blockquotes that providers' embed scripts turn into a post: the post's link is inside.
EMBED_QUOTES = "blockquote.twitter-tweet, blockquote.instagram-media, blockquote.tiktok-embed"


@dataclass
class Comment:
    id: int
    author: str
    email: str
    moment: datetime
    content: str
    approved: str
    kind: str
    meta: dict[str, str] = field(default_factory=dict)


@dataclass
class Post:
    id: int
    title: str
    name: str
    creator: str
    moment: datetime
    content: str
    excerpt: str
    meta: dict[str, str]
    comments: list[Comment]


def read_wxr(stream: Readable, post_id: int | None = None) -> Iterator[Part]:
    """The parts of the export document made from the live blog in the WXR ``stream``:
    the one post with Liveblog entries, or post ``post_id``."""
    channel, posts = _read(stream, post_id)
    if post_id is not None:
        posts = [post for post in posts if post.id == post_id]
        if not posts:
            raise LiveblogError(
                f"The WordPress export has no post {post_id} with Liveblog entries."
            )
    if not posts:
        raise LiveblogError(
            "The WordPress export has no post with Liveblog entries (comments of type 'liveblog')."
        )
    if len(posts) > 1:
        listed = "; ".join(f"{post.id}: {post.title}" for post in posts)
        raise LiveblogError(
            f"The WordPress export has several live blogs ({listed}); choose one with --post ID."
        )
    yield from _document(channel, posts[0])


def _local(tag: str) -> tuple[str, str]:
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def _is_wp(tag: str, name: str) -> bool:
    namespace, local = _local(tag)
    return local == name and namespace.startswith(WP) and "excerpt" not in namespace


def _child(element: Element, name: str) -> str:
    for child in element:
        if _is_wp(child.tag, name):
            return child.text or ""
    return ""


def _meta(element: Element, tag: str) -> dict[str, str]:
    found = {}
    for child in element:
        if _is_wp(child.tag, tag):
            found[_child(child, "meta_key")] = _child(child, "meta_value")
    return found


def _read(stream: Readable, post_id: int | None) -> tuple[dict[str, Any], list[Post]]:
    channel: dict[str, Any] = {"authors": {}, "title": "", "language": ""}
    posts: list[Post] = []
    depth = 0
    try:
        for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                continue
            depth -= 1
            name = _local(element.tag)[1]
            if depth == 2 and name in ("title", "language"):
                channel[name] = (element.text or "").strip()
            elif _is_wp(element.tag, "author"):
                channel["authors"][_child(element, "author_login")] = (
                    _child(element, "author_display_name") or _child(element, "author_login"),
                    _child(element, "author_email"),
                )
                element.clear()
            elif name == "item" and depth == 2:
                post = _post(element)
                if post is not None and post_id in (None, post.id):
                    posts.append(post)
                element.clear()
    except DefusedXmlException as error:
        raise LiveblogError(
            f"The WordPress export uses XML features refused for safety ({error})."
        ) from None
    except ParseError as error:
        raise LiveblogError(f"The WordPress export is not well-formed XML ({error}).") from None
    return channel, posts


def _post(item: Element) -> Post | None:
    """The post in ``item`` if it is a live blog: it has Liveblog entries."""
    comments = [_comment(child) for child in item if _is_wp(child.tag, "comment")]
    liveblog = [comment for comment in comments if comment.kind == "liveblog"]
    if not liveblog or _child(item, "post_type") not in ("post", "page", ""):
        return None
    texts = {_local(child.tag): child.text or "" for child in item}
    excerpt = next(
        (text for (ns, name), text in texts.items() if name == "encoded" and "excerpt" in ns), ""
    )
    return Post(
        id=_number(_child(item, "post_id"), "post_id"),
        title=texts.get(("", "title"), "").strip(),
        name=_child(item, "post_name"),
        creator=texts.get(_local(DC_CREATOR), ""),
        moment=_moment(_child(item, "post_date_gmt"), _child(item, "post_date")),
        content=texts.get(_local(CONTENT), ""),
        excerpt=excerpt,
        meta=_meta(item, "postmeta"),
        comments=liveblog,
    )


def _comment(element: Element) -> Comment:
    return Comment(
        id=_number(_child(element, "comment_id"), "comment_id"),
        author=_child(element, "comment_author").strip(),
        email=_child(element, "comment_author_email").strip(),
        moment=_moment(_child(element, "comment_date_gmt"), _child(element, "comment_date")),
        content=_child(element, "comment_content"),
        approved=_child(element, "comment_approved").strip(),
        kind=_child(element, "comment_type").strip(),
        meta=_meta(element, "commentmeta"),
    )


def _number(text: str, name: str) -> int:
    number = whole_number(text.strip(), MAX_NUMBER)
    if number is None:
        raise LiveblogError(f"The WordPress export has a {name} that is not a number: {text!r}.")
    return number


def _moment(gmt: str, local: str) -> datetime:
    """A WordPress time: the GMT one, else the site's own (taken as GMT)."""
    for value in (gmt.strip(), local.strip()):
        if value and not value.startswith("0000"):
            try:
                return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                raise LiveblogError(
                    f"The WordPress export has a date that is not one: {value!r}."
                ) from None
    raise LiveblogError("The WordPress export has a post or comment without a date.")


class _People:
    """The document's authors: one per email (else per name), numbered as they come."""

    def __init__(self) -> None:
        self.found: dict[str, dict[str, Any]] = {}

    def id(self, name: str, email: str) -> int:
        key = email.lower() or f"name:{name}"
        if key not in self.found:
            person = {
                "id": len(self.found) + 1,
                "name": name or email or "WordPress",
                "email": email or None,
            }
            self.found[key] = person
        number: int = self.found[key]["id"]
        return number


def _document(channel: dict[str, Any], post: Post) -> Iterator[Part]:
    people = _People()
    owner_name, owner_email = channel["authors"].get(post.creator, (post.creator, ""))
    owner = people.id(owner_name, owner_email)
    entries = []
    opening = _markdown(post.content)[0]
    if opening:
        entries.append(_versions([(post.moment, owner, opening, set())], False, None))
    replaced: dict[int, list[Comment]] = {}
    originals = []
    for comment in post.comments:
        target = whole_number(comment.meta.get(REPLACES, "").strip(), MAX_NUMBER)
        if target is not None:
            replaced.setdefault(target, []).append(comment)
        else:
            originals.append(comment)
    for original in sorted(originals, key=lambda c: (c.moment, c.id)):
        chain = [original, *sorted(replaced.get(original.id, []), key=lambda c: (c.moment, c.id))]
        versions = []
        deleted = chain[-1].moment if original.approved == "trash" else None
        for comment in chain:
            if comment is not original and not comment.content.strip():
                deleted = comment.moment  # the plugin deletes by a replacement without content
                continue
            markdown, commands = _markdown(comment.content)
            if markdown:
                versions.append(
                    (comment.moment, people.id(comment.author, comment.email), markdown, commands)
                )
        if not versions:
            continue
        key_event = any(c.meta.get(KEY_ENTRY, "").strip() == "true" for c in chain) or any(
            "key" in commands for *_rest, commands in versions
        )
        entries.append(_versions(versions, key_event, deleted))
    live = post.meta.get("liveblog", "").strip() == "enable"
    times = [entry["published_at"] for entry in entries]
    slug = post.name if SLUG.fullmatch(post.name or "") else suggest_slug(post.title)
    standfirst = " ".join(BeautifulSoup(post.excerpt, "html.parser").get_text().split())
    yield (
        "blog",
        {
            "slug": slug or f"wordpress-{post.id}",
            "title": post.title or f"WordPress post {post.id}",
            "standfirst": standfirst[:2000],
            "status": "live" if live else "ended",
            **({"language": channel["language"]} if channel["language"] else {}),
            "created_at": post.moment.isoformat(),
            "updated_at": max([post.moment.isoformat(), *times]),
            "started_at": post.moment.isoformat(),
            "ended_at": None if live else max([post.moment.isoformat(), *times]),
        },
    )
    yield "authors", list(people.found.values())
    for number, entry in enumerate(entries, 1):
        yield "entry", {"id": number, **entry}
    yield "uploads", []


def _versions(
    versions: list[tuple[datetime, int, str, set[str]]],
    key_event: bool,
    deleted: datetime | None,
) -> dict[str, Any]:
    """An entry from its versions (time, author, Markdown): shown at the first version's
    time, by its author, with the last version's words; a tombstone if ``deleted`` (when)."""
    first, author = versions[0][0], versions[0][1]
    revisions: list[dict[str, Any]] = []
    for number, (moment, editor, markdown, _commands) in enumerate(versions, 1):
        revisions.append(
            {
                "version": number,
                "editor": editor,
                "created_at": moment.isoformat(),
                "data": {
                    "headline": None,
                    "blocks": blocks_from_markdown(markdown),
                    "status": "published",
                    "published_at": first.isoformat(),
                    "pinned": False,
                    "key_event": key_event,
                },
            }
        )
    current = dict(revisions[-1]["data"])
    if deleted is not None:
        current["status"] = "deleted"
        revisions.append(
            {
                "version": len(revisions) + 1,
                "editor": versions[-1][1],
                "created_at": deleted.isoformat(),
                "data": current,
            }
        )
    updated = revisions[-1]["created_at"]
    return {
        "author": author,
        "headline": None,
        "blocks": current["blocks"],
        "status": current["status"],
        "published_at": first.isoformat(),
        "pinned": False,
        "key_event": key_event,
        "review": None,
        "review_note": None,
        "version": len(revisions),
        "created_at": first.isoformat(),
        "updated_at": updated,
        "edited_at": versions[-1][0].isoformat() if len(versions) > 1 else None,
        "revisions": revisions,
    }


def _markdown(html: str) -> tuple[str, set[str]]:
    """An entry's WordPress HTML as Markdown, and the plugin's commands in it (``key``).

    Paragraphs are made as WordPress shows them (blank lines part them); a link alone on
    a line, or a provider's embed blockquote, becomes the post's bare URL, which saving
    turns into a social or video block.
    """
    commands = set(COMMAND.findall(html))
    html = COMMAND.sub("", html).replace("\r\n", "\n").strip()
    if not re.search(r"<p[\s>]", html):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", html) if p.strip()]
        html = "".join(f"<p>{p}</p>".replace("\n", "<br>") for p in paragraphs)
    soup = BeautifulSoup(html, "html.parser")
    for junk in soup.find_all(["script", "style", "iframe", "noscript"]):
        junk.decompose()
    for quote in soup.select(EMBED_QUOTES):
        links = [
            a["href"] for a in quote.find_all("a", href=True) if providers.match(str(a["href"]))
        ]
        if links:
            quote.replace_with(_link_paragraph(soup, str(links[-1])))
    for paragraph in soup.find_all("p"):
        text = paragraph.get_text().strip()
        if BARE_URL.fullmatch(text) and providers.match(text):
            paragraph.replace_with(_link_paragraph(soup, text))
    markdown = markdownify(str(soup), heading_style="ATX", bullets="-", autolinks=True)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip(), commands


def _link_paragraph(soup: BeautifulSoup, url: str) -> Any:
    paragraph = soup.new_tag("p")
    link = soup.new_tag("a", href=url)
    link.string = url
    paragraph.append(link)
    return paragraph
