"""Manifests read from a git repository over smart HTTP, with the upstream client.

The same guarded machinery as the upstream checks (:mod:`manifest_validation.upstream`)
is used: the URL policy (SSRF defence, pinned address), the capped and retrying
transport, and the v2/v0 protocol code.  Only the two fetches this module needs are
added on top, in :class:`_Repo`.

Cost per operation (protocol v2 with ``uploadpack.allowFilter``, the common case):

* ``resolve``: the capability advertisement plus one ``ls-refs`` (2 requests);
* ``list_manifests``: one ``fetch`` of ``want <commit>``, ``deepen 1``, ``filter
  blob:none``, which returns the commit and its trees but no file contents;
* ``read``: the listing (cached per commit) plus one ``fetch`` naming every wanted
  blob by id.  Blob wants are served by git's v2 upload-pack for any object it has,
  and by v0 over HTTP (stateless RPC) for objects reachable from a ref; a server
  that refuses them gets a full depth-1 fetch instead.

Without filter support the listing fetch is a full depth-1 snapshot (every file of
the commit, bounded by ``max_response_bytes``), and its library blobs are kept so
``read`` needs no second fetch.  Every pack is decoded by dulwich, which also
recomputes each object's id from its content, so a server cannot hand us content
that does not match the tree.

Revisions over HTTP (:meth:`GitManifestSource.history`, the store :mod:`.revisions`
resolves ranges with):

* ref names: one ``ls-refs`` holding every name git's precedence rules try for a name
  (``NAME``, ``refs/NAME``, ``refs/tags/NAME``, ...), annotated tags peeled by the server;
  a v0 server's advertisement already lists them all;
* full object ids are taken as they are (the listing fetch says when one does not exist);
* suffixes (``~N``, ``^N``) and the merge base of ``A...B`` need the commit graph.  It is
  fetched without trees or blobs: ``want`` the commits, ``deepen D``, ``filter tree:0``,
  which git's upload-pack serves for any commit it has, in one request (a test pins what
  ``git http-backend`` sends).  The first fetch goes 32 commits deep; when a walk needs a
  commit below what is loaded, the whole front of the loaded graph (up to 64 commits) is
  deepened by twice the previous depth, at most 8 fetches in all (8,160 levels).  A commit
  is a few hundred bytes compressed, so even all of official-images' history is a few MB,
  bounded by ``max_response_bytes`` like every response.  Resolving these is worth that:
  ``master...pr`` and ``HEAD~1..HEAD`` are what a reviewer types, and refusing them over a
  URL would send everyone to a local clone for a few kilobytes of commits.  A server that
  cannot filter (or deepen) is refused with a message instead: the same fetch would carry
  every file of every commit;
* abbreviated ids are refused: the protocol has no lookup by prefix (``want`` takes full
  ids, and git itself cannot fetch an abbreviation), and searching the fetched history
  would miss what git counts when it decides ambiguity (trees, blobs, commits no ref
  reaches), so the answer could differ from git's on the same repository.
"""

from __future__ import annotations

import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import NamedTuple, TypeVar

from dulwich.object_format import get_object_format
from dulwich.objects import Blob, Commit, ShaFile, Tag, Tree

from ..libraryfile.pins import DIRECTORY as PINS_DIRECTORY
from ..libraryfile.pins import MAX_PIN_DEPTH, MAX_PIN_FILES
from ..upstream.pktline import NotOurRef, ServerError
from ..upstream.policy import ForbiddenUrl, ResolutionFailed, UrlPolicy
from ..upstream.protocol import UpstreamRepo, refused_oid
from ..upstream.transport import (
    LimitExceeded,
    RunLimits,
    TransferStats,
    Transport,
    UpstreamUnavailable,
)
from .base import SourceError, SourceUnavailable, check_names, is_manifest_name
from .revisions import (
    MAX_TAG_DEPTH,
    AbbreviationsUnsupported,
    CommitInfo,
    MissingObject,
    NotACommit,
)

__all__ = ["GitManifestSource"]

_T = TypeVar("_T")
_HEX_OID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# What git's check-ref-format refuses, reduced to what matters here: the name goes
# into a pkt-line, so whitespace and control characters could inject protocol lines.
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|/$|\.lock$|^-")


class _Listing(NamedTuple):
    """What a commit's trees say, by blob id: the library's manifests, and the files of the
    `.external-pins/` beside it (None: no such directory at that commit)."""

    library: dict[str, str]
    pins: dict[str, str] | None


class _Repo(UpstreamRepo):
    """:class:`UpstreamRepo` plus object fetches, reusable across operations.

    The base class is built for one verification run; a source keeps one instance
    between operations so the capability advertisement is fetched once, and gives it
    fresh :class:`RunLimits` (deadline, request and size caps) per operation.
    """

    def use_limits(self, limits: RunLimits) -> None:
        self._limits = limits

    def fetch_objects(
        self, wants: Iterable[str], *, shallow: bool, omit_blobs: bool
    ) -> dict[str, ShaFile]:
        """One fetch with ``done`` and no ``have``: every object reachable from the
        wants (only the wanted commits themselves with ``shallow``; trees but no
        blobs with ``omit_blobs``), decoded.  A want the server refuses raises
        :class:`NotOurRef`."""
        wants = sorted(set(wants))
        if not wants:
            return {}
        # Without shallow support the whole history comes, still bounded by the cap.
        shallow = shallow and self.supports_shallow
        return self.fetch_pack(
            wants,
            filter_spec="blob:none" if omit_blobs else None,
            deepen=1 if shallow else None,
        )


class GitManifestSource:
    """The library files of a git repository reached over smart HTTP(S).

    ``credentials`` is either one secret for the repository's host (``user:password``,
    ``Bearer X`` or a bare token) or a ``{host or host:port: secret}`` mapping as for
    the upstream verifier; secrets travel in headers only, never in the URL.

    One instance keeps its HTTP connections, the server's capability advertisement
    and two caches between calls: the listing of each commit (commits are immutable)
    and, up to ``blob_cache_bytes``, file contents by blob id (so an unchanged file
    is not fetched again at the next commit).  Calls are serialised by a lock.
    """

    def __init__(
        self,
        url: str,
        *,
        policy: UrlPolicy | None = None,
        credentials: str | Mapping[str, str] | None = None,
        library_dir: str = "library",
        connect_timeout: float = 5,
        read_timeout: float = 30,
        operation_budget_seconds: float = 120,
        max_response_bytes: int = 64 * 1024 * 1024,
        max_requests_per_operation: int = 16,
        retries: int = 3,
        listing_cache_size: int = 64,
        blob_cache_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.policy = policy if policy is not None else UrlPolicy()
        try:
            # Checked now, without the network: a refused URL can never work.
            self.location = self.policy.parse(url)
        except ForbiddenUrl as exc:
            raise SourceError(f"manifests repository URL refused: {exc}") from None
        parts = [part for part in library_dir.split("/") if part]
        if not parts or any(part in (".", "..") for part in parts):
            raise ValueError(f"library_dir {library_dir!r} is not a relative directory path")
        self.library_path = tuple(parts)
        if isinstance(credentials, str):
            credentials = {f"{self.location.host}:{self.location.port}": credentials}
        self._transport = Transport(
            credentials=credentials,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            pool_size=1,  # calls are serialised, one connection is enough
        )
        self.operation_budget_seconds = operation_budget_seconds
        self.max_response_bytes = max_response_bytes
        self.max_requests_per_operation = max_requests_per_operation
        self._listing_cache_size = listing_cache_size
        self._blob_cache_bytes = blob_cache_bytes
        self._listings: OrderedDict[str, _Listing] = OrderedDict()
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        self._blob_bytes = 0
        self._repo: _Repo | None = None
        self._lock = threading.Lock()

    @property
    def stats(self) -> TransferStats:
        """HTTP requests, bytes and retries over this source's lifetime."""
        return self._transport.stats

    def describe(self) -> str:
        return self.location.display

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> GitManifestSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the ManifestSource API ------------------------------------------------------

    def resolve(self, branch: str) -> str:
        name = _ref_name(branch)
        with self._lock, self._operation(fresh=True) as repo:
            tip = repo.list_refs([name]).get(name)
        if tip is None:
            raise SourceError(f"branch {branch} does not exist in {self.describe()}")
        return tip.commit.lower()

    def list_manifests(self, commit: str) -> list[str]:
        commit = _check_commit(commit)
        with self._lock:
            return sorted(self._listing(commit)[0].library)

    def read(self, commit: str, names: Sequence[str]) -> dict[str, bytes]:
        commit = _check_commit(commit)
        unique = check_names(names)
        with self._lock:
            listing, fetched = self._listing(commit)
            wanted = {name: listing.library[name] for name in unique if name in listing.library}
            contents = self._contents(commit, set(wanted.values()), fetched)
            return {name: contents[oid] for name, oid in wanted.items()}

    def read_pins(self, commit: str) -> dict[str, bytes] | None:
        """The files of ``.external-pins/`` beside the library directory at ``commit``: the
        listing's trees say which (no extra request), one fetch reads those not cached."""
        commit = _check_commit(commit)
        with self._lock:
            listing, fetched = self._listing(commit)
            if listing.pins is None:
                return None
            contents = self._contents(commit, set(listing.pins.values()), fetched)
            return {path: contents[oid] for path, oid in listing.pins.items()}

    def _contents(
        self, commit: str, oids: set[str], fetched: Mapping[str, bytes]
    ) -> dict[str, bytes]:
        """Blob contents by id: those that came with the listing, then the cache, then one
        fetch for the rest."""
        contents: dict[str, bytes] = {}
        for oid in oids:
            data = fetched.get(oid)
            if data is None:
                data = self._cached_blob(oid)
            if data is not None:
                contents[oid] = data
        missing = oids - contents.keys()
        if missing:
            contents.update(self._fetch_blobs(commit, missing))
        return contents

    def history(self) -> _RemoteHistory:
        """The refs and commit graph over HTTP, for :mod:`.revisions` (a new view per
        call, loaded as resolution needs it; see the module docstring)."""
        return _RemoteHistory(self)

    def blob_ids(self, commit: str) -> dict[str, str]:
        """``{name: blob id}`` of the manifests at ``commit`` (the listing
        :meth:`list_manifests` returns, with git's content ids): two commits hold the same
        text of a manifest exactly when its ids are equal, so comparing two trees needs
        no file contents."""
        commit = _check_commit(commit)
        with self._lock:
            return dict(self._listing(commit)[0].library)

    # -- operations ----------------------------------------------------------------------

    @contextmanager
    def _operation(self, *, fresh: bool = False) -> Iterator[_Repo]:
        """A repository client with fresh limits; maps every failure to our errors.

        ``fresh`` re-reads the advertisement (``resolve`` must see current refs: a v0
        advertisement carries them).  After a failure the client is dropped, so the
        next operation starts over with a new address and advertisement.
        """
        limits = RunLimits(
            budget_seconds=self.operation_budget_seconds,
            max_requests=self.max_requests_per_operation,
            max_response_bytes=self.max_response_bytes,
        )
        where = self.describe()
        try:
            if fresh or self._repo is None:
                self._repo = None
                address = self.policy.resolve(self.location)
                self._repo = _Repo(
                    self._transport, limits, self.location, address, self.policy.check
                )
            self._repo.use_limits(limits)
            yield self._repo
        except ForbiddenUrl as exc:
            self._repo = None
            raise SourceError(f"manifests repository URL refused: {exc}") from None
        except LimitExceeded as exc:
            self._repo = None
            if _is_size_cap(exc, limits):
                # The same request will be just as large next time: not transient.
                raise SourceError(
                    f"reading {where} failed: {exc} (raise max_response_bytes)"
                ) from None
            raise SourceUnavailable(f"reading {where} failed: {exc}") from None
        except (UpstreamUnavailable, ResolutionFailed) as exc:
            self._repo = None
            raise SourceUnavailable(f"reading {where} failed: {exc}") from None
        except NotOurRef as exc:
            # Callers translate the refusals they expect; any other one is final.
            raise SourceError(f"{where} refused to send an object: {exc}") from None
        except ServerError as exc:
            self._repo = None
            raise SourceUnavailable(f"{where} reported an error: {str(exc)[:200]}") from None

    def _listing(self, commit: str) -> tuple[_Listing, dict[str, bytes]]:
        """``{name: blob id}`` of the library (and of the external pins) at ``commit``,
        plus any of their blob contents that came with the fetch (only when the server
        cannot filter)."""
        cached = self._listings.get(commit)
        if cached is not None:
            self._listings.move_to_end(commit)
            return cached, {}
        with self._operation() as repo:
            _check_format(commit, repo)
            omit_blobs = repo.supports_filter
            objects = self._want(
                lambda: repo.fetch_objects([commit], shallow=True, omit_blobs=omit_blobs),
                f"commit {commit} does not exist in {self.describe()}",
            )
        listing = self._walk(commit, objects)
        self._listings[commit] = listing
        while len(self._listings) > self._listing_cache_size:
            self._listings.popitem(last=False)
        fetched = {
            oid: obj.as_raw_string()
            for oid in [*listing.library.values(), *(listing.pins or {}).values()]
            if isinstance(obj := objects.get(oid), Blob)
        }
        for oid, data in fetched.items():
            self._cache_blob(oid, data)
        return listing, fetched

    def _walk(self, commit: str, objects: Mapping[str, ShaFile]) -> _Listing:
        top = objects.get(commit)
        if not isinstance(top, Commit):
            raise SourceError(f"{commit} is not a commit in {self.describe()}")
        root = top.tree.decode("ascii")
        pins_path = (*self.library_path[:-1], PINS_DIRECTORY)
        return _Listing(self._library(root, objects), self._pins(root, pins_path, objects))

    def _subtree(
        self, root: str, path: Sequence[str], objects: Mapping[str, ShaFile]
    ) -> Tree | None:
        """The tree at ``path`` under the root tree (None: no such directory)."""
        tree = objects.get(root)
        for part in path:
            if not isinstance(tree, Tree):
                raise SourceUnavailable(f"{self.describe()} sent an incomplete pack")
            entry = _entry(tree, part)
            if entry is None or not stat.S_ISDIR(entry[0]):
                return None
            tree = objects.get(entry[1])
        if not isinstance(tree, Tree):
            raise SourceUnavailable(f"{self.describe()} sent an incomplete pack")
        return tree

    def _pins(
        self, root: str, path: Sequence[str], objects: Mapping[str, ShaFile]
    ) -> dict[str, str] | None:
        """``{path under .external-pins/: blob id}`` of its regular files, however deep
        (within bounds: pins nest a few directories, by registry and owner)."""
        tree = self._subtree(root, path, objects)
        if tree is None:
            return None
        found: dict[str, str] = {}
        pending: list[tuple[str, Tree, int]] = [("", tree, 0)]
        while pending:
            prefix, current, depth = pending.pop()
            for item in current.iteritems():
                try:
                    name = prefix + item.path.decode("utf-8")
                except UnicodeDecodeError:
                    continue  # no image reference has such a name
                if stat.S_ISDIR(item.mode) and depth < MAX_PIN_DEPTH:
                    child = objects.get(item.sha.decode("ascii"))
                    if not isinstance(child, Tree):
                        raise SourceUnavailable(f"{self.describe()} sent an incomplete pack")
                    pending.append((name + "/", child, depth + 1))
                elif stat.S_ISREG(item.mode):
                    found[name] = item.sha.decode("ascii")
                    if len(found) > MAX_PIN_FILES:
                        raise SourceError(
                            f"{self.describe()} has more than {MAX_PIN_FILES} files in "
                            f"{'/'.join(path)} (tree {root[:12]})"
                        )
        return dict(sorted(found.items()))

    def _library(self, root: str, objects: Mapping[str, ShaFile]) -> dict[str, str]:
        tree = self._subtree(root, self.library_path, objects)
        if tree is None:
            return {}  # no library directory at this commit: no manifests
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

    def _fetch_blobs(self, commit: str, oids: set[str]) -> dict[str, bytes]:
        with self._operation() as repo:
            try:
                objects = repo.fetch_objects(oids, shallow=False, omit_blobs=False)
            except NotOurRef:
                # A server that serves only ref tips: take the whole snapshot instead
                # (bounded by max_response_bytes like every response).
                objects = self._want(
                    lambda: repo.fetch_objects([commit], shallow=True, omit_blobs=False),
                    f"commit {commit} is no longer served by {self.describe()}",
                )
        found: dict[str, bytes] = {}
        for oid in oids:
            blob = objects.get(oid)
            if not isinstance(blob, Blob):
                raise SourceUnavailable(f"{self.describe()} did not send blob {oid}")
            found[oid] = blob.as_raw_string()
            self._cache_blob(oid, found[oid])
        return found

    @staticmethod
    def _want(fetch: Callable[[], _T], missing: str) -> _T:
        """Run a fetch whose refusal (``not our ref``) means the object is missing.

        git says the same for an unknown object and (protocol v0 without
        ``allowReachableSHA1InWant``, outside stateless HTTP) for an existing one it
        will not serve; both are permanent for this server.
        """
        try:
            return fetch()
        except NotOurRef:
            raise SourceError(missing) from None

    # -- blob cache --------------------------------------------------------------------

    def _cached_blob(self, oid: str) -> bytes | None:
        data = self._blobs.get(oid)
        if data is not None:
            self._blobs.move_to_end(oid)
        return data

    def _cache_blob(self, oid: str, data: bytes) -> None:
        if oid in self._blobs or len(data) > self._blob_cache_bytes:
            return
        self._blobs[oid] = data
        self._blob_bytes += len(data)
        while self._blob_bytes > self._blob_cache_bytes:
            _, evicted = self._blobs.popitem(last=False)
            self._blob_bytes -= len(evicted)


# How the commit graph is fetched over HTTP (see the module docstring).
HISTORY_FIRST_DEPTH = 32
HISTORY_MAX_FETCHES = 8
HISTORY_MAX_WANTS = 64


class _RemoteHistory:
    """The :class:`~.revisions.RevisionStore` of a repository over smart HTTP: refs by
    ``ls-refs``, commits by filtered, deepened fetches, loaded as walks need them.  One
    instance per resolution (its graph is not shared between calls)."""

    def __init__(self, source: GitManifestSource) -> None:
        self._source = source
        self._commits: dict[str, CommitInfo] = {}
        self._targets: dict[str, str] = {}  # tag id -> the object it tags
        self._kinds: dict[str, str] = {}  # every object id seen -> commit, tag, tree, blob
        self._frontier: set[str] = set()  # parents named by loaded commits, not loaded
        self._fetches = 0
        self._fresh = True  # the first request re-reads the advertisement (current refs)
        self._hex_length: int | None = None
        self._supported: bool | None = None  # can the server send commits only?

    @property
    def hex_length(self) -> int:
        if self._hex_length is None:
            with self._source._lock, self._operation() as repo:
                name = repo.object_format
            self._hex_length = int(get_object_format(name).hex_length)
        return self._hex_length

    def describe(self) -> str:
        return self._source.describe()

    def refs(self, names: Sequence[str]) -> dict[str, str]:
        with self._source._lock, self._operation() as repo:
            tips = repo.list_refs(names)
        found: dict[str, str] = {}
        for name, tip in tips.items():
            oid, commit = tip.oid.lower(), tip.commit.lower()
            if oid != commit:
                self._targets[oid] = commit  # peeled by the server
                self._kinds[oid] = "tag"
            found[name] = oid
        return found

    def peel(self, oid: str) -> str:
        current = oid
        for _ in range(MAX_TAG_DEPTH):
            if current in self._commits:
                return current
            if current in self._targets:
                current = self._targets[current]
                continue
            if not self._history_supported():
                # Nothing can be fetched to check it: a ref as ls-refs peeled it, a full id
                # as it is (reading its listing says when it is no commit), as before there
                # was history over HTTP.
                return current
            if current not in self._kinds:
                self._load([current])
            kind = self._kinds.get(current)
            if kind is None:
                where = self.describe()
                raise MissingObject(current, f"object {current} does not exist in {where}")
            if kind not in ("commit", "tag"):
                raise NotACommit(current, kind)
            if current not in self._commits and current not in self._targets:
                raise MissingObject(current, f"{self.describe()} did not send object {current}")
        raise SourceError(f"tag {oid} in {self.describe()} is a chain of too many tags")

    def commit(self, oid: str) -> CommitInfo:
        info = self._commits.get(oid)
        if info is None:
            self._load([oid])
            info = self._commits.get(oid)
        if info is None:
            kind = self._kinds.get(oid)
            if kind is not None and kind != "commit":
                raise NotACommit(oid, kind)
            raise MissingObject(oid, f"commit {oid} does not exist in {self.describe()}")
        return info

    def abbreviations(self, prefix: str) -> list[str]:
        raise AbbreviationsUnsupported(
            f"an abbreviated commit id cannot be looked up over HTTP (a git server takes "
            f"full ids only): give the full id, or a local clone of {self.describe()}"
        )

    def object_kind(self, oid: str) -> str:
        return self._kinds.get(oid, "object")

    def prefetch(self, commits: Iterable[str]) -> None:
        """One fetch of the history below these objects (tags the server peeled are
        replaced by their commits), unless it is loaded or the server cannot send it."""
        wanted = []
        for oid in commits:
            while oid in self._targets:
                oid = self._targets[oid]
            if oid not in self._commits and oid not in self._kinds:
                wanted.append(oid)
        if wanted and self._history_supported():
            self._load(wanted)

    # -- fetching ------------------------------------------------------------------------

    @contextmanager
    def _operation(self) -> Iterator[_Repo]:
        fresh, self._fresh = self._fresh, False
        with self._source._operation(fresh=fresh) as repo:
            yield repo

    def _history_supported(self) -> bool:
        if self._supported is None:
            with self._source._lock, self._operation() as repo:
                self._supported = repo.supports_filter and repo.supports_shallow
        return self._supported

    def _load(self, wants: Sequence[str], *, depth: int | None = None) -> None:
        """One fetch of the commits (and tags) below ``wants``, ``depth`` deep (32, then
        twice as deep at every fetch), with the rest of the loaded graph's front."""
        if self._fetches >= HISTORY_MAX_FETCHES:
            raise SourceError(
                f"walking the history of {self.describe()} over HTTP needs more than "
                f"{HISTORY_MAX_FETCHES} fetches of commits; use a local clone for ranges "
                "this far apart"
            )
        if depth is None:
            depth = HISTORY_FIRST_DEPTH << self._fetches
        wanted = sorted(set(wants))
        extra = sorted(self._frontier - set(wanted))[: max(0, HISTORY_MAX_WANTS - len(wanted))]
        with self._source._lock, self._operation() as repo:
            if not (repo.supports_filter and repo.supports_shallow):
                raise SourceError(
                    f"{self.describe()} cannot send commits without their files (no filter "
                    "or shallow support), so ~, ^ and A...B cannot be resolved over HTTP; "
                    "give full commit ids and BASE..HEAD, or use a local clone"
                )
            self._fetches += 1
            try:
                objects = repo.fetch_pack(wanted + extra, filter_spec="tree:0", deepen=depth)
            except NotOurRef as exc:
                refused = refused_oid(exc)
                if not extra or refused in wanted:
                    # git refuses an object it does not have (or will not serve) this way
                    for oid in wanted:
                        self._kinds.pop(oid, None)
                    return
                self._frontier.discard(refused or "")
                objects = repo.fetch_pack(wanted, filter_spec="tree:0", deepen=depth)
        self._record(objects)

    def _record(self, objects: Mapping[str, ShaFile]) -> None:
        for oid, obj in objects.items():
            self._kinds[oid] = obj.type_name.decode("ascii")
            if isinstance(obj, Commit):
                parents = tuple(parent.decode("ascii") for parent in obj.parents)
                self._commits[oid] = CommitInfo(parents, int(obj.commit_time))
            elif isinstance(obj, Tag):
                self._targets[oid] = obj.object[1].decode("ascii")
        for oid in objects:
            self._frontier.discard(oid)
        for info in self._commits.values():
            self._frontier.update(p for p in info.parents if p not in self._commits)


def _entry(tree: Tree, name: str) -> tuple[int, str] | None:
    for item in tree.iteritems():
        if item.path == name.encode("utf-8"):
            return item.mode, item.sha.decode("ascii")
    return None


def _is_size_cap(exc: LimitExceeded, limits: RunLimits) -> bool:
    """Whether the cap hit was the response size (the others, time and request
    count, are transient).  The transport has one exception class for all three, so
    its message is the only tell; a test pins it down."""
    return str(exc).endswith(f"cap of {limits.max_response_bytes} bytes")


def _ref_name(branch: str) -> str:
    """``master`` -> ``refs/heads/master``; full names and ``HEAD`` are kept."""
    name = branch if branch.startswith("refs/") or branch == "HEAD" else f"refs/heads/{branch}"
    if not branch or _BAD_REF.search(name):
        raise SourceError(f"{branch!r} is not a valid branch name")
    return name


def _check_commit(commit: str) -> str:
    oid = commit.lower()
    if not _HEX_OID.match(oid):
        raise SourceError(f"{commit!r} is not a full commit id")
    return oid


def _check_format(commit: str, repo: UpstreamRepo) -> None:
    expected = get_object_format(repo.object_format).oid_length * 2
    if len(commit) != expected:
        raise SourceError(
            f"{commit} is not a {repo.object_format} object id ({expected} hex digits)"
        )
