"""Unpleasant commits: large binary tarballs rewritten in a GitCommit's history.

What official-images CI checks (``naughty-commits.sh``), per library file: for each
distinct (GitRepo, GitFetch, GitCommit) of its entries and architectures, in the
order ``jq -s unique`` sorts them (by GitCommit, then GitFetch, then GitRepo), it lists

    git log --diff-filter=DMT --format=%H GitCommit -- '**.tar**'

and walks that list, stopping (``break``) at the first commit an earlier GitCommit's
list already went through.  A listed commit is reported when ``git diff-tree -r
--numstat --diff-filter=DMT COMMIT -- '**.tar**'`` shows a file as binary (``-``)
whose size at the commit (``git ls-tree -r --long``; a deleted file has none)
satisfies ``size // 1024 // 1024 > 2``.  Each offending commit is reported once, with
the GitCommit whose history first held it::

    checker = HistoryChecker(UrlPolicy(insecure_hosts), cache=MemoryValueCache())
    report = checker.check([HistoryCheck(repo_url, "refs/heads/main", commit), ...])
    for found in report.offending:            # OffendingCommit
        found.commit, found.check, [(f.path, f.mib) for f in found.files]
        found.heading, found.lines             # the script's own wording
    report.complete                           # False: some history could not be read

:class:`HistoryOutcome` per check says whether its history was read (``CHECKED``),
its commit is missing (``COMMIT_MISSING``: the server does not have it), its URL is
refused by policy (``FORBIDDEN``), or it could not be read (``UNREACHABLE``: network,
5xx after retries, a cap; never a verdict: the caller makes the manifest
*unverified*).  Whether GitCommit is in GitFetch is :meth:`GitVerifier.verify`'s
question, not this module's (the script asks both).

Semantics reproduced (and compared with the real git binary in
tests/upstream/test_history.py):

* The pathspec ``**.tar**`` has no glob magic: git matches it with wildmatch without
  ``WM_PATHNAME``, so ``*`` crosses ``/`` and a path matches iff it contains ``.tar``
  (``x.tar.gz``, ``a.tarball``, ``dir.tar/file``, ``x.tar.txt``), case-sensitively.
* ``git log``'s walk: commits leave a list ordered by committer date (a parent goes
  after every listed commit at least as new), default history simplification for
  the pathspec (a merge TREESAME to a parent follows only the first such parent and
  is not shown; a commit TREESAME to its parent is not shown), merges show no diff
  so never pass ``--diff-filter``, a root commit only adds.  ``git log`` detects
  renames (``diff.renames``): a deleted tarball whose exact bytes reappear under
  another matching path in the same commit is a rename, not a deletion.  Inexact
  renames (similar but not identical content) are not detected; that can only list
  a commit that deletes tarballs which git would not list (it can never offend: a
  deleted file has no size), so it changes nothing but, in contrived histories, where
  the ``break`` happens.
* Binary, as ``diff --numstat``: a NUL byte in the first 8000 bytes of the old or the
  new blob (a mode change alone counts too: numstat prints ``-`` for a binary file
  whose content did not change), blobs over 512 MiB (``core.bigFileThreshold``) are
  binary unread, symbolic links and submodules have no attributes and are judged by
  content (a submodule never is binary).
* ``.gitattributes``: CI runs these commands in bashbrew's *bare* git cache, where git
  (up to 2.42) reads no attributes from any tree, and (2.43 on) those of ``HEAD``,
  which in that cache names no commit: so by default attributes play no part
  (``gitattributes=False``), which is what CI does.  ``gitattributes=True`` applies
  the ``.gitattributes`` files of the commit itself (root and every directory on the
  file's path; see :mod:`.gitattributes`), as git would in a work tree checked out
  at that commit.

Over smart HTTP, per (repository, GitCommit) and whatever the history's length:

1. the capability advertisement (once per repository in one :meth:`check` call);
2. ONE fetch ``want GitCommit`` with ``filter blob:none`` and no depth: every commit and
   tree of the history, no file content (a server without filter support sends
   everything instead, still one request, bounded by the size cap; sizes and bytes
   then come from that pack).  Within one call, a GitCommit already in a history
   fetched before needs no fetch at all, and the GitCommits fetched before are sent as
   ``have``s, so the server sends only the commits and trees not yet held;
3. the diffs and the walk, locally; only the blobs of files modified or type-changed
   in listed commits matter ("candidates"), and only the new side's size decides
   whether a file can offend at all;
4. sizes: ONE v2 ``object-info`` request for every candidate's new blob where the
   server advertises it (git does; GitHub does not); otherwise each candidate's new
   blob is asked for alone and read only as far as the object header (its size) and
   8000 inflated bytes (the binary test), then the connection is closed
   (:meth:`~.protocol.UpstreamRepo.object_head`);
5. binary-ness, only for candidates over the threshold (and not settled by an
   attribute): the first 8000 bytes of the new blob, then, if it has no NUL, of the
   old one, each by the same single-object read (with step 4's fallback the new
   blob's head is already in hand).

So the bytes are the commits and trees of the history plus a few kilobytes per large
candidate blob, never a tarball's content; ``git fetch`` of the ref (what CI does)
downloads every blob of the history.  The alternatives cost more: fetching candidate
blobs whole is the tarballs themselves; ``filter blob:limit`` still sends every small
blob of the history; several blobs in one fetch cannot be read partially (the next
object starts only after the previous one's whole zlib stream, and may be a delta).
``benchmarks/bench_history.py`` measures it.

Immutable answers are cached (a :class:`~.valuecache.ValueCache`): per repository,
GitCommit and attribute mode, the listed commits and their offending files.  A
commit's history and its blobs never change, and the answer depends on nothing else.
"""

from __future__ import annotations

import json
import logging
import re
import stat
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dulwich.objects import S_ISGITLINK, Blob, Commit, ShaFile, Tree

from .gitattributes import AttributeFile, diff_attribute, directories_of
from .pktline import NotOurRef, ServerError
from .policy import ForbiddenUrl, RepoLocation, ResolutionFailed, UrlPolicy
from .protocol import UpstreamRepo
from .transport import RunLimits, Transport, TransportClient, UpstreamUnavailable
from .valuecache import MemoryValueCache, ValueCache

__all__ = [
    "BINARY_PROBE_BYTES",
    "THRESHOLD_MIB",
    "HistoryCheck",
    "HistoryChecker",
    "HistoryOutcome",
    "HistoryReport",
    "HistoryStatus",
    "OffendingCommit",
    "OffendingFile",
    "TarHistory",
    "matches_pathspec",
]

log = logging.getLogger(__name__)

THRESHOLD_MIB = 2  # naughty-commits.sh: fileSizeThresholdMB='2', compared with -gt
BINARY_PROBE_BYTES = 8000  # git's FIRST_FEW_BYTES (buffer_is_binary)
BIG_FILE_THRESHOLD = 512 * 1024 * 1024  # core.bigFileThreshold: binary unread
_HEX_OID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_OID_LENGTH = {"sha1": 40, "sha256": 64}
_BLOB_TYPE = 3


def matches_pathspec(path: str) -> bool:
    """``**.tar**`` as git matches a pathspec without glob magic (``*`` crosses ``/``)."""
    return ".tar" in path


@dataclass(frozen=True, slots=True)
class HistoryCheck:
    """One (GitRepo, GitFetch, GitCommit) of a library file, verbatim."""

    repo: str
    fetch: str
    commit: str

    def sort_key(self) -> tuple[str, str, str]:
        """``jq -s unique``'s order: objects compare key by key in sorted key order
        (GitCommit, GitFetch, GitRepo), strings by code point."""
        return (self.commit, self.fetch, self.repo)


@dataclass(frozen=True, slots=True)
class OffendingFile:
    path: str
    size: int

    @property
    def mib(self) -> int:
        """Whole MiB as the script computes them (``size / 1024 / 1024`` in bash)."""
        return self.size // 1024 // 1024

    @property
    def message(self) -> str:
        return f"modified binary file (larger than {THRESHOLD_MIB}MB): {self.path} ({self.mib}MB)"


@dataclass(frozen=True, slots=True)
class OffendingCommit:
    """A commit rewriting large binary tarballs, found in ``check``'s history."""

    commit: str
    files: tuple[OffendingFile, ...]
    check: HistoryCheck

    @property
    def heading(self) -> str:
        """``commit X`` or ``commit X (in history of TOP)``, as the script prints it."""
        if self.commit == self.check.commit:
            return f"commit {self.commit}"
        return f"commit {self.commit} (in history of {self.check.commit})"

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(found.message for found in self.files)


class HistoryStatus(StrEnum):
    CHECKED = "checked"
    COMMIT_MISSING = "commit-missing"
    FORBIDDEN = "forbidden"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class HistoryOutcome:
    check: HistoryCheck
    status: HistoryStatus
    detail: str = ""


@dataclass(frozen=True)
class HistoryReport:
    """Offending commits in the script's discovery order, and one outcome per check."""

    offending: tuple[OffendingCommit, ...]
    outcomes: Mapping[HistoryCheck, HistoryOutcome]

    @property
    def complete(self) -> bool:
        """Every history was read: the absence of offending commits is a verdict."""
        return all(o.status is HistoryStatus.CHECKED for o in self.outcomes.values())


@dataclass(frozen=True)
class TarHistory:
    """For one GitCommit: ``git log``'s list, and the offending files of listed commits."""

    commits: tuple[str, ...]
    offences: Mapping[str, tuple[OffendingFile, ...]]

    def to_json(self) -> str:
        return json.dumps(
            {
                "commits": list(self.commits),
                "offences": {
                    commit: [[f.path, f.size] for f in files]
                    for commit, files in self.offences.items()
                },
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> TarHistory:
        data = json.loads(text)
        return cls(
            tuple(data["commits"]),
            {
                commit: tuple(OffendingFile(path, size) for path, size in files)
                for commit, files in data["offences"].items()
            },
        )


# -- trees and the walk ---------------------------------------------------------------

Entry = tuple[int, str]  # (mode, oid)


@dataclass(frozen=True, slots=True)
class _Change:
    path: str
    old: Entry | None
    new: Entry | None

    @property
    def status(self) -> str:
        if self.old is None:
            return "A"
        if self.new is None:
            return "D"
        if stat.S_IFMT(self.old[0]) != stat.S_IFMT(self.new[0]):
            return "T"
        return "M"


class _Objects:
    """The commits and trees of one fetched history."""

    def __init__(self, objects: Mapping[str, ShaFile]) -> None:
        self.objects = objects
        self._diffs: dict[tuple[str | None, str | None], tuple[_Change, ...]] = {}

    def commit(self, oid: str) -> Commit:
        obj = self.objects.get(oid)
        if not isinstance(obj, Commit):
            raise UpstreamUnavailable(f"the server's pack lacks commit {oid}")
        return obj

    def _tree(self, oid: str) -> Tree:
        obj = self.objects.get(oid)
        if not isinstance(obj, Tree):
            raise UpstreamUnavailable(f"the server's pack lacks tree {oid}")
        return obj

    def _entries(self, oid: str | None) -> dict[str, Entry]:
        if oid is None:
            return {}
        return {
            name.decode("utf-8", "surrogateescape"): (mode, sha.decode("ascii"))
            for name, mode, sha in self._tree(oid).iteritems()
        }

    def diff(self, old_tree: str | None, new_tree: str | None) -> tuple[_Change, ...]:
        """Changes to matching paths between two root trees (``diff-tree -r``, no
        renames), subtrees with equal ids skipped."""
        key = (old_tree, new_tree)
        cached = self._diffs.get(key)
        if cached is None:
            out: list[_Change] = []
            self._diff_into(old_tree, new_tree, "", out)
            cached = self._diffs[key] = tuple(sorted(out, key=lambda c: c.path.encode()))
        return cached

    def _diff_into(self, old: str | None, new: str | None, prefix: str, out: list[_Change]) -> None:
        if old == new:
            return
        before, after = self._entries(old), self._entries(new)
        for name in before.keys() | after.keys():
            path = prefix + name
            a, b = before.get(name), after.get(name)
            if a == b:
                continue
            a_tree = a is not None and stat.S_ISDIR(a[0])
            b_tree = b is not None and stat.S_ISDIR(b[0])
            if a_tree or b_tree:
                self._diff_into(
                    a[1] if a is not None and a_tree else None,
                    b[1] if b is not None and b_tree else None,
                    path + "/",
                    out,
                )
            leaf_a = a if a is not None and not a_tree else None
            leaf_b = b if b is not None and not b_tree else None
            if (leaf_a or leaf_b) and matches_pathspec(path):
                out.append(_Change(path, leaf_a, leaf_b))


def _listed_changes(changes: tuple[_Change, ...]) -> list[_Change]:
    """``--diff-filter=DMT`` after ``git log``'s exact rename pairing."""
    added: dict[str, int] = defaultdict(int)
    for change in changes:
        if change.old is None and change.new is not None:
            added[change.new[1]] += 1
    kept = []
    for change in changes:
        status = change.status
        if status == "D" and change.old is not None and added.get(change.old[1], 0) > 0:
            added[change.old[1]] -= 1  # a rename (R), which DMT leaves out
            continue
        if status in "DMT":
            kept.append(change)
    return kept


def git_log(objects: _Objects, top: str) -> list[tuple[str, list[_Change]]]:
    """``git log --diff-filter=DMT TOP -- '**.tar**'``: listed commits in git's order,
    each with its DMT changes."""
    seen = {top}
    queue: list[tuple[int, str]] = [(objects.commit(top).commit_time, top)]
    listed: list[tuple[str, list[_Change]]] = []
    while queue:
        _, oid = queue.pop(0)
        commit = objects.commit(oid)
        tree = commit.tree.decode("ascii")
        parents = [p.decode("ascii") for p in commit.parents]
        treesame = False
        diffs: dict[str, tuple[_Change, ...]] = {}
        if not parents:
            treesame = not objects.diff(None, tree)
        else:
            for parent in parents:
                diffs[parent] = objects.diff(objects.commit(parent).tree.decode("ascii"), tree)
                if not diffs[parent]:
                    parents, treesame = [parent], True
                    break
        for parent in parents:
            if parent in seen:
                continue
            seen.add(parent)
            date = objects.commit(parent).commit_time
            # commit_list_insert_by_date: before the first strictly older commit
            at = next((i for i, (d, _) in enumerate(queue) if d < date), len(queue))
            queue.insert(at, (date, parent))
        if treesame or len(commit.parents) != 1:
            continue  # not shown, or a merge (no diff) or a root (only additions)
        changes = _listed_changes(diffs[parents[0]])
        if changes:
            listed.append((oid, changes))
    return listed


# -- the checker ----------------------------------------------------------------------


@dataclass
class _BlobFacts:
    size: int | None = None
    head: bytes | None = None  # first BINARY_PROBE_BYTES bytes


@dataclass
class _Scan:
    """One repository's history for one GitCommit, while it is being judged."""

    repo: UpstreamRepo
    objects: _Objects
    facts: dict[str, _BlobFacts] = field(default_factory=dict)


class _Held:
    """What one ``check`` call holds of a repository: its client, the commits and
    trees of every history fetched so far (each complete), and blob facts."""

    def __init__(self, repo: UpstreamRepo) -> None:
        self.repo = repo
        self.objects: dict[str, ShaFile] = {}
        self.store = _Objects(self.objects)  # sees later additions: same dict
        self.tops: list[str] = []
        self.facts: dict[str, _BlobFacts] = {}


@dataclass
class _Session:
    """One ``check`` call: its budgets and the repositories it has opened."""

    limits: RunLimits
    repos: dict[str, _Held] = field(default_factory=dict)


# A fetch names at most this many ``have``s (the newest tops): enough for a library
# file's GitCommits in one repository, and a bounded request body.
_MAX_HAVES = 64


class HistoryChecker(TransportClient):
    """Finds the commits ``naughty-commits.sh`` reports, over git's smart HTTP.

    Thread-safe for sequential ``check`` calls from several threads; keep one per
    process so connections and answers are reused.  ``transport``: share a git
    verifier's :class:`~.transport.Transport` (its credentials, pools, counters).
    """

    def __init__(
        self,
        policy: UrlPolicy | None = None,
        *,
        cache: ValueCache | None = None,
        transport: Transport | None = None,
        credentials: Mapping[str, str] | None = None,
        gitattributes: bool = False,
        use_object_info: bool = True,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        budget_seconds: float = 300,
        max_requests: int = 5000,
        max_response_bytes: int = 256 * 1024 * 1024,
        retries: int = 3,
    ) -> None:
        self.policy = policy if policy is not None else UrlPolicy()
        self.cache: ValueCache = cache if cache is not None else MemoryValueCache()
        self.gitattributes = gitattributes
        self.use_object_info = use_object_info
        self.budget_seconds = budget_seconds
        self.max_requests = max_requests
        self.max_response_bytes = max_response_bytes
        self._use_transport(
            transport,
            credentials=credentials,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            pool_size=2,
        )

    # -- the script's loop ---------------------------------------------------------

    def check(self, checks: Iterable[HistoryCheck]) -> HistoryReport:
        """All (GitRepo, GitFetch, GitCommit) of ONE library file, as the script's loop
        over them: offending commits once each, with the first GitCommit holding them.

        One time budget and request budget for the call; per repository one
        advertisement, and one history fetch per GitCommit that is not already in a
        history fetched earlier in the call (those are sent as ``have``s, so each
        fetch brings only the commits and trees not yet held)."""
        ordered = sorted(set(checks), key=HistoryCheck.sort_key)
        session = self._session()
        outcomes: dict[HistoryCheck, HistoryOutcome] = {}
        seen: set[str] = set()
        found: dict[str, OffendingCommit] = {}
        for check in ordered:
            history = self._history(check, session)
            if isinstance(history, HistoryOutcome):
                outcomes[check] = history
                continue
            outcomes[check] = HistoryOutcome(check, HistoryStatus.CHECKED, "history read")
            for commit in history.commits:
                if commit in seen:
                    break
                seen.add(commit)
                files = history.offences.get(commit)
                if files and commit not in found:
                    found[commit] = OffendingCommit(commit, files, check)
        return HistoryReport(tuple(found.values()), outcomes)

    def history(self, check: HistoryCheck) -> TarHistory | HistoryOutcome:
        """The listed commits and offending files of one GitCommit (cached), or the
        outcome saying why they could not be read."""
        return self._history(check, self._session())

    def _session(self) -> _Session:
        return _Session(
            RunLimits(
                budget_seconds=self.budget_seconds,
                max_requests=self.max_requests,
                max_response_bytes=self.max_response_bytes,
            )
        )

    def _history(self, check: HistoryCheck, session: _Session) -> TarHistory | HistoryOutcome:
        commit = check.commit.lower()
        if not _HEX_OID.match(commit):
            return HistoryOutcome(
                check, HistoryStatus.COMMIT_MISSING, f"{check.commit!r} is not a full commit id."
            )
        try:
            location = self.policy.parse(check.repo)
        except ForbiddenUrl as exc:
            return HistoryOutcome(check, HistoryStatus.FORBIDDEN, f"Repository URL refused: {exc}.")
        mode = "attributes" if self.gitattributes else "bare"
        key = f"tar-history\n{location.display}\n{commit}\n{mode}"
        cached = self.cache.get(key)
        if cached is not None:
            return TarHistory.from_json(cached)
        version = 2
        try:
            held = session.repos.get(location.display)
            if held is None:
                address = self.policy.resolve(location)
                repo = UpstreamRepo(
                    self._transport, session.limits, location, address, self.policy.check
                )
                held = session.repos[location.display] = _Held(repo)
            version = held.repo.protocol_version
            expected = _OID_LENGTH.get(held.repo.object_format, 40)
            if len(commit) != expected:
                return HistoryOutcome(
                    check,
                    HistoryStatus.COMMIT_MISSING,
                    f"{check.commit} is not a {held.repo.object_format} object id.",
                )
            history = self._scan(held, commit)
        except NotOurRef:
            why = "" if version == 2 else " (or no ref reaches it)"
            return HistoryOutcome(
                check,
                HistoryStatus.COMMIT_MISSING,
                f"Commit {check.commit} does not exist in {location.display}{why}.",
            )
        except ForbiddenUrl as exc:
            return HistoryOutcome(check, HistoryStatus.FORBIDDEN, f"Repository URL refused: {exc}.")
        except (UpstreamUnavailable, ResolutionFailed, ServerError) as exc:
            session.repos.pop(location.display, None)
            return _unreachable(check, location, str(exc))
        self.cache.put(key, history.to_json())
        return history

    # -- one history ---------------------------------------------------------------------

    def _scan(self, held: _Held, top: str) -> TarHistory:
        repo = held.repo
        filtered = repo.supports_filter
        if not isinstance(held.objects.get(top), Commit):
            # Commits whose whole history we hold: the server leaves that out.
            haves = [oid for oid in held.tops if isinstance(held.objects.get(oid), Commit)]
            fetched = repo.fetch_pack(
                [top], haves=haves[-_MAX_HAVES:], filter_spec="blob:none" if filtered else None
            )
            if not isinstance(fetched.get(top), Commit):
                raise NotOurRef(f"upload-pack: not our ref {top} (not a commit)")
            held.objects.update(fetched)
            held.tops.append(top)
            if not filtered:  # the whole history came: every blob is in hand
                for oid, obj in fetched.items():
                    if isinstance(obj, Blob):
                        data = obj.as_raw_string()
                        held.facts[oid] = _BlobFacts(len(data), data[:BINARY_PROBE_BYTES])
        scan = _Scan(repo, held.store, held.facts)
        listed = git_log(scan.objects, top)
        # Only a file that exists at the commit (M or T) with a blob can offend.
        candidates = [
            (commit, change)
            for commit, changes in listed
            for change in changes
            if change.new is not None and not S_ISGITLINK(change.new[0])
        ]
        self._sizes(scan, {change.new[1] for _, change in candidates if change.new})
        threshold = (THRESHOLD_MIB + 1) * 1024 * 1024  # size // MiB > 2
        offences: dict[str, list[OffendingFile]] = defaultdict(list)
        attributes = _AttributeReader(scan) if self.gitattributes else None
        for commit, change in candidates:
            assert change.new is not None
            size = scan.facts[change.new[1]].size
            if size is None or size < threshold:
                continue
            if self._binary(scan, commit, change, attributes):
                offences[commit].append(OffendingFile(change.path, size))
        return TarHistory(
            tuple(commit for commit, _ in listed),
            {commit: tuple(files) for commit, files in offences.items()},
        )

    def _sizes(self, scan: _Scan, oids: set[str]) -> None:
        wanted = sorted(oid for oid in oids if scan.facts.get(oid, _BlobFacts()).size is None)
        if not wanted:
            return
        if self.use_object_info and scan.repo.supports_object_info:
            sizes = scan.repo.object_sizes(wanted)
            for oid in wanted:
                size = sizes.get(oid)
                if size is None:
                    raise UpstreamUnavailable(f"the server has no size for blob {oid}")
                scan.facts.setdefault(oid, _BlobFacts()).size = size
            return
        for oid in wanted:
            self._head(scan, oid)

    def _head(self, scan: _Scan, oid: str) -> _BlobFacts:
        facts = scan.facts.setdefault(oid, _BlobFacts())
        if facts.head is None:
            head = scan.repo.object_head(oid, BINARY_PROBE_BYTES)
            if head.type != _BLOB_TYPE:
                raise UpstreamUnavailable(f"{oid} is not a blob on the server")
            facts.size, facts.head = head.size, head.head
        return facts

    def _binary(
        self, scan: _Scan, commit: str, change: _Change, attributes: _AttributeReader | None
    ) -> bool:
        if attributes is not None:
            forced = attributes.binary(commit, change)
            if forced is not None:
                return forced
        for side in (change.new, change.old):  # the new blob's head is often in hand
            if side is None or S_ISGITLINK(side[0]):
                continue
            facts = self._head(scan, side[1])
            if (facts.size or 0) > BIG_FILE_THRESHOLD or b"\0" in (facts.head or b""):
                return True
        return False


class _AttributeReader:
    """The ``diff`` attribute of changed files at their commit (``gitattributes=True``):
    reads the ``.gitattributes`` blobs on the file's path, fetched whole (they are
    small text files), once per blob."""

    def __init__(self, scan: _Scan) -> None:
        self._scan = scan
        self._parsed: dict[str, AttributeFile] = {}

    def binary(self, commit: str, change: _Change) -> bool | None:
        if change.new is None or not stat.S_ISREG(change.new[0]):
            return None  # attributes apply to regular files only (git's userdiff)
        files = self._files(commit, change.path)
        value = diff_attribute(change.path, files)
        if value is True:
            return False  # "diff": text, whatever the bytes
        if value is False:
            return True  # "-diff", "binary"
        return None  # unspecified or a driver name: the content decides

    def _files(self, commit: str, path: str) -> dict[str, AttributeFile]:
        objects = self._scan.objects
        root = objects.commit(commit).tree.decode("ascii")
        found: dict[str, str] = {}
        for directory in directories_of(path):
            tree: str | None = root
            for part in directory.split("/") if directory else []:
                entry = objects._entries(tree).get(part) if tree else None
                tree = entry[1] if entry is not None and stat.S_ISDIR(entry[0]) else None
            if tree is None:
                continue
            entry = objects._entries(tree).get(".gitattributes")
            if entry is not None and stat.S_ISREG(entry[0]):
                found[directory] = entry[1]
        missing = sorted({oid for oid in found.values() if oid not in self._parsed})
        if missing:
            blobs = self._scan.repo.fetch_pack(missing)
            for oid in missing:
                blob = blobs.get(oid)
                if not isinstance(blob, Blob):
                    raise UpstreamUnavailable(f"the server did not send .gitattributes {oid}")
                self._parsed[oid] = AttributeFile.parse(blob.as_raw_string())
        return {directory: self._parsed[oid] for directory, oid in found.items()}


def _unreachable(check: HistoryCheck, location: RepoLocation, reason: str) -> HistoryOutcome:
    text = f"Could not read the history from {location.display}: {reason}".rstrip(".") + "."
    return HistoryOutcome(check, HistoryStatus.UNREACHABLE, text)
