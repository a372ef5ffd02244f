"""Values that span lines, read as bashbrew reads them (pault.ag/go/debian's control reader):
the value bashbrew sees keeps the newlines continuation lines put into it, and that value is the
one we validate, print with `cat`, and compare.

Each case names bashbrew's verdict: `invalid GitCommit` wherever its GitCommit regexp meets a
newline, and acceptance (then our own error) where bashbrew does not check the value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from manifest_validation.checks.pipeline import validate
from manifest_validation.libraryfile.cat import canonical_text
from manifest_validation.libraryfile.parse import parse
from manifest_validation.problems.catalog import refused_by_bashbrew
from manifest_validation.problems.status import Status

COMMIT = "0123456789abcdef0123456789abcdef01234567"
HEADER = "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\n"


def found(text: str) -> list[tuple[str, int | None]]:
    return [(p.code, p.line) for p in validate("img", text).problems]


def test_git_commit_on_the_line_after_its_key_is_invalid_on_the_git_commit_line() -> None:
    text = HEADER + f"\nTags: a\nGitCommit:\n {COMMIT}\n"
    entry = parse("img", text).entries[0]
    assert entry.scalar("GitCommit") == COMMIT + "\n"  # what bashbrew's regexp is given
    result = validate("img", text)
    assert result.status is Status.INVALID
    assert found(text) == [("invalid-git-commit", 5)]
    assert "newline" in (result.problems[0].hint or "")
    assert refused_by_bashbrew(result.problems[0])


def test_whitespace_only_line_after_git_commit_is_invalid_and_still_warned() -> None:
    text = HEADER + f"\nTags: a\nGitCommit: {COMMIT}\n  \nDirectory: d\n"
    assert parse("img", text).entries[0].scalar("GitCommit") == COMMIT + "\n\n"
    assert found(text) == [("invalid-git-commit", 5), ("whitespace-only-line", 6)]


def test_whitespace_only_last_line_without_a_final_newline() -> None:
    text = HEADER + f"\nTags: a\nGitCommit: {COMMIT}\n  "
    assert found(text) == [("invalid-git-commit", 5), ("whitespace-only-line", 6)]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("GitFetch", "refs/heads/main", "invalid-git-fetch"),
        ("GitRepo", "https://example.com/other.git", "invalid-git-repo"),
        ("Directory", "d", "invalid-value"),
        ("File", "Dockerfile", "invalid-value"),
        ("Builder", "buildkit", "invalid-builder"),
        ("arm64v8-GitCommit", COMMIT, "invalid-git-commit"),
    ],
)
def test_every_scalar_field_is_checked_with_its_newlines(field: str, value: str, code: str) -> None:
    text = (
        HEADER
        + f"\nTags: a\nArchitectures: amd64, arm64v8\nGitCommit: {COMMIT}\n{field}:\n {value}\n"
    )
    result = validate("img", text)
    problems = result.problems
    assert [(p.code, p.line, p.field) for p in problems] == [(code, 7, field)]
    # bashbrew's GitFetch regexp takes a newline (Go's `[^*?:]` does), and GitRepo, paths,
    # Builder and ARCH-* values it takes as they are: errors of our own, which do not stop `cat`
    value = result.parsed.value_at(7, field)
    assert value is not None and value.endswith("\n")
    assert not refused_by_bashbrew(problems[0], value=value)


def test_lone_dot_is_an_empty_line_only_when_alone_after_the_first_character() -> None:
    text = HEADER + f"\nTags: a\nGitCommit: {COMMIT}\nDirectory: d\n .\n  .\n"
    # " ." is an empty line; "  ." keeps " ." (one leading character is removed, no more)
    assert parse("img", text).entries[0].scalar("Directory") == "d\n\n .\n"


def test_cat_prints_a_continued_directory_as_bashbrew_does() -> None:
    # as in a real revision of library/dart: a whitespace-only line inside an entry continues
    # its Directory, and bashbrew prints the value with the newlines it took in
    text = (
        HEADER
        + f"GitCommit: {COMMIT}\n\nTags: 3.0, stable\nDirectory: stable/bookworm\n   \n"
        + "SharedTags: latest\n\nTags: beta\nDirectory: beta/bookworm\n"
    )
    manifest = parse("img", text)
    assert manifest.entries[0].scalar("Directory") == "stable/bookworm\n\n"
    assert canonical_text(manifest) == (
        "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\n"
        f"GitCommit: {COMMIT}\n\n"
        "Tags: 3.0, stable\nSharedTags: latest\nDirectory: stable/bookworm\n\n"
        "\n\nTags: beta\nDirectory: beta/bookworm"
    )


@pytest.mark.slow
def test_cat_command_prints_what_bashbrew_prints_and_reports_our_own_errors(
    tmp_path: Path,
) -> None:
    file = tmp_path / "img"
    file.write_text(HEADER + f"GitCommit: {COMMIT}\n\nTags: a\nDirectory: d\n \n")
    done = subprocess.run(
        [sys.executable, "-m", "manifest_validation.cli", "cat", str(file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.endswith("Tags: a\nDirectory: d\n\n\n")
    assert "invalid-value" in done.stderr  # the Directory with newlines, which bashbrew accepts


@pytest.mark.slow
def test_cat_command_refuses_what_bashbrew_refuses(tmp_path: Path) -> None:
    file = tmp_path / "img"
    file.write_text(HEADER + f"\nTags: a\nGitCommit: {COMMIT}\n \n")
    done = subprocess.run(
        [sys.executable, "-m", "manifest_validation.cli", "cat", str(file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert "invalid-git-commit" in done.stderr


def test_invalid_global_architectures_are_an_error_even_when_every_entry_sets_its_own() -> None:
    text = (
        "Maintainers: Jane Doe (@jane)\nArchitectures: amd64, x86_64\n"
        f"GitRepo: https://example.com/r.git\nGitCommit: {COMMIT}\n\n"
        "Tags: a\nArchitectures: amd64\n"
    )
    problems = validate("img", text).problems
    assert [(p.code, p.line, p.field) for p in problems] == [
        ("unsupported-architecture", 2, "Architectures")
    ]
    assert refused_by_bashbrew(problems[0])


def test_an_inherited_invalid_global_architecture_is_reported_once() -> None:
    text = (
        "Maintainers: Jane Doe (@jane)\nArchitectures: x86_64\n"
        f"GitRepo: https://example.com/r.git\nGitCommit: {COMMIT}\n\nTags: a\n\nTags: b\nFile: b\n"
    )
    assert found(text) == [("unsupported-architecture", 2)]


def test_global_values_bashbrew_checks_only_through_entries_stay_unchecked_on_their_own() -> None:
    # a global GitCommit that every entry overrides: bashbrew never looks at it
    text = HEADER + "GitCommit: nope\n\n" + f"Tags: a\nGitCommit: {COMMIT}\n"
    assert found(text) == []


def test_a_global_value_with_a_newline_is_an_error_even_when_no_entry_uses_it() -> None:
    # bashbrew only checks a global GitCommit through the entries that inherit it; a value
    # carried onto the next line is wrong wherever it is used (and `cat` could not print it
    # back the same way), so we say so on its line
    text = HEADER + f"GitCommit:\n {COMMIT}\n\nTags: a\nGitCommit: {COMMIT}\n"
    problems = validate("img", text).problems
    assert [(p.code, p.line) for p in problems] == [("invalid-git-commit", 3)]
    manifest = parse("img", text)
    assert not manifest.uses_global(problems[0].line, problems[0].field)
    assert not refused_by_bashbrew(problems[0], unused_global=True)
    inherited = HEADER + f"GitCommit:\n {COMMIT}\n\nTags: a\n"  # now an entry uses it
    assert parse("img", inherited).uses_global(3, "GitCommit")
