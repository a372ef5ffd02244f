"""`manifest-validate review`: every changed manifest checked with what it changes, the removed
ones reported, the changed images' docs folders, per image, in text, Markdown and JSON; over a
git range of a clone (`origin/master...HEAD`, as a pull request's CI compares), a bare
repository, and two files or directories.

The manifests repository (`git log --graph`)::

    c0 - m1                         master: m1 bumps `stable` (not the pull request's business)
      \\
       p1                           pr: `app` bumped, `fresh` added (invalid), `gone` removed
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import commit_all, run_git
from manifest_validation.checks.schema import result_validator
from manifest_validation.cli.main import main
from manifest_validation.results.review import render_review_markdown
from paths import PROJECT

DOCS = PROJECT / "examples" / "docs"
A, B, C, D = "a" * 40, "b" * 40, "c" * 40, "d" * 40


def library_file(commit: str, tags: str, maintainer: str = "Jane Doe (@jane)") -> str:
    return (
        f"Maintainers: {maintainer}\n"
        "GitRepo: https://github.com/docker-library/example.git\n\n"
        f"Tags: {tags}\n"
        "Architectures: amd64, arm64v8\n"
        f"GitCommit: {commit}\n"
        "Directory: 1\n"
    )


@dataclass(frozen=True)
class Repo:
    clone: Path  # a clone of the pull request's branch, origin/master beside it
    bare: Path
    base: str  # the merge base (c0)
    head: str  # p1


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repo]:
    root = tmp_path_factory.mktemp("review")
    work = root / "work"
    library = work / "library"
    library.mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)
    (library / "app").write_text(library_file(A, "1.0, 1, latest"))
    (library / "stable").write_text(library_file(B, "5"))
    (library / "gone").write_text(library_file(C, "9"))
    base = commit_all(work, "c0")
    run_git("checkout", "-q", "-b", "pr", cwd=work)
    (library / "app").write_text(library_file(D, "1.1, 1, latest"))
    (library / "fresh").write_text(library_file("v7", "7, latest-alpine", "Joe (@joe)"))
    (library / "gone").unlink()
    head = commit_all(work, "p1")
    run_git("checkout", "-q", "master", cwd=work)
    (library / "stable").write_text(library_file(A, "5"))
    commit_all(work, "m1")
    bare = root / "manifests.git"
    run_git("clone", "-q", "--bare", "--no-local", work, bare)
    clone = root / "clone"
    run_git("clone", "-q", "--no-local", "--branch", "pr", bare, clone)
    yield Repo(clone, bare, base, head)


def review(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["review", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_per_image_with_results_and_changes(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = review(
        capsys, "--git", str(repo.clone), "origin/master...HEAD", "--format", "json"
    )
    assert (code, err) == (1, "")  # `fresh` is invalid
    document = json.loads(out)
    assert document["review_version"] == 1
    assert document["compared"] == {
        "repository": str(repo.clone),
        "range": "origin/master...HEAD",
        "old": repo.base,
        "new": repo.head,
    }
    assert document["summary"] == {
        "images": 3,
        "added": 1,
        "modified": 1,
        "removed": 1,
        "unchanged": 1,  # stable: master's change is not the pull request's
        "docs": 0,
        "valid": 1,
        "invalid": 1,
        "unverified": 0,
        "errors": 2,
        "warnings": 0,
        "notes": 0,
    }
    images = {entry["image"]: entry for entry in document["images"]}
    assert [entry["image"] for entry in document["images"]] == ["app", "fresh", "gone"]
    assert {name: (e["change"], e["status"]) for name, e in images.items()} == {
        "app": ("modified", "valid"),
        "fresh": ("added", "invalid"),
        "gone": ("removed", "removed"),
    }
    app = images["app"]["manifest"]
    assert app["origin"] == {
        "kind": "git",
        "sha256": app["origin"]["sha256"],
        "repository": str(repo.clone),
        "commit": repo.head,
        "path": "library/app",
    }
    assert app["changes"]["base"]["commit"] == repo.base
    assert app["changes"]["tags_added"] == ["1.1"]
    assert app["changes"]["changed"][0]["fields"] == [
        {"field": "GitCommit", "architecture": None, "old": A, "new": D}
    ]
    fresh = images["fresh"]["manifest"]
    assert [p["code"] for p in fresh["problems"]] == ["latest-in-tag", "invalid-git-commit"]
    assert fresh["changes"]["status"] == "added"
    assert fresh["changes"]["base"] == {"commit": repo.base}
    gone = images["gone"]["manifest"]
    assert gone["status"] == "removed"
    assert gone["changes"]["tags_removed"] == ["9"]
    assert images["app"]["maintainers"] == ["jane"]
    assert images["fresh"]["maintainers"] == ["joe"]
    for entry in document["images"]:
        assert list(result_validator().iter_errors(entry["manifest"])) == []


def test_text_page(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = review(capsys, "--git", str(repo.clone), "origin/master...HEAD")
    assert code == 1
    assert out.splitlines() == [
        "app (modified): valid, 0 errors, 0 warnings",
        "  tags added: 1.1",
        "  tags removed: 1.0",
        f"  tags 1, latest: GitCommit {A[:12]} -> {D[:12]}",
        "  maintainers: @jane",
        "fresh (added): invalid, 2 errors, 0 warnings",
        "  entry added: 7, latest-alpine [amd64, arm64v8]",
        "  tags added: 7, latest-alpine",
        "  library/fresh:4: latest-in-tag error: Tags 'latest-alpine' contains 'latest' but "
        "is not 'latest'",
        "      hint: Drop `latest` from the tag, e.g. `alpine` instead of `latest-alpine`.",
        "  library/fresh:6: invalid-git-commit error: invalid GitCommit 'v7' (must be a full "
        "40- or 64-hex commit id, not a tag, branch or abbreviation)",
        "      hint: Use the full commit id (`git rev-parse HEAD`), lower case.",
        "  maintainers: @joe",
        "gone (removed)",
        "  entry removed: 9 [amd64, arm64v8]",
        "  tags removed: 9",
        "3 images changed: 1 modified, 1 added, 1 removed (1 unchanged); 2 checked: 1 valid, "
        "1 invalid (2 errors, 0 warnings)",
    ]


def test_markdown_page(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = review(
        capsys, "--git", str(repo.clone), "origin/master...HEAD", "--format", "markdown"
    )
    assert code == 1
    lines = out.splitlines()
    assert lines[:9] == [
        "## Review of the changes",
        "",
        "3 images changed: 1 modified, 1 added, 1 removed (1 unchanged); 2 checked: 1 valid, "
        "1 invalid (2 errors, 0 warnings)",
        "",
        "| image | change | result | problems |",
        "| --- | --- | --- | --- |",
        "| `app` | modified | ✅ valid |  |",
        "| `fresh` | added | ❌ invalid | 2 errors |",
        "| `gone` | removed | 🗑️ removed |  |",
    ]
    assert "### `fresh` (added): invalid" in lines
    assert (
        "- ❌ `latest-in-tag` `library/fresh:4`: Tags 'latest-alpine' contains 'latest' but "
        "is not 'latest'<br>*Drop \\`latest\\` from the tag, e.g. \\`alpine\\` instead of "
        "\\`latest-alpine\\`.*"
    ) in lines
    assert "| `1`, `latest` | GitCommit `aaaaaaaaaaaa` → `dddddddddddd` " in out
    assert "Maintainers: @joe" in lines


def test_a_bare_repository_and_a_working_clone_give_the_same_page(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = []
    for location, revisions in (
        (repo.bare, f"master...{repo.head[:10]}"),
        (repo.clone, "origin/master...HEAD"),
    ):
        code, out, _ = review(capsys, "--git", str(location), revisions, "--format", "markdown")
        assert code == 1
        pages.append(out)
    assert pages[0] == pages[1]


def test_nothing_changed_is_exit_0(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = review(capsys, "--git", str(repo.bare), "master..master")
    assert (code, err) == (0, "")
    assert out == "0 images changed: 0 modified, 0 added, 0 removed (3 unchanged)\n"
    code, out, _ = review(capsys, "--git", str(repo.bare), "master..master", "--format", "markdown")
    assert "Nothing to review" in out


def test_two_directories_with_docs_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    hello = (PROJECT / "examples" / "library" / "hello-world").read_text()
    (old / "hello-world").write_text(hello)
    (new / "hello-world").write_text(hello.replace("Tags: linux", "Tags: linux, linux-2"))
    (old / "same").write_text(library_file(A, "1"))
    (new / "same").write_text(library_file(A, "1"))
    (new / "brand-new").write_text(library_file(A, "2"))
    code, out, _ = review(capsys, str(old), str(new), "--docs", str(DOCS), "--format", "json")
    document = json.loads(out)
    images = {entry["image"]: entry for entry in document["images"]}
    assert set(images) == {"hello-world", "brand-new"}
    assert images["hello-world"]["docs"]["status"] == "valid"
    assert images["hello-world"]["docs"]["source"] == str(DOCS / "hello-world")
    # a new image needs a docs folder
    assert [p["code"] for p in images["brand-new"]["docs"]["problems"]] == ["missing-docs-folder"]
    assert images["brand-new"]["status"] == "invalid"
    assert code == 1
    assert document["summary"]["unchanged"] == 1
    assert document["summary"]["docs"] == 2

    code, out, _ = review(capsys, str(old), str(new), "--docs", str(DOCS))
    assert f"  docs folder {DOCS / 'hello-world'}: valid, 0 errors, 0 warnings" in out.splitlines()


def test_dev_null_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "app"
    file.write_text(library_file(A, "1"))
    code, out, _ = review(capsys, "/dev/null", str(file), "--format", "json")
    assert code == 0
    (entry,) = json.loads(out)["images"]
    assert (entry["change"], entry["status"]) == ("added", "valid")
    code, out, _ = review(capsys, str(file), "/dev/null")
    assert code == 0
    assert out.splitlines()[0] == "app (removed)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--git", "{clone}", "master"], "single revision"),
        (["--git", "{clone}", "nope..HEAD"], "nope"),
        (["{clone}/missing", "{clone}/library/app"], "no such file"),
        (["--library", "{clone}/library", "/dev/null", "{clone}/library/app"], "--verify-git"),
        (["/dev/null", "{clone}/library/app", "--docs", "{clone}/nowhere"], "nowhere"),
    ],
)
def test_usage_errors(
    repo: Repo, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = review(capsys, *(arg.format(clone=repo.clone) for arg in args))
    assert code == 2
    assert out == ""
    assert err.startswith("manifest-validate: error: ") and message in err


def test_unreachable_upstream_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "app"
    file.write_text(library_file(A, "1").replace("https://github.com", "http://127.0.0.1:1"))
    code, out, _ = review(
        capsys, "/dev/null", str(file), "--verify-git", "--insecure-host", "127.0.0.1:1"
    )
    assert code == 3
    assert out.splitlines()[0] == "app (added): unverified, 0 errors, 1 warning"


def _document(names: list[str]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "kind": "manifest",
        "status": "invalid",
        "source": "x",
        "origin": {"kind": "file", "sha256": "0" * 64, "path": "library/x"},
        "summary": {"entries": 1, "errors": 1, "warnings": 0, "notes": 0},
        "problems": [
            {
                "code": "invalid-tag",
                "severity": "error",
                "line": 3,
                "field": "Tags",
                "message": "invalid tag '<img src=x>' [link](http://x) @everyone | *",
                "hint": None,
            }
        ],
    }
    images = [
        {
            "image": name,
            "change": "modified",
            "status": "invalid",
            "maintainers": [],
            "manifest": message,
            "docs": None,
        }
        for name in names
    ]
    summary = dict.fromkeys(
        ("images", "added", "modified", "removed", "unchanged", "docs"), 0
    ) | dict.fromkeys(("valid", "invalid", "unverified", "errors", "warnings", "notes"), 0)
    return {"review_version": 1, "compared": {}, "summary": summary, "images": images}


def test_markdown_stays_under_the_limit_and_names_the_rest() -> None:
    names = [f"image-{number:03}" for number in range(400)]
    page = render_review_markdown(_document(names), limit=20_000)
    assert len(page) <= 20_000 + 8_000  # the names of what is left out come on top
    assert "Not shown, to keep this page short: " in page
    shown = [name for name in names if f"### `{name}`" in page]
    assert shown == names[: len(shown)] and 0 < len(shown) < 400
    assert f"`{names[-1]}`" in page.splitlines()[-1]
    assert len(render_review_markdown(_document(names))) < 65_536


def test_markdown_text_from_files_is_escaped() -> None:
    page = render_review_markdown(_document(["x"]))
    line = next(line for line in page.splitlines() if "invalid tag" in line)
    assert "<img" not in line and "&lt;img src=x&gt;" in line
    assert "\\[link\\](http://x)" in line
    assert "@\u200beveryone" in line
    assert "\\| \\*" in line


def test_commits_are_reviewed_not_the_working_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = tmp_path / "clone"
    run_git("init", "-q", "-b", "master", clone)
    (clone / "library").mkdir()
    (clone / "library" / "app").write_text(library_file(A, "1"))
    commit_all(clone, "c0")
    (clone / "library" / "app").write_text(library_file(B, "1"))
    commit_all(clone, "c1")
    (clone / "library" / "app").write_text("not committed\n")
    code, out, _ = review(capsys, "--git", str(clone), "HEAD~1..HEAD")
    assert code == 0
    assert out.splitlines()[:2] == [
        "app (modified): valid, 0 errors, 0 warnings",
        f"  tag 1: GitCommit {A[:12]} -> {B[:12]}",
    ]


def test_changes_read_back_from_json_are_the_same(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    from manifest_validation.diff.model import ImageChanges

    assert main(["diff", "--git", str(repo.bare), "master..pr", "--format", "json"]) == 0
    images = json.loads(capsys.readouterr().out)["images"]
    assert len(images) == 4
    for image in images:
        assert ImageChanges.from_json(image).to_json() == image


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_review_git_dot_in_a_clone_prints_the_page_in_each_format(
    repo: Repo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    output_format: str,
) -> None:
    monkeypatch.chdir(repo.clone)
    code, out, err = review(capsys, "--git", ".", "origin/master...HEAD", "--format", output_format)
    assert (code, err) == (1, "")
    first = {
        "text": "app (modified): valid, 0 errors, 0 warnings",
        "markdown": "## Review of the changes",
        "json": "{",
    }[output_format]
    assert out.splitlines()[0] == first
    if output_format == "json":
        document = json.loads(out)
        assert document["compared"]["repository"] == str(repo.clone)
        assert [entry["image"] for entry in document["images"]] == ["app", "fresh", "gone"]
