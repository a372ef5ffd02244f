"""Pin down the git server behaviours the verifier relies on, against real git.

These talk raw pkt-lines to ``git http-backend`` so that if a git upgrade changes a
behaviour, the failure points here rather than at a mysterious verifier verdict.
"""

from __future__ import annotations

import requests

from gitserver import GitServer
from manifest_validation.upstream.pktline import encode
from manifest_validation.upstream.protocol import commits_in_pack

from .conftest import Repos

V2 = {"Git-Protocol": "version=2", "Content-Type": "application/x-git-upload-pack-request"}


def post(server: GitServer, body: bytes, headers: dict[str, str] = V2) -> bytes:
    response = requests.post(
        server.repo_url("project.git/git-upload-pack"), data=body, headers=headers, timeout=10
    )
    assert response.status_code == 200
    return response.content


def fetch_v2(server: GitServer, want: str, have: str, *, done: bool, filt: bool = True) -> bytes:
    body = encode("command=fetch\n") + b"0001" + encode("no-progress\n")
    body += encode(f"want {want}\n")
    if filt:
        body += encode("filter tree:0\n")
    body += encode(f"have {have}\n")
    if done:
        body += encode("done\n")
    return post(server, body + b"0000")


def test_v2_capabilities_advertise_filter(server: GitServer) -> None:
    response = requests.get(
        server.repo_url("project.git/info/refs?service=git-upload-pack"),
        headers={"Git-Protocol": "version=2"},
        timeout=10,
    )
    assert response.headers["Content-Type"] == "application/x-git-upload-pack-advertisement"
    assert b"version 2\n" in response.content
    assert b"ls-refs" in response.content
    assert b"fetch=" in response.content and b" filter" in response.content


def test_ls_refs_prefix_is_a_plain_string_prefix_and_peels(server: GitServer, repos: Repos) -> None:
    body = encode("command=ls-refs\n") + b"0001" + encode("peel\n")
    body += encode("ref-prefix refs/heads/maste\n") + encode("ref-prefix refs/tags/v1\n")
    out = post(server, body + b"0000").decode()
    assert f"{repos.m[5]} refs/heads/master\n" in out  # "maste" matched "master"
    assert f"{repos.tag_object} refs/tags/v1.0 peeled:{repos.m[3]}\n" in out


def test_have_is_acked_iff_object_exists_even_dangling(server: GitServer, repos: Repos) -> None:
    assert f"ACK {repos.d1}".encode() in fetch_v2(server, repos.m[5], repos.d1, done=False)
    assert f"ACK {repos.f[1]}".encode() in fetch_v2(server, repos.m[5], repos.f[1], done=False)
    missing = fetch_v2(server, repos.m[5], "1" * 40, done=False)
    assert b"NAK" in missing and b"ACK" not in missing


def test_ready_is_not_an_ancestry_answer(server: GitServer, repos: Repos) -> None:
    """s1 IS an ancestor of the skewed tip, but its descendants are dated older than
    it, so upload-pack's date-limited walk does not declare ``ready``."""
    out = fetch_v2(server, repos.s[2], repos.s[0], done=False)
    assert f"ACK {repos.s[0]}".encode() in out
    assert b"ready" not in out and b"packfile" not in out


def test_filtered_pack_lists_only_commits_between(server: GitServer, repos: Repos) -> None:
    out = fetch_v2(server, repos.m[5], repos.m[2], done=True)
    pack = _sideband(out[out.index(b"packfile\n") + len(b"packfile\n") :])
    commits = commits_in_pack(pack)
    assert set(commits) == {repos.m[3], repos.m[4], repos.m[5]}
    assert commits[repos.m[3]] == (repos.m[2],)
    # A commit on another branch: no commit in the pack names it as a parent.
    out = fetch_v2(server, repos.m[5], repos.f[1], done=True)
    pack = _sideband(out[out.index(b"packfile\n") + len(b"packfile\n") :])
    assert all(repos.f[1] not in parents for parents in commits_in_pack(pack).values())


def test_want_of_missing_object_is_err_pkt(server: GitServer) -> None:
    body = encode("command=fetch\n") + b"0001" + encode(f"want {'1' * 40}\n")
    out = post(server, body + encode("done\n") + b"0000")
    assert out[4:].startswith(b"ERR upload-pack: not our ref")


def test_v0_filter_without_capability_gets_empty_200(server_v0: GitServer, repos: Repos) -> None:
    body = encode(f"want {repos.m[5]} multi_ack_detailed side-band-64k\n")
    body += encode("filter tree:0\n") + b"0000" + encode(f"have {repos.m[1]}\n") + b"0000"
    headers = {"Content-Type": "application/x-git-upload-pack-request"}
    assert post(server_v0, body, headers) == b""


def test_v0_server_ignores_v2_request(server_v0: GitServer) -> None:
    response = requests.get(
        server_v0.repo_url("project.git/info/refs?service=git-upload-pack"),
        headers={"Git-Protocol": "version=2"},
        timeout=10,
    )
    assert response.content.startswith(b"001e# service=git-upload-pack\n0000")
    assert b"version 2" not in response.content


def _sideband(data: bytes) -> bytes:
    out = bytearray()
    while data[:4] != b"0000":
        length = int(data[:4], 16)
        if data[4] == 1:
            out += data[5:length]
        data = data[length:]
    return bytes(out)
