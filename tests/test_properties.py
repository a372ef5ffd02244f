"""Property-based tests: no input makes the validator raise, and every result is well formed."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import corpus_files
from manifest_validation.catalog import RULES
from manifest_validation.manifest import canonical_text, parse
from manifest_validation.problems import Severity
from manifest_validation.results import Origin, Trigger, result_message
from manifest_validation.schema import result_validator
from manifest_validation.validate import Status, ValidationResult, validate

FIELDS = [
    "Maintainers",
    "Tags",
    "SharedTags",
    "Architectures",
    "GitRepo",
    "GitFetch",
    "GitCommit",
    "Directory",
    "File",
    "Builder",
    "Constraints",
    "arm64v8-GitCommit",
    "amd64-Directory",
]
CORPUS = [path.read_text() for path in corpus_files()[:40]]


def assert_well_formed(result: ValidationResult, text_lines: int) -> None:
    assert result.status in (Status.VALID, Status.INVALID)
    if any(p.severity is Severity.ERROR for p in result.problems):
        assert result.status is Status.INVALID
    for found in result.problems:
        assert found.code in RULES
        assert found.message
        assert found.line is None or 1 <= found.line <= max(text_lines, 1)
    message = result_message(result, Origin.of("http", b"x"), trigger=Trigger.CI, verify_git=False)
    errors = [error.message for error in result_validator().iter_errors(message)]
    assert errors == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert_well_formed(validate("img", data), data.count(b"\n") + 1)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert_well_formed(validate("img", text), text.count("\n") + 1)


line = st.one_of(
    st.builds(
        lambda key, value: f"{key}: {value}",
        st.sampled_from(FIELDS),
        st.text(alphabet=st.sampled_from("ab0f,./-_ \t:#@<>()latest"), max_size=30),
    ),
    st.sampled_from(["", " ", "\t", " .", "# comment", "  continued", "garbage", ":", "\r"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(line, max_size=40))
def test_manifest_like_text_never_raises_and_cat_is_stable(lines: list[str]) -> None:
    text = "\n".join(lines)
    result = validate("img", text)
    assert_well_formed(result, len(lines))
    if result.status is Status.VALID:
        once = canonical_text(result.parsed)
        assert canonical_text(parse("img", once)) == once


MUTATIONS = ("delete", "duplicate", "swap", "insert", "truncate", "flip")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(CORPUS or [""]),
    st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 10_000)), max_size=8),
    st.text(max_size=20),
)
def test_mutated_corpus_files_never_raise(
    text: str, mutations: list[tuple[str, int]], insert: str
) -> None:
    lines = text.split("\n")
    for mutation, seed in mutations:
        if not lines:
            break
        rng = random.Random(seed)
        index = rng.randrange(len(lines))
        if mutation == "delete":
            del lines[index]
        elif mutation == "duplicate":
            lines.insert(index, lines[index])
        elif mutation == "swap":
            other = rng.randrange(len(lines))
            lines[index], lines[other] = lines[other], lines[index]
        elif mutation == "insert":
            lines.insert(index, insert)
        elif mutation == "truncate":
            lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
        else:
            position = rng.randrange(len(lines[index]) + 1)
            lines[index] = lines[index][:position] + insert + lines[index][position:]
    mutated = "\n".join(lines)
    line_count = mutated.count("\n") + 1
    assert_well_formed(validate("img", mutated), line_count)
    data = mutated.encode("utf-8", "surrogatepass")
    assert_well_formed(validate("img", data), line_count)
