"""Publish results to an SQS FIFO queue, with an S3 claim check for oversized results.

SQS facts this module is built around (all per AWS's SendMessageBatch documentation):

* a message may be at most 256 KiB (262,144 bytes), counting the body *and* its message
  attributes (each attribute's name, data type and value);
* a batch holds at most 10 entries and its payload is limited to the same 256 KiB in total;
* ``MessageGroupId`` and ``MessageDeduplicationId`` are 1-128 printable ASCII characters; the
  queue drops a message whose deduplication id it has seen in the last 5 minutes;
* a batch call can succeed while some entries fail; each failed entry says whether the sender
  is at fault (permanent) or not (transient, worth retrying).

boto3 is imported only when a client has to be created, so that code which merely imports this
module (the CLI, the factory) does not pay boto3's start-up cost.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ..outage import aws_error_reason
from .base import PreparedMessage, PublishError, PublishFailure, encode_body, prepare

__all__ = [
    "CLAIM_CHECK_ATTRIBUTE",
    "MAX_BATCH_ENTRIES",
    "MAX_MESSAGE_BYTES",
    "ClaimCheckError",
    "SqsResultQueue",
    "read_claim_check",
]

MAX_MESSAGE_BYTES = 262_144
MAX_BATCH_ENTRIES = 10
CLAIM_CHECK_ATTRIBUTE = "claim-check"

ServerSideEncryption = Literal["AES256", "aws:kms"]


class ClaimCheckError(ValueError):
    """A claim-check pointer could not be resolved to the result it promises."""


@dataclass(frozen=True, slots=True)
class _Entry:
    """One SendMessageBatch entry and its size as SQS counts it."""

    prepared: PreparedMessage
    body: str
    attributes: Mapping[str, Mapping[str, str]]
    size: int
    claim_check_key: str | None  # set when ``body`` is a pointer to S3


def _attributes_size(attributes: Mapping[str, Mapping[str, str]]) -> int:
    return sum(
        len(name.encode()) + len(value["DataType"].encode()) + len(value["StringValue"].encode())
        for name, value in attributes.items()
    )


def _region_from_url(queue_url: str) -> str | None:
    """``us-east-1`` from ``https://sqs.us-east-1.amazonaws.com/...``: no region env needed."""
    host = urlsplit(queue_url).hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs" and parts[2] == "amazonaws":
        return parts[1]
    return None


class SqsResultQueue:
    """A :class:`~manifest_validation.queues.base.ResultQueue` backed by an SQS FIFO queue.

    * ``MessageGroupId`` is the manifest (image name): results for one image stay in order,
      different images are consumed in parallel.
    * ``MessageDeduplicationId`` is the result's ``id``, so re-publishing a result within SQS's
      5-minute de-duplication window is a no-op (after the window it is delivered again; the
      consumer should treat ``id`` as idempotency key).
    * A message too large for SQS is stored in S3 (``{key_prefix}{manifest}/{id}.json``) and the
      queue carries a pointer with the object's sha256 and size, plus the message attribute
      ``claim-check=s3``. Without a bucket such a message fails; it is never truncated.
    * Entries SQS reports as failed without sender fault are retried with exponential backoff;
      whatever still fails is raised as :class:`PublishError`.

    Ordering caveat: an entry retried after a transient failure is sent after the entries of
    its batch that succeeded first, so within a group order is exact only without retries.
    """

    def __init__(
        self,
        queue_url: str,
        *,
        bucket: str | None,
        sqs_client: Any = None,
        s3_client: Any = None,
        key_prefix: str = "results/",
        server_side_encryption: ServerSideEncryption = "AES256",
        kms_key_id: str | None = None,
        max_attempts: int = 4,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        path = urlsplit(queue_url).path.rstrip("/")
        if not path.endswith(".fifo"):
            # Standard queues reject MessageDeduplicationId; fail now, not at the first publish.
            raise ValueError(f"not a FIFO queue URL (name must end in .fifo): {queue_url}")
        if server_side_encryption not in ("AES256", "aws:kms"):
            raise ValueError(f"unsupported server-side encryption: {server_side_encryption!r}")
        if kms_key_id is not None and server_side_encryption != "aws:kms":
            raise ValueError("kms_key_id requires server_side_encryption='aws:kms'")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.queue_url = queue_url
        self.bucket = bucket or None
        self.key_prefix = key_prefix
        self.server_side_encryption: ServerSideEncryption = server_side_encryption
        self.kms_key_id = kms_key_id
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        region = _region_from_url(queue_url)
        self._sqs: Any = sqs_client if sqs_client is not None else _client("sqs", region)
        self._s3: Any = s3_client
        if self._s3 is None and self.bucket is not None:
            self._s3 = _client("s3", region)

    def describe(self) -> str:
        # Rebuilt from parts so that userinfo or a query string (a presigned URL, say) can
        # never leak into logs.
        parts = urlsplit(self.queue_url)
        where = f"{parts.scheme}://{parts.hostname or ''}"
        if parts.port:
            where += f":{parts.port}"
        text = f"SQS FIFO queue {where}{parts.path}"
        if self.bucket:
            text += f" (large results via s3://{self.bucket}/{self.key_prefix})"
        else:
            text += " (no claim-check bucket: results over 256 KiB are rejected)"
        return text

    def publish(self, messages: Sequence[Mapping[str, Any]]) -> None:
        prepared, failures = prepare(messages)
        published: list[str] = []
        entries: list[_Entry] = []
        for item in prepared:
            entry, reason = self._entry(item)
            if entry is None:
                failures.append(PublishFailure(item.index, item.id, reason, False))
            else:
                entries.append(entry)

        batches = list(_batches(entries))
        for position, batch in enumerate(batches):
            sent, failed, fatal = self._send_batch(batch)
            published.extend(sent)
            failures.extend(failed)
            if fatal is not None:
                # A request-level error (no such queue, access denied...) would hit every later
                # batch too; stop and report them rather than hammering the endpoint. Those
                # messages were never tried, so nothing is known against them: retryable.
                for rest in batches[position + 1 :]:
                    failures.extend(
                        PublishFailure(
                            e.prepared.index,
                            e.prepared.id,
                            f"not sent after an earlier batch failed: {fatal[0]}",
                            True,
                        )
                        for e in rest
                    )
                break
        if failures:
            failures.sort(key=lambda failure: failure.index)
            raise PublishError(failures, published=published)

    # -- building entries -------------------------------------------------------------------

    def _entry(self, item: PreparedMessage) -> tuple[_Entry | None, str]:
        body = item.body.decode("utf-8")
        if len(item.body) <= MAX_MESSAGE_BYTES:
            return _Entry(item, body, {}, len(item.body), None), ""
        if self.bucket is None:
            return None, (
                f"{len(item.body)} bytes exceeds the SQS limit of {MAX_MESSAGE_BYTES} and no "
                "claim-check bucket is configured"
            )
        key = f"{self.key_prefix}{item.manifest}/{item.id}.json"
        pointer: dict[str, Any] = {
            "claim_check": {
                "bucket": self.bucket,
                "key": key,
                "sha256": hashlib.sha256(item.body).hexdigest(),
                "size": len(item.body),
            },
            "id": item.id,
            "manifest": item.manifest,
        }
        for field in ("status", "schema_version"):
            if field in item.message:
                pointer[field] = item.message[field]
        pointer_body = encode_body(pointer)
        attributes = {CLAIM_CHECK_ATTRIBUTE: {"DataType": "String", "StringValue": "s3"}}
        size = len(pointer_body) + _attributes_size(attributes)
        if size > MAX_MESSAGE_BYTES:
            # Only possible with an absurd "status"; still never truncate.
            return None, f"even the claim-check pointer is {size} bytes"
        return _Entry(item, pointer_body.decode("utf-8"), attributes, size, key), ""

    def _store_claim_check(self, entry: _Entry) -> PublishFailure | None:
        assert entry.claim_check_key is not None
        extra: dict[str, str] = {"ServerSideEncryption": self.server_side_encryption}
        if self.kms_key_id is not None:
            extra["SSEKMSKeyId"] = self.kms_key_id
        try:
            # Idempotent: the same id always stores the same bytes under the same key, so a
            # retried publish simply overwrites the object with itself.
            self._s3.put_object(
                Bucket=self.bucket,
                Key=entry.claim_check_key,
                Body=entry.prepared.body,
                ContentType="application/json",
                **extra,
            )
        except _aws_errors() as error:
            reason, retryable = _describe_error(error)
            return PublishFailure(
                entry.prepared.index, entry.prepared.id, f"claim check to S3: {reason}", retryable
            )
        return None

    # -- sending ----------------------------------------------------------------------------

    def _send_batch(
        self, batch: list[_Entry]
    ) -> tuple[list[str], list[PublishFailure], tuple[str, bool] | None]:
        """Send one batch, retrying transient entry failures.

        Returns the ids sent, the failures, and (reason, retryable) when the request itself
        failed, which the caller takes as a reason to stop sending.
        """
        sent: list[str] = []
        failed: list[PublishFailure] = []
        pending: dict[str, _Entry] = {}
        for entry in batch:
            if entry.claim_check_key is not None:
                problem = self._store_claim_check(entry)
                if problem is not None:
                    failed.append(problem)
                    continue
            # Entry ids only need to be unique within the request; the input index is.
            pending[f"m{entry.prepared.index}"] = entry

        last_reasons: dict[str, str] = {}
        for attempt in range(self.max_attempts):
            if not pending:
                break
            if attempt:
                self._sleep(self._delay(attempt))
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[self._request_entry(key, e) for key, e in pending.items()],
                )
            except _aws_errors() as error:
                reason, retryable = _describe_error(error)
                failed.extend(
                    PublishFailure(e.prepared.index, e.prepared.id, reason, retryable)
                    for e in pending.values()
                )
                return sent, failed, (reason, retryable)
            for success in response.get("Successful", []):
                if success["Id"] in pending:
                    sent.append(pending.pop(success["Id"]).prepared.id)
            for failure in response.get("Failed", []):
                if failure["Id"] not in pending:
                    continue
                entry = pending[failure["Id"]]
                code = failure.get("Code", "unknown")
                reason = f"{code}: {failure['Message']}" if failure.get("Message") else code
                if failure.get("SenderFault", False):
                    # The request itself is wrong for this entry; retrying cannot help.
                    del pending[failure["Id"]]
                    failed.append(
                        PublishFailure(entry.prepared.index, entry.prepared.id, reason, False)
                    )
                else:
                    last_reasons[failure["Id"]] = reason
            # Entries in neither list (a malformed response) stay pending and are retried:
            # they must not be counted as published without SQS saying so.
        failed.extend(
            PublishFailure(
                entry.prepared.index,
                entry.prepared.id,
                f"{last_reasons.get(key, 'no result from SQS')} "
                f"(still failing after {self.max_attempts} attempt(s))",
                True,
            )
            for key, entry in pending.items()
        )
        return sent, failed, None

    def _request_entry(self, key: str, entry: _Entry) -> dict[str, Any]:
        request: dict[str, Any] = {
            "Id": key,
            "MessageBody": entry.body,
            "MessageGroupId": entry.prepared.manifest,
            "MessageDeduplicationId": entry.prepared.id,
        }
        if entry.attributes:
            request["MessageAttributes"] = {k: dict(v) for k, v in entry.attributes.items()}
        return request

    def _delay(self, attempt: int) -> float:
        # Full jitter: concurrent publishers that failed together should not retry together.
        return random.uniform(0, self.backoff_seconds * (2 ** (attempt - 1)))


def _batches(entries: Sequence[_Entry]) -> Iterator[list[_Entry]]:
    """Greedy, order-preserving packing into batches of ≤10 entries and ≤256 KiB."""
    batch: list[_Entry] = []
    total = 0
    for entry in entries:
        if batch and (len(batch) == MAX_BATCH_ENTRIES or total + entry.size > MAX_MESSAGE_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(entry)
        total += entry.size
    if batch:
        yield batch


def _client(service: Literal["sqs", "s3"], region: str | None) -> Any:
    # Deferred: see the module docstring. Typed Any so this works with or without boto3-stubs;
    # "unused-ignore" keeps mypy --strict quiet in both cases.
    import boto3  # type: ignore[import-untyped, unused-ignore]

    # Literal service names (not a str variable) so boto3-stubs' overloads resolve.
    if service == "sqs":
        return boto3.client("sqs", region_name=region)
    return boto3.client("s3", region_name=region)


def _aws_errors() -> tuple[type[Exception], ...]:
    # botocore is loaded by now (a client exists); importing it here keeps the module light.
    from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
        BotoCoreError,
        ClientError,
    )

    return (ClientError, BotoCoreError)


def _describe_error(error: Exception) -> tuple[str, bool]:
    """A reason without request details, and whether retrying later may help (botocore has
    already retried a transient error by the time we see it: we only tell the caller)."""
    return aws_error_reason(error)


def read_claim_check(body: Mapping[str, Any], s3_client: Any) -> dict[str, Any]:
    """The full result for a received message body: the stored object for a pointer, else itself.

    The object's size and sha256 are checked against the pointer so that a consumer never acts
    on a result that was replaced or corrupted in S3.
    """
    pointer = body.get("claim_check")
    if pointer is None:
        return dict(body)
    if not isinstance(pointer, Mapping) or not all(
        k in pointer for k in ("bucket", "key", "sha256", "size")
    ):
        raise ClaimCheckError(f"malformed claim-check pointer: {pointer!r}")
    response = s3_client.get_object(Bucket=pointer["bucket"], Key=pointer["key"])
    data: bytes = response["Body"].read()
    location = f"s3://{pointer['bucket']}/{pointer['key']}"
    if len(data) != pointer["size"]:
        raise ClaimCheckError(f"{location}: {len(data)} bytes, pointer says {pointer['size']}")
    if hashlib.sha256(data).hexdigest() != pointer["sha256"]:
        raise ClaimCheckError(f"{location}: sha256 does not match the pointer")
    result = json.loads(data)
    if not isinstance(result, dict) or result.get("id") != body.get("id"):
        raise ClaimCheckError(f"{location}: stored result is not the one the pointer names")
    return result
