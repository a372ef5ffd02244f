"""The status of a checked manifest or docs folder, and the bounded, ordered list of problems
that decides it (shared by manifests, docs folders, results and reports).
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING

from .catalog import problem
from .problem import Problem, Severity

if TYPE_CHECKING:  # the upstream client (requests, dulwich) is imported only when used
    pass


# At most this many problems per manifest are reported (plus one `too-many-problems` error), and
# each message at most this long: the size of a result is bounded whatever the input.
MAX_PROBLEMS = 200


MAX_MESSAGE_CHARS = 500


# Warnings that an upstream host (a git repository, a registry) could not be asked: a manifest
# with nothing worse is `unverified`, never `invalid`.
UNVERIFIED_CODES = frozenset({"git-repo-unreachable", "registry-unreachable"})


class Status(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIED = "unverified"


def status_of(problems: list[Problem]) -> Status:
    if any(p.severity is Severity.ERROR for p in problems):
        return Status.INVALID
    if any(p.code in UNVERIFIED_CODES for p in problems):
        return Status.UNVERIFIED
    return Status.VALID


def unique_sorted(problems: list[Problem]) -> list[Problem]:
    """Problems in file order, each once (an inherited global value is checked in every entry)."""
    return sorted(dict.fromkeys(problems), key=Problem.sort_key)


def _bounded(found: Problem) -> Problem:
    """The problem with its message and field cut to a bounded length (messages may quote a
    value of the file, and a hostile file has values of any length)."""
    message, field_name = found.message, found.field
    if len(message) <= MAX_MESSAGE_CHARS and (field_name is None or len(field_name) <= 200):
        return found
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    if field_name is not None and len(field_name) > 200:
        field_name = field_name[:199] + "…"
    return replace(found, message=message, field=field_name)


def capped(problems: list[Problem], limit: int = MAX_PROBLEMS) -> list[Problem]:
    """At most `limit` problems (in file order), plus one `too-many-problems` error saying how
    many were left out.

    Errors are kept before warnings: they decide the status and must be fixed, and a flood of
    warnings (say, thousands of whitespace-only lines) must not hide them. Among errors, and then
    among warnings, the first in file order are kept, so fixing from the top and validating
    again shows the rest.
    """
    if len(problems) <= limit:
        return [_bounded(found) for found in problems]
    errors = [found for found in problems if found.severity is Severity.ERROR]
    warnings = [found for found in problems if found.severity is not Severity.ERROR]
    kept = (errors + warnings)[:limit]
    left_errors = max(0, len(errors) - limit)
    left_warnings = len(warnings) - max(0, limit - len(errors))
    notice = problem(
        "too-many-problems",
        f"{len(problems)} problems found, {limit} reported: {left_errors} more error(s) and "
        f"{left_warnings} more warning(s) are left out",
    )
    return [notice, *sorted((_bounded(found) for found in kept), key=Problem.sort_key)]
