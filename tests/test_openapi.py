"""The API's OpenAPI contract: valid, complete, held to the code's own field lists, and
every answer of a live server true to it (schemathesis)."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance
from werkzeug.serving import make_server

from liveblog import accounts
from liveblog import db
from liveblog import store
from liveblog.blocks import _READERS
from liveblog.blocks import BLOCK_TYPES
from liveblog.blocks import IMAGE_FIELDS
from liveblog.blogs import BLOG_FIELDS
from liveblog.cli import cli
from liveblog.publishing import ENTRY_FIELDS
from liveblog.publishing import NEW_ENTRY_FIELDS
from liveblog.themes import Themes
from liveblog.web import openapi
from liveblog.web.api_schemas import LABEL_FIELDS
from liveblog.web.api_schemas import RESOLVE_FIELDS
from liveblog.web.api_schemas import TOKEN_FIELDS
from liveblog.web.api_schemas import USER_CHANGES
from liveblog.web.api_schemas import USER_FIELDS
from tests.support import check
from tests.support import needs_vnu
from tests.support import soup

PUBLIC = {"/openapi.json", "/docs"}


@pytest.fixture
def contract(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()  # type: ignore[no-any-return]


def test_the_contract_is_valid_openapi_3_1(contract):
    validate(contract)
    assert contract["openapi"] == "3.1.0"
    assert contract["servers"] == [{"url": "https://news.example/api/v1"}]


def test_every_route_and_method_is_in_the_contract_and_nothing_else(app, contract):
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix("/api/v1")
            for part in rule.arguments:
                path = path.replace(f"<slug:{part}>", f"{{{part}}}").replace(
                    f"<id:{part}>", f"{{{part}}}"
                )
            routed |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in contract["paths"].items() for method in ops}
    assert documented == {(path, method) for path, method in routed if path not in PUBLIC}


def properties(contract, name):
    return set(contract["components"]["schemas"][name]["properties"])


def test_request_schemas_have_exactly_the_fields_the_code_reads(contract):
    assert properties(contract, "EntryInput") == set(ENTRY_FIELDS)
    assert properties(contract, "EntryCreate") == set(NEW_ENTRY_FIELDS)
    assert properties(contract, "LabelsInput") == set(LABEL_FIELDS)
    assert properties(contract, "BlogCreate") == set(BLOG_FIELDS)
    assert properties(contract, "BlogChange") == set(BLOG_FIELDS)
    assert properties(contract, "UserCreate") == set(USER_FIELDS)
    assert properties(contract, "UserChange") == set(USER_CHANGES)
    assert properties(contract, "TokenCreate") == set(TOKEN_FIELDS)
    assert properties(contract, "Resolve") == set(RESOLVE_FIELDS)
    assert properties(contract, "Image") == set(IMAGE_FIELDS)
    for kind in BLOCK_TYPES:
        allowed, _reader = _READERS[kind]
        assert properties(contract, f"{kind.capitalize()}Block") == {"type", *allowed}, kind
    mapping = contract["components"]["schemas"]["Block"]["discriminator"]["mapping"]
    assert set(mapping) == set(BLOCK_TYPES)


def test_the_export_formats_blocks_are_the_same_blocks(contract):
    """The export document's JSON Schema keeps its own block definitions (it is a file of
    its own); they must take exactly what the API's blocks take."""
    for kind in BLOCK_TYPES:
        allowed, _reader = _READERS[kind]
        assert properties(contract, f"Export_{kind}_block") == {"type", *allowed}, kind


def test_the_contract_and_its_page_need_no_credentials(client, contract):
    page = client.get("/api/v1/docs")
    assert (page.status_code, page.mimetype) == (200, "text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = soup(page)
    assert not html.find("script")  # rendered here: no CDN, no script at all
    sections = {section["id"] for section in html.select("section.card")}
    for path, operations in contract["paths"].items():
        for method in operations:
            anchor = f"{method}-{path.replace('/', '-').replace('{', '').replace('}', '')}"
            assert anchor in sections, anchor
    assert "Bearer" in html.get_text() and "X-CSRF-Token" in html.get_text()


@needs_vnu
def test_the_api_page_is_valid_html(client, tmp_path):
    target = tmp_path / "api-docs.html"
    target.write_bytes(client.get("/api/v1/docs").data)
    assert check([target]) == []


# A live server, fuzzed through its contract


@pytest.fixture
def served_contract(make_app) -> Iterator[tuple[str, str]]:
    """The demo app on real HTTP with a fast-failing oEmbed look-up; (origin, admin token)."""
    app = make_app(OEMBED_TIMEOUT=0.5)
    result = app.test_cli_runner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        desk = store.get_user_by_email(db.session(), "demo-desk@liveblog.invalid")
        assert desk is not None
        token = accounts.create_token(db.session(), desk, "schemathesis")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", token
    server.shutdown()
    thread.join()


OPERATIONS = [
    (path, method)
    for path, operations in openapi.document("https://news.example", Themes().names())[
        "paths"
    ].items()
    for method in operations
]
EXISTING = {"slug": "syria-hama-offensive", "entry_id": 2, "user_id": 1, "token_id": 1}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_answer_keeps_to_the_contract(served_contract, path, method):
    """Cases drawn from the contract, in the positive and the negative modes, each sent to
    the live server with an admin's token: no 5xx, no status or field it does not name."""
    origin, token = served_contract
    schema = schemathesis.openapi.from_url(f"{origin}/api/v1/openapi.json")
    operation = schema[path][method.upper()]
    # Random ids and slugs rarely name anything: draw cases on the demo's own rows too.
    known = {name: value for name, value in EXISTING.items() if f"{{{name}}}" in path}
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
    )

    @given(case=strategy)
    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def sent(case):
        case.call_and_validate(
            base_url=f"{origin}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            checks=CHECKS,
        )

    sent()
