"""The external pins of a manifests repository at a commit (`.external-pins/` beside `library/`),
over git smart HTTP (real `git http-backend`, with and without filters) and from a checkout, and
the library of a commit carrying them (`load_library`, `LibraryCache`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitserver import GitServer, commit_all, run_git, serve_git
from manifest_validation.repository import GitManifestSource, LocalManifestSource, SourceError
from manifest_validation.repository.libraries import LibraryCache, load_library
from manifest_validation.upstream import UrlPolicy

SERVERCORE = "sha256:" + "5c" * 32
UBI = "sha256:" + "0b" * 32
PINS = {
    "mcr.microsoft.com/windows/servercore___ltsc2022": f"{SERVERCORE}\n".encode(),
    "redhat/ubi9-minimal___latest": f"{UBI}\n".encode(),
    "list.sh": b"#!/usr/bin/env bash\necho list\n",
}

pytestmark = pytest.mark.slow  # real git servers


@dataclass(frozen=True)
class Checkout:
    work: Path
    served: Path
    with_pins: str
    without_pins: str


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    root = tmp_path_factory.mktemp("pins-source")
    work = root / "official-images"
    run_git("init", "-q", "-b", "master", work)
    (work / "library").mkdir()
    (work / "library" / "debian").write_text("Maintainers: Deb (@deb)\n")
    (work / "README.md").write_text("readme\n")
    run_git("config", "core.symlinks", "true", cwd=work)
    without_pins = commit_all(work, "library only")
    for path, content in PINS.items():
        (work / ".external-pins" / path).parent.mkdir(parents=True, exist_ok=True)
        (work / ".external-pins" / path).write_bytes(content)
    # a symbolic link is no pin file (as the directory reader: links are not followed)
    os.symlink("list.sh", work / ".external-pins" / "link.sh")
    with_pins = commit_all(work, "pins")
    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "official-images.git")
    return Checkout(work, served, with_pins, without_pins)


@pytest.fixture(scope="module", params=["filter", "no-filter"])
def server(request: pytest.FixtureRequest, checkout: Checkout) -> Iterator[GitServer]:
    with serve_git(checkout.served, allow_filter=request.param == "filter") as srv:
        yield srv


def source(server: GitServer) -> GitManifestSource:
    return GitManifestSource(
        server.repo_url("official-images.git"), policy=UrlPolicy([server.host_port])
    )


def test_pins_at_a_commit_over_git(server: GitServer, checkout: Checkout) -> None:
    with source(server) as git:
        assert git.list_manifests(checkout.with_pins) == ["debian"]
        listed = server.requests
        pins = git.read_pins(checkout.with_pins)
        assert pins == PINS
        # the listing's trees named the pin files: at most one more request, for their blobs
        assert server.requests - listed <= 1
        again = server.requests
        assert git.read_pins(checkout.with_pins) == PINS
        assert server.requests == again  # cached blobs
        assert git.read_pins(checkout.without_pins) is None


def test_a_library_of_a_commit_carries_its_pins(server: GitServer, checkout: Checkout) -> None:
    with source(server) as git:
        library = load_library(git, checkout.with_pins)
        assert library.pins.digests == {
            "mcr.microsoft.com/windows/servercore:ltsc2022": SERVERCORE,
            "redhat/ubi9-minimal:latest": UBI,
        }
        older = LibraryCache().at("x", checkout.without_pins, lambda: git)
        assert not older.pins.available
        assert older.pins.reason == (
            f"no .external-pins beside the library of {git.describe()} at "
            f"{checkout.without_pins[:12]}"
        )


def test_pins_from_a_checkout(checkout: Checkout) -> None:
    local = LocalManifestSource(checkout.work)
    commit = local.resolve("master")
    assert local.read_pins(commit) == PINS
    assert load_library(local, commit).pins.pin("redhat/ubi9-minimal:latest") == UBI
    # a directory of library files with no checkout around it has no pins
    bare = LocalManifestSource(checkout.work / "library")
    assert bare.read_pins(bare.resolve("master")) == PINS  # its parent is the checkout
    with pytest.raises(SourceError, match="no longer matches pseudo commit"):
        local.read_pins("0" * 40)


def test_a_pins_directory_that_is_not_one_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "w"
    run_git("init", "-q", "-b", "master", work)
    (work / "library").mkdir()
    (work / "library" / "debian").write_text("Maintainers: Deb (@deb)\n")
    (work / ".external-pins").mkdir()
    for number in range(10_001):
        (work / ".external-pins" / f"x___{number}").write_text("y\n")
    commit = commit_all(work, "too many pins")
    served = tmp_path / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "official-images.git")
    with (
        serve_git(served) as srv,
        source(srv) as git,
        pytest.raises(SourceError, match=r"more than 10000 files in \.external-pins"),
    ):
        git.read_pins(commit)


def test_pins_at_a_commit_of_a_local_git_repository(checkout: Checkout) -> None:
    from manifest_validation.repository.local_git import LocalGitManifestSource

    for path in (checkout.work, checkout.served / "official-images.git"):
        with LocalGitManifestSource(path) as local:
            assert local.read_pins(checkout.with_pins) == PINS
            assert local.read_pins(checkout.without_pins) is None
            assert (
                load_library(local, checkout.with_pins).pins.pin(
                    "mcr.microsoft.com/windows/servercore:ltsc2022"
                )
                == SERVERCORE
            )
