"""The composition root: the outside things a door needs (tokens, the queues, the manifests
repository, the upstream verifier, the worker), built from `Settings` on first use and kept for
the life of the object (a warm Lambda container reuses connections and cached upstream answers).

Each Lambda handler keeps one `Services` made from the environment (`default_services`);
`manifest-validate serve` makes its own from its settings and options; tests pass fakes to the
constructor. Nothing here is global but that one default.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from ..settings import SecretSetting, Settings

if TYPE_CHECKING:
    from ..libraryfile.library import Library
    from ..repository import ManifestSource
    from ..repository.libraries import LibraryCache
    from ..results.ledger import Ledger
    from ..results.once import OncePublisher
    from ..results.queues import ResultQueue
    from ..upstream import GitVerifier, HistoryChecker, RegistryClient, UrlPolicy
    from ..work.jobs import Enqueued, Job, SqsWorkQueue, WorkQueue
    from ..work.worker import Worker

LOCAL_PUSH_MEMORY = 10_000  # records the local server's ledger keeps (pushes, job runs)
# A delivery that finds the same push being enqueued by another one waits this long for it to
# finish (or fail and let go) before answering 503 in_progress: within GitHub's 10 s.
DELIVERY_WAIT_SECONDS = 3.0
API_ANSWER_SECONDS = 5.0  # of the API function's time, kept for the rest of the request
API_LEASE_SECONDS = 30.0  # an attempt without a Lambda context (serve) holds a push this long
TokenSource = Callable[[], Sequence[str]]
# API Gateway answers after 30 s at most: leave room for the rest of the request.
API_VERIFY_BUDGET_SECONDS = 20.0
CACHE_SECONDS = 300  # how long a secret read from SSM or Secrets Manager is kept


def secret_source(setting: SecretSetting) -> Callable[[], str]:
    """The value of a secret: from the SSM parameter, else the Secrets Manager secret (each
    cached for a few minutes, so a rotation is seen), else the setting's own value.

    Each source has a Powertools provider of its own, made on first use, rather than the
    module-wide default one: its AWS client and cache then live and die with these services
    (a new container, a new test), never with whichever services came first in the process."""
    parameter, secret = setting.parameter, setting.secret
    if parameter:
        ssm: list[Any] = []

        def from_ssm() -> str:
            if not ssm:
                from aws_lambda_powertools.utilities.parameters import SSMProvider

                ssm.append(SSMProvider())
            return str(ssm[0].get(parameter, decrypt=True, max_age=CACHE_SECONDS))

        return from_ssm
    if secret:
        secrets: list[Any] = []

        def from_secrets_manager() -> str:
            if not secrets:
                from aws_lambda_powertools.utilities.parameters import SecretsProvider

                secrets.append(SecretsProvider())
            return str(secrets[0].get(secret, max_age=CACHE_SECONDS))

        return from_secrets_manager
    value = setting.value
    return lambda: value


class Services:
    """Built from settings; every part may be given instead (the local server, tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        tokens: TokenSource | None = None,
        queue: ResultQueue | None = None,
        verifier: GitVerifier | None = None,
        work_queue: WorkQueue | None = None,
        budget_seconds: float = API_VERIFY_BUDGET_SECONDS,
    ) -> None:
        self.settings = settings
        # the time one manifest's upstream checks may take (verifier, registry, history)
        self.budget_seconds = budget_seconds
        self._lock = threading.Lock()
        self._tokens = tokens
        self._queue = queue
        self._verifier = verifier
        self._registry: RegistryClient | None = None
        self._history: HistoryChecker | None = None
        self._work_queue = work_queue
        self._webhook_secret: Callable[[], str] | None = None
        self._sources: dict[str, ManifestSource] = {}
        self._libraries: LibraryCache | None = None
        self._ledger: Ledger | None = None
        self._sqs_queue: SqsWorkQueue | None = None

    @property
    def repository(self) -> str:
        return self.settings.repository

    @property
    def branch(self) -> str:
        return self.settings.branch

    def policy(self) -> UrlPolicy:
        from ..upstream import UrlPolicy

        return UrlPolicy(self.settings.insecure_hosts)

    def tokens(self) -> Sequence[str]:
        from ..api.auth import split_tokens

        with self._lock:
            if self._tokens is None:
                raw = secret_source(self.settings.api_tokens)
                self._tokens = lambda: split_tokens(raw())
            source = self._tokens
        return source()

    def webhook_secret(self) -> str:
        """The shared secret of the GitHub webhook (SSM, Secrets Manager or the setting)."""
        with self._lock:
            if self._webhook_secret is None:
                self._webhook_secret = secret_source(self.settings.webhook_secret)
            source = self._webhook_secret
        return source().strip()

    def source(self, repository: str) -> ManifestSource:
        """The manifests repository: over git for a URL, a local directory otherwise."""
        with self._lock:
            found = self._sources.get(repository)
            if found is None:
                from ..repository import GitManifestSource, LocalManifestSource

                if repository.startswith(("https://", "http://")):
                    found = GitManifestSource(
                        repository,
                        policy=self.policy(),
                        credentials=dict(self.settings.git_tokens),
                    )
                else:
                    found = LocalManifestSource(repository)
                self._sources[repository] = found
            return found

    def queue(self) -> ResultQueue:
        with self._lock:
            if self._queue is None:
                from ..results.queues.factory import result_queue

                self._queue = result_queue(
                    self.settings.results_queue_url,
                    bucket=self.settings.results_bucket,
                    state_dir=self.settings.state_dir,
                )
            return self._queue

    def verifier(self) -> GitVerifier:
        with self._lock:
            if self._verifier is None:
                from ..upstream import GitVerifier

                self._verifier = GitVerifier(
                    self.policy(),
                    credentials=dict(self.settings.git_tokens),
                    manifest_budget_seconds=self.budget_seconds,
                )
            return self._verifier

    def registry(self) -> RegistryClient:
        """Which architectures the pinned digests of external parents serve: one client for
        the life of the process (its answers by digest are kept as long), through the
        verifier's transport, to the mirrors of the settings (a command line's after the
        environment's: the last one for a registry wins)."""
        verifier = self.verifier()
        with self._lock:
            if self._registry is None:
                from ..settings import REGISTRY_MIRRORS
                from ..upstream import RegistryClient, parse_registry_mirror

                mirrors: dict[str, str] = {}
                for item in self.settings.registry_mirrors:  # the last one for a host wins
                    try:
                        host, url = parse_registry_mirror(item)
                    except ValueError as error:
                        raise ValueError(f"{REGISTRY_MIRRORS}: {error}") from None
                    mirrors[host] = url
                self._registry = RegistryClient(
                    self.policy(),
                    mirrors=mirrors,
                    transport=verifier.transport,
                    budget_seconds=self.budget_seconds,
                )
            return self._registry

    def history(self) -> HistoryChecker:
        """Unpleasant commits in GitCommits' histories (naughty-commits.sh): one checker for
        the life of the process (its verdicts per repository and commit are kept as long),
        through the verifier's transport and so with its credentials."""
        verifier = self.verifier()
        with self._lock:
            if self._history is None:
                from ..upstream import HistoryChecker

                self._history = HistoryChecker(
                    self.policy(),
                    transport=verifier.transport,
                    budget_seconds=self.budget_seconds,
                )
            return self._history

    def libraries(self) -> LibraryCache:
        """Libraries of the manifests repository, kept for the life of the process."""
        with self._lock:
            if self._libraries is None:
                from ..repository.libraries import LibraryCache

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

    def ledger(self) -> Ledger:
        """The delivery ledger (`results.ledger`): the DynamoDB table when one is set (AWS),
        else this process's memory (the local server: what it published is remembered by the
        embedded queue itself)."""
        with self._lock:
            if self._ledger is None:
                table = self.settings.idempotency_table
                if table:
                    from ..results.ledger_dynamodb import DynamoDbLedger

                    self._ledger = DynamoDbLedger(table)
                else:
                    from ..results.ledger import InMemoryLedger

                    self._ledger = InMemoryLedger(max_records=LOCAL_PUSH_MEMORY)
            return self._ledger

    def publisher(self) -> OncePublisher:
        """The results queue, publishing each job run's result once (`results.once`)."""
        from ..results.once import as_once_publisher

        return as_once_publisher(self.queue(), self.ledger())

    def worker(self) -> Worker:
        from ..work.worker import Worker

        return Worker(
            self.source,
            self.queue(),
            self._sqs_work_queue(),
            self.verifier(),
            self.libraries(),
            text_budget_seconds=self.settings.text_budget_seconds,
            registry=self.registry(),
            history=self.history(),
            ledger=self.ledger(),
        )

    def _sqs_work_queue(self) -> SqsWorkQueue | None:
        """The work queue on SQS when its URL is set (one client for the container's life)."""
        if not self.settings.work_queue_url:
            return None
        with self._lock:
            if self._sqs_queue is None:
                from ..work.jobs import SqsWorkQueue

                self._sqs_queue = SqsWorkQueue(self.settings.work_queue_url)
            return self._sqs_queue

    def sqs_work_queue(self) -> SqsWorkQueue | None:
        """The work queue the worker consumes, on SQS (None locally): a record whose job is
        done is deleted from it at once."""
        return self._sqs_work_queue()

    def work_queue(self) -> WorkQueue:
        """SQS when a work queue URL is set; else the one given, else jobs run in this
        process (the local server)."""
        queue = self._sqs_work_queue()
        if queue is not None:
            return queue
        if self._work_queue is not None:
            return self._work_queue
        worker = self.worker()
        with self._lock:
            if self._work_queue is None:
                from ..work.worker import InProcessWorkQueue

                self._work_queue = InProcessWorkQueue(worker)
            return self._work_queue

    def finished(self, run_keys: Collection[str]) -> set[str]:
        """Those job runs that are done (their result published, an EXPAND job's jobs out):
        the ledger's records on AWS, the embedded queue's locally."""
        if self.settings.idempotency_table:
            from ..results.once import finished_runs

            return finished_runs(self.ledger(), run_keys)
        return self.publisher().published(run_keys)

    def enqueue_once(
        self, push: str, delivery: str, jobs: Sequence[Job], context: Any = None
    ) -> Enqueued:
        """Enqueue the jobs of one push, each once: a redelivery (or the same body under a new
        delivery id) of a push whose jobs all went out enqueues nothing; one whose earlier
        attempt enqueued some (and failed) enqueues the rest; one that arrives while another
        attempt is at work waits a little for it, then raises RunInProgress. `push` is its
        `webhook.push_key`; the run's record lives in the delivery ledger (`work.fanout`)."""
        from ..api.webhook import push_run
        from ..results.ledger import RUN_TTL_SECONDS, ClaimState, run_record
        from ..work.fanout import RunInProgress, claim_run, fan_out
        from ..work.jobs import Enqueued

        lease = remaining_seconds(context, API_LEASE_SECONDS)
        claim = claim_run(
            self.ledger(),
            run_record(push_run(push)),
            lease_seconds=lease,
            ttl_seconds=RUN_TTL_SECONDS,
            wait_seconds=min(DELIVERY_WAIT_SECONDS, max(0.0, lease - API_ANSWER_SECONDS)),
            delivery=delivery,
        )
        if claim.state is ClaimState.DONE:
            return Enqueued(0, claim.delivery or "")
        if claim.state is ClaimState.BUSY:
            raise RunInProgress(f"push {push[:12]} is being enqueued by another delivery")
        done = fan_out(self.ledger(), claim, jobs, self.work_queue(), done=self.finished)
        return Enqueued(done.enqueued, None, done.skipped)


def remaining_seconds(context: Any, default: float) -> float:
    """How long the invocation may still run (a Lambda context's), else `default`."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else default


@functools.cache
def default_services() -> Services:
    """The services of this Lambda container, made from its environment on first use."""
    return Services(Settings.from_env())
