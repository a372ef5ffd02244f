"""Jobs on the work queue: the run a job belongs to, and `SqsWorkQueue.enqueue`, which tries
every batch and names exactly the jobs that did not go out."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from manifest_validation.results.origin import Trigger
from manifest_validation.work.jobs import (
    Action,
    EnqueueError,
    InvalidJob,
    Job,
    SqsWorkQueue,
    message_key,
)

REPOSITORY = "https://github.com/docker-library/official-images.git"
COMMIT = "a" * 40


def job(name: str, run: str | None = "push:k1", origin: str | None = "delivery-1") -> Job:
    return Job(Action.VALIDATE, REPOSITORY, COMMIT, Trigger.PUSH, name, origin, None, run)


def jobs(count: int, run: str = "push:k1") -> list[Job]:
    return [job(f"image{n:02d}", run) for n in range(count)]


# -- the run of a job ------------------------------------------------------------------------------


def test_a_job_names_its_run_and_the_run_key_is_the_job_within_that_run() -> None:
    first = job("python")
    assert Job.parse(json.dumps(first.to_json())) == first
    assert first.to_json()["run"] == "push:k1"
    # every retry of the run (another delivery of the same push) is the same job run
    assert job("python", origin="delivery-2").run_key == first.run_key
    # tomorrow's re-validation of the same commit is the same work in a new run
    tomorrow = job("python", run="schedule:event-2")
    assert tomorrow.id == first.id and tomorrow.run_key != first.run_key
    assert job("golang").run_key != first.run_key
    # a job of an older version names no run: its origin stands for it; the command line's
    # jobs name neither, and have no run key (every run is new)
    assert job("python", run=None).run_key == job("python", run=None).run_key is not None
    assert job("python", run=None, origin=None).run_key is None


@pytest.mark.parametrize("run", ["", 5, "x" * 1025])
def test_a_bad_run_is_refused(run: Any) -> None:
    document = {**job("python").to_json(), "run": run}
    with pytest.raises(InvalidJob):
        Job.from_json(document)


# -- SqsWorkQueue ----------------------------------------------------------------------------------


class Refused(Exception):
    """What botocore raises for a refused request (the code is in the response)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


Answer = Callable[[list[dict[str, Any]]], dict[str, Any]]


@dataclass
class ScriptedSqs:
    """SendMessageBatch answered call by call from a script (default: every entry sent)."""

    script: list[Answer | Exception] = field(default_factory=list)
    calls: list[list[dict[str, Any]]] = field(default_factory=list)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        step = self.script.pop(0) if self.script else ok
        if isinstance(step, Exception):
            raise step
        return step(Entries)

    def bodies(self) -> list[str]:
        return [json.loads(e["MessageBody"])["manifest"] for call in self.calls for e in call]


def ok(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Successful": [{"Id": e["Id"], "MessageId": e["Id"]} for e in entries]}


def failing(*, sender: bool = False, only: int | None = None) -> Answer:
    """Every entry failed (or only the first `only` of them; the rest went out)."""

    def answer(entries: list[dict[str, Any]]) -> dict[str, Any]:
        cut = len(entries) if only is None else only
        failed = [{"Id": e["Id"], "SenderFault": sender, "Code": "Boom"} for e in entries[:cut]]
        return {"Failed": failed, **ok(entries[cut:])}

    return answer


def queue(sqs: ScriptedSqs, attempts: int = 4) -> SqsWorkQueue:
    return SqsWorkQueue("https://sqs/work", client=sqs, attempts=attempts, sleep=lambda _: None)


def test_every_batch_is_tried_and_the_error_names_exactly_the_jobs_that_failed() -> None:
    work = jobs(25)
    # the second batch is refused in every round; the third still goes out
    sqs = ScriptedSqs([ok, Refused("ServiceUnavailable"), ok] + [Refused("ServiceUnavailable")] * 3)
    rounds: list[list[str]] = []
    with pytest.raises(EnqueueError) as raised:
        queue(sqs).enqueue(work, on_sent=lambda sent: rounds.append([j.manifest for j in sent]))
    error = raised.value
    assert [j.manifest for j in error.failed] == [j.manifest for j in work[10:20]]
    assert [j.manifest for j in error.sent] == [j.manifest for j in work[:10] + work[20:]]
    assert error.reason == "ServiceUnavailable"
    assert "10 of 25 job(s) not enqueued" in str(error)
    assert rounds == [[j.manifest for j in work[:10] + work[20:]]]  # told once, in round one
    assert len(sqs.calls) == 3 + 3  # three batches, then the failed one in three more rounds


def test_failed_entries_are_retried_together_by_round_not_by_batch() -> None:
    work = jobs(20)
    sqs = ScriptedSqs([failing(only=3), failing(only=2)])  # 5 entries fail once, then go out
    rounds: list[int] = []
    queue(sqs).enqueue(work, on_sent=lambda sent: rounds.append(len(sent)))
    assert rounds == [15, 5]
    assert len(sqs.calls) == 3  # the five failed entries went again in one batch
    assert sorted(sqs.bodies()[-5:]) == sorted(j.manifest for j in work[:3] + work[10:12])


def test_a_senders_fault_is_not_retried() -> None:
    sqs = ScriptedSqs([failing(sender=True, only=1)])
    with pytest.raises(EnqueueError) as raised:
        queue(sqs).enqueue(jobs(3))
    assert [j.manifest for j in raised.value.failed] == ["image00"]
    assert len(raised.value.sent) == 2 and len(sqs.calls) == 1


def test_an_entry_sqs_does_not_answer_for_is_not_counted_as_sent() -> None:
    def forgetful(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return ok(entries[1:])

    sqs = ScriptedSqs([forgetful])
    queue(sqs).enqueue(jobs(3))
    assert sqs.bodies() == ["image00", "image01", "image02", "image00"]


def test_message_ids_are_the_run_keys_and_a_job_goes_once_per_call() -> None:
    work = jobs(3)
    sqs = ScriptedSqs()
    queue(sqs).enqueue(work + work[:1])
    ids = [entry["Id"] for entry in sqs.calls[0]]
    assert ids == [j.run_key for j in work]
    assert all(len(i) == 64 for i in ids)
    assert [json.loads(e["MessageBody"]) for e in sqs.calls[0]] == [j.to_json() for j in work]
    # the command line's jobs have no run: their id is a digest of the message, as stable
    cli = job("python", run=None, origin=None)
    assert message_key(cli) == message_key(job("python", run=None, origin=None))
    assert message_key(cli) != message_key(job("golang", run=None, origin=None))
