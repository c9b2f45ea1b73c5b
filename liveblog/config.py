"""Settings: each declared once, with its default and help text.

Values come in layers: defaults, then ``LIVEBLOG_<NAME>`` environment variables,
then the mapping given to ``create_app`` (tests use it).
"""

import base64
import json
import math
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import NamedTuple
from urllib.parse import urlsplit


class Setting(NamedTuple):
    name: str
    default: Any
    help: str


SETTINGS = (
    Setting(
        "DATABASE_URL", None, "SQLAlchemy URL; a SQLite file in the instance folder when unset"
    ),
    Setting("SECRET_KEY", None, "Signs sessions; generated once and kept in the instance folder"),
    Setting("BASE_URL", "http://127.0.0.1:8000", "Public origin used for absolute URLs"),
    Setting("THEMES_PATH", None, "Folder of the deployment's own theme overrides"),
    Setting(
        "MEDIA_PATH",
        None,
        "Folder of uploaded images, served under /media/; instance/media when unset",
    ),
    Setting(
        "HSTS_SECONDS",
        31_536_000,
        "Seconds browsers are told to keep to HTTPS, sent on answers over HTTPS; 0 turns off",
    ),
    Setting("MAX_REQUEST_BYTES", 1_048_576, "Largest request body accepted (413 beyond)"),
    Setting("SITE_NAME", "Liveblog", "The publisher's name on pages and in structured data"),
    Setting(
        "PUBLISHER_LOGO_URL",
        None,
        "The publisher's logo in structured data: an http(s) URL or a path on this site, "
        "such as /media/logo.png; none: no logo is named",
    ),
    Setting("PUBLISHER_LOGO_WIDTH", 0, "The logo's width in pixels; 0: not stated"),
    Setting("PUBLISHER_LOGO_HEIGHT", 0, "The logo's height in pixels; 0: not stated"),
    Setting(
        "READER_PAGE_SIZE", 20, "Entries on the first view of a live page and on each older page"
    ),
    Setting("READER_MAX_AGE", 5, "Seconds a CDN may serve a reader page or feed (s-maxage)"),
    Setting(
        "READER_STALE_WHILE_REVALIDATE", 30, "Seconds a CDN may serve a stale copy while refetching"
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "Reverse proxies in front of the app whose X-Forwarded-For and X-Forwarded-Proto "
        "are believed (the client's address for log-in limits, HTTPS for cookies); 0: none",
    ),
    Setting("LOGIN_WINDOW", 900, "Seconds over which failed editor log-ins are counted"),
    Setting("LOGIN_MAX_PER_ACCOUNT", 5, "Failed log-ins to one account allowed per window"),
    Setting("LOGIN_MAX_PER_ADDRESS", 20, "Failed log-ins from one IP address allowed per window"),
    Setting("API_PAGE_SIZE", 50, "Entries per page of the editor API listing (max 200)"),
    Setting("SCHEDULER_INTERVAL", 2.0, "Seconds between checks for scheduled entries; 0 turns off"),
    Setting("SQLITE_BUSY_TIMEOUT", 10_000, "Milliseconds a SQLite writer waits for the lock"),
    Setting("REDIS_URL", None, "Redis for live-update fan-out across processes and machines"),
    Setting(
        "LIVE_POLL_INTERVAL", 0.25, "Seconds between each process's check for changes (SQLite)"
    ),
    Setting(
        "PAGE_CACHE_SIZE",
        256,
        "Reader responses each process keeps in memory until their blog changes; 0 turns off",
    ),
    Setting("LIVE_HEARTBEAT", 15.0, "Seconds between keep-alive comments on idle event streams"),
    Setting("LIVE_REPLAY_LIMIT", 500, "Most changes a reconnecting reader is sent before a reset"),
    Setting(
        "GRIP_URL",
        None,
        "Pushpin's publish endpoint, e.g. http://127.0.0.1:5561/: Pushpin holds the live "
        "streams and each change is published there once; several Pushpin instances (one "
        "per edge), separated by spaces or commas, each get every change; needs GRIP_KEY",
    ),
    Setting(
        "GRIP_KEY",
        None,
        "The key Pushpin signs its requests with (its sig_key; 32 bytes or more, base64: "
        "prefix as in Pushpin); needs GRIP_URL",
    ),
    Setting("FEED_MAX_ENTRIES", 50, "Newest published entries in each feed"),
    Setting(
        "WEBSUB_HUB", None, "WebSub hub URL that feeds advertise and that is pinged after changes"
    ),
    Setting(
        "PURGE_URLS",
        None,
        "Purge endpoints of the caching fronts (deploy/nginx/), separated by spaces or commas, "
        "e.g. http://10.0.0.5:8081/purge: each is told, off the request path, when a blog's "
        "readers must stop seeing something (an edit, a deletion, a blog's change or end)",
    ),
    Setting("UPLOAD_MAX_BYTES", 10_485_760, "Largest image upload accepted (413 beyond)"),
    Setting(
        "MAP_TILE_URL",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "Tile URL template of interactive maps ({z}, {x}, {y}; {s} for subdomains a-c)",
    ),
    Setting(
        "MAP_TILE_ATTRIBUTION",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "Credit shown on interactive maps for their tiles (HTML: links allowed)",
    ),
    Setting("OEMBED_TIMEOUT", 5.0, "Seconds an oEmbed provider has to answer a look-up"),
    Setting("OEMBED_MAX_BYTES", 524_288, "Largest oEmbed answer (or page read for discovery)"),
    Setting(
        "OEMBED_CACHE_SECONDS", 3600, "Seconds a resolved post is kept in each process's cache"
    ),
    Setting(
        "OEMBED_ENDPOINTS",
        None,
        'JSON object overriding oEmbed endpoints by provider, e.g. {"x": "https://…/oembed"}; '
        "{host} stands for the post's host",
    ),
    Setting(
        "OEMBED_META_TOKEN",
        None,
        "Meta app access token (app-id|client-token) for Facebook, Instagram and Threads oEmbed",
    ),
    Setting(
        "EMBED_LOOKUP_INTERVAL",
        1.0,
        "Seconds between each process's checks for bare post and video links to look up "
        "(saving an entry also starts a check); 0 turns off",
    ),
    Setting(
        "FETCH_PRIVATE_ADDRESSES",
        False,
        "Let look-ups reach loopback and private addresses (tests, intranets); off by default",
    ),
)


# Numbers that must be above zero (a zero interval would spin); no number may be negative.
_POSITIVE = frozenset(
    {
        "MAX_REQUEST_BYTES",
        "READER_PAGE_SIZE",
        "API_PAGE_SIZE",
        "LIVE_POLL_INTERVAL",
        "LIVE_HEARTBEAT",
        "LIVE_REPLAY_LIMIT",
        "FEED_MAX_ENTRIES",
        "UPLOAD_MAX_BYTES",
        "OEMBED_TIMEOUT",
        "OEMBED_MAX_BYTES",
    }
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def load_config(
    config: dict[str, Any], instance_path: Path, overrides: Mapping[str, Any] | None = None
) -> None:
    """Fill ``config`` with every setting, from defaults, environment and ``overrides``."""
    for setting in SETTINGS:
        config[setting.name] = setting.default
        raw = os.environ.get(f"LIVEBLOG_{setting.name}")
        if raw is not None and raw != "":
            config[setting.name] = _parse(setting, raw)
    config.update(overrides or {})
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'liveblog.sqlite'}"
    if not config["MEDIA_PATH"]:
        config["MEDIA_PATH"] = str(instance_path / "media")
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(instance_path)
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")
    config["OEMBED_ENDPOINTS"] = _endpoints(config["OEMBED_ENDPOINTS"])
    config["PURGE_URLS"] = _http_urls(
        config["PURGE_URLS"],
        "LIVEBLOG_PURGE_URLS",
        "http(s) URLs such as http://10.0.0.5:8081/purge",
    )
    config["GRIP_URL"] = _http_urls(
        config["GRIP_URL"],
        "LIVEBLOG_GRIP_URL",
        "Pushpin's publish endpoint, such as http://127.0.0.1:5561/ (several: spaces between)",
    )
    config["PUBLISHER_LOGO_URL"] = _logo_url(config["PUBLISHER_LOGO_URL"])
    config["GRIP_KEY"] = _grip_key(config["GRIP_URL"], config["GRIP_KEY"])
    config["MAX_CONTENT_LENGTH"] = config["MAX_REQUEST_BYTES"]


def _parse(setting: Setting, raw: str) -> Any:
    kind = type(setting.default)
    if kind is bool:
        word = raw.strip().lower()
        if word not in _TRUE + _FALSE:
            raise SystemExit(f"LIVEBLOG_{setting.name} must be true or false, not {raw!r}")
        return word in _TRUE
    if kind in (int, float):
        try:
            value = kind(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            wanted = "a whole number" if kind is int else "a number"
            raise SystemExit(f"LIVEBLOG_{setting.name} must be {wanted}, not {raw!r}")
        if value < 0 or (value == 0 and setting.name in _POSITIVE):
            bound = "above zero" if setting.name in _POSITIVE else "zero or more"
            raise SystemExit(f"LIVEBLOG_{setting.name} must be {bound}, not {raw!r}")
        return value
    return raw


def _endpoints(value: Any) -> dict[str, str] | None:
    """OEMBED_ENDPOINTS as a mapping (the environment gives it as JSON)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = False
    if value is None or (
        isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    ):
        return value
    raise SystemExit(
        'LIVEBLOG_OEMBED_ENDPOINTS must be a JSON object such as {"x": "https://example.org/oembed"}'
    )


def _http_urls(value: Any, name: str, wanted: str) -> list[str]:
    """A setting of http(s) URLs as a list (the environment gives them in one string)."""
    urls = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value or [])
    for url in urls:
        if url and not _is_http_url(url):
            raise SystemExit(f"{name} must be {wanted}, not {url!r}")
    return [url for url in urls if url]


def _logo_url(value: Any) -> str | None:
    """PUBLISHER_LOGO_URL, once it is an http(s) URL or a path on this site."""
    if not value:
        return None
    url = str(value)
    if (url.startswith("/") and not url.startswith("//")) or _is_http_url(url):
        return url
    raise SystemExit(
        "LIVEBLOG_PUBLISHER_LOGO_URL must be an http(s) URL or a path on this site such as "
        f"/media/logo.png, not {url!r}"
    )


def _is_http_url(url: Any) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except (TypeError, ValueError, AttributeError):
        return False


def _grip_key(urls: list[str], key: Any) -> bytes | None:
    """GRIP_KEY as the bytes Pushpin signs with, once it is found usable with GRIP_URL."""
    if not urls and not key:
        return None
    if not (urls and key):
        raise SystemExit(
            "LIVEBLOG_GRIP_URL and LIVEBLOG_GRIP_KEY go together: set both for Pushpin to hold "
            "the live streams, or neither for the app to serve them itself"
        )
    if isinstance(key, str):
        try:
            # Pushpin reads a sig_key beginning with base64: as the bytes it encodes.
            key = base64.b64decode(key[7:], validate=True) if key.startswith("base64:") else key
        except ValueError:
            raise SystemExit("LIVEBLOG_GRIP_KEY begins with base64: but is not base64") from None
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < 32:
        # HS256 keys shorter than its hash are weak (and Pushpin's shipped placeholder is).
        raise SystemExit(
            "LIVEBLOG_GRIP_KEY must be at least 32 bytes, the same as Pushpin's sig_key: "
            "make one with `openssl rand -base64 48`"
        )
    return raw


def _instance_secret(instance_path: Path) -> str:
    """Return the instance's secret key, creating it (readable by the owner only) once."""
    path = instance_path / "secret_key"
    instance_path.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: processes starting together (WSGI workers)
        # never read a half-written key, and the first link wins for all of them.
        fd, draft = tempfile.mkstemp(dir=instance_path, prefix=".secret_key-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()
