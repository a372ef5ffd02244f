"""The manifests repository (docker-library/official-images): its library at a commit, over git
smart HTTP or from a local directory.

Public API::

    source = GitManifestSource("https://github.com/docker-library/official-images.git")
    commit = source.resolve("master")
    names = source.list_manifests(commit)
    files = source.read(commit, names)          # {name: bytes}

:class:`SourceError` is permanent, :class:`SourceUnavailable` (a subclass) transient.
"""

from .base import ManifestSource, SourceError, SourceUnavailable
from .git import GitManifestSource
from .local import LocalManifestSource

__all__ = [
    "GitManifestSource",
    "LocalManifestSource",
    "ManifestSource",
    "SourceError",
    "SourceUnavailable",
]
