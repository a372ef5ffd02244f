"""Docs folders (docker-library/docs): every rule on the real metadata.json files and on crafted
breakages of them, whole-folder rules on folders built here, and the cross-repository check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PROJECT, SHARED
from manifest_validation.checks.docs.folder import (
    DocsResult,
    cross_check,
    folder_digest_input,
    validate_docs,
)
from manifest_validation.checks.docs.jq import canonical_metadata
from manifest_validation.checks.docs.metadata import canonical_categories, value_lines
from manifest_validation.checks.schema import load_schema, result_validator
from manifest_validation.cli.main import main
from manifest_validation.problems.catalog import RULES
from manifest_validation.problems.status import Status
from manifest_validation.results.messages import Origin, Trigger, docs_result_message

DOCS_METADATA = SHARED / "corpus" / "docs-metadata"
CANONICAL = DOCS_METADATA / "_canonical.json"

PYTHON_METADATA = (
    b'{\n  "hub": {\n    "categories": [\n      "languages-and-frameworks"\n    ]\n  }\n}\n'
)
FOLDER = {
    "metadata.json": PYTHON_METADATA,
    "README-short.txt": b"Python is an interpreted, interactive, object-oriented, open-source "
    b"programming language.\n",
    "content.md": b"# What is Python?\n\nPython is a programming language.\n",
    "github-repo": b"https://github.com/docker-library/python\n",
    "license.md": b"View [license information](https://docs.python.org/3/license.html).\n",
    "maintainer.md": b"[the Docker Community](https://github.com/docker-library/python)\n",
    "logo.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 16,
}


def real_metadata() -> list[Path]:
    if not DOCS_METADATA.is_dir():
        pytest.skip(f"the docs metadata corpus is not beside the project ({DOCS_METADATA.name})")
    return sorted(p for p in DOCS_METADATA.glob("*.json") if p.name != CANONICAL.name)


def codes(result: DocsResult) -> list[tuple[str, str | None, int | None]]:
    return [(p.code, p.file, p.line) for p in result.problems]


def check_metadata(data: bytes, name: str = "python") -> DocsResult:
    return validate_docs(name, {**FOLDER, "metadata.json": data})


def test_every_docs_rule_is_in_the_catalog_with_why_and_fix() -> None:
    docs_rules = [rule for rule in RULES.values() if rule.source == "docs"]
    assert len(docs_rules) >= 14
    for rule in docs_rules:
        assert rule.summary and rule.why and rule.fix, rule.code


def test_every_docs_rule_has_a_case() -> None:
    breakages: list[tuple[str, dict[str, bytes]]] = [
        ("Python", FOLDER),
        ("python", {}),
        ("python", {**FOLDER, "content.md": b""}),
        ("python", {**FOLDER, "license.md": b"\xff"}),
        ("python", {**FOLDER, "metadata.json": b"{"}),
        ("python", {**FOLDER, "metadata.json": b'{"hub": {}}'}),
        ("python", {**FOLDER, "metadata.json": b'{"hub": {"categories": ["x"]}, "y": 1}'}),
        ("python", {**FOLDER, "metadata.json": b'{"hub": {"categories": ["security"] }}'}),
        ("python", {**FOLDER, "metadata.json": b'{"hub": {"categories": ["a", "b", "c", "d"]}}'}),
        (
            "python",
            {
                **FOLDER,
                "metadata.json": b'{"hub": {"categories": ["data-science", "data-science"]}}',
            },
        ),
        ("python", {**FOLDER, "README-short.txt": b"x" * 101}),
        ("python", {**FOLDER, "README-short.txt": b"x\ny"}),
        ("python", {**FOLDER, "github-repo": b"x"}),
        ("python", {**FOLDER, "logo.svg": b"GIF89a"}),
    ]
    found = {p.code for name, files in breakages for p in validate_docs(name, files).problems}
    found |= {
        p.code
        for r in cross_check(["redis"], [validate_docs("python", FOLDER)])
        for p in r.problems
    }
    docs_codes = {code for code, rule in RULES.items() if rule.source == "docs"}
    assert found == docs_codes | {"invalid-image-name"}


def test_the_schema_enum_is_the_docs_repository_canonical_categories() -> None:
    if not CANONICAL.is_file():
        pytest.skip("the docs metadata corpus is not beside the project (_canonical.json absent)")
    canonical = json.loads(CANONICAL.read_text())["hub"]["categories"]
    assert canonical_categories() == canonical
    schema = load_schema("docs-metadata.schema.json")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # the canonical file is itself in canonical form (metadata.sh checks it too)
    assert canonical_metadata(json.loads(CANONICAL.read_text())) == CANONICAL.read_text()


def test_every_real_metadata_file_is_clean() -> None:
    files = real_metadata()
    assert len(files) == 145
    empty = []
    for path in files:
        result = check_metadata(path.read_bytes(), path.stem)
        assert result.problems == [], path.name
        if not json.loads(path.read_bytes())["hub"]["categories"]:
            empty.append(path.stem)
    assert len(empty) == 9  # an empty list of categories is allowed


def test_a_folder_of_the_real_python_files_is_valid() -> None:
    result = validate_docs("python", FOLDER, source="docs/python")
    assert (result.status, result.problems, result.source) == (Status.VALID, [], "docs/python")


def test_invalid_json_reports_its_line_and_column() -> None:
    # a trailing comma after the last category: the error is at the `]` on line 5
    broken = PYTHON_METADATA.replace(b'frameworks"\n', b'frameworks",\n')
    result = check_metadata(broken)
    assert codes(result) == [("docs-invalid-json", "metadata.json", 5)]
    assert "line 5, column 5" in result.problems[0].message
    assert result.status is Status.INVALID


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xef\xbb\xbf" + PYTHON_METADATA, "BOM"),
        (b'{"hub": {"categories": [NaN]}}\n', "NaN"),
    ],
)
def test_what_python_accepts_and_json_does_not_is_invalid_json(data: bytes, message: str) -> None:
    result = check_metadata(data)
    assert [p.code for p in result.problems] == ["docs-invalid-json"]
    assert message in result.problems[0].message


def test_hostile_metadata_is_reported_not_crashed_on() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    assert [p.code for p in check_metadata(deep).problems] == ["docs-invalid-json"]
    # an integer beyond Python's int-string limit (kept as written, as jq 1.7 does), a lone
    # surrogate in a key: reported, each message bounded, nothing raised
    for hostile, code in [
        (b'{"hub": {"categories": [1' + b"0" * 100_000 + b"]}}\n", "docs-unknown-category"),
        (b'{"hub": {"categories": []}, "\\udc00": 1}\n', "docs-unknown-key"),
    ]:
        problems = check_metadata(hostile).problems
        assert code in [p.code for p in problems]
        assert all(len(p.message) <= 500 for p in problems)
    # many problems: capped as for a manifest, the notice first
    categories = json.dumps({"hub": {"categories": [f"c{i}" for i in range(5_000)]}}, indent=2)
    problems = check_metadata(categories.encode() + b"\n").problems
    assert len(problems) == 201
    assert problems[0].code == "too-many-problems"
    assert "problems found, 200 reported" in problems[0].message
    # as deep as json.loads takes, in a key with a lone low surrogate (walked to replace it)
    for depth in (500, 990):
        nested = b"[" * depth + b"]" * depth
        data = b'{"hub": {"categories": []}, "\\udc00": ' + nested + b"}"
        assert {p.code for p in check_metadata(data).problems} <= {
            "docs-invalid-json",
            "docs-unknown-key",
            "docs-not-canonical",
        }
    # a large but flat document: the line scanner is one pass
    wide = json.dumps({"hub": {"categories": []}, "x": ['a\\"b'] * 100_000}, indent=2)
    result = check_metadata(wide.encode() + b"\n")
    assert [p.code for p in result.problems] == ["docs-unknown-key"]
    assert result.problems[0].line == wide.splitlines().index('  "x": [') + 1


def test_invalid_utf8_is_an_encoding_error_with_its_line() -> None:
    result = check_metadata(PYTHON_METADATA.replace(b"languages", b"langu\xffages"))
    assert codes(result) == [("docs-invalid-encoding", "metadata.json", 4)]


def test_a_fourth_category() -> None:
    four = (
        json.dumps(
            {
                "hub": {
                    "categories": ["databases-and-storage", "networking", "security", "web-servers"]
                }
            },
            indent=2,
        ).encode()
        + b"\n"
    )
    result = check_metadata(four)
    assert codes(result) == [("docs-too-many-categories", "metadata.json", 3)]
    assert result.problems[0].field == "hub.categories"


def test_an_unknown_category_points_at_its_item_with_a_suggestion() -> None:
    data = (DOCS_METADATA / "nginx.json").read_bytes() if DOCS_METADATA.is_dir() else None
    if data is None:
        pytest.skip("the docs metadata corpus is not beside the project")
    assert b'"web-servers"' in data
    result = check_metadata(data.replace(b'"web-servers"', b'"web-server"'), "nginx")
    assert codes(result) == [("docs-unknown-category", "metadata.json", 4)]
    found = result.problems[0]
    assert found.field == "hub.categories[0]"
    assert found.hint is not None and found.hint.startswith("Did you mean web-servers?")


def test_a_repeated_category_is_an_error_at_the_second_one() -> None:
    data = (
        b'{\n  "hub": {\n    "categories": [\n      "security",\n      "security"\n    ]\n  }\n}\n'
    )
    result = check_metadata(data)
    # not canonical either: metadata.sh's canonical form de-duplicates (it differs at line 4,
    # which loses its comma)
    assert codes(result) == [
        ("docs-not-canonical", "metadata.json", 4),
        ("docs-duplicate-category", "metadata.json", 5),
    ]


def test_unknown_keys_are_warnings_at_their_line() -> None:
    data = b'{\n  "hub": {\n    "categories": [],\n    "descripton": "x"\n  },\n  "logo": 1\n}\n'
    result = check_metadata(data)
    assert codes(result) == [
        ("docs-unknown-key", "metadata.json", 4),
        ("docs-unknown-key", "metadata.json", 6),
    ]
    assert result.status is Status.VALID  # warnings only
    assert [p.field for p in result.problems] == ["hub.descripton", "logo"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"[]\n", None),
        (b"{}\n", None),
        (b'{\n  "hub": {}\n}\n', "hub"),
        (b'{\n  "hub": {\n    "categories": "networking"\n  }\n}\n', "hub.categories"),
        (b'{\n  "hub": {\n    "categories": [\n      7\n    ]\n  }\n}\n', "hub.categories[0]"),
    ],
)
def test_other_shapes_are_invalid_metadata(data: bytes, field: str | None) -> None:
    result = check_metadata(data)
    assert [p.code for p in result.problems if p.severity == "error"] == [
        "docs-unknown-category" if field == "hub.categories[0]" else "docs-invalid-metadata"
    ]
    assert result.problems[0].field == field


def test_not_canonical_gives_the_exact_canonical_text() -> None:
    real = DOCS_METADATA / "postgres.json"
    if not real.is_file():
        pytest.skip("the docs metadata corpus is not beside the project")
    canonical = real.read_text()
    document = json.loads(canonical)
    # the ways people write it: compact, 4-space indent, unsorted, no final newline
    for text in (
        json.dumps(document),
        json.dumps(document, indent=4) + "\n",
        canonical.rstrip("\n"),
        json.dumps({"hub": {"categories": ["security", "databases-and-storage"]}}, indent=2) + "\n",
    ):
        result = check_metadata(text.encode(), "postgres")
        assert [p.code for p in result.problems] == ["docs-not-canonical"], text
        hint = result.problems[0].hint
        assert hint is not None
        fixed = hint.split("\n", 1)[1]
        assert check_metadata(fixed.encode(), "postgres").problems == []
    assert canonical_metadata({"hub": {"categories": ["b\x7f", "a"]}, "A": "é"}) == (
        '{\n  "A": "é",\n  "hub": {\n    "categories": [\n      "a",\n      "b\\u007f"\n'
        "    ]\n  }\n}\n"
    )


# What jq 1.7 (the jq of the docs CI's ubuntu-latest) printed for these texts with metadata.sh's
# `jq -s --sort-keys '.[0] | .hub.categories |= unique'`: recorded from a run of it, since the
# jq of a developer's machine may be 1.6, which prints numbers from doubles (`1E+2` as `100`).
JQ_17_CANONICAL = [
    (
        '{"hub":{"categories":[]},"n":[1,1.0,1e2,-0,0.1,1.5e300,12345678901234567890,3.0e0,'
        "1E400,-0.0,0e5,1e-7,1.10,10e999999999,0e1000000000]}",
        '{\n  "hub": {\n    "categories": []\n  },\n  "n": [\n    1,\n    1.0,\n    1E+2,\n'
        "    -0,\n    0.1,\n    1.5E+300,\n    12345678901234567890,\n    3.0,\n    1E+400,\n"
        "    -0.0,\n    0E+5,\n    1E-7,\n    1.10,\n    1.7976931348623157e+308,\n"
        "    0E+999999999\n  ]\n}\n",
    ),
    (
        '{"hub":{"categories":[]},"x":{},"y":[],"z":[{}],"w":[[]],"b":true,"f":false,"nul":null}',
        '{\n  "b": true,\n  "f": false,\n  "hub": {\n    "categories": []\n  },\n'
        '  "nul": null,\n  "w": [\n    []\n  ],\n  "x": {},\n  "y": [],\n'
        '  "z": [\n    {}\n  ]\n}\n',
    ),
    (
        '{"hub":{"categories":["\\u00e9/x"]},"u":"\\u00e9\\/ \\u2028 \\ud83d\\ude00"}',
        '{\n  "hub": {\n    "categories": [\n      "é/x"\n    ]\n  },\n'
        '  "u": "é/ \u2028 \U0001f600"\n}\n',
    ),
    (
        '{"hub":{"categories":[]},"c":"\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\\\u007f\\u0000"}',
        '{\n  "c": "\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\\\u007f\\u0000",\n  "hub": {\n'
        '    "categories": []\n  }\n}\n',
    ),
    (
        '{"hub":{"categories":[]},"B":1,"a":2,"\\u00e9":3,"Z":4,"_":5,"aa":6,"a a":7,'
        '"\\ud83d\\ude00":8,"\\uffff":9}',
        '{\n  "B": 1,\n  "Z": 4,\n  "_": 5,\n  "a": 2,\n  "a a": 7,\n  "aa": 6,\n'
        '  "hub": {\n    "categories": []\n  },\n  "é": 3,\n  "\uffff": 9,\n'
        '  "\U0001f600": 8\n}\n',
    ),
    # a lone low surrogate: jq reads U+FFFD (an escaped backslash is no escape)
    (
        '{"hub":{"categories":["z","b","z"]},"s":"\\udc00","\\udc01k":"\\\\ud800"}',
        '{\n  "hub": {\n    "categories": [\n      "b",\n      "z"\n    ]\n  },\n'
        '  "s": "\ufffd",\n  "\ufffdk": "\\\\ud800"\n}\n',
    ),
]


@pytest.mark.parametrize(("text", "jq"), JQ_17_CANONICAL)
def test_the_canonical_text_is_what_jq_prints(text: str, jq: str) -> None:
    found = check_metadata(text.encode()).problems
    (hint,) = [p.hint for p in found if p.code == "docs-not-canonical"]
    assert hint is not None
    assert hint.split("\n", 1)[1] == jq
    # and jq's own text is canonical (but for DBL_MAX, which jq itself prints as `E+308` then)
    if "e+308" not in jq:
        again = check_metadata(jq.encode()).problems
        assert "docs-not-canonical" not in [p.code for p in again]


def test_a_lone_high_surrogate_is_invalid_json_as_jq_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b'{\n  "hub": {\n    "categories": []\n  },\n  "x": "a\\ud800b"\n}\n'
    result = check_metadata(data)
    assert codes(result) == [("docs-invalid-json", "metadata.json", 5)]
    assert "line 5, column 10" in result.problems[0].message
    # escaped backslashes are not escapes; a pair is one character
    fine = b'{"hub": {"categories": []}, "x": "\\\\ud800 \\ud83d\\ude00"}'
    assert "docs-invalid-json" not in [p.code for p in check_metadata(fine).problems]
    # no output format trips over a lone surrogate (a low one reads as U+FFFD)
    folder = write_folder(tmp_path / "docs", "python", FOLDER)
    (folder / "metadata.json").write_bytes(b'{"hub": {"categories": []}, "\\udc00": "\\udfff"}')
    for output_format in ("text", "json", "github"):
        code, out, _ = run(capsys, "check", "--format", output_format, str(folder))
        assert code == 0, out
        assert "\ufffd" in out


def test_numbers_of_any_size_are_kept_as_written() -> None:
    digits = "9" * 5000  # more than Python's int() takes
    result = check_metadata(f'{{"hub": {{"categories": []}}, "n": {digits}}}'.encode())
    assert sorted(p.code for p in result.problems) == ["docs-not-canonical", "docs-unknown-key"]
    (hint,) = [p.hint for p in result.problems if p.code == "docs-not-canonical"]
    assert hint is not None and f'"n": {digits}\n' in hint
    assert "Infinity" not in check_metadata(b'{"hub": {"categories": [1e400]}}').problems[0].message


def test_value_lines_follow_keys_items_and_nesting() -> None:
    text = '{"a": [1,\n  {"b": "x,\\"}"},\n  [true]],\n "c"\n : null}'
    assert value_lines(text) == {
        (): 1,
        ("a",): 1,
        ("a", 0): 1,
        ("a", 1): 2,
        ("a", 1, "b"): 2,
        ("a", 2): 3,
        ("a", 2, 0): 3,
        ("c",): 4,
    }


def test_a_missing_license_md() -> None:
    files = {k: v for k, v in FOLDER.items() if k != "license.md"}
    result = validate_docs("python", files)
    assert codes(result) == [("docs-missing-file", "license.md", None)]
    assert result.status is Status.INVALID


def test_empty_and_whitespace_only_required_files() -> None:
    result = validate_docs("python", {**FOLDER, "content.md": b"", "maintainer.md": b"\n \n"})
    assert [(p.code, p.message) for p in result.problems] == [
        ("docs-empty-file", "content.md is empty"),
        ("docs-empty-file", "maintainer.md is only whitespace"),
    ]


def test_scratch_is_exempt_as_in_the_docs_ci() -> None:
    scratch = {"metadata.json": FOLDER["metadata.json"], "README-short.txt": b"an empty image\n"}
    assert validate_docs("scratch", scratch).problems == []
    # but no other image is
    assert {p.file for p in validate_docs("busybox", scratch).problems} == {
        "content.md",
        "github-repo",
        "license.md",
        "maintainer.md",
    }
    # metadata.json and README-short.txt are required of scratch too
    assert codes(validate_docs("scratch", {})) == [
        ("docs-missing-file", "metadata.json", None),
        ("docs-missing-file", "README-short.txt", None),
    ]


def test_a_two_line_readme_short() -> None:
    for text in (b"Python is a language.\nIt is interpreted.\n", b"one\ntwo", b"one\n\n"):
        result = validate_docs("python", {**FOLDER, "README-short.txt": text})
        assert codes(result) == [("docs-short-description-lines", "README-short.txt", 2)], text
    for text in (b"one line\n", b"one line"):
        assert validate_docs("python", {**FOLDER, "README-short.txt": text}).problems == []


def test_readme_short_counts_characters_not_bytes() -> None:
    exactly = ("é" * 100).encode() + b"\n"  # 200 bytes, 100 characters: fine
    assert validate_docs("python", {**FOLDER, "README-short.txt": exactly}).problems == []
    result = validate_docs("python", {**FOLDER, "README-short.txt": b"x" * 101 + b"\n"})
    assert codes(result) == [("docs-short-description-too-long", "README-short.txt", 1)]
    assert "101 characters" in result.problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        b"http://github.com/docker-library/python\n",
        b"github.com/docker-library/python\n",
        b"https://github.com/a/b\nhttps://github.com/c/d\n",
        b"https://github.com/a/b https://github.com/c/d\n",
        b"https://\n",
    ],
)
def test_github_repo_must_be_one_https_url(text: bytes) -> None:
    result = validate_docs("python", {**FOLDER, "github-repo": text})
    assert codes(result) == [("docs-invalid-github-repo", "github-repo", 1)]


def test_logos_must_be_what_their_names_say() -> None:
    files = {**FOLDER, "logo.png": b"<svg/>", "logo.svg": b'<?xml version="1.0"?>\n<svg></svg>'}
    assert codes(validate_docs("python", files)) == [("docs-invalid-logo", "logo.png", None)]


def test_a_bad_folder_name() -> None:
    assert [p.code for p in validate_docs("Python", FOLDER).problems] == ["invalid-image-name"]


def test_every_problem_of_a_folder_at_once_in_file_order() -> None:
    files = {
        "metadata.json": b'{"hub": {"categories": ["nope"]}}',
        "README-short.txt": b"a\nb\n",
        "github-repo": b"git@github.com:a/b.git\n",
    }
    assert [(p.code, p.file) for p in validate_docs("python", files).problems] == [
        ("docs-unknown-category", "metadata.json"),
        ("docs-not-canonical", "metadata.json"),
        ("docs-short-description-lines", "README-short.txt"),
        ("docs-missing-file", "content.md"),
        ("docs-invalid-github-repo", "github-repo"),
        ("docs-missing-file", "license.md"),
        ("docs-missing-file", "maintainer.md"),
    ]


def test_cross_check_both_ways() -> None:
    docs = [
        validate_docs("python", FOLDER, source="docs/python"),
        validate_docs("pyhton", FOLDER, source="docs/pyhton"),
        validate_docs("scratch", {"metadata.json": PYTHON_METADATA, "README-short.txt": b"x\n"}),
    ]
    checked = {r.manifest: r for r in cross_check(["python", "redis"], docs, docs_root="docs")}
    assert set(checked) == {"python", "pyhton", "scratch", "redis"}
    assert checked["python"].status is Status.VALID
    assert checked["scratch"].status is Status.VALID  # exempt: no library file for scratch
    assert [p.code for p in checked["pyhton"].problems] == ["missing-library-file"]
    assert checked["pyhton"].status is Status.INVALID
    redis = checked["redis"]
    assert (redis.source, redis.status) == ("docs/redis", Status.INVALID)
    assert [p.code for p in redis.problems] == ["missing-docs-folder"]


def test_the_real_corpora_agree_across_repositories(library_dir: Path) -> None:
    files = real_metadata()
    docs = [check_metadata(path.read_bytes(), path.stem) for path in files]
    library = [path.name for path in library_dir.iterdir() if path.is_file()]
    checked = cross_check(library, docs)
    assert len(checked) == len(docs)  # every library file has its docs folder
    assert [r.manifest for r in checked if r.problems] == []  # and scratch needs no library file


# --- the doors: messages and the command line ----------------------------------------------------


def write_folder(root: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for file, data in files.items():
        (folder / file).write_bytes(data)
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_docs_messages_validate_against_the_result_schema() -> None:
    for files in (FOLDER, {**FOLDER, "metadata.json": b"{"}, {}):
        result = validate_docs("python", files)
        origin = Origin.of("http", folder_digest_input(files), path="python")
        message = docs_result_message(result, origin, trigger=Trigger.CI)
        assert message["kind"] == "docs"
        assert "build_plan" not in message
        assert [e.message for e in result_validator().iter_errors(message)] == []
    # and a docs message may not carry a build plan
    bad = {**message, "build_plan": {"sources": []}}
    assert list(result_validator().iter_errors(bad))


def test_docs_and_manifest_ids_differ_and_depend_on_every_checked_file() -> None:
    origin = Origin.of("http", folder_digest_input(FOLDER))
    first = docs_result_message(validate_docs("python", FOLDER), origin, trigger=Trigger.CI)
    again = docs_result_message(validate_docs("python", FOLDER), origin, trigger=Trigger.CLI)
    assert first["id"] == again["id"]
    changed = {**FOLDER, "license.md": b"MIT\n"}
    assert folder_digest_input(changed) != folder_digest_input(FOLDER)
    # files we do not check do not change the origin
    assert folder_digest_input({**FOLDER, "README.md": b"generated"}) == folder_digest_input(FOLDER)


def test_check_recognises_docs_folders_among_its_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_folder(tmp_path / "docs", "python", FOLDER)
    code, out, _ = run(capsys, "check", str(folder))
    assert (code, out.strip()) == (
        0,
        "1 docs folder checked: 1 valid, 0 invalid (0 errors, 0 warnings)",
    )
    (folder / "README-short.txt").write_bytes(b"Python.\nA language.\n")
    (folder / "license.md").unlink()
    code, out, _ = run(capsys, "check", str(folder))
    assert code == 1
    assert f"{folder}/README-short.txt:2: docs-short-description-lines error:" in out
    assert f"{folder}/license.md: docs-missing-file error: license.md is missing" in out
    # given twice (as a PATH and inside --docs DIR): checked once
    code, out, _ = run(capsys, "check", "--docs", str(folder.parent), str(folder))
    assert "1 docs folder checked" in out
    code, out, _ = run(capsys, "check", "--format", "github", str(folder))
    assert (
        f"::error file={folder}/README-short.txt,line=2,title=docs-short-description-lines::" in out
    )


def test_check_with_docs_dir_cross_checks_the_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    write_folder(docs, "python", FOLDER)
    write_folder(docs, "pyhton", FOLDER)  # a misspelled folder: documents nothing
    write_folder(docs, "scratch", {"metadata.json": PYTHON_METADATA, "README-short.txt": b"x\n"})
    write_folder(docs, ".ci", {"check.sh": b"#!/bin/sh\n"})  # hidden: not an image
    library = tmp_path / "library"
    library.mkdir()
    hello = (PROJECT / "examples" / "library" / "hello-world").read_bytes()
    (library / "python").write_bytes(hello)
    (library / "redis").write_bytes(hello)
    code, out, _ = run(capsys, "check", "--format", "json", "--docs", str(docs), str(library))
    assert code == 1
    document = json.loads(out)
    results = {(r["kind"], r["manifest"]): r for r in document["results"]}
    assert {key: r["status"] for key, r in results.items()} == {
        ("manifest", "python"): "valid",
        ("manifest", "redis"): "valid",
        ("docs", "python"): "valid",
        ("docs", "pyhton"): "invalid",
        ("docs", "scratch"): "valid",
        ("docs", "redis"): "invalid",
    }
    assert [p["code"] for p in results[("docs", "pyhton")]["problems"]] == ["missing-library-file"]
    redis = results[("docs", "redis")]
    assert [p["code"] for p in redis["problems"]] == ["missing-docs-folder"]
    assert redis["source"] == f"{docs}/redis"
    assert document["summary"]["docs"] == 4
    assert document["summary"]["manifests"] == 2
    for message in document["results"]:
        assert [e.message for e in result_validator().iter_errors(message)] == []
    # without library files there is nothing to cross-check against
    code, out, _ = run(capsys, "check", "--docs", str(docs))
    assert (code, "missing-" in out) == (0, False)


def test_check_docs_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check")
    assert (code, "give a PATH or --docs DIR" in err) == (2, True)
    library = tmp_path / "python"
    library.write_bytes((PROJECT / "examples" / "library" / "hello-world").read_bytes())
    code, out, err = run(capsys, "check", "--docs", str(tmp_path / "nowhere"), str(library))
    # an unreadable docs directory is a usage error, and no library file is called undocumented
    assert code == 2
    assert "not a directory" in err
    assert "missing-docs-folder" not in out


def test_real_metadata_in_real_shaped_folders_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = real_metadata()
    docs = tmp_path / "docs"
    for path in files:
        write_folder(docs, path.stem, {**FOLDER, "metadata.json": path.read_bytes()})
    code, out, _ = run(capsys, "check", "--docs", str(docs))
    assert code == 0, out
    assert out.strip() == "145 docs folders checked: 145 valid, 0 invalid (0 errors, 0 warnings)"


def test_revalidate_with_docs_publishes_docs_results_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from manifest_validation.results.queues import LocalResultQueue

    docs = tmp_path / "docs"
    write_folder(docs, "python", FOLDER)
    write_folder(docs, "scratch", {"metadata.json": PYTHON_METADATA, "README-short.txt": b"x\n"})
    # as in a real checkout: the canonical categories at the root
    (docs / "metadata.json").write_bytes(
        canonical_metadata({"hub": {"categories": canonical_categories()}}).encode()
    )
    library = tmp_path / "library"
    library.mkdir()
    hello = (PROJECT / "examples" / "library" / "hello-world").read_bytes()
    for name in ("python", "redis"):
        (library / name).write_bytes(hello)
    state = tmp_path / "state"
    argv = ["revalidate", "--library", str(library), "--no-verify-git", "--state-dir", str(state)]
    code, out, _ = run(capsys, *argv, "--docs", str(docs))
    assert code == 1
    assert "invalid: redis (docs)" in out
    messages = [item.body for item in LocalResultQueue(state).pending(None)]
    assert sorted((m["kind"], m["manifest"], m["status"]) for m in messages) == [
        ("docs", "python", "valid"),
        ("docs", "redis", "invalid"),
        ("docs", "scratch", "valid"),
        ("manifest", "python", "valid"),
        ("manifest", "redis", "valid"),
    ]
    for message in messages:
        assert [e.message for e in result_validator().iter_errors(message)] == []
    # a subset: only those images' docs folders, cross-checked among themselves
    code, out, _ = run(capsys, *argv, "--manifest", "python", "--docs", str(docs))
    assert code == 0, out
    # an unreadable docs directory: an error, and no library file called undocumented
    code, out, err = run(capsys, *argv, "--docs", str(tmp_path / "nowhere"))
    assert (code, "missing-docs-folder" in out) == (2, False)
    assert "docs:" in err


def test_the_bundled_docs_examples_behave_as_the_readme_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    examples = PROJECT / "examples"
    code, out, _ = run(capsys, "check", "--docs", str(examples / "docs"), str(examples / "library"))
    assert (code, out.splitlines()[-1]) == (
        0,
        "2 manifests and 2 docs folders checked: 4 valid, 0 invalid (0 errors, 0 warnings)",
    )
    code, out, _ = run(capsys, "check", str(examples / "invalid-docs" / "broken-db"))
    assert (code, out.splitlines()[-1]) == (
        1,
        "1 docs folder checked: 0 valid, 1 invalid (6 errors, 2 warnings)",
    )
    page = (PROJECT / "docs" / "docs-folders.md").read_text()
    assert "check --docs examples/docs examples/library" in page
    assert "check examples/invalid-docs/broken-db" in page


def test_a_real_shaped_checkout_with_its_root_metadata_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A docker-library/docs checkout has a metadata.json at its root (the canonical
    categories): it is a checkout of folders all the same, given as --docs DIR or as a PATH."""
    docs = tmp_path / "docs"
    write_folder(docs, "python", FOLDER)
    write_folder(docs, "redis", FOLDER)
    root_metadata = (
        CANONICAL.read_bytes()
        if CANONICAL.is_file()
        else canonical_metadata({"hub": {"categories": canonical_categories()}}).encode()
    )
    (docs / "metadata.json").write_bytes(root_metadata)
    (docs / "README.md").write_bytes(b"# Docs\n")
    library = tmp_path / "library"
    library.mkdir()
    hello = (PROJECT / "examples" / "library" / "hello-world").read_bytes()
    (library / "python").write_bytes(hello)
    for argv in (["--docs", str(docs), str(library)], [str(docs), str(library)]):
        code, out, _ = run(capsys, "check", "--format", "json", *argv)
        document = json.loads(out)
        results = {(r["kind"], r["manifest"]): r for r in document["results"]}
        assert set(results) == {("manifest", "python"), ("docs", "python"), ("docs", "redis")}
        assert [p["code"] for p in results[("docs", "redis")]["problems"]] == [
            "missing-library-file"
        ]
        assert code == 1


def test_a_docs_folder_without_metadata_json_is_still_a_docs_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {k: v for k, v in FOLDER.items() if k != "metadata.json"}
    folder = write_folder(tmp_path / "docs", "python", files)
    code, out, _ = run(capsys, "check", str(folder))
    assert code == 1
    assert f"{folder}/metadata.json: docs-missing-file error: metadata.json is missing" in out
    assert out.splitlines()[-1].startswith("1 docs folder checked: 0 valid, 1 invalid (1 error")


def test_a_checkout_s_root_metadata_json_is_the_source_of_the_categories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As metadata.sh: the categories an image may use are those of the checkout's root
    metadata.json (a category added there is valid at once; one removed there is not)."""
    docs = tmp_path / "docs"
    categories = ["databases-and-storage", "quantum-computing"]  # one new, the rest gone
    docs.mkdir()
    (docs / "metadata.json").write_bytes(
        canonical_metadata({"hub": {"categories": categories}}).encode()
    )

    def uses(name: str, category: str) -> None:
        metadata = canonical_metadata({"hub": {"categories": [category]}}).encode()
        write_folder(docs, name, {**FOLDER, "metadata.json": metadata})

    uses("qdb", "quantum-computing")
    uses("webby", "web-servers")
    code, out, _ = run(capsys, "check", "--format", "json", "--docs", str(docs))
    results = {r["manifest"]: r for r in json.loads(out)["results"]}
    assert code == 1
    assert results["qdb"]["problems"] == []
    (found,) = results["webby"]["problems"]
    assert found["code"] == "docs-unknown-category"
    assert found["hint"].endswith("Canonical categories: databases-and-storage, quantum-computing.")
    # one image's folder given alone: the embedded list (its own metadata.json is no source)
    code, out, _ = run(capsys, "check", "--docs", str(docs / "qdb"))
    assert (code, "docs-unknown-category" in out) == (1, True)
    # a root metadata.json that cannot be read: the embedded list
    (docs / "metadata.json").write_bytes(b"{")
    code, out, _ = run(capsys, "check", "--format", "json", "--docs", str(docs))
    results = {r["manifest"]: r for r in json.loads(out)["results"]}
    assert results["webby"]["problems"] == []
    assert [p["code"] for p in results["qdb"]["problems"]] == ["docs-unknown-category"]
