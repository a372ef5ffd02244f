"""The worker: one job at a time, from the manifests repository to a published result.

Nothing is lost and nothing is called invalid because a host was down: a transient failure
(the manifests repository or an upstream repository unreachable) raises `RetryLater`, so the
queue delivers the job again; on the last attempt the result is published as `unverified`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..application import Base, ManifestInput, Options, check
from ..libraryfile.library import Library
from ..problems.catalog import problem
from ..problems.status import Status
from ..results.ledger import JOB_TTL_SECONDS, ClaimState, InMemoryLedger, Ledger, job_record
from ..results.messages import make_message, removed_message
from ..results.once import ClaimHeld, OncePublisher, as_once_publisher
from ..results.origin import Origin, Trigger
from .fanout import fan_out
from .jobs import Action, EnqueueError, Job, OnSent, WorkQueue

if TYPE_CHECKING:
    from ..repository import ManifestSource
    from ..repository.libraries import LibraryCache
    from ..results.queues import ResultQueue
    from ..upstream import GitVerifier, HistoryChecker, RegistryClient


log = logging.getLogger(__name__)
# how long an attempt without a deadline of its own (in process) holds a job run's claim
DEFAULT_LEASE_SECONDS = 300.0


class RetryLater(Exception):
    """A transient failure: let the queue deliver the job again."""


SourceFactory = Callable[[str], "ManifestSource"]


def origin_for(job: Job, content: bytes) -> Origin:
    if job.repository.startswith(("https://", "http://")):
        return Origin.of(
            "git", content, repository=job.repository, commit=job.commit, path=job.path
        )
    return Origin.of("file", content, path=f"{job.repository}/{job.path}")


def unreachable_message(job: Job, detail: str) -> dict[str, Any]:
    """The result when the manifest itself could not be read on the last attempt."""
    found = problem(
        "git-repo-unreachable",
        f"library/{job.manifest} could not be read at {job.commit[:12]}: {detail}",
    )
    origin = origin_for(job, b"")
    return make_message(
        str(job.manifest),
        origin,
        trigger=job.trigger,
        status=Status.UNVERIFIED.value,
        checks={},
        problems=[found.to_json()],
        outcome=["unreadable", job.commit],
    )


def _library_cache() -> LibraryCache:
    # (imported when a worker is made: the repository package brings the git client, which a
    # cold start of the handlers does not load)
    from ..repository.libraries import LibraryCache

    return LibraryCache()


@dataclass
class Worker:
    sources: SourceFactory
    results: ResultQueue
    work_queue: WorkQueue | None = None  # where EXPAND jobs go; None: returned to the caller
    verifier: GitVerifier | None = None
    # the other manifests at each job's commit, for the parent checks (with the verifier)
    libraries: LibraryCache = field(default_factory=_library_cache)
    # the time budget of a job's text checks; None: unbounded (see validate_many's deadline)
    text_budget_seconds: float | None = None
    # with the verifier: the registries of pinned external parents, unpleasant commits
    registry: RegistryClient | None = None
    history: HistoryChecker | None = None
    # what each job run already did (its result published, an EXPAND's jobs enqueued)
    ledger: Ledger = field(default_factory=InMemoryLedger)
    publisher: OncePublisher = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = as_once_publisher(self.results, self.ledger)

    def handle(
        self, job: Job, *, final_attempt: bool, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> list[Job]:
        """Do one job. Returns the jobs an EXPAND produced when there is no work queue.

        Its result is published once per job run (`Job.run_key`): a job run whose result is
        out already publishes nothing. `lease_seconds` is how long this attempt may still run
        (the Lambda invocation's remaining time): until then no other attempt takes its claim
        over."""
        from ..repository import SourceError, SourceUnavailable

        try:
            source = self.sources(job.repository)
            if job.action is Action.EXPAND:
                return self._expand(job, source, final_attempt, lease_seconds)
            if job.action is Action.REMOVED:
                self._publish(job, self._removed(job), lease_seconds)
                return []
            assert job.manifest is not None
            contents = source.read(job.commit, [job.manifest])
        except SourceUnavailable as error:
            if not final_attempt or job.action is not Action.VALIDATE:
                raise RetryLater(str(error)) from error
            self._publish(job, unreachable_message(job, str(error)), lease_seconds)
            return []
        except SourceError:
            raise  # permanent: the job ends in the DLQ, where an alarm tells a person
        data = contents.get(job.manifest)
        if data is None:  # gone at this commit: the push removed it after all
            self._publish(job, self._removed(job), lease_seconds)
            return []
        base = None
        if job.base is not None:
            base = self._base(job, source, final_attempt=final_attempt)
        item = ManifestInput(
            job.manifest, data, job.path or job.manifest, origin_for(job, data), base
        )
        options = Options(
            job.trigger,
            verifier=self.verifier,
            library=self._library(job, source) if self.verifier is not None else None,
            registry=self.registry if self.verifier is not None else None,
            history=self.history if self.verifier is not None else None,
            text_budget_seconds=self.text_budget_seconds,
            too_complex_base="omit",  # the result goes out without what changed
        )
        (checked,) = check([item], options=options)
        if checked.result.status is Status.UNVERIFIED and not final_attempt:
            raise RetryLater(f"{job.manifest}: an upstream repository could not be reached")
        assert checked.message is not None
        self._publish(job, checked.message, lease_seconds)
        return []

    def _library(self, job: Job, source: ManifestSource) -> Library:
        """Every manifest and the external pins at the job's commit (read when a parent needs
        them, once per commit)."""
        libraries = self.libraries
        return Library.lazy(lambda: libraries.at(job.repository, job.commit, lambda: source))

    def _base(self, job: Job, source: ManifestSource, *, final_attempt: bool) -> Base | None:
        """The manifest at `job.base`, what the push changed it from. A base that cannot be
        read is retried like the manifest; on the last attempt (or when the commit is gone,
        e.g. after a forced push on a mirror) the result goes out without `changes`."""
        from ..repository import SourceError, SourceUnavailable

        assert job.base is not None and job.manifest is not None
        try:
            text = source.read(job.base, [job.manifest]).get(job.manifest)
        except SourceUnavailable as error:
            if not final_attempt:
                raise RetryLater(str(error)) from error
            log.warning("no changes for %s: %s", job.manifest, error)
            return None
        except SourceError as error:
            log.warning("no changes for %s: %s", job.manifest, error)
            return None
        origin = {"commit": job.base}
        if text is not None:
            origin["sha256"] = Origin.of("git", text).sha256
        return Base(text, origin)

    def _removed(self, job: Job) -> dict[str, Any]:
        return removed_message(str(job.manifest), origin_for(job, b""), trigger=job.trigger)

    def _expand(
        self, job: Job, source: ManifestSource, final_attempt: bool, lease_seconds: float
    ) -> list[Job]:
        """Every manifest at the commit, validated; and every one present at the base (the
        commit before the push, when known) but not at the commit, removed: a push of 20+
        commits or a forced push says nothing trustworthy about what it deleted.

        The fan-out resumes (`work.fanout`): the job run's record says which jobs a failed
        attempt enqueued, and the next attempt enqueues the rest."""
        if self.work_queue is None:  # in process: the caller runs them
            return self._expansion(job, source, final_attempt)
        key = job.run_key
        if key is None:
            self.work_queue.enqueue(self._expansion(job, source, final_attempt))
            return []
        claim = self.ledger.claim(
            job_record(key), lease_seconds=lease_seconds, ttl_seconds=JOB_TTL_SECONDS
        )
        if claim.state is ClaimState.DONE:
            log.info("this EXPAND job run enqueued its jobs before")
            return []
        if claim.state is ClaimState.BUSY:
            raise RetryLater("another attempt is enqueueing this job's jobs")
        try:
            jobs = self._expansion(job, source, final_attempt)
        except BaseException:
            self.ledger.release(claim)
            raise
        try:
            fan_out(self.ledger, claim, jobs, self.work_queue, done=self.publisher.published)
        except EnqueueError as error:
            raise RetryLater(str(error)) from error
        return []

    def _expansion(self, job: Job, source: ManifestSource, final_attempt: bool) -> list[Job]:
        names = source.list_manifests(job.commit)
        return expand(job, names) + removed(job, self._gone(job, source, names, final_attempt))

    def _gone(
        self, job: Job, source: ManifestSource, names: list[str], final_attempt: bool
    ) -> list[str]:
        """The manifests at `job.base` that are not among `names`. A base that cannot be read
        now is retried like the listing; one that is gone for good (a forced push on a mirror
        that pruned it), or still unreadable on the last attempt, lists nothing (logged)."""
        from ..repository import SourceError, SourceUnavailable

        if job.base is None:
            return []
        try:
            before = source.list_manifests(job.base)
        except SourceUnavailable as error:
            if not final_attempt:
                raise RetryLater(str(error)) from error
            log.warning("no removals from %s: %s", job.base[:12], error)
            return []
        except SourceError as error:
            log.warning("no removals from %s: %s", job.base[:12], error)
            return []
        return sorted(set(before) - set(names))

    def _publish(self, job: Job, message: dict[str, Any], lease_seconds: float) -> None:
        run_key = job.run_key
        if run_key is None:  # a job of no run (the command line's): nothing to remember
            self.results.publish([message])
            return
        try:
            if not self.publisher.publish_once(run_key, message, lease_seconds=lease_seconds):
                log.info("%s: this job run's result was published before", job.manifest)
        except ClaimHeld as error:
            raise RetryLater(str(error)) from error


def expand(job: Job, names: list[str], *, only: set[str] | None = None) -> list[Job]:
    """One VALIDATE job per manifest (optionally only some of them)."""
    return _per_manifest(job, Action.VALIDATE, [n for n in names if only is None or n in only])


def removed(job: Job, names: list[str]) -> list[Job]:
    """One REMOVED job per manifest the EXPAND `job`'s commit no longer has."""
    return _per_manifest(job, Action.REMOVED, names)


def _per_manifest(job: Job, action: Action, names: list[str]) -> list[Job]:
    """The EXPAND `job`'s jobs of `action`, one per manifest: same repository, commit, trigger,
    origin, base and run (the run is what makes a retried fan-out publish once)."""
    return [replace(job, action=action, manifest=name) for name in names]


class InProcessWorkQueue:
    """Runs jobs in background threads of this process (the local server has no SQS): every
    job is final (there is no later attempt), and the jobs an EXPAND produces are run too."""

    def __init__(self, worker: Worker, *, max_workers: int = 4) -> None:
        self.worker = worker
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="local-worker")
        self._outstanding = 0
        self._idle = threading.Condition()
        self.errors: list[str] = []

    def enqueue(self, jobs: Sequence[Job], on_sent: OnSent | None = None) -> None:
        with self._idle:
            self._outstanding += len(jobs)
        for job in jobs:
            self._pool.submit(self._run, job)
        if on_sent is not None and jobs:
            on_sent(list(jobs))

    def _run(self, job: Job) -> None:
        try:
            self.enqueue(self.worker.handle(job, final_attempt=True))
        except Exception as error:  # keep the server alive; the error is kept for reporting
            self.errors.append(f"{job.manifest or job.commit}: {type(error).__name__}: {error}")
        finally:
            with self._idle:
                self._outstanding -= 1
                self._idle.notify_all()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every job, expanded ones included, is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)


__all__ = ["InProcessWorkQueue", "RetryLater", "Trigger", "Worker", "expand", "removed"]
