"""Manifests from the local file system: a checkout, or a plain directory of files.

There is no git here, so :meth:`LocalManifestSource.resolve` invents a *pseudo
commit*: the SHA-1 of the sorted ``(name, sha256(content))`` listing.  It is stable
while the files are unchanged and changes with any edit, addition or removal, so
jobs can carry it exactly like a real commit id.  With ``verify_commit`` (the
default) a read at a pseudo commit that no longer matches the directory is refused
with :class:`SourceError` instead of silently returning other content than the id
promises.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from ..libraryfile.pins import beside_library, read_pin_files
from .base import SourceError, check_names, is_manifest_name

__all__ = ["LocalManifestSource"]

_Key = tuple[str, tuple[tuple[str, int, int, int, int], ...]]


class LocalManifestSource:
    """Reads library files from ``root_dir/library_dir``, or from ``root_dir`` itself
    when it has no such subdirectory (a plain directory of library files)."""

    def __init__(
        self,
        root_dir: str | os.PathLike[str],
        *,
        library_dir: str = "library",
        verify_commit: bool = True,
    ) -> None:
        self.root = Path(root_dir)
        self.library_dir = library_dir.strip("/")
        self.verify_commit = verify_commit
        # (path, stat signature) -> contents and pseudo commit of the last snapshot
        self._cached: tuple[_Key, dict[str, bytes], str] | None = None
        self._lock = threading.Lock()

    @property
    def library_path(self) -> Path:
        """Decided on every call: a checkout may gain its ``library/`` later."""
        candidate = self.root / self.library_dir
        # A symlinked library directory is followed: the operator chose the path.
        return candidate if self.library_dir and candidate.is_dir() else self.root

    def describe(self) -> str:
        return str(self.library_path.resolve())

    def resolve(self, branch: str) -> str:
        """The pseudo commit of the directory as it is now (``branch`` is ignored:
        a directory has exactly one state)."""
        return self._snapshot()[1]

    def list_manifests(self, commit: str) -> list[str]:
        return sorted(self._snapshot_at(commit))

    def read(self, commit: str, names: Sequence[str]) -> dict[str, bytes]:
        files = self._snapshot_at(commit)
        return {name: files[name] for name in check_names(names) if name in files}

    @property
    def pins_path(self) -> Path:
        """`.external-pins` beside the library directory (an official-images checkout)."""
        return beside_library(self.library_path.absolute())

    def read_pins(self, commit: str) -> dict[str, bytes] | None:
        """The files of `.external-pins` beside the library directory, as they are now: the
        pseudo commit covers the manifests only, so a pin edited since `resolve` is read as
        edited (a directory has one state)."""
        self._snapshot_at(commit)  # the same refusal as `read` for a stale pseudo commit
        directory = self.pins_path
        if not directory.is_dir():
            return None
        try:
            return read_pin_files(directory)
        except OSError as exc:
            raise SourceError(f"cannot read {directory}: {exc.strerror or exc}") from None

    # ------------------------------------------------------------------------------

    def _snapshot_at(self, commit: str) -> dict[str, bytes]:
        files, current = self._snapshot()
        if self.verify_commit and commit.lower() != current:
            raise SourceError(
                f"{self.describe()} no longer matches pseudo commit {commit} "
                "(its files changed); resolve again"
            )
        return files

    def _snapshot(self) -> tuple[dict[str, bytes], str]:
        """Every manifest with its content, and the pseudo commit of that state.

        The contents are reused while every manifest's stat signature (inode, size,
        mtime and ctime in ns) is unchanged: a re-validation reads each of ~150
        files through its own call, and re-reading and hashing the whole directory
        every time would make that quadratic.  ctime cannot be set back by a writer,
        so only a same-size rewrite within one timestamp tick could go unnoticed.
        """
        path = self.library_path
        try:
            entries = list(os.scandir(path))
        except FileNotFoundError:
            raise SourceError(f"library directory {path} does not exist") from None
        except OSError as exc:
            raise SourceError(f"cannot list library directory {path}: {exc.strerror}") from None
        manifests: list[os.DirEntry[str]] = []
        signature: list[tuple[str, int, int, int, int]] = []
        for entry in entries:
            try:
                # follow_symlinks=False: a symlink is not a manifest, as in the git
                # source (and it could point outside the library directory).
                if not is_manifest_name(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed since the listing: it is simply not there any more
            manifests.append(entry)
            signature.append(
                (entry.name, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
            )
        key = (str(path), tuple(sorted(signature)))
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1], self._cached[2]
        files: dict[str, bytes] = {}
        for entry in manifests:
            try:
                with open(entry.path, "rb") as handle:
                    files[entry.name] = handle.read()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SourceError(f"cannot read {entry.path}: {exc.strerror}") from None
        current = pseudo_commit(files)
        with self._lock:
            self._cached = (key, files, current)
        return files, current


def pseudo_commit(files: dict[str, bytes]) -> str:
    """SHA-1 (40 hex, like a commit id) of the sorted ``(name, sha256)`` listing."""
    digest = hashlib.sha1(usedforsecurity=False)
    for name in sorted(files):
        content_hash = hashlib.sha256(files[name]).hexdigest()
        digest.update(name.encode("utf-8") + b"\0" + content_hash.encode("ascii") + b"\n")
    return digest.hexdigest()
