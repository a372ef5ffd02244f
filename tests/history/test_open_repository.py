"""`open_manifests_repository`: a URL, a local git repository in any layout, or a sentence
saying what the location is instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitserver import run_git
from manifest_validation.repository import (
    GitManifestSource,
    LocalGitManifestSource,
    ManifestRepository,
    SourceError,
    open_manifests_repository,
    resolve_range,
)
from manifest_validation.upstream import UrlPolicy

from .world import World


@pytest.mark.parametrize("where", ["work", "wt", "served/bare.git", "work/.git", "packed"])
def test_opens_local_repositories(world: World, where: str) -> None:
    with open_manifests_repository(world.path(where)) as source:
        assert isinstance(source, LocalGitManifestSource)
        assert isinstance(source, ManifestRepository)
        assert source.resolve("x") == world.ids["x2"]
    # a str path and a file: URL too
    with open_manifests_repository(str(world.path(where))) as source:
        assert source.resolve("x") == world.ids["x2"]
    with open_manifests_repository(world.path(where).as_uri()) as source:
        assert source.resolve("x") == world.ids["x2"]


def test_opens_urls_as_git_sources_without_a_request() -> None:
    source = open_manifests_repository(
        "http://127.0.0.1:9/official-images.git", policy=UrlPolicy(["127.0.0.1:9"])
    )
    assert isinstance(source, GitManifestSource)
    assert isinstance(source, ManifestRepository)
    source.close()


def test_refuses_what_is_not_a_repository(world: World, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "file").write_text("x")
    work = world.path("work")
    cases = {
        str(tmp_path / "nope"): "does not exist",
        str(plain / "file"): "is a file, not a git repository",
        str(plain): "is not a git repository (no .git in it, and not a bare repository)",
        str(work / "library"): f"is inside the git repository at {work}, not its top: give {work}",
        str(work / ".git" / "refs"): f"is inside the git repository at {work}, not its top",
        "git@github.com:docker-library/official-images.git": "is an SSH location, which is "
        "not supported: give the https:// URL of the repository, or the path of a local clone",
        "github.com:docker-library/official-images": "is an SSH location",
        "ssh://git@github.com/docker-library/official-images.git": "scheme 'ssh' is not allowed",
        "http://github.com/docker-library/official-images.git": "plain http is not allowed",
        "file://example.com/x": "a file: URL must name a path on this machine",
    }
    for location, message in cases.items():
        with pytest.raises(SourceError) as caught:
            open_manifests_repository(location)
        assert message in str(caught.value), location


def test_local_repositories_can_be_refused(world: World) -> None:
    """A door whose caller is remote must not let it read the machine's repositories."""
    for location in (str(world.path("work")), world.path("work").as_uri()):
        with pytest.raises(SourceError, match="local repositories are not allowed here"):
            open_manifests_repository(location, allow_local=False)


def test_a_repository_of_an_unknown_format_is_refused(world: World, tmp_path: Path) -> None:
    repo = tmp_path / "future.git"
    shutil.copytree(world.path("served/bare.git"), repo)
    run_git("config", "core.repositoryformatversion", "1", cwd=repo)
    run_git("config", "extensions.somethingnew", "true", cwd=repo)
    with pytest.raises(SourceError, match="it uses a format this tool does not know"):
        open_manifests_repository(repo)


def test_plain_directories_have_no_history(tmp_path: Path) -> None:
    from manifest_validation.repository import LocalManifestSource

    (tmp_path / "library").mkdir()
    with pytest.raises(SourceError, match="has no git history: revision ranges need a git"):
        resolve_range(LocalManifestSource(tmp_path), "a..b")
