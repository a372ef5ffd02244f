"""`review --git` on a clone of a docker-library/docs-shaped repository (a root metadata.json
with the canonical categories, one folder per image, no library/): the image folders the range
changed are checked, read from the head commit, with the root's categories; and the folder
reading it rests on (`LocalGitManifestSource.tree` and `.blob`, `repository.folders`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitserver import commit_all, run_git
from manifest_validation.cli.main import main
from manifest_validation.repository import LocalGitManifestSource
from manifest_validation.repository.folders import changed_directories, read_directory
from paths import PROJECT

DOCS = PROJECT / "examples" / "docs"


@pytest.fixture
def docs_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """(clone, base, head): head makes hello-world's description too long and its category
    one the root does not list; example-db is untouched; .github changes too."""
    repo = tmp_path / "docs"
    shutil.copytree(DOCS, repo)
    run_git("init", "-q", "-b", "master", repo)
    (repo / "metadata.json").write_text('{"hub": {"categories": ["databases"]}}\n')
    (repo / ".github").mkdir()
    (repo / ".github" / "ci.yml").write_text("on: push\n")
    (repo / "README.md").write_text("# docs\n")
    base = commit_all(repo, "c0")
    short = repo / "hello-world" / "README-short.txt"
    short.write_text("x" * 120 + "\n")
    (repo / ".github" / "ci.yml").write_text("on: pull_request\n")
    head = commit_all(repo, "c1")
    short.write_text("uncommitted, not reviewed\n")
    return repo, base, head


def test_the_changed_docs_folders_are_reviewed(
    docs_repo: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, base, head = docs_repo
    assert main(["review", "--git", str(repo), "HEAD~1..HEAD", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["compared"]["old"] == base and document["compared"]["new"] == head
    assert [entry["image"] for entry in document["images"]] == ["hello-world"]
    (entry,) = document["images"]
    assert (entry["change"], entry["status"], entry["manifest"]) == (None, "invalid", None)
    docs = entry["docs"]
    assert docs["kind"] == "docs" and docs["source"] == "hello-world"
    assert sorted(p["code"] for p in docs["problems"]) == [
        "docs-short-description-too-long",  # the committed text, not the working tree's
        "docs-unknown-category",  # the root's categories, not the schema's list
    ]
    assert document["summary"]["docs"] == 1 and document["summary"]["images"] == 0

    assert main(["review", "--git", str(repo), "HEAD~1..HEAD"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "hello-world"
    assert lines[1] == "  docs folder hello-world: invalid, 2 errors, 0 warnings"
    assert lines[-1] == "1 docs folder; 1 checked: 0 valid, 1 invalid (2 errors, 0 warnings)"


def test_a_docs_repository_range_without_folder_changes_reviews_nothing(
    docs_repo: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _, _ = docs_repo
    (repo / "README.md").write_text("# docs, again\n")
    run_git("checkout", "-q", "--", "hello-world", cwd=repo)
    commit_all(repo, "c2")
    assert main(["review", "--git", str(repo), "HEAD~1..HEAD"]) == 0
    assert capsys.readouterr().out == (
        "0 images changed: 0 modified, 0 added, 0 removed (0 unchanged)\n"
    )


def test_tree_blob_and_folders(docs_repo: tuple[Path, str, str]) -> None:
    repo, base, head = docs_repo
    with LocalGitManifestSource(repo) as source:
        top = source.tree(head)
        assert top["metadata.json"][0] == "file"
        assert {name for name, (kind, _) in top.items() if kind == "dir"} == {
            ".github",
            "example-db",
            "hello-world",
        }
        assert source.blob(top["README.md"][1]) == b"# docs\n"
        assert source.tree(head, "hello-world")["README-short.txt"][0] == "file"
        assert source.tree(head, "nowhere") == {}
        assert source.tree(head, "README.md") == {}  # a file, not a directory
        with pytest.raises(ValueError):
            source.tree(head, "../x")
        assert changed_directories(source, base, head) == ["hello-world"]  # .github is hidden
        files = read_directory(source, head, "hello-world", names={"README-short.txt", "x"})
        assert files == {"README-short.txt": b"x" * 120 + b"\n"}
        assert set(read_directory(source, base, "hello-world")) == {
            path.name for path in (DOCS / "hello-world").iterdir()
        }
