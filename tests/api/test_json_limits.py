"""Bounded work on hostile input: the JSON limits every door reads request bodies with."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manifest_validation.api import json_limits
from manifest_validation.api.json_limits import JsonRefused, nesting_depth

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


@pytest.mark.slow
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
