"""The delivery ledger, in memory and on DynamoDB (moto), held to the same rules; and publishing
a job run's result once, through the ledger or the embedded queue's single transaction."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from manifest_validation.results.ledger import (
    ClaimState,
    InMemoryLedger,
    Ledger,
    LedgerUnavailable,
    job_record,
    run_record,
)
from manifest_validation.results.once import ClaimHeld, LedgeredPublisher
from manifest_validation.results.queues import LocalResultQueue, PublishError, PublishFailure

REGION = "us-east-1"
TABLE = "ledger"
LEASE, TTL = 30.0, 3600.0


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture(params=["memory", "dynamodb"])
def made(request: pytest.FixtureRequest) -> tuple[Ledger, Clock]:
    clock = Clock()
    if request.param == "memory":
        return InMemoryLedger(clock=clock), clock
    from manifest_validation.results.ledger_dynamodb import DynamoDbLedger

    client = request.getfixturevalue("dynamodb")
    return DynamoDbLedger(TABLE, client=client, clock=clock), clock


def test_one_holder_at_a_time_and_done_is_done(made: tuple[Ledger, Clock]) -> None:
    ledger, _ = made
    key = run_record("push:k")
    first = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, delivery="d-1")
    assert first.state is ClaimState.ACQUIRED and first.held and first.owner
    twin = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, delivery="d-2")
    assert twin.state is ClaimState.BUSY and not twin.held
    ledger.add_sent(first, ["j1", "j2"])
    assert ledger.done([key]) == set()
    assert ledger.complete(first, jobs=2)
    again = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, delivery="d-3")
    assert (again.state, again.delivery, again.jobs) == (ClaimState.DONE, "d-1", 2)
    assert ledger.done([key, run_record("push:other")]) == {key}


def test_a_dead_holders_claim_is_taken_over_with_what_it_recorded(
    made: tuple[Ledger, Clock],
) -> None:
    ledger, clock = made
    key = job_record("r" * 64)
    dead = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, message=b"first", pin="c1")
    ledger.add_sent(dead, ["j1"])
    clock.now += LEASE - 1
    assert ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL).state is ClaimState.BUSY
    clock.now += 2  # its invocation is certainly over
    taker = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, message=b"second", pin="c2")
    assert taker.state is ClaimState.RESUMED and taker.owner != dead.owner
    assert (taker.sent, taker.message, taker.pin) == (frozenset({"j1"}), b"first", "c1")
    # the dead holder's late word changes nothing; the taker's does
    assert not ledger.complete(dead)
    assert ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL).state is ClaimState.BUSY
    assert ledger.complete(taker)
    assert ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL).state is ClaimState.DONE


def test_a_released_claim_is_resumed_at_once(made: tuple[Ledger, Clock]) -> None:
    ledger, _ = made
    key = run_record("schedule:e1")
    failed = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, pin="c1")
    ledger.add_sent(failed, ["j1", "j2"])
    ledger.add_sent(failed, ["j3"])
    ledger.release(failed)
    retry = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, pin="c-later")
    assert retry.state is ClaimState.RESUMED
    assert (retry.sent, retry.pin) == (frozenset({"j1", "j2", "j3"}), "c1")


def test_records_expire_and_a_new_run_starts_afresh(made: tuple[Ledger, Clock]) -> None:
    ledger, clock = made
    key = run_record("push:k")
    old = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, delivery="d-1")
    ledger.add_sent(old, ["j1"])
    ledger.complete(old)
    clock.now += TTL + 1
    assert ledger.done([key]) == set()
    fresh = ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, delivery="d-9")
    assert (fresh.state, fresh.sent, fresh.delivery) == (ClaimState.ACQUIRED, frozenset(), "d-9")


def test_done_reads_many_keys(made: tuple[Ledger, Clock]) -> None:
    ledger, _ = made
    keys = [job_record(f"{n:064x}") for n in range(130)]  # two BatchGetItem pages
    for key in keys[::3]:
        ledger.complete(ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL))
    ledger.claim(keys[1], lease_seconds=LEASE, ttl_seconds=TTL)  # in progress: not done
    assert ledger.done(keys) == set(keys[::3])


def test_dynamodb_items_are_small_and_expire(dynamodb: Any) -> None:
    from manifest_validation.results.ledger_dynamodb import DynamoDbLedger

    clock = Clock()
    ledger = DynamoDbLedger(TABLE, client=dynamodb, clock=clock)
    claim = ledger.claim(
        job_record("a" * 64), lease_seconds=LEASE, ttl_seconds=TTL, message=b"x" * 1000
    )
    ledger.add_sent(claim, ["j1"])
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": claim.key}})["Item"]
    assert int(item["expiration"]["N"]) == clock.now + TTL
    assert int(item["in_progress_expiration"]["N"]) == (clock.now + LEASE) * 1000
    ledger.complete(claim)
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": claim.key}})["Item"]
    assert set(item) == {"id", "status", "expiration"}  # the result and the sent set are gone


def test_dynamodb_outages_are_ledger_unavailable_and_bugs_are_not(dynamodb: Any) -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from manifest_validation.results.ledger_dynamodb import DynamoDbLedger
    from manifest_validation.results.outage import is_outage

    class Down:
        def __getattr__(self, name: str) -> Any:
            def fail(**_: Any) -> Any:
                raise EndpointConnectionError(endpoint_url="https://dynamodb")

            return fail

    with pytest.raises(LedgerUnavailable) as raised:
        DynamoDbLedger(TABLE, client=Down()).claim("k", lease_seconds=1, ttl_seconds=1)
    assert is_outage(raised.value)
    missing = DynamoDbLedger("no-such-table", client=dynamodb)
    with pytest.raises(ClientError) as bug:
        missing.claim("k", lease_seconds=1, ttl_seconds=1)
    assert not isinstance(bug.value, LedgerUnavailable) and not is_outage(bug.value)


# -- publishing once -------------------------------------------------------------------------------


class Crash(BaseException):
    """The Lambda invocation died (nothing after this runs)."""


@dataclass
class Queue:
    published: list[Mapping[str, Any]] = field(default_factory=list)
    fail: list[BaseException] = field(default_factory=list)

    def publish(self, messages: Sequence[Mapping[str, Any]]) -> None:
        if self.fail:
            raise self.fail.pop(0)
        self.published += messages

    def describe(self) -> str:
        return "queue"


def result(status: str) -> dict[str, Any]:
    return {"id": f"id-{status}", "manifest": "python", "status": status}


def refused() -> PublishError:
    return PublishError([PublishFailure(0, "x", "ServiceUnavailable", True)])


def test_a_job_runs_result_is_published_once() -> None:
    queue = Queue()
    publisher = LedgeredPublisher(queue, InMemoryLedger())
    assert publisher.publish_once("run-1", result("valid"), lease_seconds=LEASE)
    assert not publisher.publish_once("run-1", result("invalid"), lease_seconds=LEASE)
    assert publisher.publish_once("run-2", result("invalid"), lease_seconds=LEASE)
    assert [m["status"] for m in queue.published] == ["valid", "invalid"]
    assert publisher.published(["run-1", "run-2", "run-3"]) == {"run-1", "run-2"}


def test_an_attempt_that_died_leaves_its_result_to_the_next_which_publishes_that_one() -> None:
    clock = Clock()
    queue = Queue(fail=[Crash()])
    publisher = LedgeredPublisher(queue, InMemoryLedger(clock=clock))
    with pytest.raises(Crash):
        publisher.publish_once("run-1", result("valid"), lease_seconds=LEASE)
    # while the dead attempt's invocation could still be running, no one else publishes
    with pytest.raises(ClaimHeld):
        publisher.publish_once("run-1", result("unverified"), lease_seconds=LEASE)
    clock.now += LEASE + 1
    # upstream changed meanwhile: the re-run computed another result, but the job run's
    # result is the first one, the very message (same id, same bytes) that may have gone out
    assert publisher.publish_once("run-1", result("unverified"), lease_seconds=LEASE)
    assert queue.published == [result("valid")]
    assert not publisher.publish_once("run-1", result("invalid"), lease_seconds=LEASE)


def test_a_refused_publish_releases_the_claim_and_the_retry_sends_the_same_result() -> None:
    queue = Queue(fail=[refused()])
    publisher = LedgeredPublisher(queue, InMemoryLedger())
    with pytest.raises(PublishError):
        publisher.publish_once("run-1", result("valid"), lease_seconds=LEASE)
    assert publisher.published(["run-1"]) == set()
    assert publisher.publish_once("run-1", result("invalid"), lease_seconds=LEASE)
    assert queue.published == [result("valid")]


def test_the_stored_result_is_the_canonical_text_compressed() -> None:
    ledger = InMemoryLedger()
    queue = Queue(fail=[refused()])
    with pytest.raises(PublishError):
        LedgeredPublisher(queue, ledger).publish_once("r", result("valid"), lease_seconds=LEASE)
    claim = ledger.claim(job_record("r"), lease_seconds=LEASE, ttl_seconds=TTL)
    assert claim.message is not None
    assert json.loads(zlib.decompress(claim.message)) == result("valid")


def test_the_embedded_queue_records_the_run_and_the_result_in_one_transaction(
    tmp_path: Path,
) -> None:
    queue = LocalResultQueue(tmp_path)
    with sqlite3.connect(queue.path) as connection:  # the disk is full, say
        connection.execute(
            "CREATE TRIGGER full BEFORE INSERT ON results BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
    with pytest.raises(PublishError) as raised:
        queue.publish_once("run-1", result("valid"))
    assert raised.value.retryable
    assert queue.published(["run-1"]) == set()  # the run's row went with the result's
    with sqlite3.connect(queue.path) as connection:
        connection.execute("DROP TRIGGER full")
    assert queue.publish_once("run-1", result("valid"))
    assert not queue.publish_once("run-1", result("invalid"))
    # remembered across instances (a restarted server), not only while the result waits
    queue.acknowledge([item.sequence for item in queue.pending()])
    assert not LocalResultQueue(tmp_path).publish_once("run-1", result("valid"))
    assert LocalResultQueue(tmp_path).published(["run-1", "run-2"]) == {"run-1"}
    assert [m.status for m in queue.pending()] == []


def test_two_attempts_taking_over_the_same_abandoned_claim_one_wins(dynamodb: Any) -> None:
    """Both read the dead holder's record (its lease over); each asks to replace *that* holder:
    the conditional update lets one through, the other finds the record held."""
    from manifest_validation.results.ledger_dynamodb import DynamoDbLedger

    clock = Clock()
    ledger = DynamoDbLedger(TABLE, client=dynamodb, clock=clock)
    key = job_record("d" * 64)
    ledger.claim(key, lease_seconds=LEASE, ttl_seconds=TTL, message=b"stored")
    clock.now += LEASE + 1
    dead = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": key}})["Item"]
    first = ledger._take_over(key, dead, "owner-1", clock.now, LEASE, None, None)
    second = ledger._take_over(key, dead, "owner-2", clock.now, LEASE, None, None)
    assert (first.state, first.owner, first.message) == (ClaimState.RESUMED, "owner-1", b"stored")
    assert second.state is ClaimState.BUSY and not second.held
