"""Fan-outs that resume: the jobs of a run (a push's, a schedule's, an EXPAND job's) enqueued once
each, however often the run is retried or delivered.

A fan-out first claims its record in the delivery ledger (`results.ledger`): `run#...` for a
push or a schedule, `job#<run key>` for an EXPAND job. The holder enqueues the jobs that are
neither recorded as sent nor done, records after each round of SendMessageBatch which went out,
and marks the record done with the job count. If some jobs could not be enqueued it releases
the record at once and raises `EnqueueError`: the retry (GitHub's redelivery, Lambda's retry of
the schedule, the EXPAND job's next receive) resumes with the jobs that did not go out. A
resumed fan-out also skips the jobs whose result is out already (`done`), which covers what was
sent but could not be recorded (the ledger failed in between).

What the ledger cannot know, it errs on the side of work, never of loss: a job sent whose
sending could not be recorded may be enqueued again by a retry (its result is still published
once: `results.once`), and a failure to record anything after the jobs went out is logged, not
raised (the jobs are on the queue; the caller's answer says so).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from ..results.ledger import Claim, ClaimState, Ledger, LedgerUnavailable
from .jobs import EnqueueError, Job, WorkQueue, message_key

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # how often a waiting claim asks again


class RunInProgress(Exception):
    """Another attempt holds the run (a concurrent delivery of the same push, say): try later."""


@dataclass(frozen=True, slots=True)
class FanOut:
    enqueued: int  # jobs this call enqueued
    skipped: int = 0  # jobs an earlier attempt had enqueued, or whose result is out


def claim_run(
    ledger: Ledger,
    key: str,
    *,
    lease_seconds: float,
    ttl_seconds: float,
    wait_seconds: float = 0.0,
    delivery: str | None = None,
    pin: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Claim:
    """Claim a run's record; while another attempt holds it, ask again for up to
    `wait_seconds` (it may finish, or fail and release it). DONE and BUSY are answers too."""
    deadline = clock() + wait_seconds
    while True:
        claim = ledger.claim(
            key,
            lease_seconds=lease_seconds,
            ttl_seconds=ttl_seconds,
            delivery=delivery,
            pin=pin,
        )
        if claim.state is not ClaimState.BUSY or clock() + POLL_SECONDS > deadline:
            return claim
        sleep(POLL_SECONDS)


def fan_out(
    ledger: Ledger,
    claim: Claim,
    jobs: Sequence[Job],
    work_queue: WorkQueue,
    *,
    done: Callable[[Collection[str]], set[str]],
) -> FanOut:
    """Enqueue the claimed run's jobs that were not enqueued before and are not done; record
    what goes out; complete the record. EnqueueError (the record released) when some did not go
    out. `done(run_keys)` names the job runs that are finished (their result published)."""
    assert claim.held
    pending = [job for job in jobs if message_key(job) not in claim.sent]
    if claim.state is ClaimState.RESUMED and pending:
        finished = done([key for job in pending if (key := job.run_key) is not None])
        pending = [job for job in pending if job.run_key not in finished]
    skipped = len(jobs) - len(pending)
    if skipped:
        log.info("fan-out resumed: %d of %d jobs already out or done", skipped, len(jobs))

    def record(sent: Sequence[Job]) -> None:
        try:
            ledger.add_sent(claim, [message_key(job) for job in sent])
        except LedgerUnavailable as error:  # they went out; a retry may send them again
            log.warning("%d jobs enqueued but not recorded: %s", len(sent), error)

    try:
        work_queue.enqueue(pending, on_sent=record)
    except EnqueueError:
        try:
            ledger.release(claim)
        except LedgerUnavailable as error:  # the lease then runs out by itself
            log.warning("fan-out %s not released: %s", claim.key, error)
        raise
    try:
        if not ledger.complete(claim, jobs=len(jobs)):
            log.warning("fan-out %s: completed, but another attempt holds it now", claim.key)
    except LedgerUnavailable as error:
        log.warning("fan-out %s: every job enqueued, not marked done: %s", claim.key, error)
    return FanOut(len(pending), skipped)
