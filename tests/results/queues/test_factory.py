"""Which results queue a configuration gets (settings -> factory), and that choosing one stays
cheap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from manifest_validation.results.queues import (
    LocalResultQueue,
    PublishError,
    PublishFailure,
    SqsResultQueue,
    result_queue,
)
from manifest_validation.settings import Settings
from manifest_validation.settings import state_dir as default_state_dir

from .conftest import Aws, drain, large_result, result


def queue_from_env(
    environ: dict[str, str], *, state_dir: Path | None = None
) -> LocalResultQueue | SqsResultQueue:
    """The queue of the settings `environ` gives (`state_dir`: a command's --state-dir)."""
    settings = Settings.from_env(environ)
    return result_queue(
        settings.results_queue_url,
        bucket=settings.results_bucket,
        state_dir=state_dir or settings.state_dir,
    )


def test_local_queue_when_no_queue_url(tmp_path: Path) -> None:
    queue = queue_from_env({}, state_dir=tmp_path)
    assert isinstance(queue, LocalResultQueue)
    assert queue.path == tmp_path / "results.sqlite3"


def test_blank_queue_url_means_local(tmp_path: Path) -> None:
    queue = queue_from_env({"RESULTS_QUEUE_URL": "  "}, state_dir=tmp_path)
    assert isinstance(queue, LocalResultQueue)


def test_state_dir_precedence(tmp_path: Path) -> None:
    explicit, xdg, home = tmp_path / "explicit", tmp_path / "xdg", tmp_path / "home"
    env = {
        "MANIFEST_VALIDATION_STATE_DIR": str(explicit),
        "XDG_STATE_HOME": str(xdg),
        "HOME": str(home),
    }
    assert default_state_dir(env) == explicit
    del env["MANIFEST_VALIDATION_STATE_DIR"]
    assert default_state_dir(env) == xdg / "manifest-validation"
    env["XDG_STATE_HOME"] = "relative/path"  # the XDG spec says: ignore relative values
    assert default_state_dir(env) == home / ".local" / "state" / "manifest-validation"
    del env["XDG_STATE_HOME"]
    assert default_state_dir(env) == home / ".local" / "state" / "manifest-validation"

    queue = queue_from_env({"MANIFEST_VALIDATION_STATE_DIR": str(explicit)})
    assert isinstance(queue, LocalResultQueue) and queue.state_dir == explicit
    # An explicit argument beats the environment.
    argument = queue_from_env({"MANIFEST_VALIDATION_STATE_DIR": str(explicit)}, state_dir=xdg)
    assert isinstance(argument, LocalResultQueue) and argument.state_dir == xdg


@pytest.mark.slow
def test_sqs_queue_when_queue_url_is_set(aws: Aws) -> None:
    queue = queue_from_env({"RESULTS_QUEUE_URL": aws.queue_url, "RESULTS_BUCKET": aws.bucket})
    assert isinstance(queue, SqsResultQueue)
    assert queue.bucket == aws.bucket
    assert aws.queue_url.split("://")[1] in queue.describe()

    small, big = result("python"), large_result("golang")
    queue.publish([small, big])  # clients created by the factory talk to moto as well

    bodies = [json.loads(m["Body"]) for m in drain(aws.sqs, aws.queue_url)]
    assert [b["id"] for b in bodies] == [small["id"], big["id"]]
    assert "claim_check" in bodies[1]


@pytest.mark.slow
def test_sqs_queue_without_bucket(aws: Aws) -> None:
    queue = queue_from_env({"RESULTS_QUEUE_URL": aws.queue_url, "RESULTS_BUCKET": ""})
    assert isinstance(queue, SqsResultQueue) and queue.bucket is None
    with pytest.raises(PublishError, match="no claim-check bucket"):
        queue.publish([large_result()])


@pytest.mark.slow
def test_importing_and_using_the_local_queue_does_not_load_boto3(tmp_path: Path) -> None:
    # A fresh interpreter: in this one, the SQS tests have long since imported boto3.
    script = (
        "import sys\n"
        "from manifest_validation.results.queues import result_queue\n"
        f"result_queue(None, state_dir={str(tmp_path)!r}).publish([])\n"
        "loaded = sorted(m for m in ('boto3', 'botocore') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_publish_error_reports_partial_success() -> None:
    failures = [
        PublishFailure(2, "bbb", "too large", False),
        PublishFailure(4, None, "no id", False),
    ]
    error = PublishError(failures, published=["aaa"])
    assert error.failed_ids == ("bbb", None)
    assert not error.retryable
    assert str(error) == "2 of 3 result(s) not published: bbb: too large; message #4: no id"
    with pytest.raises(ValueError):
        PublishError([])
