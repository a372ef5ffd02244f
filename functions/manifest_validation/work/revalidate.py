"""Scheduled re-validation: every manifest of the manifests repository at its branch tip (or a
named subset), because upstream changes under them: branches are deleted, history rewritten,
tags moved."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..results.origin import Trigger
from .jobs import Action, Job
from .worker import expand

if TYPE_CHECKING:
    from ..repository import ManifestSource
    from .worker import Worker


class UnknownManifests(ValueError):
    pass


def revalidation_jobs(
    source: ManifestSource,
    repository: str,
    branch: str,
    *,
    only: Sequence[str] | None = None,
    trigger: Trigger = Trigger.SCHEDULE,
    origin_event: str | None = None,
    run: str | None = None,
    commit: str | None = None,
) -> list[Job]:
    """One job per manifest at the branch tip (or at `commit`, the tip a first attempt of the
    same run saw); `only` names a subset (all must exist)."""
    commit = commit or source.resolve(branch)
    names = source.list_manifests(commit)
    wanted = set(only) if only else None
    if wanted is not None:
        unknown = sorted(wanted - set(names))
        if unknown:
            raise UnknownManifests(f"no such manifest at {commit[:12]}: {', '.join(unknown)}")
    base = Job(Action.EXPAND, repository, commit, trigger, None, origin_event, None, run)
    return expand(base, names, only=wanted)


def schedule_run(event_id: str) -> str:
    """The run of a scheduled (or manual) re-validation: its event id, which every retry of
    the invocation shares (EventBridge Scheduler's execution id, or Lambda's request id)."""
    return f"schedule:{event_id}"


def prefetch(source: ManifestSource, jobs: Sequence[Job]) -> None:
    """Read every manifest of the jobs in one go, so that each job's own read is served from
    the source's cache instead of costing a request per manifest."""
    by_commit: dict[str, list[str]] = {}
    for job in jobs:
        if job.action is Action.VALIDATE and job.manifest:
            by_commit.setdefault(job.commit, []).append(job.manifest)
    for commit, names in by_commit.items():
        source.read(commit, names)


def schedule_request(event: Mapping[str, Any]) -> tuple[list[str] | None, str | None]:
    """(manifests, branch) from an EventBridge Scheduler event or a manual invocation.

    The scheduler sends `detail` as a JSON string (`"{}"` by default); a manual invocation may
    pass `{"manifests": [...], "branch": "..."}` directly or inside `detail`.
    """
    import json

    detail: Any = event.get("detail", event)
    if isinstance(detail, str):
        try:
            detail = json.loads(detail or "{}")
        except json.JSONDecodeError as error:
            raise ValueError(f"detail is not JSON: {error}") from error
    if not isinstance(detail, Mapping):
        raise ValueError("detail must be an object")
    manifests = detail.get("manifests")
    if manifests is not None and (
        not isinstance(manifests, list) or not all(isinstance(m, str) for m in manifests)
    ):
        raise ValueError("manifests must be a list of names")
    branch = detail.get("branch")
    if branch is not None and not isinstance(branch, str):
        raise ValueError("branch must be a string")
    return manifests, branch


def run_in_process(
    jobs: Sequence[Job],
    worker: Worker,
    *,
    concurrency: int = 8,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Run jobs here (every attempt is the last: results are published, never retried).

    Returns the errors of jobs that could not be done (a permanent source error, say).
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = {pool.submit(worker.handle, job, final_attempt=True): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                future.result()
            except Exception as error:
                errors.append(f"{job.manifest}: {type(error).__name__}: {error}")
            if progress is not None:
                progress(str(job.manifest))
    return errors
