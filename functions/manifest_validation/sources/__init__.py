"""Where manifests come from: a git repository over smart HTTP, or a local directory.

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
