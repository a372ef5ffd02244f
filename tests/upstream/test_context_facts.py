"""The git 2.39 server behaviours build contexts rely on, pinned in raw pkt-lines
against real ``git http-backend`` (the file-reading facts they share, blobs served
by id and the trees fetch bringing every tree, are in test_files_facts.py).

Each test names the design decision that depends on it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
import requests
from dulwich.objects import Blob, Commit, ShaFile, Tree

from gitserver import GIT, GitServer, git_env, serve_git
from manifest_validation.upstream.pktline import PktReader, encode
from manifest_validation.upstream.protocol import objects_in_pack, v0_fetch_pack, v2_fetch_pack

from .context_repos import BIG_SIZE, ContextRepos, build_context_repos

REQUEST_TYPE = "application/x-git-upload-pack-request"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ContextRepos:
    return build_context_repos(tmp_path_factory)


@pytest.fixture(scope="module")
def v2(ctx: ContextRepos) -> Iterator[GitServer]:
    with serve_git(ctx.root) as server:
        yield server


@pytest.fixture(scope="module")
def v0(ctx: ContextRepos) -> Iterator[GitServer]:
    with serve_git(ctx.root, protocol_v2=False) as server:
        yield server


def fetch(server: GitServer, wants: list[str], *lines: str, version2: bool) -> dict[str, ShaFile]:
    """One stateless fetch with ``done``; the objects of the pack by id."""
    if version2:
        body = encode("command=fetch\n") + b"0001" + encode("no-progress\n")
        body += b"".join(encode(f"want {want}\n") for want in wants)
        body += b"".join(encode(f"{line}\n") for line in lines) + encode("done\n") + b"0000"
    else:
        caps = "side-band-64k" + (" filter" if any(x.startswith("filter") for x in lines) else "")
        body = encode(f"want {wants[0]} {caps}\n")
        body += b"".join(encode(f"want {want}\n") for want in wants[1:])
        body += b"".join(encode(f"{line}\n") for line in lines) + b"0000" + encode("done\n")
    headers = {"Content-Type": REQUEST_TYPE}
    if version2:
        headers["Git-Protocol"] = "version=2"
    response = requests.post(
        server.repo_url("contexts.git/git-upload-pack"), data=body, headers=headers, timeout=10
    )
    assert response.status_code == 200
    reader = PktReader(response.content)
    pack = v2_fetch_pack(reader) if version2 else v0_fetch_pack(reader, sideband=True)
    return objects_in_pack(pack)


def rev_parse(ctx: ContextRepos, spec: str) -> str:
    return subprocess.run(
        [GIT, "--git-dir", str(ctx.git_dir), "rev-parse", spec],
        env=git_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.mark.parametrize("version2", [True, False], ids=["v2", "v0"])
def test_a_submodule_does_not_stop_the_trees_fetch_and_brings_nothing(
    version2: bool, v2: GitServer, v0: GitServer, ctx: ContextRepos
) -> None:
    """Why a gitlink is a verdict read off the trees (SUBMODULE) and never a reason to
    fetch anything: the server sends the tree with the 160000 entry and no object for
    the submodule's commit (it does not have it, and does not try)."""
    server = v2 if version2 else v0
    objects = fetch(server, [ctx.c1], "deepen 1", "filter blob:none", version2=version2)
    withsub = objects[rev_parse(ctx, f"{ctx.c1}:withsub/vendor")]
    assert isinstance(withsub, Tree)
    assert [(e.path, e.mode) for e in withsub.iteritems()] == [(b"mod", 0o160000)]
    assert "cd" * 20 not in objects
    assert isinstance(objects[ctx.c1], Commit)


def test_a_legacy_mode_reaches_the_client_as_written(v2: GitServer, ctx: ContextRepos) -> None:
    """Why UNSUPPORTED can be told for a ``100664`` entry: upload-pack does not
    normalise modes (git's own listings print it as 100644), so the tree arrives with
    the mode bashbrew's go-git reads, and refuses to archive."""
    objects = fetch(v2, [ctx.c1], "deepen 1", "filter blob:none", version2=True)
    legacy = objects[rev_parse(ctx, f"{ctx.c1}:legacy")]
    assert isinstance(legacy, Tree)
    assert legacy.as_raw_string().startswith(b"100664 f\x00")
    assert [e.mode for e in legacy.iteritems()] == [0o100664]


@pytest.mark.parametrize("version2", [True, False], ids=["v2", "v0"])
def test_no_filter_holds_back_a_blob_wanted_by_id(
    version2: bool, v2: GitServer, v0: GitServer, ctx: ContextRepos
) -> None:
    """Why the byte bound cannot be asked of the server and is enforced by capping
    the response instead: ``filter blob:limit=1`` leaves out blobs reached through
    trees, not blobs wanted by id, so a context's sizes are unknown until its blobs
    arrive."""
    server = v2 if version2 else v0
    big = rev_parse(ctx, f"{ctx.c1}:big/blob.bin")
    link = rev_parse(ctx, f"{ctx.c1}:app/longlink")  # a symbolic link's text: a blob too
    objects = fetch(server, [big, link], "filter blob:limit=1", version2=version2)
    assert isinstance(objects[big], Blob) and len(objects[big].as_raw_string()) == BIG_SIZE
    assert objects[link].as_raw_string() == b"t" * 120


def test_without_filters_a_depth_1_fetch_carries_every_blob_of_the_commit(
    ctx: ContextRepos,
) -> None:
    """Why a server without filter support needs no blob request for contexts: the
    depth-1 snapshot holds every blob of the commit, symbolic links' texts included."""
    listed = subprocess.run(
        [GIT, "--git-dir", str(ctx.git_dir), "ls-tree", "-r", ctx.c1],
        env=git_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    blobs = {line.split()[2] for line in listed if line.split()[1] == "blob"}
    assert len(blobs) > 20
    with serve_git(ctx.root, allow_filter=False) as server:
        for version2 in (True, False):
            objects = fetch(server, [ctx.c1], "deepen 1", version2=version2)
            assert blobs <= {oid for oid, obj in objects.items() if isinstance(obj, Blob)}
