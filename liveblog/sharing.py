"""Share links for a page: plain links to each network's own share page, so readers get
no third-party script, cookie or request until they choose to share. Pure."""

from dataclasses import dataclass
from urllib.parse import quote
from urllib.parse import urlencode


@dataclass(frozen=True)
class ShareLink:
    network: str
    name: str
    """The network's own name, which no language translates (email's is the theme's)."""
    href: str


def _query(**values: str) -> str:
    """A query string with every reserved character escaped, spaces as %20 (which mailto:
    needs: a + would stay a +)."""
    return urlencode(values, quote_via=quote)


def share_links(url: str, title: str) -> list[ShareLink]:
    """The links that share the page at ``url`` (absolute), titled ``title``."""
    said = f"{title} {url}"
    return [
        ShareLink("x", "X", "https://x.com/intent/post?" + _query(text=title, url=url)),
        ShareLink("bluesky", "Bluesky", "https://bsky.app/intent/compose?" + _query(text=said)),
        ShareLink(
            "facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + _query(u=url)
        ),
        ShareLink("whatsapp", "WhatsApp", "https://wa.me/?" + _query(text=said)),
        ShareLink("telegram", "Telegram", "https://t.me/share/url?" + _query(url=url, text=title)),
        ShareLink("email", "", "mailto:?" + _query(subject=title, body=url)),
    ]
