"""An unreachable host said once: when a host cannot be reached (no network, a DNS failure, a
host down), every repository on it fails the same way, and `check --verify-git` over a library
would print the same `git-repo-unreachable` warning for each of them. The text and GitHub
reports print the first of a host as it is, and fold the others into one line before the
summary:

    github.com could not be reached (could not resolve host github.com): 57 repositories,
    137 manifests unverified

(one line in the output).

Only the output for people is folded: each result keeps every problem (its status, the JSON
report and the result messages are unchanged), and the summary line counts them all.

A warning is folded by the host and the reason of its sentence (the verifier's `Could not verify
against URL: REASON.`, the URL in the reason replaced by its host, so that the repositories of
one host failing the same way fold together); other `git-repo-unreachable` problems (a
Dockerfile that could not be read, a server's error about one repository) are printed as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import IO, Any, cast

from ..problems.problem import Problem
from .report import CheckResult, ReportWriter, _escape_data

CODE = "git-repo-unreachable"
_SENTENCE = re.compile(
    r"Could not verify against (?P<url>[A-Za-z][A-Za-z0-9+.-]*://(?P<host>[^/\s]+)\S*): "
    r"(?P<reason>.+?)\.?"
)


def unreachable_host(found: Problem) -> tuple[str, str, str] | None:
    """(host, reason, repository URL) of a verifier's `git-repo-unreachable` warning; None for
    any other problem."""
    return unreachable_host_of(found.code, found.message)


def unreachable_host_of(code: str, message: str) -> tuple[str, str, str] | None:
    """`unreachable_host` of a problem given by its code and message (a result message's)."""
    if code != CODE:
        return None
    match = _SENTENCE.fullmatch(message)
    if match is None:
        return None
    host, url = match["host"], match["url"]
    reason = match["reason"].replace(url, host)
    return host, reason, url


@dataclass
class _Host:
    host: str
    reason: str
    repositories: set[str] = field(default_factory=set)
    manifests: set[int] = field(default_factory=set)  # numbers of the results
    said: bool = False  # its first warning was printed
    folded: int = 0  # warnings left out of the output

    def line(self) -> str:
        repositories = len(self.repositories)
        manifests = len(self.manifests)
        return (
            f"{self.host} could not be reached ({self.reason}): {repositories} "
            f"{'repository' if repositories == 1 else 'repositories'}, {manifests} "
            f"{'manifest' if manifests == 1 else 'manifests'} unverified"
        )


class UnreachableFold:
    """Which `git-repo-unreachable` warnings to print: the first of each (host, reason), and
    one line for each (host, reason) whose other warnings were left out."""

    def __init__(self) -> None:
        self._hosts: dict[tuple[str, str], _Host] = {}
        self._results = 0

    def shown(self, result: CheckResult) -> tuple[CheckResult, list[Problem]]:
        """(the result without the warnings of a host already said, the warnings left out)."""
        number = self.next_result()
        kept: list[Problem] = []
        left_out: list[Problem] = []
        for found in result.problems:
            if self.keep(found.code, found.message, number):
                kept.append(found)
            else:
                left_out.append(found)
        if not left_out:
            return result, []
        # a copy with fewer problems: its status is the result's own (decided on all of them)
        return cast(CheckResult, replace(cast(Any, result), problems=kept)), left_out

    def next_result(self) -> int:
        """The number of the next result whose problems are asked about."""
        self._results += 1
        return self._results - 1

    def keep(self, code: str, message: str, number: int) -> bool:
        """Whether to print the problem (`code`, `message`) of result `number`: every other
        problem, and the first warning of each (host, reason)."""
        parts = unreachable_host_of(code, message)
        if parts is None:
            return True
        host, reason, url = parts
        group = self._hosts.setdefault((host, reason), _Host(host, reason))
        group.repositories.add(url)
        group.manifests.add(number)
        if group.said:
            group.folded += 1
            return False
        group.said = True
        return True

    def lines(self) -> list[str]:
        """One line per (host, reason) some warning of which was left out."""
        return [group.line() for group in self._hosts.values() if group.folded]


class FoldingReportWriter:
    """A `ReportWriter` whose text and GitHub output say an unreachable host once (see the
    module docstring); JSON is written as it is. `close()` returns the counts of every
    problem, folded ones included."""

    def __init__(self, out: IO[str], output_format: str, *, colour: bool = False) -> None:
        self.inner = ReportWriter(out, output_format, colour=colour)
        self.out = out
        self.format = output_format
        self.fold = UnreachableFold() if output_format in ("text", "github") else None

    def add(self, result: CheckResult, message: Mapping[str, Any] | None = None) -> None:
        if self.fold is None:
            self.inner.add(result, message)
            return
        shown, left_out = self.fold.shown(result)
        self.inner.add(shown, message)
        # the summary counts what the result holds, not what was printed
        self.inner.counts.severities.update(found.severity.value for found in left_out)

    def close(self) -> Any:
        if self.fold is not None:
            for line in self.fold.lines():
                if self.format == "github":
                    line = f"::warning title={CODE}::{_escape_data(line)}"
                self.out.write(line + "\n")
        return self.inner.close()
