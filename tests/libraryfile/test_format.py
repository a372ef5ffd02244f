"""How library files are read: each point of bashbrew's behaviour (see FORMAT-NOTES)."""

from __future__ import annotations

import pytest

from manifest_validation.checks.pipeline import validate
from manifest_validation.libraryfile.cat import canonical_text
from manifest_validation.libraryfile.parse import parse
from manifest_validation.libraryfile.reader import go_path_clean

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER = "89abcdef0123456789abcdef0123456789abcdef"
HEADER = f"Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\nGitCommit: {COMMIT}\n"


def codes(text: str | bytes, name: str = "img") -> list[str]:
    return [p.code for p in validate(name, text).problems]


def test_crlf_parses_like_lf() -> None:
    lf = HEADER + "\nTags: a, b\nDirectory: x\n"
    crlf = lf.replace("\n", "\r\n")
    assert canonical_text(parse("img", crlf)) == canonical_text(parse("img", lf))
    assert validate("img", crlf).problems == []


def test_cr_only_line_ends_make_one_long_line() -> None:
    text = (HEADER + "\nTags: a\n").replace("\n", "\r")
    manifest = parse("img", text)
    assert len(manifest.entries) == 0
    # one field, the Maintainers line, swallowed everything after it
    assert "missing-field" not in codes(text)
    assert "invalid-maintainer" in codes(text)


def test_comments_are_removed_also_inside_continuations() -> None:
    text = (
        "Maintainers: Jane Doe (@jane),\n"
        "# a comment between continuation lines\n"
        "   # indented comment\n"
        "             John Roe (@john)\n"
        f"GitRepo: https://example.com/r.git # not a comment\nGitCommit: {COMMIT}\n\nTags: a\n"
    )
    manifest = parse("img", text)
    assert manifest.global_entry.items("Maintainers") == ["Jane Doe (@jane)", "John Roe (@john)"]
    assert manifest.global_entry.line_of("Maintainers", 1) == 4
    assert manifest.entries[0].scalar("GitRepo") == "https://example.com/r.git # not a comment"


def test_extra_blank_lines_do_not_matter() -> None:
    text = "\n\n\n" + HEADER + "\n\n\n\nTags: a\n\n\n\nTags: b\nDirectory: b\n\n\n"
    manifest = parse("img", text)
    assert [entry.tags for entry in manifest.entries] == [["a"], ["b"]]
    assert validate("img", text).problems == []


def test_whitespace_only_line_merges_entries_and_warns() -> None:
    text = HEADER + "\nTags: a\nDirectory: a\n   \nTags: b\nDirectory: b\n"
    result = validate("img", text)
    assert [entry.tags for entry in result.parsed.entries] == [["b"]]
    warning = next(p for p in result.problems if p.code == "whitespace-only-line")
    assert warning.line == 7
    assert "repeated-field" in [p.code for p in result.problems]


def test_orphan_continuation_is_dropped_with_a_warning() -> None:
    text = HEADER + "\n  dangling\nTags: a\n"
    result = validate("img", text)
    assert [p.code for p in result.problems] == ["orphan-continuation"]
    assert result.problems[0].line == 5
    assert result.parsed.entries[0].tags == ["a"]


def test_lone_dot_continuation_is_an_empty_line() -> None:
    text = HEADER + "\nTags: a\nConstraints: one,\n .\n two\n"
    entry = parse("img", text).entries[0]
    assert entry.constraints == ["one", "two"]


def test_bad_line_is_reported_and_reading_goes_on() -> None:
    text = HEADER + "\nTags a\nTags: b\nGitFetch: nope\n"
    result = validate("img", text)
    assert [(p.code, p.line) for p in result.problems] == [
        ("bad-line", 5),
        ("invalid-git-fetch", 7),
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only\n# comments\n", "   \n"])
def test_empty_files_are_errors(text: str) -> None:
    assert "empty-manifest" in codes(text)


def test_global_paragraph_without_entries_is_valid() -> None:
    assert validate("img", HEADER).problems == []


def test_byte_order_mark_is_not_stripped() -> None:
    found = codes(("\ufeff" + HEADER + "\nTags: a\n").encode())
    assert sorted(found) == ["byte-order-mark", "missing-field", "unknown-field"]


def test_keys_are_case_sensitive_and_unknown_keys_are_ignored_with_a_suggestion() -> None:
    result = validate("img", HEADER + "\nTags: a\ntags: b\nArchitecture: arm64v8\n")
    messages = {p.message for p in result.problems if p.code == "unknown-field"}
    assert "unknown field 'tags' is ignored; did you mean Tags?" in messages
    assert "unknown field 'Architecture' is ignored; did you mean Architectures?" in messages
    assert result.parsed.entries[0].tags == ["a"]
    assert result.parsed.entries[0].architectures == ["amd64"]


def test_repeated_key_keeps_the_last_value() -> None:
    result = validate("img", HEADER + "\nTags: a\nDirectory: one\nDirectory: two\n")
    assert result.parsed.entries[0].scalar("Directory") == "two"
    assert [(p.code, p.line) for p in result.problems] == [("repeated-field", 7)]


def test_scalar_values_keep_continuation_newlines() -> None:
    text = HEADER + "\nTags: a\nGitRepo: https://example.com/\n r.git\n"
    entry = parse("img", text).entries[0]
    # go-debian ends every continuation line with a newline: bashbrew sees "...\nr.git\n"
    assert entry.scalar("GitRepo") == "https://example.com/\nr.git\n"
    assert ("invalid-git-repo", 6) in [(p.code, p.line) for p in validate("img", text).problems]


@pytest.mark.parametrize(("value", "line"), [("", 5), ("a,", 5), ("a,,b", 5), ("a,\n  ,\n  b", 6)])
def test_empty_list_items_are_errors(value: str, line: int) -> None:
    result = validate("img", HEADER + f"\nTags: {value}\n")
    assert ("empty-list-item", line) in [(p.code, p.line) for p in result.problems]


def test_newline_without_comma_stays_in_one_item() -> None:
    entry = parse("img", HEADER + "\nTags: a\n b\n").entries[0]
    assert entry.tags == ["a\nb"]


def test_inheritance_replaces_and_appends() -> None:
    text = (
        "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\n"
        f"GitCommit: {COMMIT}\nSharedTags: s1\nArchitectures: arm64v8, amd64\n"
        "Constraints: c1\narm64v8-Directory: arm\n\n"
        "Tags: a\nSharedTags: s2\nArchitectures: i386\nConstraints: c2\n"
        "Maintainers: John Roe (@john)\n\n"
        "Tags: b\n"
    )
    result = validate("img", text)
    first, second = result.parsed.entries
    assert first.shared_tags == ["s2"]
    assert first.architectures == ["i386"]
    assert first.constraints == ["c1", "c2"]
    assert first.items("Maintainers") == ["Jane Doe (@jane)", "John Roe (@john)"]
    assert second.shared_tags == ["s1"]
    assert second.architectures == ["amd64", "arm64v8"]
    assert second.scalar("arm64v8-Directory") == "arm"
    appended = [(p.line, p.field) for p in result.problems if p.code == "list-appended-to-global"]
    assert appended == [(12, "Constraints"), (13, "Maintainers")]


def test_defaults() -> None:
    entry = parse("img", HEADER + "\nTags: a\n").entries[0]
    assert entry.scalar("GitFetch") == "refs/heads/master"
    assert entry.scalar("Directory") == "."
    assert entry.scalar("File") == "Dockerfile"
    assert entry.architectures == ["amd64"]


def test_explicit_empty_git_fetch_overrides_the_default_and_is_invalid() -> None:
    result = validate("img", HEADER + "\nTags: a\nGitFetch:\n")
    assert [(p.code, p.line) for p in result.problems] == [("invalid-git-fetch", 6)]


def test_empty_directory_becomes_dot_with_a_warning() -> None:
    result = validate("img", HEADER + "\nTags: a\nDirectory:\n")
    assert result.parsed.entries[0].scalar("Directory") == "."
    assert [p.code for p in result.problems] == ["empty-value"]


def test_architectures_are_deduplicated_and_sorted_shared_tags_keep_order() -> None:
    text = HEADER + "\nTags: a\nArchitectures: s390x, amd64, s390x\nSharedTags: z, y, z\n"
    result = validate("img", text)
    entry = result.parsed.entries[0]
    assert entry.architectures == ["amd64", "s390x"]
    assert entry.shared_tags == ["z", "y"]
    assert [p.code for p in result.problems] == ["duplicate-item", "duplicate-item"]


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        (".", "."),
        ("./foo/", "foo"),
        ("a//b/./c/..", "a/b"),
        ("../x", "../x"),
        ("/../x", "/x"),
        ("a/../..", ".."),
        ("//abs", "/abs"),
        ("a/b/../../../c", "../c"),
    ],
)
def test_go_path_clean(path: str, cleaned: str) -> None:
    assert go_path_clean(path) == cleaned


def test_entry_directories_are_cleaned_global_kept_as_written() -> None:
    text = (
        "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\n"
        f"GitCommit: {COMMIT}\nDirectory: ./base/\namd64-Directory: ./x//y/\n\nTags: a\n"
    )
    manifest = parse("img", text)
    entry = manifest.entries[0]
    assert entry.scalar("Directory") == "base"
    assert entry.scalar("amd64-Directory") == "x/y"
    assert manifest.global_entry.scalar("Directory") == "./base/"
    assert canonical_text(manifest).split("\n\n") == [
        f"Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\nGitCommit: {COMMIT}\n"
        "Directory: ./base/\namd64-Directory: ./x//y/",
        "Tags: a\nDirectory: base\namd64-Directory: x/y",
    ]


def test_arch_specific_field_overrides_only_its_architecture() -> None:
    text = HEADER + f"\nTags: a\nArchitectures: amd64, arm64v8\narm64v8-GitCommit: {OTHER}\n"
    entry = parse("img", text).entries[0]
    assert entry.arch_value("arm64v8", "GitCommit") == OTHER
    assert entry.arch_value("amd64", "GitCommit") == COMMIT


def test_entries_with_identical_artifacts_are_merged_by_cat() -> None:
    text = (
        HEADER
        + "\nTags: 1.0, 1\nSharedTags: s\nDirectory: d\n\nTags: 1-extra\nSharedTags: s, t\n"
        + "Directory: d\n\nTags: 2\nDirectory: other\n"
    )
    assert canonical_text(parse("img", text)) == (
        "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\n"
        f"GitCommit: {COMMIT}\n\n"
        "Tags: 1.0, 1, 1-extra\nSharedTags: s, t\nDirectory: d\n\n"
        "Tags: 2\nDirectory: other"
    )


def test_cat_field_order_and_cleared_defaults() -> None:
    text = (
        "Maintainers: Jane Doe (@jane)\nGitFetch: refs/heads/master\nFile: Dockerfile\n"
        f"Architectures: amd64\nGitRepo: https://example.com/r.git\n\n"
        f"Constraints: windowsservercore\ns390x-GitCommit: {OTHER}\namd64-File: Dockerfile.x\n"
        f"Builder: buildkit\nFile: Containerfile\nDirectory: d\nGitCommit: {COMMIT}\n"
        "GitFetch: refs/tags/v1\nGitRepo: https://example.com/other.git\n"
        "Architectures: s390x, amd64\nSharedTags: s\nTags: t\n"
    )
    assert canonical_text(parse("img", text)) == (
        "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\n\n"
        "Tags: t\nSharedTags: s\nArchitectures: amd64, s390x\n"
        "GitRepo: https://example.com/other.git\nGitFetch: refs/tags/v1\n"
        f"GitCommit: {COMMIT}\nDirectory: d\nFile: Containerfile\nBuilder: buildkit\n"
        f"amd64-File: Dockerfile.x\ns390x-GitCommit: {OTHER}\nConstraints: windowsservercore"
    )


def test_invalid_utf8_and_binary_input_are_clear_errors() -> None:
    bad = validate("img", b"Maintainers: J\xe9r\xf4me (@j)\n")
    assert [(p.code, p.line) for p in bad.problems] == [("invalid-encoding", 1)]
    binary = validate("img", b"\x7fELF\x02\x01\n\x00\x00")
    assert [(p.code, p.line) for p in binary.problems] == [("binary-content", 2)]
    assert binary.status == "invalid"


def test_every_problem_is_reported_at_once() -> None:
    text = (
        "Maintainers: nobody\nTags: g\n\n"
        "Tags: a, a, latest-x\nGitFetch: main\nGitCommit: abc\nArchitectures: arm64\n"
    )
    found = codes(text)
    for code in (
        "invalid-maintainer",
        "global-tags",
        "duplicate-tag",
        "latest-in-tag",
        "invalid-git-fetch",
        "invalid-git-commit",
        "unsupported-architecture",
        "missing-field",
    ):
        assert code in found
