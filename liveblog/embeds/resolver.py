"""Looking a post up: its provider's oEmbed endpoint, asked through the guarded fetcher. No Flask.

Editors give a link; the server asks the provider's oEmbed endpoint (from the table
below, or found through the page's discovery link for hosts it does not know) and turns
the answer into a ``social`` block, or a ``video`` block with its thumbnail stored here.
Every failure is an EmbedError saying what went wrong and what the editor can do, with
``block``: a start for a snapshot written by hand.
"""

import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ..blocks import Block
from ..errors import EmbedError
from ..errors import EmbedRefused
from ..errors import EmbedTimeout
from ..errors import EmbedUnavailable
from ..errors import UploadError
from ..lru import LruCache
from ..validation import check_url
from . import providers
from . import uploads
from .fetch import AddressRefused
from .fetch import AnswerTooLarge
from .fetch import Fetched
from .fetch import Fetcher
from .fetch import FetchError
from .fetch import FetchTimeout
from .fetch import StatusError
from .fetch import Unreachable
from .fetch import host_of
from .snapshot import BY_HAND
from .snapshot import discover
from .snapshot import parse_answer
from .snapshot import snapshot
from .snapshot import thumbnail_url
from .snapshot import video_snapshot

# Where each provider answers oEmbed requests; "{host}" is the post's own host (Mastodon
# runs on any). Telegram offers none: its posts are tried by discovery, then by hand.
ENDPOINTS = {
    "x": "https://publish.twitter.com/oembed",
    "bluesky": "https://embed.bsky.app/oembed",
    "mastodon": "https://{host}/api/oembed",
    "threads": "https://graph.threads.net/v1.0/oembed",
    "facebook": "https://graph.facebook.com/v21.0/oembed_post",
    "instagram": "https://graph.facebook.com/v21.0/instagram_oembed",
    "youtube": "https://www.youtube.com/oembed",
    "vimeo": "https://vimeo.com/api/oembed.json",
}
# Meta answers only requests signed with an app's access token.
TOKEN_PROVIDERS = frozenset({"threads", "facebook", "instagram"})
USER_AGENT = "Liveblog/0.1 (oEmbed look-up for a live blog)"
TRY_BY_HAND = BY_HAND[0].lower() + BY_HAND[1:]
SavePoster = Callable[[bytes], dict[str, Any] | None]


@dataclass
class Resolved:
    """A looked-up post's block, and whether it came from the cache."""

    block: Block
    cached: bool = False


class Resolver:
    """Looks posts up by oEmbed, through the endpoint table or discovery.

    ``snapshots`` keeps the blocks looked up lately (as JSON, so no caller can change a
    kept one); ``save_poster`` stores a video's thumbnail and returns its url, width and
    height, or None if it cannot use the picture.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        endpoints: Mapping[str, str] | None = None,
        meta_token: str | None = None,
        snapshots: LruCache[str] | None = None,
        save_poster: SavePoster | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.endpoints = {**ENDPOINTS, **(endpoints or {})}
        self.meta_token = meta_token
        self.snapshots = snapshots if snapshots is not None else LruCache(512, ttl=0)
        self.save_poster = save_poster

    def resolve(self, url: str) -> Resolved:
        """The snapshot of the post at ``url``: a ``social`` block, or for YouTube and Vimeo a
        ``video`` block whose poster is the provider's thumbnail."""
        try:
            return self._resolve(url)
        except EmbedError as error:
            error.extra.setdefault("block", start_block(url))
            raise

    def _resolve(self, url: str) -> Resolved:
        problem = check_url(url)
        if problem:
            raise EmbedRefused(f"The link {problem}.")
        kept = self.snapshots.get(url)
        if kept is not None:
            return Resolved(json.loads(kept), cached=True)
        data = parse_answer(self._get(self.endpoint(url), "application/json"))
        provider = providers.match(url)
        if provider and provider.kind == "video":
            block = video_snapshot(data, url, self._poster(data))
        else:
            block = snapshot(data, url)
        self.snapshots.put(url, json.dumps(block))
        return Resolved(block)

    def _poster(self, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """The thumbnail as a local poster; without one, readers see a neutral poster."""
        thumbnail = thumbnail_url(data)
        if self.save_poster is None or thumbnail is None:
            return None
        try:
            return self.save_poster(self._get(thumbnail, "image/*", what=" for the picture").body)
        except EmbedError:
            return None

    def endpoint(self, url: str) -> str:
        """The oEmbed request for ``url``: from the table, else discovered on its page."""
        provider = providers.match(url)
        key = provider.key if provider else "other"
        template = self.endpoints.get(key)
        if template is None:
            return self.discover(url, provider.name if provider else None)
        query = {"url": url, "format": "json"}
        if key == "x":
            query.update(omit_script="1", dnt="true")
        if key in TOKEN_PROVIDERS:
            if not self.meta_token:
                raise EmbedRefused(
                    f"{provider.name if provider else key} posts can only be looked up with a "
                    f"Meta app token (LIVEBLOG_OEMBED_META_TOKEN), which is not set. {BY_HAND}"
                )
            query["access_token"] = self.meta_token
        endpoint = template.replace("{host}", host_of(url))
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urlencode(query)}"

    def discover(self, url: str, name: str | None) -> str:
        """The oEmbed URL the page at ``url`` advertises."""
        page = self._get(url, "text/html,application/xhtml+xml", truncate=True)
        if page.content_type not in ("text/html", "application/xhtml+xml"):
            raise EmbedRefused(
                f"{host_of(url)} did not send a web page for this link, so it cannot be quoted "
                f"automatically. {BY_HAND}"
            )
        found = discover(page.body.decode("utf-8", "replace"), page.url)
        if found is None:
            who = name or host_of(url)
            raise EmbedRefused(f"{who} does not offer oEmbed for this link. {BY_HAND}")
        return found

    def _get(self, url: str, accept: str, *, truncate: bool = False, what: str = "") -> Fetched:
        try:
            return self.fetcher.get(url, accept, truncate=truncate)
        except FetchError as error:
            raise explain(error, what) from None


def explain(error: FetchError, what: str = "") -> EmbedError:
    """A failed fetch as the editor reads it, with what to do next."""
    host = error.host
    if isinstance(error, AddressRefused):
        return EmbedRefused(
            f"{host} is a private or local address; only public sites are looked up. {BY_HAND}"
        )
    if isinstance(error, FetchTimeout):
        return EmbedTimeout(f"{host} {error.reason}. Try again later, or {TRY_BY_HAND}")
    if isinstance(error, StatusError):
        failed = EmbedUnavailable if error.code >= 500 or error.code == 429 else EmbedError
        return failed(f"{host} says {_status_reason(error.code)} (HTTP {error.code}). {BY_HAND}")
    if isinstance(error, AnswerTooLarge):
        return EmbedError(
            f"{host} {error.reason}{what}, which is not an answer that can be used. {BY_HAND}"
        )
    detail = error.detail if isinstance(error, Unreachable) else error.reason
    return EmbedUnavailable(f"Could not reach {host} ({detail}). Check the link, or {TRY_BY_HAND}")


def _status_reason(code: int) -> str:
    if code in (404, 410):
        return "this post does not exist: it may have been deleted, or be private"
    if code in (401, 403):
        return "it will not share this post: it may be private, or need a login"
    if code == 429:
        return "too many look-ups were made; try again in a few minutes"
    return "it could not answer"


def start_block(url: str) -> Block:
    """The start of a snapshot written by hand, for a post whose look-up failed."""
    provider = providers.match(url)
    kind = provider.kind if provider else "social"
    return {"type": kind, "url": url, "provider": provider.key if provider else "other"}


def save_poster(data: bytes, media_path: Path | str) -> dict[str, Any] | None:
    """A video thumbnail stored as an upload; None if it is not a usable picture."""
    try:
        saved = uploads.save_image(data, media_path)
    except UploadError:
        return None
    return {"url": saved["url"], "width": saved["width"], "height": saved["height"]}


def resolver_from(settings: Mapping[str, Any]) -> Resolver:
    """A resolver configured by the OEMBED_*, FETCH_PRIVATE_ADDRESSES and MEDIA_PATH settings."""
    fetcher = Fetcher(
        float(settings["OEMBED_TIMEOUT"]),
        int(settings["OEMBED_MAX_BYTES"]),
        allow_private=bool(settings["FETCH_PRIVATE_ADDRESSES"]),
        user_agent=USER_AGENT,
    )
    return Resolver(
        fetcher,
        endpoints=settings["OEMBED_ENDPOINTS"],
        meta_token=settings["OEMBED_META_TOKEN"],
        snapshots=LruCache(512, ttl=float(settings["OEMBED_CACHE_SECONDS"])),
        save_poster=partial(save_poster, media_path=settings["MEDIA_PATH"]),
    )
