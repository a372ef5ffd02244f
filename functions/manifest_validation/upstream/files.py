"""Read files (Dockerfiles) and build contexts out of upstream repositories at given
commits, cheaply.

A full clone, or even ``git fetch --depth 1``, downloads every file of a commit to
read one Dockerfile or one build context.  Git's smart protocol lets us ask for much
less; per repository of one :meth:`FileReader.read_all` call (protocol v2 or v0, see
:mod:`.protocol`), for its files and its contexts together:

1. the capability advertisement, unless the verifier read it recently (it rarely
   changes, and no refs are needed here, so it is reused for a few minutes);
2. ONE fetch of every wanted commit of that repository with ``deepen 1`` and
   ``filter blob:none``: the commits and all their trees, no file contents (the trees
   of every context, and each commit's times for SOURCE_DATE_EPOCH, come with it);
3. ONE fetch naming every wanted blob (of all those commits) by id: the files', and
   those of every context not known already (see :mod:`.contexts`).

A context whose Directory is a symbolic link costs one more request per link
followed (its text is needed before the context's blobs are known).  Blob sizes are
not known before they arrive, so when contexts are involved step 3 is capped, and past
the cap it is done again in parts: the files' blobs alone, then each context's alone,
capped by its own bound (``ContextRequest.max_bytes``), so that one huge context is
reported as too large without costing the others their answers.

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

Commits' root trees and times (per repository: a commit existing in one repository
says nothing about another), trees, blobs and contexts' checksums (by the context's
tree id) are cached for the life of the reader;
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
from dataclasses import dataclass, field
from enum import StrEnum

from dulwich.objects import S_ISGITLINK, Blob, Commit, ShaFile, Tree

from .contexts import (
    MAX_LINK_HOPS,
    ContextPlan,
    ContextRequest,
    ContextResult,
    ContextStatus,
    SummaryCache,
    check_request,
    download_cap,
    finish_context,
    plan_context,
    too_large_unmeasured,
)
from .pktline import NotOurRef, ServerError
from .policy import ForbiddenUrl, RepoLocation, ResolutionFailed, UrlPolicy
from .protocol import UpstreamRepo, _Advertisement, refused_oid
from .transport import ResponseTooLarge, RunLimits, Transport, UpstreamUnavailable

__all__ = ["FileReader", "FileRequest", "FileResult", "FileStatus", "Reading"]

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


@dataclass(frozen=True, slots=True)
class Reading:
    """What one :meth:`GitVerifier.read` call found: a result per file and per build
    context asked for (duplicates once), in the order first asked."""

    files: dict[FileRequest, FileResult]
    contexts: dict[ContextRequest, ContextResult]


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


@dataclass
class _RepoWork:
    """What one read asks of one repository."""

    files: list[FileRequest] = field(default_factory=list)
    contexts: list[ContextRequest] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _CommitInfo:
    """What a commit tells us: its root tree and bashbrew's SOURCE_DATE_EPOCH."""

    tree: str
    epoch: int


@dataclass(frozen=True, slots=True)
class _Absent:
    """Why a commit is not there, as a sentence around the commit as written."""

    before: str
    after: str

    def sentence(self, commit: str) -> str:
        return f"{self.before}{commit}{self.after}"


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
        # (repo, commit) -> root tree and SOURCE_DATE_EPOCH
        self._roots: OrderedDict[tuple[str, str], _CommitInfo] = OrderedDict()
        self._summaries = SummaryCache()
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
        return self.read_all(requests, ())[0]

    def read_all(
        self, files: Iterable[FileRequest], contexts: Iterable[ContextRequest]
    ) -> tuple[dict[FileRequest, FileResult], dict[ContextRequest, ContextResult]]:
        """Results for every file and every build context; per repository ONE job
        serves both, so they share the advertisement, the trees fetch (every commit any
        of them names) and the blobs fetch (the files' and the contexts' blobs)."""
        unique_files = list(dict.fromkeys(files))
        unique_contexts = list(dict.fromkeys(contexts))
        limits = RunLimits(
            budget_seconds=self._budget_seconds,
            max_requests=self._max_requests,
            max_response_bytes=self._max_response_bytes,
        )
        file_results: dict[FileRequest, FileResult] = {}
        context_results: dict[ContextRequest, ContextResult] = {}
        by_repo: dict[str, _RepoWork] = defaultdict(_RepoWork)
        for request in unique_files:
            by_repo[request.repo].files.append(request)
        for context in unique_contexts:
            by_repo[context.repo].contexts.append(context)
        jobs: dict[str, tuple[RepoLocation, _RepoWork]] = {}
        for repo_url, work in by_repo.items():
            try:
                location = self._policy.parse(repo_url)
            except ForbiddenUrl as exc:
                # The URL itself is not echoed: it may carry a password.
                why = f"Repository URL refused: {exc}."
                refused = FileResult(FileStatus.FORBIDDEN, detail=why)
                file_results.update(dict.fromkeys(work.files, refused))
                context_refused = ContextResult(ContextStatus.FORBIDDEN, detail=why)
                context_results.update(dict.fromkeys(work.contexts, context_refused))
                continue
            jobs[repo_url] = (location, work)
        pool = cf.ThreadPoolExecutor(self._max_workers, thread_name_prefix="git-files")
        try:
            futures = {
                pool.submit(self._read_repo, limits, location, work): (location, work)
                for location, work in jobs.values()
            }
            done, _ = cf.wait(futures, timeout=max(0.0, limits.remaining()))
            for future, (location, work) in futures.items():
                if future in done and future.exception() is None:
                    got_files, got_contexts = future.result()
                    file_results.update(got_files)
                    context_results.update(got_contexts)
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
                for request in work.files:
                    file_results.setdefault(request, _unreachable(location, reason))
                for context in work.contexts:
                    context_results.setdefault(context, _context_unreachable(location, reason))
        finally:
            # Stragglers stop at their next request or chunk: they share ``limits``.
            pool.shutdown(wait=False, cancel_futures=True)
        return (
            {request: file_results[request] for request in unique_files},
            {context: context_results[context] for context in unique_contexts},
        )

    def _read_repo(
        self, limits: RunLimits, location: RepoLocation, work: _RepoWork
    ) -> tuple[dict[FileRequest, FileResult], dict[ContextRequest, ContextResult]]:
        display = location.display
        read = _Read(self, location)
        for request in work.files:
            commit = request.commit.lower()
            if not _HEX_OID.match(commit):
                read.file_results[request] = FileResult(
                    FileStatus.COMMIT_MISSING,
                    detail=f"{request.commit!r} is not a full commit id.",
                )
            elif not _is_clean(request.path):
                read.file_results[request] = FileResult(
                    FileStatus.MISSING,
                    detail=f"{request.path!r} is not a relative path inside the repository.",
                    missing_reason="not a relative path inside the repository",
                )
            else:
                read.unwalked.append(request)
        for context in work.contexts:
            verdict = check_request(context)
            if verdict is not None:
                read.context_results[context] = verdict
            else:
                read.plans.append(ContextPlan(context, context.commit.lower()))

        # From the caches alone, when an earlier read already saw these commits.
        read.advance()
        read.finish()
        if read.settled():
            return read.outcome()

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
            commits = {request.commit.lower() for request in read.unwalked}
            commits |= {plan.commit for plan in read.open_plans() if plan.needs_tree}
            if commits:
                objects, absent = self._fetch_trees(repo, display, commits)
                read.fetched.update(objects)
                read.drop_absent(absent)
                read.advance()
                read.give_up_on_trees("the server sent an incomplete pack (a tree is missing)")
            # A Directory that is a symbolic link: its text first (one round per link
            # followed; bashbrew follows links only there, never inside the context).
            for _ in range(MAX_LINK_HOPS):
                links = {plan.needs_blob for plan in read.open_plans() if plan.needs_blob}
                if not links:
                    break
                read.contents.update(
                    self._fetch_blobs(repo, display, links, read.commits_of(links))
                )
                read.advance()
            self._fetch_wanted_blobs(repo, display, read)
            read.finish()
            if known is None:
                self.remember(display, repo)
        except ForbiddenUrl as exc:  # a redirect to a refused URL
            self._forget(display)
            why = f"Repository URL refused: {exc}."
            for request in work.files:
                read.file_results.setdefault(request, FileResult(FileStatus.FORBIDDEN, detail=why))
            for context in work.contexts:
                read.context_results.setdefault(
                    context, ContextResult(ContextStatus.FORBIDDEN, detail=why)
                )
        except (UpstreamUnavailable, ResolutionFailed, ServerError) as exc:
            # A stale reused advertisement could be the cause: read it afresh next time.
            self._forget(display)
            reason = _server_error(exc) if isinstance(exc, ServerError) else str(exc)
            read.finish()  # whatever is at hand is still an answer
            return read.outcome(reason)
        return read.outcome()

    # -- the fetches -------------------------------------------------------------------

    def _fetch_trees(
        self, repo: UpstreamRepo, display: str, commits: Iterable[str]
    ) -> tuple[dict[str, ShaFile], dict[str, _Absent]]:
        """ONE fetch of ``commits`` (their commits and trees; with blobs too when the
        server cannot filter).  Returns the objects and, for every commit that is not
        there, a sentence about it (given the commit as the caller wrote it); the
        others' root trees and times are cached."""
        absent: dict[str, _Absent] = {}
        expected = _OID_LENGTH.get(repo.object_format, 40)
        wants: list[str] = []
        for commit in sorted(set(commits)):
            if len(commit) != expected:
                absent[commit] = _Absent(
                    "",
                    f" is not a {repo.object_format} object id ({expected} hex digits) as "
                    f"{display} uses.",
                )
            else:
                wants.append(commit)
        if not wants:
            return {}, absent
        # Without filter support, the same fetch unfiltered: a depth-1 snapshot that
        # also carries every blob, so no blob request follows (bounded by the size cap).
        filter_spec = "blob:none" if repo.supports_filter else None
        # Every git server supports shallow fetches; without, the whole history would
        # come (still bounded by the size cap).
        deepen = 1 if repo.supports_shallow else None
        # A v0 server also refuses a commit no ref reaches (it checks reachability of
        # wanted commits); v2 serves any object it has.
        why = "" if repo.protocol_version == 2 else " (or no ref reaches it)"
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
                absent[oid] = _Absent("Commit ", f" does not exist in {display}{why}.")
        else:
            return {}, absent
        for commit in wants:
            top = objects.get(commit)
            if not isinstance(top, Commit):
                kind = type(top).__name__.lower() if top is not None else "nothing"
                absent[commit] = _Absent("", f" is not a commit in {display} (it names a {kind}).")
                continue
            # bashbrew's SOURCE_DATE_EPOCH (gitfs.CommitTime): the later of the two.
            epoch = max(top.author_time, top.commit_time)
            self._remember_commit(display, commit, _CommitInfo(top.tree.decode("ascii"), epoch))
        for oid, obj in objects.items():
            if isinstance(obj, Tree):
                self._objects.put(oid, obj)
        return objects, absent

    def _fetch_blobs(
        self,
        repo: UpstreamRepo,
        display: str,
        wanted: set[str],
        commits: Iterable[str],
        *,
        max_response_bytes: int | None = None,
    ) -> dict[str, bytes]:
        """ONE fetch naming every wanted blob by id; if the server refuses blob wants,
        ONE depth-1 snapshot of ``commits`` (those holding them) instead."""
        try:
            objects = repo.fetch_pack(sorted(wanted), max_response_bytes=max_response_bytes)
        except NotOurRef:
            # git itself serves any blob it has, in v2 and over stateless HTTP v0 alike
            # (see tests/upstream/test_files_facts.py); other servers may not.
            deepen = 1 if repo.supports_shallow else None
            try:
                objects = repo.fetch_pack(sorted(set(commits)), deepen=deepen)
            except NotOurRef as exc:
                raise UpstreamUnavailable(f"{display} refused to send files: {exc}") from None
            except ResponseTooLarge as exc:
                # Not a size of the wanted blobs (a whole snapshot): nothing to conclude.
                raise UpstreamUnavailable(
                    f"{display} refuses blobs wanted by id, and the snapshot instead is too "
                    f"large ({exc})"
                ) from None
        found: dict[str, bytes] = {}
        for oid in wanted:
            blob = objects.get(oid)
            if not isinstance(blob, Blob):
                raise UpstreamUnavailable(f"{display} did not send blob {oid}")
            found[oid] = blob.as_raw_string()
            self._objects.put(oid, blob)
        return found

    def _fetch_wanted_blobs(self, repo: UpstreamRepo, display: str, read: _Read) -> None:
        """The files' and the contexts' blobs in ONE fetch.  Blob sizes are unknown
        until they arrive, so that fetch is capped: at the run's cap when files need
        blobs, else at what the contexts' bounds allow.  Past the cap, the files' blobs
        are fetched alone and each context's alone, capped by its own bound: a context
        whose download goes past it is too large, and the others still get answers."""
        file_wanted = {oid for oid in read.file_blobs.values() if read.blob(oid) is None}
        needing = [
            plan for plan in read.open_plans() if any(read.blob(oid) is None for oid in plan.blobs)
        ]
        context_wanted = {oid for plan in needing for oid in plan.blobs if read.blob(oid) is None}
        wanted = file_wanted | context_wanted
        if not wanted:
            return
        cap = None
        if not file_wanted:
            cap = min(self._max_response_bytes, sum(download_cap(plan) for plan in needing))
        try:
            read.contents.update(
                self._fetch_blobs(
                    repo, display, wanted, read.commits_of(wanted), max_response_bytes=cap
                )
            )
            return
        except ResponseTooLarge:
            if not needing:
                raise
        if len(needing) == 1 and not file_wanted and cap == download_cap(needing[0]):
            too_large_unmeasured(needing[0], download_cap(needing[0]))
            return
        log.info("blobs of %s past the cap: fetching each build context alone", display)
        if file_wanted:
            read.contents.update(
                self._fetch_blobs(repo, display, file_wanted, read.commits_of(file_wanted))
            )
        for plan in sorted(needing, key=lambda plan: (plan.commit, plan.request.directory)):
            missing = {oid for oid in plan.blobs if read.blob(oid) is None}
            if not missing:
                continue
            try:
                read.contents.update(
                    self._fetch_blobs(
                        repo,
                        display,
                        missing,
                        [plan.commit],
                        max_response_bytes=download_cap(plan),
                    )
                )
            except ResponseTooLarge as exc:
                too_large_unmeasured(plan, exc.limit)
            else:
                finish_context(plan, read.blob, self._summaries)
            # Contexts this big are why we are here: hold one at a time in memory.
            read.release(plan)

    # -- path walking ------------------------------------------------------------------

    def _remember_commit(self, display: str, commit: str, info: _CommitInfo) -> None:
        with self._lock:
            self._roots[(display, commit)] = info
            self._roots.move_to_end((display, commit))
            while len(self._roots) > self._max_commits:
                self._roots.popitem(last=False)

    def _commit_info(self, display: str, commit: str) -> _CommitInfo | None:
        with self._lock:
            return self._roots.get((display, commit))

    def _walk(self, display: str, request: FileRequest, fetched: Mapping[str, ShaFile]) -> _Walk:
        """Follow ``request.path`` tree entry by tree entry from the commit's root."""
        info = self._commit_info(display, request.commit.lower())
        if info is None:
            return _Walk(needs_tree=True)
        oid = info.tree
        parts = request.path.split("/")
        for index, part in enumerate(parts):
            tree = fetched.get(oid)
            if tree is None:  # (an empty tree is falsy: no ``or`` here)
                tree = self._objects.get(oid)
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


def _context_unreachable(
    location: RepoLocation, reason: str, epoch: int | None = None
) -> ContextResult:
    text = f"Could not read the build context from {location.display}: {reason}".rstrip(".")
    return ContextResult(ContextStatus.UNREACHABLE, source_date_epoch=epoch, detail=text + ".")


class _Read:
    """One repository's share of one read: what is pending, what has arrived (objects
    of this read's fetches, blob contents) and what is decided."""

    def __init__(self, reader: FileReader, location: RepoLocation) -> None:
        self._reader = reader
        self._location = location
        self.display = location.display
        self.file_results: dict[FileRequest, FileResult] = {}
        self.context_results: dict[ContextRequest, ContextResult] = {}
        self.unwalked: list[FileRequest] = []
        self.file_blobs: dict[FileRequest, str] = {}
        self.plans: list[ContextPlan] = []
        self.fetched: dict[str, ShaFile] = {}
        self.contents: dict[str, bytes] = {}

    # -- objects at hand ---------------------------------------------------------------

    def tree(self, oid: str) -> Tree | None:
        obj = self.fetched.get(oid)
        if obj is None:
            obj = self._reader._objects.get(oid)
        return obj if isinstance(obj, Tree) else None

    def blob(self, oid: str) -> bytes | None:
        data = self.contents.get(oid)
        if data is not None:
            return data
        obj = self.fetched.get(oid)
        if obj is None:
            obj = self._reader._objects.get(oid)
        if not isinstance(obj, Blob):
            return None
        data = obj.as_raw_string()
        self.contents[oid] = data
        if oid not in self.fetched:
            return data
        self._reader._objects.put(oid, obj)  # a blob of a snapshot (no filter support)
        return data

    def commits_of(self, oids: set[str]) -> set[str]:
        """Commits whose requests need one of ``oids`` (for the snapshot fallback)."""
        commits = {r.commit.lower() for r, oid in self.file_blobs.items() if oid in oids}
        for plan in self.plans:
            if plan.needs_blob in oids or not plan.blobs.isdisjoint(oids):
                commits.add(plan.commit)
        return commits

    def release(self, plan: ContextPlan) -> None:
        """Forget the contents of a decided context's blobs that nothing pending needs
        (the object cache may still hold them)."""
        keep = set(self.file_blobs.values())
        for other in self.open_plans():
            keep |= other.blobs
        for oid in plan.blobs - keep:
            self.contents.pop(oid, None)

    # -- progress ----------------------------------------------------------------------

    def open_plans(self) -> list[ContextPlan]:
        return [plan for plan in self.plans if plan.result is None]

    def advance(self) -> None:
        """Walk every pending file and context as far as the objects at hand allow."""
        still: list[FileRequest] = []
        for request in self.unwalked:
            walk = self._reader._walk(self.display, request, self.fetched)
            if walk.verdict is not None:
                self.file_results[request] = walk.verdict
            elif walk.blob is not None:
                self.file_blobs[request] = walk.blob
            else:
                still.append(request)
        self.unwalked = still
        for plan in self.open_plans():
            info = self._reader._commit_info(self.display, plan.commit)
            if info is None:
                plan.needs_tree = True
                continue
            plan.epoch = info.epoch
            plan_context(plan, info.tree, self.tree, self.blob, self._reader._summaries)

    def drop_absent(self, absent: Mapping[str, _Absent]) -> None:
        """Commits the trees fetch did not bring: their requests are COMMIT_MISSING."""
        still: list[FileRequest] = []
        for request in self.unwalked:
            why = absent.get(request.commit.lower())
            if why is None:
                still.append(request)
            else:
                self.file_results[request] = FileResult(
                    FileStatus.COMMIT_MISSING, detail=why.sentence(request.commit)
                )
        self.unwalked = still
        for plan in self.open_plans():
            why = absent.get(plan.commit)
            if why is not None:
                plan.result = ContextResult(
                    ContextStatus.COMMIT_MISSING, detail=why.sentence(plan.request.commit)
                )

    def give_up_on_trees(self, reason: str) -> None:
        """After the trees fetch, a tree still missing means a broken answer."""
        for request in self.unwalked:
            self.file_results[request] = _unreachable(self._location, reason)
        self.unwalked.clear()
        for plan in self.open_plans():
            if plan.needs_tree:
                plan.result = _context_unreachable(self._location, reason, plan.epoch)

    def finish(self) -> None:
        """Decide every context whose blobs are all at hand."""
        for plan in self.open_plans():
            if plan.needs_tree or plan.needs_blob or plan.tree is None:
                continue
            if all(self.blob(oid) is not None for oid in plan.blobs):
                finish_context(plan, self.blob, self._reader._summaries)

    def settled(self) -> bool:
        return (
            not self.unwalked
            and all(self.blob(oid) is not None for oid in self.file_blobs.values())
            and not self.open_plans()
        )

    def outcome(
        self, reason: str = "internal error (an answer is missing)"
    ) -> tuple[dict[FileRequest, FileResult], dict[ContextRequest, ContextResult]]:
        """Every decided result; what is not decided is UNREACHABLE for ``reason``."""
        files = dict(self.file_results)
        have = {r: oid for r, oid in self.file_blobs.items() if self.blob(oid) is not None}
        for request, found in _found(have, self.contents).items():
            files.setdefault(request, found)
        for request in self.unwalked:
            files.setdefault(request, _unreachable(self._location, reason))
        for request in self.file_blobs:
            files.setdefault(request, _unreachable(self._location, reason))
        contexts = dict(self.context_results)
        for plan in self.plans:
            result = plan.result
            if result is None:
                result = _context_unreachable(self._location, reason, plan.epoch)
            contexts.setdefault(plan.request, result)
        return files, contexts
