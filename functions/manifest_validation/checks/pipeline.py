"""The core entry point: one library file in, one result with every problem out.

Pure: no I/O beyond what the caller passes in, no AWS, no global state.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from ..libraryfile.model import Manifest
from ..libraryfile.parse import parse
from ..problems.catalog import problem
from ..problems.problem import BySeverity, Problem
from .rules import run_rules
from .schema import schema_problems

if TYPE_CHECKING:  # the upstream client (requests, dulwich) is imported only when used
    from ..libraryfile.library import Library
    from ..sources.model import ArchBuild
    from ..upstream import ContextResult, GitVerifier, HistoryChecker, RegistryClient
from ..problems.status import Status, capped, status_of, unique_sorted


@dataclass(slots=True)
class ValidationResult(BySeverity):
    kind: ClassVar[str] = "manifest"  # docs folders: docs.DocsResult, kind "docs"
    manifest: str
    source: str
    status: Status
    problems: list[Problem]
    parsed: Manifest = field(repr=False)
    # entry number -> architecture -> what was read upstream for it (only with a verifier):
    # the Dockerfile's FROMs and the build context's checksum, as the publisher needs them
    builds: dict[int, dict[str, ArchBuild]] = field(default_factory=dict, repr=False)


def _budget_exceeded(found: int, started: bool) -> Problem:
    if not started:
        message = "not checked: the request's time budget was used up by the manifests before it"
    else:
        message = (
            "the checks stopped when the time budget ran out: what they found until then "
            f"({found} problem(s)) is reported, other problems may be missing"
        )
    return problem("validation-budget-exceeded", message)


def _collect(found: Iterable[Problem], into: list[Problem], deadline: float | None) -> bool:
    """Add the problems one stage yields to `into`; False when the deadline passed first (the
    rest of the stage is not run: stages are generators, so stopping between two problems
    stops their work)."""
    if deadline is None:
        into.extend(found)
        return True
    for item in found:
        into.append(item)
        if time.monotonic() > deadline:
            return False
    return time.monotonic() <= deadline


def _static_problems(manifest: Manifest, deadline: float | None) -> tuple[list[Problem], bool]:
    """(problems of the text checks, whether they all ran before the deadline)."""
    problems = list(manifest.problems)
    if deadline is not None and time.monotonic() > deadline:
        return problems, False
    if manifest.entries or manifest.global_entry.own_keys:
        done = _collect(schema_problems(manifest), problems, deadline)
        done = done and _collect(run_rules(manifest), problems, deadline)
    else:
        found = (p for p in run_rules(manifest) if p.code == "invalid-image-name")
        done = _collect(found, problems, deadline)
    return problems, done


def validate(
    name: str,
    data: bytes | str,
    *,
    source: str | None = None,
    verifier: GitVerifier | None = None,
    library: Library | None = None,
    registry: RegistryClient | None = None,
    history: HistoryChecker | None = None,
    deadline: float | None = None,
) -> ValidationResult:
    """Validate one library file named `name` (the image name) and report every problem.

    With a `verifier`, every entry's GitRepo/GitFetch/GitCommit is also checked upstream, and
    its Dockerfiles are read and their parents checked against `library`.
    `deadline` (a `time.monotonic()` value) bounds the text checks: see `validate_many`.
    """
    return validate_many(
        [(name, data, source)],
        verifier=verifier,
        library=library,
        registry=registry,
        history=history,
        deadline=deadline,
    )[0]


def validate_many(
    manifests: Sequence[tuple[str, bytes | str, str | None]],
    *,
    verifier: GitVerifier | None = None,
    library: Library | None = None,
    registry: RegistryClient | None = None,
    history: HistoryChecker | None = None,
    deadline: float | None = None,
) -> list[ValidationResult]:
    """Validate several manifests; upstream checks are shared across all of them (one ref
    listing per repository, one negotiation per distinct (repository, ref, commit), one read
    per distinct Dockerfile).

    With a `verifier`, each entry's Dockerfiles are read and their parents checked against
    `library` (the other official images; the manifests given here take precedence over its
    copies) and its external pins, whose digests `registry` is asked about. Without a library
    (or pins, or a registry client), the parents that need one are skipped with a note. With a
    `history` checker too, the history of every GitCommit is searched for unpleasant commits
    (naughty-commits.sh), one check call per manifest.

    `deadline` is a `time.monotonic()` value for the text checks (parsing, schema, rules) of
    all manifests together, checked before each manifest, between stages and between the
    problems a stage yields: a manifest whose checks do not finish in time gets the problems
    found so far plus a `validation-budget-exceeded` error (status invalid), as does every
    manifest not reached, and none of them is verified upstream. The verifier has its own
    budget. Each result holds at most MAX_PROBLEMS problems (see `capped`).
    """
    parsed: list[Manifest] = []
    found: list[list[Problem]] = []
    finished: list[bool] = []
    for name, data, _ in manifests:
        if deadline is not None and time.monotonic() > deadline:
            parsed.append(parse(name, ""))  # an empty stand-in: nothing of it was read
            found.append([_budget_exceeded(0, started=False)])
            finished.append(False)
            continue
        manifest = parse(name, data)
        problems, done = _static_problems(manifest, deadline)
        if not done:
            problems.append(_budget_exceeded(len(problems), started=True))
        parsed.append(manifest)
        found.append(problems)
        finished.append(done)
    if verifier is not None:
        from .git import git_checks, git_problems

        per_manifest = [
            git_checks(manifest) if done else {}
            for manifest, done in zip(parsed, finished, strict=True)
        ]
        outcomes = verifier.verify(check for checks in per_manifest for check in checks)
        for problems, checks in zip(found, per_manifest, strict=True):
            problems.extend(git_problems(checks, outcomes))
        if history is not None:
            from .commits import commit_problems

            for problems, checks in zip(found, per_manifest, strict=True):
                if checks:
                    problems.extend(commit_problems(checks, history, problems))
    builds = (
        [{} for _ in parsed]
        if verifier is None
        else _build_checks(parsed, found, finished, verifier, library, registry)
    )
    results = []
    for (name, _, source), manifest, problems, built in zip(
        manifests, parsed, found, builds, strict=True
    ):
        ordered = capped(unique_sorted(problems))
        results.append(
            ValidationResult(name, source or name, status_of(ordered), ordered, manifest, built)
        )
    return results


def _build_checks(
    parsed: list[Manifest],
    found: list[list[Problem]],
    finished: list[bool],
    verifier: GitVerifier,
    library: Library | None,
    registry: RegistryClient | None = None,
) -> list[dict[int, dict[str, ArchBuild]]]:
    """Read every Dockerfile and build context once (one read: per repository and set of
    commits, one fetch of trees and one of blobs), check what each entry builds FROM and
    what its context holds (only for manifests whose text checks finished within the
    budget); what each entry and architecture builds, for the publisher's document. Each
    pinned external parent's registry is asked once for the whole call."""
    from ..libraryfile.library import Library
    from ..upstream import FileStatus
    from .builds import build_findings, build_reads
    from .contexts import context_findings, context_reads
    from .parents import registry_lookup

    reads = [
        build_reads(manifest) if done else None
        for manifest, done in zip(parsed, finished, strict=True)
    ]
    contexts = [
        context_reads(manifest) if done else None
        for manifest, done in zip(parsed, finished, strict=True)
    ]
    wanted = {request for plan in reads if plan is not None for request in plan.requests}
    wanted_contexts = {request for plan in contexts if plan is not None for request in plan}
    reading = verifier.read(wanted, wanted_contexts) if wanted or wanted_contexts else None
    base = library if library is not None else Library.unavailable("no library given")
    others = base.overlay(parsed)
    lookup = registry_lookup(registry) if registry is not None else None
    builds: list[dict[int, dict[str, ArchBuild]]] = []
    for plan, context_plan, problems in zip(reads, contexts, found, strict=True):
        if plan is None or context_plan is None:
            builds.append({})
            continue
        files = reading.files if reading is not None else {}
        findings = build_findings(plan, files, others, registry=lookup)
        missing = {
            (use.entry.number, use.architecture)
            for request, uses in plan.requests.items()
            if (result := files.get(request)) is not None and result.status is FileStatus.MISSING
            for use in uses
        }
        in_context = context_findings(
            context_plan,
            reading.contexts if reading is not None else {},
            missing_dockerfiles=missing,
        )
        _add_once(problems, findings.problems)
        _add_once(problems, in_context.problems)
        builds.append(_builds(findings.bashbrew_froms, in_context.results))
    return builds


def _add_once(problems: list[Problem], found: list[Problem]) -> None:
    """One network failure, one problem: the git checks (or the Dockerfiles' read) may
    already have reported the repository unreachable on that line; another repository's
    failure is kept."""
    reported = {(p.line, p.field) for p in problems if p.code == "git-repo-unreachable"}
    problems.extend(
        p for p in found if not (p.code == "git-repo-unreachable" and (p.line, p.field) in reported)
    )


def _builds(
    froms: dict[int, dict[str, tuple[tuple[str, ...], str | None]]],
    contexts: dict[int, dict[str, ContextResult]],
) -> dict[int, dict[str, ArchBuild]]:
    """What each entry and architecture builds, from its Dockerfile and its context."""
    from ..sources.model import ArchBuild
    from ..upstream import ContextStatus

    out: dict[int, dict[str, ArchBuild]] = {}
    for number in sorted({*froms, *contexts}):
        for architecture in {**froms.get(number, {}), **contexts.get(number, {})}:
            parents, last = froms.get(number, {}).get(architecture, (None, None))
            context = contexts.get(number, {}).get(architecture)
            ok = context is not None and context.status is ContextStatus.OK
            out.setdefault(number, {})[architecture] = ArchBuild(
                froms=parents,
                last_stage_from=last,
                checksum=context.checksum if ok and context is not None else None,
                source_date_epoch=context.source_date_epoch if context is not None else None,
            )
    return out
