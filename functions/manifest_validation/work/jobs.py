"""Jobs on the work queue: "validate library/NAME of REPOSITORY at COMMIT", "NAME was removed at
COMMIT", or "re-validate every manifest at COMMIT" (expanded by the worker into one job each).

The webhook and the scheduled re-validation produce jobs; the worker consumes them. A job is
small, self-contained and immutable (it names a commit, never a branch), so handling it twice
gives the same result.

A job also names its *run*: what started it, the push (repository, ref, before, after) or the
schedule's event. `Job.id` is the work ("validate python at C"), `Job.run_key` the work within
one run: every retry of a run (a redelivered webhook, a retried schedule, a job delivered again)
has the same run key, while tomorrow's re-validation of the same commit is a new run with a new
key. The delivery ledger (`results.ledger`) remembers by run key what was enqueued and published.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from ..libraryfile.names import COMMIT, IMAGE_NAME
from ..results.origin import Trigger
from ..results.outage import DependencyUnavailable

JOB_VERSION = 1
MAX_RUN = 1024  # characters of a job's run (a push key or an event id: far fewer)


class Action(StrEnum):
    VALIDATE = "validate"
    REMOVED = "removed"
    EXPAND = "expand"  # list every manifest at the commit and enqueue one job each


class InvalidJob(ValueError):
    """A message that is not a job: retrying cannot help (it goes to the DLQ)."""


@dataclass(frozen=True, slots=True)
class Job:
    action: Action
    repository: str
    commit: str
    trigger: Trigger
    manifest: str | None = None  # None for EXPAND
    origin_event: str | None = None  # the webhook delivery or schedule that caused it
    base: str | None = None  # the commit before the push: the result says what changed since
    # what started the job: "push:<push key>" or "schedule:<event id>" (see run_key)
    run: str | None = None

    @property
    def id(self) -> str:
        """Same work = same id (the origin event does not count)."""
        work: list[str | None] = [self.action, self.repository, self.commit, self.manifest]
        if self.base is not None:  # (ids of jobs without a base stay as they were)
            work.append(self.base)
        key = json.dumps(work)
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def run_key(self) -> str | None:
        """The job within its run: the same for every retry of that run, and for nothing else.
        None for a job that names no run nor origin (the command line's runs: nothing to
        remember, every run is new)."""
        run = self.run if self.run is not None else self.origin_event
        if run is None:
            return None
        return hashlib.sha256(json.dumps([self.id, run]).encode()).hexdigest()

    @property
    def path(self) -> str | None:
        return f"library/{self.manifest}" if self.manifest else None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "job_version": JOB_VERSION,
            "action": self.action.value,
            "repository": self.repository,
            "commit": self.commit,
            "trigger": self.trigger.value,
        }
        if self.manifest is not None:
            document["manifest"] = self.manifest
        if self.origin_event is not None:
            document["origin_event"] = self.origin_event
        if self.base is not None:
            document["base"] = self.base
        if self.run is not None:
            document["run"] = self.run
        return document

    @classmethod
    def from_json(cls, document: Any) -> Job:
        if not isinstance(document, dict) or document.get("job_version") != JOB_VERSION:
            raise InvalidJob("not a job of version 1")
        try:
            action = Action(document["action"])
            trigger = Trigger(document["trigger"])
            repository = document["repository"]
            commit = document["commit"]
        except (KeyError, ValueError) as error:
            raise InvalidJob(f"bad job: {error}") from error
        manifest = document.get("manifest")
        if not isinstance(repository, str) or not repository:
            raise InvalidJob("bad job: repository")
        if not isinstance(commit, str) or not COMMIT.fullmatch(commit):
            raise InvalidJob("bad job: commit")
        if action is Action.EXPAND:
            if manifest is not None:
                raise InvalidJob("bad job: an expand job names no manifest")
        elif not isinstance(manifest, str) or not IMAGE_NAME.fullmatch(manifest):
            raise InvalidJob("bad job: manifest")
        origin_event = document.get("origin_event")
        if origin_event is not None and not isinstance(origin_event, str):
            raise InvalidJob("bad job: origin_event")
        base = document.get("base")
        if base is not None and (not isinstance(base, str) or not COMMIT.fullmatch(base)):
            raise InvalidJob("bad job: base")
        run = document.get("run")
        if run is not None and (not isinstance(run, str) or not 0 < len(run) <= MAX_RUN):
            raise InvalidJob("bad job: run")
        return cls(action, repository, commit, trigger, manifest, origin_event, base, run)

    @classmethod
    def parse(cls, body: str) -> Job:
        try:
            return cls.from_json(json.loads(body))
        except json.JSONDecodeError as error:
            raise InvalidJob(f"not JSON: {error}") from error


class EnqueueError(DependencyUnavailable):
    """Some jobs were not enqueued: `failed` names exactly those, `sent` the ones of the same call
    that went out (the caller records them, so that its retry enqueues only the rest)."""

    def __init__(self, failed: Sequence[Job], reason: str, *, sent: Sequence[Job] = ()) -> None:
        total = len(failed) + len(sent)
        super().__init__(f"{len(failed)} of {total} job(s) not enqueued: {reason}")
        self.failed = list(failed)
        self.sent = list(sent)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Enqueued:
    """What enqueueing the jobs of one push did."""

    jobs: int  # enqueued by this call: 0 for a push seen before
    duplicate_of: str | None = None  # the delivery that first brought the push, if seen before
    skipped: int = 0  # jobs an earlier attempt of the same push had enqueued (or that are done)


# told, after each round of sends, which jobs went out (a ledger records them)
OnSent = Callable[[Sequence["Job"]], None]


class WorkQueue(Protocol):
    def enqueue(self, jobs: Sequence[Job], on_sent: OnSent | None = None) -> None:
        """Enqueue every job or raise `EnqueueError` naming the ones that did not go out."""
        ...


def message_key(job: Job) -> str:
    """The job's message id: deterministic, the same for every retry of its run (the run key;
    for a job without a run, a digest of the message itself). A SendMessageBatch entry's Id
    (64 hex characters: within SQS's 80 of [A-Za-z0-9_-])."""
    return (
        job.run_key
        or hashlib.sha256(json.dumps(job.to_json(), sort_keys=True).encode()).hexdigest()
    )


class SqsWorkQueue:
    """The work queue on SQS: SendMessageBatch in tens. Every batch is tried, whatever happened
    to the ones before; the entries that failed (not by the sender's fault: throttling, a
    service error, a refused request) are tried again, all together, in up to `attempts` rounds
    with backoff. A partial failure therefore costs one retry per round, not per batch, and the
    error names exactly the jobs that did not go out."""

    BATCH = 10

    def __init__(
        self,
        queue_url: str,
        *,
        client: Any = None,
        attempts: int = 4,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.queue_url = queue_url
        self._client = client
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    @property
    def name(self) -> str:
        """The queue's name (the last segment of its URL, as in its ARN)."""
        return self.queue_url.rstrip("/").rsplit("/", 1)[-1]

    def delete(self, receipt_handle: str) -> None:
        """Delete one received message (its job is done): the event source mapping would
        delete it only when the whole batch's invocation ends. Deleting twice is harmless."""
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt_handle)

    def enqueue(self, jobs: Sequence[Job], on_sent: OnSent | None = None) -> None:
        pending = list({message_key(job): job for job in jobs}.items())  # a job once per call
        sent: list[Job] = []
        refused: list[Job] = []  # the sender's fault: retrying cannot help
        reason = ""
        for attempt in range(self.attempts):
            if not pending:
                break
            if attempt:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 1) * (1 + random.random()))
            failed: list[tuple[str, Job]] = []
            went_out: list[Job] = []
            for start in range(0, len(pending), self.BATCH):
                batch = dict(pending[start : start + self.BATCH])
                ok, retry, permanent, why = self._send_batch(batch)
                went_out += ok
                failed += retry
                refused += permanent
                reason = why or reason
            if went_out:
                sent += went_out
                if on_sent is not None:
                    on_sent(went_out)
            pending = failed
        if pending or refused:
            raise EnqueueError([job for _, job in pending] + refused, reason, sent=sent)

    def _send_batch(
        self, batch: dict[str, Job]
    ) -> tuple[list[Job], list[tuple[str, Job]], list[Job], str]:
        """One SendMessageBatch: (sent, to retry, refused for good, the reason of a failure)."""
        entries = [
            {"Id": key, "MessageBody": json.dumps(job.to_json())} for key, job in batch.items()
        ]
        try:
            response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except Exception as error:  # botocore errors: the whole batch failed; worth a retry
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            return [], list(batch.items()), [], str(code or type(error).__name__)
        sent = [batch[s["Id"]] for s in response.get("Successful", []) if s.get("Id") in batch]
        answered = {s.get("Id") for s in response.get("Successful", [])}
        retry: list[tuple[str, Job]] = []
        permanent: list[Job] = []
        reason = ""
        for failure in response.get("Failed", []):
            key = failure.get("Id")
            if key not in batch:
                continue
            answered.add(key)
            reason = str(failure.get("Code") or "failed")
            if failure.get("SenderFault"):
                permanent.append(batch[key])
            else:
                retry.append((key, batch[key]))
        # an entry in neither list has not been seen to go out: it is retried
        unanswered = [(key, job) for key, job in batch.items() if key not in answered]
        if unanswered:
            reason = reason or "no answer for some entries"
        return sent, retry + unanswered, permanent, reason
