"""Fan-outs that resume (`work.fanout`): each job of a run enqueued once, however the run's
attempts fail, overlap or are retried."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import pytest

from manifest_validation.results.ledger import (
    Claim,
    ClaimState,
    InMemoryLedger,
    LedgerUnavailable,
    run_record,
)
from manifest_validation.results.origin import Trigger
from manifest_validation.work.fanout import claim_run, fan_out
from manifest_validation.work.jobs import Action, EnqueueError, Job, OnSent

KEY = run_record("push:k")


def jobs(count: int) -> list[Job]:
    return [
        Job(
            Action.VALIDATE,
            "https://x/r.git",
            "a" * 40,
            Trigger.PUSH,
            f"i{n:02d}",
            "d",
            None,
            "push:k",
        )
        for n in range(count)
    ]


@dataclass
class Queue:
    """Enqueues, failing the jobs named in `refuse` (they did not go out)."""

    refuse: set[str] = field(default_factory=set)
    sent: list[str] = field(default_factory=list)

    def enqueue(self, batch: Sequence[Job], on_sent: OnSent | None = None) -> None:
        went = [job for job in batch if job.manifest not in self.refuse]
        failed = [job for job in batch if job.manifest in self.refuse]
        self.sent += [str(job.manifest) for job in went]
        if on_sent is not None and went:
            on_sent(went)
        if failed:
            raise EnqueueError(failed, "refused", sent=went)


def nothing_done(keys: Collection[str]) -> set[str]:
    return set()


def claim(ledger: InMemoryLedger, **options: float) -> Claim:
    return claim_run(ledger, KEY, lease_seconds=30, ttl_seconds=3600, delivery="d-1", **options)


def test_a_failed_fan_out_is_resumed_not_restarted_and_then_done() -> None:
    ledger, work = InMemoryLedger(), jobs(14)
    queue = Queue(refuse={job.manifest for job in work[10:]})  # type: ignore[misc]
    with pytest.raises(EnqueueError):
        fan_out(ledger, claim(ledger), work, queue, done=nothing_done)
    assert len(queue.sent) == 10
    queue.refuse.clear()
    retry = claim(ledger)  # released at once: no need to wait for the lease
    assert retry.state is ClaimState.RESUMED and len(retry.sent) == 10
    done = fan_out(ledger, retry, work, queue, done=nothing_done)
    assert (done.enqueued, done.skipped) == (4, 10)
    assert sorted(queue.sent) == sorted(str(job.manifest) for job in work)  # each once
    again = claim(ledger)
    assert (again.state, again.delivery, again.jobs) == (ClaimState.DONE, "d-1", 14)


class ForgetfulLedger(InMemoryLedger):
    """A ledger whose store fails whenever progress is recorded (UpdateItem refused)."""

    def add_sent(self, claim: Claim, run_keys: Collection[str]) -> None:
        raise LedgerUnavailable("UpdateItem refused")

    def complete(self, claim: Claim, *, jobs: int | None = None) -> bool:
        raise LedgerUnavailable("UpdateItem refused")


def test_jobs_that_went_out_unrecorded_are_not_enqueued_again_once_done() -> None:
    clock = [1000.0]
    ledger, work, queue = ForgetfulLedger(clock=lambda: clock[0]), jobs(3), Queue()
    # the jobs go out; nothing of it can be recorded: still a success (they are on the queue)
    first = fan_out(ledger, claim(ledger), work, queue, done=nothing_done)
    assert first.enqueued == 3
    clock[0] += 31  # the attempt's lease is over; its record still says "in progress"
    retry = claim(ledger)
    assert retry.state is ClaimState.RESUMED and retry.sent == frozenset()
    # by now the worker did two of them: the retry enqueues the third only
    finished = {str(job.run_key) for job in work[:2]}
    again = fan_out(ledger, retry, work, queue, done=lambda keys: set(keys) & finished)
    assert (again.enqueued, again.skipped) == (1, 2)
    assert queue.sent == ["i00", "i01", "i02", "i02"]


def test_a_second_attempt_waits_for_the_first_then_finds_it_done_or_takes_over() -> None:
    ledger, work, queue = InMemoryLedger(), jobs(3), Queue()
    first = claim(ledger)
    assert claim(ledger).state is ClaimState.BUSY  # no waiting: busy at once

    def finish() -> None:
        fan_out(ledger, first, work, queue, done=nothing_done)

    timer = threading.Timer(0.3, finish)
    timer.start()
    assert claim(ledger, wait_seconds=5).state is ClaimState.DONE
    timer.join()
    # a first attempt that fails and lets go: the waiting one takes over
    other = claim_run(ledger, run_record("push:other"), lease_seconds=30, ttl_seconds=3600)
    threading.Timer(0.3, lambda: ledger.release(other)).start()
    taken = claim_run(
        ledger, run_record("push:other"), lease_seconds=30, ttl_seconds=3600, wait_seconds=5
    )
    assert taken.state is ClaimState.RESUMED
    # one that neither finishes nor lets go within the wait: still busy
    stuck = claim_run(ledger, run_record("push:stuck"), lease_seconds=30, ttl_seconds=3600)
    assert stuck.held
    late = claim_run(
        ledger, run_record("push:stuck"), lease_seconds=30, ttl_seconds=3600, wait_seconds=0.5
    )
    assert late.state is ClaimState.BUSY


def test_concurrent_deliveries_of_one_push_enqueue_each_job_once() -> None:
    ledger, work, queue = InMemoryLedger(), jobs(20), Queue()
    answers: list[str] = []
    lock = threading.Lock()

    def deliver() -> None:
        found = claim(ledger, wait_seconds=2)
        if found.held:
            fan_out(ledger, found, work, queue, done=nothing_done)
        with lock:
            answers.append(found.state.value)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(queue.sent) == sorted(str(job.manifest) for job in work)
    assert answers.count("acquired") == 1 and set(answers) <= {"acquired", "done"}
