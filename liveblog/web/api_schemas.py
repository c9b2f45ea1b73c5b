"""JSON Schemas of what the editor API takes and gives, for its OpenAPI document.

Enumerations, limits and field lists come from the constants the code validates with;
tests hold the field lists to the readers'. Response schemas allow no field they do
not name, so schemathesis notices any the code adds without saying so.
"""

from typing import Any

from ..accounts import MAX_BIO
from ..accounts import MAX_LINKS
from ..accounts import PROFILE_FIELDS
from ..blocks import BLOCK_TYPES
from ..blocks import IMAGE_FIELDS
from ..blocks import MAX_BLOCKS
from ..blocks import MAX_MARKDOWN
from ..blogs import MAX_EMBED_ORIGINS
from ..blogs import SLUG
from ..desks import MEMBER_FIELDS
from ..embeds.providers import PROVIDER_KEYS
from ..models import BLOG_STATUSES
from ..models import DESK_ROLES
from ..models import ENTRY_STATUSES
from ..models import READING_ORDERS
from ..models import REVIEW_STATES
from ..models import ROLES
from ..publishing import ENTRY_INPUT_STATUSES
from ..publishing import MAX_AUTHORS
from ..publishing import MAX_CORRECTION
from ..store import MAX_ID

Schema = dict[str, Any]

# What the API's own routes read (the entry and blog fields are the use cases').
USER_FIELDS = ("email", "name", "role", "password")
USER_CHANGES = ("role", "active", "password", *PROFILE_FIELDS)
TOKEN_FIELDS = ("label",)
RESOLVE_FIELDS = ("url",)
LABEL_FIELDS = ("body",)
MAX_PAGE_SIZE = 200


def text(max_length: int = 1000, *, nullable: bool = False, **more: Any) -> Schema:
    """A string the server trims; blank counts as absent."""
    return {"type": ["string", "null"] if nullable else "string", "maxLength": max_length, **more}


def moment(*, nullable: bool = False) -> Schema:
    return {"type": ["string", "null"] if nullable else "string", "format": "date-time"}


def number(low: float, high: float, *, integer: bool = False) -> Schema:
    return {"type": "integer" if integer else "number", "minimum": low, "maximum": high}


def choice(values: tuple[str, ...], *, nullable: bool = False) -> Schema:
    return {"enum": [*values, None] if nullable else list(values)}


def record(properties: dict[str, Schema], *required: str) -> Schema:
    """An object with exactly these properties (and ``required`` among them)."""
    found: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        found["required"] = list(required)
    return found


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def listing(item: str, *, paged: bool = False) -> Schema:
    properties: dict[str, Schema] = {"items": {"type": "array", "items": ref(item)}}
    if paged:
        properties["next"] = {"type": ["string", "null"], "description": "The next page, if any"}
    return record(properties, *properties)


LINK = {"type": "string", "maxLength": 2000, "description": "An http(s) URL"}
LINK_OR_PATH = {"type": "string", "maxLength": 2000, "description": "An http(s) URL or a /path"}
PIXELS = number(1, 20_000, integer=True)
EMBED_ORIGINS = {
    "type": ["array", "null"],
    "maxItems": MAX_EMBED_ORIGINS,
    "items": {"type": "string", "examples": ["https://news.example"]},
    "description": "The sites that may frame /<slug>/embed (https origins); null: any site",
}
POINT = record({"lat": number(-90, 90), "lon": number(-180, 180)}, "lat", "lon")
PERSON = record({"id": {"type": "integer"}, "name": {"type": "string"}}, "id", "name")

BLOCKS: dict[str, Schema] = {
    "text": record({"markdown": text(MAX_MARKDOWN)}, "markdown"),
    "social": record(
        {
            "url": LINK,
            "provider": choice(PROVIDER_KEYS),
            "author_name": text(200),
            "author_handle": text(200),
            "author_url": LINK,
            "text": text(10_000),
            "posted_at": moment(),
            "media": {
                "type": "array",
                "maxItems": 10,
                "items": record({"url": LINK_OR_PATH, "alt": text()}, "url"),
            },
        }
    ),
    "map": record(
        {
            "center": POINT,
            "zoom": number(0, 19, integer=True),
            "markers": {
                "type": "array",
                "maxItems": 200,
                "items": record({**POINT["properties"], "label": text(200)}, "lat", "lon"),
            },
            "geojson": {"type": ["object", "null"], "description": "RFC 7946, at most 200 kB"},
            "image": record({"url": LINK_OR_PATH, "alt": text()}, "url", "alt"),
            "caption": text(2000),
            "credit": text(300),
        },
        "center",
    ),
    "image": record(
        {
            "url": LINK_OR_PATH,
            "alt": text(),
            "caption": text(2000),
            "credit": text(300),
            "width": PIXELS,
            "height": PIXELS,
        },
        "url",
        "alt",
    ),
    "video": record(
        {
            "url": LINK,
            "provider": choice(("youtube", "vimeo")),
            "title": text(300),
            "poster": record({"url": LINK_OR_PATH, "width": PIXELS, "height": PIXELS}, "url"),
            "caption": text(2000),
        },
        "url",
    ),
}


def block_schema(kind: str) -> Schema:
    """A block of ``kind``: its fields, with ``type`` saying which it is."""
    found = BLOCKS[kind]
    return {
        **found,
        "properties": {"type": {"const": kind}, **found["properties"]},
        "required": ["type", *found.get("required", [])],
    }


ENTRY_INPUT: dict[str, Schema] = {
    "headline": text(300, nullable=True),
    "body": text(
        MAX_MARKDOWN,
        description="Markdown; a known post or video link alone on a line becomes its block",
    ),
    "blocks": {"type": "array", "maxItems": MAX_BLOCKS, "items": ref("Block")},
    "published_at": moment(nullable=True),
    "status": choice(ENTRY_INPUT_STATUSES),
    "pinned": {"type": "boolean"},
    "key_event": {"type": "boolean"},
    "review": choice(REVIEW_STATES),
    "review_note": text(nullable=True),
    "correction": text(
        MAX_CORRECTION,
        nullable=True,
        description="Editors, on editing a published entry: a public note (plain text) "
        "of what was corrected, shown to readers with the entry",
    ),
    "authors": {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_AUTHORS,
        "items": {"type": "integer"},
        "description": "The ids of the active users the byline names, in order; "
        "by default the one who posts",
    },
}
NEW_ENTRY_INPUT: dict[str, Schema] = {
    **ENTRY_INPUT,
    "keep_label": {
        "type": "boolean",
        "description": "Keep a label at the body's start as text, rather than as the time",
    },
}

PHOTO_INPUT = record(
    {"url": {**LINK_OR_PATH, "description": "An upload's /media/uploads/… URL"}, "alt": text(300)},
    "url",
    "alt",
)
PROFILE_INPUT: dict[str, Schema] = {
    "name": text(200, nullable=True, description="The name bylines show"),
    "title": text(200, nullable=True, examples=["Middle East correspondent"]),
    "bio": text(MAX_BIO, nullable=True, description="Plain text"),
    "links": {"type": ["array", "null"], "maxItems": MAX_LINKS, "items": LINK},
    "slug": text(
        80, nullable=True, description="The author page's address: /authors/<slug>, else /<id>"
    ),
    "photo": {"oneOf": [PHOTO_INPUT, {"type": "null"}]},
}
PROFILE: dict[str, Schema] = {
    "title": {"type": "string"},
    "bio": {"type": "string"},
    "links": {"type": "array", "items": {"type": "string"}},
    "slug": {"type": ["string", "null"]},
    "photo": {
        "oneOf": [
            record(
                {
                    "url": {"type": "string"},
                    "alt": {"type": "string"},
                    "width": {"type": "integer"},
                    "height": {"type": "integer"},
                },
                *("url", "alt", "width", "height"),
            ),
            {"type": "null"},
        ]
    },
    "url": {"type": "string", "description": "The author page"},
}

IMAGE = record({name: BLOCKS["image"]["properties"][name] for name in IMAGE_FIELDS}, "url", "alt")


def blog_input(themes: list[str]) -> dict[str, Schema]:
    found: dict[str, Schema] = {
        "slug": text(80, pattern=f"^{SLUG.pattern}$", description="Fixed once created"),
        "title": text(300),
        "standfirst": text(2000, nullable=True),
        "top_image": {"oneOf": [IMAGE, {"type": "null"}]},
        "status": choice(BLOG_STATUSES),
        "timezone": text(64, description="An IANA time zone such as Europe/London"),
        "label_format": text(
            100,
            description="strftime directives %H %M %I %p %d %m %y %Y %b %B %a %A %e %Z; "
            "the default, UPDATE %H%M %Z, is said in the blog's language",
        ),
        "language": text(
            35,
            description="A language tag such as en, ar or pt-BR: what readers' pages say "
            "around the entries, and their direction; English where no catalog has it",
        ),
        "theme": choice(tuple(themes)),
        "embed_widgets": {"type": "boolean"},
        "embed_origins": EMBED_ORIGINS,
        "ended_order": {
            **choice(READING_ORDERS),
            "description": "How the live page opens once the blog has ended",
        },
    }
    return found


def schemas(themes: list[str]) -> dict[str, Schema]:
    """Every schema the paths refer to."""
    stamp = moment()
    blog_fields = blog_input(themes)
    return {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details; detail says what to do",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": record(
                        {"field": {"type": "string"}, "message": {"type": "string"}},
                        "field",
                        "message",
                    ),
                },
                "block": {**ref("Block"), "description": "A start for a snapshot by hand"},
            },
            "required": ["type", "title", "status", "detail"],
            "additionalProperties": False,
        },
        "Block": {
            "oneOf": [ref(f"{kind.capitalize()}Block") for kind in BLOCK_TYPES],
            "discriminator": {
                "propertyName": "type",
                "mapping": {
                    kind: f"#/components/schemas/{kind.capitalize()}Block" for kind in BLOCK_TYPES
                },
            },
        },
        **{f"{kind.capitalize()}Block": block_schema(kind) for kind in BLOCK_TYPES},
        "Image": IMAGE,
        "BlogCreate": record(blog_fields, "slug", "title"),
        "BlogChange": record(blog_fields),
        "Blog": record(
            {
                "id": {"type": "integer"},
                "slug": {"type": "string"},
                "title": {"type": "string"},
                "standfirst": {"type": "string"},
                "top_image": {"oneOf": [IMAGE, {"type": "null"}]},
                "status": choice(BLOG_STATUSES),
                "timezone": {"type": "string"},
                "label_format": {"type": "string"},
                "language": {"type": "string"},
                "theme": {"type": "string"},
                "embed_widgets": {"type": "boolean"},
                "embed_origins": EMBED_ORIGINS,
                "ended_order": choice(READING_ORDERS),
                "last_seq": {"type": "integer", "description": "The blog's latest change"},
                "created_at": stamp,
                "updated_at": stamp,
                "started_at": moment(nullable=True),
                "ended_at": moment(nullable=True),
                "url": {"type": "string", "description": "The live page"},
                "entries": {"type": "string", "description": "Its entries in this API"},
            },
            *("id", "slug", "title", "status", "last_seq", "url", "entries"),
        ),
        "EntryInput": {**record(ENTRY_INPUT), "description": "body or blocks, or both"},
        "EntryCreate": {
            **record(NEW_ENTRY_INPUT),
            "description": "body or blocks, or both; a label at the body's start gives the time",
        },
        "Entry": record(
            {
                "id": {"type": "integer"},
                "blog": {"type": "string"},
                "author": {**PERSON, "description": "Who posted it"},
                "authors": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "The ids of the users the byline names, in order",
                },
                "headline": {"type": ["string", "null"]},
                "blocks": {"type": "array", "items": ref("Block")},
                "status": choice(ENTRY_STATUSES),
                "published_at": moment(nullable=True),
                "pinned": {"type": "boolean"},
                "key_event": {"type": "boolean"},
                "review": choice(REVIEW_STATES, nullable=True),
                "review_note": {"type": ["string", "null"]},
                "version": {
                    "type": "integer",
                    "description": "The entry's ETag is its quoted version",
                },
                "created_at": stamp,
                "updated_at": stamp,
                "edited_at": moment(nullable=True),
                "corrections": {
                    "type": "array",
                    "description": "Public correction notes, oldest first",
                    "items": record(
                        {
                            "note": {"type": "string"},
                            "created_at": stamp,
                            "version": {"type": "integer"},
                        },
                        "note",
                        "created_at",
                        "version",
                    ),
                },
                "label": {"type": ["string", "null"], "examples": ["UPDATE 0745 GMT"]},
                "html": {"type": "string", "description": "Sanitised, as readers see it"},
                "permalink": {"type": "string"},
                "unresolved": {
                    "type": "array",
                    "description": "Bare post or video links still to be looked up, or whose "
                    "look-up failed (readers see a link card); retry with POST …/lookups",
                    "items": record(
                        {
                            "block": {"type": "integer", "description": "Its index in blocks"},
                            "url": {"type": "string"},
                            "state": choice(("pending", "failed")),
                            "reason": {"type": ["string", "null"]},
                        },
                        *("block", "url", "state", "reason"),
                    ),
                },
            },
            *("id", "blog", "author", "authors", "blocks", "status", "version", "html"),
            "permalink",
        ),
        "Revision": record(
            {
                "version": {"type": "integer"},
                "editor": PERSON,
                "created_at": stamp,
                "headline": {"type": ["string", "null"]},
                "blocks": {"type": "array", "items": ref("Block")},
                "status": choice(ENTRY_STATUSES),
                "published_at": moment(nullable=True),
                "pinned": {"type": "boolean"},
                "key_event": {"type": "boolean"},
            },
            "version",
            "editor",
            "created_at",
        ),
        "Preview": record(
            {"html": {"type": "string"}, "label": {"type": "string"}}, "html", "label"
        ),
        "LabelsInput": record({"body": text(MAX_MARKDOWN)}, "body"),
        "ReadLabel": record(
            {
                "written": {"type": "string", "examples": ["UPDATE 0745 GMT:"]},
                "published_at": stamp,
                "label": {"type": "string", "examples": ["UPDATE 0745 GMT"]},
                "understood": {
                    "type": "string",
                    "examples": ["UPDATE 0745 GMT, today 1 December"],
                },
                "note": {"type": ["string", "null"]},
                "body": {"type": "string", "description": "The text without its label"},
            },
            *("written", "published_at", "label", "understood", "note", "body"),
        ),
        "Labels": record(
            {
                "label": {"oneOf": [ref("ReadLabel"), {"type": "null"}]},
                "updates": {
                    "type": "array",
                    "items": ref("ReadLabel"),
                    "description": "Paragraphs that each start with a label: one entry each",
                },
            },
            "label",
            "updates",
        ),
        "Token": record(
            {
                "id": {"type": "integer"},
                "label": {"type": "string"},
                "created_at": stamp,
                "revoked_at": moment(nullable=True),
            },
            "id",
            "label",
        ),
        "NewToken": record(
            {"token": {"type": "string", "description": "Shown only this once"}}, "token"
        ),
        "TokenCreate": record({"label": text(200)}),
        "User": record(
            {
                "id": {"type": "integer"},
                "email": {"type": "string"},
                "name": {"type": "string"},
                "role": choice(ROLES),
                "active": {"type": "boolean"},
                "has_password": {"type": "boolean"},
                "created_at": stamp,
                "tokens": {"type": "array", "items": ref("Token")},
                **PROFILE,
            },
            *("id", "email", "name", "role", "active", *PROFILE),
        ),
        "UserCreate": record(
            {
                "email": text(254, format="email"),
                "name": text(200, nullable=True),
                "role": choice(ROLES),
                "password": text(
                    nullable=True, description="At least 10 characters; none: tokens only"
                ),
            },
            "email",
            "role",
        ),
        "UserChange": record(
            {
                "role": choice(ROLES),
                "active": {"type": "boolean"},
                "password": text(),
                **PROFILE_INPUT,
            }
        ),
        "ProfileChange": record(PROFILE_INPUT),
        "MemberInput": record(
            dict(
                zip(
                    MEMBER_FIELDS,
                    (
                        {**number(1, MAX_ID - 1, integer=True), "description": "The user's id"},
                        {**choice(DESK_ROLES), "description": "At most the user's own role"},
                    ),
                    strict=True,
                )
            ),
            *MEMBER_FIELDS,
        ),
        "Member": record(
            {
                "id": {"type": "integer", "description": "The user's id"},
                "name": {"type": "string"},
                "role": {**choice(ROLES), "description": "The role on this blog's desk"},
                "account_role": {**choice(ROLES), "description": "The user's own role"},
                "active": {"type": "boolean"},
            },
            *("id", "name", "role", "account_role", "active"),
        ),
        "Resolve": record({"url": LINK}, "url"),
        "Resolved": record(
            {"block": ref("Block"), "cached": {"type": "boolean"}}, "block", "cached"
        ),
        "Upload": record(
            {
                "url": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "type": {"type": "string"},
                "sizes": {
                    "type": "array",
                    "items": record({"url": {"type": "string"}, "width": {"type": "integer"}}),
                },
                "srcset": {"type": "string"},
            },
            *("url", "width", "height", "type", "sizes", "srcset"),
        ),
        "BlogList": listing("Blog"),
        "EntryList": listing("Entry", paged=True),
        "RevisionList": listing("Revision"),
        "UserList": listing("User"),
        "MemberList": listing("Member"),
    }
