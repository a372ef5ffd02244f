"""`manifest-validate check --verify-git`: upstream problems land on the right manifest lines,
against real repositories served by `git http-backend` on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitserver import GitServer, GitServers, run_git
from manifest_validation.cli.main import main

pytestmark = pytest.mark.slow  # real git servers (a module-scoped upstream)


@dataclass(frozen=True)
class Upstream:
    server: GitServer
    master: list[str]
    topic: str


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, module_git_server: GitServers) -> Upstream:
    root = tmp_path_factory.mktemp("upstream")
    work = root / "work"
    run_git("init", "-q", "-b", "master", work)
    master = []
    (work / "Dockerfile").write_text("FROM scratch\n")  # what every entry builds
    for number in range(3):
        (work / "f").write_text(f"{number}\n")
        run_git("add", "f", "Dockerfile", cwd=work)
        run_git("commit", "-qm", f"m{number}", cwd=work)
        master.append(run_git("rev-parse", "HEAD", cwd=work))
    run_git("checkout", "-q", "-b", "topic", master[0], cwd=work)
    (work / "t").write_text("topic\n")
    run_git("add", "t", cwd=work)
    run_git("commit", "-qm", "topic", cwd=work)
    topic = run_git("rev-parse", "HEAD", cwd=work)
    run_git("tag", "-a", "v1", "-m", "v1", master[1], cwd=work)
    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "app.git")
    main_only = root / "main-only"
    run_git("init", "-q", "-b", "main", main_only)
    (main_only / "f").write_text("main\n")
    (main_only / "Dockerfile").write_text("FROM scratch\n")
    run_git("add", "f", "Dockerfile", cwd=main_only)
    run_git("commit", "-qm", "main", cwd=main_only)
    run_git("clone", "-q", "--bare", "--no-local", main_only, served / "main-only.git")
    return Upstream(module_git_server(served), master, topic)


def manifest(repo: str, upstream: Upstream) -> str:
    m = upstream.master
    return (
        "Maintainers: Jane Doe (@jane)\n"  # 1
        f"GitRepo: {repo}\n"  # 2
        f"GitCommit: {m[2]}\n"  # 3
        "\n"
        "Tags: tip\n"  # 5
        "\n"
        "Tags: old\n"  # 7
        f"GitCommit: {m[0]}\n"  # 8
        "Architectures: amd64, arm64v8\n"  # 9
        f"arm64v8-GitCommit: {upstream.topic}\n"  # 10
        "\n"
        "Tags: tagged\n"  # 12
        "GitFetch: refs/tags/v1\n"  # 13
        f"GitCommit: {m[1]}\n"  # 14
        "\n"
        "Tags: gone\n"  # 16
        "GitFetch: refs/heads/deleted\n"  # 17
        "\n"
        "Tags: missing\n"  # 19
        f"GitCommit: {'0' * 40}\n"  # 20
    )


def check(tmp_path: Path, text: str, *extra: str) -> tuple[int, dict[str, object]]:
    path = tmp_path / "app"
    path.write_text(text)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check", "--format", "json", "--verify-git", *extra, str(path)])
    return code, json.loads(out.getvalue())


def problems(document: dict[str, object]) -> list[tuple[str, int, str]]:
    results = document["results"]
    assert isinstance(results, list)
    return [(p["code"], p["line"], p["field"]) for p in results[0]["problems"]]


def test_upstream_problems_point_at_the_fields_in_effect(
    upstream: Upstream, tmp_path: Path
) -> None:
    server = upstream.server
    code, document = check(
        tmp_path,
        manifest(server.repo_url("app.git"), upstream),
        "--insecure-host",
        server.host_port,
    )
    assert code == 1
    assert problems(document) == [
        ("git-commit-not-in-ref", 10, "arm64v8-GitCommit"),
        ("git-ref-not-found", 17, "GitFetch"),
        ("git-commit-not-found", 20, "GitCommit"),
    ]


def test_valid_manifest_verifies_clean_with_one_listing_per_repository(
    upstream: Upstream, tmp_path: Path
) -> None:
    server = upstream.server
    lines = manifest(server.repo_url("app.git"), upstream).split("\n\n")
    text = "\n\n".join(lines[:4]).replace(f"arm64v8-GitCommit: {upstream.topic}\n", "")
    server.reset_counters()
    code, document = check(tmp_path, text, "--insecure-host", server.host_port)
    assert (code, problems(document)) == (0, [])
    listings = [p for p in server.paths if p.endswith("/git-upload-pack")]
    # one ls-refs, one negotiation per distinct commit, then the Dockerfiles: one fetch of the
    # commits' trees and one of the blobs
    assert 1 <= len(listings) <= 6


def test_plain_http_without_insecure_host_is_forbidden_and_not_contacted(
    upstream: Upstream, tmp_path: Path
) -> None:
    server = upstream.server
    server.reset_counters()
    code, document = check(tmp_path, manifest(server.repo_url("app.git"), upstream))
    assert code == 1
    assert {(c, line) for c, line, _ in problems(document)} == {("git-url-forbidden", 2)}
    assert server.requests == 0


def check_against_closed_port(
    upstream: Upstream, tmp_path: Path, tags: str
) -> tuple[int, dict[str, object]]:
    """`check --verify-git` of a manifest whose GitRepo is a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/app.git"
    text = manifest(url, upstream).split("\n\n")[0] + f"\n\nTags: {tags}\n"
    return check(tmp_path, text, "--insecure-host", f"127.0.0.1:{port}")


def test_closed_port_is_unverified_exit_3(upstream: Upstream, tmp_path: Path) -> None:
    code, document = check_against_closed_port(upstream, tmp_path, "tip")
    assert code == 3
    results = document["results"]
    assert isinstance(results, list)
    assert results[0]["status"] == "unverified"
    assert problems(document) == [("git-repo-unreachable", 2, "GitRepo")]


def test_unverified_does_not_hide_invalid(upstream: Upstream, tmp_path: Path) -> None:
    code, document = check_against_closed_port(upstream, tmp_path, "tip, latest-x")
    assert code == 1
    results = document["results"]
    assert isinstance(results, list)
    assert results[0]["status"] == "invalid"


def test_default_git_fetch_is_master_even_when_the_repository_uses_main(
    upstream: Upstream, tmp_path: Path
) -> None:
    server = upstream.server
    url = server.repo_url("main-only.git")
    commit = run_git("--git-dir", str(server.root / "main-only.git"), "rev-parse", "main")
    text = (
        f"Maintainers: Jane Doe (@jane)\nGitRepo: {url}\n\nTags: a\nGitCommit: {commit}\n"
        f"\nTags: b\nGitFetch: refs/heads/main\nGitCommit: {commit}\n"
    )
    code, document = check(tmp_path, text, "--insecure-host", server.host_port)
    assert code == 1
    # the default GitFetch is written nowhere: the problem points at the entry lacking it
    assert problems(document) == [("git-ref-not-found", 4, "GitFetch")]
