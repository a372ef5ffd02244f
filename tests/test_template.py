"""The SAM template (and the infra/ script beside it) keeps its promises.

A template is code that only fails at deploy time, in someone's AWS account; these tests move the
failures that can be seen from the text to CI: a handler string that names no importable callable,
a queue without its dead-letter queue (or a dead-letter queue nobody is alarmed about), a worker
whose idea of "last attempt" differs from the queue's, a bucket that could become public or never
expires, logs kept forever, an IAM statement wider than the code needs, and anything `cfn-lint`
reports. The parameter script is run against a stand-in AWS CLI to hold it to "never shows a
token or secret unless asked".
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paths import PROJECT

yaml = pytest.importorskip("yaml", reason="PyYAML (a dependency of cfn-lint) is not installed")

TEMPLATE = PROJECT / "template.yaml"

# The runtimes this package is built and tested for (pyproject: requires-python >= 3.11) that
# Lambda offers on Amazon Linux 2023.
SUPPORTED_RUNTIMES = {"python3.12", "python3.13"}
HANDLERS = {
    "ApiFunction": "manifest_validation.handlers.api.handler",
    "WorkerFunction": "manifest_validation.handlers.worker.handler",
    "RevalidateFunction": "manifest_validation.handlers.revalidate.handler",
}
API_ROUTES = {
    ("POST", "/v1/validations"),
    ("POST", "/v1/webhooks/github"),
    ("GET", "/v1/health"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
}
# What every function reads (from Globals), and what each one reads on top.
COMMON_ENVIRONMENT = {
    "MANIFESTS_REPOSITORY",
    "MANIFESTS_BRANCH",
    "MANIFEST_VALIDATION_INSECURE_HOSTS",
    "MANIFEST_VALIDATION_REGISTRY_MIRRORS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
}
REQUIRED_ENVIRONMENT = {
    "ApiFunction": {
        "RESULTS_QUEUE_URL",
        "RESULTS_BUCKET",
        "API_TOKENS_PARAMETER",
        "WEBHOOK_SECRET_PARAMETER",
        "WORK_QUEUE_URL",
        "IDEMPOTENCY_TABLE",
    },
    "WorkerFunction": {
        "RESULTS_QUEUE_URL",
        "RESULTS_BUCKET",
        "WORK_QUEUE_URL",
        "WORK_QUEUE_MAX_RECEIVES",
        "IDEMPOTENCY_TABLE",
    },
    "RevalidateFunction": {"WORK_QUEUE_URL", "IDEMPOTENCY_TABLE"},
}
DEAD_LETTER_QUEUES = {"ResultsDeadLetterQueue", "WorkDeadLetterQueue", "RevalidateDeadLetterQueue"}


# -- loading ---------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation's short forms (!Ref, !GetAtt, !Sub, !If, ...) into
    their long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}, ...), as CloudFormation itself does."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_form)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)
    assert isinstance(loaded, dict)
    return loaded


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == kind
    }


def function_property(template: dict[str, Any], function: dict[str, Any], key: str) -> Any:
    """A function's property, falling back to Globals.Function as SAM does."""
    properties = function.get("Properties", {})
    if key in properties:
        return properties[key]
    return template.get("Globals", {}).get("Function", {}).get(key)


def environment_of(template: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    """A function's environment variables merged over Globals.Function's, as SAM does."""
    merged: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    merged.update(function.get("Properties", {}).get("Environment", {}).get("Variables", {}))
    return merged


def has_http_api_event(function: dict[str, Any]) -> bool:
    events = function.get("Properties", {}).get("Events", {}) or {}
    return any(event.get("Type") == "HttpApi" for event in events.values())


def ref_target(value: Any) -> str | None:
    """The logical id a {"Ref": X} or {"Fn::GetAtt": [X, ...]} points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def as_text(value: Any) -> str:
    """A resource ARN as text: the Sub template, or the referenced logical id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub if isinstance(sub, str) else sub[0])
    target = ref_target(value)
    if target is not None:
        return f"<{target}>"
    raise AssertionError(f"unexpected resource form {value!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        for policy in as_list(function_property(template, function, "Policies") or []):
            if isinstance(policy, dict) and "Statement" in policy:
                for statement in as_list(policy["Statement"]):
                    yield name, statement


# -- functions -------------------------------------------------------------------------------


def granted_to(template: dict[str, Any], function_name: str) -> dict[str, set[str]]:
    """Action -> the resources (as text) a function's own policies allow it on."""
    granted: dict[str, set[str]] = {}
    for name, statement in policy_statements(template):
        if name != function_name:
            continue
        for action in as_list(statement["Action"]):
            granted.setdefault(action, set()).update(
                as_text(resource) for resource in as_list(statement["Resource"])
            )
    return granted


def test_there_are_the_api_worker_and_revalidate_functions(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    assert {
        name: function_property(template, function, "Handler")
        for name, function in functions.items()
    } == HANDLERS


def test_every_handler_is_an_importable_callable_in_the_code_root(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    assert functions
    for name, function in functions.items():
        handler = function_property(template, function, "Handler")
        code_uri = function_property(template, function, "CodeUri")
        assert handler and code_uri, f"{name}: Handler and CodeUri are required"
        module_name, _, attribute = str(handler).rpartition(".")
        code_root = PROJECT / str(code_uri)
        # Lambda imports from the code root only: the module must be a file there, not just
        # something importable from this checkout's environment.
        relative = Path(*module_name.split("."))
        assert (code_root / relative.with_suffix(".py")).is_file() or (
            code_root / relative / "__init__.py"
        ).is_file(), f"{name}: {module_name} is not under {code_uri}"
        monkeypatch.syspath_prepend(str(code_root))
        module = importlib.import_module(module_name)
        target = getattr(module, attribute, None)
        assert callable(target), f"{name}: {handler} is not a callable"


def test_functions_run_on_a_supported_runtime_on_graviton_with_tracing(
    template: dict[str, Any],
) -> None:
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        assert function_property(template, function, "Runtime") in SUPPORTED_RUNTIMES, name
        assert function_property(template, function, "Architectures") == ["arm64"], name
        assert function_property(template, function, "Tracing") == "Active", name
        if has_http_api_event(function):
            # Under API Gateway's 30 s integration limit, so the function is never cut off unseen.
            assert int(function_property(template, function, "Timeout")) < 30, name


def test_code_root_lists_every_runtime_dependency_of_the_package(
    template: dict[str, Any],
) -> None:
    def name_of(requirement: str) -> str:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert match, requirement
        return re.sub(r"[-_.]+", "-", match.group(1)).lower()

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    # the command line's dependencies and the Lambda side's extra: the handlers need both
    declared = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["aws"],
    ]
    wanted = {name_of(dependency) for dependency in declared}
    for function in resources_of(template, "AWS::Serverless::Function").values():
        requirements = PROJECT / str(function_property(template, function, "CodeUri"))
        lines = (requirements / "requirements.txt").read_text(encoding="utf-8").splitlines()
        listed = {name_of(line) for line in lines if line.strip() and not line.startswith("#")}
        assert wanted <= listed, f"missing from requirements.txt: {sorted(wanted - listed)}"


def test_every_function_gets_the_environment_its_code_reads(template: dict[str, Any]) -> None:
    # The same references wherever a variable appears: one queue, one bucket, one repository.
    expected_targets = {
        "RESULTS_QUEUE_URL": "ResultsQueue",
        "RESULTS_BUCKET": "ResultsBucket",
        "WORK_QUEUE_URL": "WorkQueue",
        "IDEMPOTENCY_TABLE": "IdempotencyTable",
        "API_TOKENS_PARAMETER": "ApiTokensParameterName",
        "WEBHOOK_SECRET_PARAMETER": "WebhookSecretParameterName",
        "MANIFESTS_REPOSITORY": "ManifestsRepository",
        "MANIFESTS_BRANCH": "ManifestsBranch",
        "POWERTOOLS_LOG_LEVEL": "LogLevel",
        "MANIFEST_VALIDATION_REGISTRY_MIRRORS": "RegistryMirrors",
    }
    functions = resources_of(template, "AWS::Serverless::Function")
    for name, wanted in REQUIRED_ENVIRONMENT.items():
        variables = environment_of(template, functions[name])
        assert set(variables) >= COMMON_ENVIRONMENT | wanted, name
        for variable, value in variables.items():
            if variable in expected_targets:
                assert ref_target(value) == expected_targets[variable], (name, variable)
        assert variables["MANIFEST_VALIDATION_INSECURE_HOSTS"] == "", name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "manifest-validation", name
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "ManifestValidation", name
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false", name
        # No secret value in a function's configuration: only parameter names.
        assert not {"MANIFEST_VALIDATION_API_TOKENS", "MANIFEST_VALIDATION_WEBHOOK_SECRET"} & set(
            variables
        ), name


def test_parameter_defaults(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert parameters["ApiTokensParameterName"]["Default"] == "/manifest-validation/api-tokens"
    assert parameters["WebhookSecretParameterName"]["Default"] == (
        "/manifest-validation/github-webhook-secret"
    )
    # The code's own defaults (settings.py), so a stack with default parameters and a local run
    # look at the same repository and branch.
    from manifest_validation.settings import DEFAULT_BRANCH, DEFAULT_REPOSITORY

    assert parameters["ManifestsRepository"]["Default"] == DEFAULT_REPOSITORY
    assert parameters["ManifestsBranch"]["Default"] == DEFAULT_BRANCH
    assert parameters["RevalidateSchedule"]["Default"] == "cron(0 4 * * ? *)"
    assert parameters["AlarmTopicArn"]["Default"] == ""
    assert parameters["RegistryMirrors"]["Default"] == ""
    # 2 is the least maximum concurrency an SQS event source mapping accepts.
    concurrency = parameters["WorkerMaxConcurrency"]
    assert concurrency["MinValue"] == 2 and concurrency["Default"] >= 2


@pytest.mark.parametrize(
    ("value", "deployable"),
    [
        ("", True),
        ("docker.io=https://mirror.example", True),
        ("docker.io=https://m.example/v,mcr.microsoft.com=https://m2.example", True),
        ("docker.io=http://mirror.example", False),  # no plain http in AWS
        ("docker.io", False),
        ("docker.io=https://a.example, mcr.microsoft.com=https://b.example", False),
        ("docker.io=https://a.example,", False),
    ],
)
def test_registry_mirrors_take_what_the_settings_take_over_https(
    template: dict[str, Any], value: str, deployable: bool
) -> None:
    from manifest_validation.settings import Settings

    pattern = template["Parameters"]["RegistryMirrors"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is deployable
    if deployable:  # what CloudFormation lets through, the functions start with
        mirrors = Settings.from_env({"MANIFEST_VALIDATION_REGISTRY_MIRRORS": value})
        assert len(mirrors.registry_mirrors) == len([item for item in value.split(",") if item])


# -- HTTP API --------------------------------------------------------------------------------


def test_http_api_routes_are_exactly_the_handlers_routes(template: dict[str, Any]) -> None:
    # Only the API function is behind the HTTP API.
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        assert has_http_api_event(function) == (name == "ApiFunction"), name
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    routes = set()
    for event in events.values():
        assert event["Type"] == "HttpApi"
        properties = event["Properties"]
        assert ref_target(properties["ApiId"]) == "HttpApi"
        assert properties.get("PayloadFormatVersion", "2.0") == "2.0"
        routes.add((properties["Method"], properties["Path"]))
    assert routes == API_ROUTES


def test_http_api_is_throttled_and_access_logged(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]
    assert api["Type"] == "AWS::Serverless::HttpApi"
    settings = api["Properties"]["DefaultRouteSettings"]
    assert "ThrottlingRateLimit" in settings and "ThrottlingBurstLimit" in settings
    access_logs = api["Properties"]["AccessLogSettings"]
    destination = ref_target(access_logs["DestinationArn"])
    assert destination in resources_of(template, "AWS::Logs::LogGroup")
    assert "$context.requestId" in access_logs["Format"]
    # Headers are never logged: they carry the bearer token.
    assert "header" not in access_logs["Format"].lower()


# -- results queue ---------------------------------------------------------------------------


def test_results_queue_is_fifo_with_a_fifo_dead_letter_queue(template: dict[str, Any]) -> None:
    queues = resources_of(template, "AWS::SQS::Queue")
    results = queues["ResultsQueue"]["Properties"]
    assert results["FifoQueue"] is True
    assert results["ContentBasedDeduplication"] is False
    redrive = results["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5
    dead_letter = ref_target(redrive["deadLetterTargetArn"])
    assert dead_letter == "ResultsDeadLetterQueue"
    dlq = queues[dead_letter]["Properties"]
    assert dlq["FifoQueue"] is True
    # The dead-letter queue keeps messages as long as SQS allows, for a human to look at.
    assert dlq["MessageRetentionPeriod"] == 1209600


def test_every_queue_is_encrypted(template: dict[str, Any]) -> None:
    for name, queue in resources_of(template, "AWS::SQS::Queue").items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, (
            name
        )


def test_work_queue_redrives_to_its_dead_letter_queue_after_the_workers_last_attempt(
    template: dict[str, Any],
) -> None:
    queues = resources_of(template, "AWS::SQS::Queue")
    work = queues["WorkQueue"]["Properties"]
    # Standard: jobs are independent, and FIFO would cap the throughput and the fan-out.
    assert not work.get("FifoQueue", False)
    redrive = work["RedrivePolicy"]
    assert ref_target(redrive["deadLetterTargetArn"]) == "WorkDeadLetterQueue"
    dlq = queues["WorkDeadLetterQueue"]["Properties"]
    assert not dlq.get("FifoQueue", False)
    assert dlq["MessageRetentionPeriod"] == 1209600
    # The worker publishes `unverified` instead of failing on the receive it believes is the
    # last one: that must be the receive after which SQS gives up.
    worker = resources_of(template, "AWS::Serverless::Function")["WorkerFunction"]
    max_receives = environment_of(template, worker)["WORK_QUEUE_MAX_RECEIVES"]
    assert isinstance(max_receives, str)
    assert int(max_receives) == redrive["maxReceiveCount"] == 5


def test_work_queue_visibility_timeout_covers_six_worker_timeouts(
    template: dict[str, Any],
) -> None:
    worker = resources_of(template, "AWS::Serverless::Function")["WorkerFunction"]
    timeout = int(function_property(template, worker, "Timeout"))
    (mapping,) = resources_of(template, "AWS::Lambda::EventSourceMapping").values()
    window = int(mapping["Properties"].get("MaximumBatchingWindowInSeconds", 0))
    visibility = template["Resources"]["WorkQueue"]["Properties"]["VisibilityTimeout"]
    # AWS's advice for SQS event sources: at least 6 x the timeout plus the batching window.
    assert visibility >= 6 * timeout + window
    assert visibility <= 43200, "the SQS maximum"


def test_worker_consumes_the_work_queue_in_partial_batches_with_bounded_concurrency(
    template: dict[str, Any],
) -> None:
    mappings = resources_of(template, "AWS::Lambda::EventSourceMapping")
    (mapping,) = mappings.values()
    properties = mapping["Properties"]
    assert ref_target(properties["EventSourceArn"]) == "WorkQueue"
    assert ref_target(properties["FunctionName"]) == "WorkerFunction"
    assert properties["BatchSize"] == 10
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert ref_target(properties["ScalingConfig"]["MaximumConcurrency"]) == ("WorkerMaxConcurrency")
    assert 0 < int(properties["MaximumBatchingWindowInSeconds"]) <= 10
    assert properties.get("Enabled", True) is True
    # Not a SAM `Type: SQS` event: that attaches AWSLambdaSQSQueueExecutionRole, which may
    # receive and delete on every queue in the account.
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        events = function["Properties"].get("Events", {}) or {}
        assert all(event["Type"] != "SQS" for event in events.values()), name


def test_revalidate_is_scheduled_by_eventbridge_scheduler_with_retries_and_a_dlq(
    template: dict[str, Any],
) -> None:
    # No hand-written schedule elsewhere: the one schedule is the revalidate function's event.
    assert not resources_of(template, "AWS::Scheduler::Schedule")
    assert not resources_of(template, "AWS::Events::Rule")
    schedules = {
        (name, event_name): event["Properties"]
        for name, function in resources_of(template, "AWS::Serverless::Function").items()
        for event_name, event in (function["Properties"].get("Events", {}) or {}).items()
        if event["Type"] in {"ScheduleV2", "Schedule"}
    }
    assert list(schedules) == [("RevalidateFunction", "Daily")]
    (schedule,) = schedules.values()
    assert ref_target(schedule["ScheduleExpression"]) == "RevalidateSchedule"
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert ref_target(schedule["DeadLetterConfig"]["Arn"]) == "RevalidateDeadLetterQueue"
    # Named per stack: schedule names are unique per account and Region.
    assert "${AWS::StackName}" in as_text(schedule["Name"])
    # The scheduler invokes asynchronously: a failed run is retried by Lambda and then recorded
    # in the same dead-letter queue.
    revalidate = template["Resources"]["RevalidateFunction"]["Properties"]
    on_failure = revalidate["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    assert ref_target(on_failure["Destination"]) == "RevalidateDeadLetterQueue"
    # The input is an object without `manifests`: every manifest is re-validated.
    assert "manifests" not in json.loads(schedule["Input"])


def test_idempotency_table_is_on_demand_keyed_by_id_and_expires_records(
    template: dict[str, Any],
) -> None:
    (name,) = resources_of(template, "AWS::DynamoDB::Table")
    assert name == "IdempotencyTable"
    table = template["Resources"][name]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    # The delivery ledger writes each record's expiry to `expiration` (results/ledger_dynamodb.py).
    from manifest_validation.results.ledger_dynamodb import EXPIRATION

    assert table["TimeToLiveSpecification"] == {"AttributeName": EXPIRATION, "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_every_dead_letter_queue_has_an_alarm(template: dict[str, Any]) -> None:
    queues = resources_of(template, "AWS::SQS::Queue")
    dead_letter = {
        ref_target(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for queue in queues.values()
        if "RedrivePolicy" in queue["Properties"]
    } | {"RevalidateDeadLetterQueue"}
    assert dead_letter == DEAD_LETTER_QUEUES
    alarmed = {}
    for name, alarm in resources_of(template, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        (dimension,) = properties["Dimensions"]
        assert dimension["Name"] == "QueueName"
        # The queue's name attribute of a queue of this stack (not a hard-coded name).
        assert dimension["Value"]["Fn::GetAtt"][1] == "QueueName"
        alarmed[ref_target(dimension["Value"])] = name
        assert properties["Namespace"] == "AWS/SQS"
        assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
        assert properties["Threshold"] == 0
        assert properties["TreatMissingData"] == "notBreaching"
        # Notifies the optional topic, and nothing when none is given.
        for key in ("AlarmActions", "OKActions"):
            assert properties[key] == {
                "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
            }
    assert set(alarmed) == DEAD_LETTER_QUEUES
    assert template["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }


# -- results bucket --------------------------------------------------------------------------


def test_results_bucket_is_private_encrypted_owner_enforced_and_expiring(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["ResultsBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    expiring = [
        rule
        for rule in bucket["LifecycleConfiguration"]["Rules"]
        if rule["Status"] == "Enabled" and "ExpirationInDays" in rule
    ]
    assert expiring, "results must expire"
    # The expiry covers the prefix the function writes to.
    assert any(rule.get("Prefix", "") in {"", "results/"} for rule in expiring)


def test_results_bucket_refuses_plain_http(template: dict[str, Any]) -> None:
    policies = resources_of(template, "AWS::S3::BucketPolicy")
    statements = [
        statement
        for policy in policies.values()
        if ref_target(policy["Properties"]["Bucket"]) == "ResultsBucket"
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in statements
    )


# -- logs ------------------------------------------------------------------------------------


def test_every_log_group_has_a_retention(template: dict[str, Any]) -> None:
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert ref_target(group["Properties"]["RetentionInDays"]) == "LogRetentionInDays", name
    assert template["Parameters"]["LogRetentionInDays"]["Default"] == 30


def test_every_function_logs_to_a_log_group_of_this_stack(template: dict[str, Any]) -> None:
    groups = resources_of(template, "AWS::Logs::LogGroup")
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        logging = function_property(template, function, "LoggingConfig") or {}
        assert ref_target(logging.get("LogGroup")) in groups, name


# -- IAM -------------------------------------------------------------------------------------


def test_policies_name_no_wildcard_actions(template: dict[str, Any]) -> None:
    for name, statement in policy_statements(template):
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: wildcard action {action}"


def test_policies_name_no_wildcard_resources_except_where_aws_requires_one(
    template: dict[str, Any],
) -> None:
    statements = list(policy_statements(template))
    assert statements
    for name, statement in statements:
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        for resource in as_list(statement["Resource"]):
            text = as_text(resource)
            assert text != "*", f"{name}: Resource '*' in {statement.get('Sid')}"
            if "*" not in text:
                continue
            if actions == ["s3:PutObject"]:
                # Objects under the results/ prefix of this stack's bucket, nothing else.
                assert text == "${ResultsBucket.Arn}/results/*", text
            elif actions == ["kms:Decrypt"]:
                # The AWS managed key's id cannot be named; the conditions pin it down instead.
                assert text.endswith(":key/*"), text
                condition = statement["Condition"]
                assert "kms:ViaService" in condition["StringEquals"]
                assert condition["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == (
                    "alias/aws/ssm"
                )
            else:
                raise AssertionError(f"{name}: wildcard resource {text} for {actions}")


# The delivery ledger's calls (results/ledger_dynamodb.py): a conditional PutItem claims, an
# UpdateItem records progress, takes over or completes, a BatchGetItem asks which jobs are done.
IDEMPOTENCY_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:BatchGetItem",
}


def test_api_function_may_do_exactly_what_its_code_does(template: dict[str, Any]) -> None:
    granted = granted_to(template, "ApiFunction")
    assert (
        set(granted)
        == {
            "sqs:SendMessage",
            "s3:PutObject",
            "ssm:GetParameter",
            "kms:Decrypt",
        }
        | IDEMPOTENCY_ACTIONS
    )
    assert granted["sqs:SendMessage"] == {"<ResultsQueue>", "<WorkQueue>"}
    assert {arn.rpartition(":")[2] for arn in granted["ssm:GetParameter"]} == {
        "parameter${ApiTokensParameterName}",
        "parameter${WebhookSecretParameterName}",
    }
    for action in IDEMPOTENCY_ACTIONS:
        assert granted[action] == {"<IdempotencyTable>"}


def test_worker_may_do_exactly_what_its_code_does(template: dict[str, Any]) -> None:
    granted = granted_to(template, "WorkerFunction")
    assert granted == {
        "sqs:ReceiveMessage": {"<WorkQueue>"},
        "sqs:DeleteMessage": {"<WorkQueue>"},
        "sqs:GetQueueAttributes": {"<WorkQueue>"},
        "sqs:SendMessage": {"<WorkQueue>", "<ResultsQueue>"},
        "s3:PutObject": {"${ResultsBucket.Arn}/results/*"},
        # the ledger's job-run records: claim, take over and complete; EXPAND's fan-out
        **{action: {"<IdempotencyTable>"} for action in IDEMPOTENCY_ACTIONS},
    }


def test_revalidate_may_only_enqueue_work_and_record_its_run(template: dict[str, Any]) -> None:
    # (SAM adds sqs:SendMessage on RevalidateDeadLetterQueue for the on-failure destination.)
    assert granted_to(template, "RevalidateFunction") == {
        "sqs:SendMessage": {"<WorkQueue>"},
        **{action: {"<IdempotencyTable>"} for action in IDEMPOTENCY_ACTIONS},
    }


# What each function's code calls on the ledger (results/ledger_dynamodb.py): no Scan, Query,
# DeleteItem or table administration anywhere.
LEDGER_ACTIONS = {
    "ApiFunction": IDEMPOTENCY_ACTIONS,
    "WorkerFunction": IDEMPOTENCY_ACTIONS,
    "RevalidateFunction": IDEMPOTENCY_ACTIONS,
}


def test_dynamodb_rights_name_only_the_idempotency_table(template: dict[str, Any]) -> None:
    granted: dict[str, set[str]] = {}
    for name, statement in policy_statements(template):
        actions = as_list(statement["Action"])
        if not any(action.startswith("dynamodb:") for action in actions):
            continue
        assert all(action.startswith("dynamodb:") for action in actions), name
        granted.setdefault(name, set()).update(actions)
        assert [as_text(resource) for resource in as_list(statement["Resource"])] == [
            "<IdempotencyTable>"
        ]
    assert granted == LEDGER_ACTIONS


def test_ledger_records_outlive_every_retry_of_what_they_record(template: dict[str, Any]) -> None:
    """A job run's record lives as long as its job can come back: the work queue's retention,
    and the dead-letter queue's (a person may redrive a job after a fix), plus margin."""
    from manifest_validation.results.ledger import JOB_TTL_SECONDS, RUN_TTL_SECONDS

    queues = template["Resources"]
    work = int(queues["WorkQueue"]["Properties"]["MessageRetentionPeriod"])
    dead = int(queues["WorkDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"])
    assert max(work, dead) + 24 * 3600 <= JOB_TTL_SECONDS
    # a run is remembered while GitHub may redeliver a push (days), beyond the work queue's
    # retention (its jobs may resume while it is) and the schedule's retries (an hour)
    schedule = queues["RevalidateFunction"]["Properties"]["EventInvokeConfig"]
    assert max(work, int(schedule["MaximumEventAgeInSeconds"])) <= RUN_TTL_SECONDS


# -- outputs and lint ------------------------------------------------------------------------


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert set(outputs) >= {
        "ApiUrl",
        "WebhookUrl",
        "ResultsQueueUrl",
        "ResultsDeadLetterQueueUrl",
        "ResultsBucketName",
        "WorkQueueUrl",
        "WorkDeadLetterQueueUrl",
        "IdempotencyTableName",
    }
    api_url = as_text(outputs["ApiUrl"]["Value"])
    assert as_text(outputs["WebhookUrl"]["Value"]) == api_url + "/v1/webhooks/github"
    assert ref_target(outputs["WorkQueueUrl"]["Value"]) == "WorkQueue"
    assert ref_target(outputs["WorkDeadLetterQueueUrl"]["Value"]) == "WorkDeadLetterQueue"
    assert ref_target(outputs["IdempotencyTableName"]["Value"]) == "IdempotencyTable"


def test_samconfig_overrides_name_template_parameters_with_their_defaults(
    template: dict[str, Any],
) -> None:
    config = tomllib.loads((PROJECT / "infra" / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config["default"]["deploy"]["parameters"]["parameter_overrides"]
    parameters = template["Parameters"]
    for entry in overrides:
        key, _, value = entry.partition("=")
        assert key in parameters, f"{key} is not a template parameter"
        if " " in value:
            # SAM splits the entries at spaces unless the value is in double quotes.
            assert value.startswith('"') and value.endswith('"'), entry
            value = value[1:-1]
        assert value == str(parameters[key]["Default"]), entry


@pytest.mark.slow
def test_cfn_lint_reports_nothing() -> None:
    pytest.importorskip("cfnlint", reason="cfn-lint is not installed (pip install cfn-lint)")
    from cfnlint.api import ManualArgs, lint_file

    # Errors and warnings (the default checks) and the informational ones too: the template is
    # clean of all three, and a new finding should be read, then fixed or suppressed with a reason.
    matches = lint_file(TEMPLATE, config=ManualArgs(include_checks=["I"]))
    assert not matches, "\n".join(str(match) for match in matches)


# -- infra/create-parameters.sh, against a stand-in AWS CLI ----------------------------------

FAKE_AWS = r'''#!/usr/bin/env python3
"""Stand-in for `aws ssm get-parameter|put-parameter`: state in a JSON file, argv logged."""
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_AWS_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
args = args[args.index("ssm") + 1:]
verb, options = args[0], args[1:]
def option(key):
    return options[options.index(key) + 1] if key in options else None
state_path = os.environ["FAKE_AWS_STATE"]
state = json.load(open(state_path)) if os.path.exists(state_path) else {}
name = option("--name")
if verb == "get-parameter":
    if name not in state:
        print("An error occurred (ParameterNotFound) when calling GetParameter", file=sys.stderr)
        sys.exit(254)
    if option("--query") == "Parameter.Value":
        assert "--with-decryption" in options
        print(state[name]["Value"])
    else:
        print("2026-01-01T00:00:00+00:00")
elif verb == "put-parameter":
    value = option("--value")
    assert value.startswith("file://"), "the value must not be on the command line"
    state[name] = {"Value": open(value[len("file://"):]).read(), "Type": option("--type"),
                   "KeyId": option("--key-id")}
    json.dump(state, open(state_path, "w"))
else:
    sys.exit(f"unexpected verb {verb}")
'''


@pytest.fixture()
def parameters_script(tmp_path: Path) -> Any:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "aws"
    fake.write_text(FAKE_AWS, encoding="utf-8")
    fake.chmod(0o755)
    state, log = tmp_path / "state.json", tmp_path / "argv.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AWS_STATE": str(state),
        "FAKE_AWS_LOG": str(log),
    }

    class Script:
        def run(self, *args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["bash", str(PROJECT / "infra" / "create-parameters.sh"), *args],
                capture_output=True,
                text=True,
                env=env,
                check=False,
                timeout=60,
            )

        def stored(self, name: str = "/manifest-validation/api-tokens") -> dict[str, Any]:
            return dict(json.loads(state.read_text())[name])

        def argv_log(self) -> str:
            return log.read_text()

    return Script()


@pytest.mark.slow
def test_create_rotate_retire_never_leak_a_token(parameters_script: Any) -> None:
    created = parameters_script.run("create")
    assert created.returncode == 0, created.stderr
    stored = parameters_script.stored()
    assert stored["Type"] == "SecureString" and stored["KeyId"] == "alias/aws/ssm"
    first = stored["Value"]
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    # Not shown unless asked, and never on a command line.
    assert first not in created.stdout + created.stderr
    assert created.stdout == ""

    assert parameters_script.run("create").returncode == 1, "create must not overwrite"

    rotated = parameters_script.run("rotate", "--show")
    assert rotated.returncode == 0, rotated.stderr
    old, new = parameters_script.stored()["Value"].split(",")
    assert old == first and re.fullmatch(r"[0-9a-f]{64}", new) and new != first
    assert rotated.stdout == new + "\n"
    assert parameters_script.run("rotate").returncode == 1, "at most two tokens at once"

    status = parameters_script.run("status")
    assert status.returncode == 0 and "2 token(s)" in status.stderr
    assert first not in status.stderr + status.stdout and new not in status.stderr + status.stdout

    retired = parameters_script.run("retire")
    assert retired.returncode == 0, retired.stderr
    assert parameters_script.stored()["Value"] == new

    log = parameters_script.argv_log()
    assert first not in log and new not in log


@pytest.mark.slow
def test_webhook_secret_is_created_once_and_shown_only_when_asked(
    parameters_script: Any,
) -> None:
    name = "/manifest-validation/github-webhook-secret"
    created = parameters_script.run("webhook-secret")
    assert created.returncode == 0, created.stderr
    stored = parameters_script.stored(name)
    assert stored["Type"] == "SecureString" and stored["KeyId"] == "alias/aws/ssm"
    secret = stored["Value"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert created.stdout == "" and secret not in created.stderr

    again = parameters_script.run("webhook-secret", "--show")
    assert again.returncode == 1 and again.stdout == "", "must not overwrite"
    assert parameters_script.stored(name)["Value"] == secret

    replaced = parameters_script.run("webhook-secret", "--replace", "--show")
    assert replaced.returncode == 0, replaced.stderr
    new = parameters_script.stored(name)["Value"]
    assert new != secret and replaced.stdout == new + "\n"
    assert new not in replaced.stderr

    # A different name, and options that only make sense for tokens, are refused or honoured.
    assert parameters_script.run("webhook-secret", "--github-repo", "o/r").returncode == 64
    assert parameters_script.run("create", "--replace").returncode == 64
    custom = parameters_script.run("webhook-secret", "--name", "/other/secret")
    assert custom.returncode == 0, custom.stderr
    assert re.fullmatch(r"[0-9a-f]{64}", parameters_script.stored("/other/secret")["Value"])

    log = parameters_script.argv_log()
    assert secret not in log and new not in log
