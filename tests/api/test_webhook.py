"""GitHub push webhooks: the signature, and which manifests a push touched."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from manifest_validation.api.webhook import plan_push, push_key, signature_of, verify_signature
from manifest_validation.results.messages import Trigger
from manifest_validation.work.jobs import Action, InvalidJob, Job
from paths import GITHUB_WEBHOOKS, beside

REPOSITORY = "https://github.com/Codertocat/Hello-World.git"
AFTER = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


def sample(name: str) -> dict[str, Any]:
    path = beside(GITHUB_WEBHOOKS / name, "the GitHub webhook samples")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def push(
    commits: list[dict[str, list[str]]], *, extra_commits: int = 0, **changes: Any
) -> dict[str, Any]:
    payload = copy.deepcopy(sample("push.with-new-branch.payload.json"))
    commits = commits + [{"modified": ["README.md"]}] * extra_commits
    payload.update(created=False, forced=False, deleted=False, commits=commits)
    payload.update(changes)
    return payload


def test_githubs_documented_signature_test_vector() -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    secret = "It's a Secret to Everybody"
    body = b"Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature_of(secret.encode(), body) == expected
    assert verify_signature(secret, body, expected)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
        "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59",
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ],
)
def test_wrong_or_missing_signatures_are_refused(header: str | None) -> None:
    assert not verify_signature("It's a Secret to Everybody", b"Hello, World!", header)


def test_no_secret_configured_refuses_everything() -> None:
    assert not verify_signature("", b"x", signature_of(b"", b"x"))


@pytest.mark.shared
def test_changed_files_under_library_become_jobs_in_commit_order() -> None:
    payload = push(
        [
            {"added": ["library/new", "README.md"], "modified": ["library/python"], "removed": []},
            {
                "added": [],
                "modified": ["library/sub/x", "library/.hidden"],
                "removed": ["library/old"],
            },
            {"added": ["library/old"], "modified": [], "removed": ["library/new"]},
        ]
    )
    plan = plan_push(payload, repository=REPOSITORY, branch="master", delivery="d-1")
    assert plan.ignored is None and not plan.full
    assert [(job.manifest, job.action) for job in plan.jobs] == [
        ("new", Action.REMOVED),
        ("old", Action.VALIDATE),
        ("python", Action.VALIDATE),
    ]
    assert {job.commit for job in plan.jobs} == {AFTER}
    assert {job.trigger for job in plan.jobs} == {Trigger.PUSH}
    assert {job.origin_event for job in plan.jobs} == {"d-1"}


@pytest.mark.shared
@pytest.mark.parametrize(
    "changes",
    [{"forced": True}, {"created": True}, {"extra_commits": 19}],
    ids=["forced", "new branch", "20 commits"],
)
def test_untrustworthy_payloads_revalidate_everything(changes: dict[str, Any]) -> None:
    payload = push([{"modified": ["library/python"]}], **changes)
    plan = plan_push(payload, repository=REPOSITORY, branch="master", delivery="d")
    assert plan.full
    assert [(job.action, job.commit, job.manifest) for job in plan.jobs] == [
        (Action.EXPAND, AFTER, None)
    ]


@pytest.mark.shared
def test_real_new_branch_sample_is_a_full_revalidation() -> None:
    plan = plan_push(
        sample("push.with-new-branch.payload.json"),
        repository=REPOSITORY,
        branch="master",
        delivery="d",
    )
    assert plan.full


@pytest.mark.shared
@pytest.mark.parametrize(
    ("payload_name", "changes", "reason"),
    [
        ("push.payload.json", {}, "push to 'refs/tags/simple-tag'"),
        ("push.with-new-branch.payload.json", {"ref": "refs/heads/other"}, "refs/heads/other"),
        ("push.with-new-branch.payload.json", {"deleted": True}, "deletion"),
    ],
)
def test_tags_other_branches_and_deletions_are_ignored(
    payload_name: str, changes: dict[str, Any], reason: str
) -> None:
    payload = {**sample(payload_name), **changes}
    plan = plan_push(payload, repository=REPOSITORY, branch="master", delivery="d")
    assert plan.jobs == []
    assert plan.ignored is not None and reason in plan.ignored


@pytest.mark.shared
def test_other_repositories_are_ignored() -> None:
    payload = push([{"modified": ["library/python"]}])
    plan = plan_push(
        payload,
        repository="https://github.com/docker-library/official-images.git",
        branch="master",
        delivery="d",
    )
    assert plan.ignored == "push to another repository"


@pytest.mark.shared
def test_repository_match_ignores_case_and_git_suffix() -> None:
    payload = push([{"modified": ["library/python"]}])
    plan = plan_push(
        payload,
        repository="https://github.com/codertocat/hello-world/",
        branch="master",
        delivery="d",
    )
    assert [job.manifest for job in plan.jobs] == ["python"]


@pytest.mark.shared
def test_push_without_library_changes_is_ignored() -> None:
    plan = plan_push(
        push([{"modified": ["README.md"]}]), repository=REPOSITORY, branch="master", delivery="d"
    )
    assert plan.ignored == "no library file changed"


def test_jobs_round_trip_and_bad_jobs_are_refused() -> None:
    job = Job(Action.VALIDATE, REPOSITORY, AFTER, Trigger.PUSH, "python", "d")
    assert Job.parse(json.dumps(job.to_json())) == job
    assert job.id == Job(Action.VALIDATE, REPOSITORY, AFTER, Trigger.SCHEDULE, "python").id
    for bad in (
        "not json",
        "{}",
        json.dumps({**job.to_json(), "commit": "main"}),
        json.dumps({**job.to_json(), "manifest": "../x"}),
        json.dumps({**job.to_json(), "action": "expand"}),
        json.dumps({**job.to_json(), "job_version": 2}),
    ):
        with pytest.raises(InvalidJob):
            Job.parse(bad)


@pytest.mark.shared
def test_a_push_is_identified_by_repository_ref_before_and_after() -> None:
    payload = push([{"modified": ["library/python"]}])
    key = plan_push(payload, repository=REPOSITORY, branch="master", delivery="a").key
    same = plan_push(
        payload,
        repository="https://github.com/codertocat/hello-world",
        branch="master",
        delivery="b",
    ).key
    assert key == same == push_key(REPOSITORY, "refs/heads/master", payload["before"], AFTER)
    for change in ({"before": "a" * 40}, {"after": "1" * 40}):
        other = plan_push(
            {**payload, **change}, repository=REPOSITORY, branch="master", delivery="a"
        )
        assert other.key != key
    ignored = plan_push(push([]), repository=REPOSITORY, branch="master", delivery="a")
    assert ignored.key is None
