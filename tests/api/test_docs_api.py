"""Docs folders through `POST /v1/validations` (the real Lambda handler, as in test_api.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from samples import FOLDER

from .client import HELLO_ITEM, Queue, assert_schema_valid, call, validations

pytestmark = pytest.mark.usefixtures("api_environment")  # tokens and a private state directory

TEXT_FOLDER = {name: data.decode() for name, data in FOLDER.items() if name != "logo.png"} | {
    "logo.png": {"base64": base64.b64encode(FOLDER["logo.png"]).decode()}
}
PYTHON_DOCS = {"name": "python", "files": TEXT_FOLDER}


def by_kind(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["kind"], r["manifest"]): r for r in document["results"]}


def test_docs_alone_answer_200_with_docs_results() -> None:
    broken = {
        "name": "redis",
        "files": {
            **TEXT_FOLDER,
            "metadata.json": '{\n  "hub": {\n    "categories": [\n      "databases",\n'
            '      "networking", "security", "web-servers"\n    ]\n  }\n}\n',
            "README-short.txt": "Redis is an in-memory store.\nUsed as a database.\n",
        },
    }
    answer = validations({"docs": [PYTHON_DOCS, broken]})
    assert answer.status == 200
    document = answer.json()
    results = by_kind(document)
    assert results[("docs", "python")]["status"] == "valid"
    redis = results[("docs", "redis")]
    assert redis["status"] == "invalid"
    assert redis["source"] == "http" and redis["origin"]["path"] == "redis"
    assert [(p["code"], p["file"], p["line"]) for p in redis["problems"]] == [
        ("docs-too-many-categories", "metadata.json", 3),
        ("docs-unknown-category", "metadata.json", 4),
        ("docs-not-canonical", "metadata.json", 5),
        ("docs-short-description-lines", "README-short.txt", 2),
    ]
    assert document["summary"]["docs"] == 2
    assert_schema_valid(document["results"])


def test_docs_beside_manifests_are_cross_checked() -> None:
    pyhton = {"name": "pyhton", "files": TEXT_FOLDER, "path": "pyhton"}
    answer = validations({"manifests": [HELLO_ITEM], "docs": [PYTHON_DOCS, pyhton]})
    assert answer.status == 200
    results = by_kind(answer.json())
    assert set(results) == {
        ("manifest", "hello-world"),
        ("docs", "python"),
        ("docs", "pyhton"),
        ("docs", "hello-world"),
    }
    assert results[("manifest", "hello-world")]["status"] == "valid"
    assert [p["code"] for p in results[("docs", "hello-world")]["problems"]] == [
        "missing-docs-folder"
    ]
    assert [p["code"] for p in results[("docs", "python")]["problems"]] == ["missing-library-file"]
    assert_schema_valid(answer.json()["results"])


def test_docs_in_github_annotations_point_at_the_file() -> None:
    files = {**TEXT_FOLDER, "metadata.json": "{\n  oops\n}\n"}
    answer = validations({"docs": [{"name": "python", "files": files}]}, "?format=github")
    assert answer.status == 200
    assert "::error file=python/metadata.json,line=2,title=docs-invalid-json::" in answer.body


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"docs": []}, "docs", "invalid_docs"),
        ({"docs": {"python": {}}}, "docs", "invalid_docs"),
        ({"docs": ["python"]}, "docs[0]", "invalid_docs"),
        ({"docs": [{"files": {}}]}, "docs[0].name", "invalid_name"),
        ({"docs": [{"name": "../etc", "files": {}}]}, "docs[0].name", "invalid_name"),
        ({"docs": [{"name": "python"}]}, "docs[0].files", "invalid_files"),
        ({"docs": [{"name": "python", "files": []}]}, "docs[0].files", "invalid_files"),
        ({"docs": [{"name": "python", "files": {}, "logo": 1}]}, "docs[0].logo", "unknown_field"),
        ({"docs": [PYTHON_DOCS, PYTHON_DOCS]}, "docs[1].name", "duplicate_name"),
        (
            {"docs": [{"name": "python", "files": {"../etc/passwd": "x"}}]},
            "docs[0].files.../etc/passwd",
            "invalid_file_name",
        ),
        (
            {"docs": [{"name": "python", "files": {"content.md": 7}}]},
            "docs[0].files.content.md",
            "invalid_content",
        ),
        (
            {"docs": [{"name": "python", "files": {"logo.png": {"base64": "%%"}}}]},
            "docs[0].files.logo.png",
            "invalid_content",
        ),
        (
            {"docs": [{"name": "python", "files": {}, "path": ""}]},
            "docs[0].path",
            "invalid_path",
        ),
        ({"manifests": "x", "docs": [PYTHON_DOCS]}, "manifests", "invalid_manifests"),
    ],
)
def test_bad_docs_shapes_answer_400_naming_the_field(payload: Any, field: str, code: str) -> None:
    answer = validations(payload)
    assert answer.status == 400, answer.body
    assert answer.json()["error"] == {
        "code": code,
        "message": answer.json()["error"]["message"],
        "field": field,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            '{"docs": [{"name": "python", "files": {"README-short.txt": "x\\ud800"}}]}',
            "docs[0].files.README-short.txt",
        ),
        ('{"docs": [{"name": "python", "files": {}, "path": "\\udc00"}]}', "docs[0].path"),
        ('{"manifests": [{"name": "x", "content": "Tags: 1\\ud800\\n"}]}', "manifests[0].content"),
        (
            '{"manifests": [{"name": "x", "content": "Tags: 1\\n", "base": "\\udfff"}]}',
            "manifests[0].base",
        ),
        (
            '{"manifests": [{"name": "x", "content": "Tags: 1\\n", "path": "\\ud800"}]}',
            "manifests[0].path",
        ),
    ],
)
def test_a_lone_surrogate_in_a_text_is_a_400_not_a_crash(body: str, field: str) -> None:
    # JSON can spell a string that is not Unicode (`\ud800` alone); no file holds one. Both
    # doors refuse such a body where they parse it (json_limits), wherever the string is.
    answer = validations(body)
    assert answer.status == 400, answer.body
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("malformed_json", "body"), field
    assert "unpaired surrogate" in error["message"]
    # a pair of surrogates is one character, and fine
    paired = body.replace("\\ud800", "\\ud83d\\ude00").replace("\\udc00", "\\ud83d\\ude00")
    paired = paired.replace("\\udfff", "\\ud83d\\ude00")
    assert validations(paired).status == 200


def test_docs_count_against_the_request_limits() -> None:
    docs = [{"name": f"img{i}", "files": {"metadata.json": "{}"}} for i in range(30)]
    manifests = [{**HELLO_ITEM, "name": f"lib{i}"} for i in range(21)]
    answer = validations({"manifests": manifests, "docs": docs})
    assert (answer.status, answer.json()["error"]["code"]) == (413, "too_many_manifests")
    assert validations({"manifests": manifests[:20], "docs": docs}).status == 200
    many_files = {f"f{i}.md": "x" for i in range(33)}
    answer = validations({"docs": [{"name": "python", "files": many_files}]})
    assert (answer.status, answer.json()["error"]["code"]) == (413, "too_many_files")
    big = {"name": "python", "files": {"content.md": "x" * (1024 * 1024)}}
    assert validations({"docs": [big]}).status == 413


def test_openapi_documents_the_docs_field() -> None:
    document = call("GET", "/v1/openapi.json", token=None, content_type=None).json()
    body = document["paths"]["/v1/validations"]["post"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    assert {"manifests", "docs"} <= set(schema["properties"])
    assert schema["anyOf"] == [{"required": ["manifests"]}, {"required": ["docs"]}]
    assert json.dumps(schema["properties"]["docs"]).count("base64") >= 1


@pytest.mark.slow
def test_published_docs_results_reach_the_fifo_queue(sqs_queue: Queue) -> None:
    answer = validations({"manifests": [HELLO_ITEM], "docs": [PYTHON_DOCS], "publish": True})
    assert answer.status == 200
    bodies = [json.loads(m["Body"]) for m in sqs_queue.received()]
    # hello-world's missing docs folder is a result too: nothing found is dropped
    assert sorted((b["kind"], b["manifest"], b["status"]) for b in bodies) == [
        ("docs", "hello-world", "invalid"),
        ("docs", "python", "invalid"),
        ("manifest", "hello-world", "valid"),
    ]
    assert_schema_valid(bodies)
