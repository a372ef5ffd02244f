"""Folders of a local git repository at a commit: which top-level directories a range changed,
and the files of one of them (a docker-library/docs checkout's image folders, reviewed from its
commits as the library files are).

Public API::

    with LocalGitManifestSource(path) as source:
        names = changed_directories(source, base, head)        # ["python", ...]
        files = read_directory(source, head, "python", names={"metadata.json", ...})
"""

from __future__ import annotations

from collections.abc import Collection

from .base import SourceError
from .local_git import LocalGitManifestSource

__all__ = ["changed_directories", "read_directory"]


def changed_directories(source: LocalGitManifestSource, base: str, head: str) -> list[str]:
    """The non-hidden top-level directories whose content differs between ``base`` and
    ``head`` and that exist at ``head`` (compared by tree id: nothing is read), sorted."""
    before, after = source.tree(base), source.tree(head)
    return sorted(
        name
        for name, (kind, oid) in after.items()
        if kind == "dir" and not name.startswith(".") and before.get(name) != (kind, oid)
    )


def read_directory(
    source: LocalGitManifestSource,
    commit: str,
    directory: str,
    *,
    names: Collection[str] | None = None,
    max_bytes: int = 4 * 1024 * 1024,
) -> dict[str, bytes]:
    """``{file name: content}`` of the regular files directly in ``directory`` at ``commit``
    (only ``names`` when given). Raises SourceError for a file larger than ``max_bytes``."""
    found: dict[str, bytes] = {}
    for name, (kind, oid) in sorted(source.tree(commit, directory).items()):
        if kind != "file" or (names is not None and name not in names):
            continue
        data = source.blob(oid)
        if len(data) > max_bytes:
            raise SourceError(f"{directory}/{name} at {commit[:12]}: larger than {max_bytes} bytes")
        found[name] = data
    return found
