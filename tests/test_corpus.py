"""The real library files: every one is valid, and `cat` is a fixed point on every one."""

from __future__ import annotations

from pathlib import Path

import pytest

from manifest_validation.checks.pipeline import validate
from manifest_validation.libraryfile.cat import canonical_text
from manifest_validation.libraryfile.parse import parse
from manifest_validation.problems.status import Status

pytestmark = pytest.mark.slow  # corpus-wide runs


def test_corpus_has_the_expected_size(corpus: list[tuple[str, bytes]]) -> None:
    assert len(corpus) == 144
    entries = sum(len(parse(name, data).entries) for name, data in corpus)
    assert entries > 2000


def test_every_corpus_file_is_valid_without_errors(corpus: list[tuple[str, bytes]]) -> None:
    failures = {}
    for name, data in corpus:
        result = validate(name, data)
        if result.status is not Status.VALID or result.errors:
            failures[name] = [p.to_json() for p in result.errors]
    assert failures == {}


def test_cat_is_a_fixed_point_on_the_corpus(corpus: list[tuple[str, bytes]]) -> None:
    for name, data in corpus:
        once = canonical_text(parse(name, data))
        twice = canonical_text(parse(name, once))
        assert twice == once, name
        # and the canonical text means the same thing as the original
        assert validate(name, once).errors == []


def test_cat_keeps_every_tag_of_the_corpus(corpus: list[tuple[str, bytes]]) -> None:
    for name, data in corpus:
        original = parse(name, data)
        canonical = parse(name, canonical_text(original))
        tags = sorted(tag for entry in original.entries for tag in entry.tags)
        assert sorted(tag for entry in canonical.entries for tag in entry.tags) == tags, name


@pytest.mark.parametrize("name", ["hello-world", "python", "docker"])
def test_known_canonical_details(library_dir: Path, name: str) -> None:
    text = canonical_text(parse(name, (library_dir / name).read_bytes()))
    assert text.startswith("Maintainers: ")
    assert "\n\n\n" not in text
    assert not text.endswith("\n")
