"""A results consumer: drains the FIFO results queue, follows S3 claim-check pointers, and counts
what arrived per job and per result id.

It reads the queue as any consumer would, from the message format alone (schemas/validation-
result.schema.json and the claim-check pointer): nothing of the package is imported. A job is
identified by what it was about, (manifest, commit): that is what a result's `manifest` and
`origin.commit` say.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .stack import Stack

ResultJob = tuple[str, str | None]  # (manifest, commit)


class ClaimCheckMismatch(AssertionError):
    pass


@dataclass
class Delivered:
    result: dict[str, Any]
    message_id: str
    group: str | None
    claim_checked: bool

    @property
    def job(self) -> ResultJob:
        origin = self.result.get("origin") or {}
        return (str(self.result["manifest"]), origin.get("commit"))


@dataclass
class Tally:
    """What the consumer saw against what it should have seen."""

    expected: set[ResultJob]
    per_job: Counter[ResultJob]
    per_id: Counter[str]
    delivered: list[Delivered] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return sum(self.per_job.values())

    @property
    def duplicates(self) -> int:
        """Results beyond the first, per job."""
        return sum(count - 1 for count in self.per_job.values() if count > 1)

    @property
    def duplicate_ids(self) -> int:
        """Messages beyond the first, per result id (what FIFO de-duplication should drop)."""
        return sum(count - 1 for count in self.per_id.values() if count > 1)

    @property
    def lost(self) -> set[ResultJob]:
        """Jobs that got no result."""
        return {job for job in self.expected if self.per_job[job] == 0}

    @property
    def unexpected(self) -> set[ResultJob]:
        return set(self.per_job) - self.expected

    def statuses(self) -> dict[str, str]:
        """manifest -> status of its (last) result."""
        return {d.result["manifest"]: d.result["status"] for d in self.delivered}

    def describe(self) -> str:
        return (
            f"{len(self.expected)} jobs, {self.seen} results seen, {self.duplicates} duplicates, "
            f"{len(self.lost)} lost {sorted(self.lost)[:5]}, "
            f"{len(self.unexpected)} unexpected {sorted(self.unexpected)[:5]}"
        )


@dataclass
class ResultsReader:
    stack: Stack
    queue_logical_id: str = "ResultsQueue"
    delivered: list[Delivered] = field(default_factory=list)

    def drain(self) -> list[Delivered]:
        """Receive and delete everything visible (FIFO: a group's next message shows once the
        previous one is deleted), in order."""
        queue = self.stack.queue(self.queue_logical_id)
        got: list[Delivered] = []
        while True:
            messages = self.stack.sqs.receive_message(
                QueueUrl=queue.url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                got.append(self._read(message))
            self.stack.sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ],
            )
        self.delivered += got
        return got

    def _read(self, message: dict[str, Any]) -> Delivered:
        body = json.loads(message["Body"])
        pointer = body.get("claim_check")
        flagged = (message.get("MessageAttributes") or {}).get("claim-check", {})
        if pointer is None:
            assert not flagged, "a claim-check attribute on a message without a pointer"
            result = body
        else:
            assert flagged.get("StringValue") == "s3", "a pointer without its attribute"
            result = self._follow(pointer, body)
        group = (message.get("Attributes") or {}).get("MessageGroupId")
        return Delivered(result, message["MessageId"], group, pointer is not None)

    def _follow(self, pointer: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        where = f"s3://{pointer['bucket']}/{pointer['key']}"
        data: bytes = self.stack.s3.get_object(Bucket=pointer["bucket"], Key=pointer["key"])[
            "Body"
        ].read()
        if len(data) != pointer["size"] or hashlib.sha256(data).hexdigest() != pointer["sha256"]:
            raise ClaimCheckMismatch(f"{where} is not what its pointer describes")
        result: dict[str, Any] = json.loads(data)
        if result.get("id") != body.get("id"):
            raise ClaimCheckMismatch(f"{where} holds another result than the pointer names")
        return result

    def tally(self, expected: Iterable[ResultJob]) -> Tally:
        self.drain()
        per_job: Counter[ResultJob] = Counter(d.job for d in self.delivered)
        per_id: Counter[str] = Counter(str(d.result["id"]) for d in self.delivered)
        return Tally(set(expected), per_job, per_id, list(self.delivered))
