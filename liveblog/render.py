"""The content pipeline: blocks -> safe HTML. Pure functions, run once per entry version."""

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import LinkifyFilter
from jinja2 import Environment
from markdown import Markdown
from markdown.extensions.tables import TableExtension
from markupsafe import Markup

from .embeds import providers
from .mdext import DemoteH1Extension
from .mdext import EscapeHtmlExtension

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em",
        "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q",
        "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "abbr": ["title"],
    "img": ["src", "alt", "title"],
    "td": ["align"],
    "th": ["align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"


def _set_link_rel(
    attrs: MutableMapping[tuple[str | None, str], str], new: bool = False
) -> MutableMapping[tuple[str | None, str], str]:
    attrs[(None, "rel")] = LINK_REL
    return attrs


def sanitize(html: str) -> str:
    """The one place untrusted HTML is made safe: allow-listed tags, attributes and schemes.

    Bare URLs in text become links too; every link gets ``rel="nofollow noopener"``.
    """
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        filters=[
            lambda source: LinkifyFilter(
                source, callbacks=[_set_link_rel], skip_tags={"pre", "code"}
            )
        ],
    )
    return cleaner.clean(html)


def render_markdown(source: str) -> Markup:
    """Markdown source -> sanitised HTML. A new Markdown instance per call (not thread-safe)."""
    converter = Markdown(
        extensions=[
            EscapeHtmlExtension(),
            DemoteH1Extension(),
            # align="…", which the allow-list keeps; the default style="text-align…" is stripped.
            TableExtension(use_align_attribute=True),
            "fenced_code",
            "sane_lists",
        ],
        output_format="html",
    )
    return Markup(sanitize(converter.convert(source)))


def render_blocks(blocks: list[dict[str, Any]], templates: Environment) -> Markup:
    """An entry's body: each block through the theme's ``blocks/<type>.html`` template."""
    parts = []
    for block in blocks:
        template = templates.get_template(f"blocks/{block['type']}.html")
        html = template.render(
            block=block,
            html=render_markdown(block["markdown"]) if block["type"] == "text" else None,
            provider=providers.by_key(block.get("provider", "")),
            posted=datetime.fromisoformat(block["posted_at"]) if "posted_at" in block else None,
            player=providers.player_url(block["url"]) if block["type"] == "video" else None,
            link_author=providers.author_of_post(block["url"]) if "url" in block else None,
            host=urlsplit(block["url"]).hostname if "url" in block else None,
        )
        parts.append(html.strip())
    return Markup("\n".join(parts))
