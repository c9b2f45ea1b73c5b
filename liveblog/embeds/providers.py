"""Known social and video providers, recognised by the shape of their post URLs."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    kind: str  # "social" or "video"
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, url: str) -> bool:
        return any(pattern.fullmatch(url) for pattern in self.patterns)


def _provider(key: str, name: str, kind: str, *patterns: str) -> Provider:
    return Provider(key, name, kind, tuple(re.compile(p, re.IGNORECASE) for p in patterns))


_HTTPS = r"https?://(?:www\.|m\.|mobile\.)?"
_QUERY = r"(?:[?#]\S*)?"
# Sites with /@name/123 paths of their own that are not Mastodon servers.
_NOT_BIG_HOST = (
    r"https://(?!(?:www\.|m\.)?(?:youtube|tiktok|medium|x|twitter|threads)\.(?:com|net)/)"
)

PROVIDERS = (
    _provider(
        "x", "X (Twitter)", "social", _HTTPS + r"(?:twitter|x)\.com/\w{1,15}/status/\d+" + _QUERY
    ),
    _provider(
        "bluesky", "Bluesky", "social", _HTTPS + r"bsky\.app/profile/[\w.:-]+/post/\w+" + _QUERY
    ),
    _provider(
        "threads",
        "Threads",
        "social",
        _HTTPS + r"threads\.(?:net|com)/@[\w.]+/post/[\w-]+" + _QUERY,
    ),
    _provider("telegram", "Telegram", "social", r"https?://t\.me/(?:s/)?\w+/\d+" + _QUERY),
    _provider(
        "facebook",
        "Facebook",
        "social",
        _HTTPS + r"facebook\.com/[\w.-]+/(?:posts|videos)/[\w.-]+/?" + _QUERY,
        r"https?://fb\.watch/\w+/?" + _QUERY,
    ),
    _provider(
        "instagram", "Instagram", "social", _HTTPS + r"instagram\.com/(?:p|reel)/[\w-]+/?" + _QUERY
    ),
    _provider(
        "youtube",
        "YouTube",
        "video",
        _HTTPS + r"youtube\.com/watch\?(?:\S*&)?v=[\w-]{11}\S*",
        _HTTPS + r"youtube\.com/(?:shorts|live|embed)/[\w-]{11}" + _QUERY,
        r"https?://youtu\.be/[\w-]{11}" + _QUERY,
    ),
    _provider("vimeo", "Vimeo", "video", _HTTPS + r"vimeo\.com/\d+" + _QUERY),
    # Mastodon runs on any host, so it is recognised by its path shapes and tried last.
    _provider(
        "mastodon",
        "Mastodon",
        "social",
        _NOT_BIG_HOST + r"[\w.-]+\.[a-z]{2,}/@\w+(?:@[\w.-]+)?/\d+" + _QUERY,
        _NOT_BIG_HOST + r"[\w.-]+\.[a-z]{2,}/users/\w+/statuses/\d+" + _QUERY,
    ),
)

_BY_KEY = {provider.key: provider for provider in PROVIDERS}
PROVIDER_KEYS = (*_BY_KEY, "other")


def match(url: str) -> Provider | None:
    """The provider whose post URLs look like ``url``, if any."""
    return next((provider for provider in PROVIDERS if provider.matches(url)), None)


def by_key(key: str) -> Provider | None:
    return _BY_KEY.get(key)


# Click-to-load video players: privacy-enhanced hosts, never loaded before the reader asks.

_YOUTUBE_ID = re.compile(
    r"(?:youtu\.be/|/(?:shorts|live|embed)/|[?&]v=)([\w-]{11})(?![\w-])", re.IGNORECASE
)
_VIMEO_ID = re.compile(r"vimeo\.com/(\d+)", re.IGNORECASE)
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", re.IGNORECASE)
PLAYER_ORIGINS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")


def player_url(url: str) -> str | None:
    """The embeddable player for a YouTube or Vimeo link (youtube-nocookie, Vimeo without
    tracking), starting where the link says; None for anything else."""
    provider = match(url)
    if provider is None or provider.kind != "video":
        return None
    if provider.key == "youtube":
        found = _YOUTUBE_ID.search(url)
        if not found:
            return None
        query = parse_qs(urlsplit(url).query)
        start = _seconds((query.get("t") or query.get("start") or [""])[0])
        suffix = f"&start={start}" if start else ""
        return f"{PLAYER_ORIGINS[0]}/embed/{found.group(1)}?autoplay=1{suffix}"
    found = _VIMEO_ID.search(url)
    return f"{PLAYER_ORIGINS[1]}/video/{found.group(1)}?autoplay=1&dnt=1" if found else None


def _seconds(raw: str) -> int:
    found = _DURATION.fullmatch(raw.strip())
    if not raw.strip() or not found:
        return 0
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def handle_from_url(key: str, author_url: str) -> str | None:
    """An author's @handle, read from their profile URL where the provider's shape allows."""
    parts = urlsplit(author_url)
    path = [segment for segment in parts.path.split("/") if segment]
    if key == "x" and len(path) == 1 and re.fullmatch(r"\w{1,15}", path[0]):
        return f"@{path[0]}"
    if key == "bluesky" and len(path) == 2 and path[0] == "profile":
        return None if path[1].startswith("did:") else f"@{path[1]}"
    if key == "mastodon" and len(path) == 1 and path[0].startswith("@"):
        return path[0] if "@" in path[0][1:] else f"{path[0]}@{parts.hostname}"
    if key in ("threads", "instagram") and len(path) == 1:
        return path[0] if path[0].startswith("@") else f"@{path[0]}"
    return None


def author_of_post(url: str) -> str | None:
    """Who wrote the post at ``url``, where the link itself says (``@name`` on X, Bluesky,
    Mastodon and Threads; the channel on Telegram)."""
    provider = match(url)
    parts = urlsplit(url)
    path = [segment for segment in parts.path.split("/") if segment]
    if provider is None or not path:
        return None
    if provider.key == "x":
        return f"@{path[0]}"
    if provider.key == "bluesky" and len(path) > 1:
        return None if path[1].startswith("did:") else f"@{path[1]}"
    if provider.key == "mastodon" and path[0].startswith("@"):
        return path[0] if "@" in path[0][1:] else f"{path[0]}@{parts.hostname}"
    if provider.key == "mastodon" and path[0] == "users" and len(path) > 1:
        return f"@{path[1]}@{parts.hostname}"
    if provider.key == "threads":
        return path[0]
    if provider.key == "telegram":
        return path[1] if path[0] == "s" and len(path) > 1 else path[0]
    return None
