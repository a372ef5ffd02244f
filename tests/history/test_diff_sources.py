"""`changes_between_commits` over a local bare repository, a working clone, a worktree, a packed
copy and over smart HTTP (the bare repository served by git http-backend): the same ranges give
the same commits and the same `ChangeSummary` JSON everywhere, and the images it reports as
changed are the library files `git diff` names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from gitserver import GitServer
from manifest_validation.diff.git import changes_between_commits, resolve_revision
from manifest_validation.repository import (
    BlobIdSource,
    open_manifests_repository,
    resolve_range,
)
from manifest_validation.upstream import UrlPolicy

from .world import World, git_out

LOCAL = ["served/bare.git", "work", "wt", "packed"]
NOT_FILES = {"link", "submod"}
RANGES = [
    "master~4..master",
    "master...feature",
    "feature...master",
    "x...y",
    "y...x",
    "light..v1",
    "outer~1..master~2^2",
    "master..lonely",
    "lonely..x",
    "master..master",
]


@pytest.fixture(scope="module")
def sources(world: World, server: GitServer) -> Iterator[dict[str, BlobIdSource]]:
    with ExitStack() as stack:
        opened: dict[str, Any] = {
            where: stack.enter_context(open_manifests_repository(world.path(where)))
            for where in LOCAL
        }
        opened["http"] = stack.enter_context(
            open_manifests_repository(
                server.repo_url("bare.git"), policy=UrlPolicy([server.host_port])
            )
        )
        yield opened


@pytest.mark.parametrize("text", RANGES)
def test_same_summary_from_every_source(
    world: World, sources: dict[str, BlobIdSource], text: str
) -> None:
    results = {}
    for where, source in sources.items():
        base, head = resolve_range(source, text)
        summary = changes_between_commits(source, base, head)
        # through the JSON text, as the CLI and the API publish it
        results[where] = (base, head, json.loads(json.dumps(summary.to_json())))
    reference = results.pop("served/bare.git")
    assert results == dict.fromkeys(results, reference)

    base, head, document = reference
    changed = {image["image"] for image in document["images"] if image["status"] != "unchanged"}
    _, names, _ = git_out(world.path("work"), "diff", "--name-only", base, head, "--", "library/")
    listed = {name.removeprefix("library/") for name in names.split()}
    # git also names what is not a manifest: hidden files, subdirectories, the symlink and
    # the submodule (gone on the orphan branch, so changed there)
    manifests = {n for n in listed if "/" not in n and not n.startswith(".")} - NOT_FILES
    assert changed == manifests


def test_a_review_range_in_detail(world: World, sources: dict[str, BlobIdSource]) -> None:
    """master...feature is what feature did since it was last merged (at f2): debian re-added;
    master..feature also undoes master's own later work."""
    source = sources["work"]
    summary = changes_between_commits(source, *resolve_range(source, "master...feature"))
    statuses = {image.name: image.status for image in summary.images}
    assert statuses == {
        "alpine": "unchanged",
        "busybox": "unchanged",
        "debian": "added",
        "golang": "unchanged",
        "python": "unchanged",
    }
    summary = changes_between_commits(source, *resolve_range(source, "master..feature"))
    statuses = {image.name: image.status for image in summary.images}
    assert statuses["debian"] == "added"
    assert statuses["golang"] == "modified" and statuses["alpine"] == "modified"


def test_resolve_revision_of_diff_takes_revisions_from_sources_with_history(
    world: World, sources: dict[str, BlobIdSource]
) -> None:
    for source in sources.values():
        assert resolve_revision(source, "master~2^2") == world.ids["f2"]
        assert resolve_revision(source, world.ids["c0"].upper()) == world.ids["c0"]
