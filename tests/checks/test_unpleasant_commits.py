"""Unpleasant commits (naughty-commits.sh) through `check --verify-git`: a generated repository
with rewritten tarballs served by the real `git http-backend` on 127.0.0.1; each offending
commit once, at the GitCommit line in effect, with the script's own wording."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, run_git, serve_git
from manifest_validation.checks.schema import result_validator
from manifest_validation.cli.main import main
from upstream.tar_repos import MIB, Builder, binary

pytestmark = pytest.mark.slow  # real git servers


@dataclass(frozen=True)
class Repo:
    served: Path
    c: dict[str, str]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    root = tmp_path_factory.mktemp("unpleasant")
    b = Builder(root / "work")
    c: dict[str, str] = {}
    b.write("Dockerfile", b"FROM scratch\nADD rootfs.tar.gz /\n")
    b.write("big.tar.xz", binary(1, 3 * MIB))
    b.write("small.tar", binary(2, 1 * MIB))
    c["add"] = b.commit("add the tarballs (additions are never listed)")
    b.write("big.tar.xz", binary(3, 3 * MIB + 5))
    c["big"] = b.commit("rewrite big.tar.xz: 3 MiB, offends")
    b.write("small.tar", binary(4, 1 * MIB + 5))
    c["small"] = b.commit("rewrite small.tar: under the threshold")
    b.write("README", b"readme\n")
    c["main"] = b.commit("no tarball")
    b.git("checkout", "-q", "-b", "next")
    b.write("rootfs/rootfs.tar.gz", binary(5, 5 * MIB))
    c["rootfs_add"] = b.commit("add a rootfs")
    b.write("rootfs/rootfs.tar.gz", binary(6, 5 * MIB + 7))
    c["next"] = b.commit("rewrite the rootfs: 5 MiB, offends")
    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--mirror", "--no-local", b.work, served / "app.git")
    return Repo(served, c)


@pytest.fixture(scope="module")
def server(repo: Repo) -> Iterator[GitServer]:
    with serve_git(repo.served) as srv:
        yield srv


def manifest(url: str, c: dict[str, str]) -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"  # 1
        f"GitRepo: {url}\n"  # 2
        "GitFetch: refs/heads/main\n"  # 3
        f"GitCommit: {c['main']}\n"  # 4
        "\n"
        "Tags: a\n"  # 6
        "Architectures: amd64, arm64v8\n"  # 7
        "arm64v8-GitFetch: refs/heads/next\n"  # 8
        f"arm64v8-GitCommit: {c['next']}\n"  # 9
        "\n"
        "Tags: b\n"  # 11
        "Architectures: amd64\n"  # 12
    )


def check(tmp_path: Path, text: str, *extra: str) -> tuple[int, dict[str, Any]]:
    (tmp_path / "app").write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check", "--format", "json", "--verify-git", *extra, str(tmp_path / "app")])
    document = json.loads(out.getvalue())
    for message in document["results"]:
        assert [e.message for e in result_validator().iter_errors(message)] == []
    return code, document


def test_each_unpleasant_commit_once_at_the_gitcommit_line_in_effect(
    repo: Repo, server: GitServer, tmp_path: Path
) -> None:
    c = repo.c
    code, document = check(
        tmp_path, manifest(server.repo_url("app.git"), c), "--insecure-host", server.host_port
    )
    result = document["results"][0]
    assert (code, result["status"]) == (1, "invalid")
    found = [(p["code"], p["line"], p["field"], p["message"]) for p in result["problems"]]
    big = "modified binary file (larger than 2MB): big.tar.xz (3MB)"
    rootfs = "modified binary file (larger than 2MB): rootfs/rootfs.tar.gz (5MB)"
    # the script walks the GitCommits in `jq -s unique` order (by GitCommit) and stops at the
    # first commit an earlier walk went through: the big.tar.xz rewrite is in both histories
    # and is reported once, with whichever GitCommit comes first
    if c["main"] < c["next"]:
        expected = [
            (
                "unpleasant-commit",
                4,
                "GitCommit",
                f"commit {c['big']} (in history of {c['main']}): {big}",
            ),
            ("unpleasant-commit", 9, "arm64v8-GitCommit", f"commit {c['next']}: {rootfs}"),
        ]
    else:
        expected = [
            (
                "unpleasant-commit",
                9,
                "arm64v8-GitCommit",
                f"commit {c['big']} (in history of {c['next']}): {big}",
            ),
            ("unpleasant-commit", 9, "arm64v8-GitCommit", f"commit {c['next']}: {rootfs}"),
        ]
    assert sorted(found) == sorted(expected)
    assert {p["severity"] for p in result["problems"]} == {"error"}


def test_a_history_that_cannot_be_read_is_unverified_never_invalid(
    repo: Repo, tmp_path: Path
) -> None:
    # the ref checks and builds need no blob:none fetch (oci-import reads no Dockerfile);
    # every history fetch (and its retries) is answered 503
    with serve_git(repo.served, fail_when_body_has=b"filter blob:none") as srv:
        text = (
            "Maintainers: Jane Doe (@jane)\n"  # 1
            f"GitRepo: {srv.repo_url('app.git')}\n"  # 2
            "GitFetch: refs/heads/main\n"  # 3
            f"GitCommit: {repo.c['main']}\n"  # 4
            "Builder: oci-import\n"  # 5
            "File: index.json\n"  # 6
            "\n"
            "Tags: a\n"  # 8
        )
        code, document = check(tmp_path, text, "--insecure-host", srv.host_port)
    result = document["results"][0]
    assert (code, result["status"]) == (3, "unverified")
    (only,) = result["problems"]
    assert (only["code"], only["severity"], only["line"], only["field"]) == (
        "git-repo-unreachable",
        "warning",
        2,
        "GitRepo",
    )
    assert only["message"].startswith(
        f"the history of {repo.c['main'][:12]} could not be searched for unpleasant commits: "
        f"Could not read the history from {srv.repo_url('app.git')}"
    )


def test_a_clean_history_has_no_problem(repo: Repo, server: GitServer, tmp_path: Path) -> None:
    text = manifest(server.repo_url("app.git"), repo.c).replace(
        f"GitCommit: {repo.c['main']}", f"GitCommit: {repo.c['add']}"
    )
    text = text.split("arm64v8-GitFetch")[0]  # main's first commit only: nothing rewritten
    code, document = check(tmp_path, text, "--insecure-host", server.host_port)
    assert (code, document["results"][0]["problems"]) == (0, [])
