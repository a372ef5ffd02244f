"""Review of issue 9: disagreements with bashbrew (or with the issue) that a review found after
the first fixes; each is fixed now, and held by its test.

Each case names the input, bashbrew's verdict (from pault.ag/go/debian's control reader,
bashbrew's comment stripper and `manifest/rfc2822.go`) and what we do instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from manifest_validation.checks.pipeline import validate
from manifest_validation.libraryfile.cat import canonical_text
from manifest_validation.libraryfile.parse import parse
from manifest_validation.problems.status import Status

COMMIT = "0123456789abcdef0123456789abcdef01234567"
HEADER = f"Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\nGitCommit: {COMMIT}\n"


def cat(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    file = tmp_path / "img"
    file.write_bytes(text.encode())
    return subprocess.run(
        [sys.executable, "-m", "manifest_validation.cli", "cat", str(file)],
        capture_output=True,
        text=True,
        check=False,
    )


# bashbrew's verdict (found by the review): manifest.py detects comments with str.strip(), which
# also strips U+001C..U+001F; bashbrew's comment stripper trims unicode.IsSpace only, so the line
# is a `Bad line`
@pytest.mark.parametrize("separator", ["\x1c", "\x1d", "\x1e", "\x1f"])
def test_a_hash_after_an_information_separator_is_not_a_comment(separator: str) -> None:
    text = HEADER + f"\nTags: a\n{separator}# not a comment for bashbrew\n"
    result = validate("img", text)
    assert result.status is Status.INVALID
    assert [(p.code, p.line) for p in result.problems] == [("bad-line", 6)]


# bashbrew's verdict (found by the review): the whitespace-only-line warning uses str.strip(): '
# \x1f' is not whitespace to Go, the value gets a \x1f line (the GitCommit error itself is right)
def test_a_continuation_of_an_information_separator_is_not_a_whitespace_only_line() -> None:
    text = HEADER.replace(f"GitCommit: {COMMIT}\n", "") + f"\nTags: a\nGitCommit: {COMMIT}\n \x1f\n"
    assert [(p.code, p.line) for p in validate("img", text).problems] == [("invalid-git-commit", 5)]


# bashbrew's verdict (found by the review): bashbrew accepts a GitFetch with a newline from a
# continuation line: Go's regexps are compiled with ClassNL, so `[^*?:]+$` matches
# 'refs/heads/main\n' ($ = end of text); the catalog marks invalid-git-fetch as refused by
# bashbrew for every value, so cat prints nothing (docs/format.md says it is an error of our own)
@pytest.mark.slow
@pytest.mark.parametrize(
    "written", ["GitFetch:\n refs/heads/main\n", "GitFetch: refs/heads/main\n  \n"]
)
def test_cat_prints_a_continued_git_fetch_as_bashbrew_does(tmp_path: Path, written: str) -> None:
    done = cat(tmp_path, HEADER + "\nTags: a\n" + written)
    assert "invalid-git-fetch" in done.stderr  # still an error of our own
    assert done.returncode == 0
    assert "GitFetch: refs/heads/main\n" in done.stdout


# bashbrew's verdict (found by the review): bashbrew accepts a space inside a GitFetch (`[^*?:]`
# lets it through); our schema forbids whitespace (rightly), but cat then refuses what bashbrew
# prints
@pytest.mark.slow
def test_cat_prints_a_git_fetch_with_a_space_as_bashbrew_does(tmp_path: Path) -> None:
    done = cat(tmp_path, HEADER + "\nTags: a\nGitFetch: refs/heads/my branch\n")
    assert done.returncode == 0
    assert "GitFetch: refs/heads/my branch" in done.stdout


# bashbrew's verdict (found by the review): bashbrew keeps empty Constraints items (it does not
# check Constraints) and cat joins them with ', '; manifest.py drops them, so cat prints a
# different text
def test_cat_keeps_an_empty_constraints_item_as_bashbrew_does() -> None:
    text = HEADER + "Constraints: windowsservercore,\n\nTags: a\nArchitectures: windows-amd64\n"
    # strings.Trim("windowsservercore,", "\n\r\t ") keeps the comma; Split gives ["...", ""]
    assert "\nConstraints: windowsservercore, \n" in canonical_text(parse("img", text)) + "\n"


# bashbrew's verdict (found by the review): a continued global Directory inherited by an entry is
# reported twice on one line (the global and the entry patterns differ: [^\n\r] vs [^\n], so the
# messages differ and are not merged), and the message is the raw regexp
def test_a_continued_global_directory_is_reported_once() -> None:
    text = HEADER + "Directory: d\n \n\nTags: a\n"
    problems = [(p.code, p.line) for p in validate("img", text).problems]
    assert problems == [("invalid-value", 4), ("whitespace-only-line", 5)]
    assert "does not match" not in validate("img", text).problems[0].message


# bashbrew's verdict (found by the review): shared-tag-arch-overlap records only the first entry
# per (shared tag, arch): the pair (c, b) overlaps on amd64 and s390x but its problem names s390x
# only
def test_an_overlap_problem_names_every_architecture_the_pair_shares() -> None:
    text = (
        HEADER + "\nTags: a\nSharedTags: s\nArchitectures: amd64\n\n"
        "Tags: b\nSharedTags: s\nArchitectures: amd64, s390x\nDirectory: b\n\n"
        "Tags: c\nSharedTags: s\nArchitectures: amd64, s390x\nDirectory: c\n"
    )
    found = [
        (p.line, p.message)
        for p in validate("img", text).problems
        if p.code == "shared-tag-arch-overlap"
    ]
    assert (
        15,
        "shared tag 's' already has amd64 and s390x images from the entry on line 9",
    ) in found
