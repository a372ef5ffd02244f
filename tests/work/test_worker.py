"""The worker on its own (fake sources and queues): what an EXPAND job fans out to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from manifest_validation.repository import SourceError, SourceUnavailable
from manifest_validation.results.origin import Trigger
from manifest_validation.work.jobs import Action, Job, OnSent
from manifest_validation.work.worker import RetryLater, Worker

REPOSITORY = "https://example.com/official-images.git"
BEFORE, AFTER = "b" * 40, "a" * 40


@dataclass
class Listings:
    """A manifests repository that only lists: names per commit, or what listing raises."""

    at: dict[str, list[str] | Exception]

    def list_manifests(self, commit: str) -> list[str]:
        found = self.at[commit]
        if isinstance(found, Exception):
            raise found
        return list(found)

    def read(self, commit: str, names: Sequence[str]) -> dict[str, bytes]:
        raise AssertionError("an EXPAND job reads no manifest")


@dataclass
class Collected:
    jobs: list[Job] = field(default_factory=list)

    def enqueue(self, jobs: Sequence[Job], on_sent: OnSent | None = None) -> None:
        self.jobs += jobs

    def publish(self, messages: Sequence[Any]) -> None:
        raise AssertionError("an EXPAND job publishes nothing")

    def describe(self) -> str:
        return "collected"


def expand_job(base: str | None) -> Job:
    return Job(Action.EXPAND, REPOSITORY, AFTER, Trigger.PUSH, None, "d-1", base, "push:k")


def fan_out(listings: Listings, job: Job, *, final: bool = False) -> list[tuple[str, str]]:
    queue = Collected()
    Worker(lambda _: listings, queue, queue).handle(job, final_attempt=final)  # type: ignore[arg-type]
    assert {(j.commit, j.run, j.base) for j in queue.jobs} <= {(AFTER, job.run, job.base)}
    return [(j.action.value, str(j.manifest)) for j in queue.jobs]


def test_a_full_recheck_validates_what_is_there_and_removes_what_the_base_had() -> None:
    listings = Listings({AFTER: ["b", "c", "d"], BEFORE: ["a", "b", "c", "gone"]})
    assert fan_out(listings, expand_job(BEFORE)) == [
        ("validate", "b"),
        ("validate", "c"),
        ("validate", "d"),
        ("removed", "a"),
        ("removed", "gone"),
    ]


def test_a_new_branch_has_no_base_and_removes_nothing() -> None:
    listings = Listings({AFTER: ["b"]})
    assert fan_out(listings, expand_job(None)) == [("validate", "b")]


def test_a_base_that_cannot_be_read_now_is_retried_and_one_that_is_gone_removes_nothing() -> None:
    down = Listings({AFTER: ["b"], BEFORE: SourceUnavailable("host down")})
    with pytest.raises(RetryLater):
        fan_out(down, expand_job(BEFORE))
    # on the last attempt the fan-out goes ahead without removals rather than not at all
    assert fan_out(down, expand_job(BEFORE), final=True) == [("validate", "b")]
    pruned = Listings({AFTER: ["b"], BEFORE: SourceError("no such commit")})
    assert fan_out(pruned, expand_job(BEFORE)) == [("validate", "b")]


# -- a job run's result goes out once ----------------------------------------------------------


@dataclass
class Published:
    messages: list[Any] = field(default_factory=list)

    def publish(self, messages: Sequence[Any]) -> None:
        self.messages += messages

    def describe(self) -> str:
        return "published"


def test_a_job_run_publishes_once_and_a_new_run_publishes_again() -> None:
    published = Published()
    worker = Worker(lambda _: Listings({}), published)  # type: ignore[arg-type]

    def removed(run: str | None, origin: str | None = "d-1") -> Job:
        return Job(Action.REMOVED, REPOSITORY, AFTER, Trigger.PUSH, "gone", origin, None, run)

    for _ in range(3):  # the message delivered again, the batch retried after a crash, ...
        worker.handle(removed("push:k"), final_attempt=False)
    assert [m["status"] for m in published.messages] == ["removed"]
    worker.handle(removed("schedule:tomorrow"), final_attempt=False)  # a new run
    assert len(published.messages) == 2
    # the command line's jobs name no run: each is published (each run is new)
    worker.handle(removed(None, None), final_attempt=False)
    worker.handle(removed(None, None), final_attempt=False)
    assert len(published.messages) == 4


# -- the Lambda door: progress per record ------------------------------------------------------


@dataclass
class ScriptedDeadline:
    """A Lambda context whose remaining time is read from a script, one value per read (the
    handler reads it once per record, before starting its job)."""

    seconds_left: list[float]
    function_name: str = "worker"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:worker"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        left = self.seconds_left.pop(0) if len(self.seconds_left) > 1 else self.seconds_left[0]
        return int(left * 1000)


@pytest.fixture
def work_queue(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "MANIFEST_VALIDATION_STATE_DIR": str(tmp_path / "state"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "RESULTS_QUEUE_URL", "IDEMPOTENCY_TABLE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        monkeypatch.setenv("WORK_QUEUE_URL", url)
        yield sqs, url


def records_of(sqs: Any, url: str, bodies: list[str]) -> list[dict[str, Any]]:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    got: list[dict[str, Any]] = []
    while len(got) < len(bodies):
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    order = {body: n for n, body in enumerate(bodies)}
    got.sort(key=lambda message: order[message["Body"]])
    return [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work",
            "awsRegion": "us-east-1",
        }
        for message in got
    ]


def test_done_records_are_deleted_at_once_and_none_is_started_too_late(work_queue: Any) -> None:
    from manifest_validation.handlers import worker as door
    from manifest_validation.handlers.root import Services
    from manifest_validation.settings import Settings

    sqs, url = work_queue

    def removed(name: str) -> str:
        job = Job(Action.REMOVED, REPOSITORY, AFTER, Trigger.PUSH, name, "d", None, "push:k")
        return json.dumps(job.to_json())

    bodies = [removed("a"), "{not a job", removed("b"), removed("c"), removed("d")]
    records = records_of(sqs, url, bodies)
    published = Published()
    services = Services(Settings.from_env(), queue=published)  # type: ignore[arg-type]
    # plenty of time for four records, then less than a job needs
    context = ScriptedDeadline([300, 299, 298, 297, door.JOB_RESERVE_SECONDS - 1])
    answer = door.handle({"Records": records}, context, services=services)
    failed = [item["itemIdentifier"] for item in answer["batchItemFailures"]]
    # the poison failed, the last record was not started; a, b and c are out, and deleted
    # from the queue already (not only when the invocation ends)
    assert failed == [records[n]["messageId"] for n in (1, 4)]
    assert [m["manifest"] for m in published.messages] == ["a", "b", "c"]
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert sorted(m["Body"] for m in left) == sorted(bodies[n] for n in (1, 4))
