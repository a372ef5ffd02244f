"""Every rule of the catalog: a manifest that breaks it (expected code and line) and a close one
that passes."""

from __future__ import annotations

import pytest

from manifest_validation.checks.pipeline import validate
from manifest_validation.checks.rules import REGISTRY
from manifest_validation.problems.catalog import RULES

from .rule_cases import C1, CASES, HEAD, Case

# Needs a deadline that passes during validation: tested in test_limits.py.
NOT_STATIC = {"validation-budget-exceeded"}


def positions(text: str | bytes, name: str) -> list[tuple[str, int | None]]:
    return [(p.code, p.line) for p in validate(name, text).problems]


def test_every_static_rule_has_a_case() -> None:
    # upstream and build rules need the network (test_check_verify_git.py, test_builds*);
    # docs-folder rules have their cases in docs/test_docs.py
    static = {
        code for code, rule in RULES.items() if rule.source not in ("upstream", "builds", "docs")
    } - NOT_STATIC
    assert static == {case.code for case in CASES}


def test_every_registered_rule_is_catalogued_as_a_cross_value_rule() -> None:
    assert set(REGISTRY) == {code for code, rule in RULES.items() if rule.source == "rules"}


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_rule_fires_on_the_bad_manifest_at_the_right_line(case: Case) -> None:
    assert (case.code, case.line) in positions(case.bad, case.name)


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_rule_is_silent_on_the_good_manifest(case: Case) -> None:
    assert [code for code, _ in positions(case.good, case.good_name)] == []


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_every_problem_carries_the_catalog_severity_and_a_hint(case: Case) -> None:
    for found in validate(case.name, case.bad).problems:
        assert found.severity is RULES[found.code].severity
        assert found.hint


def test_duplicate_tag_inside_one_entry_and_shared_tag_equal_to_tag() -> None:
    found = positions(HEAD + "\nTags: a, b, a\nSharedTags: b\n", "img")
    assert found == [("duplicate-tag", 5), ("duplicate-tag", 6)]


def test_tag_then_later_shared_tag_conflict_points_at_the_later_shared_tag() -> None:
    text = HEAD + "\nTags: a\n\nTags: b\nSharedTags: a\nDirectory: x\n"
    assert positions(text, "img") == [("shared-tag-conflict", 8)]


def test_inherited_global_error_is_reported_once_at_the_global_line() -> None:
    text = HEAD.replace(C1, "deadbeef") + "\nTags: a\n\nTags: b\nDirectory: b\n"
    assert positions(text, "img") == [("invalid-git-commit", 3)]


def test_missing_field_points_at_the_entry_that_lacks_it() -> None:
    text = "Maintainers: Jane Doe (@jane)\n\nTags: a\nGitRepo: https://e.com/r.git\n"
    assert positions(text, "img") == [("missing-field", 3)]
    assert validate("img", text).problems[0].field == "GitCommit"


def test_merged_entries_do_not_overlap_their_shared_tags() -> None:
    text = HEAD + "\nTags: a\nSharedTags: s\n\nTags: b\nSharedTags: s\n"
    assert positions(text, "img") == []


def test_windows_entries_may_share_a_tag_on_the_same_architecture() -> None:
    text = (
        HEAD + "\nTags: a\nSharedTags: s\nArchitectures: windows-amd64\nDirectory: a\n\n"
        "Tags: b\nSharedTags: s\nArchitectures: windows-amd64\nDirectory: b\n"
    )
    assert positions(text, "img") == []


def test_file_outside_the_repository_and_absolute_paths() -> None:
    text = HEAD + "\nTags: a\nDirectory: d\nFile: ../../Dockerfile\n\nTags: b\nDirectory: /abs\n"
    assert positions(text, "img") == [
        ("path-escapes-repository", 7),
        ("path-escapes-repository", 10),
    ]


def test_latest_itself_is_fine_and_case_sensitive() -> None:
    assert positions(HEAD + "\nTags: latest, LATEST-x\n", "img") == []


def test_one_overlap_problem_per_shared_tag_and_pair_of_entries() -> None:
    # like a historical nats: two shared tags over four architectures used to give 8 errors
    arches = "amd64, arm32v6, arm64v8, s390x"
    text = (
        HEAD + f"\nTags: 2.9\nSharedTags: 2, latest\nArchitectures: {arches}\n\n"
        f"Tags: 2.10\nSharedTags: 2, latest\nArchitectures: {arches}, windows-amd64\n"
        "Directory: b\n"
    )
    found = [p for p in validate("img", text).problems if p.code == "shared-tag-arch-overlap"]
    assert [(p.line, p.message) for p in found] == [
        (
            10,
            "shared tag '2' already has amd64, arm32v6, arm64v8 and s390x images from the "
            "entry on line 5",
        ),
        (
            10,
            "shared tag 'latest' already has amd64, arm32v6, arm64v8 and s390x images from the "
            "entry on line 5",
        ),
    ]


def test_a_third_entry_overlapping_two_others_gets_one_problem_per_pair() -> None:
    text = (
        HEAD + "\nTags: a\nSharedTags: s\nArchitectures: amd64\n\n"
        "Tags: b\nSharedTags: s\nArchitectures: s390x\nDirectory: b\n\n"
        "Tags: c\nSharedTags: s\nArchitectures: amd64, s390x\nDirectory: c\n"
    )
    found = [
        p.message for p in validate("img", text).problems if p.code == "shared-tag-arch-overlap"
    ]
    assert found == [
        "shared tag 's' already has an amd64 image from the entry on line 5",
        "shared tag 's' already has an s390x image from the entry on line 9",
    ]
