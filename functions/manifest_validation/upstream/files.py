"""Read files (Dockerfiles) out of upstream repositories at given commits, cheaply.

A full clone, or even ``git fetch --depth 1``, downloads every file of a commit to
read one Dockerfile.  Git's smart protocol lets us ask for much less; per repository
of one :meth:`FileReader.read` call (protocol v2 or v0, see :mod:`.protocol`):

1. the capability advertisement, unless the verifier read it recently (it rarely
   changes, and no refs are needed here, so it is reused for a few minutes);
2. ONE fetch of every wanted commit of that repository with ``deepen 1`` and
   ``filter blob:none``: the commits and all their trees, no file contents;
3. ONE fetch naming every wanted blob (of all those commits) by id.

So at most three requests per repository however many manifests, entries,
architectures and commits point into it.  Skipping the deeper trees too would need
``combine:blob:none+tree:<depth>`` (``tree:<depth>`` alone keeps the shallow blobs),
which GitHub refuses ("filter 'combine' not supported") and git servers may cap
(``uploadpackfilter.tree.maxDepth``); a refused filter costs a round trip.
``blob:none`` is what every partial-clone server serves, and trees are small next to
the blobs of a snapshot (benchmarks/bench_dockerfiles.py).

Fallbacks, each still bounded by the run's caps:

* A server without filter support (``uploadpack.allowFilter`` off: no ``filter`` in the
  v2 ``fetch`` capability or among the v0 capabilities; sending one anyway gets an
  empty answer) gets the same fetch without the filter, a depth-1 snapshot holding the
  blobs too, so step 3 is not needed.
* A commit the server refuses (``not our ref <oid>``: it does not have it) is
  ``COMMIT_MISSING`` and the fetch is repeated without it.
* A server refusing blob wants gets the depth-1 snapshot of the commits instead.

Commits' root trees (per repository: a commit existing in one repository says
nothing about another), trees and blobs are cached by id for the life of the reader;
objects are immutable and dulwich recomputes every id from the content it decodes, so
a cached object can never be wrong.  Network trouble is ``UNREACHABLE``, never
``MISSING``: only a tree actually received can prove that a path is absent.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import re
import stat
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from dulwich.objects import S_ISGITLINK, Blob, Commit, ShaFile, Tree

from .pktline import NotOurRef, ServerError
from .policy import ForbiddenUrl, RepoLocation, ResolutionFailed, UrlPolicy
from .protocol import UpstreamRepo, _Advertisement, refused_oid
from .transport import RunLimits, Transport, UpstreamUnavailable

__all__ = ["FileReader", "FileRequest", "FileResult", "FileStatus"]

log = logging.getLogger(__name__)

_HEX_OID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_OID_LENGTH = {"sha1": 40, "sha256": 64}
# Capabilities (and, after a redirect, the final location) of a repository are reused
# for this long: long enough for one validation run, short enough to notice a server
# reconfiguration (e.g. filter support switched off) within minutes.
ADVERTISEMENT_TTL_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class FileRequest:
    """One file to read: ``path`` (clean, relative, ``/``-separated) at ``commit``
    (full hex id) in repository ``repo`` (the manifest's GitRepo, verbatim)."""

    repo: str
    commit: str
    path: str


class FileStatus(StrEnum):
    """What became of one :class:`FileRequest`.

    ``MISSING`` and ``COMMIT_MISSING`` are facts about the repository;
    ``FORBIDDEN`` is a fact about this service's URL policy; ``UNREACHABLE`` means
    "could not find out" and must never be reported as a defect of the manifest.
    """

    FOUND = "found"
    MISSING = "missing"
    COMMIT_MISSING = "commit-missing"
    FORBIDDEN = "forbidden"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class FileResult:
    """``content`` is the blob's bytes for ``FOUND`` (else ``None``); ``detail`` is
    one sentence for humans (which path component is absent, the network error).

    For ``MISSING``, ``missing_part`` is the 0-based index (in ``path.split("/")``) of
    the first component that is absent or not what the path needs there (a file where
    a directory is needed, a directory, link or submodule where the file is), so a
    caller can tell a wrong directory from a wrong file name without reading
    ``detail``; ``None`` when the path itself is refused.  ``missing_reason`` is that
    finding alone (``"3.12 has no 'trixie'"``), for messages."""

    status: FileStatus
    content: bytes | None = None
    detail: str = ""
    missing_part: int | None = None
    missing_reason: str = ""


class _ObjectCache:
    """Immutable git objects by id, LRU-bounded by (approximate) bytes, thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._data: OrderedDict[str, tuple[ShaFile, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, oid: str) -> ShaFile | None:
        with self._lock:
            item = self._data.get(oid)
            if item is None:
                return None
            self._data.move_to_end(oid)
            return item[0]

    def put(self, oid: str, obj: ShaFile) -> None:
        size = obj.raw_length() + 64  # + bookkeeping, so empty trees are not free
        with self._lock:
            if oid in self._data or size > self._max:
                return
            self._data[oid] = (obj, size)
            self._bytes += size
            while self._bytes > self._max:
                _, (_, evicted) = self._data.popitem(last=False)
                self._bytes -= evicted


@dataclass
class _Walk:
    """Where following one path got: a blob id, a verdict, or a missing tree."""

    blob: str | None = None
    verdict: FileResult | None = None
    needs_tree: bool = False


class FileReader:
    """Reads files for :meth:`GitVerifier.read_files` with the verifier's session.

    The verifier owns one reader; it shares the verifier's transport (connections,
    credentials, retries, counters) and URL policy, and applies the same caps per
    :meth:`read` call as ``verify()`` does per call.
    """

    def __init__(
        self,
        policy: UrlPolicy,
        transport: Transport,
        *,
        max_workers: int,
        budget_seconds: float,
        max_requests: int,
        max_response_bytes: int,
        cache_bytes: int = 64 * 1024 * 1024,
        max_commits: int = 10_000,
    ) -> None:
        self._policy = policy
        self._transport = transport
        self._max_workers = max(1, max_workers)
        self._budget_seconds = budget_seconds
        self._max_requests = max_requests
        self._max_response_bytes = max_response_bytes
        self._objects = _ObjectCache(cache_bytes)
        self._roots: OrderedDict[tuple[str, str], str] = OrderedDict()  # (repo, commit) -> tree
        self._max_commits = max_commits
        self._adverts: dict[str, tuple[float, RepoLocation, _Advertisement]] = {}
        self._lock = threading.Lock()

    # -- what the verifier tells us ----------------------------------------------------

    def remember(self, display: str, repo: UpstreamRepo) -> None:
        """Keep ``repo``'s advertisement (read by ``verify()``) for later reads."""
        adv = repo._adv
        if adv is not None:
            with self._lock:
                self._adverts[display] = (time.monotonic(), repo.location, adv)

    def _known(self, display: str) -> tuple[RepoLocation, _Advertisement] | None:
        with self._lock:
            item = self._adverts.get(display)
            if item is None:
                return None
            if time.monotonic() - item[0] > ADVERTISEMENT_TTL_SECONDS:
                del self._adverts[display]
                return None
            return item[1], item[2]

    def _forget(self, display: str) -> None:
        with self._lock:
            self._adverts.pop(display, None)

    # -- reading -----------------------------------------------------------------------

    def read(self, requests: Iterable[FileRequest]) -> dict[FileRequest, FileResult]:
        """A result for every request; repositories are read in parallel."""
        unique = list(dict.fromkeys(requests))
        limits = RunLimits(
            budget_seconds=self._budget_seconds,
            max_requests=self._max_requests,
            max_response_bytes=self._max_response_bytes,
        )
        results: dict[FileRequest, FileResult] = {}
        by_repo: dict[str, list[FileRequest]] = defaultdict(list)
        for request in unique:
            by_repo[request.repo].append(request)
        jobs: dict[str, tuple[RepoLocation, list[FileRequest]]] = {}
        for repo_url, repo_requests in by_repo.items():
            try:
                location = self._policy.parse(repo_url)
            except ForbiddenUrl as exc:
                # The URL itself is not echoed: it may carry a password.
                verdict = FileResult(FileStatus.FORBIDDEN, detail=f"Repository URL refused: {exc}.")
                results.update(dict.fromkeys(repo_requests, verdict))
                continue
            jobs[repo_url] = (location, repo_requests)
        pool = cf.ThreadPoolExecutor(self._max_workers, thread_name_prefix="git-files")
        try:
            futures = {
                pool.submit(self._read_repo, limits, location, repo_requests): repo_requests
                for location, repo_requests in jobs.values()
            }
            done, _ = cf.wait(futures, timeout=max(0.0, limits.remaining()))
            for future, repo_requests in futures.items():
                if future in done and future.exception() is None:
                    results.update(future.result())
                    continue
                error = future.exception() if future in done else None
                if error is not None:
                    # A bug must not turn into a verdict on the manifest; log it loudly.
                    log.error("reading files failed", exc_info=error)
                reason = (
                    "the time budget for reading files ran out"
                    if error is None
                    else f"internal error ({type(error).__name__})"
                )
                for request in repo_requests:
                    results.setdefault(request, _unreachable(jobs[request.repo][0], reason))
        finally:
            # Stragglers stop at their next request or chunk: they share ``limits``.
            pool.shutdown(wait=False, cancel_futures=True)
        return {request: results[request] for request in unique}

    def _read_repo(
        self, limits: RunLimits, location: RepoLocation, requests: list[FileRequest]
    ) -> dict[FileRequest, FileResult]:
        results: dict[FileRequest, FileResult] = {}
        display = location.display
        pending: list[FileRequest] = []
        for request in requests:
            commit = request.commit.lower()
            if not _HEX_OID.match(commit):
                results[request] = FileResult(
                    FileStatus.COMMIT_MISSING,
                    detail=f"{request.commit!r} is not a full commit id.",
                )
            elif not _is_clean(request.path):
                results[request] = FileResult(
                    FileStatus.MISSING,
                    detail=f"{request.path!r} is not a relative path inside the repository.",
                    missing_reason="not a relative path inside the repository",
                )
            else:
                pending.append(request)

        # From the caches alone, when an earlier read already saw these commits.
        blobs: dict[FileRequest, str] = {}
        unwalked: list[FileRequest] = []
        for request in pending:
            walk = self._walk(display, request, {})
            if walk.verdict is not None:
                results[request] = walk.verdict
            elif walk.blob is not None:
                blobs[request] = walk.blob
            else:
                unwalked.append(request)
        contents: dict[str, bytes] = {}
        for oid in set(blobs.values()):
            cached = self._objects.get(oid)
            if isinstance(cached, Blob):
                contents[oid] = cached.as_raw_string()
        if not unwalked and all(oid in contents for oid in blobs.values()):
            results.update(_found(blobs, contents))
            return results

        known = self._known(display)
        try:
            address = self._policy.resolve(location if known is None else known[0])
            repo = UpstreamRepo(
                self._transport,
                limits,
                location if known is None else known[0],
                address,
                self._policy.check,
                advertisement=None if known is None else known[1],
            )
            fetched = self._fetch_trees(repo, display, unwalked, results)
            for request in unwalked:
                if request in results:
                    continue
                walk = self._walk(display, request, fetched)
                if walk.verdict is not None:
                    results[request] = walk.verdict
                elif walk.blob is not None:
                    blobs[request] = walk.blob
                else:
                    results[request] = _unreachable(
                        location, "the server sent an incomplete pack (a tree is missing)"
                    )
            for oid in set(blobs.values()):
                obj = fetched.get(oid)
                if oid not in contents and isinstance(obj, Blob):
                    contents[oid] = obj.as_raw_string()
                    self._objects.put(oid, obj)
            wanted = {oid for oid in blobs.values() if oid not in contents}
            if wanted:
                contents.update(self._fetch_blobs(repo, display, blobs, wanted))
            results.update(_found(blobs, contents))
            if known is None:
                self.remember(display, repo)
        except ForbiddenUrl as exc:  # a redirect to a refused URL
            self._forget(display)
            verdict = FileResult(FileStatus.FORBIDDEN, detail=f"Repository URL refused: {exc}.")
            for request in requests:
                results.setdefault(request, verdict)
        except (UpstreamUnavailable, ResolutionFailed, ServerError) as exc:
            # A stale reused advertisement could be the cause: read it afresh next time.
            self._forget(display)
            reason = _server_error(exc) if isinstance(exc, ServerError) else str(exc)
            have = {request: oid for request, oid in blobs.items() if oid in contents}
            for request, result in _found(have, contents).items():
                results.setdefault(request, result)
            for request in requests:
                results.setdefault(request, _unreachable(location, reason))
        return results

    # -- the two fetches ---------------------------------------------------------------

    def _fetch_trees(
        self,
        repo: UpstreamRepo,
        display: str,
        requests: list[FileRequest],
        results: dict[FileRequest, FileResult],
    ) -> dict[str, ShaFile]:
        """ONE fetch of every commit ``requests`` need (their commits and trees;
        with blobs too when the server cannot filter).  Commits the server refuses
        get ``COMMIT_MISSING`` in ``results``; the others' root trees are cached."""
        if not requests:
            return {}
        expected = _OID_LENGTH.get(repo.object_format, 40)
        commits: dict[str, list[FileRequest]] = defaultdict(list)
        for request in requests:
            commit = request.commit.lower()
            if len(commit) != expected:
                results[request] = FileResult(
                    FileStatus.COMMIT_MISSING,
                    detail=f"{request.commit} is not a {repo.object_format} object id "
                    f"({expected} hex digits) as {display} uses.",
                )
            else:
                commits[commit].append(request)
        # Without filter support, the same fetch unfiltered: a depth-1 snapshot that
        # also carries every blob, so no blob request follows (bounded by the size cap).
        filter_spec = "blob:none" if repo.supports_filter else None
        # Every git server supports shallow fetches; without, the whole history would
        # come (still bounded by the size cap).
        deepen = 1 if repo.supports_shallow else None
        wants = sorted(commits)
        while wants:
            try:
                objects = repo.fetch_pack(wants, filter_spec=filter_spec, deepen=deepen)
                break
            except NotOurRef as exc:
                # The whole fetch fails on the first object the server does not have
                # (git names it): that commit is missing; ask again without it.
                oid = refused_oid(exc)
                if oid not in wants:
                    if len(wants) > 1:
                        raise UpstreamUnavailable(f"{display} refused a fetch: {exc}") from None
                    oid = wants[0]
                wants.remove(oid)
                # A v0 server also refuses a commit no ref reaches (it checks
                # reachability of wanted commits); v2 serves any object it has.
                why = "" if repo.protocol_version == 2 else " (or no ref reaches it)"
                for request in commits.pop(oid):
                    results[request] = FileResult(
                        FileStatus.COMMIT_MISSING,
                        detail=f"Commit {request.commit} does not exist in {display}{why}.",
                    )
        else:
            return {}
        for commit in wants:
            top = objects.get(commit)
            if not isinstance(top, Commit):
                kind = type(top).__name__.lower() if top is not None else "nothing"
                for request in commits.pop(commit):
                    results[request] = FileResult(
                        FileStatus.COMMIT_MISSING,
                        detail=f"{request.commit} is not a commit in {display} (it names "
                        f"a {kind}).",
                    )
                continue
            self._remember_root(display, commit, top.tree.decode("ascii"))
        for oid, obj in objects.items():
            if isinstance(obj, Tree):
                self._objects.put(oid, obj)
        return objects

    def _fetch_blobs(
        self,
        repo: UpstreamRepo,
        display: str,
        blobs: Mapping[FileRequest, str],
        wanted: set[str],
    ) -> dict[str, bytes]:
        """ONE fetch naming every wanted blob by id; if the server refuses blob wants,
        ONE depth-1 snapshot of the commits holding them instead."""
        try:
            objects = repo.fetch_pack(sorted(wanted))
        except NotOurRef:
            # git itself serves any blob it has, in v2 and over stateless HTTP v0 alike
            # (see tests/upstream/test_files_facts.py); other servers may not.
            commits = sorted({r.commit.lower() for r, oid in blobs.items() if oid in wanted})
            deepen = 1 if repo.supports_shallow else None
            try:
                objects = repo.fetch_pack(commits, deepen=deepen)
            except NotOurRef as exc:
                raise UpstreamUnavailable(f"{display} refused to send files: {exc}") from None
        found: dict[str, bytes] = {}
        for oid in wanted:
            blob = objects.get(oid)
            if not isinstance(blob, Blob):
                raise UpstreamUnavailable(f"{display} did not send blob {oid}")
            found[oid] = blob.as_raw_string()
            self._objects.put(oid, blob)
        return found

    # -- path walking ------------------------------------------------------------------

    def _remember_root(self, display: str, commit: str, tree: str) -> None:
        with self._lock:
            self._roots[(display, commit)] = tree
            self._roots.move_to_end((display, commit))
            while len(self._roots) > self._max_commits:
                self._roots.popitem(last=False)

    def _root(self, display: str, commit: str) -> str | None:
        with self._lock:
            return self._roots.get((display, commit))

    def _walk(self, display: str, request: FileRequest, fetched: Mapping[str, ShaFile]) -> _Walk:
        """Follow ``request.path`` tree entry by tree entry from the commit's root."""
        commit = request.commit.lower()
        oid = self._root(display, commit)
        if oid is None:
            return _Walk(needs_tree=True)
        parts = request.path.split("/")
        for index, part in enumerate(parts):
            tree = fetched.get(oid) or self._objects.get(oid)
            if not isinstance(tree, Tree):
                return _Walk(needs_tree=True)
            here = "/".join(parts[:index]) or "the top directory"
            try:
                mode, child = tree[part.encode("utf-8")]
            except KeyError:
                return _missing(f"{here} has no {part!r}", index, request)
            oid = child.decode("ascii")
            last = index == len(parts) - 1
            so_far = "/".join(parts[: index + 1])
            if S_ISGITLINK(mode):
                return _missing(f"{so_far} is a submodule", index, request)
            if stat.S_ISLNK(mode):
                # Reading the path at the commit (``git show commit:path``, as a git
                # cache does) yields the link's text, not its target's content; a
                # symlinked Dockerfile (or directory) is not buildable from that either
                # way, so the path does not name a Dockerfile.
                return _missing(f"{so_far} is a symbolic link", index, request)
            if stat.S_ISDIR(mode):
                if last:
                    return _missing(f"{so_far} is a directory", index, request)
                continue
            if not last:
                return _missing(f"{so_far} is a file, not a directory", index, request)
            if not stat.S_ISREG(mode):
                return _missing(f"{so_far} is not a regular file", index, request)
            return _Walk(blob=oid)
        raise AssertionError("unreachable: a path has at least one part")


def _is_clean(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and all(part not in ("", ".", "..") for part in parts) and "\0" not in path


def _missing(what: str, part: int, request: FileRequest) -> _Walk:
    return _Walk(
        verdict=FileResult(
            FileStatus.MISSING,
            detail=f"{request.path} does not exist at commit {request.commit}: {what}.",
            missing_part=part,
            missing_reason=what,
        )
    )


def _found(
    blobs: Mapping[FileRequest, str], contents: Mapping[str, bytes]
) -> dict[FileRequest, FileResult]:
    return {
        request: FileResult(
            FileStatus.FOUND, contents[oid], detail=f"Read {request.path} at {request.commit}."
        )
        for request, oid in blobs.items()
    }


def _server_error(exc: ServerError) -> str:
    return f"the server reported an error: {str(exc)[:200]}"


def _unreachable(location: RepoLocation, reason: str) -> FileResult:
    text = f"Could not read files from {location.display}: {reason}".rstrip(".") + "."
    return FileResult(FileStatus.UNREACHABLE, detail=text)
