"""Manifests read from a local git repository's object database, with dulwich (no git binary).

Public API::

    with LocalGitManifestSource("path/to/official-images") as source:   # or a bare repo
        base, head = resolve_range(source, "master...pr")   # see .revisions
        ids = source.blob_ids(head)                         # {name: blob id}
        files = source.read(head, ["debian"])               # {name: bytes}

The path is a working clone (its top-level directory, with a ``.git`` directory, or the
``.git`` file of a ``git worktree``), a bare repository, or a ``.git`` directory itself.
Objects are read wherever dulwich finds them: loose, in packs, in alternates
(``objects/info/alternates``, as ``git clone --shared`` makes); refs loose or packed
(``packed-refs``), and pseudo-refs (``HEAD``, ``FETCH_HEAD``, ``ORIG_HEAD``) from the
worktree's own git directory.  The working tree and the index are never read: only
commits are, so uncommitted changes are not seen.

The library at a commit follows the same rules as the other sources: the regular files
directly in ``library/`` whose names :func:`~.base.is_manifest_name` accepts (no
subdirectories, symlinks or submodules).  :meth:`LocalGitManifestSource.resolve` takes any
single revision (``master``, ``HEAD~2``, ``v1.0^{commit}``, an abbreviated id; see
:mod:`.revisions`), a superset of the branch names the protocol asks for.

Errors are :class:`~.base.SourceError` with a sentence for the user: not a git repository,
an unknown revision, a commit or file content missing from the object database (a shallow
or partial clone), an object that does not decode.  Not supported: git's replace refs
(``refs/replace/``) are not applied, as if ``GIT_NO_REPLACE_OBJECTS`` were set, and the
reftable ref format only as far as dulwich reads it.
"""

from __future__ import annotations

import os
import stat
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

from dulwich.errors import (
    ApplyDeltaError,
    ChecksumMismatch,
    NotGitRepository,
    ObjectFormatException,
)
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.refs import Ref, SymrefLoop
from dulwich.repo import Repo, UnsupportedExtension, UnsupportedVersion

from ..libraryfile.pins import DIRECTORY as PINS_DIRECTORY
from ..libraryfile.pins import MAX_PIN_BYTES, MAX_PIN_DEPTH, MAX_PIN_FILES
from .base import SourceError, check_names, is_manifest_name
from .revisions import (
    MAX_TAG_DEPTH,
    CommitInfo,
    MissingObject,
    NotACommit,
    resolve_commit,
)

__all__ = ["LocalGitManifestSource", "find_git_repository"]

_PSEUDO_REF_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def find_git_repository(path: str | os.PathLike[str]) -> str | None:
    """What ``path`` is: ``"worktree"`` (a working clone or a ``git worktree``: it has a
    ``.git`` directory or file), ``"bare"`` (a bare repository or a ``.git`` directory:
    ``HEAD``, ``objects/`` and ``refs/`` in it), or None."""
    root = Path(path)
    dot_git = root / ".git"
    if dot_git.is_file() or (dot_git / "objects").is_dir():
        return "worktree"
    if (root / "HEAD").is_file() and (root / "objects").is_dir() and (root / "refs").is_dir():
        return "bare"
    return None


def _enclosing_repository(path: Path) -> Path | None:
    """The top of a working clone that contains ``path`` (for a hint only)."""
    for parent in path.resolve().parents:
        if find_git_repository(parent) is not None:
            # inside a working clone's .git directory: the clone is what to give
            if parent.name == ".git" and find_git_repository(parent.parent) == "worktree":
                return parent.parent
            return parent
    return None


class LocalGitManifestSource:
    """The library files of a local git repository, at any commit of its history.

    Read-only and thread-safe (calls are serialised by a lock).  The object database is
    opened once; refs are read afresh on every resolution, so a ``git fetch`` between two
    calls is seen.  Keep an instance per task and :meth:`close` it (or use ``with``): it
    holds the pack files open."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        library_dir: str = "library",
        listing_cache_size: int = 64,
    ) -> None:
        self.path = Path(path)
        parts = [part for part in library_dir.split("/") if part]
        if not parts or any(part in (".", "..") for part in parts):
            raise ValueError(f"library_dir {library_dir!r} is not a relative directory path")
        self.library_path = tuple(parts)
        self._repo = _open(self.path)
        self._listings: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._listing_cache_size = listing_cache_size
        self._lock = threading.RLock()

    def describe(self) -> str:
        return os.path.abspath(self.path)

    def close(self) -> None:
        with self._lock:
            self._repo.close()

    def __enter__(self) -> LocalGitManifestSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the ManifestSource API ------------------------------------------------------

    def resolve(self, branch: str) -> str:
        """The commit any single revision names (a branch, tag, ``HEAD~2``, an id...)."""
        return resolve_commit(self.history(), branch)

    def list_manifests(self, commit: str) -> list[str]:
        return sorted(self.blob_ids(commit))

    def read(self, commit: str, names: Sequence[str]) -> dict[str, bytes]:
        unique = check_names(names)
        with self._lock:
            listing = self._listing(commit)
            found: dict[str, bytes] = {}
            for name in unique:
                oid = listing.get(name)
                if oid is None:
                    continue
                blob = self._object(oid, f"{'/'.join(self.library_path)}/{name} at {commit}")
                if not isinstance(blob, Blob):
                    raise SourceError(f"{self.describe()}: object {oid} is not a file")
                found[name] = blob.as_raw_string()
            return found

    def read_pins(self, commit: str) -> dict[str, bytes] | None:
        """The files of ``.external-pins/`` beside the library directory at ``commit`` (None:
        no such directory), however deep, within the same bounds as the HTTP source."""
        oid = self._check_commit(commit)
        with self._lock:
            top = self._object(oid, f"commit {oid}")
            if not isinstance(top, Commit):
                raise SourceError(f"{oid} is a {_kind(top)}, not a commit, in {self.describe()}")
            tree = self._object(top.tree.decode("ascii"), f"the tree of commit {oid}")
            path = (*self.library_path[:-1], PINS_DIRECTORY)
            for part in path:
                entry = _entry(tree, part) if isinstance(tree, Tree) else None
                if entry is None or not stat.S_ISDIR(entry[0]):
                    return None
                tree = self._object(entry[1], f"directory {part} of commit {oid}")
            found: dict[str, bytes] = {}
            pending: list[tuple[str, ShaFile, int]] = [("", tree, 0)]
            while pending:
                prefix, current, depth = pending.pop()
                if not isinstance(current, Tree):
                    raise SourceError(f"{self.describe()}: a tree of commit {oid} is not a tree")
                for item in current.iteritems():
                    try:
                        name = prefix + item.path.decode("utf-8")
                    except UnicodeDecodeError:
                        continue  # no image reference has such a name
                    sha = item.sha.decode("ascii")
                    if stat.S_ISDIR(item.mode) and depth < MAX_PIN_DEPTH:
                        pending.append((name + "/", self._object(sha, name), depth + 1))
                    elif stat.S_ISREG(item.mode):
                        blob = self._object(sha, f"{PINS_DIRECTORY}/{name} at {oid}")
                        if not isinstance(blob, Blob):
                            raise SourceError(f"{self.describe()}: object {sha} is not a file")
                        found[name] = blob.as_raw_string()[: MAX_PIN_BYTES + 1]
                        if len(found) > MAX_PIN_FILES:
                            raise SourceError(
                                f"{self.describe()} has more than {MAX_PIN_FILES} files in "
                                f"{'/'.join(path)} at {oid[:12]}"
                            )
            return dict(sorted(found.items()))

    def blob_ids(self, commit: str) -> dict[str, str]:
        """``{name: blob id}`` of the manifests at ``commit``: two commits hold the same text
        of a manifest exactly when its ids are equal (as for the HTTP source)."""
        with self._lock:
            return dict(self._listing(commit))

    def tree(self, commit: str, directory: str = "") -> dict[str, tuple[str, str]]:
        """``{name: (kind, id)}`` of what is directly in ``directory`` (``""``: the top) at
        ``commit``: kind ``"file"`` (a regular file, its blob id) or ``"dir"`` (its tree id);
        symbolic links, submodules and names that are not UTF-8 are left out.  Empty when
        ``directory`` is not a directory there (a docker-library/docs checkout's folders,
        compared between two commits by their tree ids)."""
        parts = [part for part in directory.split("/") if part]
        if any(part in (".", "..") for part in parts):
            raise ValueError(f"directory {directory!r} is not a relative directory path")
        with self._lock:
            oid = self._check_commit(commit)
            top = self._object(oid, f"commit {oid}")
            if not isinstance(top, Commit):
                raise SourceError(f"{oid} is a {_kind(top)}, not a commit, in {self.describe()}")
            tree = self._object(top.tree.decode("ascii"), f"the tree of commit {oid}")
            for part in parts:
                entry = _entry(tree, part) if isinstance(tree, Tree) else None
                if entry is None or not stat.S_ISDIR(entry[0]):
                    return {}
                tree = self._object(entry[1], f"directory {part} of commit {oid}")
            if not isinstance(tree, Tree):
                raise SourceError(f"{self.describe()}: a tree of commit {oid} is not a tree")
            found: dict[str, tuple[str, str]] = {}
            for item in tree.iteritems():
                try:
                    name = item.path.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if stat.S_ISREG(item.mode):
                    found[name] = ("file", item.sha.decode("ascii"))
                elif stat.S_ISDIR(item.mode):
                    found[name] = ("dir", item.sha.decode("ascii"))
            return found

    def blob(self, oid: str) -> bytes:
        """The content of the file whose blob id is ``oid`` (from :meth:`tree`)."""
        with self._lock:
            found = self._object(oid, f"file {oid}")
            if not isinstance(found, Blob):
                raise SourceError(f"{self.describe()}: object {oid} is not a file")
            return found.as_raw_string()

    def history(self) -> _LocalHistory:
        """The refs and commit graph as they are now, for :mod:`.revisions` (a new view
        per call: refs and the shallow boundary are read afresh)."""
        return _LocalHistory(self)

    # -- reading -------------------------------------------------------------------------

    @property
    def hex_length(self) -> int:
        return int(self._repo.object_format.hex_length)

    def _check_commit(self, commit: str) -> str:
        oid = commit.lower()
        if len(oid) != self.hex_length or any(c not in "0123456789abcdef" for c in oid):
            raise SourceError(f"{commit!r} is not a full commit id ({self.hex_length} hex digits)")
        return oid

    def _listing(self, commit: str) -> dict[str, str]:
        oid = self._check_commit(commit)
        cached = self._listings.get(oid)
        if cached is not None:
            self._listings.move_to_end(oid)
            return cached
        top = self._object(oid, f"commit {oid}")
        if not isinstance(top, Commit):
            raise SourceError(f"{oid} is a {_kind(top)}, not a commit, in {self.describe()}")
        listing = self._walk(oid, top)
        self._listings[oid] = listing
        while len(self._listings) > self._listing_cache_size:
            self._listings.popitem(last=False)
        return listing

    def _walk(self, commit: str, top: Commit) -> dict[str, str]:
        tree = self._object(top.tree.decode("ascii"), f"the tree of commit {commit}")
        for part in self.library_path:
            if not isinstance(tree, Tree):
                raise SourceError(f"{self.describe()}: a tree of commit {commit} is not a tree")
            entry = _entry(tree, part)
            if entry is None or not stat.S_ISDIR(entry[0]):
                return {}  # no library directory at this commit: no manifests
            tree = self._object(entry[1], f"directory {part} of commit {commit}")
        if not isinstance(tree, Tree):
            raise SourceError(f"{self.describe()}: a tree of commit {commit} is not a tree")
        listing: dict[str, str] = {}
        for item in tree.iteritems():
            try:
                name = item.path.decode("utf-8")
            except UnicodeDecodeError:
                continue  # see is_manifest_name: such names are never manifests
            # S_ISREG excludes symlinks (120000), submodules (160000) and trees.
            if stat.S_ISREG(item.mode) and is_manifest_name(name):
                listing[name] = item.sha.decode("ascii")
        return listing

    def _object(self, oid: str, what: str) -> ShaFile:
        """An object by hex id; :class:`MissingObject` (a :class:`SourceError`) naming
        ``what`` when the database lacks it."""
        try:
            return self._repo.object_store[ObjectID(oid.encode("ascii"))]
        except KeyError:
            raise MissingObject(
                oid,
                f"{what} is missing from {self.describe()} (object {oid}; a shallow or "
                "partial clone has not fetched it)",
            ) from None
        except (
            ApplyDeltaError,
            ChecksumMismatch,
            ObjectFormatException,
            zlib.error,
            ValueError,
        ) as exc:
            raise SourceError(f"object {oid} in {self.describe()} is corrupt: {exc}") from None
        except OSError as exc:
            raise SourceError(f"cannot read object {oid} in {self.describe()}: {exc}") from None


class _LocalHistory:
    """The :class:`~.revisions.RevisionStore` of a local repository."""

    def __init__(self, source: LocalGitManifestSource) -> None:
        self._source = source
        self._commits: dict[str, CommitInfo] = {}
        self._shallow_commits: set[bytes] | None = None

    @property
    def hex_length(self) -> int:
        return self._source.hex_length

    def describe(self) -> str:
        return self._source.describe()

    def refs(self, names: Sequence[str]) -> dict[str, str]:
        repo = self._source._repo
        found: dict[str, str] = {}
        with self._source._lock:
            for name in names:
                oid = self._ref(repo, name)
                if oid is not None:
                    found[name] = oid
        return found

    def _ref(self, repo: Repo, name: str) -> str | None:
        if name != "HEAD" and set(name) <= _PSEUDO_REF_CHARS:
            return self._pseudo_ref(repo, name)
        if name != "HEAD" and not name.startswith("refs/"):
            return None
        try:
            value = repo.refs[Ref(name.encode("utf-8"))]
        except KeyError:
            return None
        except SymrefLoop:
            raise SourceError(
                f"ref {name} in {self.describe()} is a loop of symbolic refs"
            ) from None
        except (ValueError, OSError) as exc:
            raise SourceError(f"cannot read ref {name} in {self.describe()}: {exc}") from None
        return self._oid_at_start(value)

    def _pseudo_ref(self, repo: Repo, name: str) -> str | None:
        """``$GIT_DIR/NAME`` (the worktree's own directory): an id at the start of the first
        line (FETCH_HEAD goes on with a tab and a description) or ``ref: refs/...``.
        dulwich's ref reader takes whole lines and refuses these names, so read here."""
        try:
            with open(os.path.join(repo.controldir(), name), "rb") as handle:
                line = handle.readline().rstrip(b"\r\n")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise SourceError(f"cannot read {name} in {self.describe()}: {exc}") from None
        if line.startswith(b"ref: "):
            target = line[5:].decode("utf-8", "replace").strip()
            return self._ref(repo, target) if target.startswith("refs/") else None
        return self._oid_at_start(line)

    def _oid_at_start(self, value: bytes) -> str | None:
        length = self.hex_length
        head = value[:length].decode("ascii", "replace").lower()
        rest = value[length : length + 1]
        if len(head) != length or any(c not in "0123456789abcdef" for c in head):
            return None
        return head if rest in (b"", b"\t", b" ", b"\n") else None

    def peel(self, oid: str) -> str:
        with self._source._lock:
            current = oid
            for _ in range(MAX_TAG_DEPTH):
                obj = self._source._object(current, f"object {current}")
                if isinstance(obj, Commit):
                    return current
                if not isinstance(obj, Tag):
                    raise NotACommit(current, _kind(obj))
                current = obj.object[1].decode("ascii")
            raise SourceError(f"tag {oid} in {self.describe()} is a chain of too many tags")

    def commit(self, oid: str) -> CommitInfo:
        info = self._commits.get(oid)
        if info is not None:
            return info
        with self._source._lock:
            obj = self._source._object(oid, f"commit {oid}")
            if not isinstance(obj, Commit):
                raise NotACommit(oid, _kind(obj))
            # A shallow clone's boundary commits have their parents cut off, as git
            # grafts them (git rev-parse treats them as roots).
            shallow = oid.encode("ascii") in self._shallow()
            parents = () if shallow else tuple(p.decode("ascii") for p in obj.parents)
            info = CommitInfo(parents, int(obj.commit_time), shallow)
        self._commits[oid] = info
        return info

    def _shallow(self) -> set[bytes]:
        if self._shallow_commits is None:
            try:
                self._shallow_commits = set(self._source._repo.get_shallow())
            except OSError as exc:
                raise SourceError(f"cannot read {self.describe()}: {exc}") from None
        return self._shallow_commits

    def abbreviations(self, prefix: str) -> list[str]:
        with self._source._lock:
            try:
                found = self._source._repo.object_store.iter_prefix(prefix.encode("ascii"))
                return sorted({oid.decode("ascii") for oid in found})
            except OSError as exc:
                raise SourceError(f"cannot list objects of {self.describe()}: {exc}") from None

    def object_kind(self, oid: str) -> str:
        with self._source._lock:
            return _kind(self._source._object(oid, f"object {oid}"))

    def prefetch(self, commits: Iterable[str]) -> None:
        """Everything is local: nothing to fetch."""


def _kind(obj: ShaFile) -> str:
    return str(obj.type_name.decode("ascii"))


def _entry(tree: Tree, name: str) -> tuple[int, str] | None:
    try:
        mode, sha = tree[name.encode("utf-8")]
    except KeyError:
        return None
    return mode, sha.decode("ascii")


def _open(path: Path) -> Repo:
    kind = find_git_repository(path) if path.is_dir() else None
    if kind is None:
        if not path.exists():
            raise SourceError(f"{path} does not exist")
        if not path.is_dir():
            raise SourceError(f"{path} is a file, not a git repository")
        top = _enclosing_repository(path)
        if top is not None:
            raise SourceError(
                f"{path} is inside the git repository at {top}, not its top: give {top}"
            )
        raise SourceError(
            f"{path} is not a git repository (no .git in it, and not a bare repository)"
        )
    try:
        return Repo(str(path))
    except NotGitRepository:
        raise SourceError(f"{path} is not a git repository") from None
    except (UnsupportedVersion, UnsupportedExtension) as exc:
        raise SourceError(
            f"cannot read the git repository {path}: it uses a format this tool does not "
            f"know ({exc})"
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        # a broken .git file, commondir or config
        raise SourceError(f"cannot open the git repository {path}: {exc}") from None
