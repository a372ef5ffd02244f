"""The delivery ledger: what each run has already done, so that a retry does only the rest.

Two kinds of record, by key (on AWS one DynamoDB table, key `id`, TTL attribute `expiration`;
on one machine in memory, and the results' own SQLite file for what was published):

* `run#<sha256 of the run>`: a trigger's fan-out, the jobs of one push (the run
  "push:<push key>") or of one scheduled re-validation ("schedule:<event id>"). It says who is
  enqueueing them now (an owner and a lease), the run keys of the jobs that went out (`sent`),
  and once all went out that it is done (with the push's first delivery id, and the commit a
  schedule resolved, `pin`, so that its retries fan out the very same jobs).
* `job#<run key>`: one job of one run (`Job.run_key`). For a VALIDATE or REMOVED job, its result
  being published (owner, lease, and the result itself) or published (done); for an EXPAND job,
  its own fan-out, as above.

A claim is one conditional write: one holder at a time. The holder's lease is the end of its
Lambda invocation, so a holder that crashed or timed out is replaced as soon as it is certainly
dead, and a holder that failed releases its lease at once; either way what it recorded (jobs
sent, the result it was publishing) comes back to the next holder (`ClaimState.RESUMED`). Every
record expires (TTL): the ledger forgets a run once no retry of it can come any more.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from .outage import DependencyUnavailable

DAY = 24 * 3600
# How long a run's fan-out record lives: a push is remembered while GitHub may deliver it again
# (it redelivers on request, for deliveries of the last days), a schedule while its invocation
# may be retried (an hour); a week covers both.
RUN_TTL_SECONDS = 7 * DAY
# How long a job run's record lives: as long as the job can be retried. Its message stays at most
# 4 days on the work queue (MessageRetentionPeriod) and, once it failed 5 times, at most 14 days
# (from its first enqueue) in the work dead-letter queue, from which a person may redrive it after
# a fix; plus a day's margin. (tests/test_template.py holds this to the template's retentions.)
JOB_TTL_SECONDS = 15 * DAY


def run_record(run: str) -> str:
    """The fan-out record of a run ("push:<key>", "schedule:<event id>")."""
    return "run#" + hashlib.sha256(run.encode()).hexdigest()


def job_record(run_key: str) -> str:
    """The record of one job run (`Job.run_key`)."""
    return "job#" + run_key


class LedgerUnavailable(DependencyUnavailable):
    """The ledger's store could not be reached or refused for now (retry later)."""


class ClaimState(StrEnum):
    ACQUIRED = "acquired"  # nothing of this record existed: we hold it
    RESUMED = "resumed"  # an earlier holder died or gave up: we hold it, with what it recorded
    DONE = "done"  # the run (or job run) was completed before
    BUSY = "busy"  # another holder's lease is running


@dataclass(frozen=True, slots=True)
class Claim:
    """What claiming a record found; `owner` identifies this holder when `held`."""

    key: str
    state: ClaimState
    owner: str = ""
    sent: frozenset[str] = frozenset()  # run keys of jobs recorded as enqueued
    message: bytes | None = None  # the result an earlier holder was publishing
    delivery: str | None = None  # the delivery that first brought a push
    pin: str | None = None  # the commit the run's first holder resolved
    jobs: int | None = None  # how many jobs a completed fan-out had

    @property
    def held(self) -> bool:
        return self.state in (ClaimState.ACQUIRED, ClaimState.RESUMED)


class Ledger(Protocol):
    def claim(
        self,
        key: str,
        *,
        lease_seconds: float,
        ttl_seconds: float,
        message: bytes | None = None,
        delivery: str | None = None,
        pin: str | None = None,
    ) -> Claim:
        """Claim `key`: a new record (ACQUIRED), the record of a holder whose lease is over
        (RESUMED, its `sent`, `message` and `pin` kept), or what blocks (DONE, BUSY). `message`,
        `delivery` and `pin` are stored when the record is new (and kept if it had them)."""
        ...

    def add_sent(self, claim: Claim, run_keys: Collection[str]) -> None:
        """Record that these jobs went out (whoever holds the record now: it is a fact)."""
        ...

    def complete(self, claim: Claim, *, jobs: int | None = None) -> bool:
        """Mark the record done (dropping `sent` and `message`); False when `claim` no longer
        holds it (a lease that ran out while its holder still worked)."""
        ...

    def release(self, claim: Claim) -> None:
        """Give the lease up now (the next attempt resumes at once; what was recorded stays)."""
        ...

    def done(self, keys: Collection[str]) -> set[str]:
        """Those of `keys` whose records are done."""
        ...

    def describe(self) -> str: ...


@dataclass
class _Record:
    status: str  # "in_progress" or "done"
    owner: str
    lease_until: float
    expires: float
    sent: frozenset[str] = frozenset()
    message: bytes | None = None
    delivery: str | None = None
    pin: str | None = None
    jobs: int | None = None


@dataclass
class InMemoryLedger:
    """The ledger of one process (the local server, the tests, a worker without a table):
    the same rules as the DynamoDB ledger, with at most `max_records` records (the oldest go)."""

    clock: Callable[[], float] = time.time
    max_records: int = 10_000
    _records: dict[str, _Record] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> str:
        return "in-memory ledger (this process only)"

    def claim(
        self,
        key: str,
        *,
        lease_seconds: float,
        ttl_seconds: float,
        message: bytes | None = None,
        delivery: str | None = None,
        pin: str | None = None,
    ) -> Claim:
        with self._lock:
            now = self.clock()
            record = self._records.get(key)
            owner = uuid.uuid4().hex
            if record is None or record.expires <= now:
                self._records.pop(key, None)
                self._records[key] = _Record(
                    "in_progress", owner, now + lease_seconds, now + ttl_seconds
                )
                record = self._records[key]
                record.message, record.delivery, record.pin = message, delivery, pin
                while len(self._records) > self.max_records:
                    del self._records[next(iter(self._records))]
                return self._claim(key, ClaimState.ACQUIRED, record)
            if record.status == "done" or record.lease_until > now:
                return self._blocked(key, record, now)
            record.owner, record.lease_until = owner, now + lease_seconds
            record.message = record.message if record.message is not None else message
            record.pin = record.pin or pin
            return self._claim(key, ClaimState.RESUMED, record)

    def add_sent(self, claim: Claim, run_keys: Collection[str]) -> None:
        with self._lock:
            record = self._records.get(claim.key)
            if record is not None:
                record.sent = record.sent | frozenset(run_keys)

    def complete(self, claim: Claim, *, jobs: int | None = None) -> bool:
        with self._lock:
            record = self._records.get(claim.key)
            if record is None or record.owner != claim.owner:
                return False
            record.status, record.lease_until, record.jobs = "done", 0.0, jobs
            record.sent, record.message = frozenset(), None
            return True

    def release(self, claim: Claim) -> None:
        with self._lock:
            record = self._records.get(claim.key)
            if record is not None and record.owner == claim.owner and record.status != "done":
                record.lease_until = 0.0

    def done(self, keys: Collection[str]) -> set[str]:
        with self._lock:
            now = self.clock()
            return {
                key
                for key in keys
                if (record := self._records.get(key)) is not None
                and record.status == "done"
                and record.expires > now
            }

    def _claim(self, key: str, state: ClaimState, record: _Record) -> Claim:
        return Claim(
            key,
            state,
            record.owner,
            record.sent,
            record.message,
            record.delivery,
            record.pin,
            record.jobs,
        )

    def _blocked(self, key: str, record: _Record, now: float) -> Claim:
        state = ClaimState.DONE if record.status == "done" else ClaimState.BUSY
        return replace(self._claim(key, state, record), owner="", message=None)
