"""Upstream verification of parsed manifests: which (GitRepo, GitFetch, GitCommit) each entry and
architecture builds from, and the problems the verifier's outcomes mean for the manifest."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from ..libraryfile.model import Entry, Manifest
from ..libraryfile.names import COMMIT
from ..problems.catalog import problem
from ..problems.problem import Problem
from ..upstream import GitCheck, GitOutcome, Outcome

_FETCH = re.compile(r"refs/(heads|tags)/[^*?:]+")

# The field whose value an outcome blames.
_BLAMED_FIELD = {
    Outcome.REF_NOT_FOUND: "GitFetch",
    Outcome.COMMIT_NOT_FOUND: "GitCommit",
    Outcome.COMMIT_NOT_IN_REF: "GitCommit",
    Outcome.URL_FORBIDDEN: "GitRepo",
    Outcome.UNREACHABLE: "GitRepo",
}


@dataclass(frozen=True, slots=True)
class Use:
    """One place a git check comes from: an entry building one architecture."""

    entry: Entry
    architecture: str


def git_checks(manifest: Manifest) -> dict[GitCheck, list[Use]]:
    """Every distinct check the manifest needs, with where each is used.

    Values that are already invalid (reported by the schema) are not sent upstream.
    """
    checks: dict[GitCheck, list[Use]] = defaultdict(list)
    for entry in manifest.entries:
        for architecture in entry.architectures:
            upstream = upstream_in_effect(entry, architecture)
            ref = entry.arch_value(architecture, "GitFetch")
            if upstream is None or not _FETCH.fullmatch(ref):
                continue
            repo, commit = upstream
            checks[GitCheck(repo, ref, commit)].append(Use(entry, architecture))
    return checks


def upstream_in_effect(entry: Entry, architecture: str) -> tuple[str, str] | None:
    """(GitRepo, GitCommit) of one architecture when both may be sent upstream; None when one
    is already invalid (the schema reports it)."""
    repo = entry.arch_value(architecture, "GitRepo")
    commit = entry.arch_value(architecture, "GitCommit")
    if not repo or any(c.isspace() for c in repo) or not COMMIT.fullmatch(commit):
        return None
    return repo, commit


def git_problems(
    checks: dict[GitCheck, list[Use]], outcomes: dict[GitCheck, GitOutcome]
) -> Iterator[Problem]:
    for check, uses in checks.items():
        outcome = outcomes[check]
        if outcome.outcome is Outcome.OK:
            continue
        for use in uses:
            field = use.entry.key_in_effect(use.architecture, _BLAMED_FIELD[outcome.outcome])
            yield problem(
                outcome.outcome.value,
                outcome.detail,
                line=use.entry.line_of(field),
                field=field,
            )
