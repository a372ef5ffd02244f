"""GitHub's side of the webhook: push payloads (from GitHub's own samples), signed deliveries,
and what GitHub does about a delivery that failed.

GitHub sends each event once. A delivery has an id (X-GitHub-Delivery); a redelivery (by hand, or
by the documented automation that redelivers failed deliveries) sends the same body under the
same id. A delivery counts as failed when its latest attempt was answered with anything but 2xx
or took longer than GitHub's 10-second timeout; it counts as delivered otherwise, whatever
earlier attempts got. `Sender.redeliver_failed()` is that automation.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import doors
from .runtime import invoke
from .stack import WEBHOOK_SECRET

SHARED = Path(__file__).resolve().parents[3] / "shared"
SAMPLES = SHARED / "events" / "github-webhooks"
PUSH_SAMPLE = SAMPLES / "push.with-new-branch.payload.json"
# A push delivery lists at most this many commits (GitHub's docs: the 20-commit limit applies to
# timeline events, not to webhook deliveries, whose array is capped at 2048). The code under test
# takes 20 or more as "maybe truncated" either way.
PAYLOAD_COMMITS = 2048


def sample(path: Path) -> dict[str, Any]:
    if not path.exists():
        pytest.skip(f"GitHub's webhook samples are not beside the project ({path} absent)")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def push_payload(
    repository_url: str,
    before: str,
    after: str,
    commits: list[dict[str, Any]],
    *,
    branch: str = "master",
    forced: bool = False,
    created: bool = False,
) -> dict[str, Any]:
    """A push event to `repository_url` shaped like GitHub's sample, listing at most
    PAYLOAD_COMMITS commits (`head_commit` is the last)."""
    payload = copy.deepcopy(sample(PUSH_SAMPLE))
    commit_template = payload["commits"][0]
    listed = []
    for commit in commits[-PAYLOAD_COMMITS:]:
        item = copy.deepcopy(commit_template)
        item.update(commit)
        item["tree_id"] = hashlib.sha1(commit["id"].encode(), usedforsecurity=False).hexdigest()
        listed.append(item)
    payload["repository"]["clone_url"] = repository_url
    payload.update(
        ref=f"refs/heads/{branch}",
        before="0" * 40 if created else before,
        after=after,
        created=created,
        deleted=False,
        forced=forced,
        commits=listed,
        head_commit=listed[-1] if listed else None,
    )
    return payload


def signature(secret: str, body: bytes) -> str:
    """X-Hub-Signature-256: the HMAC-SHA256 of the raw body, hex, as GitHub documents it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_event(body: bytes, delivery: str, kind: str = "push") -> dict[str, Any]:
    headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", "GitHub-Hookshot/test"),
        ("X-GitHub-Event", kind),
        ("X-GitHub-Delivery", delivery),
        ("X-GitHub-Hook-ID", "1"),
        ("X-Hub-Signature-256", signature(WEBHOOK_SECRET, body)),
    ]
    return doors.api_event("POST", "/v1/webhooks/github", headers, body)


@dataclass
class Attempt:
    status: int  # 0: no answer GitHub waited for (timed out)
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def answer_of(response: dict[str, Any]) -> Attempt:
    raw = response.get("body") or "{}"
    try:
        body = json.loads(raw)
    except ValueError:
        body = {"raw": raw}
    headers = {str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    return Attempt(int(response["statusCode"]), body, headers)


@dataclass
class Sender:
    """GitHub's webhook deliveries of pushes, to the API function."""

    bodies: dict[str, bytes] = field(default_factory=dict)  # delivery id -> body
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)

    def body_of(self, payload: dict[str, Any]) -> bytes:
        return json.dumps(payload).encode()

    def deliver(self, payload: dict[str, Any], delivery: str | None = None) -> Attempt:
        delivery = delivery or str(uuid.uuid4())
        body = self.bodies.setdefault(delivery, self.body_of(payload))
        return self.attempt(delivery, body)

    def attempt(self, delivery: str, body: bytes) -> Attempt:
        answer = answer_of(invoke(doors.API, webhook_event(body, delivery)))
        self.record(delivery, answer)
        return answer

    def record(self, delivery: str, answer: Attempt) -> None:
        self.attempts.setdefault(delivery, []).append(answer)

    def failed(self) -> list[str]:
        return [d for d, attempts in self.attempts.items() if not attempts[-1].ok]

    def redeliver_failed(self, rounds: int = 3) -> list[Attempt]:
        """Redeliver every delivery whose latest attempt failed, until none has (or `rounds`)."""
        answers = []
        for _ in range(rounds):
            failed = self.failed()
            if not failed:
                break
            answers += [self.attempt(delivery, self.bodies[delivery]) for delivery in failed]
        return answers

    def statuses(self) -> list[int]:
        return [a.status for attempts in self.attempts.values() for a in attempts]
