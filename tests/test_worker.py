"""The worker on its own (fake sources and queues): what an EXPAND job fans out to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from manifest_validation.repository import SourceError, SourceUnavailable
from manifest_validation.results.origin import Trigger
from manifest_validation.work.jobs import Action, Job, OnSent
from manifest_validation.work.worker import RetryLater, Worker

REPOSITORY = "https://example.com/official-images.git"
BEFORE, AFTER = "b" * 40, "a" * 40


@dataclass
class Listings:
    """A manifests repository that only lists: names per commit, or what listing raises."""

    at: dict[str, list[str] | Exception]

    def list_manifests(self, commit: str) -> list[str]:
        found = self.at[commit]
        if isinstance(found, Exception):
            raise found
        return list(found)

    def read(self, commit: str, names: Sequence[str]) -> dict[str, bytes]:
        raise AssertionError("an EXPAND job reads no manifest")


@dataclass
class Collected:
    jobs: list[Job] = field(default_factory=list)

    def enqueue(self, jobs: Sequence[Job], on_sent: OnSent | None = None) -> None:
        self.jobs += jobs

    def publish(self, messages: Sequence[Any]) -> None:
        raise AssertionError("an EXPAND job publishes nothing")

    def describe(self) -> str:
        return "collected"


def expand_job(base: str | None) -> Job:
    return Job(Action.EXPAND, REPOSITORY, AFTER, Trigger.PUSH, None, "d-1", base, "push:k")


def fan_out(listings: Listings, job: Job, *, final: bool = False) -> list[tuple[str, str]]:
    queue = Collected()
    Worker(lambda _: listings, queue, queue).handle(job, final_attempt=final)  # type: ignore[arg-type]
    assert {(j.commit, j.run, j.base) for j in queue.jobs} <= {(AFTER, job.run, job.base)}
    return [(j.action.value, str(j.manifest)) for j in queue.jobs]


def test_a_full_recheck_validates_what_is_there_and_removes_what_the_base_had() -> None:
    listings = Listings({AFTER: ["b", "c", "d"], BEFORE: ["a", "b", "c", "gone"]})
    assert fan_out(listings, expand_job(BEFORE)) == [
        ("validate", "b"),
        ("validate", "c"),
        ("validate", "d"),
        ("removed", "a"),
        ("removed", "gone"),
    ]


def test_a_new_branch_has_no_base_and_removes_nothing() -> None:
    listings = Listings({AFTER: ["b"]})
    assert fan_out(listings, expand_job(None)) == [("validate", "b")]


def test_a_base_that_cannot_be_read_now_is_retried_and_one_that_is_gone_removes_nothing() -> None:
    down = Listings({AFTER: ["b"], BEFORE: SourceUnavailable("host down")})
    with pytest.raises(RetryLater):
        fan_out(down, expand_job(BEFORE))
    # on the last attempt the fan-out goes ahead without removals rather than not at all
    assert fan_out(down, expand_job(BEFORE), final=True) == [("validate", "b")]
    pruned = Listings({AFTER: ["b"], BEFORE: SourceError("no such commit")})
    assert fan_out(pruned, expand_job(BEFORE)) == [("validate", "b")]


# -- a job run's result goes out once ----------------------------------------------------------


@dataclass
class Published:
    messages: list[Any] = field(default_factory=list)

    def publish(self, messages: Sequence[Any]) -> None:
        self.messages += messages

    def describe(self) -> str:
        return "published"


def test_a_job_run_publishes_once_and_a_new_run_publishes_again() -> None:
    published = Published()
    worker = Worker(lambda _: Listings({}), published)  # type: ignore[arg-type]

    def removed(run: str | None, origin: str | None = "d-1") -> Job:
        return Job(Action.REMOVED, REPOSITORY, AFTER, Trigger.PUSH, "gone", origin, None, run)

    for _ in range(3):  # the message delivered again, the batch retried after a crash, ...
        worker.handle(removed("push:k"), final_attempt=False)
    assert [m["status"] for m in published.messages] == ["removed"]
    worker.handle(removed("schedule:tomorrow"), final_attempt=False)  # a new run
    assert len(published.messages) == 2
    # the command line's jobs name no run: each is published (each run is new)
    worker.handle(removed(None, None), final_attempt=False)
    worker.handle(removed(None, None), final_attempt=False)
    assert len(published.messages) == 4
