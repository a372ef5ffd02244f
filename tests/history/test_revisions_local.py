"""Revisions and ranges resolved from local repositories, with the git binary as the oracle: for
every revision form, in every layout (working clone, worktree, clone with remote-tracking
branches, packed, bare, alternates, shallow, partial), our commit is `git rev-parse`'s, and we
fail exactly where git fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from manifest_validation.repository import (
    LocalGitManifestSource,
    SourceError,
    merge_bases,
    resolve_commit,
    resolve_range,
)
from manifest_validation.repository.revisions import parse_revision

from .world import World, git_out, rev_parse

LAYOUTS = [
    "work",
    "wt",
    "clone",
    "packed",
    "served/bare.git",
    "shared",
    "shallow",
    "partial.git",
]


def revisions(world: World) -> list[str]:
    """Every form the oracle compares, spelled with this world's ids."""
    ids = world.ids
    c3, c4 = ids["c3"], ids["c4"]
    tag_v1 = git_out(world.path("work"), "rev-parse", "refs/tags/v1")[1]
    forms = [
        # HEAD and suffix chains
        "HEAD", "@", "@~1", "HEAD~", "HEAD^", "HEAD~2", "HEAD^0", "HEAD~0", "HEAD~~",
        "HEAD^^", "HEAD~2^2", "HEAD~2^2~1", "HEAD~2^2^", "HEAD~2^1~2", "HEAD~002",
        "HEAD^{commit}", "HEAD^{}", "HEAD^{commit}~1", "HEAD~1^{commit}^", "HEAD~2^2^{}~1",
        "HEAD^3", "HEAD~2^3", "HEAD~99", "HEAD^{commit}^{commit}",
        # branches, remote-tracking branches, precedence
        "master", "refs/heads/master", "heads/master", "feature", "feature~1", "feature^2",
        "x", "y", "p", "q", "lonely", "lonely~1", "lonely^",
        "origin/master", "origin", "origin/HEAD", "remotes/origin/feature", "refs/remotes/origin/x",
        "origin/feature~1",
        # tags: lightweight, annotated, a tag of a tag, of a tree, of a blob; a branch v1 too
        "light", "tags/light", "refs/tags/light", "light~1",
        "v1", "v1^{commit}", "v1^{}", "v1~1", "v1^0", "heads/v1", "refs/heads/v1", "tags/v1",
        "outer", "outer^{commit}", "outer~1", "treetag", "treetag^{commit}", "blobtag",
        # pseudo-refs where they exist (and where they do not)
        "FETCH_HEAD", "ORIG_HEAD", "FETCH_HEAD~1", "ORIG_HEAD^", "MERGE_HEAD", "CHERRY_PICK_HEAD",
        # unknown names and impossible ones
        "nope", "abc", "heads/nope", "origin/nope",
        # full and abbreviated ids, ambiguity, and refs that look like ids
        c4, c4.upper(), f"{c4}~1", f"{c3}^{{commit}}", c4[:7], c4[:4], c4[:5], c3[:4], c3[:5],
        world.crafted_commit[:7], world.crafted_commit, f"{ids['c2'][:10]}~1", c4[:3],
        world.crafted_blob[:7], world.crafted_blob, world.hex_branch, f"{world.hex_branch}~1",
        tag_v1, tag_v1[:8], f"{tag_v1[:8]}~1", "0" * 40, "0000",
        # git describe output
        f"v1-3-g{c4[:7]}", f"light-1-g{c3[:4]}", f"nope-1-g{c4[:8]}",
    ]  # fmt: skip
    return forms


def ours(source: LocalGitManifestSource, revision: str) -> tuple[str | None, str, list[str]]:
    warnings: list[str] = []
    try:
        return resolve_commit(source, revision, warnings=warnings), "", warnings
    except SourceError as exc:
        return None, str(exc), warnings


@pytest.fixture(params=LAYOUTS)
def layout(
    request: pytest.FixtureRequest, world: World
) -> Iterator[tuple[Path, LocalGitManifestSource]]:
    path = world.path(request.param)
    with LocalGitManifestSource(path) as source:
        yield path, source


def test_every_revision_form_resolves_as_git_rev_parse(
    world: World, layout: tuple[Path, LocalGitManifestSource]
) -> None:
    path, source = layout
    mismatches = []
    for revision in revisions(world):
        expected, git_stderr = rev_parse(path, revision)
        got, error, warnings = ours(source, revision)
        if got != expected:
            mismatches.append(f"{revision}: git {expected}, we {got} ({error or 'no error'})")
            continue
        # git warns about an ambiguous ref name exactly when we do
        if ("is ambiguous." in git_stderr) != any("is ambiguous" in w for w in warnings):
            mismatches.append(f"{revision}: git said {git_stderr!r}, we warned {warnings}")
    assert mismatches == [], "\n".join(mismatches)


def test_ambiguous_abbreviation_names_the_candidates(world: World) -> None:
    """c3's first 4 digits start two commits (c3 and a crafted one): git refuses, and so do we,
    counting the same candidates git lists."""
    work = world.path("work")
    prefix = world.ids["c3"][:4]
    _, git_stderr = rev_parse(work, prefix)
    assert f"short object ID {prefix} is ambiguous" in git_stderr
    listed = len(re.findall(r"^hint:\s+[0-9a-f]{7,} ", git_stderr, flags=re.MULTILINE))
    with LocalGitManifestSource(work) as source, pytest.raises(SourceError) as caught:
        resolve_commit(source, prefix)
    message = str(caught.value)
    assert f"abbreviated id '{prefix}'" in message
    assert f"is ambiguous: {listed} objects" in message
    assert world.ids["c3"][:12] in message and world.crafted_commit[:12] in message
    assert "give more hex digits" in message


def test_an_abbreviation_shared_with_a_blob_is_the_commit(world: World) -> None:
    """c4's first 4 digits also start a blob: a range side must be a commit, so git (and we)
    take the only commit among the candidates."""
    with LocalGitManifestSource(world.path("work")) as source:
        assert source.history().abbreviations(world.ids["c4"][:4]) == sorted(
            [world.ids["c4"], world.crafted_blob]
        )
        assert resolve_commit(source, world.ids["c4"][:4]) == world.ids["c4"]


def test_ref_named_like_an_abbreviation_wins(world: World) -> None:
    with LocalGitManifestSource(world.path("work")) as source:
        assert resolve_commit(source, world.hex_branch) == world.ids["c1"]


def test_ambiguous_ref_name_warns_and_takes_the_tag(world: World) -> None:
    warnings: list[str] = []
    with LocalGitManifestSource(world.path("work")) as source:
        assert resolve_commit(source, "v1", warnings=warnings) == world.ids["c2"]
    assert warnings == [
        "refname 'v1' is ambiguous (refs/tags/v1, refs/heads/v1); using refs/tags/v1"
    ]


def test_worktree_has_its_own_head_and_fetch_head(world: World) -> None:
    with (
        LocalGitManifestSource(world.path("work")) as main,
        LocalGitManifestSource(world.path("wt")) as worktree,
    ):
        assert resolve_commit(main, "HEAD") == world.ids["c4"]
        assert resolve_commit(worktree, "HEAD") == world.ids["f3"]
        assert resolve_commit(main, "FETCH_HEAD") == world.ids["x2"]
        assert resolve_commit(worktree, "FETCH_HEAD") == world.ids["y2"]
        # refs are shared between a repository and its worktrees
        assert resolve_commit(worktree, "x") == world.ids["x2"]


# -- ranges ------------------------------------------------------------------------------

# where the branches x, y, p, q and lonely exist (a clone only has master and origin/*)
RANGE_LAYOUTS = ["work", "packed", "served/bare.git", "wt"]
SYMMETRIC = [
    ("master", "feature"),
    ("feature", "master"),
    ("x", "y"),
    ("y", "x"),
    ("p", "q"),
    ("q", "p"),
    ("master", "master"),
    ("HEAD~2^2", "feature"),
    ("feature~1", "x"),
    ("light", "outer"),
    ("v1~1", "feature"),
    ("master", "lonely"),
    ("", "feature"),
    ("feature", ""),
]


@pytest.mark.parametrize("where", RANGE_LAYOUTS)
def test_two_dot_ranges_are_both_sides_as_git_rev_parse(world: World, where: str) -> None:
    path = world.path(where)
    with LocalGitManifestSource(path) as source:
        for old, new in [("master~3", "master"), ("light", "v1"), ("", "x"), ("feature", "")]:
            text = f"{old}..{new}"
            expected = (rev_parse(path, old or "HEAD")[0], rev_parse(path, new or "HEAD")[0])
            assert resolve_range(source, text) == expected, text


@pytest.mark.parametrize("where", RANGE_LAYOUTS)
def test_three_dot_ranges_use_git_diffs_merge_base(world: World, where: str) -> None:
    path = world.path(where)
    with LocalGitManifestSource(path) as source:
        for old, new in SYMMETRIC:
            text = f"{old}...{new}"
            left, right = old or "HEAD", new or "HEAD"
            code, listed, _ = git_out(path, "merge-base", "--all", left, right)
            # git diff prints the merge base it uses when there are several
            _, _, diff_stderr = git_out(path, "diff", "--quiet", text)
            warnings: list[str] = []
            if code != 0:
                # no merge base, or a side git cannot resolve (HEAD~2^2 in the worktree)
                if "no merge base" in diff_stderr:
                    assert diff_stderr.endswith(f"{text}: no merge base")
                with pytest.raises(SourceError, match=r"no merge base|unknown revision"):
                    resolve_range(source, text, warnings=warnings)
                if "no merge base" in diff_stderr:
                    with pytest.raises(SourceError, match=f"{re.escape(text)}: no merge base"):
                        resolve_range(source, text)
                continue
            bases = listed.split()
            head = rev_parse(path, right)[0]
            assert resolve_range(source, text, warnings=warnings) == (bases[0], head), text
            notes = [f"warning: {w}" for w in warnings if "merge bases" in w]
            assert notes == ([diff_stderr] if len(bases) > 1 else []), text


@pytest.mark.parametrize("where", ["work", "packed"])
def test_merge_bases_are_listed_in_gits_order(world: World, where: str) -> None:
    """Both merge bases of a criss-cross, in `git merge-base --all`'s order: newest first with
    different dates (x/y); with equal dates (p/q) git's walk order, which we follow as git does
    without a commit-graph file -- `packed` has one (git gc writes it) and agrees here too."""
    path = world.path(where)
    ids = world.ids
    with LocalGitManifestSource(path) as source:
        for one, two in [("x", "y"), ("y", "x"), ("p", "q"), ("q", "p")]:
            expected = git_out(path, "merge-base", "--all", one, two)[1].split()
            got = merge_bases(source, resolve_commit(source, one), resolve_commit(source, two))
            assert got == expected, (one, two)
        assert merge_bases(source, ids["x2"], ids["y2"]) == [ids["y1"], ids["x1"]]
        assert merge_bases(source, ids["c4"], ids["f3"]) == [ids["f2"]]
        assert merge_bases(source, ids["c4"], ids["c1"]) == [ids["c1"]]
        assert merge_bases(source, ids["c4"], ids["lonely"]) == []


def test_a_single_revision_is_refused(world: World) -> None:
    with (
        LocalGitManifestSource(world.path("work")) as source,
        pytest.raises(SourceError, match="'master' is a single revision; give a range"),
    ):
        resolve_range(source, "master")


def test_errors_name_the_revision_and_why(world: World) -> None:
    ids = world.ids
    with LocalGitManifestSource(world.path("work")) as source:
        cases = {
            "HEAD~99..HEAD": "the first-parent history of 'HEAD' (in 'HEAD~99') ends after "
            f"5 of 99 steps: commit {ids['c0'][:12]} is a root commit",
            "HEAD^3..HEAD": f"'HEAD' (in 'HEAD^3') is commit {ids['c4'][:12]}, which has "
            "1 parent, so it has no parent 3",
            "treetag..HEAD": "'treetag' is a tree (",
            "blobtag..HEAD": "'blobtag' is a blob (",
            "nope..HEAD": "unknown revision 'nope': no branch, tag or commit 'nope' in ",
            f"{'0' * 40}..HEAD": f"names {'0' * 40}, which does not exist in ",
            "0000..HEAD": "no object id in",
            "HEAD..abc": "unknown revision 'abc'",
        }
        for text, expected in cases.items():
            with pytest.raises(SourceError) as caught:
                resolve_range(source, text)
            assert expected in str(caught.value), text


def test_shallow_boundary_is_named(world: World) -> None:
    with LocalGitManifestSource(world.path("shallow")) as source:
        assert resolve_commit(source, "HEAD~1") == world.ids["c3"]
        with pytest.raises(SourceError, match="shallow clone's boundary"):
            resolve_commit(source, "HEAD~2")


def test_refused_forms_git_would_take(world: World) -> None:
    """Forms that depend on one clone's reflog or search messages are refused, even though git
    resolves them here: a diff of the library names commits, branches or tags."""
    work = world.path("work")
    with LocalGitManifestSource(work) as source:
        for revision, expected in [
            ("HEAD@{1}", "reflog and upstream forms"),
            ("master@{upstream}", "reflog and upstream forms"),
            ("@{-1}", "reflog and upstream forms"),
            (":/c3", "names a path or searches commit messages"),
            ("HEAD^{/c2}", "searching commit messages"),
            ("HEAD^{tree}", "a range compares commits"),
        ]:
            if revision != "master@{upstream}":  # (no upstream is configured here)
                assert git_out(work, "rev-parse", "--verify", revision)[0] == 0, revision
            with pytest.raises(SourceError, match=re.escape(expected)):
                resolve_commit(source, revision)


def test_resolve_takes_any_revision(world: World) -> None:
    """The ManifestSource method: a branch as the protocol asks, and any other revision."""
    with LocalGitManifestSource(world.path("served/bare.git")) as source:
        assert source.resolve("master") == world.ids["c4"]
        assert source.resolve("refs/heads/feature") == world.ids["f3"]
        assert source.resolve("HEAD~2^2") == world.ids["f2"]
        assert parse_revision("@~1").base == "HEAD"
