"""JSON from strangers, with bounded work: the one parser both HTTP doors use for request bodies.

`json.loads` alone is not safe on hostile input: it recurses (in C) once per nesting level and
gives up with `RecursionError` near Python's recursion limit, and an integer of more than 4,300
digits makes `int()` raise `ValueError` (and costs quadratic time below that). Here, before any
parsing, one linear pass over the text measures the nesting depth without recursion; numbers are
checked by length before they are converted; NaN and Infinity (which Python accepts but JSON does
not have) are refused. Every refusal is a `JsonRefused` whose message names the limit.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32
# Enough for any 128-bit integer; request fields are booleans and GitHub's ids have ~10 digits.
MAX_INTEGER_DIGITS = 40
MAX_NUMBER_CHARS = 40

# A JSON string token, from its opening quote to its closing quote or the end of the text (an
# unterminated string is still one token, so the scan never restarts inside it: linear time).
_STRING = re.compile(r'"[^"\\]*+(?:\\.?[^"\\]*+)*+"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonRefused(ValueError):
    """The text is not JSON, or is JSON beyond one of the limits; the message says which."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, in linear time and constant stack.

    Brackets inside strings do not count. For text that is not JSON the number is still
    defined (and the parser then refuses the text anyway).
    """
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    opening = brackets.count("[") + brackets.count("{")
    if opening <= 1:
        return opening
    return max(0, max(accumulate(map(_STEP.__getitem__, brackets))))


def _integer(digits: str) -> int:
    if len(digits) - digits.startswith("-") > MAX_INTEGER_DIGITS:
        raise JsonRefused(f"a number has more than {MAX_INTEGER_DIGITS} digits")
    return int(digits)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonRefused(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {text} is out of range")
    return value


def _constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON value")


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse a JSON document (UTF-8 when given bytes) within the limits; raises `JsonRefused`."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonRefused(f"the body is not UTF-8 (byte {error.start})") from error
    else:
        text = data
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonRefused(f"arrays and objects are nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise JsonRefused(f"the body is not valid JSON: {error}") from error
