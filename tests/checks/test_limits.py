"""Bounded work on hostile input, in the core: the JSON limits, the problem cap, the deadline."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manifest_validation.api import json_limits
from manifest_validation.api.json_limits import JsonRefused, nesting_depth
from manifest_validation.checks import pipeline as validate_module
from manifest_validation.checks.pipeline import validate, validate_many
from manifest_validation.problems.problem import Severity
from manifest_validation.problems.status import MAX_MESSAGE_CHARS, MAX_PROBLEMS, Status

C1 = "0123456789abcdef0123456789abcdef01234567"
HEAD = "Maintainers: Jane Doe <jane@example.com> (@jane)\nGitRepo: https://e.com/r.git\n"
GOOD = HEAD + f"\nTags: a\nGitCommit: {C1}\n"


def continued_maintainers(lines: int) -> str:
    """The issue's hostile case: a Maintainers field continued by `\\tbar,` lines."""
    return (
        "Maintainers: Jane Doe <jane@example.com> (@jane),\n"
        + "\tbar,\n" * (lines - 1)
        + f"\tbar\nGitRepo: https://e.com/r.git\n\nTags: a\nGitCommit: {C1}\n"
    )


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "\\"[[{{"]', 1),  # brackets in strings (escaped quotes too) do not count
        ("[[[", 3),  # not JSON, still measured
        ('"unterminated [[[', 0),
    ],
)
def test_nesting_depth(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


@given(
    st.recursive(
        st.none() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_nesting_depth_agrees_with_the_structure(value: object) -> None:
    def depth(node: object) -> int:
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        return 1 + max(map(depth, children), default=0) if isinstance(node, (list, dict)) else 0

    assert nesting_depth(json.dumps(value)) == depth(value)


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 32"),
        ("[" * 100_000, "nested deeper than 32"),  # unbalanced: refused before parsing too
        ('{"manifests": ' + "[" * 33 + "]" * 33 + "}", "nested deeper than 32"),
        ('{"verify_git": 1' + "0" * 100_000 + "}", "more than 40 digits"),
        ("-" + "9" * 41, "more than 40 digits"),
        ("0." + "1" * 100, "longer than 40 characters"),
        ("1e999", "out of range"),
        ("[NaN]", "NaN is not a JSON value"),
        ("-Infinity", "-Infinity is not a JSON value"),
        ('["\\ud800"]', "unpaired surrogate"),  # a lone escape: JSON syntax, not Unicode
        ('{"a\\udc00b": 1}', "unpaired surrogate"),  # in a key too
        ('["\\ude00\\ud83d"]', "unpaired surrogate"),  # a pair the wrong way round
    ],
)
def test_bodies_beyond_the_limits_are_refused_naming_the_limit(body: str, limit: str) -> None:
    with pytest.raises(JsonRefused, match=limit):
        json_limits.loads(body.encode())


def test_bodies_within_the_limits_parse_as_json_does() -> None:
    body = json.dumps({"a": [[1, -2, 3.5e10, "[{"] * 3], "b": None, "n": 10**39})
    assert json_limits.loads(body.encode()) == json.loads(body)
    assert json_limits.loads("[" * 32 + "]" * 32) == json.loads("[" * 32 + "]" * 32)
    # a surrogate pair is one character; an escaped backslash before "ud800" is no escape
    assert json_limits.loads(b'["\\ud83d\\ude00", "\\\\ud800"]') == ["\U0001f600", "\\ud800"]


@pytest.mark.parametrize("body", [b"\xff{}", b"{", b'{"a": }', b'"\\', b""])
def test_not_json_is_refused_with_the_same_error_type(body: bytes) -> None:
    with pytest.raises(JsonRefused):
        json_limits.loads(body)


@given(st.binary(max_size=200))
def test_any_bytes_either_parse_or_are_refused(body: bytes) -> None:
    with contextlib.suppress(JsonRefused):
        json_limits.loads(body)


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


@dataclass
class OneFile:
    """A manifests repository holding the same text under every name."""

    content: bytes

    def read(self, commit: str, names: list[str]) -> dict[str, bytes]:
        return {name: self.content for name in names}


@dataclass
class Published:
    messages: list[dict[str, object]]

    def publish(self, messages: list[dict[str, object]]) -> None:
        self.messages.extend(messages)


def test_the_worker_gives_each_job_a_budget_and_publishes_the_error_result() -> None:
    from manifest_validation.results.messages import Trigger
    from manifest_validation.work.jobs import Action, Job
    from manifest_validation.work.worker import Worker

    published = Published([])
    worker = Worker(
        lambda repository: OneFile(continued_maintainers(2000).encode()),
        published,
        text_budget_seconds=1e-9,
    )
    job = Job(Action.VALIDATE, "https://example.com/r.git", C1, Trigger.PUSH, "img")
    worker.handle(job, final_attempt=False)  # no RetryLater: another attempt would not help
    (message,) = published.messages
    assert message["status"] == "invalid"
    problems = message["problems"]
    assert isinstance(problems, list)
    assert "validation-budget-exceeded" in {problem["code"] for problem in problems}


def test_the_worker_publishes_without_changes_when_the_base_is_too_costly_to_compare() -> None:
    from manifest_validation.results.messages import Trigger
    from manifest_validation.work.jobs import Action, Job
    from manifest_validation.work.worker import Worker

    same_tag = HEAD + "".join(f"\nTags: a\nGitCommit: {C1}\nDirectory: d{i}\n" for i in range(400))
    published = Published([])
    worker = Worker(lambda repository: OneFile(same_tag.encode()), published)
    base = "f" * 40  # the file at the push's `before`: the same 400 entries (160,000 pairs)
    job = Job(Action.VALIDATE, "https://example.com/r.git", C1, Trigger.PUSH, "img", None, base)
    worker.handle(job, final_attempt=False)
    (message,) = published.messages
    assert "changes" not in message
    assert message["manifest"] == "img"
    # within the bounds the same job carries its changes
    small = HEAD + "".join(f"\nTags: a\nGitCommit: {C1}\nDirectory: d{i}\n" for i in range(4))
    published.messages.clear()
    Worker(lambda repository: OneFile(small.encode()), published).handle(job, final_attempt=False)
    (message,) = published.messages
    assert message["changes"]["status"] == "unchanged"
