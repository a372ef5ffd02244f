"""`manifest-validate diff --git REPO RANGE` where reviewers are: a local working clone, a bare
repository or a URL (smart HTTP, `git http-backend` on 127.0.0.1) give the same output for the
same range; git's revision syntax (`A..B`, `A...B` against the merge base, `HEAD~1`, abbreviated
ids, tags, `origin/master`); git's warnings on stderr; `/dev/null` for a new or removed image.

The manifests repository (`git log --graph`)::

    c0 (tag v1) - m1                 master: m1 bumps `stable`'s GitCommit
       \\
        p1 - p2                      pr: p1 bumps `app` and adds `fresh`, p2 removes `gone`
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, commit_all, run_git, serve_git
from manifest_validation.cli.main import main


def library_file(commit: str, tags: str = "1.0, 1, latest") -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"
        "GitRepo: https://github.com/docker-library/example.git\n\n"
        f"Tags: {tags}\n"
        "Architectures: amd64, arm64v8\n"
        f"GitCommit: {commit}\n"
        "Directory: 1\n"
    )


@dataclass(frozen=True)
class Repos:
    work: Path  # the working clone the history was made in (HEAD: pr)
    bare: Path  # a bare copy
    clone: Path  # a clone of the bare copy: origin/master, origin/pr; HEAD: master
    server: GitServer
    ids: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.repo_url("manifests.git")


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repos]:
    root = tmp_path_factory.mktemp("difflocal")
    work = root / "work"
    (work / "library").mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)
    (work / "library" / "app").write_text(library_file("a" * 40))
    (work / "library" / "stable").write_text(library_file("b" * 40, "5"))
    (work / "library" / "gone").write_text(library_file("c" * 40, "9"))
    ids = {"c0": commit_all(work, "c0")}
    run_git("tag", "v1", cwd=work)
    run_git("checkout", "-q", "-b", "pr", cwd=work)
    (work / "library" / "app").write_text(library_file("d" * 40, "1.1, 1, latest"))
    (work / "library" / "fresh").write_text(library_file("e" * 40, "7"))
    ids["p1"] = commit_all(work, "p1", GIT_COMMITTER_DATE="2020-01-02T00:00:00Z")
    (work / "library" / "gone").unlink()
    ids["p2"] = commit_all(work, "p2", GIT_COMMITTER_DATE="2020-01-03T00:00:00Z")
    run_git("checkout", "-q", "master", cwd=work)
    (work / "library" / "stable").write_text(library_file("f" * 40, "5"))
    ids["m1"] = commit_all(work, "m1", GIT_COMMITTER_DATE="2020-01-04T00:00:00Z")
    run_git("checkout", "-q", "pr", cwd=work)
    served = root / "served"
    served.mkdir()
    bare = served / "manifests.git"
    run_git("clone", "-q", "--bare", "--no-local", work, bare)
    clone = root / "clone"
    run_git("clone", "-q", "--no-local", bare, clone)
    with serve_git(served) as server:
        yield Repos(work, bare, clone, server, ids)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def images(output: str) -> dict[str, dict[str, Any]]:
    return {image["image"]: image for image in json.loads(output)["images"]}


def test_a_working_clone_a_bare_repository_and_smart_http_give_the_same_output(
    repos: Repos, capsys: pytest.CaptureFixture[str]
) -> None:
    host = ("--insecure-host", repos.server.host_port)
    outputs = {}
    for name, location, revisions in (
        ("work", str(repos.work), "master...pr"),
        ("bare", str(repos.bare), "master...pr"),
        ("clone", str(repos.clone), "origin/master...origin/pr"),
        ("http", repos.url, "master...pr"),
    ):
        for output_format in ("text", "json", "markdown"):
            code, out, err = run(
                capsys, "--git", location, revisions, "--format", output_format, *host
            )
            assert (code, err) == (0, ""), (name, err)
            outputs[(name, output_format)] = out
    for output_format in ("text", "json", "markdown"):
        assert len({outputs[(n, output_format)] for n in ("work", "bare", "clone", "http")}) == 1
    found = images(outputs[("bare", "json")])
    # against the merge base c0: what the pull request does, not what master did meanwhile
    assert {name: image["status"] for name, image in found.items()} == {
        "app": "modified",
        "fresh": "added",
        "gone": "removed",
    }
    assert found["app"]["tags_added"] == ["1.1"]
    assert found["app"]["tags_removed"] == ["1.0"]
    assert outputs[("work", "text")].splitlines()[-1] == (
        "3 images changed: 1 modified, 1 added, 1 removed (1 unchanged)"
    )


def test_two_dots_compare_the_tips_themselves(
    repos: Repos, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--git", str(repos.bare), "master..pr", "--format", "json")
    assert code == 0
    # master's own change to `stable` shows up reverted: pr does not have it
    assert images(out)["stable"]["changed"][0]["fields"] == [
        {"field": "GitCommit", "architecture": None, "old": "f" * 40, "new": "b" * 40}
    ]


@pytest.mark.parametrize(
    ("revisions", "expected"),
    [
        ("HEAD~1..HEAD", {"gone": "removed"}),  # HEAD of the working clone is pr
        ("pr^..pr", {"gone": "removed"}),
        ("v1..pr~1", {"app": "modified", "fresh": "added"}),
        ("{c0}..{p2}", {"app": "modified", "fresh": "added", "gone": "removed"}),
        ("{m1}...HEAD", {"app": "modified", "fresh": "added", "gone": "removed"}),
    ],
)
def test_git_revision_syntax(
    repos: Repos, capsys: pytest.CaptureFixture[str], revisions: str, expected: dict[str, str]
) -> None:
    short = {name: commit[:7] for name, commit in repos.ids.items()}
    code, out, err = run(
        capsys, "--git", str(repos.work), revisions.format(**short), "--format", "json"
    )
    assert (code, err) == (0, "")
    assert {name: image["status"] for name, image in images(out).items()} == expected


def test_what_git_warns_about_is_printed_on_stderr(
    repos: Repos, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    run_git("clone", "-q", "--no-local", repos.bare, clone)
    run_git("branch", "v1", "origin/pr", cwd=clone)  # a branch named like the tag
    code, out, err = run(capsys, "--git", str(clone), "v1..origin/pr")
    assert code == 0
    assert err == (
        "manifest-validate: warning: refname 'v1' is ambiguous "
        "(refs/tags/v1, refs/heads/v1); using refs/tags/v1\n"
    )
    assert out.splitlines()[-1] == "3 images changed: 1 modified, 1 added, 1 removed (1 unchanged)"


@pytest.mark.parametrize(
    ("location", "revisions", "message"),
    [
        ("{work}", "master", "'master' is a single revision; give a range"),
        ("{work}", "master..nope", "nope"),
        ("{work}/library", "master..pr", "library"),
        ("git@github.com:docker-library/official-images.git", "a..b", "SSH location"),
    ],
)
def test_refusals_are_sentences_and_usage_errors(
    repos: Repos, capsys: pytest.CaptureFixture[str], location: str, revisions: str, message: str
) -> None:
    code, out, err = run(capsys, "--git", location.format(work=repos.work), revisions)
    assert code == 2
    assert out == ""
    assert err.startswith("manifest-validate: error: ")
    assert message in err


def test_dev_null_stands_for_a_new_or_a_removed_image(
    repos: Repos, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = repos.work / "library" / "fresh"
    code, out, err = run(capsys, "/dev/null", str(fresh), "--format", "json")
    assert (code, err) == (0, "")
    assert images(out)["fresh"]["status"] == "added"
    assert images(out)["fresh"]["tags_added"] == ["7"]

    code, out, err = run(capsys, str(fresh), "/dev/null", "--format", "json")
    assert (code, err) == (0, "")
    assert images(out)["fresh"]["status"] == "removed"

    code, out, err = run(capsys, "/dev/null", str(repos.work / "library"), "--format", "json")
    assert (code, err) == (0, "")
    assert {image["status"] for image in images(out).values()} == {"added"}
    assert set(images(out)) == {"app", "fresh", "stable"}  # HEAD is pr: `gone` is gone

    code, _, err = run(capsys, "/dev/null", "/dev/null")
    assert code == 2
    assert "cannot both be /dev/null" in err
