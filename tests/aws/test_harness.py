"""The harness itself: the stack is the template's, the poller is Lambda's, the reader reads what
consumers read, the faults are AWS's own answers, and what moto does differently from SQS is
pinned here (so a moto upgrade that changes it shows up as a failure, not as a silent change in
what the scenarios mean)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from . import doors
from .poller import LambdaPoller, lambda_record
from .proxy import Fault, Gate, fail_entries, pause, refuse
from .reader import ClaimCheckMismatch
from .stack import Stack, boto_client
from .steps import deliver_push, names, start_with
from .template import event_source_spec, load_template, ref_target, resources_of_type
from .world import World

SQS_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "events" / "aws" / "sqsEvent.json"


def text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


# -- the stack is the template's -----------------------------------------------------------------


def test_every_queue_has_the_template_attributes_and_redrive(stack: Stack) -> None:
    template = load_template()
    queues = resources_of_type("AWS::SQS::Queue")
    assert set(queues) == set(stack.queues) and len(queues) >= 4
    for logical_id in queues:
        declared = template["Resources"][logical_id]["Properties"]
        queue = stack.queue(logical_id)
        actual = stack.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert queue.name.endswith(".fifo") == (declared.get("FifoQueue") is True)
        for key, value in declared.items():
            if key == "RedrivePolicy":
                redrive = json.loads(actual["RedrivePolicy"])
                target = ref_target(value["deadLetterTargetArn"])
                assert target is not None
                assert redrive["deadLetterTargetArn"] == stack.queue(target).arn
                assert int(redrive["maxReceiveCount"]) == int(value["maxReceiveCount"])
            else:
                assert actual[key] == text(value), (logical_id, key)
        if "RedrivePolicy" not in declared:
            assert "RedrivePolicy" not in actual


def test_the_values_the_scenarios_depend_on(world: World) -> None:
    """Named once more, from the template's text, so a harness bug cannot hide in a loop."""
    resources = load_template()["Resources"]
    work = resources["WorkQueue"]["Properties"]
    results = resources["ResultsQueue"]["Properties"]
    assert world.poller.visibility_timeout == work["VisibilityTimeout"]
    assert (
        world.stack.queue("WorkQueue").spec.max_receive_count
        == work["RedrivePolicy"]["maxReceiveCount"]
    )
    assert (
        world.poller.spec.batch_size
        == resources["WorkerWorkQueueMapping"]["Properties"]["BatchSize"]
    )
    assert world.poller.spec.report_batch_item_failures
    window = world.proxy.windows[world.stack.queue("ResultsQueue").name]
    assert window.content_based == results["ContentBasedDeduplication"]
    assert window.per_message_group == (results["DeduplicationScope"] == "messageGroup")
    worker = resources["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert int(worker["WORK_QUEUE_MAX_RECEIVES"]) == work["RedrivePolicy"]["maxReceiveCount"]


def test_table_bucket_and_parameters_are_the_template_ones(stack: Stack) -> None:
    declared = load_template()["Resources"]["IdempotencyTable"]["Properties"]
    table = stack.dynamodb.describe_table(TableName=stack.table_name)["Table"]
    assert table["KeySchema"] == declared["KeySchema"]
    assert table["AttributeDefinitions"] == declared["AttributeDefinitions"]
    assert table["BillingModeSummary"]["BillingMode"] == declared["BillingMode"]
    ttl = stack.dynamodb.describe_time_to_live(TableName=stack.table_name)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"]
    stack.s3.head_bucket(Bucket=stack.bucket)
    parameters = load_template()["Parameters"]
    for name in ("WebhookSecretParameterName", "ApiTokensParameterName"):
        stack.ssm.get_parameter(Name=parameters[name]["Default"], WithDecryption=True)


def test_functions_get_exactly_the_template_environment(world: World) -> None:
    import os

    template = load_template()
    globals_ = template["Globals"]["Function"]["Environment"]["Variables"]
    overridden = {"MANIFESTS_REPOSITORY", "MANIFEST_VALIDATION_INSECURE_HOSTS"}
    for function in doors.FUNCTIONS:
        own = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        declared = {**globals_, **own}
        resolved = world.stack.function_environment(function)
        assert set(resolved) == set(declared), function
        for name, value in declared.items():
            target = ref_target(value)
            if name in overridden:
                continue
            if target is None:
                assert resolved[name] == text(value), name
            elif target in world.stack.queues:
                assert resolved[name] == world.stack.queue(target).url, name
            elif target == "ResultsBucket":
                assert resolved[name] == world.stack.bucket
            elif target == "IdempotencyTable":
                assert resolved[name] == world.stack.table_name
            else:  # a parameter: its default
                assert resolved[name] == text(template["Parameters"][target]["Default"]), name
            assert os.environ[name] == resolved[name], name
    assert os.environ["MANIFESTS_REPOSITORY"] == world.stack.parameters["ManifestsRepository"]
    assert os.environ["AWS_ENDPOINT_URL"] == world.proxy.url


def test_template_short_forms_are_read_as_long_forms() -> None:
    resources = load_template()["Resources"]
    redrive = resources["WorkQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["WorkDeadLetterQueue", "Arn"]}
    environment = resources["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["WORK_QUEUE_URL"] == {"Ref": "WorkQueue"}
    assert event_source_spec().function == "WorkerFunction"


@pytest.mark.shared
def test_the_code_reaches_aws_only_through_the_proxy(world: World) -> None:
    before, after = start_with(world, names(2))
    assert deliver_push(world, before, after).status == 202
    world.poller.settle()
    seen = {(c.service, c.operation, c.target) for c in world.proxy.calls}
    assert ("ssm", "GetParameter", None) in seen
    assert ("dynamodb", "PutItem", world.stack.table_name) in seen
    assert ("sqs", "SendMessageBatch", world.stack.queue("WorkQueue").name) in seen
    assert ("sqs", "SendMessageBatch", world.stack.queue("ResultsQueue").name) in seen
    assert all(c.status == 200 for c in world.proxy.calls)


# -- the poller is Lambda's ----------------------------------------------------------------------


@pytest.mark.shared
def test_records_have_the_shape_of_lambdas_sqs_event(stack: Stack) -> None:
    if not SQS_SAMPLE.exists():
        pytest.skip(f"the AWS event samples are not beside the project ({SQS_SAMPLE} absent)")
    (sample,) = json.loads(SQS_SAMPLE.read_text())["Records"]
    work = stack.queue("WorkQueue")
    stack.sqs.send_message(QueueUrl=work.url, MessageBody="Test message.")
    poller = LambdaPoller(stack)
    (message,) = poller.receive_batch()
    record = lambda_record(message, work)
    assert set(record) == set(sample)
    assert set(record["attributes"]) == set(sample["attributes"])
    for key, value in record.items():
        assert type(value) is type(sample[key]), key
    assert all(isinstance(v, str) for v in record["attributes"].values())
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["md5OfBody"] == hashlib.md5(b"Test message.", usedforsecurity=False).hexdigest()
    assert record["md5OfBody"] == sample["md5OfBody"]  # the sample's body is the same text
    assert record["eventSource"] == sample["eventSource"] == "aws:sqs"
    arn = record["eventSourceARN"].split(":")
    assert arn[:3] == ["arn", "aws", "sqs"] and arn[3] == record["awsRegion"]
    assert arn[5] == work.name


def test_message_attributes_are_converted_as_lambda_does(stack: Stack) -> None:
    work = stack.queue("WorkQueue")
    stack.sqs.send_message(
        QueueUrl=work.url,
        MessageBody="x",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "job"}},
    )
    (message,) = LambdaPoller(stack).receive_batch()
    record = lambda_record(message, work)
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "job",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert "md5OfMessageAttributes" in record


class Scripted:
    """A handler that reports the records whose body is in `fail`, or raises."""

    def __init__(
        self, fail: frozenset[str] = frozenset(), *, raises: bool = False, answer: Any = None
    ) -> None:
        self.fail, self.raises, self.answer = fail, raises, answer
        self.batches: list[list[str]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.batches.append([r["body"] for r in event["Records"]])
        assert context.get_remaining_time_in_millis() > 0
        if self.raises:
            raise RuntimeError("the function failed")
        if self.answer is not None:
            return self.answer
        failures = [
            {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in self.fail
        ]
        return {"batchItemFailures": failures}


def send(stack: Stack, *bodies: str) -> None:
    for body in bodies:
        stack.sqs.send_message(QueueUrl=stack.queue("WorkQueue").url, MessageBody=body)


def visible(stack: Stack) -> int:
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.queue("WorkQueue").url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_reported_failures_stay_until_the_visibility_timeout_runs_out(stack: Stack) -> None:
    handler = Scripted(frozenset({"b"}))
    poller = LambdaPoller(stack, handler=handler)
    send(stack, "a", "b", "c")
    invocation = poller.poll_once()
    assert invocation is not None and len(invocation.deleted) == 2 and len(invocation.failed) == 1
    assert poller.poll_once() is None and visible(stack) == 0
    stack.clock.advance(poller.visibility_timeout - 60)  # not yet
    assert poller.poll_once() is None
    stack.clock.advance(61)
    again = poller.poll_once()
    assert again is not None and [r["body"] for r in again.records] == ["b"]
    assert again.records[0]["attributes"]["ApproximateReceiveCount"] == "2"


@pytest.mark.parametrize(
    "handler",
    [
        Scripted(raises=True),
        Scripted(answer={"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]}),
        Scripted(answer={"batchItemFailures": [{"itemIdentifier": ""}]}),
    ],
    ids=["function-error", "unknown-identifier", "empty-identifier"],
)
def test_the_whole_batch_comes_back_when_lambda_would_retry_it(
    stack: Stack, handler: Scripted
) -> None:
    poller = LambdaPoller(stack, handler=handler)
    send(stack, "a", "b")
    invocation = poller.poll_once()
    assert invocation is not None and invocation.deleted == [] and len(invocation.failed) == 2
    stack.clock.advance(poller.visibility_timeout + 1)
    assert len(handler.batches) == 1
    poller.drain()
    assert sorted(handler.batches[1]) == ["a", "b"]


def test_a_message_failing_every_time_is_redriven_after_max_receives(stack: Stack) -> None:
    handler = Scripted(frozenset({"poison"}))
    poller = LambdaPoller(stack, handler=handler)
    send(stack, "poison", "fine")
    poller.settle()
    receives = stack.queue("WorkQueue").spec.max_receive_count
    assert [batch.count("poison") for batch in handler.batches] == [1] * int(receives or 0)
    dlq = stack.queue("WorkDeadLetterQueue")
    (letter,) = stack.sqs.receive_message(QueueUrl=dlq.url, MaxNumberOfMessages=10)["Messages"]
    assert letter["Body"] == "poison"


def test_batches_hold_at_most_the_template_batch_size(stack: Stack) -> None:
    handler = Scripted()
    poller = LambdaPoller(stack, handler=handler)
    send(stack, *[f"m{n}" for n in range(23)])
    poller.drain()
    assert max(len(batch) for batch in handler.batches) == poller.spec.batch_size
    assert sum(len(batch) for batch in handler.batches) == 23


# -- moto and SQS: what differs, pinned --------------------------------------------------------


def fifo_queue(stack: Stack, name: str, **attributes: str) -> str:
    merged = {"FifoQueue": "true", "ContentBasedDeduplication": "false", **attributes}
    url: str = stack.sqs.create_queue(QueueName=f"{name}.fifo", Attributes=merged)["QueueUrl"]
    return url


def receive_all(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_moto_fifo_dedup_forgets_an_id_once_its_message_is_deleted(stack: Stack) -> None:
    """SQS keeps a deduplication id 5 minutes from the send, consumed or not; moto keeps it
    only while its message is in the queue (and on real time: 300 s of it)."""
    from moto.sqs.models import DEDUPLICATION_TIME_IN_SECONDS

    assert DEDUPLICATION_TIME_IN_SECONDS == 300
    url = fifo_queue(stack, "pin-dedup")
    for body in ("first", "second"):
        stack.sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId="same"
        )
    assert receive_all(stack.sqs, url) == ["first"]  # dropped while the first was queued
    stack.sqs.send_message(
        QueueUrl=url, MessageBody="third", MessageGroupId="g", MessageDeduplicationId="same"
    )
    assert receive_all(stack.sqs, url) == ["third"]  # SQS would drop it (within 5 minutes)


def test_moto_dedup_ignores_the_message_group_scope(stack: Stack) -> None:
    """SQS with DeduplicationScope=messageGroup keeps ids per group; moto per queue."""
    url = fifo_queue(
        stack,
        "pin-scope",
        DeduplicationScope="messageGroup",
        FifoThroughputLimit="perMessageGroupId",
    )
    for group in ("a", "b"):
        stack.sqs.send_message(
            QueueUrl=url, MessageBody=group, MessageGroupId=group, MessageDeduplicationId="same"
        )
    assert receive_all(stack.sqs, url) == ["a"]  # SQS: ["a", "b"]


def test_the_proxy_window_is_sqss_on_the_emulated_clock(world: World) -> None:
    """Through the proxy (as the functions publish): an id sent again within 5 minutes is
    accepted and dropped even after the first was consumed; after 5 minutes it is new; the
    scope is per message group, as the template sets it."""
    results = world.stack.queue("ResultsQueue")
    client = boto_client("sqs", world.proxy.url)

    def publish(body: str, group: str = "image", dedup: str = "result-1") -> None:
        answer = client.send_message_batch(
            QueueUrl=results.url,
            Entries=[
                {
                    "Id": "0",
                    "MessageBody": body,
                    "MessageGroupId": group,
                    "MessageDeduplicationId": dedup,
                }
            ],
        )
        assert [s["Id"] for s in answer["Successful"]] == ["0"] and not answer.get("Failed")

    publish("first")
    assert receive_all(world.stack.sqs, results.url) == ["first"]
    world.clock.advance(299)
    publish("again within the window")
    assert receive_all(world.stack.sqs, results.url) == []
    world.clock.advance(2)
    publish("after the window")
    publish("other group, same id", group="other")
    assert receive_all(world.stack.sqs, results.url) == [
        "after the window",
        "other group, same id",
    ]
    window = world.proxy.windows[results.name]
    assert (window.windows_opened, window.dropped) == (3, 1)


# -- faults are AWS's own answers ------------------------------------------------------------------


def test_injected_errors_parse_as_aws_errors(world: World) -> None:
    sqs = boto_client("sqs", world.proxy.url)
    dynamodb = boto_client("dynamodb", world.proxy.url)
    work = world.stack.queue("WorkQueue")
    with world.proxy.injected(Fault("sqs down", "sqs", refuse(503, "ServiceUnavailable"))):
        with pytest.raises(ClientError) as raised:
            sqs.send_message(QueueUrl=work.url, MessageBody="x")
        assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    with world.proxy.injected(Fault("ddb down", "dynamodb", refuse(500, "InternalServerError"))):
        with pytest.raises(ClientError) as raised:
            dynamodb.get_item(TableName=world.stack.table_name, Key={"id": {"S": "x"}})
        assert raised.value.response["Error"]["Code"] == "InternalServerError"
    entries = [{"Id": str(n), "MessageBody": f"m{n}"} for n in range(3)]
    with world.proxy.injected(
        Fault("entries fail", "sqs", fail_entries(), "SendMessageBatch", work.name)
    ):
        answer = sqs.send_message_batch(QueueUrl=work.url, Entries=entries)
    assert answer.get("Successful", []) == []
    assert [(f["Id"], f["SenderFault"]) for f in answer["Failed"]] == [
        ("0", False),
        ("1", False),
        ("2", False),
    ]
    assert visible(world.stack) == 0  # nothing reached moto


def test_a_crash_refuses_everything_until_the_invocation_is_settled(world: World) -> None:
    sqs = boto_client("sqs", world.proxy.url)
    work = world.stack.queue("WorkQueue")
    world.proxy.crash_at("dies", "sqs", "SendMessage", work.name, after=1)
    sqs.send_message(QueueUrl=work.url, MessageBody="before")
    for _ in range(2):
        with pytest.raises(ClientError):
            sqs.send_message(QueueUrl=work.url, MessageBody="at or after the crash")
    with pytest.raises(ClientError):  # any call, not only the one that crashed
        sqs.get_queue_attributes(QueueUrl=work.url, AttributeNames=["All"])
    assert world.proxy.take_crash() == "dies"
    sqs.send_message(QueueUrl=work.url, MessageBody="next invocation")
    assert sorted(receive_all(world.stack.sqs, work.url)) == ["before", "next invocation"]


def test_a_paused_call_waits_for_its_gate(world: World) -> None:
    sqs = boto_client("sqs", world.proxy.url)
    work = world.stack.queue("WorkQueue")
    gate = Gate(timeout=30)
    world.proxy.inject(Fault("held", "sqs", pause(gate), "SendMessage", work.name, times=1))
    done = threading.Event()

    def sender() -> None:
        sqs.send_message(QueueUrl=work.url, MessageBody="held")
        done.set()

    thread = threading.Thread(target=sender)
    thread.start()
    assert gate.arrived.wait(30)
    assert not done.wait(0.2) and visible(world.stack) == 0
    gate.open()
    thread.join(30)
    assert done.is_set() and receive_all(world.stack.sqs, work.url) == ["held"]


# -- the reader and the clock ----------------------------------------------------------------------


def test_the_reader_follows_claim_checks_and_checks_them(world: World) -> None:
    results = world.stack.queue("ResultsQueue")
    stored = {"id": "r1", "manifest": "big", "status": "invalid", "origin": {"commit": "c1"}}
    data = json.dumps(stored).encode()
    world.stack.s3.put_object(Bucket=world.stack.bucket, Key="results/big/r1.json", Body=data)
    check: dict[str, Any] = {
        "bucket": world.stack.bucket,
        "key": "results/big/r1.json",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    pointer = {"claim_check": check, "id": "r1", "manifest": "big"}
    attributes = {"claim-check": {"DataType": "String", "StringValue": "s3"}}
    world.stack.sqs.send_message(
        QueueUrl=results.url,
        MessageBody=json.dumps(pointer),
        MessageGroupId="big",
        MessageDeduplicationId="r1",
        MessageAttributes=attributes,
    )
    tally = world.reader.tally({("big", "c1")})
    assert tally.delivered[0].claim_checked and tally.delivered[0].result == stored
    assert (tally.seen, tally.duplicates, tally.lost) == (1, 0, set())
    wrong = dict(pointer, claim_check=dict(check, sha256="0" * 64))
    world.stack.sqs.send_message(
        QueueUrl=results.url,
        MessageBody=json.dumps(wrong),
        MessageGroupId="big",
        MessageDeduplicationId="r1-again",
        MessageAttributes=attributes,
    )
    with pytest.raises(ClaimCheckMismatch):
        world.reader.drain()


def test_the_tally_counts_duplicates_and_lost_jobs(world: World) -> None:
    results = world.stack.queue("ResultsQueue")
    for number, (manifest, commit) in enumerate([("a", "c"), ("a", "c"), ("b", "c")]):
        body = {"id": f"{manifest}-{number}", "manifest": manifest, "origin": {"commit": commit}}
        world.stack.sqs.send_message(
            QueueUrl=results.url,
            MessageBody=json.dumps(body),
            MessageGroupId=manifest,
            MessageDeduplicationId=str(number),
        )
    tally = world.reader.tally({("a", "c"), ("z", "c")})
    assert (tally.seen, tally.duplicates, tally.lost, tally.unexpected) == (
        3,
        1,
        {("z", "c")},
        {("b", "c")},
    )


@pytest.mark.shared
def test_advancing_the_clock_ages_idempotency_records(world: World) -> None:
    before, after = start_with(world, names(1))
    assert deliver_push(world, before, after).status == 202
    (record,) = world.stack.idempotency_records()
    ttl = world.stack.table
    assert ttl is not None and ttl.ttl_attribute is not None
    expires = int(record[ttl.ttl_attribute]["N"])
    world.clock.advance(3600)
    (aged,) = world.stack.idempotency_records()
    assert int(aged[ttl.ttl_attribute]["N"]) == expires - 3600
