"""The manifest source contract shared by the git and local implementations.

A *source* answers four questions about the manifests repository (the
``library/`` directory of docker-library/official-images or a mirror): which commit
a branch points at, which manifest files exist at a commit, what they contain, and
which external images the ``.external-pins/`` beside ``library/`` pins at that commit.
Commits are immutable, so everything but :meth:`ManifestSource.resolve` can be
cached by callers and by the sources themselves.

Errors come in two kinds because the worker reacts differently to them:
:class:`SourceError` is permanent (retrying the same request cannot help: a missing
branch or commit, a URL refused by policy), :class:`SourceUnavailable` is transient
(network, timeouts, 5xx) and the job should be retried later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

__all__ = [
    "BlobIdSource",
    "ManifestSource",
    "SourceError",
    "SourceUnavailable",
    "is_manifest_name",
]


class SourceError(Exception):
    """A permanent failure: the ref, commit or path does not exist, or policy refuses.

    ``str(exc)`` is a sentence safe to log and show: it never contains credentials.
    """


class SourceUnavailable(SourceError):
    """A transient failure (network, timeout, server error): retry later.

    A subclass of :class:`SourceError` so ``except SourceError`` catches everything a
    source raises; callers that retry must test for this class first.
    """


@runtime_checkable
class ManifestSource(Protocol):
    """Read-only access to the library files of a manifests repository."""

    def resolve(self, branch: str) -> str:
        """Commit id (lower-case hex) that ``branch`` (``master``/``refs/heads/master``)
        points at now; :class:`SourceError` when it does not exist."""
        ...

    def list_manifests(self, commit: str) -> list[str]:
        """Sorted names of the regular, non-hidden files directly in the library
        directory at ``commit`` (no subdirectories, symlinks or submodules)."""
        ...

    def read(self, commit: str, names: Sequence[str]) -> dict[str, bytes]:
        """Contents of those ``names`` that are manifests at ``commit``; other names
        (missing, deleted, hidden, not regular files) are simply absent."""
        ...

    def read_pins(self, commit: str) -> dict[str, bytes] | None:
        """Every file of the ``.external-pins`` directory beside the library directory at
        ``commit``, ``{path under .external-pins/: content}`` (what
        :meth:`~manifest_validation.libraryfile.pins.ExternalPins.of_files` reads); None when
        there is no such directory at that commit."""
        ...

    def describe(self) -> str:
        """Where the manifests come from, for logs (never with credentials)."""
        ...


@runtime_checkable
class BlobIdSource(ManifestSource, Protocol):
    """A source that knows git's content ids of its files (the git sources, over HTTP or
    local): comparing two commits then needs no file contents, only the ids."""

    def blob_ids(self, commit: str) -> dict[str, str]:
        """``{name: blob id}`` of the manifests at ``commit`` (the names
        :meth:`ManifestSource.list_manifests` returns): a manifest's text is the same at
        two commits exactly when its ids are equal."""
        ...


def is_manifest_name(name: str) -> bool:
    """Whether a directory entry name can be a manifest.

    Hidden files (``.foo``, also ``.`` and ``..``) are never manifests, and names
    that are not valid UTF-8 are skipped because callers store and print them as
    text; git and the file system both allow such names, bashbrew never uses them.
    """
    if not name or name.startswith(".") or "/" in name or "\0" in name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes from the file system
        return False
    return True


def check_names(names: Sequence[str]) -> list[str]:
    """Unique names in call order; a bare string is refused (it would be read as
    one name per character)."""
    if isinstance(names, str):
        raise TypeError("names must be a sequence of file names, not a string")
    return list(dict.fromkeys(names))
