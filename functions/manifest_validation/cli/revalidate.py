"""`revalidate`: every manifest of a manifests repository (or directory) re-validated here, with
a progress bar and a summary table; results go to the results queue."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .common import EXIT_USAGE, error, exit_code, make_services, make_verifier, settings_of


def command_revalidate(args: argparse.Namespace) -> int:
    from ..handlers.root import Services
    from ..repository import SourceError
    from ..results.origin import Trigger
    from ..work.revalidate import UnknownManifests, prefetch, revalidation_jobs, run_in_process
    from ..work.worker import Worker

    settings = settings_of(args)
    verifier = None if args.no_verify_git else make_verifier(settings)
    services = Services(settings) if verifier is None else make_services(settings, verifier)
    repository = args.repository or str(Path(args.library).resolve())
    started = time.monotonic()
    try:
        source = services.source(repository)
        jobs = revalidation_jobs(
            source, repository, args.branch, only=args.manifest or None, trigger=Trigger.CLI
        )
        prefetch(source, jobs)
        registry = history = None
        if verifier is not None:
            registry, history = services.registry(), services.history()
    except (SourceError, UnknownManifests, ValueError) as failure:
        error(failure)
        if verifier is not None:
            verifier.close()
        return EXIT_USAGE
    recording = RecordingResults(services.queue())
    worker = Worker(services.source, recording, None, verifier, registry=registry, history=history)
    failures = run_in_process(
        jobs, worker, concurrency=args.concurrency, progress=Progress(len(jobs)).advance
    )
    if args.docs:
        names = sorted({job.manifest for job in jobs if job.manifest})
        docs_messages, docs_failures = revalidate_docs(args.docs, names, only=args.manifest)
        recording.publish(docs_messages)
        failures += docs_failures
    requests = verifier.stats.requests if verifier is not None else 0
    if verifier is not None:
        verifier.close()
    print(
        summary_table(
            recording, seconds=time.monotonic() - started, requests=requests, manifests=len(jobs)
        )
    )
    print(f"results: {recording.describe()}")
    for message in failures:
        error(message)
    if failures:
        return EXIT_USAGE
    return exit_code(recording.statuses)


def revalidate_docs(
    docs_dir: str, names: Sequence[str], *, only: Sequence[str] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The docs folders of a docker-library/docs checkout, checked and cross-checked against
    the manifests `names` of the run (with `only`, just those images' folders): their result
    messages, and the errors of what could not be read (then nothing is cross-checked: every
    library file would look undocumented)."""
    from ..application import DocsContext, DocsInput, Options, check_docs
    from ..checks.docs.checkout import (
        UnreadableDocs,
        checkout_categories,
        docs_folders,
        read_docs_folder,
    )
    from ..results.origin import Trigger

    try:
        folders = [
            DocsInput(folder.name, read_docs_folder(folder), str(folder))
            for folder in docs_folders(Path(docs_dir))
            if not only or folder.name in only
        ]
    except (UnreadableDocs, OSError) as failure:
        return [], [f"docs: {failure}"]
    context = DocsContext(
        library_names=names, root=docs_dir, categories=checkout_categories(Path(docs_dir))
    )
    checked = check_docs(folders, options=Options(Trigger.CLI), context=context)
    return [item.message for item in checked if item.message is not None], []


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
