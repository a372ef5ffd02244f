"""The core entry point: one library file in, one result with every problem out.

Pure: no I/O beyond what the caller passes in, no AWS, no global state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from .manifest import Manifest, parse
from .problems import Problem, Severity
from .rules import run_rules
from .schema import schema_problems

if TYPE_CHECKING:  # the upstream client (requests, dulwich) is imported only when used
    from .library import Library
    from .upstream import GitVerifier


class Status(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIED = "unverified"


@dataclass(slots=True)
class ValidationResult:
    kind: ClassVar[str] = "manifest"  # docs folders: docs.DocsResult, kind "docs"
    manifest: str
    source: str
    status: Status
    problems: list[Problem]
    parsed: Manifest = field(repr=False)
    # entry number -> architecture -> parents (only when the Dockerfiles were read)
    froms: dict[int, dict[str, list[str]]] = field(default_factory=dict, repr=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def notes(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.INFO]


def status_of(problems: list[Problem]) -> Status:
    if any(p.severity is Severity.ERROR for p in problems):
        return Status.INVALID
    if any(p.code == "git-repo-unreachable" for p in problems):
        return Status.UNVERIFIED
    return Status.VALID


def unique_sorted(problems: list[Problem]) -> list[Problem]:
    """Problems in file order, each once (an inherited global value is checked in every entry)."""
    return sorted(dict.fromkeys(problems), key=Problem.sort_key)


def _static_problems(manifest: Manifest) -> list[Problem]:
    problems = list(manifest.problems)
    if manifest.entries or manifest.global_entry.own_keys:
        problems.extend(schema_problems(manifest))
        problems.extend(run_rules(manifest))
    else:
        problems.extend(p for p in run_rules(manifest) if p.code == "invalid-image-name")
    return problems


def validate(
    name: str,
    data: bytes | str,
    *,
    source: str | None = None,
    verifier: GitVerifier | None = None,
    library: Library | None = None,
) -> ValidationResult:
    """Validate one library file named `name` (the image name) and report every problem.

    With a `verifier`, every entry's GitRepo/GitFetch/GitCommit is also checked upstream, and
    its Dockerfiles are read and their parents checked against `library`.
    """
    return validate_many([(name, data, source)], verifier=verifier, library=library)[0]


def validate_many(
    manifests: Sequence[tuple[str, bytes | str, str | None]],
    *,
    verifier: GitVerifier | None = None,
    library: Library | None = None,
) -> list[ValidationResult]:
    """Validate several manifests; upstream checks are shared across all of them (one ref
    listing per repository, one negotiation per distinct (repository, ref, commit), one read
    per distinct Dockerfile).

    With a `verifier`, each entry's Dockerfiles are read and their parents checked against
    `library` (the other official images; the manifests given here take precedence over its
    copies). Without a library, parents that need one are skipped with a note."""
    parsed = [parse(name, data) for name, data, _ in manifests]
    found = [_static_problems(manifest) for manifest in parsed]
    if verifier is not None:
        from .verification import git_checks, git_problems

        per_manifest = [git_checks(manifest) for manifest in parsed]
        outcomes = verifier.verify(check for checks in per_manifest for check in checks)
        for problems, checks in zip(found, per_manifest, strict=True):
            problems.extend(git_problems(checks, outcomes))
    froms = (
        [{} for _ in parsed]
        if verifier is None
        else _build_checks(parsed, found, verifier, library)
    )
    results = []
    for (name, _, source), manifest, problems, parents in zip(
        manifests, parsed, found, froms, strict=True
    ):
        ordered = unique_sorted(problems)
        results.append(
            ValidationResult(name, source or name, status_of(ordered), ordered, manifest, parents)
        )
    return results


def _build_checks(
    parsed: list[Manifest],
    found: list[list[Problem]],
    verifier: GitVerifier,
    library: Library | None,
) -> list[dict[int, dict[str, list[str]]]]:
    """Read every Dockerfile once and check what each entry builds FROM."""
    from .builds import build_findings, build_reads
    from .library import Library

    reads = [build_reads(manifest) for manifest in parsed]
    wanted = {request for plan in reads for request in plan.requests}
    contents = verifier.read_files(wanted) if wanted else {}
    base = library if library is not None else Library.unavailable("no library given")
    others = base.overlay(parsed)
    froms = []
    for plan, problems in zip(reads, found, strict=True):
        findings = build_findings(plan, contents, others)
        unverified = any(p.code == "git-repo-unreachable" for p in problems)
        # one network failure, one problem: the git checks may already have reported it
        problems.extend(
            p for p in findings.problems if not (unverified and p.code == "git-repo-unreachable")
        )
        froms.append(findings.froms)
    return froms
