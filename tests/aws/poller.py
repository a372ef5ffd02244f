"""A Lambda-like poller: the work queue's event source mapping, run by hand.

It does what Lambda's SQS poller does for a function with ReportBatchItemFailures: receive up to
BatchSize messages (the template's), build the SQS event record by record as Lambda does, invoke
the handler with a context, delete every record not listed in `batchItemFailures`, and leave the
listed ones (or the whole batch, when the function raised, died or answered something invalid)
in flight, to come back when their visibility timeout runs out. Redrive to the dead-letter queue
is moto's: a message received maxReceiveCount times moves at its next receive.

Time: the queue keeps the template's VisibilityTimeout (1,860 s). The poller remembers when each
message it left in flight becomes visible on the emulated clock; `Clock.advance` past that makes
it visible again with ChangeMessageVisibility(0), which is the state change the timeout itself
makes. Nothing sleeps, and nothing about the queue differs from the template.
"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import doors
from .clock import Clock
from .runtime import LambdaContext, context_for
from .stack import REGION, Queue, Stack
from .template import EventSourceSpec, event_source_spec

JobKey = tuple[str, str | None, str]  # (action, manifest, commit)


def job_key(body: str) -> JobKey | None:
    """The work a job message names (the job's wire format), or None for a body that is not
    a job. Two messages with the same key are the same work enqueued twice."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or "action" not in document:
        return None
    return (str(document["action"]), document.get("manifest"), str(document.get("commit")))


def lambda_record(message: dict[str, Any], queue: Queue) -> dict[str, Any]:
    """One record of Lambda's SQS event from one ReceiveMessage message."""
    attributes = {
        key: message["Attributes"][key]
        for key in (
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            # FIFO sources only
            "SequenceNumber",
            "MessageGroupId",
            "MessageDeduplicationId",
            "AWSTraceHeader",
        )
        if key in message.get("Attributes", {})
    }
    message_attributes = {
        name: {
            **({"stringValue": value["StringValue"]} if "StringValue" in value else {}),
            **({"binaryValue": value["BinaryValue"]} if "BinaryValue" in value else {}),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message["MD5OfBody"],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(eventSource="aws:sqs", eventSourceARN=queue.arn, awsRegion=REGION)
    return record


@dataclass
class Invocation:
    number: int
    records: list[dict[str, Any]]
    failed: list[str]  # message ids left on the queue
    deleted: list[str]
    error: str | None = None  # the handler raised (Lambda: the whole batch failed)
    crashed: str | None = None  # the invocation died (a crash fault)
    response: Any = None


@dataclass
class _InFlight:
    message_id: str
    visible_at: float  # emulated epoch seconds


@dataclass
class LambdaPoller:
    stack: Stack
    function: str = ""
    handler: doors.Handler | None = None  # default: the function's, as the template names it
    spec: EventSourceSpec = field(default_factory=event_source_spec)
    invocations: list[Invocation] = field(default_factory=list)
    # every delivery of a message: (message id, receive count, job key or None)
    deliveries: list[tuple[str, int, JobKey | None]] = field(default_factory=list)
    _in_flight: dict[str, _InFlight] = field(default_factory=dict)  # receipt handle -> ...

    def __post_init__(self) -> None:
        self.function = self.function or self.spec.function
        self.queue = self.stack.queue(self.spec.queue)
        self.clock: Clock = self.stack.clock
        self.clock.on_advance(self._visibility_runs_out)

    @property
    def visibility_timeout(self) -> int:
        return self.queue.spec.visibility_timeout

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    # -- one batch ------------------------------------------------------------------------------

    def receive_batch(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages (the batching window closes on an empty receive)."""
        batch: list[dict[str, Any]] = []
        while len(batch) < self.spec.batch_size:
            got = self.stack.sqs.receive_message(
                QueueUrl=self.queue.url,
                MaxNumberOfMessages=min(10, self.spec.batch_size - len(batch)),
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                break
            batch += got
        return batch

    def poll_once(self, context: LambdaContext | None = None) -> Invocation | None:
        batch = self.receive_batch()
        if not batch:
            return None
        received_at = self.clock.now()
        records = [lambda_record(message, self.queue) for message in batch]
        for record in records:
            count = int(record["attributes"]["ApproximateReceiveCount"])
            self.deliveries.append((record["messageId"], count, job_key(record["body"])))
        invocation = Invocation(len(self.invocations) + 1, records, [], [])
        try:
            handler = self.handler or doors.handler(self.function)
            invocation.response = handler(
                {"Records": records}, context or context_for(self.function)
            )
        except Exception as error:  # a function error: Lambda retries the whole batch
            invocation.error = f"{type(error).__name__}: {error}"
        invocation.crashed = self.stack.proxy.take_crash()
        ids = [record["messageId"] for record in records]
        failed = self._failed_ids(invocation, ids)
        invocation.failed = [i for i in ids if i in failed]
        keep = [r for r in records if r["messageId"] in failed]
        done = [r for r in records if r["messageId"] not in failed]
        self._delete(done)
        invocation.deleted = [r["messageId"] for r in done]
        for record in keep:
            self._in_flight[record["receiptHandle"]] = _InFlight(
                record["messageId"], received_at + self.visibility_timeout
            )
        self.invocations.append(invocation)
        return invocation

    def _failed_ids(self, invocation: Invocation, ids: list[str]) -> set[str]:
        if invocation.error is not None or invocation.crashed is not None:
            return set(ids)
        response = invocation.response
        if response is None:
            return set()
        if not isinstance(response, dict):
            return set(ids)
        items = response.get("batchItemFailures") or []
        if not self.spec.report_batch_item_failures:
            return set()  # without the response type, any answer means success
        failed = set()
        for item in items:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in ids:
                return set(ids)  # Lambda: an invalid identifier fails the whole batch
            failed.add(identifier)
        return failed

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            answer = self.stack.sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(chunk)
                ],
            )
            assert not answer.get("Failed"), answer["Failed"]

    # -- time -----------------------------------------------------------------------------------

    def _visibility_runs_out(self, seconds: float) -> None:
        now = self.clock.now()
        for handle, waiting in list(self._in_flight.items()):
            if waiting.visible_at > now:
                continue
            del self._in_flight[handle]
            with suppress(ClientError):  # gone meanwhile (moved to the dead-letter queue)
                self.stack.sqs.change_message_visibility(
                    QueueUrl=self.queue.url, ReceiptHandle=handle, VisibilityTimeout=0
                )

    # -- until done -----------------------------------------------------------------------------

    def drain(self, limit: int = 500) -> list[Invocation]:
        """Invoke until the queue has no visible message."""
        done: list[Invocation] = []
        for _ in range(limit):
            invocation = self.poll_once()
            if invocation is None:
                return done
            done.append(invocation)
        raise AssertionError(f"the work queue did not drain in {limit} invocations")

    def settle(self, rounds: int = 12) -> list[Invocation]:
        """Drain, let the visibility timeout run out for whatever failed, and again, until
        nothing is left in flight (redrive ends a poison message's rounds)."""
        done = self.drain()
        for _ in range(rounds):
            if not self._in_flight:
                return done
            self.clock.advance(self.visibility_timeout + 1)
            done += self.drain()
        if self._in_flight:
            raise AssertionError(f"{len(self._in_flight)} message(s) still in flight")
        return done

    # -- what was enqueued ----------------------------------------------------------------------

    def messages_per_job(self) -> Counter[JobKey]:
        """Distinct work-queue messages per job (2 means: the same work enqueued twice)."""
        seen: dict[str, JobKey] = {}
        for message_id, _, key in self.deliveries:
            if key is not None:
                seen[message_id] = key
        return Counter(seen.values())
