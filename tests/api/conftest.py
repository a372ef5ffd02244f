"""Fixtures of the HTTP API tests: the environment the handler is built from, and a results
queue to publish to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import doors

from .client import REGION, TOKEN, Queue


@pytest.fixture
def api_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Tokens, a private state directory, no AWS queue: what the API tests run in."""
    for name in ("API_TOKENS_PARAMETER", "API_TOKENS_SECRET", "RESULTS_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RESULTS_BUCKET", raising=False)
    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", f"old-token, {TOKEN}")
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    doors.rebuild()
    yield
    doors.forget()


@pytest.fixture
def sqs_queue(api_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queue]:
    """A moto FIFO results queue and bucket the API publishes to."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        url = sqs.create_queue(
            QueueName="results.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
        s3.create_bucket(Bucket="results-bucket")
        monkeypatch.setenv("RESULTS_QUEUE_URL", url)
        monkeypatch.setenv("RESULTS_BUCKET", "results-bucket")
        doors.rebuild()
        yield Queue(sqs, s3, url, "results-bucket")
