"""Revisions and ranges resolved over smart HTTP against the real `git http-backend` serving the
bare copy of the world, with `git rev-parse` on that same bare repository as the oracle.

Ref names and full ids need no history; `~`, `^` and the merge base of `A...B` are resolved from
commits fetched without trees or blobs (`filter tree:0`, `deepen N`); abbreviated ids are refused
over HTTP (see `repository.git`'s docstring for why)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from dulwich.objects import Commit, Tag

from gitserver import GitServer, serve_git
from manifest_validation.repository import (
    GitManifestSource,
    SourceError,
    resolve_commit,
    resolve_range,
)
from manifest_validation.repository import git as git_module
from manifest_validation.repository.revisions import parse_revision
from manifest_validation.upstream import UrlPolicy
from manifest_validation.upstream.pktline import PktReader, encode
from manifest_validation.upstream.protocol import objects_in_pack, v0_fetch_pack, v2_fetch_pack

from .test_revisions_local import SYMMETRIC, revisions
from .world import World, git_out, rev_parse

HTTP_REFUSAL = "cannot be looked up over HTTP"


def open_source(server: GitServer) -> GitManifestSource:
    return GitManifestSource(
        server.repo_url("bare.git"),
        policy=UrlPolicy([server.host_port]),
        connect_timeout=2,
        read_timeout=10,
    )


@pytest.fixture
def source(server: GitServer) -> Iterator[GitManifestSource]:
    with open_source(server) as opened:
        yield opened


def needs_abbreviation(world: World, revision: str) -> bool:
    """Whether git reads this revision's name as an abbreviated id (or describe output) in the
    bare repository: no ref has that name there."""
    base = parse_revision(revision).base
    bare = world.path("served/bare.git")
    is_ref = git_out(bare, "show-ref", "--verify", "--quiet", f"refs/heads/{base}")[0] == 0
    hexish = re.fullmatch(r"[0-9a-fA-F]{4,39}", base) is not None
    described = re.search(r"-g[0-9a-fA-F]{4,}$", base) is not None
    return (hexish or described) and not is_ref


def test_every_revision_form_resolves_as_git_rev_parse(
    world: World, source: GitManifestSource
) -> None:
    bare = world.path("served/bare.git")
    mismatches = []
    for revision in revisions(world):
        expected, _ = rev_parse(bare, revision)
        try:
            got, error = resolve_commit(source, revision), ""
        except SourceError as exc:
            got, error = None, str(exc)
        if needs_abbreviation(world, revision):
            if got is not None or HTTP_REFUSAL not in error:
                mismatches.append(f"{revision}: not refused as an abbreviation ({got}, {error})")
        elif got != expected:
            mismatches.append(f"{revision}: git {expected}, we {got} ({error or 'no error'})")
    assert mismatches == [], "\n".join(mismatches)


def test_abbreviation_refusal_says_what_to_do(world: World, source: GitManifestSource) -> None:
    short = world.ids["c4"][:7]
    with pytest.raises(SourceError) as caught:
        resolve_range(source, f"{short}..master")
    assert str(caught.value) == (
        f"'{short}' is not a branch or tag of {source.describe()}, and an abbreviated commit id "
        "cannot be looked up over HTTP (a git server takes full ids only): give the full id, "
        f"or a local clone of {source.describe()}"
    )
    # a branch with a hex-looking name is a ref, found as such
    assert resolve_commit(source, world.hex_branch) == world.ids["c1"]


def test_ranges_as_git(world: World, source: GitManifestSource) -> None:
    bare = world.path("served/bare.git")
    for old, new in [("master~3", "master"), ("light", "v1"), ("", "x"), ("HEAD~2^2", "")]:
        expected = (rev_parse(bare, old or "HEAD")[0], rev_parse(bare, new or "HEAD")[0])
        assert resolve_range(source, f"{old}..{new}") == expected
    for old, new in SYMMETRIC:
        text = f"{old}...{new}"
        code, listed, _ = git_out(bare, "merge-base", "--all", old or "HEAD", new or "HEAD")
        warnings: list[str] = []
        if code != 0:
            with pytest.raises(SourceError, match=f"{re.escape(text)}: no merge base"):
                resolve_range(source, text)
            continue
        bases = listed.split()
        head = rev_parse(bare, new or "HEAD")[0]
        assert resolve_range(source, text, warnings=warnings) == (bases[0], head), text
        expected = [f"{text}: multiple merge bases, using {bases[0]}"] if len(bases) > 1 else []
        assert [w for w in warnings if "merge bases" in w] == expected


def test_requests_for_a_review_range(world: World, server: GitServer) -> None:
    """`master...feature`: the advertisement, two ls-refs and one fetch of commits."""
    with open_source(server) as source:
        server.reset_counters()
        assert resolve_range(source, "master...feature") == (world.ids["f2"], world.ids["f3"])
        assert server.requests == 4
        fetches = [h for h in server.headers if h.get("Content-Type", "").endswith("request")]
        assert len(fetches) == 3


def test_history_is_fetched_deeper_as_walks_need_it(
    world: World, server: GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a first depth of 1, walks outrun what is loaded: the front is fetched again, twice
    as deep each time, and the answers do not change."""
    monkeypatch.setattr(git_module, "HISTORY_FIRST_DEPTH", 1)
    bare = world.path("served/bare.git")
    with open_source(server) as source:
        for text in ["HEAD~5..HEAD~2^2~1", "x...y", "master...feature", "feature~2...lonely"]:
            if text.endswith("lonely"):
                with pytest.raises(SourceError, match="no merge base"):
                    resolve_range(source, text)
                continue
            old, _, new = text.partition("...") if "..." in text else text.partition("..")
            got = resolve_range(source, text)
            if "..." in text:
                base = git_out(bare, "merge-base", "--all", old, new)[1].split()[0]
                assert got == (base, rev_parse(bare, new)[0])
            else:
                assert got == (rev_parse(bare, old)[0], rev_parse(bare, new)[0])
        history = source.history()
        resolve_commit(history, "HEAD~5")
        assert history._fetches == 3  # depths 1, 2, 4: six commits deep


def test_history_fetches_are_bounded(
    world: World, server: GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(git_module, "HISTORY_FIRST_DEPTH", 1)
    monkeypatch.setattr(git_module, "HISTORY_MAX_FETCHES", 2)
    with open_source(server) as source, pytest.raises(SourceError) as caught:
        resolve_range(source, "HEAD~5..HEAD")
    assert str(caught.value) == (
        f"walking the history of {source.describe()} over HTTP needs more than 2 fetches of "
        "commits; use a local clone for ranges this far apart"
    )


@pytest.mark.parametrize("protocol_v2", [True, False])
def test_servers_that_cannot_filter_take_refs_and_ids_only(world: World, protocol_v2: bool) -> None:
    """Without uploadpack.allowFilter a history fetch would carry every file of every commit:
    refused with a message, while names and full ids still resolve."""
    ids = world.ids
    with (
        serve_git(world.path("served"), allow_filter=False, protocol_v2=protocol_v2) as srv,
        open_source(srv) as source,
    ):
        assert resolve_range(source, f"light..{ids['c4']}") == (ids["c1"], ids["c4"])
        for text in ["HEAD~1..HEAD", "master...feature"]:
            with pytest.raises(SourceError) as caught:
                resolve_range(source, text)
            assert "cannot send commits without their files (no filter or shallow support)" in (
                str(caught.value)
            )


def test_protocol_v0_resolves_the_same(world: World) -> None:
    ids = world.ids
    with (
        serve_git(world.path("served"), protocol_v2=False) as srv,
        open_source(srv) as source,
    ):
        assert resolve_range(source, "HEAD~2^2~1...x") == (ids["c0"], ids["x2"])
        assert resolve_range(source, "outer~1..v1^{}") == (ids["c1"], ids["c2"])
        assert resolve_range(source, "x...y")[0] == ids["y1"]


# -- what git http-backend serves (git 2.39), pinned -------------------------------------

REQUEST_TYPE = "application/x-git-upload-pack-request"


def post(server: GitServer, body: bytes, *, v2: bool) -> bytes:
    headers = {"Content-Type": REQUEST_TYPE}
    if v2:
        headers["Git-Protocol"] = "version=2"
    response = requests.post(
        server.repo_url("bare.git/git-upload-pack"), data=body, headers=headers, timeout=10
    )
    assert response.status_code == 200
    return response.content


def test_a_treeless_deepened_fetch_is_commits_only(world: World, server: GitServer) -> None:
    """`want C`, `deepen 2`, `filter tree:0`: exactly the commits within two levels of C, no
    tree and no blob -- the history fetch of the HTTP store, in protocol v2 and v0."""
    ids = world.ids
    body = encode("command=fetch\n") + b"0001" + encode(f"want {ids['m']}\n")
    body += encode("deepen 2\n") + encode("filter tree:0\n") + encode("done\n") + b"0000"
    objects = objects_in_pack(v2_fetch_pack(PktReader(post(server, body, v2=True))), "sha1")
    assert {type(obj) for obj in objects.values()} == {Commit}
    assert set(objects) == {ids["m"], ids["c2"], ids["f2"]}
    with serve_git(world.path("served"), protocol_v2=False) as v0:
        body = encode(f"want {ids['m']} side-band-64k ofs-delta no-progress filter\n")
        body += encode("deepen 2\n") + encode("filter tree:0\n") + b"0000" + encode("done\n")
        objects = objects_in_pack(v0_fetch_pack(PktReader(post(v0, body, v2=False)), True), "sha1")
    assert set(objects) == {ids["m"], ids["c2"], ids["f2"]}


def test_a_treeless_fetch_of_a_tag_has_the_tag_and_its_commit(
    world: World, server: GitServer
) -> None:
    tag = git_out(world.path("served/bare.git"), "rev-parse", "refs/tags/outer")[1]
    body = encode("command=fetch\n") + b"0001" + encode(f"want {tag}\n")
    body += encode("deepen 1\n") + encode("filter tree:0\n") + encode("done\n") + b"0000"
    objects = objects_in_pack(v2_fetch_pack(PktReader(post(server, body, v2=True))), "sha1")
    tags = [obj for obj in objects.values() if isinstance(obj, Tag)]
    commits = [oid for oid, obj in objects.items() if isinstance(obj, Commit)]
    assert len(tags) == 2  # outer and v1, the tag it tags
    assert commits == [world.ids["c2"]]
