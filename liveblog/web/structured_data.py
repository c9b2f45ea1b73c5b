"""schema.org structured data (JSON-LD) for the live page and each permalink.

tests/test_structured_data.py holds every type and property used here to the schema.org
vocabulary in tests/data.
"""

from datetime import datetime
from typing import Any

from flask import current_app

from ..blocks import Block
from ..corrections import last_modified
from ..models import Blog
from ..models import Entry
from ..models import User
from ..summaries import plain_text
from ..themes import iso_seconds
from .templating import absolute_url
from .templating import entry_view
from .templating import picture_of
from .urls import absolute
from .urls import author_url
from .urls import blog_url

JsonLd = dict[str, Any]


def _iso(moment: datetime | None) -> str | None:
    return iso_seconds(moment) if moment else None


def _web_page(url: str) -> JsonLd:
    return {"@type": "WebPage", "@id": url, "url": url}


def _image_object(picture: dict[str, Any]) -> JsonLd:
    return {"@type": "ImageObject", **picture}


def _publisher() -> JsonLd:
    config = current_app.config
    publisher: JsonLd = {"@type": "Organization", "name": config["SITE_NAME"], "url": absolute("/")}
    if config["PUBLISHER_LOGO_URL"]:
        sides = {"width": config["PUBLISHER_LOGO_WIDTH"], "height": config["PUBLISHER_LOGO_HEIGHT"]}
        publisher["logo"] = _image_object(
            {"url": absolute_url(config["PUBLISHER_LOGO_URL"])}
            | {side: int(pixels) for side, pixels in sides.items() if pixels}
        )
    return publisher


def map_place(block: Block) -> JsonLd:
    """The place a map shows: its first marker (with the marker's name), else its centre."""
    point = (block.get("markers") or [block["center"]])[0]
    place: JsonLd = {"@type": "Place"}
    if point.get("label"):
        place["name"] = point["label"]
    place["geo"] = {"@type": "GeoCoordinates", "latitude": point["lat"], "longitude": point["lon"]}
    return place


def person(user: User) -> dict[str, Any]:
    """schema.org Person for an author: their page, title and photo as bylines show them."""
    found: dict[str, Any] = {"@type": "Person", "name": user.name}
    if user.active:
        found["url"] = author_url(user)
        if user.title:
            found["jobTitle"] = user.title
        if user.photo:
            found["image"] = absolute_url(user.photo["url"])
    return found


def profile_page(user: User) -> dict[str, Any]:
    """schema.org ProfilePage for an author page."""
    return {
        "@context": "https://schema.org",
        "@type": "ProfilePage",
        "url": author_url(user),
        "mainEntity": {
            **person(user),
            **({"description": user.bio} if user.bio else {}),
            **({"sameAs": user.links} if user.links else {}),
        },
    }


def blog_posting(blog: Blog, entry: Entry) -> JsonLd:
    """schema.org BlogPosting for one entry."""
    view = entry_view(blog, entry)
    data: JsonLd = {
        "@type": "BlogPosting",
        "@id": view.url,
        "url": view.url,
        "mainEntityOfPage": _web_page(view.url),
        "headline": f"{view.title} — {blog.title}"[:110],
        "datePublished": _iso(entry.published_at),
        "dateModified": _iso(last_modified(entry) or entry.published_at),
        "articleBody": plain_text(entry.html),
        "author": [person(user) for user in entry.credited()],
        "publisher": _publisher(),
        "inLanguage": blog.language,
    }
    places = [map_place(block) for block in entry.blocks if block["type"] == "map"]
    if places:
        data["contentLocation"] = places[0] if len(places) == 1 else places
    if picture := picture_of(blog, entry):
        data["image"] = _image_object(picture)
    if corrections := _corrections(entry):
        data["correction"] = corrections
    return data


def _corrections(entry: Entry) -> list[JsonLd]:
    """The entry's correction notes as schema.org CorrectionComments, oldest first."""
    return [
        {
            "@type": "CorrectionComment",
            "text": correction.note,
            "datePublished": _iso(correction.created_at),
        }
        for correction in entry.corrections
    ]


def update_page(blog: Blog, entry: Entry) -> JsonLd:
    """A permalink's JSON-LD: the entry, part of the blog's live coverage."""
    return {
        "@context": "https://schema.org",
        **blog_posting(blog, entry),
        "isPartOf": {"@type": "LiveBlogPosting", "@id": blog_url(blog), "url": blog_url(blog)},
    }


def live_blog_posting(
    blog: Blog,
    entries: list[Entry],
    *,
    first_update: datetime | None,
    first_map: Block | None,
) -> JsonLd:
    """schema.org LiveBlogPosting for the live page, as Google documents it.

    :param first_update: when the earliest published entry is dated: coverage starts then
        when editors back-dated it before the blog went live.
    :param first_map: the blog's first map, which places the event the blog is about.
    """
    went_live = blog.started_at or blog.created_at
    coverage_start = min(went_live, first_update) if first_update else went_live
    ended = blog.ended_at if blog.status == "ended" else None
    event: JsonLd = {"@type": "Event", "name": blog.title, "startDate": _iso(coverage_start)}
    if ended:
        event["endDate"] = _iso(ended)
    if first_map:
        event["location"] = map_place(first_map)
    data: JsonLd = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "@id": blog_url(blog),
        "url": blog_url(blog),
        "mainEntityOfPage": _web_page(blog_url(blog)),
        "headline": blog.title[:110],
        "description": blog.standfirst or blog.title,
        "inLanguage": blog.language,
        "datePublished": _iso(went_live),
        "dateModified": _iso(max(blog.changed_at, blog.updated_at)),
        "coverageStartTime": _iso(coverage_start),
        "about": event,
        "publisher": _publisher(),
        "author": _publisher(),
        "liveBlogUpdate": [blog_posting(blog, entry) for entry in entries],
    }
    if ended:
        data["coverageEndTime"] = _iso(ended)
    if picture := picture_of(blog):
        data["image"] = _image_object(picture)
    return data
