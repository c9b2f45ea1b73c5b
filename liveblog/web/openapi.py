"""The editor API's contract: an OpenAPI 3.1 document for every route under /api/v1.

Built from the schemas in api_schemas and the constants the code validates with; tests
hold it to the code: every route and method is here, and schemathesis checks every
answer, status and field against it.
"""

import json
from importlib.resources import files
from typing import Any

from ..blogs import SLUG
from ..store import MAX_ID
from .api_schemas import MAX_PAGE_SIZE
from .api_schemas import Schema
from .api_schemas import number
from .api_schemas import record
from .api_schemas import ref
from .api_schemas import schemas

ERRORS = {
    400: "The body or a parameter is not what it must be (not JSON, a bad cursor…)",
    401: "No valid credentials: a bearer token, or the session cookie with its CSRF header",
    403: "Your role may not do this, or you are not on the blog's desk",
    404: "No such blog, entry, user or token (or none you may see)",
    409: "It conflicts with what is stored (a slug or email taken, an entry deleted)",
    410: "The blog has been deleted",
    412: "If-Match names a version that is no longer the entry's (or blog's)",
    413: "The body is too large",
    415: "Not the media type this route takes",
    422: "A field is wrong; errors names each one",
    428: "Send If-Match with the entry's (or blog's) ETag",
    502: "The provider failed; block is a start for a snapshot by hand",
    503: "The storage cannot be used right now; nothing was lost (see Retry-After)",
    504: "The provider did not answer in time",
}
ALWAYS = (401, 503)
# Every route under /blogs/{slug}: someone off the blog's desk is refused, and a deleted
# blog is gone for every caller.
ON_A_BLOG = (403, 410)
WITH_BODY = (400, 413, 415, 422)


def body(schema: Schema, media_type: str = "application/json") -> Schema:
    return {"required": True, "content": {media_type: {"schema": schema}}}


def operation(
    summary: str,
    ok: tuple[int, str | None],
    *errors: int,
    request: Schema | None = None,
    parameters: tuple[Schema, ...] = (),
) -> Schema:
    """An operation answering ``ok`` (status, schema name) or one of ``errors`` (and the
    errors every call may get)."""
    status, answer = ok
    responses: dict[str, Schema] = {
        str(status): {"description": "Done"}
        if answer is None
        else {"description": "Done", "content": {"application/json": {"schema": ref(answer)}}}
    }
    on_a_blog = SLUG_PARAMETER in parameters
    for code in sorted(
        {*errors, *ALWAYS, *(WITH_BODY if request else ()), *(ON_A_BLOG if on_a_blog else ())}
    ):
        responses[str(code)] = {"$ref": f"#/components/responses/{code}"}
    found: Schema = {"summary": summary, "responses": responses}
    if parameters:
        found["parameters"] = list(parameters)
    if request is not None:
        found["requestBody"] = request
    return found


def path_parameter(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


SLUG_PARAMETER = path_parameter(
    "slug", {"type": "string", "pattern": f"^{SLUG.pattern}$", "maxLength": 80}, "The blog's slug"
)
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID - 1}
ENTRY_ID = path_parameter("entry_id", ID, "The entry's id")
USER_ID = path_parameter("user_id", ID, "The user's id")
TOKEN_ID = path_parameter("token_id", ID, "The token's id")
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "examples": ['"3"']},
    "description": "The entry's ETag (its quoted version): required, or 428",
}
BLOG_IF_MATCH = {
    **IF_MATCH,
    "schema": {"type": "string", "examples": ['"12-1490341500000000"']},
    "description": "The blog's ETag (from GET /blogs/{slug}): required, or 428",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {
        "type": "string",
        "maxLength": 257,
        "examples": ['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
    },
    "description": "A new key per entry (a UUID, say); the same request sent again with it "
    "by the same user within a day gets the entry it created (409 if deleted since), and "
    "another body with it a 422",
}
BLOG_ETAG = {"ETag": {"schema": {"type": "string"}, "description": "For If-Match on DELETE"}}
PAGING = (
    {"name": "limit", "in": "query", "schema": number(1, MAX_PAGE_SIZE, integer=True)},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "From next"},
)


def with_etag(found: Schema) -> Schema:
    """``found`` with the blog's ETag header on its answers that succeed."""
    for status, answer in found["responses"].items():
        if status.startswith("2"):
            answer["headers"] = BLOG_ETAG
    return found


def also_answering(found: Schema, status: int) -> Schema:
    """``found``, which may also succeed with ``status``, answering what its first success does."""
    first = next(answer for code, answer in found["responses"].items() if code.startswith("2"))
    found["responses"][str(status)] = first
    found["responses"] = dict(sorted(found["responses"].items()))
    return found


def paths() -> dict[str, Schema]:
    blog, entry = (SLUG_PARAMETER,), (SLUG_PARAMETER, ENTRY_ID)
    return {
        "/blogs": {
            "get": operation(
                "The blogs whose desks you are on (every blog, for admins), live ones first",
                (200, "BlogList"),
            ),
            "post": with_etag(
                operation(
                    "Create a blog (admins; its creator is its desk's first member)",
                    (201, "Blog"),
                    403,
                    409,
                    request=body(ref("BlogCreate")),
                )
            ),
        },
        "/blogs/{slug}": {
            "get": with_etag(
                operation("A blog (its desk and admins)", (200, "Blog"), 403, 404, parameters=blog)
            ),
            "patch": with_etag(
                operation(
                    "Change a blog's settings (admins)",
                    (200, "Blog"),
                    403,
                    404,
                    request=body(ref("BlogChange")),
                    parameters=blog,
                )
            ),
            "delete": operation(
                "Delete a blog at the ETag If-Match names (admins): its pages, feeds, embeds "
                "and streams answer 410 from then on, its open streams end, and its slug "
                "stays reserved",
                (204, None),
                403,
                404,
                412,
                428,
                parameters=(*blog, BLOG_IF_MATCH),
            ),
        },
        "/blogs/{slug}/members": {
            "get": operation(
                "The blog's desk, editors first (anyone on it)",
                (200, "MemberList"),
                403,
                404,
                parameters=blog,
            ),
            "post": also_answering(
                operation(
                    "Put a user on the desk (201), or change their role there (200): admins "
                    "and the blog's editors; a role above the user's own is 422",
                    (201, "Member"),
                    403,
                    404,
                    409,
                    request=body(ref("MemberInput")),
                    parameters=blog,
                ),
                200,
            ),
        },
        "/blogs/{slug}/members/{user_id}": {
            "delete": operation(
                "Take a user off the desk (admins and the blog's editors; only an admin "
                "removes its last editor, else 409)",
                (204, None),
                403,
                404,
                409,
                parameters=(*blog, USER_ID),
            ),
        },
        "/blogs/{slug}/export": {
            "get": operation(
                "The whole blog: every entry in every status, with its revisions (editors)",
                (200, "Export"),
                403,
                404,
                parameters=blog,
            ),
        },
        "/blogs/{slug}/entries": {
            "get": operation(
                "Entries, newest first (contributors see published ones and their own)",
                (200, "EntryList"),
                400,
                404,
                parameters=(*blog, *PAGING),
            ),
            "post": operation(
                "Publish, schedule or save an entry",
                (201, "Entry"),
                403,
                404,
                409,
                request=body(ref("EntryCreate")),
                parameters=(*blog, IDEMPOTENCY_KEY),
            ),
        },
        "/blogs/{slug}/preview": {
            "post": operation(
                "An unsaved entry rendered as readers would see it",
                (200, "Preview"),
                403,
                404,
                request=body(ref("EntryCreate")),
                parameters=blog,
            ),
        },
        "/blogs/{slug}/labels": {
            "post": operation(
                "The time and text a label at the start of a body gives a new entry",
                (200, "Labels"),
                403,
                404,
                request=body(ref("LabelsInput")),
                parameters=blog,
            ),
        },
        "/blogs/{slug}/entries/{entry_id}": {
            "get": operation("An entry", (200, "Entry"), 404, parameters=entry),
            "patch": operation(
                "Edit an entry at the version If-Match names",
                (200, "Entry"),
                403,
                404,
                409,
                412,
                428,
                request=body(ref("EntryInput")),
                parameters=(*entry, IF_MATCH),
            ),
            "delete": operation(
                "Delete an entry at the version If-Match names",
                (204, None),
                403,
                404,
                409,
                412,
                428,
                parameters=(*entry, IF_MATCH),
            ),
        },
        "/blogs/{slug}/entries/{entry_id}/lookups": {
            "post": operation(
                "Look the entry's bare post and video links up again, failed ones too",
                (202, "Entry"),
                403,
                404,
                409,
                parameters=entry,
            ),
        },
        "/blogs/{slug}/entries/{entry_id}/revisions": {
            "get": operation(
                "Every version of an entry", (200, "RevisionList"), 403, 404, parameters=entry
            ),
        },
        "/users": {
            "get": operation("Users and their tokens (admins)", (200, "UserList"), 403),
            "post": operation(
                "Create a user (admins)", (201, "User"), 403, 409, request=body(ref("UserCreate"))
            ),
        },
        "/users/me": {
            "get": operation("Your own account and public profile", (200, "User")),
            "patch": operation(
                "Change your public profile: the byline and the author page",
                (200, "User"),
                403,
                409,
                request=body(ref("ProfileChange")),
            ),
        },
        "/users/{user_id}": {
            "patch": operation(
                "Change a user's profile, or another user's role, standing or password (admins)",
                (200, "User"),
                403,
                404,
                409,
                request=body(ref("UserChange")),
                parameters=(USER_ID,),
            ),
        },
        "/users/{user_id}/tokens": {
            "post": operation(
                "A new API token for a user (admins), shown only in this answer",
                (201, "NewToken"),
                403,
                404,
                request=body(ref("TokenCreate")),
                parameters=(USER_ID,),
            ),
        },
        "/tokens/{token_id}": {
            "delete": operation(
                "Revoke an API token (admins)", (204, None), 403, 404, parameters=(TOKEN_ID,)
            ),
        },
        "/embeds/resolve": {
            "post": operation(
                "A post's or video's snapshot, looked up by oEmbed",
                (200, "Resolved"),
                403,
                502,
                504,
                request=body(ref("Resolve")),
            ),
        },
        "/uploads": {
            "post": operation(
                "Store an image (JPEG, PNG, WebP or GIF), re-encoded",
                (201, "Upload"),
                403,
                request=body(
                    record({"file": {"type": "string", "contentMediaType": "image/*"}}, "file"),
                    "multipart/form-data",
                ),
            ),
        },
    }


def export_schemas() -> dict[str, Schema]:
    """The export document's own JSON Schema (liveblog/transfer), as components: ``Export``,
    and each of its ``$defs`` as ``Export_<name>``."""
    schema = json.loads(files("liveblog.transfer").joinpath("export.schema.json").read_text())

    def moved(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: value.replace("#/$defs/", "#/components/schemas/Export_")
                if key == "$ref"
                else moved(value)
                for key, value in node.items()
            }
        return [moved(item) for item in node] if isinstance(node, list) else node

    definitions = schema.pop("$defs")
    for key in ("$schema", "$id"):
        schema.pop(key)
    return {
        "Export": moved(schema),
        **{f"Export_{name}": moved(value) for name, value in definitions.items()},
    }


def document(base_url: str, themes: list[str]) -> Schema:
    """The OpenAPI document of this deployment (its origin, its themes)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Liveblog editor API",
            "version": "1",
            "description": "Write and manage live blogs. Errors are RFC 9457 problem JSON.",
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearer": []}, {"session": [], "csrf": []}],
        "paths": paths(),
        "components": {
            "schemas": {**schemas(themes), **export_schemas()},
            "responses": {
                str(code): {
                    "description": description,
                    "content": {"application/problem+json": {"schema": ref("Problem")}},
                }
                for code, description in ERRORS.items()
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "liveblog tokens create EMAIL",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "liveblog_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }


def resolve(document: Schema, schema: Schema | bool) -> Schema:
    """``schema``, or what its ``$ref`` points to within ``document`` (a boolean schema,
    true or false, has nothing to show)."""
    found: Any = schema
    while isinstance(found, dict) and "$ref" in found:
        target: Any = document
        for part in found["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        found = target
    return found if isinstance(found, dict) else {}
