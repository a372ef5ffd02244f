"""Scheduled re-validation: every manifest of the manifests repository at its branch tip (or a
named subset), because upstream changes under them: branches are deleted, history rewritten,
tags moved."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

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
) -> list[Job]:
    """One job per manifest at the branch tip; `only` names a subset (all must exist)."""
    commit = source.resolve(branch)
    names = source.list_manifests(commit)
    wanted = set(only) if only else None
    if wanted is not None:
        unknown = sorted(wanted - set(names))
        if unknown:
            raise UnknownManifests(f"no such manifest at {commit[:12]}: {', '.join(unknown)}")
    base = Job(Action.EXPAND, repository, commit, trigger, None, origin_event)
    return expand(base, names, only=wanted)


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


@dataclass
class RecordingResults:
    """Wraps the results queue and counts what was published (for the summary table)."""

    inner: Any
    statuses: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)

    def publish(self, messages: Sequence[Mapping[str, Any]]) -> None:
        self.inner.publish(messages)
        for message in messages:
            self.statuses[message["status"]] += 1
            self.codes.update(problem["code"] for problem in message["problems"])
            if message["status"] == "invalid":
                docs = message.get("kind") == "docs"
                self.invalid.append(f"{message['manifest']}{' (docs)' if docs else ''}")

    def describe(self) -> str:
        return str(self.inner.describe())


def revalidate_docs(
    docs_dir: str,
    names: Sequence[str],
    *,
    only: Sequence[str] | None = None,
    trigger: Trigger = Trigger.CLI,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The docs folders of a docker-library/docs checkout, checked and cross-checked against
    the manifests `names` of the run (with `only`, just those images' folders): their result
    messages, and the errors of what could not be read (then nothing is cross-checked: every
    library file would look undocumented)."""
    from pathlib import Path

    from ..checks.docs.checkout import (
        UnreadableDocs,
        checkout_categories,
        docs_folders,
        read_docs_folder,
    )
    from ..checks.docs.folder import folder_digest_input, validate_folders
    from ..results.messages import Origin, docs_result_message

    try:
        folders = [
            (folder.name, read_docs_folder(folder), str(folder))
            for folder in docs_folders(Path(docs_dir))
            if only is None or folder.name in only
        ]
    except (UnreadableDocs, OSError) as error:
        return [], [f"docs: {error}"]
    results = validate_folders(
        folders,
        library_names=names,
        docs_root=docs_dir,
        categories=checkout_categories(Path(docs_dir)),
    )
    files = {source: data for _, data, source in folders}
    messages = [
        docs_result_message(
            result,
            Origin.of(
                "file", folder_digest_input(files.get(result.source, {})), path=result.source
            ),
            trigger=trigger,
        )
        for result in results
    ]
    return messages, []


class Progress:
    """A one-line progress bar on a terminal (plain lines elsewhere)."""

    def __init__(self, total: int, stream: IO[str] | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()

    def advance(self, label: str) -> None:
        self.done += 1
        width = 30
        filled = width * self.done // max(self.total, 1)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label}"
        if self.tty:
            self.stream.write("\r" + line[:100].ljust(100))
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done == self.total or self.done % 25 == 0:
            self.stream.write(line + "\n")
        self.stream.flush()


def run_in_process(
    jobs: Sequence[Job], worker: Worker, *, concurrency: int = 8, progress: Progress | None = None
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
                progress.advance(str(job.manifest))
    return errors


def summary_table(
    recording: RecordingResults, *, seconds: float, requests: int, manifests: int
) -> str:
    lines = [f"{'status':<12} {'manifests':>9}"]
    lines += [f"{name:<12} {count:>9}" for name, count in sorted(recording.statuses.items())]
    lines.append(f"{'total':<12} {sum(recording.statuses.values()):>9}")
    if recording.codes:
        lines.append("")
        lines.append(f"{'problem code':<28} {'count':>6}")
        lines += [f"{code:<28} {count:>6}" for code, count in recording.codes.most_common(10)]
    if recording.invalid:
        lines.append("")
        lines.append("invalid: " + ", ".join(sorted(recording.invalid)))
    per_manifest = requests / manifests if manifests else 0.0
    lines.append("")
    lines.append(
        f"{manifests} manifests in {seconds:.2f} s; {requests} upstream HTTP requests "
        f"({per_manifest:.2f} per manifest)"
    )
    return "\n".join(lines)
