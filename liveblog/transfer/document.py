"""The export document: one JSON object whose entries are written and read one at a time.

    {"format": "liveblog-export", "version": 1,
     "blog": {…}, "authors": [{…}, …],
     "entries": [{…}, …],
     "uploads": [{…}, …]}

The members come in this order, so a reader meets the blog and its people before the
first entry, and the uploads once every entry has named them; a file is read with ijson
and holds one entry in memory at a time, however long the blog. The format is described
by ``export.schema.json`` beside this module. No Flask.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import Protocol

import ijson

from ..errors import LiveblogError

FORMAT = "liveblog-export"
VERSION = 1
MEMBERS = ("format", "version", "blog", "authors", "entries", "uploads")
SCHEMA_PATH = Path(__file__).with_name("export.schema.json")
# What an export archive (--with-media) holds: the document, and media/uploads/<file>.
ARCHIVE_DOCUMENT = "export.json"
ARCHIVE_MEDIA = "media/uploads/"

Part = tuple[str, Any]
"""One piece of a document, read in order: ("blog", {…}), ("authors", […]), ("entry", {…})
for each entry, then ("uploads", […])."""


class Readable(Protocol):
    """A binary file, as far as reading it goes."""

    def read(self, size: int = -1, /) -> bytes: ...


_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")


def schema() -> dict[str, Any]:
    """The JSON Schema that every export document satisfies."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def dumps(value: Any) -> str:
    """One value of a document as JSON text (UTF-8, not ASCII-escaped)."""
    return json.dumps(value, ensure_ascii=False)


def read_document(stream: Readable) -> Iterator[Part]:
    """The parts of the export document in ``stream``, one at a time; a LiveblogError says
    what is wrong with a file that is not one, or is damaged."""
    events = ijson.parse(stream, use_float=True)
    try:
        yield from _parts(events)
        for _event in events:  # only whitespace may follow the document
            raise LiveblogError("The file has more after the end of the export document.")
    except ijson.JSONError as error:
        raise LiveblogError(
            f"The file is not valid JSON ({str(error).splitlines()[0]}); it may be damaged "
            "or cut short."
        ) from None


def _parts(events: Iterator[tuple[str, str, Any]]) -> Iterator[Part]:
    first = next(events, None)
    if first is None or first[1] != "start_map":
        raise LiveblogError("The file is JSON but not a Liveblog export: it is not an object.")
    seen: list[str] = []
    for _prefix, event, key in events:
        if event == "end_map":
            break
        if not seen and key != "format":
            raise LiveblogError(
                f"The file is JSON but not a Liveblog export: it does not begin with "
                f'"format": "{FORMAT}".'
            )
        if key not in MEMBERS:
            raise LiveblogError(f"The export has an unknown member {key!r}.")
        if seen and MEMBERS.index(key) <= MEMBERS.index(seen[-1]):
            raise LiveblogError(
                f"The export's members are out of order: {key!r} after {seen[-1]!r} "
                f"(the order is {', '.join(MEMBERS)})."
            )
        seen.append(key)
        _prefix, event, value = next(events)
        if key == "entries":
            if event != "start_array":
                raise LiveblogError("The export's entries must be a list.")
            for item in _items(events):
                yield "entry", item
            continue
        value = _value(events, event, value)
        if key == "format" and value != FORMAT:
            raise LiveblogError(f"The file is not a Liveblog export: its format is {value!r}.")
        if key == "version" and value != VERSION:
            raise LiveblogError(
                f"The export is of version {value!r}; this Liveblog reads version {VERSION}."
            )
        if key not in ("format", "version"):
            yield key, value
    missing = [member for member in MEMBERS if member not in seen]
    if missing:
        raise LiveblogError(f"The export has no {', '.join(missing)}: it is incomplete.")


def _items(events: Iterator[tuple[str, str, Any]]) -> Iterator[Any]:
    for _prefix, event, value in events:
        if event == "end_array":
            return
        yield _value(events, event, value)


def _value(events: Iterator[tuple[str, str, Any]], event: str, value: Any) -> Any:
    """The whole value that starts with ``event``, built from the events that follow."""
    if event not in _STARTS:
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _prefix, event, value in events:
        builder.event(event, value)
        depth += (event in _STARTS) - (event in _ENDS)
        if depth == 0:
            return builder.value
    raise LiveblogError("The export ends in the middle of a value: it is incomplete.")
