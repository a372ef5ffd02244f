"""One entry point from what a user typed to a manifests repository with history.

Public API::

    with open_manifests_repository(location, policy=policy, credentials=tokens) as source:
        notes: list[str] = []
        base, head = resolve_range(source, "master...pr", warnings=notes)
        summary = changes_between_commits(source, base, head)   # diff.git

``location`` is:

* a URL (``scheme://...``): :class:`~.git.GitManifestSource` over smart HTTP, under the URL
  ``policy`` (https only unless the host is one of its ``insecure_hosts``) with
  ``credentials`` (see :class:`~.git.GitManifestSource`);
* ``file:///path`` or a path of a directory that is a git repository -- a working clone
  (its top-level directory), a ``git worktree``, a bare repository, or a ``.git``
  directory: :class:`~.local_git.LocalGitManifestSource`, read from the object database;
* anything else: :class:`~.base.SourceError` saying what it is instead (missing, a plain
  directory, a directory inside a clone, an SSH location, a URL the policy refuses).

``allow_local=False`` refuses local repositories (paths and ``file:`` URLs) with a
:class:`~.base.SourceError`: a door that takes the location from a remote caller must pass
it, or that caller could read any repository on the machine.  The command line, whose user
already has the files, keeps the default.

The returned object is a :class:`ManifestRepository`: a
:class:`~.base.ManifestSource` with ``blob_ids`` (for
:func:`~manifest_validation.diff.git.changes_between_commits`), ``history`` (for
:func:`~.revisions.resolve_range`) and ``close``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from ..upstream.policy import UrlPolicy
from .base import BlobIdSource, SourceError
from .git import GitManifestSource
from .local_git import LocalGitManifestSource
from .revisions import HistorySource, RevisionStore

__all__ = ["ManifestRepository", "open_manifests_repository"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# git's scp-like syntax: [user@]host:path, with no slash before the colon
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?[^/:]+:")


@runtime_checkable
class ManifestRepository(BlobIdSource, HistorySource, Protocol):
    """A manifests repository with git history: what :func:`open_manifests_repository`
    returns (a context manager: ``close`` releases connections or files)."""

    def history(self) -> RevisionStore: ...

    def close(self) -> None: ...

    def __enter__(self) -> ManifestRepository: ...

    def __exit__(self, *exc: object) -> None: ...


def open_manifests_repository(
    location: str | os.PathLike[str],
    *,
    policy: UrlPolicy | None = None,
    credentials: str | Mapping[str, str] | None = None,
    library_dir: str = "library",
    allow_local: bool = True,
) -> ManifestRepository:
    """The manifests repository at ``location`` (a URL or a local git repository); see the
    module docstring.  Raises :class:`~.base.SourceError` with a sentence for the user."""
    text = os.fspath(location)
    if isinstance(location, str) and _URL.match(text):
        if text[: text.index(":")].lower() == "file":
            return _local(_file_url_path(text), library_dir, allow_local, text)
        return GitManifestSource(
            text, policy=policy, credentials=credentials, library_dir=library_dir
        )
    path = Path(text)
    if not path.exists() and _SCP_LIKE.match(text):
        raise SourceError(
            f"{text!r} is an SSH location, which is not supported: give the https:// URL "
            "of the repository, or the path of a local clone"
        )
    return _local(path, library_dir, allow_local, text)


def _local(path: Path, library_dir: str, allow_local: bool, text: str) -> ManifestRepository:
    if not allow_local:
        raise SourceError(f"{text!r}: local repositories are not allowed here; give a URL")
    return LocalGitManifestSource(path, library_dir=library_dir)


def _file_url_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise SourceError(f"{url!r}: a file: URL must name a path on this machine")
    if parts.query or parts.fragment:
        raise SourceError(f"{url!r}: a file: URL must not have a query or fragment")
    return Path(unquote(parts.path))
