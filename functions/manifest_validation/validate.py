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

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


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
) -> ValidationResult:
    """Validate one library file named `name` (the image name) and report every problem.

    With a `verifier`, every entry's GitRepo/GitFetch/GitCommit is also checked upstream.
    """
    return validate_many([(name, data, source)], verifier=verifier)[0]


def validate_many(
    manifests: Sequence[tuple[str, bytes | str, str | None]],
    *,
    verifier: GitVerifier | None = None,
) -> list[ValidationResult]:
    """Validate several manifests; upstream checks are shared across all of them (one ref
    listing per repository, one negotiation per distinct (repository, ref, commit))."""
    parsed = [parse(name, data) for name, data, _ in manifests]
    found = [_static_problems(manifest) for manifest in parsed]
    if verifier is not None:
        from .verification import git_checks, git_problems

        per_manifest = [git_checks(manifest) for manifest in parsed]
        outcomes = verifier.verify(check for checks in per_manifest for check in checks)
        for problems, checks in zip(found, per_manifest, strict=True):
            problems.extend(git_problems(checks, outcomes))
    results = []
    for (name, _, source), manifest, problems in zip(manifests, parsed, found, strict=True):
        ordered = unique_sorted(problems)
        results.append(
            ValidationResult(name, source or name, status_of(ordered), ordered, manifest)
        )
    return results
