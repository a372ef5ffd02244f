"""Fixtures for the results-queue tests: fake AWS credentials, moto SQS FIFO + S3, result builders.

Everything is offline: moto intercepts the AWS calls in-process and botocore's Stubber answers
the scripted ones, so no test can reach the network even if real credentials are around.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

REGION = "us-east-1"
BUCKET = "manifest-validation-results"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and region, and nothing that could point boto3 elsewhere."""
    for name in (
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_S3",
        "RESULTS_QUEUE_URL",
        "RESULTS_BUCKET",
        "MANIFEST_VALIDATION_STATE_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Aws:
    sqs: Any
    s3: Any
    queue_url: str
    bucket: str


@pytest.fixture
def aws() -> Iterator[Aws]:
    """A moto FIFO queue (explicit dedup ids only) and a bucket."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        queue_url = sqs.create_queue(
            QueueName="results.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
        s3.create_bucket(Bucket=BUCKET)
        yield Aws(sqs, s3, queue_url, BUCKET)


def result(manifest: str = "python", *, status: str = "valid", **extra: Any) -> dict[str, Any]:
    """A result shaped like the validator's, with a deterministic content-derived id."""
    content: dict[str, Any] = {
        "manifest": manifest,
        "status": status,
        "schema_version": 1,
        **extra,
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return {"id": digest, **content}


def large_result(
    manifest: str = "golang", *, problems: int = 1_600, seed: str = ""
) -> dict[str, Any]:
    """A realistic oversized result: an invalid manifest with thousands of problems (≥300 KiB)."""
    return result(
        manifest,
        status="invalid",
        seed=seed,
        problems=[
            {
                "rule": "tags/unique",
                "severity": "error",
                "line": index + 1,
                "field": "Tags",
                "message": f"tag {index}-bookworm-{seed} is already used by an earlier entry; "
                "every tag must name exactly one image across the whole file",
            }
            for index in range(problems)
        ],
    )


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive (and delete) everything, so FIFO group locks never hide messages."""
    messages: list[dict[str, Any]] = []
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)
            ],
        )
