"""Bounded work on hostile input, in the core: the problem cap and the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from manifest_validation.checks import pipeline as validate_module
from manifest_validation.checks.pipeline import validate, validate_many
from manifest_validation.problems.problem import Severity
from manifest_validation.problems.status import MAX_MESSAGE_CHARS, MAX_PROBLEMS, Status
from samples import C1, continued_maintainers

HEAD = "Maintainers: Jane Doe <jane@example.com> (@jane)\nGitRepo: https://e.com/r.git\n"
GOOD = HEAD + f"\nTags: a\nGitCommit: {C1}\n"


# --- the problem cap -----------------------------------------------------------------------------


def test_problems_are_capped_with_one_error_saying_how_many_were_left_out() -> None:
    result = validate("img", continued_maintainers(1000))
    assert len(result.problems) == MAX_PROBLEMS + 1
    notice = result.problems[0]  # a whole-file problem: first in file order
    assert (notice.code, notice.line, notice.severity) == (
        "too-many-problems",
        None,
        Severity.ERROR,
    )
    assert "1000 problems found, 200 reported: 800 more error(s)" in notice.message
    lines = [found.line or 0 for found in result.problems]
    assert lines == sorted(lines)
    assert result.status is Status.INVALID


def test_the_cap_keeps_errors_before_warnings() -> None:
    warnings = "".join(f"X-Unknown-{i}: v\n" for i in range(300))  # unknown-field warnings
    # 300 unknown fields, one invalid tag and a repeated Tags field (warning): 302 problems
    text = GOOD.replace("Tags: a\n", "Tags: a\n" + warnings) + "Tags: bad!\n"
    result = validate("img", text)
    codes = [found.code for found in result.problems]
    assert codes[0] == "too-many-problems"
    assert "invalid-tag" in codes  # the one error, on the last line, is kept
    assert codes.count("unknown-field") == MAX_PROBLEMS - 1
    assert "0 more error(s) and 102 more warning(s)" in result.problems[0].message


def test_exactly_the_cap_is_not_cut() -> None:
    result = validate("img", continued_maintainers(MAX_PROBLEMS))
    assert len(result.problems) == MAX_PROBLEMS
    assert "too-many-problems" not in {found.code for found in result.problems}


def test_messages_quoting_huge_values_are_cut_to_a_bounded_length() -> None:
    result = validate("img", GOOD.replace("Tags: a", "Tags: " + "x!" * 100_000))
    (found,) = [p for p in result.problems if p.code == "invalid-tag"]
    assert len(found.message) <= MAX_MESSAGE_CHARS
    assert found.message.endswith("…")


@dataclass
class Clock:
    """Stands in for the `time` module in validate.py: a clock the test drives."""

    monotonic: Callable[[], float]


# --- the deadline --------------------------------------------------------------------------------


def test_a_passed_deadline_stops_the_checks_with_an_error_result() -> None:
    result = validate("img", continued_maintainers(5000), deadline=time.monotonic() - 1)
    assert result.status is Status.INVALID
    assert "validation-budget-exceeded" in {found.code for found in result.problems}
    assert len(result.problems) <= MAX_PROBLEMS + 2


def test_the_deadline_stops_between_the_problems_a_stage_yields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a clock that passes the deadline after the first problems of the schema stage
    ticks = iter(range(10_000))
    monkeypatch.setattr(validate_module, "time", Clock(lambda: float(next(ticks))))
    unbounded = validate("img", continued_maintainers(500))
    cut = validate("img", continued_maintainers(500), deadline=5.0)
    budget = [found for found in cut.problems if found.code == "validation-budget-exceeded"]
    assert len(budget) == 1 and budget[0].line is None
    assert "what they found until then" in budget[0].message
    found_codes = [found.code for found in cut.problems if found.code == "invalid-maintainer"]
    assert 0 < len(found_codes) < 10  # stopped promptly, kept what it had
    assert len([p for p in unbounded.problems if p.code == "invalid-maintainer"]) == MAX_PROBLEMS


def test_manifests_not_reached_before_the_deadline_are_not_called_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([0.0, 0.0, 0.0, 0.0] + [100.0] * 100)
    monkeypatch.setattr(validate_module, "time", Clock(lambda: next(clock)))
    first, second = validate_many([("a", GOOD, None), ("b", GOOD, None)], deadline=1.0)
    assert (first.status, first.problems) == (Status.VALID, [])
    assert second.status is Status.INVALID
    assert [found.code for found in second.problems] == ["validation-budget-exceeded"]
    assert "not checked" in second.problems[0].message


def test_without_a_deadline_nothing_is_cut() -> None:
    result = validate("img", GOOD, deadline=time.monotonic() + 60)
    assert (result.status, result.problems) == (Status.VALID, [])
