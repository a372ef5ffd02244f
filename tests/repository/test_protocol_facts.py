"""Pin down the git 2.39 server behaviours the git source relies on, in raw pkt-lines.

If a git upgrade changes one of them, the failure points here rather than at a
puzzling source result.
"""

from __future__ import annotations

import requests
from dulwich.objects import Blob, Commit, Tree

from gitserver import GitServer, GitServers, run_git
from manifest_validation.upstream.pktline import PktReader, encode
from manifest_validation.upstream.protocol import objects_in_pack, v0_fetch_pack, v2_fetch_pack

from .conftest import Manifests

REQUEST_TYPE = "application/x-git-upload-pack-request"


def post(server: GitServer, body: bytes, *, v2: bool) -> bytes:
    headers = {"Content-Type": REQUEST_TYPE}
    if v2:
        headers["Git-Protocol"] = "version=2"
    response = requests.post(
        server.repo_url("manifests.git/git-upload-pack"), data=body, headers=headers, timeout=10
    )
    assert response.status_code == 200
    return response.content


def blob_id(manifests: Manifests, spec: str) -> str:
    return run_git("--git-dir", manifests.root / "manifests.git", "rev-parse", spec)


def test_v2_shallow_blobless_fetch_has_commit_and_trees_only(
    server_v2: GitServer, manifests: Manifests
) -> None:
    body = encode("command=fetch\n") + b"0001" + encode(f"want {manifests.c1}\n")
    body += encode("deepen 1\n") + encode("filter blob:none\n") + encode("done\n") + b"0000"
    out = post(server_v2, body, v2=True)
    assert out.startswith(b"0011shallow-info\n")  # the section our parser must skip
    objects = objects_in_pack(v2_fetch_pack(PktReader(out)), "sha1")
    kinds = {type(obj) for obj in objects.values()}
    assert kinds == {Commit, Tree}
    assert [oid for oid, obj in objects.items() if isinstance(obj, Commit)] == [manifests.c1]


def test_v2_serves_blobs_wanted_by_id_with_or_without_filter_config(
    manifests: Manifests, git_server: GitServers
) -> None:
    """upload-pack v2 accepts a want of any object it has (no reachability check),
    whatever uploadpack.allowFilter says, and sends exactly the wanted blobs."""
    oids = {blob_id(manifests, f"{manifests.c1}:library/{n}") for n in ("python", "debian")}
    body = encode("command=fetch\n") + b"0001"
    body += b"".join(encode(f"want {oid}\n") for oid in sorted(oids))
    body += encode("done\n") + b"0000"
    for mode in ("v2", "v2-nofilter"):
        srv = git_server(manifests.root, mode)
        objects = objects_in_pack(v2_fetch_pack(PktReader(post(srv, body, v2=True))), "sha1")
        assert set(objects) == oids
        assert all(isinstance(obj, Blob) for obj in objects.values())


def test_v0_stateless_serves_reachable_non_tip_objects(
    manifests: Manifests, git_server: GitServers
) -> None:
    """Over HTTP (stateless RPC) v0 upload-pack accepts wants of objects reachable
    from a ref even without allowReachableSHA1InWant: an old commit and a blob."""
    old_blob = blob_id(manifests, f"{manifests.c1}:library/debian")  # deleted at master
    srv = git_server(manifests.root, "v0")
    body = encode(f"want {manifests.c1} side-band-64k ofs-delta no-progress filter\n")
    body += encode("deepen 1\n") + encode("filter blob:none\n") + b"0000" + encode("done\n")
    out = post(srv, body, v2=False)
    assert out.startswith(encode(f"shallow {manifests.c1}") + b"0000" + encode("NAK\n"))
    objects = objects_in_pack(v0_fetch_pack(PktReader(out), sideband=True), "sha1")
    assert manifests.c1 in objects
    body = encode(f"want {old_blob} side-band-64k ofs-delta no-progress\n")
    body += b"0000" + encode("done\n")
    objects = objects_in_pack(v0_fetch_pack(PktReader(post(srv, body, v2=False)), True), "sha1")
    assert set(objects) == {old_blob}


def test_want_of_unknown_commit_is_refused(server_v2: GitServer) -> None:
    body = encode("command=fetch\n") + b"0001" + encode(f"want {'1' * 40}\n")
    out = post(server_v2, body + encode("deepen 1\n") + encode("done\n") + b"0000", v2=True)
    assert out[4:].startswith(b"ERR upload-pack: not our ref")
