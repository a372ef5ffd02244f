"""The stack's resources on the moto server, made from template.yaml, and the functions'
environment as SAM would set it.

`Stack.create` makes every AWS::SQS::Queue (dead-letter queues first, redrive policies with the
template's maxReceiveCount), the results bucket, the idempotency table (key schema, billing mode,
TTL attribute) and the two SSM parameters the template names (webhook secret, API tokens), then
resolves each function's `Environment` (Globals merged with its own) against them: a `Ref` to a
queue is its URL, to the bucket or table its name, to a parameter its default. The only values
that differ from a deployment are the ones a local world needs: the manifests repository is the
test's git server (plain HTTP, hence MANIFEST_VALIDATION_INSECURE_HOSTS), and AWS is the proxy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from . import doors
from .clock import Clock
from .proxy import AwsProxy, FifoDedupWindow
from .template import (
    QueueSpec,
    TableSpec,
    function_environment,
    load_template,
    parameter_defaults,
    queue_spec,
    redrive_policy_json,
    ref_target,
    resources_of_type,
    table_spec,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
WEBHOOK_SECRET = "webhook-secret-for-tests"
API_TOKEN = "api-token-for-tests"
STACK_NAME = "mv"

# What every process talking to the local AWS gets (the code under test and the harness).
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
# Variables that could point boto3 at a real account or other config.
UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)
# SDK-level retries are off for the code under test: every fault the harness injects lasts for
# the whole stretch it models, so botocore's retries (up to 10 attempts with backoff on
# DynamoDB) could only add seconds, never change the outcome. The code's own retries
# (SqsWorkQueue, SqsResultQueue) still run.
SDK_RETRIES = {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}


_SESSIONS: list[Any] = []
_CLIENTS: dict[tuple[str, str], Any] = {}


def boto_client(service: str, endpoint: str) -> Any:
    """A client of the harness's own (one per service and endpoint for the run: they are
    thread-safe, and making one loads its service model)."""
    import boto3

    found = _CLIENTS.get((service, endpoint))
    if found is not None:
        return found
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session())
    found = _CLIENTS[(service, endpoint)] = _SESSIONS[0].client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
    )
    return found


@dataclass(frozen=True)
class Queue:
    spec: QueueSpec
    name: str
    url: str
    arn: str


@dataclass
class Stack:
    moto_url: str
    proxy: AwsProxy
    clock: Clock
    sqs: Any
    s3: Any
    dynamodb: Any
    ssm: Any
    queues: dict[str, Queue] = field(default_factory=dict)
    bucket: str = ""
    table: TableSpec | None = None
    table_name: str = ""
    # template parameter -> the value used here
    parameters: dict[str, str] = field(default_factory=dict)
    insecure_hosts: str = ""  # MANIFEST_VALIDATION_INSECURE_HOSTS: the test's git servers

    @classmethod
    def create(
        cls,
        moto_url: str,
        proxy: AwsProxy,
        clock: Clock,
        *,
        manifests_repository: str,
        insecure_hosts: str,
    ) -> Stack:
        template = load_template()
        stack = cls(
            moto_url,
            proxy,
            clock,
            boto_client("sqs", moto_url),
            boto_client("s3", moto_url),
            boto_client("dynamodb", moto_url),
            boto_client("ssm", moto_url),
        )
        stack.parameters = {k: str(v) for k, v in parameter_defaults(template).items()}
        stack.parameters["ManifestsRepository"] = manifests_repository
        stack.insecure_hosts = insecure_hosts
        for logical_id in _dead_letter_queues_first(resources_of_type("AWS::SQS::Queue", template)):
            stack._create_queue(queue_spec(logical_id, template))
        (bucket,) = resources_of_type("AWS::S3::Bucket", template)
        stack.bucket = f"{STACK_NAME}-{bucket}".lower()
        stack.s3.create_bucket(Bucket=stack.bucket)
        (table,) = resources_of_type("AWS::DynamoDB::Table", template)
        stack._create_table(table_spec(table, template))
        stack.ssm.put_parameter(
            Name=stack.parameters["WebhookSecretParameterName"],
            Value=WEBHOOK_SECRET,
            Type="SecureString",
        )
        stack.ssm.put_parameter(
            Name=stack.parameters["ApiTokensParameterName"], Value=API_TOKEN, Type="SecureString"
        )
        for queue in stack.queues.values():
            if queue.spec.fifo:
                attributes = queue.spec.attributes
                proxy.windows[queue.name] = FifoDedupWindow(
                    clock,
                    per_message_group=attributes.get("DeduplicationScope") == "messageGroup",
                    content_based=attributes.get("ContentBasedDeduplication") == "true",
                )
        clock.on_advance(stack._age_idempotency_records)
        return stack

    # -- resources ------------------------------------------------------------------------------

    def _create_queue(self, spec: QueueSpec) -> None:
        name = f"{STACK_NAME}-{spec.logical_id}" + (".fifo" if spec.fifo else "")
        attributes = dict(spec.attributes)
        if spec.dead_letter_queue is not None:
            assert spec.max_receive_count is not None
            target = self.queues[spec.dead_letter_queue]
            attributes["RedrivePolicy"] = redrive_policy_json(target.arn, spec.max_receive_count)
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.queues[spec.logical_id] = Queue(spec, name, url, arn)

    def _create_table(self, spec: TableSpec) -> None:
        self.table = spec
        self.table_name = f"{STACK_NAME}-{spec.logical_id}"
        self.dynamodb.create_table(
            TableName=self.table_name,
            KeySchema=spec.key_schema,
            AttributeDefinitions=spec.attribute_definitions,
            BillingMode=spec.billing_mode,
        )
        if spec.ttl_attribute:
            self.dynamodb.update_time_to_live(
                TableName=self.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )

    def queue(self, logical_id: str) -> Queue:
        return self.queues[logical_id]

    # -- environment ----------------------------------------------------------------------------

    def ref(self, logical_id: str) -> str:
        """What CloudFormation's Ref returns for a logical id of this stack."""
        if logical_id in self.queues:
            return self.queues[logical_id].url
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        template = load_template()
        kind = template["Resources"][logical_id]["Type"]
        if kind == "AWS::S3::Bucket":
            return self.bucket
        if kind == "AWS::DynamoDB::Table":
            return self.table_name
        raise KeyError(f"the harness makes no {kind} ({logical_id})")

    def function_environment(self, function: str) -> dict[str, str]:
        """The function's variables as deployed here: template values, Refs resolved."""
        resolved: dict[str, str] = {}
        for name, value in function_environment(function).items():
            target = ref_target(value)
            if target is not None:
                resolved[name] = self.ref(target)
            elif isinstance(value, (str, int, float)):
                resolved[name] = str(value)
            else:
                raise ValueError(f"{function}.{name}: a value form the harness cannot resolve")
        resolved["MANIFEST_VALIDATION_INSECURE_HOSTS"] = self.insecure_hosts
        return resolved

    def environment(self) -> dict[str, str]:
        """One process holds the three functions: the union of their environments (a name two
        functions share has one value in the template; checked here), plus the local AWS."""
        merged: dict[str, str] = {}
        for function in doors.FUNCTIONS:
            for name, value in self.function_environment(function).items():
                if merged.setdefault(name, value) != value:
                    raise ValueError(f"{name} differs between functions: cannot share a process")
        merged.update(CREDENTIALS)
        merged.update(SDK_RETRIES)
        merged["AWS_ENDPOINT_URL"] = self.proxy.url
        return merged

    def process_environment(self) -> dict[str, str]:
        """A whole environment for a second container (a subprocess)."""
        keep = {k: v for k, v in os.environ.items() if k not in UNSET}
        for name in doors.NOT_IN_TEMPLATE:
            keep.pop(name, None)
        keep.update(self.environment())
        return keep

    # -- time -----------------------------------------------------------------------------------

    def _age_idempotency_records(self, seconds: float) -> None:
        """Records expire on real time (DynamoDB compares them with now): moving them back by
        the emulated time is the same as moving now forward."""
        assert self.table is not None
        key_names = [k["AttributeName"] for k in self.table.key_schema]
        shifts = {doors.IN_PROGRESS_EXPIRY_ATTRIBUTE: int(seconds * 1000)}
        if self.table.ttl_attribute:
            shifts[self.table.ttl_attribute] = int(seconds)
        for item in self._scan():
            values = {
                name: int(item[name]["N"]) - shift
                for name, shift in shifts.items()
                if name in item and "N" in item[name]
            }
            if not values:
                continue
            names = {f"#a{i}": name for i, name in enumerate(values)}
            expression = ", ".join(f"#a{i} = :v{i}" for i in range(len(values)))
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key={name: item[name] for name in key_names},
                UpdateExpression=f"SET {expression}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    f":v{i}": {"N": str(value)} for i, value in enumerate(values.values())
                },
            )

    def _scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        while True:
            page = self.dynamodb.scan(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def idempotency_records(self) -> list[dict[str, Any]]:
        return self._scan()


def _dead_letter_queues_first(names: list[str]) -> list[str]:
    """Queues in an order where every redrive target exists before its source."""
    ordered: list[str] = []
    pending = list(names)
    while pending:
        for name in pending:
            target = queue_spec(name).dead_letter_queue
            if target is None or target in ordered:
                ordered.append(name)
                pending.remove(name)
                break
        else:
            raise ValueError(f"redrive cycle among {pending}")
    return ordered
