"""Reading untrusted JSON into clean values, with errors that name the field's path."""

import math
import re
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .errors import FieldError
from .errors import ValidationError

_MISSING = object()
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A day inside what Python's datetime can hold, so that a time shown in any zone still fits.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 time with an offset; raises ValueError with a message for people."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time such as 2017-03-24T07:45:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("must include a time zone offset, such as 2017-03-24T07:45:00Z")
    if not _EARLIEST <= parsed <= _LATEST:
        raise ValueError("must be a date between the years 1 and 9999")
    return parsed


def whole_number(raw: str, most: int) -> int | None:
    """``raw`` as a whole number, if it is one: ASCII digits only ("²" and "٣" are digits to
    Python, not numbers to us), leading zeros allowed. One above ``most`` counts as
    ``most + 1``, so no number is too long to judge (int() refuses more than 4,300 digits)."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(most)):
        return most + 1
    return min(int(digits), most + 1)


def check_url(value: str, *, allow_path: bool = False) -> str | None:
    """The problem with ``value`` as a link, or None: only http(s) (and /paths if allowed)."""
    if allow_path and value.startswith("/") and not value.startswith("//"):
        return None
    try:
        parts = urlsplit(value)
        _port = parts.port  # read on first use, where ":99999" would raise
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        wanted = "an http(s) URL or a path starting with /" if allow_path else "an http(s) URL"
        return f"must be {wanted}"
    if any(character.isspace() for character in value):
        return "must not contain spaces"
    return None


_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"https://({_HOST_LABEL}(?:\.{_HOST_LABEL})*)(?::([0-9]{{1,5}}))?")


def read_origin(value: str) -> str:
    """``value`` as an https origin (``https://host[:port]``), lowercased and without the
    default port; raises ValueError with a message for people."""
    found = _ORIGIN.fullmatch(value.strip().lower())
    if found is None or len(found.group(1)) > 253:
        raise ValueError(
            "must be an https origin such as https://cms.example.org or "
            "https://cms.example.org:8443, without a path, a query or a wildcard"
        )
    host, port = found.groups()
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError("must have a port between 1 and 65535")
    return f"https://{host}" if port in (None, "443") else f"https://{host}:{int(port)}"


class Fields:
    """Reads one JSON object's fields, collecting every error instead of stopping at one."""

    def __init__(
        self, data: Any, path: str, errors: list[FieldError], allowed: tuple[str, ...]
    ) -> None:
        self.path = path
        self.errors = errors
        self.valid = isinstance(data, dict)
        self.data: dict[str, Any] = data if self.valid else {}
        if not self.valid:
            self.error("", "must be a JSON object")
            return
        for name in data:
            if name not in allowed:
                self.error(name, f"unknown field; expected one of: {', '.join(allowed)}")

    @classmethod
    def top(cls, data: Any, allowed: tuple[str, ...]) -> "Fields":
        """Fields of a request body; ``raise_errors()`` when done."""
        return cls(data, "", [], allowed)

    def raise_errors(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

    def where(self, name: str) -> str:
        if not name:
            return self.path
        if name.startswith("["):
            return f"{self.path}{name}"
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, message: str) -> None:
        self.errors.append(FieldError(self.where(name), message))

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING and required and self.valid:
            self.error(name, "is required")
        return value

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int = 1000,
        nullable: bool = False,
        multiline: bool = False,
    ) -> Any:
        """A string, stripped; blank counts as missing. Returns _MISSING when absent."""
        value = self._get(name, required)
        if value is _MISSING or (value is None and nullable):
            return value
        if not isinstance(value, str):
            self.error(name, "must be a string")
            return _MISSING
        value = value.strip().replace("\r\n", "\n") if multiline else " ".join(value.split())
        # Control characters are never content, and PostgreSQL cannot store NUL in text.
        value = _CONTROL.sub("", value)
        if _has_lone_surrogate(value):
            self.error(name, "contains invalid Unicode")
            return _MISSING
        if not value:
            if required:
                self.error(name, "must not be empty")
            return None if nullable else _MISSING
        if len(value) > max_length:
            self.error(name, f"must be at most {max_length} characters")
            return _MISSING
        return value

    def url(self, name: str, *, required: bool = False, allow_path: bool = False) -> Any:
        value = self.string(name, required=required, max_length=2000)
        if isinstance(value, str):
            problem = check_url(value, allow_path=allow_path)
            if problem:
                self.error(name, problem)
                return _MISSING
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = False) -> Any:
        value = self._get(name, required)
        if value is _MISSING:
            return value
        if value not in choices:
            self.error(name, f"must be one of: {', '.join(choices)}")
            return _MISSING
        return value

    def boolean(self, name: str) -> Any:
        value = self._get(name, False)
        if value is not _MISSING and not isinstance(value, bool):
            self.error(name, "must be true or false")
            return _MISSING
        return value

    def number(
        self, name: str, low: float, high: float, *, required: bool = False, integer: bool = False
    ) -> Any:
        value = self._get(name, required)
        if value is _MISSING:
            return value
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (integer and not isinstance(value, int))
            # isfinite() of an int beyond float's range raises OverflowError; ints are finite
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            self.error(name, "must be a whole number" if integer else "must be a number")
            return _MISSING
        if not low <= value <= high:
            self.error(name, f"must be between {low:g} and {high:g}")
            return _MISSING
        return value

    def datetime(self, name: str, *, nullable: bool = False) -> Any:
        value = self._get(name, False)
        if value is _MISSING or (value is None and nullable):
            return value
        if not isinstance(value, str):
            self.error(name, "must be an ISO 8601 date-time string")
            return _MISSING
        try:
            return parse_datetime(value)
        except ValueError as error:
            self.error(name, str(error))
            return _MISSING

    def object(self, name: str, allowed: tuple[str, ...], *, required: bool = False) -> Any:
        """A nested object's Fields, or _MISSING (None if null is given)."""
        value = self._get(name, required)
        if value is _MISSING or value is None:
            return value
        return Fields(value, self.where(name), self.errors, allowed)

    def items(self, name: str, *, required: bool = False, max_items: int = 100) -> Any:
        """A list's items as (path, item) pairs, or _MISSING."""
        value = self._get(name, required)
        if value is _MISSING:
            return value
        if not isinstance(value, list):
            self.error(name, "must be a list")
            return _MISSING
        if len(value) > max_items:
            self.error(name, f"must have at most {max_items} items")
            return _MISSING
        return [(f"{self.where(name)}[{index}]", item) for index, item in enumerate(value)]


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def present(value: Any) -> bool:
    """Whether a value read by Fields is there (not missing, not null)."""
    return value is not _MISSING and value is not None


def given(value: Any) -> bool:
    """Whether a field was given at all (null counts: it clears the field)."""
    return value is not _MISSING


def compact(**values: Any) -> dict[str, Any]:
    """A dict of the values that are present."""
    return {key: value for key, value in values.items() if present(value)}
