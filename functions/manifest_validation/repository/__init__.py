"""The manifests repository (docker-library/official-images): its library at a commit, over git
smart HTTP, from a local git repository, or from a plain local directory.

Public API::

    source = GitManifestSource("https://github.com/docker-library/official-images.git")
    commit = source.resolve("master")
    names = source.list_manifests(commit)
    files = source.read(commit, names)          # {name: bytes}

    with LocalGitManifestSource("path/to/a/clone") as repo:   # working tree, worktree or bare
        base, head = resolve_range(repo, "master...pr", warnings=notes)

:mod:`.revisions` documents the revision syntax.
:class:`SourceError` is permanent, :class:`SourceUnavailable` (a subclass) transient.
"""

from .base import BlobIdSource, ManifestSource, SourceError, SourceUnavailable
from .git import GitManifestSource
from .local import LocalManifestSource
from .local_git import LocalGitManifestSource
from .revisions import merge_bases, parse_range, resolve_commit, resolve_range

__all__ = [
    "BlobIdSource",
    "GitManifestSource",
    "LocalGitManifestSource",
    "LocalManifestSource",
    "ManifestSource",
    "SourceError",
    "SourceUnavailable",
    "merge_bases",
    "parse_range",
    "resolve_commit",
    "resolve_range",
]
