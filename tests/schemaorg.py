"""Our JSON-LD held to the schema.org vocabulary, read from tests/data (no network).

tests/data/schemaorg-current-https.jsonld is schema.org release 30.0's
data/releases/30.0/schemaorg-current-https.jsonld, unchanged.
"""

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

VOCABULARY = Path(__file__).parent / "data" / "schemaorg-current-https.jsonld"
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
# What a JSON literal may stand for, by schema.org data type.
LITERALS: dict[str, tuple[type, ...]] = {
    "Text": (str,),
    "URL": (str,),
    "DateTime": (str,),
    "Date": (str,),
    "Time": (str,),
    "Number": (int, float),
    "Integer": (int,),
    "Float": (float, int),
    "Boolean": (bool,),
}


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [item["@id"].removeprefix("schema:") for item in items]


class Vocabulary:
    """schema.org's classes and properties, with their superclasses, domains and ranges."""

    def __init__(self, graph: list[dict[str, Any]]) -> None:
        self.parents: dict[str, list[str]] = {}
        self.data_types: set[str] = set()
        self.properties: dict[str, dict[str, Any]] = {}
        for node in graph:
            if not node["@id"].startswith("schema:"):
                continue
            name = node["@id"].removeprefix("schema:")
            kinds = node["@type"] if isinstance(node["@type"], list) else [node["@type"]]
            if "rdfs:Class" in kinds:
                self.parents[name] = _ids(node.get("rdfs:subClassOf"))
                if "schema:DataType" in kinds:
                    self.data_types.add(name)
            elif "rdf:Property" in kinds:
                self.properties[name] = {
                    "domain": _ids(node.get("schema:domainIncludes")),
                    "range": _ids(node.get("schema:rangeIncludes")),
                    "superseded": bool(node.get("schema:supersededBy")),
                }

    def ancestry(self, name: str) -> set[str]:
        """``name`` and every class it is a subclass of."""
        seen, waiting = set(), [name]
        while waiting:
            current = waiting.pop()
            if current not in seen:
                seen.add(current)
                waiting.extend(self.parents.get(current, []))
        return seen

    def is_data_type(self, name: str) -> bool:
        return bool(self.ancestry(name) & self.data_types)


@cache
def vocabulary() -> Vocabulary:
    return Vocabulary(json.loads(VOCABULARY.read_text(encoding="utf-8"))["@graph"])


def problems(data: dict[str, Any]) -> list[str]:
    """Everything in ``data`` (one JSON-LD document) that schema.org does not define: an
    unknown type or property, a property on a type outside its domain, a value outside its
    range. An empty list means the document holds only what the vocabulary allows."""
    found: list[str] = []
    if data.get("@context") != "https://schema.org":
        found.append(f"@context is {data.get('@context')!r}, not https://schema.org")
    _check_node(vocabulary(), {k: v for k, v in data.items() if k != "@context"}, "$", found)
    return found


def _check_node(words: Vocabulary, node: dict[str, Any], path: str, found: list[str]) -> None:
    kind = node.get("@type")
    if not isinstance(kind, str):
        found.append(f"{path}: has no @type")
        return
    if kind not in words.parents:
        found.append(f"{path}: unknown type {kind}")
        return
    ancestry = words.ancestry(kind)
    for name, value in node.items():
        where = f"{path}.{name}"
        if name in ("@type", "@id"):
            if name == "@id" and not isinstance(value, str):
                found.append(f"{where}: must be a string")
            continue
        word = words.properties.get(name)
        if word is None:
            found.append(f"{where}: unknown property {name}")
            continue
        if word["superseded"]:
            found.append(f"{where}: {name} is superseded")
        if not ancestry & set(word["domain"]):
            found.append(f"{where}: {name} is not a property of {kind}")
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            item_path = f"{where}[{index}]" if isinstance(value, list) else where
            _check_value(words, word["range"], item, item_path, found)


def _check_value(
    words: Vocabulary, expected: list[str], value: Any, path: str, found: list[str]
) -> None:
    if isinstance(value, dict):
        kind = value.get("@type")
        known = isinstance(kind, str) and kind in words.parents
        if known and not words.ancestry(kind) & set(expected):
            found.append(f"{path}: a {kind} where {' or '.join(expected)} is expected")
        _check_node(words, value, path, found)
        return
    data_types = [name for name in expected if words.is_data_type(name)]
    if len(data_types) < len(expected):
        return  # schema.org lets text stand for an entity of any class
    allowed = [name for name in data_types if isinstance(value, LITERALS.get(name, ()))]
    if not allowed or isinstance(value, bool) and "Boolean" not in allowed:
        found.append(f"{path}: {value!r} is not a {' or '.join(data_types)}")
    elif set(allowed) <= {"DateTime", "Date"} and not (
        "DateTime" in allowed
        and DATE_TIME.fullmatch(value)
        or "Date" in allowed
        and DATE.fullmatch(value)
    ):
        found.append(f"{path}: {value!r} is not an ISO 8601 {' or '.join(allowed)}")
    elif allowed == ["URL"] and not value.startswith(("https://", "http://")):
        found.append(f"{path}: {value!r} is not an absolute URL")
