"""SqsResultQueue against moto's SQS FIFO + S3, and against scripted (Stubber) responses."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from manifest_validation.results.queues import (
    ClaimCheckError,
    PublishError,
    ResultQueue,
    SqsResultQueue,
    read_claim_check,
)
from manifest_validation.results.queues.base import encode_body
from manifest_validation.results.queues.sqs import MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES

from .conftest import REGION, Aws, drain, large_result, result

pytestmark = pytest.mark.slow  # moto (SQS and S3) or botocore's Stubber in every test

KIB = 1024


class RecordingSqs:
    """Delegates to a real (moto) client, remembering each batch sent, to see the splitting."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.batches: list[list[dict[str, Any]]] = []

    def send_message_batch(self, **kwargs: Any) -> Any:
        self.batches.append(kwargs["Entries"])
        return self._client.send_message_batch(**kwargs)


def entry_size(entry: dict[str, Any]) -> int:
    attributes = entry.get("MessageAttributes", {})
    return len(entry["MessageBody"].encode()) + sum(
        len(name) + len(value["DataType"]) + len(value["StringValue"])
        for name, value in attributes.items()
    )


def sized_result(manifest: str, size: int, seed: str = "") -> dict[str, Any]:
    """A result whose canonical encoding is exactly ``size`` bytes (ids are 64 hex either way)."""
    message = result(manifest, seed=seed, padding="")
    message["padding"] = "x" * (size - len(encode_body(message)))
    assert len(encode_body(message)) == size
    return message


# -- the happy path -------------------------------------------------------------------------


def test_small_messages_carry_group_dedup_id_and_body(aws: Aws) -> None:
    queue = SqsResultQueue(aws.queue_url, bucket=aws.bucket, sqs_client=aws.sqs, s3_client=aws.s3)
    assert isinstance(queue, ResultQueue)
    messages = [result("python"), result("golang", status="invalid"), result("python", x=1)]

    queue.publish(messages)

    received = drain(aws.sqs, aws.queue_url)
    assert len(received) == 3
    by_id = {m["Attributes"]["MessageDeduplicationId"]: m for m in received}
    for message in messages:
        got = by_id[message["id"]]
        assert got["Attributes"]["MessageGroupId"] == message["manifest"]
        assert json.loads(got["Body"]) == message
        assert "MessageAttributes" not in got  # only claim checks carry attributes
    # FIFO order holds within a group.
    python = [
        json.loads(m["Body"]) for m in received if json.loads(m["Body"])["manifest"] == "python"
    ]
    assert python == [messages[0], messages[2]]


def test_republishing_an_id_is_deduplicated_by_the_queue(aws: Aws) -> None:
    queue = SqsResultQueue(aws.queue_url, bucket=None, sqs_client=aws.sqs)
    message = result("python")

    queue.publish([message])
    queue.publish([message])  # a retry after, say, a lost response
    queue.publish([message, dict(message)])  # and a repeat within one call

    received = drain(aws.sqs, aws.queue_url)
    assert [json.loads(m["Body"])["id"] for m in received] == [message["id"]]


def test_publishing_nothing_is_a_no_op(aws: Aws) -> None:
    recorder = RecordingSqs(aws.sqs)
    SqsResultQueue(aws.queue_url, bucket=None, sqs_client=recorder).publish([])
    assert recorder.batches == []


# -- claim check ----------------------------------------------------------------------------


def test_large_message_goes_to_s3_behind_a_verified_pointer(aws: Aws) -> None:
    queue = SqsResultQueue(aws.queue_url, bucket=aws.bucket, sqs_client=aws.sqs, s3_client=aws.s3)
    big = large_result("golang")
    stored = encode_body(big)
    assert len(stored) >= 300 * KIB

    queue.publish([big, result("python")])

    received = drain(aws.sqs, aws.queue_url)
    pointer_message = next(m for m in received if m["Attributes"]["MessageGroupId"] == "golang")
    assert pointer_message["MessageAttributes"] == {
        "claim-check": {"DataType": "String", "StringValue": "s3"}
    }
    assert pointer_message["Attributes"]["MessageDeduplicationId"] == big["id"]
    pointer = json.loads(pointer_message["Body"])
    key = f"results/golang/{big['id']}.json"
    assert pointer == {
        "claim_check": {
            "bucket": aws.bucket,
            "key": key,
            "sha256": hashlib.sha256(stored).hexdigest(),
            "size": len(stored),
        },
        "id": big["id"],
        "manifest": "golang",
        "status": "invalid",
        "schema_version": 1,
    }
    obj = aws.s3.get_object(Bucket=aws.bucket, Key=key)
    data = obj["Body"].read()
    assert hashlib.sha256(data).hexdigest() == pointer["claim_check"]["sha256"]
    assert obj["ContentType"] == "application/json"
    assert obj["ServerSideEncryption"] == "AES256"
    assert read_claim_check(pointer, aws.s3) == big
    # A plain message resolves to itself.
    small = next(json.loads(m["Body"]) for m in received if m is not pointer_message)
    assert read_claim_check(small, aws.s3) == small


def test_claim_check_prefix_and_kms_encryption_are_parameters(aws: Aws) -> None:
    queue = SqsResultQueue(
        aws.queue_url,
        bucket=aws.bucket,
        sqs_client=aws.sqs,
        s3_client=aws.s3,
        key_prefix="validation/v1/",
        server_side_encryption="aws:kms",
    )
    big = large_result("node")
    queue.publish([big])
    head = aws.s3.head_object(Bucket=aws.bucket, Key=f"validation/v1/node/{big['id']}.json")
    assert head["ServerSideEncryption"] == "aws:kms"


def test_claim_check_threshold_counts_bytes_exactly(aws: Aws) -> None:
    recorder = RecordingSqs(aws.sqs)
    queue = SqsResultQueue(aws.queue_url, bucket=aws.bucket, sqs_client=recorder, s3_client=aws.s3)
    at_limit = sized_result("python", MAX_MESSAGE_BYTES, seed="a")
    over_limit = sized_result("python", MAX_MESSAGE_BYTES + 1, seed="b")

    queue.publish([at_limit, over_limit])

    sent = [entry for batch in recorder.batches for entry in batch]
    assert [json.loads(e["MessageBody"]).get("claim_check") is None for e in sent] == [True, False]
    assert entry_size(sent[0]) == MAX_MESSAGE_BYTES
    assert len(recorder.batches) == 2  # together they would exceed the batch payload limit
    keys = [o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.bucket)["Contents"]]
    assert keys == [f"results/python/{over_limit['id']}.json"]


def test_too_large_without_bucket_fails_that_id_only(aws: Aws) -> None:
    queue = SqsResultQueue(aws.queue_url, bucket=None, sqs_client=aws.sqs)
    small, big = result("python"), large_result("golang")

    with pytest.raises(PublishError) as caught:
        queue.publish([small, big])

    error = caught.value
    assert [(f.index, f.id, f.retryable) for f in error.failures] == [(1, big["id"], False)]
    assert "no claim-check bucket" in error.failures[0].reason
    assert error.published == (small["id"],)
    assert big["id"] in str(error)
    received = drain(aws.sqs, aws.queue_url)
    assert [json.loads(m["Body"]) for m in received] == [small]  # nothing truncated or sent


def test_claim_check_upload_failure_is_reported(aws: Aws) -> None:
    queue = SqsResultQueue(
        aws.queue_url, bucket="no-such-bucket", sqs_client=aws.sqs, s3_client=aws.s3
    )
    big, small = large_result("golang"), result("python")

    with pytest.raises(PublishError) as caught:
        queue.publish([big, small])

    (failure,) = caught.value.failures
    assert failure.id == big["id"]
    assert "NoSuchBucket" in failure.reason
    # No pointer to a missing object was queued.
    assert [json.loads(m["Body"])["id"] for m in drain(aws.sqs, aws.queue_url)] == [small["id"]]


def test_tampered_claim_check_object_is_rejected(aws: Aws) -> None:
    queue = SqsResultQueue(aws.queue_url, bucket=aws.bucket, sqs_client=aws.sqs, s3_client=aws.s3)
    big = large_result("golang")
    queue.publish([big])
    pointer = json.loads(drain(aws.sqs, aws.queue_url)[0]["Body"])
    claim = pointer["claim_check"]

    aws.s3.put_object(Bucket=aws.bucket, Key=claim["key"], Body=encode_body({**big, "x": 1}))
    with pytest.raises(ClaimCheckError, match="bytes"):
        read_claim_check(pointer, aws.s3)

    forged = encode_body(big).replace(b"tags/unique", b"tags/uniqu3")
    aws.s3.put_object(Bucket=aws.bucket, Key=claim["key"], Body=forged)
    with pytest.raises(ClaimCheckError, match="sha256"):
        read_claim_check(pointer, aws.s3)

    with pytest.raises(ClaimCheckError, match="malformed"):
        read_claim_check({"id": big["id"], "claim_check": {"bucket": aws.bucket}}, aws.s3)


# -- batching -------------------------------------------------------------------------------


def test_batches_split_by_count(aws: Aws) -> None:
    recorder = RecordingSqs(aws.sqs)
    queue = SqsResultQueue(aws.queue_url, bucket=None, sqs_client=recorder)
    messages = [result(f"image{n % 3}", n=n) for n in range(25)]

    queue.publish(messages)

    assert [len(batch) for batch in recorder.batches] == [10, 10, 5]
    sent_ids = [e["MessageDeduplicationId"] for batch in recorder.batches for e in batch]
    assert sent_ids == [m["id"] for m in messages]  # order preserved across batches
    assert len(drain(aws.sqs, aws.queue_url)) == 25


def test_batches_split_by_size(aws: Aws) -> None:
    recorder = RecordingSqs(aws.sqs)
    queue = SqsResultQueue(aws.queue_url, bucket=None, sqs_client=recorder)
    messages = [sized_result(f"image{n}", 100 * KIB, seed=str(n)) for n in range(5)]

    queue.publish(messages)

    assert [len(batch) for batch in recorder.batches] == [2, 2, 1]
    for batch in recorder.batches:
        assert len(batch) <= MAX_BATCH_ENTRIES
        assert sum(entry_size(e) for e in batch) <= MAX_MESSAGE_BYTES
    received = drain(aws.sqs, aws.queue_url)
    assert sorted(json.loads(m["Body"])["id"] for m in received) == sorted(
        m["id"] for m in messages
    )


# -- validation -----------------------------------------------------------------------------


def test_invalid_messages_fail_permanently_and_others_are_sent(aws: Aws) -> None:
    queue = SqsResultQueue(aws.queue_url, bucket=None, sqs_client=aws.sqs)
    good = result("python")
    messages: list[Any] = [
        {"manifest": "python"},  # no id
        {"id": "x" * 129, "manifest": "python"},  # too long for a dedup id
        {"id": "has space", "manifest": "python"},
        {"id": "abc", "manifest": "../escape"},  # would climb out of the S3 prefix
        {"id": "def", "manifest": "python", "value": float("nan")},
        {"id": "ghi", "manifest": "python", "value": {1, 2}},
        good,
    ]

    with pytest.raises(PublishError) as caught:
        queue.publish(messages)

    error = caught.value
    assert [f.index for f in error.failures] == [0, 1, 2, 3, 4, 5]
    assert not any(f.retryable for f in error.failures)
    assert error.failures[0].id is None
    assert error.published == (good["id"],)
    assert [json.loads(m["Body"]) for m in drain(aws.sqs, aws.queue_url)] == [good]


def test_standard_queue_url_is_rejected_up_front() -> None:
    with pytest.raises(ValueError, match="FIFO"):
        SqsResultQueue("https://sqs.us-east-1.amazonaws.com/123/results", bucket=None, sqs_client=1)


def test_describe_never_shows_credentials_or_query() -> None:
    queue = SqsResultQueue(
        "https://user:s3cr3t@sqs.us-east-1.amazonaws.com/123/results.fifo?X-Amz-Signature=abc",
        bucket="b",
        sqs_client=object(),
        s3_client=object(),
    )
    text = queue.describe()
    assert "sqs.us-east-1.amazonaws.com/123/results.fifo" in text
    assert "s3://b/results/" in text
    assert "s3cr3t" not in text and "user" not in text and "Signature" not in text


# -- failures -------------------------------------------------------------------------------


def test_nonexistent_queue_raises_and_stops_sending(aws: Aws) -> None:
    missing = aws.queue_url.replace("results.fifo", "missing.fifo")
    recorder = RecordingSqs(aws.sqs)
    queue = SqsResultQueue(missing, bucket=None, sqs_client=recorder)
    messages = [result("python", n=n) for n in range(12)]

    with pytest.raises(PublishError) as caught:
        queue.publish(messages)

    error = caught.value
    assert [f.id for f in error.failures] == [m["id"] for m in messages]
    assert error.published == ()
    assert "NonExistentQueue" in error.failures[0].reason
    assert error.failures[-1].reason.startswith("not sent after an earlier batch failed")
    assert not error.failures[0].retryable and error.failures[-1].retryable  # never tried
    assert not error.retryable
    assert len(recorder.batches) == 1  # the second batch was not tried against a missing queue


def stubbed(max_attempts: int = 4) -> tuple[SqsResultQueue, Stubber, list[float]]:
    client = boto3.client("sqs", region_name=REGION)
    delays: list[float] = []
    queue = SqsResultQueue(
        "https://sqs.us-east-1.amazonaws.com/123456789012/results.fifo",
        bucket=None,
        sqs_client=client,
        max_attempts=max_attempts,
        sleep=delays.append,
    )
    return queue, Stubber(client), delays


def request(queue: SqsResultQueue, messages: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "QueueUrl": queue.queue_url,
        "Entries": [
            {
                "Id": f"m{index}",
                "MessageBody": encode_body(m).decode(),
                "MessageGroupId": m["manifest"],
                "MessageDeduplicationId": m["id"],
            }
            for index, m in messages.items()
        ],
    }


def ok(index: int) -> dict[str, str]:
    return {"Id": f"m{index}", "MessageId": f"msg-{index}", "MD5OfMessageBody": "0" * 32}


def failed(index: int, *, sender_fault: bool, code: str = "InternalError") -> dict[str, Any]:
    return {"Id": f"m{index}", "SenderFault": sender_fault, "Code": code, "Message": "boom"}


def test_transient_entry_failure_is_retried_until_it_succeeds() -> None:
    queue, stub, delays = stubbed()
    a, b = result("python"), result("golang")
    stub.add_response(
        "send_message_batch",
        {"Successful": [ok(0)], "Failed": [failed(1, sender_fault=False)]},
        request(queue, {0: a, 1: b}),
    )
    stub.add_response(  # only the failed entry is sent again
        "send_message_batch", {"Successful": [ok(1)], "Failed": []}, request(queue, {1: b})
    )
    with stub:
        queue.publish([a, b])
        stub.assert_no_pending_responses()
    assert len(delays) == 1 and 0 <= delays[0] <= queue.backoff_seconds


def test_transient_failure_that_persists_raises_after_the_attempts() -> None:
    queue, stub, delays = stubbed(max_attempts=3)
    a, b = result("python"), result("golang")
    stub.add_response(
        "send_message_batch",
        {"Successful": [ok(0)], "Failed": [failed(1, sender_fault=False)]},
        request(queue, {0: a, 1: b}),
    )
    for _ in range(2):
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": [failed(1, sender_fault=False)]},
            request(queue, {1: b}),
        )
    with stub, pytest.raises(PublishError) as caught:
        queue.publish([a, b])
    stub.assert_no_pending_responses()

    error = caught.value
    assert error.published == (a["id"],)
    (failure,) = error.failures
    assert (failure.index, failure.id, failure.retryable) == (1, b["id"], True)
    assert "InternalError: boom" in failure.reason and "3 attempt" in failure.reason
    assert len(delays) == 2 and delays[1] <= 2 * queue.backoff_seconds


def test_sender_fault_is_not_retried() -> None:
    queue, stub, delays = stubbed()
    a, b = result("python"), result("golang")
    stub.add_response(
        "send_message_batch",
        {
            "Successful": [ok(1)],
            "Failed": [failed(0, sender_fault=True, code="InvalidParameterValue")],
        },
        request(queue, {0: a, 1: b}),
    )
    with stub, pytest.raises(PublishError) as caught:
        queue.publish([a, b])
    stub.assert_no_pending_responses()

    (failure,) = caught.value.failures
    assert (failure.id, failure.retryable) == (a["id"], False)
    assert failure.reason == "InvalidParameterValue: boom"
    assert caught.value.published == (b["id"],)
    assert delays == []


def test_entry_missing_from_the_response_is_not_counted_as_sent() -> None:
    queue, stub, _ = stubbed(max_attempts=2)
    a = result("python")
    stub.add_response(
        "send_message_batch", {"Successful": [], "Failed": []}, request(queue, {0: a})
    )
    stub.add_response(
        "send_message_batch", {"Successful": [], "Failed": []}, request(queue, {0: a})
    )
    with stub, pytest.raises(PublishError, match="no result from SQS"):
        queue.publish([a])


def test_throttling_error_is_reported_as_retryable() -> None:
    queue, stub, _ = stubbed()
    stub.add_client_error("send_message_batch", "ThrottlingException", "slow down", 400)
    with stub, pytest.raises(PublishError) as caught:
        queue.publish([result("python")])
    assert caught.value.retryable
