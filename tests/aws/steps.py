"""Steps the scenarios and the harness tests share: manifests, a push delivered by GitHub, the
schedule's event, what the dead-letter queue holds."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from .github import Attempt, push_payload
from .template import properties
from .world import World


def names(count: int, prefix: str = "image") -> list[str]:
    return [f"{prefix}{n:02d}" for n in range(count)]


def start_with(world: World, manifests: list[str]) -> tuple[str, str]:
    """A first commit without manifests, then one adding `manifests`: (before, after)."""
    before = world.repo.commit("readme")
    for name in manifests:
        world.repo.write(name)
    return before, world.repo.commit(f"{len(manifests)} manifests")


def deliver_push(
    world: World,
    before: str,
    after: str,
    *,
    forced: bool = False,
    commits: list[dict[str, Any]] | None = None,
    delivery: str | None = None,
) -> Attempt:
    listed = commits if commits is not None else world.repo.push_commits(before, after)
    payload = push_payload(
        world.stack.parameters["ManifestsRepository"],
        before,
        after,
        listed,
        branch=world.stack.parameters["ManifestsBranch"],
        forced=forced,
    )
    return world.sender.deliver(payload, delivery)


def scheduler_event() -> dict[str, Any]:
    """What EventBridge Scheduler sends: the template's Input with its placeholders filled."""
    schedule = properties("RevalidateFunction")["Events"]["Daily"]["Properties"]
    text = (
        str(schedule["Input"])
        .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
        .replace("<aws.scheduler.scheduled-time>", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    event: dict[str, Any] = json.loads(text)
    return event


def dead_letters(world: World, logical_id: str = "WorkDeadLetterQueue") -> list[str]:
    queue = world.stack.queue(logical_id)
    bodies: list[str] = []
    while True:
        got = world.stack.sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(message["Body"])
            world.stack.sqs.delete_message(
                QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"]
            )
