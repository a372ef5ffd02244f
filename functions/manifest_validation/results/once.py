"""Publishing a job's result once per job run, durably.

`OncePublisher.publish_once(run_key, message)` publishes the result of one job run unless that
run's result went out before, and says which it was. Two implementations:

* the embedded SQLite queue (`LocalResultQueue.publish_once`): the run's ledger row and the
  result are inserted in one transaction, so publishing and remembering are truly one step;
* `LedgeredPublisher`, any results queue (SQS FIFO) behind the delivery ledger (DynamoDB):
  claim the job run's record, storing the result in it; publish; mark the record done. A run
  that finds its record done publishes nothing. One that finds it abandoned (its holder died
  between the claim and the mark) publishes the *stored* result again, the very message (same
  `id`, same bytes) that may or may not have gone out: the only duplicate this design can
  produce, and one a consumer recognises by its `id` (docs/http-api.md, "Delivery guarantee").

So the first result computed for a job run is its result: a re-run (a crash, a timeout, the
message delivered twice) never publishes a second, different one; the next push or schedule
brings whatever changed upstream since.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from .ledger import JOB_TTL_SECONDS, ClaimState, Ledger, LedgerUnavailable, job_record
from .queues.base import PublishError, ResultQueue, encode_body

log = logging.getLogger(__name__)

# A DynamoDB item holds at most 400 KB: a result whose compressed text is larger is not stored
# with its claim (an abandoned claim then publishes the result its taker computed instead).
MAX_STORED_BYTES = 300_000


class ClaimHeld(Exception):
    """Another live attempt of the same job run is publishing its result right now."""


class OncePublisher(Protocol):
    def publish_once(
        self, run_key: str, message: Mapping[str, Any], *, lease_seconds: float
    ) -> bool:
        """Publish `message` as the result of job run `run_key` unless one was: True when this
        call published. Raises PublishError (nothing recorded as published), LedgerUnavailable
        or ClaimHeld (retry later)."""
        ...

    def published(self, run_keys: Collection[str]) -> set[str]:
        """Those of `run_keys` whose result is out."""
        ...

    def describe(self) -> str: ...


def as_once_publisher(queue: ResultQueue, ledger: Ledger) -> OncePublisher:
    """The queue itself when it publishes once on its own (the SQLite queue), else the queue
    behind `ledger`."""
    if hasattr(queue, "publish_once") and hasattr(queue, "published"):
        found: OncePublisher = queue  # type: ignore[assignment]  # checked just above
        return found
    return LedgeredPublisher(queue, ledger)


class LedgeredPublisher:
    def __init__(
        self, queue: ResultQueue, ledger: Ledger, *, ttl_seconds: float = JOB_TTL_SECONDS
    ) -> None:
        self.queue = queue
        self.ledger = ledger
        self.ttl_seconds = ttl_seconds

    def describe(self) -> str:
        return f"{self.queue.describe()}, once per job run ({self.ledger.describe()})"

    def publish_once(
        self, run_key: str, message: Mapping[str, Any], *, lease_seconds: float
    ) -> bool:
        compressed = zlib.compress(encode_body(message))
        claim = self.ledger.claim(
            job_record(run_key),
            lease_seconds=lease_seconds,
            ttl_seconds=self.ttl_seconds,
            message=compressed if len(compressed) <= MAX_STORED_BYTES else None,
        )
        if claim.state is ClaimState.DONE:
            return False
        if claim.state is ClaimState.BUSY:
            raise ClaimHeld(f"job run {run_key[:12]} is being published by another attempt")
        out = message
        if claim.state is ClaimState.RESUMED and claim.message is not None:
            # an earlier attempt died after its claim: its result (sent or not) is the one
            out = json.loads(zlib.decompress(claim.message))
        try:
            self.queue.publish([out])
        except PublishError:
            try:  # the next attempt need not wait for this lease to run out
                self.ledger.release(claim)
            except LedgerUnavailable as error:
                log.warning("lease of %s not released: %s", claim.key, error)
            raise
        try:
            recorded = self.ledger.complete(claim)
        except LedgerUnavailable as error:
            recorded = False
            log.warning("result %s published but not recorded: %s", out.get("id"), error)
        if not recorded:  # a later attempt would publish the stored result again (same id)
            log.warning("job run %s: published, the ledger still says in progress", run_key)
        return True

    def published(self, run_keys: Collection[str]) -> set[str]:
        return finished_runs(self.ledger, run_keys)


def finished_runs(ledger: Ledger, run_keys: Collection[str]) -> set[str]:
    """Those job runs whose ledger record is done: their result published (or, for an EXPAND
    job, its jobs enqueued)."""
    records = {job_record(key): key for key in run_keys}
    return {records[key] for key in ledger.done(records)}
