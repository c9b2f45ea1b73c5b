"""Share links for a page: plain links to each network's own share page, so readers get
no third-party script, cookie or request until they choose to share. Pure."""

from urllib.parse import quote
from urllib.parse import urlencode


def _query(**values: str) -> str:
    """A query string with every reserved character escaped, spaces as %20 (which mailto:
    needs: a + would stay a +)."""
    return urlencode(values, quote_via=quote)


def share_links(url: str, title: str) -> dict[str, str]:
    """Network -> the link that shares the page at ``url`` (absolute), titled ``title``."""
    said = f"{title} {url}"
    return {
        "x": "https://x.com/intent/post?" + _query(text=title, url=url),
        "bluesky": "https://bsky.app/intent/compose?" + _query(text=said),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + _query(u=url),
        "whatsapp": "https://wa.me/?" + _query(text=said),
        "telegram": "https://t.me/share/url?" + _query(url=url, text=title),
        "email": "mailto:?" + _query(subject=title, body=url),
    }
