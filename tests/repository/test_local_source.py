"""LocalManifestSource: a plain directory of library files, or a checkout-like root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from manifest_validation.repository import (
    LocalManifestSource,
    ManifestSource,
    SourceError,
    SourceUnavailable,
)

FILES = {"hello-world": b"hello\n", "python": b"Tags: 3\n" * 500, "exec": b"#!/bin/sh\n"}


def populate(library: Path) -> None:
    """The same oddities as the git fixture: subdirectory, symlinks, hidden file."""
    (library / "sub").mkdir(parents=True)
    for name, content in FILES.items():
        (library / name).write_bytes(content)
    (library / "exec").chmod(0o755)
    (library / "sub" / "x").write_bytes(b"nested\n")
    (library / "link").symlink_to("hello-world")
    (library / "outside").symlink_to("/etc/hostname")
    (library / ".foo").write_bytes(b"hidden\n")


@pytest.fixture(params=["plain", "checkout"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> LocalManifestSource:
    if request.param == "plain":
        populate(tmp_path)
        return LocalManifestSource(tmp_path)
    populate(tmp_path / "library")
    (tmp_path / "README.md").write_bytes(b"not a manifest\n")
    (tmp_path / ".git").mkdir()
    return LocalManifestSource(tmp_path)


def test_lists_and_reads_regular_files_only(source: LocalManifestSource) -> None:
    assert isinstance(source, ManifestSource)
    commit = source.resolve("master")
    assert source.list_manifests(commit) == sorted(FILES)
    names = [*FILES, "sub", "sub/x", "link", "outside", ".foo", "README.md", "../README.md"]
    assert source.read(commit, names) == FILES
    assert source.read(commit, []) == {}
    assert source.describe().endswith(("library", source.root.name))


def test_pseudo_commit_is_stable_and_tracks_changes(source: LocalManifestSource) -> None:
    first = source.resolve("master")
    assert len(first) == 40 and int(first, 16) >= 0
    assert source.resolve("any-branch") == first  # a directory has one state
    library = source.library_path
    (library / "python").write_bytes(FILES["python"] + b"more\n")
    second = source.resolve("master")
    assert second != first
    (library / "python").write_bytes(FILES["python"])
    assert source.resolve("master") == first  # content-addressed, not time-based
    (library / "new").write_bytes(b"x")
    third = source.resolve("master")
    assert third not in (first, second)
    (library / "new").unlink()
    assert source.resolve("master") == first
    # Same size, same name: only the content (and the file's timestamps) differ.
    (library / "hello-world").write_bytes(b"HELLO\n")
    assert source.resolve("master") != first
    assert source.read(source.resolve("master"), ["hello-world"]) == {"hello-world": b"HELLO\n"}
    (library / "hello-world").write_bytes(FILES["hello-world"])
    (library / ".hidden-change").write_bytes(b"ignored")
    (library / "sub" / "y").write_bytes(b"ignored")
    assert source.resolve("master") == first  # non-manifests do not count


def test_same_files_same_id_in_both_layouts(tmp_path: Path) -> None:
    populate(tmp_path / "plain")
    populate(tmp_path / "checkout" / "library")
    plain = LocalManifestSource(tmp_path / "plain").resolve("master")
    assert LocalManifestSource(tmp_path / "checkout").resolve("master") == plain


def test_stale_pseudo_commit_is_refused(source: LocalManifestSource) -> None:
    commit = source.resolve("master")
    (source.library_path / "hello-world").write_bytes(b"changed\n")
    with pytest.raises(SourceError) as info:
        source.read(commit, ["hello-world"])
    assert not isinstance(info.value, SourceUnavailable)
    with pytest.raises(SourceError):
        source.list_manifests(commit)
    with pytest.raises(SourceError):
        source.list_manifests("not a commit")
    relaxed = LocalManifestSource(source.root, verify_commit=False)
    assert relaxed.read(commit, ["hello-world"]) == {"hello-world": b"changed\n"}


def test_custom_library_dir(tmp_path: Path) -> None:
    populate(tmp_path / "defs" / "lib")
    source = LocalManifestSource(tmp_path, library_dir="defs/lib")
    assert source.list_manifests(source.resolve("master")) == sorted(FILES)


def test_missing_directory_is_permanent(tmp_path: Path) -> None:
    source = LocalManifestSource(tmp_path / "absent")
    with pytest.raises(SourceError) as info:
        source.resolve("master")
    assert not isinstance(info.value, SourceUnavailable)


@pytest.mark.skipif(os.name != "posix", reason="non-UTF-8 file names need a POSIX file system")
def test_non_utf8_names_are_skipped(tmp_path: Path) -> None:
    populate(tmp_path)
    try:
        (Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff"))).write_bytes(b"x")
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 names")
    source = LocalManifestSource(tmp_path)
    assert source.list_manifests(source.resolve("master")) == sorted(FILES)


def test_real_library_directory(library_dir: Path) -> None:
    source = LocalManifestSource(library_dir)
    commit = source.resolve("master")
    names = source.list_manifests(commit)
    assert len(names) == 144
    files = source.read(commit, names)
    assert all(files[name] == (library_dir / name).read_bytes() for name in names)
    # The checkout layout (its parent, official-images/) gives the same pseudo commit.
    assert LocalManifestSource(library_dir.parent).resolve("master") == commit
