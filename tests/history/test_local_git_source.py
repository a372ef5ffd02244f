"""LocalGitManifestSource: the library at any commit, read from git's object database (loose,
packed, alternates, partial and shallow clones, SHA-256) with the listing rules of the other
sources, and git's own `ls-tree` and `cat-file` as the oracle."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from gitserver import run_git
from manifest_validation.repository import (
    LocalGitManifestSource,
    ManifestSource,
    SourceError,
    resolve_range,
)
from manifest_validation.repository.base import BlobIdSource

from .world import World, git_out

LAYOUTS = ["work", "wt", "packed", "served/bare.git", "shared", "clone"]


def git_listing(repo: Path, commit: str) -> dict[str, str]:
    """{name: blob id} of the regular files directly in library/, by git ls-tree."""
    _, out, _ = git_out(repo, "ls-tree", f"{commit}:library")
    listing = {}
    for line in out.splitlines():
        meta, name = line.split("\t", 1)
        mode, kind, oid = meta.split()
        if kind == "blob" and stat.S_ISREG(int(mode, 8)) and not name.startswith("."):
            listing[name] = oid
    return listing


@pytest.mark.parametrize("where", LAYOUTS)
def test_listing_and_contents_are_gits(world: World, where: str) -> None:
    path = world.path(where)
    with LocalGitManifestSource(path) as source:
        assert isinstance(source, ManifestSource) and isinstance(source, BlobIdSource)
        for name in ("c0", "c1", "m", "c4"):
            commit = world.ids[name]
            expected = git_listing(world.path("work"), commit)
            assert source.blob_ids(commit) == expected
            assert source.list_manifests(commit) == sorted(expected)
            contents = source.read(commit, sorted(expected))
            for file, data in contents.items():
                _, text, _ = git_out(world.path("work"), "cat-file", "blob", expected[file])
                assert data.decode() == text + "\n"


def test_only_regular_visible_files_are_manifests(world: World) -> None:
    """c0's library also holds a hidden file, a subdirectory, a symlink and a submodule."""
    with LocalGitManifestSource(world.path("work")) as source:
        c0 = world.ids["c0"]
        assert source.list_manifests(c0) == ["alpine", "debian", "python"]
        asked = ["alpine", "alpine", ".hidden", "sub", "sub/x", "link", "submod", "nope", ""]
        assert list(source.read(c0, asked)) == ["alpine"]
        with pytest.raises(TypeError):
            source.read(c0, "alpine")


def test_a_commit_without_a_library_has_no_manifests(world: World) -> None:
    with LocalGitManifestSource(world.path("work")) as source:
        assert source.list_manifests(world.ids["lonely"]) == []
        assert source.read(world.ids["lonely"], ["alpine"]) == {}


def test_another_library_directory(world: World) -> None:
    with LocalGitManifestSource(world.path("work"), library_dir="library/sub") as source:
        assert source.list_manifests(world.ids["c0"]) == ["x"]
    with pytest.raises(ValueError, match="not a relative directory path"):
        LocalGitManifestSource(world.path("work"), library_dir="../x")


def test_commit_ids_are_checked(world: World) -> None:
    tree = git_out(world.path("work"), "rev-parse", f"{world.ids['c0']}^{{tree}}")[1]
    with LocalGitManifestSource(world.path("work")) as source:
        for bad, message in [
            ("master", "'master' is not a full commit id (40 hex digits)"),
            (world.ids["c0"][:12], "is not a full commit id"),
            ("0" * 40, f"commit {'0' * 40} is missing from"),
            (tree, f"{tree} is a tree, not a commit"),
        ]:
            with pytest.raises(SourceError) as caught:
                source.list_manifests(bad)
            assert message in str(caught.value)
        # upper case is the same id
        assert source.list_manifests(world.ids["c0"].upper()) == ["alpine", "debian", "python"]


def test_a_partial_clone_says_what_is_missing(world: World) -> None:
    """A blob-less clone has the trees (the listing works) but no file contents."""
    with LocalGitManifestSource(world.path("partial.git")) as source:
        head = resolve_range(source, "HEAD~1..HEAD")[1]
        assert source.list_manifests(head) == ["alpine", "busybox", "golang", "python"]
        with pytest.raises(SourceError) as caught:
            source.read(head, ["alpine"])
        assert "library/alpine at" in str(caught.value)
        assert "a shallow or partial clone has not fetched it" in str(caught.value)


def test_a_sha256_repository(tmp_path: Path) -> None:
    work = tmp_path / "sha256"
    run_git("init", "-q", "--object-format=sha256", "-b", "main", work)
    (work / "library").mkdir()
    (work / "library" / "app").write_text("Maintainers: A (@a)\n")
    run_git("add", "-A", cwd=work)
    run_git("commit", "-qm", "one", cwd=work)
    (work / "library" / "app").write_text("Maintainers: B (@b)\n")
    run_git("add", "-A", cwd=work)
    run_git("commit", "-qm", "two", cwd=work)
    head = run_git("rev-parse", "HEAD", cwd=work)
    with LocalGitManifestSource(work) as source:
        base, tip = resolve_range(source, f"{head[:40]}~1..main")
        assert tip == head and len(base) == 64
        assert base == run_git("rev-parse", "HEAD~1", cwd=work)
        assert source.read(tip, ["app"]) == {"app": b"Maintainers: B (@b)\n"}
        with pytest.raises(SourceError, match="64 hex digits"):
            source.list_manifests(head[:40])


def test_refs_are_read_afresh(world: World, tmp_path: Path) -> None:
    """A fetch (or commit) between two resolutions is seen: refs are not cached."""
    repo = tmp_path / "moving"
    shutil.copytree(world.path("served/bare.git"), repo)
    with LocalGitManifestSource(repo) as source:
        assert source.resolve("master") == world.ids["c4"]
        run_git("update-ref", "refs/heads/master", world.ids["c1"], cwd=repo)
        assert source.resolve("master") == world.ids["c1"]


def test_a_loop_of_symbolic_refs_is_an_error(world: World, tmp_path: Path) -> None:
    repo = tmp_path / "loop.git"
    shutil.copytree(world.path("served/bare.git"), repo)
    run_git("symbolic-ref", "refs/heads/a", "refs/heads/b", cwd=repo)
    run_git("symbolic-ref", "refs/heads/b", "refs/heads/a", cwd=repo)
    assert git_out(repo, "rev-parse", "--verify", "a")[0] != 0
    with LocalGitManifestSource(repo) as source, pytest.raises(SourceError) as caught:
        resolve_range(source, "a..master")
    assert str(caught.value).endswith("is a loop of symbolic refs")


def test_a_corrupt_object_is_an_error(tmp_path: Path) -> None:
    work = tmp_path / "corrupt"
    (work / "library").mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)
    (work / "library" / "app").write_text("Maintainers: A (@a)\n")
    run_git("add", "-A", cwd=work)
    run_git("commit", "-qm", "one", cwd=work)
    blob = run_git("rev-parse", "HEAD:library/app", cwd=work)
    loose = work / ".git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not zlib at all")
    with LocalGitManifestSource(work) as source:
        head = source.resolve("HEAD")
        assert source.list_manifests(head) == ["app"]  # the tree is intact
        with pytest.raises(SourceError, match=f"object {blob} in .* is corrupt"):
            source.read(head, ["app"])
