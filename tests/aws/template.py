"""template.yaml as data: the resources the harness makes, and the values it must make them with.

The SAM template is the one source of truth for queue attributes, the dead-letter redrive, the
FIFO settings, the idempotency table and the functions' environment: the harness reads them from
here (never restates them), so a change to the template changes the tests' world too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2]
TEMPLATE = PROJECT / "template.yaml"


class _TagTolerantLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref X, !GetAtt A.B, !Sub ..., !If [...]) as the
    long forms CloudFormation expands them to."""


def _long_form(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.MappingNode):
        value: Any = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + tag_suffix: value}


_TagTolerantLoader.add_multi_constructor("!", _long_form)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_TagTolerantLoader)
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path.name} is not a CloudFormation template")
    return document


def resource(name: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    document = template or load_template()
    found: dict[str, Any] = document["Resources"][name]
    return found


def properties(name: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = resource(name, template).get("Properties", {})
    return props


def parameter_defaults(template: dict[str, Any] | None = None) -> dict[str, Any]:
    document = template or load_template()
    return {
        name: spec.get("Default")
        for name, spec in document.get("Parameters", {}).items()
        if "Default" in spec
    }


def resources_of_type(kind: str, template: dict[str, Any] | None = None) -> list[str]:
    document = template or load_template()
    return [name for name, res in document["Resources"].items() if res.get("Type") == kind]


def ref_target(value: Any) -> str | None:
    """The logical id behind {"Ref": X} or {"Fn::GetAtt": [X, attribute]}."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def function_environment(function: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """A function's variables as SAM deploys them: Globals.Function's, overlaid by its own
    (values still in template form: literals, {"Ref": ...})."""
    document = template or load_template()
    merged: dict[str, Any] = dict(
        document.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    own = properties(function, document).get("Environment", {}).get("Variables", {})
    merged.update(own)
    return merged


def function_setting(function: str, key: str, template: dict[str, Any] | None = None) -> Any:
    """A function property, else Globals.Function's (as SAM merges them)."""
    document = template or load_template()
    own = properties(function, document)
    if key in own:
        return own[key]
    return document.get("Globals", {}).get("Function", {}).get(key)


@dataclass(frozen=True)
class QueueSpec:
    """An AWS::SQS::Queue of the template, as CreateQueue attributes."""

    logical_id: str
    fifo: bool
    attributes: dict[str, str]  # everything but RedrivePolicy
    dead_letter_queue: str | None  # logical id of the redrive target
    max_receive_count: int | None

    @property
    def visibility_timeout(self) -> int:
        # SQS's default (30 s) when the template does not set one
        return int(self.attributes.get("VisibilityTimeout", "30"))


_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def queue_spec(logical_id: str, template: dict[str, Any] | None = None) -> QueueSpec:
    props = properties(logical_id, template)
    unknown = set(props) - set(_QUEUE_ATTRIBUTES) - {"RedrivePolicy"}
    if unknown:  # a new queue property the harness does not make yet: say so, do not drift
        raise ValueError(f"{logical_id}: queue properties the harness does not apply: {unknown}")
    attributes = {key: _attribute_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    redrive = props.get("RedrivePolicy")
    dlq = ref_target(redrive["deadLetterTargetArn"]) if redrive else None
    receives = int(redrive["maxReceiveCount"]) if redrive else None
    return QueueSpec(logical_id, props.get("FifoQueue") is True, attributes, dlq, receives)


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    billing_mode: str
    ttl_attribute: str | None


def table_spec(logical_id: str, template: dict[str, Any] | None = None) -> TableSpec:
    props = properties(logical_id, template)
    ttl = props.get("TimeToLiveSpecification") or {}
    return TableSpec(
        logical_id,
        [dict(item) for item in props["KeySchema"]],
        [dict(item) for item in props["AttributeDefinitions"]],
        str(props.get("BillingMode", "PROVISIONED")),
        ttl.get("AttributeName") if ttl.get("Enabled") else None,
    )


@dataclass(frozen=True)
class EventSourceSpec:
    """The worker's SQS event source mapping."""

    queue: str  # logical id
    function: str  # logical id
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    maximum_concurrency: Any


def event_source_spec(template: dict[str, Any] | None = None) -> EventSourceSpec:
    document = template or load_template()
    (name,) = resources_of_type("AWS::Lambda::EventSourceMapping", document)
    props = properties(name, document)
    concurrency = (props.get("ScalingConfig") or {}).get("MaximumConcurrency")
    target = ref_target(concurrency)
    if target is not None:
        concurrency = parameter_defaults(document).get(target, concurrency)
    queue = ref_target(props["EventSourceArn"])
    function = ref_target(props["FunctionName"])
    assert queue is not None and function is not None
    return EventSourceSpec(
        queue,
        function,
        # SQS event sources default to 10 records per batch
        int(props.get("BatchSize", 10)),
        int(props.get("MaximumBatchingWindowInSeconds", 0)),
        "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        concurrency,
    )


def redrive_policy_json(dead_letter_arn: str, max_receive_count: int) -> str:
    return json.dumps(
        {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count}
    )
