"""Jobs on the work queue: "validate library/NAME of REPOSITORY at COMMIT", "NAME was removed at
COMMIT", or "re-validate every manifest at COMMIT" (expanded by the worker into one job each).

The webhook and the scheduled re-validation produce jobs; the worker consumes them. A job is
small, self-contained and immutable (it names a commit, never a branch), so handling it twice
gives the same result.
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

JOB_VERSION = 1


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

    @property
    def id(self) -> str:
        """Same work = same id (the origin event does not count)."""
        work: list[str | None] = [self.action, self.repository, self.commit, self.manifest]
        if self.base is not None:  # (ids of jobs without a base stay as they were)
            work.append(self.base)
        key = json.dumps(work)
        return hashlib.sha256(key.encode()).hexdigest()

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
        return cls(action, repository, commit, trigger, manifest, origin_event, base)

    @classmethod
    def parse(cls, body: str) -> Job:
        try:
            return cls.from_json(json.loads(body))
        except json.JSONDecodeError as error:
            raise InvalidJob(f"not JSON: {error}") from error


class EnqueueError(Exception):
    """Some jobs were not enqueued (the caller must fail, so the event is retried)."""

    def __init__(self, failed: Sequence[Job], reason: str) -> None:
        super().__init__(f"{len(failed)} job(s) not enqueued: {reason}")
        self.failed = list(failed)


class DeliveryInProgress(Exception):
    """The same push is being handled right now (GitHub retried quickly, or a replay)."""


@dataclass(frozen=True, slots=True)
class Enqueued:
    """What enqueueing the jobs of one push did."""

    jobs: int  # enqueued by this call: 0 for a push seen before
    duplicate_of: str | None = None  # the delivery that first brought the push, if seen before


class WorkQueue(Protocol):
    def enqueue(self, jobs: Sequence[Job]) -> None: ...


class SqsWorkQueue:
    """The work queue on SQS: SendMessageBatch in tens, failed entries retried with backoff."""

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

    def enqueue(self, jobs: Sequence[Job]) -> None:
        for start in range(0, len(jobs), self.BATCH):
            self._send_batch(list(jobs[start : start + self.BATCH]))

    def _send_batch(self, batch: list[Job]) -> None:
        pending = {str(index): job for index, job in enumerate(batch)}
        reason = ""
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 1) * (1 + random.random()))
            entries = [
                {"Id": key, "MessageBody": json.dumps(job.to_json())}
                for key, job in pending.items()
            ]
            try:
                response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as error:  # botocore errors: the whole batch failed
                reason = type(error).__name__
                continue
            for success in response.get("Successful", []):
                pending.pop(success["Id"], None)
            failed = response.get("Failed", [])
            permanent = [f for f in failed if f.get("SenderFault")]
            if permanent:
                raise EnqueueError(
                    [pending[f["Id"]] for f in permanent], permanent[0].get("Code", "sender fault")
                )
            if not pending:
                return
            reason = failed[0].get("Code", "failed") if failed else "no answer for some entries"
        raise EnqueueError(list(pending.values()), reason)
