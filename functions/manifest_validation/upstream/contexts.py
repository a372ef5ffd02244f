"""Build contexts at commits: bashbrew's reproducible checksum and SOURCE_DATE_EPOCH.

docker-library/meta-scripts' ``sources.json`` carries, per source, the
``reproducibleGitChecksum`` bashbrew computes (``ArchGitChecksum``) and the
``SOURCE_DATE_EPOCH`` it builds with (``ArchGitTime``).  bashbrew reads both from a git
clone; here they come from the objects :mod:`.files` fetches anyway (the commit with
all its trees in one request, the wanted blobs by id in another), so a build context
costs its own blobs and nothing else, and shares the requests of the Dockerfile reads
of the same repository and commits (:meth:`GitVerifier.read`).

What bashbrew computes (its ``pkg/gitfs``, ``pkg/tarscrub``, ``cmd/bashbrew/tar.go``):

* The context is ``fs.Sub`` of the commit's tree at ``Directory``: ``"."`` is the
  whole tree; a path must be a valid ``io/fs`` path (no ``.``/``..``/empty parts, not
  rooted); every component but the last must be a directory; a last component that
  is a symbolic link is followed (relative targets only, resolved from the link's
  directory, never above the repository's top), and the result must be a directory.
* The checksum is the sha256 of the tar stream ``tarscrub.WriteTar`` writes for it
  (see :mod:`.tarstream` for the bytes): ``fs.WalkDir`` order (depth first, the
  context's own root not written, each directory's entries sorted by name as bytes),
  directories ``name/`` with mode 0775, files 0664 or 0775 by their executable bit,
  symbolic links 0777 with the link's text as link name and size 0.
* A submodule (gitlink) anywhere in the context, or an entry of any other mode
  (e.g. the legacy ``100664``), makes bashbrew fail: its git filesystem cannot stat
  the first and ``tar.FileInfoHeader`` refuses the second.  So does an empty symbolic
  link, and a link name Go's tar writer cannot encode.
* ``SOURCE_DATE_EPOCH`` is the later of the commit's author and committer times, in
  Unix seconds (``gitfs.CommitTime``).

Per request a byte bound (the total size of the context's files and link texts)
protects the caller: a context above it gets ``TOO_LARGE`` with its size, and is not
hashed.  Blob sizes are not known before their download (trees carry none, and git
applies no filter to blobs wanted by id), so the bound also caps what is downloaded
for a context when it has to be fetched on its own (see :mod:`.files`).
"""

from __future__ import annotations

import hashlib
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from dulwich.objects import S_ISGITLINK, Tree

from .tarstream import (
    TYPE_DIR,
    TYPE_REG,
    TYPE_SYMLINK,
    TarEntry,
    Unarchivable,
    entry_header,
    go_path_clean,
    padding,
)

__all__ = [
    "DEFAULT_CONTEXT_MAX_BYTES",
    "ContextRequest",
    "ContextResult",
    "ContextStatus",
    "source_id",
]

DEFAULT_CONTEXT_MAX_BYTES = 64 * 1024 * 1024
# Linux gives up after 40 links in one lookup (ELOOP); bashbrew recurses until its
# stack overflows, which is a failure too.
MAX_LINK_HOPS = 40
_HEX_OID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REGULAR = 0o100644
_EXECUTABLE = 0o100755
_SYMLINK = 0o120000


def source_id(checksum: str, file: str, builder: str) -> str:
    """meta-scripts' ``sourceId``: sha256 (hex) of the checksum, File and Builder, each
    followed by a newline (``join "\\n" $sum $file $builder "" | sha256sum``)."""
    return hashlib.sha256(f"{checksum}\n{file}\n{builder}\n".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """The build context ``directory`` (the entry's cleaned Directory; ``"."`` for the
    top) at ``commit`` (full hex id) of repository ``repo`` (the GitRepo, verbatim).

    ``max_bytes`` bounds the total size of the context's files (and link texts): a
    bigger context is ``TOO_LARGE``, and no more than about that much is downloaded
    for it when it is fetched alone."""

    repo: str
    commit: str
    directory: str = "."
    max_bytes: int = DEFAULT_CONTEXT_MAX_BYTES


class ContextStatus(StrEnum):
    """What became of one :class:`ContextRequest`.

    ``COMMIT_MISSING``, ``DIRECTORY_MISSING``, ``SUBMODULE`` and ``UNSUPPORTED`` are
    facts about the repository (bashbrew fails on each of them); ``TOO_LARGE`` is this
    caller's bound; ``FORBIDDEN`` is this service's URL policy; ``UNREACHABLE`` means
    "could not find out" and must never be reported as a defect of the manifest.
    """

    OK = "ok"
    COMMIT_MISSING = "commit-missing"
    DIRECTORY_MISSING = "directory-missing"
    SUBMODULE = "submodule"
    UNSUPPORTED = "unsupported"
    TOO_LARGE = "too-large"
    FORBIDDEN = "forbidden"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class ContextResult:
    """``checksum`` (sha256 hex, bashbrew's ``reproducibleGitChecksum``) for ``OK``
    only.  ``source_date_epoch`` whenever the commit was read, whatever the context.
    ``size`` is the total bytes of the context's files and link texts when known
    (``OK``; ``TOO_LARGE`` unless the download was stopped at the bound, see
    ``detail``), ``files`` the number of entries written (directories included).
    ``path`` names the offending path (from the repository's top) for
    ``DIRECTORY_MISSING``, ``SUBMODULE`` and ``UNSUPPORTED``.  ``detail`` is one
    sentence for humans."""

    status: ContextStatus
    checksum: str | None = None
    source_date_epoch: int | None = None
    detail: str = ""
    size: int | None = None
    entries: int | None = None
    path: str | None = None


# -- planning: what a context needs, from trees alone -----------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    """One entry of the context in walk order: its tar name (without a directory's
    trailing slash), its git mode, and its object id."""

    name: bytes
    mode: int
    oid: str


@dataclass(frozen=True, slots=True)
class Summary:
    """What is known of a context tree (by id, so valid in every commit holding it):
    its size always, its checksum once computed."""

    size: int
    entries: int
    checksum: str | None


@dataclass
class ContextPlan:
    """One request on its way: decided (``result``), waiting for a tree or for a
    symbolic link's text, or ready (``tree`` walked into ``items`` needing ``blobs``)."""

    request: ContextRequest
    commit: str
    epoch: int | None = None
    result: ContextResult | None = None
    needs_tree: bool = False
    needs_blob: str | None = None
    directory: str = ""  # where the context resolved to (after symbolic links)
    tree: str | None = None
    items: list[_Item] = field(default_factory=list)
    blobs: set[str] = field(default_factory=set)


TreeLookup = Callable[[str], Tree | None]
BlobLookup = Callable[[str], bytes | None]


class SummaryCache:
    """Context summaries by tree id, LRU-bounded by count, thread-safe."""

    def __init__(self, max_items: int = 50_000) -> None:
        self._max = max_items
        self._data: OrderedDict[str, Summary] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tree: str) -> Summary | None:
        with self._lock:
            summary = self._data.get(tree)
            if summary is not None:
                self._data.move_to_end(tree)
            return summary

    def put(self, tree: str, summary: Summary) -> None:
        with self._lock:
            known = self._data.get(tree)
            if known is not None and known.checksum is not None:
                return
            self._data[tree] = summary
            self._data.move_to_end(tree)
            while len(self._data) > self._max:
                self._data.popitem(last=False)


def check_request(request: ContextRequest) -> ContextResult | None:
    """A verdict on a request that cannot name a context, before any lookup."""
    if not _HEX_OID.match(request.commit.lower()):
        return ContextResult(
            ContextStatus.COMMIT_MISSING, detail=f"{request.commit!r} is not a full commit id."
        )
    if not _valid_fs_path(request.directory):
        return ContextResult(
            ContextStatus.DIRECTORY_MISSING,
            detail=f"{request.directory!r} is not a directory path inside the repository.",
            path=request.directory,
        )
    return None


def plan_context(
    plan: ContextPlan,
    root: str,
    trees: TreeLookup,
    blobs: BlobLookup,
    summaries: SummaryCache,
) -> None:
    """Advance ``plan`` as far as the objects at hand allow (``root``: the commit's
    tree).  Leaves ``needs_tree``/``needs_blob`` set when an object is missing."""
    plan.needs_tree = False
    plan.needs_blob = None
    found = _resolve(plan, root, trees, blobs)
    if found is None:
        return
    plan.tree = found
    summary = summaries.get(found)
    if summary is not None and (summary.checksum is not None or summary.size > _bound(plan)):
        plan.result = _from_summary(plan, summary)
        return
    items: list[_Item] = []
    if not _walk(plan, found, trees, items):
        return
    plan.items = items
    plan.blobs = {item.oid for item in items if not stat.S_ISDIR(item.mode)}


def finish_context(plan: ContextPlan, blobs: BlobLookup, summaries: SummaryCache) -> None:
    """Decide a ready plan from its blobs (all must be at hand): bound, then checksum."""
    if plan.result is not None:
        return
    assert plan.tree is not None
    contents: dict[str, bytes] = {}
    for oid in plan.blobs:
        data = blobs(oid)
        if data is None:
            raise LookupError(oid)
        contents[oid] = data
    size = sum(len(contents[item.oid]) for item in plan.items if item.oid in contents)
    summary = Summary(size=size, entries=len(plan.items), checksum=None)
    if size <= _bound(plan):
        digest = hashlib.sha256()
        try:
            for item in plan.items:
                _write(digest.update, item, contents)
        except _Unsupported as exc:
            where = _repo_path(plan, exc.path)
            plan.result = _problem(plan, ContextStatus.UNSUPPORTED, where, str(exc))
            return
        summary = Summary(size=size, entries=len(plan.items), checksum=digest.hexdigest())
    summaries.put(plan.tree, summary)
    plan.result = _from_summary(plan, summary)


def too_large_unmeasured(plan: ContextPlan, downloaded: int) -> None:
    """The download of this context alone went past its bound: too large, size unknown."""
    bound = _bound(plan)
    plan.result = ContextResult(
        ContextStatus.TOO_LARGE,
        source_date_epoch=plan.epoch,
        detail=f"The build context {_where(plan)} holds more than the bound of {bound} bytes "
        f"(its download was stopped after {downloaded} bytes).",
    )


def download_cap(plan: ContextPlan) -> int:
    """The most a pack of this context's blobs may take while its files stay within the
    bound: zlib may grow incompressible data by about 0.03%, each object adds a few
    bytes of header, the side-band framing 5 bytes per 64 KiB."""
    bound = _bound(plan)
    return bound + bound // 512 + 64 * len(plan.blobs) + 64 * 1024


# -- walking -----------------------------------------------------------------------------


class _Unsupported(Unarchivable):
    def __init__(self, message: str, path: bytes) -> None:
        super().__init__(message)
        self.path = path


def _resolve(plan: ContextPlan, root: str, trees: TreeLookup, blobs: BlobLookup) -> str | None:
    """bashbrew's ``gitFS.Sub(directory)``: the context's tree id, or None with the
    plan decided or waiting."""
    target = plan.request.directory.encode("utf-8")
    for _ in range(MAX_LINK_HOPS):
        if target == b".":
            plan.directory = "."
            return root
        oid = root
        parts = target.split(b"/")
        for index, part in enumerate(parts):
            tree = trees(oid)
            if tree is None:
                plan.needs_tree = True
                return None
            here = b"/".join(parts[:index]) or b"the top directory"
            so_far = b"/".join(parts[: index + 1])
            try:
                mode, child = tree[part]
            except KeyError:
                _missing(plan, so_far, f"{_text(here)} has no {_text(part)!r}")
                return None
            oid = child.decode("ascii")
            last = index == len(parts) - 1
            if S_ISGITLINK(mode):
                plan.result = _problem(
                    plan, ContextStatus.SUBMODULE, so_far, f"{_text(so_far)} is a submodule"
                )
                return None
            if stat.S_ISDIR(mode):
                continue
            if not last:
                kind = "symbolic link" if mode == _SYMLINK else "file"
                _missing(plan, so_far, f"{_text(so_far)} is a {kind}, not a directory")
                return None
            if mode != _SYMLINK:
                _missing(plan, so_far, f"{_text(so_far)} is a file, not a directory")
                return None
            text = blobs(oid)
            if text is None:
                plan.needs_blob = oid
                return None
            if not text:
                plan.result = _problem(
                    plan,
                    ContextStatus.UNSUPPORTED,
                    so_far,
                    f"{_text(so_far)} is an empty symbolic link",
                )
                return None
            if text.startswith(b"/"):
                plan.result = _problem(
                    plan,
                    ContextStatus.UNSUPPORTED,
                    so_far,
                    f"{_text(so_far)} is an absolute symbolic link ({_text(text)})",
                )
                return None
            parent = so_far.rpartition(b"/")[0]
            resolved = go_path_clean(parent + b"/" + text if parent else text)
            if resolved.startswith(b"../") or resolved == b"..":
                plan.result = _problem(
                    plan,
                    ContextStatus.UNSUPPORTED,
                    so_far,
                    f"{_text(so_far)} is a symbolic link out of the repository ({_text(text)})",
                )
                return None
            target = resolved
            break
        else:
            plan.directory = _text(target)
            return oid
    plan.result = _problem(
        plan,
        ContextStatus.UNSUPPORTED,
        target,
        f"more than {MAX_LINK_HOPS} symbolic links lead to {_text(target)}",
    )
    return None


def _walk(plan: ContextPlan, top: str, trees: TreeLookup, out: list[_Item]) -> bool:
    """``fs.WalkDir`` over the context: entries depth first, each directory's sorted by
    name as bytes.  False with the plan decided or waiting for a tree.  (A stack, not
    recursion: a hostile repository may nest trees deeper than Python recurses.)"""
    first = _listing(plan, top, b"", trees)
    if first is None:
        return False
    stack: list[Iterator[_Item]] = [iter(first)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        out.append(item)
        if stat.S_ISDIR(item.mode):
            listed = _listing(plan, item.oid, item.name + b"/", trees)
            if listed is None:
                return False
            stack.append(iter(listed))
    return True


def _listing(plan: ContextPlan, oid: str, prefix: bytes, trees: TreeLookup) -> list[_Item] | None:
    """One directory's entries sorted by name as bytes, or None with the plan decided
    (an entry bashbrew cannot archive) or waiting for the tree."""
    tree = trees(oid)
    if tree is None:
        plan.needs_tree = True
        return None
    listed: list[_Item] = []
    for entry in sorted(tree.iteritems(), key=lambda entry: entry.path):
        name = prefix + entry.path
        mode = entry.mode
        where = _repo_path(plan, name)
        if S_ISGITLINK(mode):
            plan.result = _problem(
                plan, ContextStatus.SUBMODULE, where, f"{_text(where)} is a submodule"
            )
            return None
        if not (stat.S_ISDIR(mode) or mode in (_REGULAR, _EXECUTABLE, _SYMLINK)):
            plan.result = _problem(
                plan,
                ContextStatus.UNSUPPORTED,
                where,
                f"{_text(where)} has git mode {mode:o}, which bashbrew cannot archive",
            )
            return None
        listed.append(_Item(name, mode, entry.sha.decode("ascii")))
    return listed


def _write(update: Callable[[bytes], object], item: _Item, contents: dict[str, bytes]) -> None:
    """What ``tarscrub.WriteTar`` writes for one entry: its header, then a file's data
    padded to a block (a symbolic link's text is its link name, it has no data)."""
    if stat.S_ISDIR(item.mode):
        update(entry_header(TarEntry(item.name + b"/", TYPE_DIR, 0o775)))
        return
    data = contents[item.oid]
    try:
        if item.mode == _SYMLINK:
            if not data:
                # bashbrew writes the header, then (no link name) opens the link to copy
                # its data, which follows it and fails on the empty target.
                raise Unarchivable("an empty symbolic link")
            update(entry_header(TarEntry(item.name, TYPE_SYMLINK, 0o777, 0, data)))
            return
        mode = 0o775 if item.mode == _EXECUTABLE else 0o664
        update(entry_header(TarEntry(item.name, TYPE_REG, mode, len(data))))
    except Unarchivable as exc:
        raise _Unsupported(f"{_text(item.name)}: {exc}", item.name) from None
    update(data)
    update(padding(len(data)))


# -- results -----------------------------------------------------------------------------


def _bound(plan: ContextPlan) -> int:
    return max(0, plan.request.max_bytes)


def _from_summary(plan: ContextPlan, summary: Summary) -> ContextResult:
    where = _where(plan)
    if summary.size > _bound(plan) or summary.checksum is None:
        return ContextResult(
            ContextStatus.TOO_LARGE,
            source_date_epoch=plan.epoch,
            detail=f"The build context {where} holds {summary.size} bytes, more than the "
            f"bound of {_bound(plan)} bytes.",
            size=summary.size,
            entries=summary.entries,
        )
    return ContextResult(
        ContextStatus.OK,
        checksum=summary.checksum,
        source_date_epoch=plan.epoch,
        detail=f"The build context {where}: {summary.entries} entries, {summary.size} bytes.",
        size=summary.size,
        entries=summary.entries,
    )


def _missing(plan: ContextPlan, path: bytes, why: str) -> None:
    request = plan.request
    plan.result = ContextResult(
        ContextStatus.DIRECTORY_MISSING,
        source_date_epoch=plan.epoch,
        detail=f"{request.directory} is not a directory at commit {request.commit}: {why}.",
        path=_text(path),
    )


def _problem(plan: ContextPlan, status: ContextStatus, path: bytes, why: str) -> ContextResult:
    if status is ContextStatus.DIRECTORY_MISSING:
        _missing(plan, path, why)
        assert plan.result is not None
        return plan.result
    return ContextResult(
        status,
        source_date_epoch=plan.epoch,
        detail=f"The build context {_where(plan)} cannot be archived as bashbrew does: {why}.",
        path=_text(path),
    )


def _where(plan: ContextPlan) -> str:
    request = plan.request
    resolved = f" (via {plan.directory})" if plan.directory not in ("", request.directory) else ""
    return f"{request.directory}{resolved} at {request.commit}"


def _repo_path(plan: ContextPlan, name: bytes) -> bytes:
    base = plan.directory.encode("utf-8") if plan.directory else b"."
    return name if base == b"." else base + b"/" + name


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _valid_fs_path(path: str) -> bool:
    """Go's ``fs.ValidPath``: ``"."`` or unrooted parts, none empty, ``.`` or ``..``."""
    if path == ".":
        return True
    parts = path.split("/")
    return bool(path) and "\0" not in path and all(p not in ("", ".", "..") for p in parts)
