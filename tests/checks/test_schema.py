"""The library manifest schema, and the fast way we apply it, which must agree with jsonschema."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from manifest_validation.checks.schema import (
    ManifestValidator,
    fast_check,
    load_schema,
    manifest_document,
    manifest_validator,
    registry,
)
from manifest_validation.libraryfile.parse import parse
from samples import FIELDS
from test_properties import line, manifest_text

from .rule_cases import CASES


def plain_errors(document: dict[str, Any]) -> set[tuple[tuple[Any, ...], str]]:
    schema = load_schema("library-manifest.schema.json")
    validator = Draft202012Validator(schema, registry=registry())
    return {
        (tuple(error.absolute_path), error.message) for error in validator.iter_errors(document)
    }


def fast_errors(document: dict[str, Any]) -> set[tuple[tuple[Any, ...], str]]:
    return {
        (tuple(path), error.message) for path, error in manifest_validator().iter_errors(document)
    }


def test_schema_is_valid_2020_12() -> None:
    schema = load_schema("library-manifest.schema.json")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.slow
def test_corpus_documents_are_valid_by_plain_jsonschema(corpus: list[tuple[str, bytes]]) -> None:
    for name, data in corpus[:60]:
        assert plain_errors(manifest_document(parse(name, data))) == set(), name


# plain jsonschema takes seconds over the document of a too-complex manifest
SLOW_CASES = {"manifest-too-complex"}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case, id=case.code, marks=[pytest.mark.slow] if case.code in SLOW_CASES else []
        )
        for case in CASES
    ],
)
def test_fast_validation_finds_exactly_what_plain_jsonschema_finds(case: Any) -> None:
    for text in (case.bad, case.good):
        document = manifest_document(parse(case.name, text))
        assert fast_errors(document) == plain_errors(document)


values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["amd64", "refs/heads/x", "0" * 40, "buildkit", "a b", "_x", "-x", ""]),
    st.lists(st.text(max_size=6), max_size=3),
    st.lists(st.sampled_from(["amd64", "arm64", "a", "A (@a)", "x.y"]), max_size=3),
    st.integers(),
    st.none(),
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FIELDS), values)
def test_fast_check_agrees_with_jsonschema(field: str, value: Any) -> None:
    validator = manifest_validator()
    subschemas = validator.entry_checks.subschemas(field)
    assert subschemas
    for sub in subschemas:
        check = fast_check(sub)
        assert check is not None  # our field schemas stay within the fast subset
        assert check(value) == Draft202012Validator(sub).is_valid(value)


def test_fast_check_refuses_keywords_it_does_not_know() -> None:
    assert fast_check({"type": "string", "maxLength": 3}) is None
    assert fast_check({"anyOf": [{"type": "string"}]}) is None
    assert fast_check({"type": "string", "pattern": "^a"}) is not None
    assert fast_check({"not": {"required": ["Tags"]}}) is not None


def assert_accepts_exactly_the_valid(text: str) -> None:
    """`accepts` (the valid manifests' shortcut) says yes exactly when jsonschema finds no
    error in the whole document: with values it has seen before, and with a fresh memo."""
    manifest = parse("img", text)
    valid = plain_errors(manifest_document(manifest)) == set()
    assert manifest_validator().accepts(manifest) == valid
    fresh = ManifestValidator(load_schema("library-manifest.schema.json"))
    assert fresh.accepts(manifest) == valid
    assert fresh.accepts(manifest) == valid  # now from the memo


def test_accepts_exactly_the_documents_without_errors(corpus: list[tuple[str, bytes]]) -> None:
    for case in CASES:
        assert_accepts_exactly_the_valid(case.bad)
        assert_accepts_exactly_the_valid(case.good)
    for _, data in corpus[:30]:
        assert_accepts_exactly_the_valid(data.decode())


@settings(max_examples=300, deadline=None)
@given(manifest_text())
def test_accepts_agrees_with_jsonschema_on_manifests(text: str) -> None:
    assert_accepts_exactly_the_valid(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(line, max_size=40))
def test_accepts_agrees_with_jsonschema_on_manifest_like_text(lines: list[str]) -> None:
    assert_accepts_exactly_the_valid("\n".join(lines))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["A (@a)", "B <b@x> (@b)", "bad"]), min_size=1, max_size=3),
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["C (@c)", "worse", "A (@a)"]), max_size=2),
            st.lists(st.sampled_from(["x", "y", ""]), max_size=2),
        ),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)
def test_accepts_agrees_with_jsonschema_on_appended_lists(
    maintainers: list[str], entries: list[tuple[list[str], list[str]]], constraints: bool
) -> None:
    # entries append their Maintainers (and Constraints) to the global ones: `accepts` skips
    # the inherited part it has checked, as iter_errors does
    text = f"Maintainers: {', '.join(maintainers)}\nGitRepo: https://e.com/r.git\n"
    text += "GitCommit: 0123456789abcdef0123456789abcdef01234567\n"
    if constraints:
        text += "Constraints: windows, !aufs\n"
    for number, (own, own_constraints) in enumerate(entries):
        text += f"\nTags: t{number}\n"
        if own:
            text += f"Maintainers: {', '.join(own)}\n"
        if own_constraints:
            text += f"Constraints: {', '.join(own_constraints)}\n"
    assert_accepts_exactly_the_valid(text)
