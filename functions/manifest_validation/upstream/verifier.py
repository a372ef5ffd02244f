"""Verify ``(repo, ref, commit)`` claims against upstream git servers.

Per ``verify()`` run:

1. URLs are checked by policy without any network access; refused repositories get
   ``URL_FORBIDDEN`` and are never contacted.
2. For each remaining repository (in parallel, bounded): resolve and pin the address,
   read the advertisement, then ONE ``ls-refs`` naming every ref the run needs there.
3. For each unique (repository, tip, commit) (in parallel, bounded): tip equality,
   then the answer cache, then fetch negotiations (:meth:`GitVerifier._reachable`).

Every failure of the network or of a cap turns into ``UNREACHABLE`` for the affected
checks only: a broken mirror must not be reported as a broken manifest.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from .cache import AnswerCache, MemoryAnswerCache, exists_key, reachable_key
from .contexts import ContextRequest, ContextResult
from .files import FileReader, FileRequest, FileResult, Reading
from .model import GitCheck, GitOutcome, Outcome
from .pktline import NotOurRef, ServerError
from .policy import ForbiddenUrl, RepoLocation, ResolutionFailed, UrlPolicy
from .protocol import Negotiation, RefTip, UpstreamRepo
from .transport import RunLimits, Transport, TransportClient, UpstreamUnavailable

__all__ = ["GitVerifier"]

log = logging.getLogger(__name__)

K = TypeVar("K")
R = TypeVar("R")
# (what: "repositories", "commits" or "Dockerfiles", how many are done, of how many)
Progress = Callable[[str, int, int], None]
_HEX = re.compile(r"^[0-9a-f]+$")
_OID_LENGTH = {"sha1": 40, "sha256": 64}


def ref_candidates(ref: str) -> list[str]:
    """Full ref names ``ref`` may denote, in git's rev-parse order (tags first)."""
    if ref.startswith("refs/") or ref == "HEAD":
        return [ref]
    return [f"refs/{ref}", f"refs/tags/{ref}", f"refs/heads/{ref}"]


@dataclass
class _RepoState:
    """Outcome of phase 2 for one repository: a live client plus its refs, or a
    verdict for all of its checks."""

    repo: UpstreamRepo | None = None
    refs: dict[str, RefTip] | None = None
    failure: tuple[Outcome, str] | None = None


class GitVerifier(TransportClient):
    """Checks manifests' git references over git's smart HTTP protocol.

    One instance can serve many ``verify()`` calls (e.g. a warm Lambda container):
    connections are kept alive and immutable answers are cached between calls.
    """

    def __init__(
        self,
        policy: UrlPolicy | None = None,
        *,
        cache: AnswerCache | None = None,
        credentials: Mapping[str, str] | None = None,
        max_workers: int = 8,
        connect_timeout: float = 5,
        read_timeout: float = 20,
        manifest_budget_seconds: float = 120,
        max_response_bytes: int = 64 * 1024 * 1024,
        max_requests: int = 2000,
        retries: int = 3,
        progress: Progress | None = None,
    ) -> None:
        self.policy = policy if policy is not None else UrlPolicy()
        # told (what, done, total) as the repositories and commits of a run are decided, and
        # when the Dockerfiles are read: a command line shows it on a terminal
        self.progress = progress
        self.cache: AnswerCache = cache if cache is not None else MemoryAnswerCache()
        self.max_workers = max(1, max_workers)
        self.manifest_budget_seconds = manifest_budget_seconds
        self.max_response_bytes = max_response_bytes
        self.max_requests = max_requests
        self._use_transport(
            None,  # its own: closed with the verifier, lent to its other clients (`transport`)
            credentials=credentials,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            pool_size=self.max_workers,
        )
        self._files = FileReader(
            self.policy,
            self._transport,
            max_workers=self.max_workers,
            budget_seconds=manifest_budget_seconds,
            max_requests=max_requests,
            max_response_bytes=max_response_bytes,
        )

    @property
    def transport(self) -> Transport:
        """The guarded HTTP session, for other clients of the same upstreams to share
        (:class:`~.history.HistoryChecker`, :class:`~.registry.RegistryClient`): one
        set of pools, credentials and counters.  Closed with this verifier."""
        return self._transport

    # ------------------------------------------------------------------------------

    def read_files(self, requests: Iterable[FileRequest]) -> dict[FileRequest, FileResult]:
        """Read files at commits (Dockerfiles): a result for every request.

        Per repository at most three requests (the advertisement, unless ``verify()``
        read it recently; one fetch of all commits' trees; one of all wanted blobs),
        with this verifier's policy, credentials, caps and retries; trees and blobs
        are cached by id.  See :mod:`.files`.
        """
        wanted = list(requests)
        self._tell("Dockerfiles", 0, len(wanted))
        try:
            return self._files.read(wanted)
        finally:
            self._tell("Dockerfiles", len(wanted), len(wanted))

    def read(
        self, files: Iterable[FileRequest] = (), contexts: Iterable[ContextRequest] = ()
    ) -> Reading:
        """Read files and build contexts at commits together: a result for each.

        Per repository at most three requests for all of them, whatever the number of
        commits, files and contexts (the advertisement, unless read recently; ONE
        fetch of every commit's trees; ONE of every wanted blob, the files' and the
        contexts'), plus one per symbolic link followed when a context's Directory is
        one.  Only when the blobs would take more than the response cap are they
        fetched again in parts: the files' on their own, and each context's capped by
        its ``max_bytes``.  A context's result carries bashbrew's
        ``reproducibleGitChecksum`` and ``SOURCE_DATE_EPOCH`` (see :mod:`.contexts`).
        """
        got_files, got_contexts = self._files.read_all(files, contexts)
        return Reading(got_files, got_contexts)

    def read_contexts(
        self, contexts: Iterable[ContextRequest]
    ) -> dict[ContextRequest, ContextResult]:
        """:meth:`read` of build contexts alone."""
        return self._files.read_all((), contexts)[1]

    def verify(self, checks: Iterable[GitCheck]) -> dict[GitCheck, GitOutcome]:
        """Decide every check; always returns an outcome for each of them."""
        unique = list(dict.fromkeys(checks))
        limits = RunLimits(
            budget_seconds=self.manifest_budget_seconds,
            max_requests=self.max_requests,
            max_response_bytes=self.max_response_bytes,
        )
        results: dict[GitCheck, GitOutcome] = {}
        by_repo: dict[str, list[GitCheck]] = defaultdict(list)
        for check in unique:
            by_repo[check.repo].append(check)

        locations: dict[str, RepoLocation] = {}
        for repo_url, repo_checks in by_repo.items():
            try:
                locations[repo_url] = self.policy.parse(repo_url)
            except ForbiddenUrl as exc:
                for check in repo_checks:
                    results[check] = _forbidden(check, exc)

        pool = cf.ThreadPoolExecutor(self.max_workers, thread_name_prefix="git-verify")
        try:
            states = self._run_phase(
                "repositories",
                pool,
                limits,
                {
                    repo_url: partial(self._open_repo, limits, location, by_repo[repo_url])
                    for repo_url, location in locations.items()
                },
                lambda exc: _RepoState(failure=(Outcome.UNREACHABLE, str(exc))),
            )
            pairs: dict[tuple[str, str, str], list[GitCheck]] = defaultdict(list)
            for repo_url, state in states.items():
                for check in by_repo[repo_url]:
                    verdict = self._ref_verdict(check, locations[repo_url], state)
                    if isinstance(verdict, GitOutcome):
                        results[check] = verdict
                    else:
                        pairs[(repo_url, verdict.commit, check.commit.lower())].append(check)
            # Commits checked against the same tip are settled together first: one round
            # proves every reachable one, one more finds the missing ones; only the rest
            # (suspected defects) get their own exact rounds below.
            groups: dict[tuple[str, str], list[str]] = defaultdict(list)
            for repo_url, tip, commit in pairs:
                groups[(repo_url, tip)].append(commit)
            settled: dict[tuple[str, str, str], bool | None] = {}
            group_answers = self._run_phase(
                "commits",
                pool,
                limits,
                {
                    key: partial(
                        self._settle_group, states[key[0]], locations[key[0]], key[1], commits
                    )
                    for key, commits in groups.items()
                    if len(commits) > 1
                },
                lambda exc: {},
            )
            for (repo_url, tip), answers_of_group in group_answers.items():
                for commit, answer in answers_of_group.items():
                    settled[(repo_url, tip, commit)] = answer
            answers = self._run_phase(
                "commits",
                pool,
                limits,
                {
                    key: partial(
                        self._decide,
                        states[key[0]],
                        locations[key[0]],
                        key[1],
                        key[2],
                        in_reverse_pack=settled.get(key) is False,
                    )
                    for key in pairs
                    if settled.get(key, False) is False
                },
                lambda exc: (Outcome.UNREACHABLE, str(exc)),
            )
            for key, answer in settled.items():
                if answer is True:
                    answers[key] = (Outcome.OK, "reachable")
                elif answer is None:
                    answers[key] = (Outcome.COMMIT_NOT_FOUND, "absent")
            for key, pair_checks in pairs.items():
                outcome, reason = answers[key]
                for check in pair_checks:
                    results[check] = _describe(check, locations[key[0]], outcome, reason, key[1])
        finally:
            # Stragglers past the budget are abandoned; they stop at their next
            # request or chunk because they share ``limits``.
            pool.shutdown(wait=False, cancel_futures=True)
        return {check: results[check] for check in unique}

    def descends(self, repo_url: str, ancestor: str, descendant: str) -> tuple[bool | None, str]:
        """Whether commit ``descendant`` has ``ancestor`` in its history in ``repo_url``:
        True, False, or None when it could not be decided (the sentence says why).

        The reachability machinery of :meth:`verify` with ``descendant`` as the tip, after
        one probe ``want descendant, have ancestor`` (a refused want: the descendant is not
        served, so nothing can be said; no ACK: the ancestor does not exist there, and a
        repository holds the whole history of every commit it has, so it is not an
        ancestor). Cost: two or three small requests; no history is downloaded.
        """
        ancestor, descendant = ancestor.lower(), descendant.lower()
        try:
            location = self.policy.parse(repo_url)
        except ForbiddenUrl as exc:
            return None, _sentence(f"repository URL refused: {exc}")
        where = location.display
        limits = RunLimits(
            budget_seconds=self.manifest_budget_seconds,
            max_requests=self.max_requests,
            max_response_bytes=self.max_response_bytes,
        )
        try:
            address = self.policy.resolve(location)
            repo = UpstreamRepo(self._transport, limits, location, address, self.policy.check)
            expected = _OID_LENGTH.get(repo.object_format, 40)
            for commit in (ancestor, descendant):
                if len(commit) != expected or not _HEX.match(commit):
                    return None, f"{commit} is not a full {expected}-hex object id."
            if ancestor == descendant:
                return True, "Same commit."
            key = reachable_key(where, descendant, ancestor)
            cached = self.cache.get(key)
            if cached is None:
                try:
                    probe = repo.negotiate(descendant, ancestor, done=False)
                except NotOurRef:
                    return None, f"Commit {descendant} is not served by {where}."
                if not probe.acked and not probe.acked_oids:
                    return False, f"Commit {ancestor} no longer exists in {where}."
                self.cache.put(exists_key(where, ancestor), True)
                reachable = self._reachable(repo, location, descendant, ancestor)
                if reachable is None:
                    return False, f"Commit {ancestor} no longer exists in {where}."
                self.cache.put(key, reachable)
                cached = reachable
        except ServerError as exc:
            return None, _sentence(
                f"could not check against {where}: {_server_error(location, exc)}"
            )
        except (UpstreamUnavailable, ResolutionFailed) as exc:
            return None, _sentence(f"could not check against {where}: {exc}")
        except ForbiddenUrl as exc:
            return None, _sentence(f"repository URL refused: {exc}")
        if cached:
            return True, f"Commit {descendant} descends from {ancestor} in {where}."
        return False, f"Commit {descendant} does not descend from {ancestor} in {where}."

    def _tell(self, what: str, done: int, total: int) -> None:
        if self.progress is not None and total:
            self.progress(what, done, total)

    def _run_phase(
        self,
        what: str,
        pool: cf.ThreadPoolExecutor,
        limits: RunLimits,
        jobs: Mapping[K, Callable[[], R]],
        on_error: Callable[[BaseException], R],
    ) -> dict[K, R]:
        """Run ``jobs`` {key: thunk} on the pool within the run's deadline (``progress``,
        if any, told of each job done: ``what`` they decide).

        Exceptions become ``on_error(exc)``; jobs unfinished at the deadline become
        ``on_error`` of a budget message.
        """
        futures = {pool.submit(job): key for key, job in jobs.items()}
        done: set[cf.Future[R]] = set()
        self._tell(what, 0, len(futures))
        try:
            for future in cf.as_completed(futures, timeout=max(0.0, limits.remaining())):
                done.add(future)
                self._tell(what, len(done), len(futures))
        except cf.TimeoutError:
            pass  # what is not done now is decided by on_error below
        out: dict[K, R] = {}
        for future, key in futures.items():
            if future in done:
                exc = future.exception()
                out[key] = future.result() if exc is None else on_error(exc)
            else:
                out[key] = on_error(
                    UpstreamUnavailable("the time budget for verifying this manifest ran out")
                )
        return out

    # -- phase 2: repository and refs ---------------------------------------------

    def _open_repo(
        self, limits: RunLimits, location: RepoLocation, checks: list[GitCheck]
    ) -> _RepoState:
        try:
            address = self.policy.resolve(location)
            repo = UpstreamRepo(self._transport, limits, location, address, self.policy.check)
            names = {name for check in checks for name in ref_candidates(check.ref)}
            state = _RepoState(repo=repo, refs=repo.list_refs(names))
            self._files.remember(location.display, repo)  # saves read_files a request
            return state
        except ForbiddenUrl as exc:
            return _RepoState(failure=(Outcome.URL_FORBIDDEN, f"repository URL refused: {exc}"))
        except (UpstreamUnavailable, ResolutionFailed) as exc:
            return _RepoState(failure=(Outcome.UNREACHABLE, str(exc)))
        except ServerError as exc:
            return _RepoState(failure=(Outcome.UNREACHABLE, _server_error(location, exc)))

    def _ref_verdict(
        self, check: GitCheck, location: RepoLocation, state: _RepoState
    ) -> GitOutcome | RefTip:
        if state.failure is not None:
            outcome, reason = state.failure
            if outcome is Outcome.UNREACHABLE:
                reason = f"could not verify against {location.display}: {reason}"
            return GitOutcome(check, outcome, _sentence(reason))
        assert state.refs is not None
        for name in ref_candidates(check.ref):
            if name in state.refs:
                return state.refs[name]
        return GitOutcome(
            check,
            Outcome.REF_NOT_FOUND,
            f"Ref {check.ref} does not exist in {location.display}.",
        )

    # -- phase 3: commit existence and ancestry --------------------------------------

    def _decide(
        self,
        state: _RepoState,
        location: RepoLocation,
        tip: str,
        commit: str,
        *,
        in_reverse_pack: bool = False,
    ) -> tuple[Outcome, str]:
        if commit == tip:
            return Outcome.OK, "tip"
        repo = state.repo
        assert repo is not None
        key = reachable_key(location.display, tip, commit)
        cached = self.cache.get(key)
        if cached is not None:
            return (Outcome.OK if cached else Outcome.COMMIT_NOT_IN_REF), "cached"
        try:
            expected = _OID_LENGTH.get(repo.object_format, 40)
            if len(commit) != expected or not _HEX.match(commit):
                return Outcome.COMMIT_NOT_FOUND, f"not a full {expected}-hex object id"
            reachable = self._reachable(
                repo, location, tip, commit, in_reverse_pack=in_reverse_pack
            )
            if reachable is None:
                return Outcome.COMMIT_NOT_FOUND, "absent"
        except ServerError as exc:
            return Outcome.UNREACHABLE, _server_error(location, exc)
        except (UpstreamUnavailable, ResolutionFailed) as exc:
            return Outcome.UNREACHABLE, str(exc)
        except ForbiddenUrl as exc:
            return Outcome.URL_FORBIDDEN, f"repository URL refused: {exc}"
        self.cache.put(key, reachable)
        return (Outcome.OK if reachable else Outcome.COMMIT_NOT_IN_REF), "negotiated"

    def _settle_group(
        self, state: _RepoState, location: RepoLocation, tip: str, commits: list[str]
    ) -> dict[str, bool | None]:
        """Answers for some of ``commits`` against one tip, in one or three rounds: True
        (reachable from the tip), None (the server does not have it), or False (it exists
        and the batched reverse pack holds it: a suspected defect, decided exactly later).

        1. ``want c1..cn, have tip, done``: the pack holds exactly the wanted commits
           that are not reachable from the tip, so every commit missing from it is
           reachable (the same reasoning as the single reverse fetch of
           :meth:`_reachable`, for all of them at once).
        2. If the server refuses a want (some commit is missing, or in v0 not reachable
           from any ref), ``want tip, have c1..cn`` acknowledges the ones it has; the
           others are missing, and step 1 is repeated with the ones it has.

        Commits left out of the answer (in the pack: suspected defects; or anything
        in doubt) are decided one by one, exactly.
        """
        repo = state.repo
        if repo is None:
            return {}
        expected = _OID_LENGTH.get(repo.object_format, 40)
        todo = [
            commit
            for commit in commits
            if commit != tip
            and len(commit) == expected
            and _HEX.match(commit)
            and self.cache.get(reachable_key(location.display, tip, commit)) is None
        ]
        if len(todo) < 2:
            return {}
        answers: dict[str, bool | None] = {}
        try:
            try:
                reverse = repo.negotiate_many(todo, [tip], done=True)
            except NotOurRef:
                if repo.protocol_version != 2 and "multi_ack_detailed" not in repo.caps:
                    return answers  # without it a v0 server acknowledges one have only
                probe = repo.negotiate_many([tip], todo, done=False)
                for commit in todo:
                    if commit not in probe.acked_oids:
                        answers[commit] = None
                todo = [commit for commit in todo if commit in probe.acked_oids]
                if not todo:
                    return answers
                reverse = repo.negotiate_many(todo, [tip], done=True)
        except (NotOurRef, ServerError, UpstreamUnavailable, ResolutionFailed, ForbiddenUrl):
            return answers
        if reverse.commits is None:
            return answers
        for commit in todo:
            self.cache.put(exists_key(location.display, commit), True)
            if commit not in reverse.commits:
                self.cache.put(reachable_key(location.display, tip, commit), True)
                answers[commit] = True
            else:
                answers[commit] = False  # exists; suspected defect, decided exactly later
        return answers

    def _reachable(
        self,
        repo: UpstreamRepo,
        location: RepoLocation,
        tip: str,
        commit: str,
        *,
        in_reverse_pack: bool = False,
    ) -> bool | None:
        """Whether ``commit`` is reachable from ``tip``; ``None`` if it does not exist.

        1. Reverse fetch ``want commit, have tip, done``: the pack holds what is
           reachable from the commit but not from the tip, so a pack without the
           commit proves reachability.  This is the common case of a valid manifest
           and costs one request and a few dozen bytes, whatever the distance.  The
           reverse answer is only trusted when positive: "uninteresting" marks only
           spread from the tip, so they cannot hide a commit wrongly, whereas the
           date-limited walk might in theory include one that is reachable.
        2. Otherwise (negative, or the server refuses to serve that want): the forward
           exchange ``want tip, have commit``: ACK proves existence (NAK: missing),
           and the commits between (filtered pack) show whether one of them has the
           commit as parent.  That is exact; it is only paid for suspected defects.
        """
        exists = exists_key(location.display, commit)
        if in_reverse_pack:  # a batched reverse fetch already sent it: straight to step 2
            forward = repo.negotiate(tip, commit, done=True)
            return self._ancestry(forward, tip, commit)
        try:
            reverse = repo.negotiate(commit, tip, done=True)
        except NotOurRef:
            reverse = None  # missing, or not wantable (v0: unreachable from every ref)
        if reverse is not None and reverse.commits is not None:
            self.cache.put(exists, True)
            if commit not in reverse.commits:
                return True
            forward = repo.negotiate(tip, commit, done=True)
        elif self.cache.get(exists):
            forward = repo.negotiate(tip, commit, done=True)
        else:
            forward = repo.negotiate(tip, commit, done=False)
            if not forward.acked:
                return None
            self.cache.put(exists, True)
            if forward.commits is None:
                forward = repo.negotiate(tip, commit, done=True)
        return self._ancestry(forward, tip, commit)

    @staticmethod
    def _ancestry(forward: Negotiation, tip: str, commit: str) -> bool:
        """From the forward pack (``want tip, have commit, done``): the commits between;
        ``commit`` is reachable iff one of them lists it as a parent."""
        commits = forward.commits
        if commits is None:
            raise UpstreamUnavailable("the server sent no pack to decide ancestry")
        if commits and tip not in commits:
            raise UpstreamUnavailable("the server sent a pack without the ref's tip")
        return any(commit in parents for parents in commits.values())


def _forbidden(check: GitCheck, exc: ForbiddenUrl) -> GitOutcome:
    # The URL itself is not echoed: it may be the very thing carrying a password.
    return GitOutcome(check, Outcome.URL_FORBIDDEN, _sentence(f"Repository URL refused: {exc}"))


def _server_error(location: RepoLocation, exc: ServerError) -> str:
    message = str(exc)[:200]
    return f"{location.display} reported an error: {message}"


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _describe(
    check: GitCheck, location: RepoLocation, outcome: Outcome, reason: str, tip: str
) -> GitOutcome:
    where = location.display
    if outcome is Outcome.OK:
        if reason == "tip":
            text = f"Commit {check.commit} is the tip of {check.ref} in {where}."
        else:
            text = f"Commit {check.commit} is reachable from {check.ref} (tip {tip}) in {where}."
    elif outcome is Outcome.COMMIT_NOT_FOUND:
        why = f" ({reason})" if reason not in ("absent", "cached") else ""
        text = f"Commit {check.commit} does not exist in {where}{why}."
    elif outcome is Outcome.COMMIT_NOT_IN_REF:
        text = (
            f"Commit {check.commit} exists in {where} but is not reachable from "
            f"{check.ref} (tip {tip})."
        )
    elif outcome is Outcome.UNREACHABLE:
        text = _sentence(f"could not verify against {where}: {reason}")
    else:
        text = _sentence(reason)
    return GitOutcome(check, outcome, text)
