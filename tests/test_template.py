"""The SAM template (and the infra/ script beside it) keeps its promises.

A template is code that only fails at deploy time, in someone's AWS account; these tests move the
failures that can be seen from the text to CI: a handler string that names no importable callable,
a queue without its dead-letter queue, a bucket that could become public or never expires, logs
kept forever, an IAM statement wider than the code needs, and anything `cfn-lint` reports. The
token script is run against a stand-in AWS CLI to hold it to "never shows a token unless asked".
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

yaml = pytest.importorskip("yaml", reason="PyYAML (a dependency of cfn-lint) is not installed")

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT / "template.yaml"

# The runtimes this package is built and tested for (pyproject: requires-python >= 3.11) that
# Lambda offers on Amazon Linux 2023.
SUPPORTED_RUNTIMES = {"python3.12", "python3.13"}
API_ROUTES = {
    ("POST", "/v1/validations"),
    ("GET", "/v1/health"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
}
REQUIRED_ENVIRONMENT = {
    "RESULTS_QUEUE_URL",
    "RESULTS_BUCKET",
    "API_TOKENS_PARAMETER",
    "MANIFEST_VALIDATION_INSECURE_HOSTS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
}


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


def test_there_is_an_api_function(template: dict[str, Any]) -> None:
    handlers = {
        function_property(template, function, "Handler")
        for function in resources_of(template, "AWS::Serverless::Function").values()
    }
    assert "manifest_validation.handlers.api.handler" in handlers


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
    wanted = {name_of(dependency) for dependency in project["project"]["dependencies"]}
    for function in resources_of(template, "AWS::Serverless::Function").values():
        requirements = PROJECT / str(function_property(template, function, "CodeUri"))
        lines = (requirements / "requirements.txt").read_text(encoding="utf-8").splitlines()
        listed = {name_of(line) for line in lines if line.strip() and not line.startswith("#")}
        assert wanted <= listed, f"missing from requirements.txt: {sorted(wanted - listed)}"


def test_api_function_environment(template: dict[str, Any]) -> None:
    api = template["Resources"]["ApiFunction"]["Properties"]
    variables = api["Environment"]["Variables"]
    assert set(variables) >= REQUIRED_ENVIRONMENT
    assert ref_target(variables["RESULTS_QUEUE_URL"]) == "ResultsQueue"
    assert ref_target(variables["RESULTS_BUCKET"]) == "ResultsBucket"
    assert ref_target(variables["API_TOKENS_PARAMETER"]) == "ApiTokensParameterName"
    assert variables["MANIFEST_VALIDATION_INSECURE_HOSTS"] == ""
    assert variables["POWERTOOLS_SERVICE_NAME"] == "manifest-validation"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "ManifestValidation"
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert template["Parameters"]["ApiTokensParameterName"]["Default"] == (
        "/manifest-validation/api-tokens"
    )


# -- HTTP API --------------------------------------------------------------------------------


def test_http_api_routes_are_exactly_the_handlers_routes(template: dict[str, Any]) -> None:
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


def test_api_function_may_do_exactly_what_its_code_does(template: dict[str, Any]) -> None:
    granted = {
        action: [as_text(resource) for resource in as_list(statement["Resource"])]
        for name, statement in policy_statements(template)
        if name == "ApiFunction"
        for action in as_list(statement["Action"])
    }
    assert set(granted) == {"sqs:SendMessage", "s3:PutObject", "ssm:GetParameter", "kms:Decrypt"}
    assert granted["sqs:SendMessage"] == ["<ResultsQueue>"]
    assert granted["ssm:GetParameter"][0].endswith(":parameter${ApiTokensParameterName}")


# -- outputs and lint ------------------------------------------------------------------------


def test_outputs(template: dict[str, Any]) -> None:
    assert set(template["Outputs"]) >= {
        "ApiUrl",
        "ResultsQueueUrl",
        "ResultsDeadLetterQueueUrl",
        "ResultsBucketName",
    }


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

        def stored(self) -> dict[str, Any]:
            return dict(json.loads(state.read_text())["/manifest-validation/api-tokens"])

        def argv_log(self) -> str:
            return log.read_text()

    return Script()


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
