"""`POST /v1/validations` with the files' bytes (`content` and `base` as `{"base64": "..."}`): a
library file that is not UTF-8 reaches the checks and gets `invalid-encoding`, as `check` gives
it, instead of being mended on the way (`jq -Rs` turns such bytes into U+FFFD); and
`?format=markdown`, the reviewer's page with what each change does (through the real Lambda
handler, as in test_api)."""

from __future__ import annotations

import base64
import json

import pytest
from jsonschema import Draft202012Validator

from paths import PROJECT

from .client import assert_schema_valid, validations

pytestmark = pytest.mark.usefixtures("api_environment")  # tokens, state dir, AWS
HELLO = (PROJECT / "examples" / "library" / "hello-world").read_bytes()
LATIN_1 = HELLO.replace(b"Maintainers: ", b"Maintainers: Ren\xe9 (@rene),\n  ", 1)


def b64(data: bytes) -> dict[str, str]:
    return {"base64": base64.b64encode(data).decode()}


def test_bytes_that_are_not_utf8_get_invalid_encoding() -> None:
    answer = validations({"manifests": [{"name": "hello-world", "content": b64(LATIN_1)}]})
    assert answer.status == 200
    (result,) = answer.json()["results"]
    assert [(p["code"], p["line"]) for p in result["problems"]] == [("invalid-encoding", 4)]
    assert result["status"] == "invalid"
    assert_schema_valid([result])
    # what a text request cannot say: the text, mended, is another file
    mended = validations(
        {"manifests": [{"name": "hello-world", "content": LATIN_1.decode(errors="replace")}]}
    )
    assert "invalid-encoding" not in mended.body


def test_a_base_in_bytes_gives_the_changes() -> None:
    new = HELLO.replace(b"Tags: linux", b"Tags: linux, linux-2", 1)
    answer = validations(
        {"manifests": [{"name": "hello-world", "content": b64(new), "base": b64(HELLO)}]}
    )
    assert answer.status == 200
    (result,) = answer.json()["results"]
    assert result["changes"]["tags_added"] == ["linux-2"]
    assert result["origin"]["sha256"] != result["changes"]["base"]["sha256"]
    text_answer = validations(
        {"manifests": [{"name": "hello-world", "content": new.decode(), "base": HELLO.decode()}]}
    )
    # the same files as text or as bytes: the same result
    assert text_answer.json()["results"][0]["id"] == result["id"]


def test_bad_base64_is_refused_with_the_field() -> None:
    for item, field, code in (
        ({"content": {"base64": "not base64!"}}, "content", "invalid_content"),
        ({"content": {"base64": 3}}, "content", "invalid_content"),
        ({"content": {"bytes": "AA=="}}, "content", "invalid_content"),
        ({"content": "Tags: 1\n", "base": {"base64": "%%"}}, "base", "invalid_base"),
    ):
        answer = validations({"manifests": [{"name": "x", **item}]})
        assert answer.status == 400
        error = answer.json()["error"]
        assert (error["code"], error["field"]) == (code, f"manifests[0].{field}")


def test_markdown_is_the_review_page() -> None:
    new = HELLO.replace(b"Tags: linux", b"Tags: linux, latest-linux", 1)
    answer = validations(
        {"manifests": [{"name": "hello-world", "content": b64(new), "base": b64(HELLO)}]},
        "?format=markdown",
    )
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/markdown; charset=utf-8"
    lines = answer.body.splitlines()
    assert lines[0] == "## Review of the changes"
    assert "| `hello-world` | modified | ❌ invalid | 1 error |" in lines
    assert "- **tags added:** `latest-linux`" in lines
    assert any(line.startswith("- ❌ `latest-in-tag` `library/hello-world:9`") for line in lines)
    refused = validations({"manifests": [{"name": "x", "content": "x"}]}, "?format=html")
    assert refused.json()["error"]["message"] == "format must be json, github or markdown"


def test_the_request_schema_says_so() -> None:
    schema = json.loads((PROJECT / "schemas" / "validation-request.schema.json").read_text())
    validator = Draft202012Validator(schema)
    good = {"manifests": [{"name": "a", "content": b64(b"x"), "base": b64(b"y")}]}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"manifests": [{"name": "a", "content": {"b": "x"}}]}))
