"""The outside things a door needs (tokens, the results queue, the upstream verifier), made from
the environment on first use and kept for the life of the process (a warm Lambda container
reuses connections and cached upstream answers)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..api.auth import TokenSource, token_source_from_env, value_source

if TYPE_CHECKING:
    from ..libraryfile.library import Library, LibraryCache
    from ..repository import ManifestSource
    from ..results.queues import ResultQueue
    from ..upstream import GitVerifier
    from ..work.jobs import Enqueued, Job, WorkQueue
    from ..work.worker import Worker

ENV_GIT_TOKENS = "MANIFEST_VALIDATION_GIT_TOKENS"
ENV_IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
DEFAULT_REPOSITORY = "https://github.com/docker-library/official-images.git"
DEFAULT_BRANCH = "master"
# A push seen again within this time enqueues nothing (GitHub redelivers for days at most).
DELIVERY_MEMORY_SECONDS = 7 * 24 * 3600
LOCAL_PUSH_MEMORY = 10_000  # pushes the local server remembers
# (push key, delivery id, jobs, Lambda context) -> what was enqueued
EnqueueOnce = Callable[[str, str, Sequence["Job"], Any], "Enqueued"]
# API Gateway answers after 30 s at most: leave room for the rest of the request.
API_VERIFY_BUDGET_SECONDS = 20.0
# The time budget of the text checks (parse, schema, rules) of one request or job; real files
# take milliseconds, a hostile one is cut off (`validation-budget-exceeded`). With the git
# budget above this stays under the API function's 29 s timeout.
ENV_TEXT_BUDGET = "MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS"
DEFAULT_TEXT_BUDGET_SECONDS = 5.0


def text_budget_seconds(environ: Mapping[str, str] | None = None) -> float:
    """`MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS` (default 5); a bad value is a configuration
    error, raised rather than guessed around."""
    value = (os.environ if environ is None else environ).get(ENV_TEXT_BUDGET, "").strip()
    if not value:
        return DEFAULT_TEXT_BUDGET_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise ValueError(
            f"{ENV_TEXT_BUDGET} must be a number of seconds in (0, 3600), not {value!r}"
        )
    return seconds


def git_credentials(value: str) -> dict[str, str]:
    """Tokens per git host from `host=token,host2=token2`."""
    credentials = {}
    for item in value.split(","):
        host, equals, token = item.strip().partition("=")
        if equals and host and token:
            credentials[host.lower()] = token
    return credentials


class Services:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (tests, or after the environment changed)."""
        self._tokens: TokenSource | None = None
        self._queue: ResultQueue | None = None
        self._verifier: GitVerifier | None = None
        self._webhook_secret: Callable[[], str] | None = None
        self._work_queue: WorkQueue | None = None
        self._sources: dict[str, ManifestSource] = {}
        self._enqueue_once: EnqueueOnce | None = None
        self._libraries: LibraryCache | None = None

    @property
    def repository(self) -> str:
        from ..api.webhook import ENV_REPOSITORY

        return os.environ.get(ENV_REPOSITORY) or DEFAULT_REPOSITORY

    @property
    def branch(self) -> str:
        from ..api.webhook import ENV_BRANCH

        return os.environ.get(ENV_BRANCH) or DEFAULT_BRANCH

    def webhook_secret(self) -> str:
        """The shared secret of the GitHub webhook (SSM, Secrets Manager or the environment)."""
        from ..api.webhook import (
            ENV_WEBHOOK_SECRET,
            ENV_WEBHOOK_SECRET_PARAMETER,
            ENV_WEBHOOK_SECRET_SECRET,
        )

        with self._lock:
            if self._webhook_secret is None:
                self._webhook_secret = value_source(
                    ENV_WEBHOOK_SECRET_PARAMETER, ENV_WEBHOOK_SECRET_SECRET, ENV_WEBHOOK_SECRET
                )
            source = self._webhook_secret
        return source().strip()

    def source(self, repository: str) -> ManifestSource:
        """The manifests repository: over git for a URL, a local directory otherwise."""
        with self._lock:
            found = self._sources.get(repository)
            if found is None:
                from ..repository import GitManifestSource, LocalManifestSource
                from ..upstream import UrlPolicy

                if repository.startswith(("https://", "http://")):
                    found = GitManifestSource(
                        repository,
                        policy=UrlPolicy.from_env(),
                        credentials=git_credentials(os.environ.get(ENV_GIT_TOKENS, "")),
                    )
                else:
                    found = LocalManifestSource(repository)
                self._sources[repository] = found
            return found

    def worker(self) -> Worker:
        from ..work.worker import Worker

        return Worker(
            self.source,
            self.queue(),
            self._sqs_work_queue(),
            self.verifier(),
            self.libraries(),
            text_budget_seconds=text_budget_seconds(),
        )

    def libraries(self) -> LibraryCache:
        """Libraries of the manifests repository, kept for the life of the process."""
        with self._lock:
            if self._libraries is None:
                from ..libraryfile.library import LibraryCache

                self._libraries = LibraryCache()
            return self._libraries

    def library(self) -> Library:
        """The manifests repository's library at its branch head (the HTTP door's parents are
        checked against it), read only when a parent needs it, resolved again after a short
        TTL; unavailable with the reason when it cannot be read."""
        from ..libraryfile.library import Library

        repository, branch, libraries = self.repository, self.branch, self.libraries()
        return Library.lazy(
            lambda: libraries.head(repository, branch, lambda: self.source(repository))
        )

    def _sqs_work_queue(self) -> WorkQueue | None:
        from ..work.jobs import work_queue_from_env

        return work_queue_from_env()

    def work_queue(self) -> WorkQueue:
        """SQS when `WORK_QUEUE_URL` is set; else jobs run in this process (local server)."""
        queue = self._sqs_work_queue()
        if queue is not None:
            return queue
        worker = self.worker()
        with self._lock:
            if self._work_queue is None:
                from ..work.worker import InProcessWorkQueue

                self._work_queue = InProcessWorkQueue(worker)
            return self._work_queue

    def enqueue_once(
        self, push: str, delivery: str, jobs: Sequence[Job], context: Any = None
    ) -> Enqueued:
        """Enqueue the jobs of one push, once: the same push again (a redelivery, or the same
        body under a new delivery id) enqueues nothing. `push` is its `webhook.push_key`."""
        with self._lock:
            if self._enqueue_once is None:
                self._enqueue_once = self._make_enqueue_once()
            enqueue_once = self._enqueue_once
        return enqueue_once(push, delivery, jobs, context)

    def _make_enqueue_once(self) -> EnqueueOnce:
        table = os.environ.get(ENV_IDEMPOTENCY_TABLE, "").strip()
        if table:
            return _dynamodb_once(table, self.work_queue)
        seen: dict[str, str] = {}  # push key -> the delivery that brought it first
        seen_lock = threading.Lock()

        def in_memory(
            push: str, delivery: str, jobs: Sequence[Job], context: Any = None
        ) -> Enqueued:
            from ..work.jobs import Enqueued

            # one process only (the local server): enough to keep repeated pushes out
            with seen_lock:
                if push in seen:
                    return Enqueued(0, seen[push])
                seen[push] = delivery
                while len(seen) > LOCAL_PUSH_MEMORY:
                    del seen[next(iter(seen))]  # the oldest
            try:
                self.work_queue().enqueue(jobs)
            except Exception:
                with seen_lock:
                    seen.pop(push, None)
                raise
            return Enqueued(len(jobs))

        return in_memory

    def tokens(self) -> Sequence[str]:
        with self._lock:
            if self._tokens is None:
                self._tokens = token_source_from_env()
            source = self._tokens
        return source()

    def queue(self) -> ResultQueue:
        with self._lock:
            if self._queue is None:
                from ..results.queues import queue_from_env

                self._queue = queue_from_env()
            return self._queue

    def verifier(self) -> GitVerifier:
        with self._lock:
            if self._verifier is None:
                from ..upstream import GitVerifier, UrlPolicy

                self._verifier = GitVerifier(
                    UrlPolicy.from_env(),
                    credentials=git_credentials(os.environ.get(ENV_GIT_TOKENS, "")),
                    manifest_budget_seconds=API_VERIFY_BUDGET_SECONDS,
                )
            return self._verifier

    def use(
        self,
        *,
        tokens: TokenSource | None = None,
        queue: ResultQueue | None = None,
        verifier: GitVerifier | None = None,
        work_queue: WorkQueue | None = None,
    ) -> None:
        """Put given implementations in place (the local server, tests); a work queue given
        here is used when `WORK_QUEUE_URL` is not set."""
        with self._lock:
            if work_queue is not None:
                self._work_queue = work_queue
            if tokens is not None:
                self._tokens = tokens
            if queue is not None:
                self._queue = queue
            if verifier is not None:
                self._verifier = verifier


def _dynamodb_once(table: str, work_queue: Callable[[], WorkQueue]) -> EnqueueOnce:
    """Powertools idempotency on DynamoDB, keyed by the push (not the delivery id). A record
    holds the key's hash, its status and expiry (TTL) and the outcome: a job count and the
    first delivery id; the jobs themselves are not stored."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    from ..work.jobs import DeliveryInProgress, Enqueued

    persistence = DynamoDBPersistenceLayer(table_name=table)
    config = IdempotencyConfig(
        event_key_jmespath="push", expires_after_seconds=DELIVERY_MEMORY_SECONDS
    )

    ran = threading.local()

    @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools ships it untyped
        data_keyword_argument="request", persistence_store=persistence, config=config
    )
    def enqueue(request: dict[str, Any]) -> dict[str, Any]:
        from ..work.jobs import Job

        ran.value = True
        jobs = [Job.from_json(job) for job in request["jobs"]]
        work_queue().enqueue(jobs)
        return {"enqueued": len(jobs), "delivery": request["delivery"]}

    def once(push: str, delivery: str, jobs: Sequence[Job], context: Any = None) -> Enqueued:
        if context is not None:  # lets an in-progress record expire with the invocation
            config.register_lambda_context(context)
        ran.value = False
        request = {"push": push, "delivery": delivery, "jobs": [j.to_json() for j in jobs]}
        try:
            outcome = enqueue(request=request)
        except IdempotencyAlreadyInProgressError as error:
            raise DeliveryInProgress(delivery) from error
        if ran.value:
            return Enqueued(int(outcome["enqueued"]))
        # the push was seen: the first call's stored outcome came back without running
        return Enqueued(0, str(outcome.get("delivery") or ""))

    return once


services = Services()
