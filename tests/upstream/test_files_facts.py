"""The git 2.39 server behaviours :mod:`manifest_validation.upstream.files` relies on,
pinned in raw pkt-lines against real ``git http-backend``.

If a git upgrade changes one, the failure points here rather than at a puzzling
read_files result.  Each test names the design decision that depends on it.
"""

from __future__ import annotations

import subprocess

import pytest
import requests
from dulwich.objects import Blob, Commit, Tree

from gitserver import GIT, GitServer, GitServers, git_env
from manifest_validation.upstream.pktline import PktReader, encode
from manifest_validation.upstream.protocol import objects_in_pack, v0_fetch_pack, v2_fetch_pack

from .dockerfile_repos import DockerRepos, build_docker_repos

REQUEST_TYPE = "application/x-git-upload-pack-request"


@pytest.fixture(scope="module")
def docker(tmp_path_factory: pytest.TempPathFactory) -> DockerRepos:
    return build_docker_repos(tmp_path_factory)


@pytest.fixture(scope="module")
def dangling_blob(docker: DockerRepos) -> str:
    """A blob in the served repository that no ref (no commit at all) reaches."""
    return (
        subprocess.run(
            [GIT, "--git-dir", str(docker.root / "docker.git"), "hash-object", "-w", "--stdin"],
            input=b"reachable from nothing\n",
            env=git_env(),
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )


@pytest.fixture(scope="module")
def v2(docker: DockerRepos, module_git_server: GitServers) -> GitServer:
    return module_git_server(docker.root)


@pytest.fixture(scope="module")
def v0(docker: DockerRepos, module_git_server: GitServers) -> GitServer:
    return module_git_server(docker.root, "v0")


def post(server: GitServer, body: bytes, *, version2: bool) -> bytes:
    headers = {"Content-Type": REQUEST_TYPE}
    if version2:
        headers["Git-Protocol"] = "version=2"
    response = requests.post(
        server.repo_url("docker.git/git-upload-pack"), data=body, headers=headers, timeout=10
    )
    assert response.status_code == 200
    return response.content


def v2_fetch(wants: list[str], *lines: str) -> bytes:
    body = encode("command=fetch\n") + b"0001" + encode("no-progress\n")
    body += b"".join(encode(f"want {want}\n") for want in wants)
    body += b"".join(encode(f"{line}\n") for line in lines)
    return body + encode("done\n") + b"0000"


def v0_fetch(wants: list[str], *lines: str, caps: str = "side-band-64k") -> bytes:
    body = encode(f"want {wants[0]} {caps}\n")
    body += b"".join(encode(f"want {want}\n") for want in wants[1:])
    body += b"".join(encode(f"{line}\n") for line in lines)
    return body + b"0000" + encode("done\n")


def blob_of(docker: DockerRepos, spec: str) -> str:
    return subprocess.run(
        [GIT, "--git-dir", str(docker.root / "docker.git"), "rev-parse", spec],
        env=git_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_blobs_are_served_by_id_in_v2_and_v0_even_unreachable(
    v2: GitServer, v0: GitServer, docker: DockerRepos, dangling_blob: str
) -> None:
    """Why read_files fetches blobs by id in one request: git serves any blob it has,
    in v2 (no reachability check at all) and over stateless HTTP in v0 (its
    reachability check only looks at commits), with the default config (neither
    allowAnySHA1InWant nor allowReachableSHA1InWant set)."""
    wanted = [blob_of(docker, f"{docker.c1}:3.12/slim/Dockerfile"), dangling_blob]
    got2 = objects_in_pack(v2_fetch_pack(PktReader(post(v2, v2_fetch(wanted), version2=True))))
    got0 = objects_in_pack(
        v0_fetch_pack(PktReader(post(v0, v0_fetch(wanted), version2=False)), sideband=True)
    )
    for objects in (got2, got0):
        assert set(objects) == set(wanted)
        assert all(isinstance(obj, Blob) for obj in objects.values())


def test_a_missing_want_fails_the_whole_fetch_naming_the_first_one(
    v2: GitServer, v0: GitServer, docker: DockerRepos
) -> None:
    """Why one fetch for all commits of a repository is safe: git refuses the whole
    request but names the (first) missing commit, so it is marked COMMIT_MISSING and
    the fetch is repeated without it."""
    wants = [docker.c1, "1" * 40, "2" * 40]
    for out in (
        post(v2, v2_fetch(wants, "deepen 1"), version2=True),
        post(v0, v0_fetch(wants, "deepen 1"), version2=False),
    ):
        assert out[4:].rstrip(b"\n") == b"ERR upload-pack: not our ref " + b"1" * 40


def test_deepen_1_with_blob_none_sends_the_commits_and_all_their_trees_only(
    v2: GitServer, v0: GitServer, docker: DockerRepos
) -> None:
    """The trees fetch: both wanted commits (no parents: depth 1), every tree of
    each, not one blob, in both protocol versions."""
    wants = [docker.c1, docker.c2]
    out2 = post(v2, v2_fetch(wants, "deepen 1", "filter blob:none"), version2=True)
    assert out2.startswith(b"0011shallow-info\n")
    out0 = post(
        v0,
        v0_fetch(wants, "deepen 1", "filter blob:none", caps="side-band-64k filter"),
        version2=False,
    )
    for objects in (
        objects_in_pack(v2_fetch_pack(PktReader(out2))),
        objects_in_pack(v0_fetch_pack(PktReader(out0), sideband=True)),
    ):
        commits = {oid for oid, obj in objects.items() if isinstance(obj, Commit)}
        assert commits == set(wants)
        assert not any(isinstance(obj, Blob) for obj in objects.values())
        trees = subprocess.run(
            [GIT, "--git-dir", str(docker.root / "docker.git"), "rev-list", "--objects",
             "--no-walk", "--filter=blob:none", "--filter-provided-objects", *wants],
            env=git_env(), check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        expected_trees = {oid for oid in trees if len(oid) == 40} - set(wants)
        assert len(expected_trees) >= 8  # both roots, 3.12, 3.12/bookworm, ...
        assert {oid for oid, o in objects.items() if isinstance(o, Tree)} == expected_trees


def test_without_allow_filter_no_filter_is_advertised_and_one_gets_no_answer(
    docker: DockerRepos, git_server: GitServers
) -> None:
    """Why the fallback is chosen from the advertisement before asking: a filter the
    server does not allow gets an empty 200 response, not an error to react to."""
    server = git_server(docker.root, "v2-nofilter")
    caps = requests.get(
        server.repo_url("docker.git/info/refs?service=git-upload-pack"),
        headers={"Git-Protocol": "version=2"},
        timeout=10,
    ).text
    fetch = next(line for line in caps.splitlines() if "fetch=" in line)
    assert "shallow" in fetch and "filter" not in fetch
    body = v2_fetch([docker.c1], "deepen 1", "filter blob:none")
    assert post(server, body, version2=True) == b""
    server = git_server(docker.root, "v0-nofilter")
    caps = requests.get(
        server.repo_url("docker.git/info/refs?service=git-upload-pack"), timeout=10
    ).text
    assert " shallow " in caps and " filter " not in caps
