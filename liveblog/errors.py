"""Errors the use cases raise; the web layer turns each into an HTTP problem. No Flask."""

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from .models import Blog


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field, named by its path (``blocks[2].markers[0].lat``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class LiveblogError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra  # more members of the problem document


class ValidationError(LiveblogError):
    status, title = 422, "Invalid input"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class Unauthorized(LiveblogError):
    status, title = 401, "Authentication required"


class Forbidden(LiveblogError):
    status, title = 403, "Forbidden"


class NotFound(LiveblogError):
    status, title = 404, "Not found"


class Conflict(LiveblogError):
    status, title = 409, "Conflict"


class Gone(LiveblogError):
    status, title = 410, "Gone"


class BlogGone(Gone):
    """A blog an admin deleted: every reader surface answers 410, with its theme's page."""

    def __init__(self, blog: "Blog") -> None:
        super().__init__(f"The live blog {blog.slug!r} has been deleted by the newsroom.")
        self.blog = blog


class PreconditionFailed(LiveblogError):
    status, title = 412, "Precondition failed"


class PreconditionRequired(LiveblogError):
    status, title = 428, "Precondition required"


class LoginFailed(LiveblogError):
    status, title = 401, "Log-in failed"


class TooManyAttempts(LiveblogError):
    status, title = 429, "Too many attempts"


class PayloadTooLarge(LiveblogError):
    status, title = 413, "Payload too large"


class UnsupportedMediaType(LiveblogError):
    status, title = 415, "Unsupported media type"


class FormatNotImplemented(LiveblogError):
    """A representation this server cannot give (an oEmbed answer in XML)."""

    status, title = 501, "Not implemented"


class StorageUnavailable(LiveblogError):
    """The database cannot be written or read right now (a full disk, a read-only file,
    a lost server); what was stored before is intact."""

    status, title = 503, "Service unavailable"


class EmbedError(LiveblogError):
    """A post or video look-up that failed; the detail says what the editor can do."""

    status, title = 502, "The provider failed"


class EmbedRefused(EmbedError):
    """A link that is not looked up: not public, not offering oEmbed, or needing a token."""

    status, title = 422, "Cannot be used"


class EmbedTimeout(EmbedError):
    status, title = 504, "The provider did not answer"


class EmbedUnavailable(EmbedError):
    """A provider that could not answer just now (unreachable, overloaded): worth a retry."""


class UploadError(LiveblogError):
    """An image that cannot be used (damaged, too many pixels); the detail says why."""

    status, title = 422, "Cannot be used"


class UnsupportedUpload(UploadError):
    status, title = 415, "Unsupported media type"
