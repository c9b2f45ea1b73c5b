"""Plain-text views of rendered entry HTML, for descriptions and structured data. Pure."""

import html as html_lib
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

import bleach

_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|blockquote|figcaption|pre|tr)>", re.IGNORECASE)


@lru_cache(maxsize=4096)
def plain_text(html: str) -> str:
    """The words of an HTML fragment, paragraphs separated by blank lines."""
    spaced = _BLOCK_END.sub(lambda match: match.group(0) + "\n\n", html)
    text = html_lib.unescape(bleach.clean(spaced, tags=set(), strip=True))
    paragraphs = (" ".join(part.split()) for part in text.split("\n\n"))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def excerpt(html: str, limit: int = 200) -> str:
    """The first ``limit`` characters of the text, cut at a word boundary."""
    text = " ".join(plain_text(html).split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class _Span:
    tag: str
    start: int
    content_start: int
    content_end: int
    end: int
    has_id: bool


class _TopLevel(HTMLParser):
    """Finds where each top-level element of a well-formed fragment starts and ends."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.line_starts = [0]
        for line in html.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.depth = 0
        self.spans: list[_Span] = []
        self.opened: tuple[str, int, int, bool] = ("", 0, 0, False)

    def position(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.handle_startendtag(tag, attrs)
            return
        if self.depth == 0:
            start = self.position()
            has_id = any(name == "id" for name, _ in attrs)
            self.opened = (tag, start, start + len(self.get_starttag_text() or ""), has_id)
        self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            start = self.position()
            end = start + len(self.get_starttag_text() or "")
            self.spans.append(_Span(tag, start, end, end, end, False))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            name, start, content_start, has_id = self.opened
            content_end = self.position()
            end = self.rawdata.index(">", content_end) + 1
            self.spans.append(_Span(name, start, content_start, content_end, end, has_id))


def split_lead(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The first paragraph of a rendered entry, inside the blocks that wrap it (a text
    block's ``div``), and the rest as top-level elements, (tag, markup) each, in order.

    A wrapper split in two is written twice, so it must not carry an id; text between
    top-level elements is left out.
    """
    parser = _TopLevel(html)
    parser.feed(html)
    parser.close()
    if not parser.spans:
        return html, []
    first, *others = parser.spans
    rest = [(span.tag, html[span.start : span.end]) for span in others]
    if first.tag != "div" or first.has_id:
        return html[first.start : first.end], rest
    opening = html[first.start : first.content_start]
    closing = html[first.content_end : first.end]
    lead, inner_rest = split_lead(html[first.content_start : first.content_end])
    if inner_rest:
        remaining = opening + "\n" + "\n".join(markup for _, markup in inner_rest) + "\n" + closing
        rest.insert(0, ("div", remaining))
    return opening + "\n" + lead + "\n" + closing, rest
