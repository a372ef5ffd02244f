"""End to end: a signed GitHub push goes webhook -> work queue -> worker -> results queue.

Real git everywhere (a bare manifests repository and upstream repositories served by
`git http-backend` on 127.0.0.1), moto for SQS, S3, DynamoDB (idempotency) and SSM (the webhook
secret), the real Lambda handlers with API Gateway v2 and SQS events.
"""

from __future__ import annotations

import copy
import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import doors
from gitserver import POLL_SECONDS, GitServer, GitServers, run_git
from manifest_validation.api.webhook import signature_of
from manifest_validation.checks.schema import result_validator
from manifest_validation.handlers.local_server import http_api_event
from paths import AWS_EVENTS, GITHUB_WEBHOOKS, LIBRARY, beside

REGION = "us-east-1"
SECRET = "webhook-secret-for-tests"

pytestmark = pytest.mark.slow  # git servers, moto and every Lambda door, for each test


@dataclass
class World:
    server: GitServer
    manifests_url: str
    work: Path  # working tree of the manifests repository
    upstream: dict[str, str]  # name -> commit
    commits: list[str] = field(default_factory=list)

    def commit(self, message: str) -> str:
        run_git("add", "-A", cwd=self.work)
        run_git("commit", "-qm", message, cwd=self.work)
        run_git("push", "-q", "origin", "HEAD:refs/heads/master", cwd=self.work)
        sha = run_git("rev-parse", "HEAD", cwd=self.work)
        self.commits.append(sha)
        return sha


def manifest(repo_url: str, commit: str, tags: str = "1.0, latest") -> str:
    return (
        f"Maintainers: Jane Doe (@jane)\nGitRepo: {repo_url}\n\nTags: {tags}\nGitCommit: {commit}\n"
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, module_git_server: GitServers) -> World:
    root = tmp_path_factory.mktemp("e2e")
    served = root / "served"
    served.mkdir()
    server = module_git_server(served)
    # an upstream repository with two commits on master and one on a side branch
    app = root / "app"
    run_git("init", "-q", "-b", "master", app)
    upstream = {}
    (app / "Dockerfile").write_text("FROM scratch\n")  # what the manifests build
    for name in ("first", "second"):
        (app / "f").write_text(name)
        run_git("add", "f", "Dockerfile", cwd=app)
        run_git("commit", "-qm", name, cwd=app)
        upstream[name] = run_git("rev-parse", "HEAD", cwd=app)
    run_git("checkout", "-q", "-b", "side", upstream["first"], cwd=app)
    (app / "g").write_text("side")
    run_git("add", "g", cwd=app)
    run_git("commit", "-qm", "side", cwd=app)
    upstream["side"] = run_git("rev-parse", "HEAD", cwd=app)
    run_git("clone", "-q", "--bare", "--no-local", app, served / "app.git")

    # the manifests repository
    run_git("init", "-q", "--bare", "-b", "master", served / "official-images.git")
    work = root / "official-images"
    run_git("clone", "-q", served / "official-images.git", work)
    run_git("checkout", "-q", "-b", "master", cwd=work)
    library = work / "library"
    library.mkdir()
    app_url = server.repo_url("app.git")
    (library / "good").write_text(manifest(app_url, upstream["second"]))
    (library / "gone").write_text(manifest(app_url, upstream["first"]))
    if LIBRARY.is_dir():
        for path in sorted(LIBRARY.iterdir()):
            shutil.copy(path, library / path.name)
    (work / "README.md").write_text("manifests\n")
    world = World(server, server.repo_url("official-images.git"), work, upstream)
    world.commit("initial")
    return world


@dataclass
class Aws:
    sqs: Any
    s3: Any
    work_url: str
    results_url: str

    def drain(self, url: str) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(message)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def results(self) -> dict[str, dict[str, Any]]:
        from manifest_validation.results.queues import read_claim_check

        found = {}
        for message in self.drain(self.results_url):
            body = read_claim_check(json.loads(message["Body"]), self.s3)
            errors = [e.message for e in result_validator().iter_errors(body)]
            assert errors == [], body["manifest"]
            found[body["manifest"]] = body
        return found


@pytest.fixture
def aws(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "MANIFESTS_REPOSITORY": world.manifests_url,
        "MANIFESTS_BRANCH": "master",
        "MANIFEST_VALIDATION_INSECURE_HOSTS": world.server.host_port,
        "WEBHOOK_SECRET_PARAMETER": "/mv/webhook-secret",
        "IDEMPOTENCY_TABLE": "idempotency",
        "RESULTS_BUCKET": "results-bucket",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        work_url = sqs.create_queue(QueueName="work")["QueueUrl"]
        results_url = sqs.create_queue(
            QueueName="results.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="results-bucket")
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/mv/webhook-secret", Value=SECRET, Type="SecureString"
        )
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        monkeypatch.setenv("WORK_QUEUE_URL", work_url)
        monkeypatch.setenv("RESULTS_QUEUE_URL", results_url)
        doors.rebuild()
        yield Aws(sqs, s3, work_url, results_url)
        doors.forget()


def push_payload(world: World, before: str, after: str, **changes: Any) -> dict[str, Any]:
    template = beside(
        GITHUB_WEBHOOKS / "push.with-new-branch.payload.json", "the GitHub webhook samples"
    )
    payload: dict[str, Any] = copy.deepcopy(json.loads(template.read_text()))
    payload["repository"]["clone_url"] = world.manifests_url
    payload.update(ref="refs/heads/master", before=before, after=after)
    payload.update(created=False, deleted=False, forced=False)
    payload.update(changes)
    return payload


def deliver(
    payload: dict[str, Any], *, delivery: str | None = None, secret: str = SECRET
) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", delivery or str(uuid.uuid4())),
        ("X-Hub-Signature-256", signature_of(secret.encode(), body)),
        ("User-Agent", "GitHub-Hookshot/test"),
    ]
    event = http_api_event("POST", "/v1/webhooks/github", headers, body)
    response = doors.current().api(event)
    return {"http": response["statusCode"], **json.loads(response["body"])}


def sqs_event(messages: list[dict[str, Any]], *, receive_count: int = 1) -> dict[str, Any]:
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": str(receive_count),
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work",
            "awsRegion": REGION,
        }
        for message in messages
    ]
    return {"Records": records}


def run_worker(aws: Aws, *, receive_count: int = 1) -> tuple[list[str], list[dict[str, Any]]]:
    """Feed every job on the work queue to the worker; (failed message ids, messages)."""
    messages = aws.drain(aws.work_url)
    failed: list[str] = []
    for start in range(0, len(messages), 10):
        response = doors.current().worker(
            sqs_event(messages[start : start + 10], receive_count=receive_count)
        )
        failed += [item["itemIdentifier"] for item in response["batchItemFailures"]]
    return failed, messages


@pytest.mark.shared
def test_push_goes_through_webhook_work_queue_worker_to_results(world: World, aws: Aws) -> None:
    before = world.commits[-1]
    library = world.work / "library"
    app_url = world.server.repo_url("app.git")
    (library / "good").write_text(manifest(app_url, world.upstream["second"], "1.1, latest"))
    (library / "sidecar").write_text(manifest(app_url, world.upstream["side"]))
    (library / "gone").unlink()
    after = world.commit("update")
    payload = push_payload(
        world,
        before,
        after,
        commits=[
            {"added": ["library/sidecar"], "modified": ["library/good"], "removed": []},
            {"added": [], "modified": ["README.md"], "removed": ["library/gone"]},
        ],
    )
    answer = deliver(payload, delivery="delivery-1")
    assert (answer["http"], answer["status"], answer["jobs"]) == (202, "accepted", 3)

    failed, messages = run_worker(aws)
    assert (failed, len(messages)) == ([], 3)
    results = aws.results()
    assert results["good"]["status"] == "valid"
    assert results["good"]["origin"] == {
        "kind": "git",
        "repository": world.manifests_url,
        "commit": after,
        "path": "library/good",
        "sha256": results["good"]["origin"]["sha256"],
    }
    # the worker verifies upstream: the source is keyed by its real sourceId
    ((key, source),) = results["good"]["sources"].items()
    assert key == source["sourceId"] and source["reproducibleGitChecksum"] is not None
    assert source["arches"]["amd64"]["tags"] == ["good:1.1", "good:latest"]
    assert results["sidecar"]["status"] == "invalid"
    assert [p["code"] for p in results["sidecar"]["problems"]] == ["git-commit-not-in-ref"]
    assert results["gone"]["status"] == "removed"
    assert {r["trigger"] for r in results.values()} == {"push"}

    # GitHub redelivers the same delivery: nothing new is enqueued
    again = deliver(payload, delivery="delivery-1")
    assert (again["http"], again["status"], again["jobs"]) == (202, "duplicate", 0)
    assert aws.drain(aws.work_url) == []


@pytest.mark.shared
def test_the_same_push_under_a_new_delivery_id_enqueues_nothing(world: World, aws: Aws) -> None:
    import time

    payload = push_payload(
        world, world.commits[0], world.commits[-1], commits=[{"modified": ["library/good"]}]
    )
    first = deliver(payload, delivery="first-delivery")
    assert (first["status"], first["jobs"]) == ("accepted", 1)
    replayed = deliver(payload, delivery="replayed-with-a-new-id")
    assert replayed == {
        "http": 202,
        "status": "duplicate",
        "delivery": "replayed-with-a-new-id",
        "duplicate_of": "first-delivery",
        "jobs": 0,
        "full_revalidation": False,
    }
    assert len(aws.drain(aws.work_url)) == 1  # the first delivery's job only
    # a different push (another `before`) is new work
    other = deliver({**payload, "before": world.commits[-1]}, delivery="other")
    assert (other["status"], other["jobs"]) == ("accepted", 1)

    # the records (one per push: the ledger's run records) are small and expire (the table's
    # TTL attribute); once done they say only that, how many jobs, and the first delivery
    import boto3

    items = boto3.client("dynamodb", region_name=REGION).scan(TableName="idempotency")["Items"]
    assert len(items) == 2
    for item in items:
        assert set(item) == {"id", "expiration", "status", "jobs", "delivery"}
        assert item["id"]["S"].startswith("run#") and item["status"]["S"] == "done"
        assert len(json.dumps(item)) < 400
        assert "library/good" not in json.dumps(item)  # no jobs, no payload
        expires_in = int(item["expiration"]["N"]) - time.time()
        assert 6 * 24 * 3600 < expires_in <= 7 * 24 * 3600


@pytest.mark.shared
def test_bad_signature_is_refused_and_nothing_is_enqueued(world: World, aws: Aws) -> None:
    payload = push_payload(
        world, world.commits[0], world.commits[-1], commits=[{"modified": ["library/good"]}]
    )
    assert deliver(payload, secret="not-the-secret")["http"] == 401
    assert aws.drain(aws.work_url) == []


@pytest.mark.shared
def test_forced_push_revalidates_every_manifest(world: World, aws: Aws) -> None:
    payload = push_payload(world, world.commits[0], world.commits[-1], forced=True, commits=[])
    answer = deliver(payload)
    assert (answer["http"], answer["jobs"], answer["full_revalidation"]) == (202, 1, True)
    failed, expand_messages = run_worker(aws)  # the one EXPAND job fans out
    assert (failed, len(expand_messages)) == ([], 1)
    jobs = [json.loads(m["Body"]) for m in aws.drain(aws.work_url)]
    names = sorted(job["manifest"] for job in jobs if job["action"] == "validate")
    expected = sorted(p.name for p in (world.work / "library").iterdir())
    assert names == expected
    # and what the push's `before` had that its `after` has not: removed
    listed = run_git("ls-tree", "--name-only", f"{world.commits[0]}:library", cwd=world.work)
    removed = [job["manifest"] for job in jobs if job["action"] == "removed"]
    assert removed == sorted(set(listed.split()) - set(expected))
    assert {job["commit"] for job in jobs} == {world.commits[-1]}


def test_one_failing_job_in_a_batch_is_the_only_one_retried(world: World, aws: Aws) -> None:
    good = {
        "job_version": 1,
        "action": "validate",
        "repository": world.manifests_url,
        "commit": world.commits[-1],
        "trigger": "push",
        "manifest": "good",
    }
    aws.sqs.send_message(QueueUrl=aws.work_url, MessageBody=json.dumps(good))
    aws.sqs.send_message(QueueUrl=aws.work_url, MessageBody="{not a job")
    failed, messages = run_worker(aws)
    poison = next(m for m in messages if m["Body"] == "{not a job")
    assert failed == [poison["MessageId"]]
    assert set(aws.results()) == {"good"}


@pytest.mark.shared
def test_upstream_host_down_retries_then_publishes_unverified(
    world: World, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = world.commits[-1]
    library = world.work / "library"
    down_url = f"http://127.0.0.1:{port}/app.git"
    (library / "down").write_text(manifest(down_url, world.upstream["first"]))
    after = world.commit("a manifest whose upstream is down")
    hosts = f"{world.server.host_port},127.0.0.1:{port}"
    monkeypatch.setenv("MANIFEST_VALIDATION_INSECURE_HOSTS", hosts)
    doors.forget()
    payload = push_payload(world, before, after, commits=[{"added": ["library/down"]}])
    assert deliver(payload)["jobs"] == 1
    messages = aws.drain(aws.work_url)
    first = doors.current().worker(sqs_event(messages, receive_count=1))
    assert [i["itemIdentifier"] for i in first["batchItemFailures"]] == [messages[0]["MessageId"]]
    assert aws.results() == {}  # nothing published, and certainly not "invalid"
    last = doors.current().worker(sqs_event(messages, receive_count=5))
    assert last["batchItemFailures"] == []
    result = aws.results()["down"]
    assert result["status"] == "unverified"
    assert [p["code"] for p in result["problems"]] == ["git-repo-unreachable"]


def scheduler_event() -> dict[str, Any]:
    sample = beside(AWS_EVENTS / "eventBridgeSchedulerEvent.json", "the AWS event samples")
    event: dict[str, Any] = json.loads(sample.read_text())
    return event


@pytest.mark.shared
def test_schedule_enqueues_one_job_per_manifest_at_the_branch_tip(world: World, aws: Aws) -> None:

    answer = doors.current().revalidate(scheduler_event())
    jobs = [json.loads(m["Body"]) for m in aws.drain(aws.work_url)]
    names = sorted(p.name for p in (world.work / "library").iterdir())
    assert answer == {"enqueued": len(names), "commit": world.commits[-1]}
    assert sorted(job["manifest"] for job in jobs) == names
    assert {(job["trigger"], job["commit"]) for job in jobs} == {("schedule", world.commits[-1])}


@pytest.mark.shared
def test_manual_revalidation_of_a_subset(world: World, aws: Aws) -> None:
    from manifest_validation.work.revalidate import UnknownManifests

    event = {**scheduler_event(), "detail": json.dumps({"manifests": ["good"]})}
    assert doors.current().revalidate(event)["enqueued"] == 1
    assert [json.loads(m["Body"])["manifest"] for m in aws.drain(aws.work_url)] == ["good"]
    with pytest.raises(UnknownManifests):
        doors.current().revalidate({"manifests": ["no-such-image"]})
    assert aws.drain(aws.work_url) == []


@pytest.mark.shared
def test_ping_and_other_events(world: World, aws: Aws) -> None:
    ping = beside(GITHUB_WEBHOOKS / "ping.payload.json", "the GitHub webhook samples")
    body = ping.read_bytes()
    for kind, status in (("ping", 200), ("issues", 202)):
        headers = [
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", kind),
            ("X-GitHub-Delivery", str(uuid.uuid4())),
            ("X-Hub-Signature-256", signature_of(SECRET.encode(), body)),
        ]
        event = http_api_event("POST", "/v1/webhooks/github", headers, body)
        assert doors.current().api(event)["statusCode"] == status
    assert aws.drain(aws.work_url) == []


@pytest.mark.shared
def test_local_server_takes_webhooks_and_runs_jobs_in_process(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import threading

    import requests

    from manifest_validation.handlers.local_server import make_server
    from manifest_validation.results.queues import LocalResultQueue

    for name in ("WORK_QUEUE_URL", "RESULTS_QUEUE_URL", "IDEMPOTENCY_TABLE", "API_TOKENS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("WEBHOOK_SECRET_PARAMETER", raising=False)
    monkeypatch.setenv("MANIFEST_VALIDATION_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("MANIFESTS_REPOSITORY", world.manifests_url)
    monkeypatch.setenv("MANIFEST_VALIDATION_INSECURE_HOSTS", world.server.host_port)
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    served = doors.rebuild()
    server = make_server("127.0.0.1", 0, served.services)
    threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True).start()
    try:
        payload = push_payload(
            world, world.commits[0], world.commits[-1], commits=[{"modified": ["library/good"]}]
        )
        body = json.dumps(payload).encode()
        response = requests.post(
            f"http://127.0.0.1:{server.server_address[1]}/v1/webhooks/github",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "local-1",
                "X-Hub-Signature-256": signature_of(SECRET.encode(), body),
            },
            timeout=10,
        )
        assert (response.status_code, response.json()["jobs"]) == (202, 1)
        work_queue = served.services.work_queue()
        assert work_queue.drain(timeout=30)  # type: ignore[attr-defined]
        pending = LocalResultQueue(tmp_path / "state").pending()
        assert [(item.manifest, item.status) for item in pending] == [("good", "valid")]

        # the same signed body under a new delivery id: remembered in memory, nothing runs
        replayed = requests.post(
            f"http://127.0.0.1:{server.server_address[1]}/v1/webhooks/github",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "local-2",
                "X-Hub-Signature-256": signature_of(SECRET.encode(), body),
            },
            timeout=10,
        )
        assert replayed.status_code == 202
        answer = replayed.json()
        assert (answer["status"], answer["jobs"], answer["duplicate_of"]) == (
            "duplicate",
            0,
            "local-1",
        )
        assert work_queue.drain(timeout=30)  # type: ignore[attr-defined]
        assert len(LocalResultQueue(tmp_path / "state").pending()) == 1
    finally:
        server.shutdown()
        server.server_close()
        doors.forget()
