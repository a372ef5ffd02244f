"""Bounded work on hostile input in the worker: a budget per job, and no changes when the base
is too costly to compare."""

from __future__ import annotations

from dataclasses import dataclass

from samples import C1, continued_maintainers

HEAD = "Maintainers: Jane Doe <jane@example.com> (@jane)\nGitRepo: https://e.com/r.git\n"


@dataclass
class OneFile:
    """A manifests repository holding the same text under every name."""

    content: bytes

    def read(self, commit: str, names: list[str]) -> dict[str, bytes]:
        return {name: self.content for name in names}


@dataclass
class Published:
    messages: list[dict[str, object]]

    def publish(self, messages: list[dict[str, object]]) -> None:
        self.messages.extend(messages)


def test_the_worker_gives_each_job_a_budget_and_publishes_the_error_result() -> None:
    from manifest_validation.results.messages import Trigger
    from manifest_validation.work.jobs import Action, Job
    from manifest_validation.work.worker import Worker

    published = Published([])
    worker = Worker(
        lambda repository: OneFile(continued_maintainers(2000).encode()),
        published,
        text_budget_seconds=1e-9,
    )
    job = Job(Action.VALIDATE, "https://example.com/r.git", C1, Trigger.PUSH, "img")
    worker.handle(job, final_attempt=False)  # no RetryLater: another attempt would not help
    (message,) = published.messages
    assert message["status"] == "invalid"
    problems = message["problems"]
    assert isinstance(problems, list)
    assert "validation-budget-exceeded" in {problem["code"] for problem in problems}


def test_the_worker_publishes_without_changes_when_the_base_is_too_costly_to_compare() -> None:
    from manifest_validation.results.messages import Trigger
    from manifest_validation.work.jobs import Action, Job
    from manifest_validation.work.worker import Worker

    same_tag = HEAD + "".join(f"\nTags: a\nGitCommit: {C1}\nDirectory: d{i}\n" for i in range(400))
    published = Published([])
    worker = Worker(lambda repository: OneFile(same_tag.encode()), published)
    base = "f" * 40  # the file at the push's `before`: the same 400 entries (160,000 pairs)
    job = Job(Action.VALIDATE, "https://example.com/r.git", C1, Trigger.PUSH, "img", None, base)
    worker.handle(job, final_attempt=False)
    (message,) = published.messages
    assert "changes" not in message
    assert message["manifest"] == "img"
    # within the bounds the same job carries its changes
    small = HEAD + "".join(f"\nTags: a\nGitCommit: {C1}\nDirectory: d{i}\n" for i in range(4))
    published.messages.clear()
    Worker(lambda repository: OneFile(small.encode()), published).handle(job, final_attempt=False)
    (message,) = published.messages
    assert message["changes"]["status"] == "unchanged"
