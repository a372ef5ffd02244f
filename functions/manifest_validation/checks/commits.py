"""Unpleasant commits (official-images' naughty-commits.sh of 2026-08-21): commits in the history of
a manifest's GitCommits that modify or delete a binary `**.tar**` file over 2 MiB.

The history checker (`upstream.history`) does the script's walk over every (GitRepo, GitFetch,
GitCommit) of one manifest and reports each offending commit once, with the GitCommit whose
history held it first; here each becomes one problem on the line of that GitCommit in effect
(the architecture-specific one first) of the first entry and architecture using it.
Whether GitFetch exists and holds GitCommit (the script's other two findings) is what the git
checks report (`git-ref-not-found`, `git-commit-not-in-ref`); a history that could not be read
is `git-repo-unreachable` (a warning: the manifest is unverified, never invalid).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..problems.catalog import problem
from ..problems.problem import Problem
from .git import Use

if TYPE_CHECKING:
    from ..upstream import GitCheck, HistoryChecker

__all__ = ["commit_problems"]


def commit_problems(
    checks: Mapping[GitCheck, Sequence[Use]],
    history: HistoryChecker,
    reported: Iterable[Problem] = (),
) -> list[Problem]:
    """The unpleasant commits of one manifest's git checks (`git_checks`: each distinct
    (GitRepo, GitFetch, GitCommit) with where it is used), as problems. `reported`: the
    problems already found, so a repository already reported unreachable on a line is not
    reported there again."""
    from ..upstream import HistoryCheck, HistoryStatus

    by_check = {HistoryCheck(c.repo, c.ref, c.commit): uses for c, uses in checks.items()}
    report = history.check(by_check)
    out: list[Problem] = []
    for found in report.offending:
        use = by_check[found.check][0]
        name = use.entry.key_in_effect(use.architecture, "GitCommit")
        out.append(
            problem(
                "unpleasant-commit",
                f"{found.heading}: {'; '.join(found.lines)}",
                line=use.entry.line_of(name),
                field=name,
            )
        )
    seen = {(p.line, p.field) for p in reported if p.code == "git-repo-unreachable"}
    for check, outcome in report.outcomes.items():
        if outcome.status is not HistoryStatus.UNREACHABLE:
            continue  # a missing commit or a refused URL: the git checks report it
        use = by_check[check][0]
        name = use.entry.key_in_effect(use.architecture, "GitRepo")
        where = (use.entry.line_of(name), name)
        if where in seen:
            continue
        seen.add(where)
        out.append(
            problem(
                "git-repo-unreachable",
                f"the history of {check.commit[:12]} could not be searched for unpleasant "
                f"commits: {outcome.detail}",
                line=where[0],
                field=name,
            )
        )
    return out
