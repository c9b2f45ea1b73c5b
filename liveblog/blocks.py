"""An entry's content: an ordered list of typed blocks, validated per type. Pure."""

import json
import re
from collections.abc import Callable
from typing import Any

from .embeds import providers
from .errors import FieldError
from .validation import Fields
from .validation import compact
from .validation import present

BLOCK_TYPES = ("text", "social", "map", "image", "video")
MAX_BLOCKS = 50
MAX_MARKDOWN = 50_000
MAX_GEOJSON_BYTES = 200_000
GEOJSON_GEOMETRIES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)

Block = dict[str, Any]


def validate_blocks(items: list[tuple[str, Any]], errors: list[FieldError]) -> list[Block]:
    """Clean blocks from (path, raw) pairs; problems go to ``errors``."""
    blocks = []
    for path, raw in items:
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind not in BLOCK_TYPES:
            errors.append(FieldError(f"{path}.type", f"must be one of: {', '.join(BLOCK_TYPES)}"))
            continue
        allowed, reader = _READERS[kind]
        fields = Fields(raw, path, errors, ("type", *allowed))
        block = reader(fields)
        if block is not None:
            blocks.append({"type": kind, **block})
    return blocks


def _text(fields: Fields) -> Block | None:
    markdown = fields.string("markdown", required=True, max_length=MAX_MARKDOWN, multiline=True)
    return {"markdown": markdown} if present(markdown) else None


def _social(fields: Fields) -> Block:
    url = fields.url("url")
    provider = fields.choice("provider", providers.PROVIDER_KEYS)
    if not present(provider) and present(url):
        known = providers.match(url)
        provider = known.key if known else "other"
    block = compact(
        url=url,
        provider=provider,
        author_name=fields.string("author_name", max_length=200),
        author_handle=fields.string("author_handle", max_length=200),
        author_url=fields.url("author_url"),
        text=fields.string("text", max_length=10_000, multiline=True),
        posted_at=_iso(fields.datetime("posted_at", nullable=True)),
        media=_media(fields),
    )
    if "url" not in block and "text" not in block:
        fields.error("", "needs a url, or the post's text when it cannot be linked")
    return block


def _media(fields: Fields) -> Any:
    items = fields.items("media", max_items=10)
    if not present(items):
        return items
    media = []
    for path, raw in items:
        item = Fields(raw, path, fields.errors, ("url", "alt"))
        media.append(
            compact(url=item.url("url", required=True, allow_path=True), alt=item.string("alt"))
        )
    return media or None


IMAGE_FIELDS = ("url", "alt", "caption", "credit", "width", "height")


def read_image(fields: Fields) -> Block:
    """An image's fields (an ``image`` block's, or a blog's top photo): alt text required."""
    return compact(
        url=fields.url("url", required=True, allow_path=True),
        alt=fields.string("alt", required=True, max_length=1000),
        caption=fields.string("caption", max_length=2000, multiline=True),
        credit=fields.string("credit", max_length=300),
        width=fields.number("width", 1, 20_000, integer=True),
        height=fields.number("height", 1, 20_000, integer=True),
    )


def _video(fields: Fields) -> Block:
    url = fields.url("url", required=True)
    provider = providers.match(url) if present(url) else None
    if present(url) and (provider is None or provider.kind != "video"):
        fields.error("url", "must be a YouTube or Vimeo video link")
    return compact(
        url=url,
        provider=provider.key if provider else None,
        title=fields.string("title", max_length=300),
        poster=_poster(fields),
        caption=fields.string("caption", max_length=2000, multiline=True),
    )


def _poster(fields: Fields) -> Any:
    """A video's poster image: a file on this site, so nothing is fetched from the provider
    until the reader asks for the video."""
    poster = fields.object("poster", ("url", "width", "height"))
    if not isinstance(poster, Fields):
        return poster
    url = poster.url("url", required=True, allow_path=True)
    if isinstance(url, str) and not url.startswith("/"):
        poster.error("url", "must be a path on this site, such as an upload's /media/… URL")
    return compact(
        url=url if isinstance(url, str) and url.startswith("/") else None,
        width=poster.number("width", 1, 20_000, integer=True),
        height=poster.number("height", 1, 20_000, integer=True),
    )


def _map(fields: Fields) -> Block:
    center = fields.object("center", ("lat", "lon"), required=True)
    image = fields.object("image", ("url", "alt"))
    block = compact(
        center=_point(center) if isinstance(center, Fields) else None,
        zoom=fields.number("zoom", 0, 19, integer=True),
        markers=_markers(fields),
        geojson=_geojson(fields),
        image=compact(
            url=image.url("url", required=True, allow_path=True),
            alt=image.string("alt", required=True, max_length=1000),
        )
        if isinstance(image, Fields)
        else None,
        caption=fields.string("caption", max_length=2000, multiline=True),
        credit=fields.string("credit", max_length=300),
    )
    block.setdefault("zoom", 10)
    return block


def _markers(fields: Fields) -> Any:
    items = fields.items("markers", max_items=200)
    if not present(items):
        return items
    markers = []
    for path, raw in items:
        marker = Fields(raw, path, fields.errors, ("lat", "lon", "label"))
        markers.append(compact(**_point(marker), label=marker.string("label", max_length=200)))
    return markers


def _point(fields: Fields) -> dict[str, Any]:
    return compact(
        lat=fields.number("lat", -90, 90, required=True),
        lon=fields.number("lon", -180, 180, required=True),
    )


def _geojson(fields: Fields) -> Any:
    if not fields.has("geojson") or fields.data["geojson"] is None:
        return None
    value = fields.data["geojson"]
    if len(json.dumps(value)) > MAX_GEOJSON_BYTES:
        fields.error("geojson", f"must be at most {MAX_GEOJSON_BYTES // 1000} kB")
        return None
    try:
        text = json.dumps(value, ensure_ascii=False).encode("utf-8").decode("utf-8")
    except UnicodeEncodeError:
        fields.error("geojson", "contains invalid Unicode")
        return None
    if "\\u0000" in text:  # PostgreSQL cannot store NUL in text
        fields.error("geojson", "must not contain NUL characters")
        return None
    problem = _geojson_problem(value, depth=0)
    if problem:
        fields.error(f"geojson{problem[0]}", problem[1])
        return None
    return value


def _geojson_problem(value: Any, depth: int) -> tuple[str, str] | None:
    """(path, message) for the first thing wrong with a GeoJSON object (RFC 7946), or None."""
    if depth > 4:
        return "", "is nested too deeply"
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return "", "must be a GeoJSON object with a type"
    kind = value["type"]
    if kind == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list):
            return ".features", "must be a list"
        for index, feature in enumerate(features):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                return f".features[{index}]", "must be a Feature"
            problem = _geojson_problem(feature, depth + 1)
            if problem:
                return f".features[{index}]{problem[0]}", problem[1]
        return None
    if kind == "Feature":
        if not isinstance(value.get("properties", {}), dict | None):
            return ".properties", "must be an object or null"
        geometry = value.get("geometry")
        if geometry is None:
            return None
        problem = _geojson_problem(geometry, depth + 1)
        return (f".geometry{problem[0]}", problem[1]) if problem else None
    if kind == "GeometryCollection":
        geometries = value.get("geometries")
        if not isinstance(geometries, list):
            return ".geometries", "must be a list"
        for index, geometry in enumerate(geometries):
            problem = _geojson_problem(geometry, depth + 1)
            if problem:
                return f".geometries[{index}]{problem[0]}", problem[1]
        return None
    if kind not in GEOJSON_GEOMETRIES:
        return ".type", "must be a GeoJSON type such as Feature, Point, LineString or Polygon"
    nesting = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2}
    problem = _positions_problem(value.get("coordinates"), nesting.get(kind, 3))
    return (f".coordinates{problem[0]}", problem[1]) if problem else None


def _positions_problem(value: Any, nesting: int) -> tuple[str, str] | None:
    if nesting == 0:
        if (
            not isinstance(value, list)
            or len(value) not in (2, 3)
            or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in value)
        ):
            return "", "must be a position [longitude, latitude]"
        if not -180 <= value[0] <= 180:
            return "[0]", "longitude must be between -180 and 180"
        if not -90 <= value[1] <= 90:
            return "[1]", "latitude must be between -90 and 90"
        return None
    if not isinstance(value, list) or not value:
        return "", "must be a non-empty list of coordinates"
    for index, item in enumerate(value):
        problem = _positions_problem(item, nesting - 1)
        if problem:
            return f"[{index}]{problem[0]}", problem[1]
    return None


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


_READERS: dict[str, tuple[tuple[str, ...], Callable[[Fields], Block | None]]] = {
    "text": (("markdown",), _text),
    "social": (
        (
            "url",
            "provider",
            "author_name",
            "author_handle",
            "author_url",
            "text",
            "posted_at",
            "media",
        ),
        _social,
    ),
    "map": (("center", "zoom", "markers", "geojson", "image", "caption", "credit"), _map),
    "image": (IMAGE_FIELDS, read_image),
    # "provider" is read from the URL; it is accepted so that a block read back can be sent back.
    "video": (("url", "provider", "title", "poster", "caption"), _video),
}

_BARE_URL = re.compile(r"<?(https?://\S+?)>?")
_FENCE = re.compile(r"^(`{3,}|~{3,})")


def blocks_from_markdown(body: str) -> list[Block]:
    """Split Markdown into blocks: a known social or video URL alone on a line becomes its own."""
    blocks: list[Block] = []
    text: list[str] = []
    in_fence = ""  # the fence character (` or ~) while inside a fenced code block

    def flush() -> None:
        markdown = "\n".join(text).strip("\n").rstrip()
        if markdown.strip():
            blocks.append({"type": "text", "markdown": markdown})
        text.clear()

    for line in body.replace("\r\n", "\n").split("\n"):
        fence = _FENCE.match(line.strip())
        if fence and (not in_fence or fence.group(1)[0] == in_fence):
            in_fence = "" if in_fence else fence.group(1)[0]
        in_code = bool(in_fence) or line.startswith(("    ", "\t"))
        bare = None if in_code else _BARE_URL.fullmatch(line.strip())
        provider = providers.match(bare.group(1)) if bare else None
        if bare and provider:
            flush()
            blocks.append({"type": provider.kind, "url": bare.group(1), "provider": provider.key})
        else:
            text.append(line)
    flush()
    return blocks
