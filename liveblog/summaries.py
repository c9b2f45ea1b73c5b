"""Plain-text views of rendered entry HTML, for descriptions and structured data. Pure."""

import html as html_lib
import re
from functools import lru_cache

import bleach

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
