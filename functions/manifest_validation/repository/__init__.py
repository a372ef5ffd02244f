"""The manifests repository (docker-library/official-images): its library at a commit, over git
smart HTTP or from a local directory.

Public API::

    source = GitManifestSource("https://github.com/docker-library/official-images.git")
    commit = source.resolve("master")
    names = source.list_manifests(commit)
    files = source.read(commit, names)          # {name: bytes}

    base, head = resolve_range(source, "master...pr")    # see .revisions

:class:`SourceError` is permanent, :class:`SourceUnavailable` (a subclass) transient.
"""

from .base import ManifestSource, SourceError, SourceUnavailable
from .git import GitManifestSource
from .local import LocalManifestSource
from .revisions import merge_bases, parse_range, resolve_commit, resolve_range

__all__ = [
    "GitManifestSource",
    "LocalManifestSource",
    "ManifestSource",
    "SourceError",
    "SourceUnavailable",
    "merge_bases",
    "parse_range",
    "resolve_commit",
    "resolve_range",
]
