"""Steps the scenarios and the harness tests share: manifests, a push delivered by GitHub, the
schedule's event, what the dead-letter queue holds."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import container, doors
from .github import Attempt, answer_of, push_payload, webhook_event
from .runtime import invoke
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
    """GitHub delivers the push (twice at once when `world.twin_deliveries`)."""
    listed = commits if commits is not None else world.repo.push_commits(before, after)
    payload = push_payload(
        world.stack.parameters["ManifestsRepository"],
        before,
        after,
        listed,
        branch=world.stack.parameters["ManifestsBranch"],
        forced=forced,
    )
    if world.twin_deliveries:
        return deliver_twice_at_once(world, payload, delivery)
    return world.sender.deliver(payload, delivery)


def deliver_twice_at_once(
    world: World, payload: dict[str, Any], delivery: str | None = None
) -> Attempt:
    """The same delivery twice at once, as when GitHub redelivers it while the first attempt
    still runs: the first in a container of its own (a subprocess), the second here, sent as
    soon as the first has reached the delivery ledger (its first DynamoDB call), so that the
    two overlap where it matters. Both answers are recorded, in the order they came; the one
    returned is a 2xx if either got one (the answer the scenario's preconditions look at)."""
    delivery = delivery or str(uuid.uuid4())
    body = world.sender.bodies.setdefault(delivery, world.sender.body_of(payload))
    seen = len(world.proxy.calls)
    with tempfile.TemporaryDirectory() as scratch:
        first = container.start(
            doors.API,
            webhook_event(body, delivery),
            world.stack.process_environment(),
            Path(scratch),
        )
        try:
            deadline = time.monotonic() + 90
            while not any(c.service == "dynamodb" for c in world.proxy.calls[seen:]):
                assert first.poll() is None, "the first delivery ended before the ledger"
                assert time.monotonic() < deadline, "the first delivery never reached the ledger"
                time.sleep(0.01)
            twin = answer_of(invoke(doors.API, webhook_event(body, delivery)))
            first_done_before = first.poll() is not None
        finally:
            answer = answer_of(container.finish(first, Path(scratch), timeout=90))
    for attempt in (answer, twin) if first_done_before else (twin, answer):
        world.sender.record(delivery, attempt)
    return twin if twin.ok or not answer.ok else answer


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
