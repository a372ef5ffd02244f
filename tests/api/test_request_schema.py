"""The request contract: schemas/validation-request.schema.json (shown in the OpenAPI document)
against `api.validations.parse_request`, which enforces it.

Every body the schema refuses, parse_request refuses (an ApiError, 4xx). Every body the schema
accepts, parse_request accepts, unless one of the conditions the schema's description lists
applies (more than 50 manifests and docs folders together, a name twice within `manifests` or
within `docs`, a lone UTF-16 surrogate in a string, invalid base64, a body over 1 MiB): then it
refuses it too, as the description says.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError, validators

from manifest_validation.api.validations import (
    MAX_BODY_BYTES,
    MAX_MANIFESTS,
    ApiError,
    ValidationRequest,
    parse_request,
)
from manifest_validation.libraryfile.names import IMAGE_NAME
from paths import PROJECT

from .client import call

SCHEMA_FILE = PROJECT / "schemas" / "validation-request.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())


def ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """`pattern` as JSON Schema means it, an ECMA-262 regular expression: its `$` matches at the
    very end only. jsonschema uses Python's re, whose `$` also matches before a final newline,
    so it would take "python\\n" for an image name (the API never has)."""
    if validator.is_type(instance, "string") and not re.search(
        pattern.replace("$", r"\Z"), instance
    ):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


RequestValidator = validators.extend(Draft202012Validator, {"pattern": ecma_pattern})
VALIDATOR = RequestValidator(SCHEMA)


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern":
                yield value
            else:
                yield from patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from patterns(value)


def lone_surrogate(node: Any) -> bool:
    if isinstance(node, str):
        return any(0xD800 <= ord(character) <= 0xDFFF for character in node)
    if isinstance(node, dict):
        return any(lone_surrogate(key) or lone_surrogate(value) for key, value in node.items())
    if isinstance(node, list):
        return any(lone_surrogate(value) for value in node)
    return False


def valid_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def beyond_the_schema(document: dict[str, Any], body: bytes) -> str | None:
    """Which condition of the schema's description (beyond the schema) `document` meets."""
    manifests, docs = document.get("manifests", []), document.get("docs", [])
    if len(manifests) + len(docs) > MAX_MANIFESTS:
        return "more than 50 manifests and docs folders together"
    for items in (manifests, docs):
        names = [item["name"] for item in items]
        if len(set(names)) < len(names):
            return "a name given twice"
    if lone_surrogate(document):
        return "a lone surrogate"
    for folder in docs:
        for content in folder["files"].values():
            if isinstance(content, dict) and not valid_base64(content["base64"]):
                return "invalid base64"
    if len(body) > MAX_BODY_BYTES:
        return "a body over 1 MiB"
    return None


def assert_the_contract_holds(document: Any) -> None:
    body = json.dumps(document).encode()  # as a client sends it: lone surrogates as \\ud800
    try:
        request: ValidationRequest | None = parse_request("application/json", body, {})
        refusal = None
    except ApiError as error:
        request, refusal = None, error
    errors = [error.message for error in VALIDATOR.iter_errors(document)]
    if errors:
        assert refusal is not None, f"the schema refuses ({errors[0]}), parse_request accepts"
        assert 400 <= refusal.status < 500
        return
    beyond = beyond_the_schema(document, body)
    if beyond:
        assert refusal is not None, f"parse_request accepts {beyond}"
        assert 400 <= refusal.status < 500
        return
    assert refusal is None, f"the schema accepts, parse_request refuses: {refusal.message}"
    assert request is not None
    assert [m.name for m in request.manifests] == [m["name"] for m in document.get("manifests", [])]
    assert [d.name for d in request.docs] == [d["name"] for d in document.get("docs", [])]
    assert (request.verify_git, request.publish) == (
        document.get("verify_git", False),
        document.get("publish", False),
    )


# --- the schema itself ----------------------------------------------------------------------


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_the_name_pattern_is_the_image_name_of_the_code() -> None:
    items = SCHEMA["properties"]["manifests"]["items"], SCHEMA["properties"]["docs"]["items"]
    for item in items:
        assert item["properties"]["name"]["pattern"] == f"^{IMAGE_NAME.pattern}$"


def test_every_pattern_of_the_schema_is_anchored_once_at_each_end() -> None:
    # what ecma_pattern's `$` -> `\Z` relies on
    for pattern in patterns(SCHEMA):
        assert pattern.startswith("^") and pattern.endswith("$") and pattern.count("$") == 1


def test_the_openapi_document_embeds_the_schema(api_environment: None) -> None:
    document = call("GET", "/v1/openapi.json", token=None, content_type=None).json()
    body = document["paths"]["/v1/validations"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == SCHEMA


# --- hand-picked bodies -----------------------------------------------------------------------

HELLO = {"name": "hello-world", "content": "Maintainers: A (@a)\n"}
PYTHON_DOCS = {"name": "python", "files": {"README-short.txt": "Python.\n"}}
LOGO = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()


def manifests(count: int) -> list[dict[str, str]]:
    return [{"name": f"img{index}", "content": ""} for index in range(count)]


def folders(count: int) -> list[dict[str, Any]]:
    return [{"name": f"img{index}", "files": {}} for index in range(count)]


def case(name: str, document: Any, schema_accepts: bool, accepted: bool) -> Any:
    """A body, whether the schema accepts it, whether parse_request does."""
    return pytest.param(document, schema_accepts, accepted, id=name)


CASES = [
    case("one manifest", {"manifests": [HELLO]}, True, True),
    case("one docs folder", {"docs": [PYTHON_DOCS]}, True, True),
    case(
        "both, and the flags",
        {"manifests": [HELLO], "docs": [PYTHON_DOCS], "verify_git": True, "publish": False},
        True,
        True,
    ),
    case("a docs folder of no files", {"docs": [{"name": "python", "files": {}}]}, True, True),
    case("base null and a path", {"manifests": [{**HELLO, "base": None, "path": "x"}]}, True, True),
    case(
        "a logo in base64",
        {"docs": [{"name": "p", "files": {"logo.png": {"base64": LOGO}}}]},
        True,
        True,
    ),
    case("neither manifests nor docs", {}, False, False),
    case("only flags", {"verify_git": True}, False, False),
    case("not an object", [HELLO], False, False),
    case("empty manifests", {"manifests": []}, False, False),
    case("empty docs beside manifests", {"manifests": [HELLO], "docs": []}, False, False),
    case("empty manifests beside docs", {"manifests": [], "docs": [PYTHON_DOCS]}, False, False),
    case("an unknown field", {"manifests": [HELLO], "publsh": True}, False, False),
    case("an unknown item field", {"manifests": [{**HELLO, "tags": []}]}, False, False),
    case("no content", {"manifests": [{"name": "a"}]}, False, False),
    case("no files", {"docs": [{"name": "a"}]}, False, False),
    case("a flag that is a number", {"manifests": [HELLO], "verify_git": 1}, False, False),
    case("a flag that is null", {"manifests": [HELLO], "publish": None}, False, False),
    case("a base that is a number", {"manifests": [{**HELLO, "base": 1}]}, False, False),
    case("a name with a capital", {"manifests": [{**HELLO, "name": "Python"}]}, False, False),
    case(
        "a name ending in a newline", {"manifests": [{**HELLO, "name": "python\n"}]}, False, False
    ),
    case("a name of 255", {"manifests": [{**HELLO, "name": "a" * 255}]}, True, True),
    case("a name of 256", {"manifests": [{**HELLO, "name": "a" * 256}]}, False, False),
    case("an empty path", {"manifests": [{**HELLO, "path": ""}]}, False, False),
    case("a path of 1024", {"manifests": [{**HELLO, "path": "p" * 1024}]}, True, True),
    case("a path of 1025", {"manifests": [{**HELLO, "path": "p" * 1025}]}, False, False),
    case("50 manifests", {"manifests": manifests(50)}, True, True),
    case("51 manifests", {"manifests": manifests(51)}, False, False),
    case("51 docs folders", {"docs": folders(51)}, False, False),
    case(
        "25 manifests and 26 docs folders",
        {"manifests": manifests(25), "docs": folders(26)},
        True,
        False,
    ),
    case("a manifest name twice", {"manifests": [HELLO, HELLO]}, True, False),
    case("a docs name twice", {"docs": [PYTHON_DOCS, PYTHON_DOCS]}, True, False),
    case(
        "one name in manifests and docs",
        {"manifests": [{**HELLO, "name": "python"}], "docs": [PYTHON_DOCS]},
        True,
        True,
    ),
    case(
        "a lone surrogate in content", {"manifests": [{**HELLO, "content": "\ud800"}]}, True, False
    ),
    case(
        "a lone surrogate in a docs file",
        {"docs": [{"name": "p", "files": {"a.md": "\udfff"}}]},
        True,
        False,
    ),
    case(
        "invalid base64",
        {"docs": [{"name": "p", "files": {"logo.png": {"base64": "!"}}}]},
        True,
        False,
    ),
    case(
        "base64 that is a number",
        {"docs": [{"name": "p", "files": {"l.png": {"base64": 1}}}]},
        False,
        False,
    ),
    case("a file that is a list", {"docs": [{"name": "p", "files": {"a.md": []}}]}, False, False),
    case(
        "32 files",
        {"docs": [{"name": "p", "files": {f"f{i}": "" for i in range(32)}}]},
        True,
        True,
    ),
    case(
        "33 files",
        {"docs": [{"name": "p", "files": {f"f{i}": "" for i in range(33)}}]},
        False,
        False,
    ),
    case("a file name of 128", {"docs": [{"name": "p", "files": {"f" * 128: ""}}]}, True, True),
    case("a file name of 129", {"docs": [{"name": "p", "files": {"f" * 129: ""}}]}, False, False),
    case("a hidden file", {"docs": [{"name": "p", "files": {".hidden": ""}}]}, False, False),
    case(
        "a body over 1 MiB",
        {"manifests": [{**HELLO, "content": "x" * MAX_BODY_BYTES}]},
        True,
        False,
    ),
]


@pytest.mark.parametrize(("document", "schema_accepts", "accepted"), CASES)
def test_hand_picked_bodies(document: Any, schema_accepts: bool, accepted: bool) -> None:
    assert VALIDATOR.is_valid(document) is schema_accepts
    body = json.dumps(document).encode()
    if accepted:
        parse_request("application/json", body, {})
    else:
        with pytest.raises(ApiError) as refusal:
            parse_request("application/json", body, {})
        assert 400 <= refusal.value.status < 500
    assert_the_contract_holds(document)


# --- generated bodies -----------------------------------------------------------------------

NAME = st.one_of(
    st.from_regex(IMAGE_NAME, fullmatch=True).filter(lambda name: len(name) <= 255),
    st.sampled_from(["python", "hello-world", "a", "a.b_c__d--e"]),
    st.sampled_from(["", "Python", "-a", "a-", "a..b", "a___b", "python\n", " a", "a" * 256]),
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.characters(exclude_categories=()) | st.just("\ud800"), max_size=10).map("".join),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
BASE64 = st.binary(max_size=20).map(lambda data: base64.b64encode(data).decode())
FILE_NAME = st.one_of(
    st.sampled_from(["metadata.json", "README-short.txt", "content.md", "logo.png", "x" * 128]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True),
    st.sampled_from(["", ".hidden", "a b", "a/b", "x" * 129, "logo.png\n"]),
)
FILE_CONTENT = st.one_of(
    TEXT,
    st.fixed_dictionaries({"base64": BASE64}),
    st.fixed_dictionaries({"base64": st.one_of(TEXT, JSON_VALUES)}),
    JSON_VALUES,
)
MANIFEST = st.fixed_dictionaries(
    {"name": NAME, "content": TEXT},
    optional={"path": TEXT, "base": st.none() | TEXT},
)
FOLDER = st.fixed_dictionaries(
    {"name": NAME, "files": st.dictionaries(FILE_NAME, FILE_CONTENT, max_size=4)},
    optional={"path": TEXT},
)
REQUEST = st.fixed_dictionaries(
    {},
    optional={
        "manifests": st.lists(MANIFEST, max_size=4),
        "docs": st.lists(FOLDER, max_size=3),
        "verify_git": st.booleans(),
        "publish": st.booleans(),
    },
)


@st.composite
def mutated(draw: st.DrawFn, requests: st.SearchStrategy[dict[str, Any]]) -> Any:
    """A request with one thing changed: a value replaced by any JSON value, a field dropped
    or added, somewhere in it."""
    document = draw(requests)
    places: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            places.extend((node, key) for key in node)
            places.append((node, None))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            places.extend((node, index) for index in range(len(node)))
            for value in node:
                walk(value)

    walk(document)
    container, key = draw(st.sampled_from(places))
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if key is None or action == "add":
        if isinstance(container, dict):
            container[draw(st.text(max_size=10))] = draw(JSON_VALUES)
        else:
            container.append(draw(JSON_VALUES))
    elif action == "drop":
        del container[key]
    else:
        container[key] = draw(JSON_VALUES)
    return document


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(REQUEST, mutated(REQUEST), JSON_VALUES))
def test_generated_bodies_keep_the_contract(document: Any) -> None:
    assert_the_contract_holds(document)
