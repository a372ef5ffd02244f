"""GitVerifier.read_files against real ``git http-backend``: contents equal to
``git show``, exact MISSING verdicts, at most three requests per repository, the
fallbacks (no filter support, refused blob wants) and network trouble that is
UNREACHABLE, never MISSING."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from gitserver import MODES, GitServer, GitServers
from manifest_validation.upstream import (
    FileRequest,
    FileResult,
    FileStatus,
    GitCheck,
    Outcome,
    UrlPolicy,
)

from .conftest import MakeVerifier, Repos
from .dockerfile_repos import DockerRepos, build_docker_repos, git_show

C1_FILES = [
    "3.12/bookworm/Dockerfile",
    "3.12/bookworm/docker-entrypoint.sh",
    "3.12/slim/Dockerfile",
    "3.11/alpine/Dockerfile",
    "3.11/alpine/Dockerfile.windows",
    "windows/Dockerfile",
]
C2_FILES = ["3.12/bookworm/Dockerfile", "3.12/slim/Dockerfile", "3.13/trixie/Dockerfile"]


@pytest.fixture(scope="module")
def docker(tmp_path_factory: pytest.TempPathFactory) -> DockerRepos:
    return build_docker_repos(tmp_path_factory)


@pytest.fixture(scope="module", params=sorted(MODES))
def any_server(
    request: pytest.FixtureRequest, docker: DockerRepos, module_git_server: GitServers
) -> GitServer:
    return module_git_server(docker.root, request.param)


@pytest.fixture(scope="module")
def server(docker: DockerRepos, module_git_server: GitServers) -> GitServer:
    return module_git_server(docker.root)


def requests_for(server: GitServer, commit: str, paths: list[str]) -> list[FileRequest]:
    return [FileRequest(server.repo_url("docker.git"), commit, path) for path in paths]


def read_one(verifier: Any, request: FileRequest) -> FileResult:
    result: FileResult = verifier.read_files([request])[request]
    return result


# -- contents ------------------------------------------------------------------------------


def test_every_file_of_two_commits_equals_git_show_in_three_requests(
    any_server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(any_server)
    wanted = requests_for(any_server, docker.c1, C1_FILES)
    wanted += requests_for(any_server, docker.c2, C2_FILES)
    any_server.reset_counters()
    results = verifier.read_files(wanted)
    bare = docker.root / "docker.git"
    for request in wanted:
        result = results[request]
        assert result.status is FileStatus.FOUND, result.detail
        assert result.content == git_show(bare, request.commit, request.path)
    # Advertisement, one fetch of both commits' trees, one of every blob (without
    # filter support the trees fetch is a snapshot holding the blobs: no third request).
    made = any_server.requests
    assert verifier.stats.requests == made
    assert any_server.paths[0] == "/docker.git/info/refs"
    assert made == (3 if "filter" in _caps(any_server) else 2)


def _caps(server: GitServer) -> str:
    import requests

    # What the server advertises decides the expected plan; ask it like git would.
    response = requests.get(
        server.repo_url("docker.git/info/refs?service=git-upload-pack"),
        headers={"Git-Protocol": "version=2"},
        timeout=10,
    )
    return response.text


def test_files_are_shared_between_requests_and_repositories(
    server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    """Many manifests pointing at the same files: duplicates are one request each,
    two repositories cost three requests each, read in parallel."""
    verifier = make_verifier(server)
    wanted = requests_for(server, docker.c1, C1_FILES) * 5
    wanted += requests_for(server, docker.c2, C2_FILES) * 5
    other = FileRequest(server.repo_url("other.git"), docker.o1, "Dockerfile")
    wanted.append(other)
    server.reset_counters()
    results = verifier.read_files(wanted)
    assert len(results) == len(C1_FILES) + len(C2_FILES) + 1
    assert results[other].content == b"FROM scratch\nCOPY hello /\n"
    assert {r.status for r in results.values()} == {FileStatus.FOUND}
    assert server.paths.count("/docker.git/info/refs") == 1
    assert server.paths.count("/docker.git/git-upload-pack") == 2
    assert server.paths.count("/other.git/git-upload-pack") == 2
    assert server.requests == 6


def test_caches_serve_repeated_reads_without_the_network(
    server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    first = requests_for(server, docker.c1, ["3.12/slim/Dockerfile"])
    assert verifier.read_files(first)[first[0]].status is FileStatus.FOUND
    server.reset_counters()
    # Same file again: trees and blob cached.  Another file of the same commit: only
    # its blob is fetched (the advertisement is remembered too).
    again = verifier.read_files(first)[first[0]]
    assert again.content == b"FROM debian:bookworm-slim\n"
    assert server.requests == 0
    other = requests_for(server, docker.c1, ["3.11/alpine/Dockerfile", "nope/Dockerfile"])
    results = verifier.read_files(other)
    assert results[other[0]].content == b"ARG V=3.20\nFROM alpine:${V}\n"
    assert results[other[1]].status is FileStatus.MISSING
    assert server.paths == ["/docker.git/git-upload-pack"]


def test_a_prior_verify_saves_the_advertisement(
    server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    check = GitCheck(server.repo_url("docker.git"), "refs/heads/master", docker.c1)
    assert verifier.verify([check])[check].outcome is Outcome.OK
    server.reset_counters()
    wanted = requests_for(server, docker.c1, C1_FILES)
    results = verifier.read_files(wanted)
    assert {r.status for r in results.values()} == {FileStatus.FOUND}
    assert server.paths == ["/docker.git/git-upload-pack"] * 2


# -- what is not a Dockerfile ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "why", "part"),
    [
        ("3.10/bookworm/Dockerfile", "the top directory has no '3.10'", 0),
        ("3.12/trixie/Dockerfile", "3.12 has no 'trixie'", 1),
        ("3.12/slim/Dockerfile.windows", "3.12/slim has no 'Dockerfile.windows'", 2),
        ("3.12/dockerfile", "3.12 has no 'dockerfile'", 1),  # names are case-sensitive
        ("3.12/bookworm", "3.12/bookworm is a directory", 1),
        ("README.md/Dockerfile", "README.md is a file, not a directory", 0),
        ("latest/Dockerfile", "latest is a symbolic link", 0),
        ("Dockerfile", "Dockerfile is a symbolic link", 0),
        ("vendor/lib", "vendor/lib is a submodule", 1),
        ("vendor/lib/Dockerfile", "vendor/lib is a submodule", 1),
    ],
)
def test_missing_paths_name_the_component(
    path: str,
    why: str,
    part: int,
    any_server: GitServer,
    docker: DockerRepos,
    make_verifier: MakeVerifier,
) -> None:
    verifier = make_verifier(any_server)
    result = read_one(verifier, requests_for(any_server, docker.c1, [path])[0])
    assert result.status is FileStatus.MISSING
    assert result.content is None
    assert result.detail == f"{path} does not exist at commit {docker.c1}: {why}."
    # which component, as data: the caller blames Directory or File from it, not from prose
    assert (result.missing_part, result.missing_reason) == (part, why)


def test_the_same_path_differs_between_commits(
    server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    paths = ["3.11/alpine/Dockerfile", "3.12/bookworm/Dockerfile"]
    wanted = requests_for(server, docker.c1, paths) + requests_for(server, docker.c2, paths)
    results = verifier.read_files(wanted)
    assert results[wanted[0]].status is FileStatus.FOUND
    assert results[wanted[2]].status is FileStatus.MISSING
    assert results[wanted[1]].content != results[wanted[3]].content
    assert results[wanted[3]].content == b"FROM buildpack-deps:bookworm\nRUN make install\n"


@pytest.mark.parametrize("path", ["", "/3.12/slim/Dockerfile", "3.12//slim", "3.12/../x", "./x"])
def test_unclean_paths_are_missing_without_the_network(
    path: str, server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    server.reset_counters()
    result = read_one(verifier, requests_for(server, docker.c1, [path])[0])
    assert result.status is FileStatus.MISSING
    assert "is not a relative path inside the repository" in result.detail
    assert result.missing_part is None  # no component was looked at
    assert server.requests == 0


# -- commits -----------------------------------------------------------------------------------


def test_missing_commit_does_not_hide_the_others(
    any_server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(any_server)
    wanted = requests_for(any_server, "1" * 40, ["3.12/slim/Dockerfile"])
    wanted += requests_for(any_server, docker.c2, ["3.12/slim/Dockerfile"])
    wanted += requests_for(any_server, "2" * 40, ["3.12/slim/Dockerfile"])
    results = verifier.read_files(wanted)
    for missing in (wanted[0], wanted[2]):
        assert results[missing].status is FileStatus.COMMIT_MISSING
        assert results[missing].detail.startswith(f"Commit {missing.commit} does not exist in ")
    assert results[wanted[1]].content == b"FROM debian:bookworm-slim\n"


@pytest.mark.slow
def test_a_commit_no_ref_reaches_is_read_in_v2_and_refused_in_v0(
    server_v0: GitServer,
    repos: Repos,
    make_verifier: MakeVerifier,
    docker: DockerRepos,
    git_server: GitServers,
) -> None:
    """git's v0 upload-pack serves only commits reachable from a ref; v2 serves any."""
    v2 = git_server(repos.root)
    verifier = make_verifier(v2)
    request = FileRequest(v2.repo_url("project.git"), repos.d1, "file.txt")
    assert read_one(verifier, request).content == b"m6\n"
    verifier = make_verifier(server_v0)
    request = FileRequest(server_v0.repo_url("project.git"), repos.d1, "file.txt")
    result = read_one(verifier, request)
    assert result.status is FileStatus.COMMIT_MISSING
    assert result.detail.endswith(" (or no ref reaches it).")


@pytest.mark.parametrize(
    ("commit", "why"),
    [("abc", "is not a full commit id"), ("a" * 64, "is not a sha1 object id")],
)
def test_malformed_commit_ids(
    commit: str, why: str, server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    result = read_one(verifier, requests_for(server, commit, ["Dockerfile"])[0])
    assert result.status is FileStatus.COMMIT_MISSING
    assert why in result.detail


def test_an_object_that_is_not_a_commit(
    server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    result = read_one(verifier, requests_for(server, docker.c1_tree, ["Dockerfile"])[0])
    assert result.status is FileStatus.COMMIT_MISSING
    assert "is not a commit" in result.detail and "a tree" in result.detail


# -- fallbacks ---------------------------------------------------------------------------------


def test_server_refusing_blob_wants_gets_the_snapshot(
    docker: DockerRepos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(docker.root, refuse_blob_wants=True)
    verifier = make_verifier(server)
    wanted = requests_for(server, docker.c1, C1_FILES)
    wanted += requests_for(server, docker.c2, C2_FILES)
    results = verifier.read_files(wanted)
    # Advertisement, trees, the refused blob fetch, one snapshot of both commits.
    assert server.requests == 4
    bare = docker.root / "docker.git"
    for request in wanted:
        assert results[request].content == git_show(bare, request.commit, request.path)


def test_without_filter_the_size_cap_makes_it_unreachable(
    docker: DockerRepos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(docker.root, "v2-nofilter")
    verifier = make_verifier(server, max_response_bytes=600, retries=0)
    result = read_one(verifier, requests_for(server, docker.c1, ["3.12/slim/Dockerfile"])[0])
    assert result.status is FileStatus.UNREACHABLE
    assert "cap of 600 bytes" in result.detail


# -- network trouble -----------------------------------------------------------------------


@pytest.mark.parametrize("fault", [{"fail_every": 2}, {"drop_every": 2}])
def test_flaky_server_is_retried_to_the_right_answer(
    fault: dict[str, int], docker: DockerRepos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(docker.root, **fault)
    verifier = make_verifier(server, retries=3, max_workers=1)
    wanted = requests_for(server, docker.c1, [*C1_FILES, "3.12/nope/Dockerfile"])
    results = verifier.read_files(wanted)
    bare = docker.root / "docker.git"
    for request in wanted[:-1]:
        assert results[request].content == git_show(bare, request.commit, request.path)
    assert results[wanted[-1]].status is FileStatus.MISSING
    assert verifier.stats.retries > 0


@pytest.mark.parametrize("fault", [{"fail_every": 1}, {"drop_every": 1}])
def test_persistent_failure_is_unreachable_never_missing(
    fault: dict[str, int], docker: DockerRepos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(docker.root, **fault)
    verifier = make_verifier(server, retries=1)
    wanted = requests_for(server, docker.c1, ["3.12/slim/Dockerfile", "nope/Dockerfile"])
    wanted += requests_for(server, "1" * 40, ["Dockerfile"])
    results = verifier.read_files(wanted)
    assert {r.status for r in results.values()} == {FileStatus.UNREACHABLE}
    assert all(r.detail.startswith("Could not read files from http://") for r in results.values())


def test_failure_after_the_trees_keeps_what_is_known(
    docker: DockerRepos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    """The request cap stops the blob fetch: absent paths are still MISSING (a tree
    proved it), files that need the blob fetch are UNREACHABLE."""
    server = git_server(docker.root)
    verifier = make_verifier(server, max_requests=2, retries=0)
    wanted = requests_for(server, docker.c1, ["3.12/slim/Dockerfile", "nope/Dockerfile"])
    results = verifier.read_files(wanted)
    assert results[wanted[0]].status is FileStatus.UNREACHABLE
    assert "cap of 2 HTTP requests" in results[wanted[0]].detail
    assert results[wanted[1]].status is FileStatus.MISSING


def test_server_down_is_unreachable(docker: DockerRepos, make_verifier: MakeVerifier) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = make_verifier(policy=UrlPolicy([f"127.0.0.1:{port}"]), retries=1)
    request = FileRequest(f"http://127.0.0.1:{port}/docker.git", docker.c1, "Dockerfile")
    started = time.monotonic()
    result = read_one(verifier, request)
    assert result.status is FileStatus.UNREACHABLE
    assert "could not connect" in result.detail
    assert time.monotonic() - started < 5


def test_slow_server_times_out(
    docker: DockerRepos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(docker.root, delay=2)
    verifier = make_verifier(server, read_timeout=0.3, retries=0)
    result = read_one(verifier, requests_for(server, docker.c1, ["Dockerfile"])[0])
    assert result.status is FileStatus.UNREACHABLE
    assert "timed out" in result.detail


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:{port}/docker.git", "https://127.0.0.1/docker.git", "file:///srv/x.git"],
)
def test_forbidden_urls_are_never_contacted(
    url: str, server: GitServer, docker: DockerRepos, make_verifier: MakeVerifier
) -> None:
    port = server.host_port.split(":")[1]
    verifier = make_verifier(policy=UrlPolicy())  # no --insecure-host
    server.reset_counters()
    result = read_one(verifier, FileRequest(url.format(port=port), docker.c1, "Dockerfile"))
    assert result.status is FileStatus.FORBIDDEN
    assert result.detail.startswith("Repository URL refused: ")
    assert server.requests == 0
