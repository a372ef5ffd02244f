"""The manifests repository (docker-library/official-images): its library at a commit, over git
smart HTTP, from a local git repository, or from a plain local directory.

Public API::

    source = GitManifestSource("https://github.com/docker-library/official-images.git")
    commit = source.resolve("master")
    names = source.list_manifests(commit)
    files = source.read(commit, names)          # {name: bytes}

    # a URL or a local clone (working tree, worktree or bare), and a git range
    with open_manifests_repository(location, policy=policy, credentials=tokens) as repo:
        base, head = resolve_range(repo, "master...pr", warnings=notes)

:func:`open_manifests_repository` (in :mod:`.location`) picks :class:`GitManifestSource` or
:class:`LocalGitManifestSource`; :mod:`.revisions` documents the revision syntax.
:class:`SourceError` is permanent, :class:`SourceUnavailable` (a subclass) transient.
"""

from .base import BlobIdSource, ManifestSource, SourceError, SourceUnavailable
from .git import GitManifestSource
from .local import LocalManifestSource
from .local_git import LocalGitManifestSource
from .location import ManifestRepository, open_manifests_repository
from .revisions import merge_bases, parse_range, resolve_commit, resolve_range

__all__ = [
    "BlobIdSource",
    "GitManifestSource",
    "LocalGitManifestSource",
    "LocalManifestSource",
    "ManifestRepository",
    "ManifestSource",
    "SourceError",
    "SourceUnavailable",
    "merge_bases",
    "open_manifests_repository",
    "parse_range",
    "resolve_commit",
    "resolve_range",
]
