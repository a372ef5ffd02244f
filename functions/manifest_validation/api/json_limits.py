"""JSON from strangers, with bounded work: the one parser both HTTP doors use for request bodies.

`json.loads` alone is not safe on hostile input: it recurses (in C) once per nesting level and
gives up with `RecursionError` near Python's recursion limit, and an integer of more than 4,300
digits makes `int()` raise `ValueError` (and costs quadratic time below that). Here, before any
parsing, one linear pass over the text measures the nesting depth without recursion; numbers are
checked by length before they are converted; NaN and Infinity (which Python accepts but JSON does
not have) are refused, and so are strings with an unpaired UTF-16 surrogate (`"\\ud800"` is
valid JSON syntax, but not Unicode text: it cannot be encoded, hashed or sent back). Every
refusal is a `JsonRefused` whose message names the limit.
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
# Where a surrogate may enter a parsed value: an escape \\uD800-\\uDFFF (paired ones are fine),
# or, for text given as str, a surrogate code point itself. Only then is the value checked.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


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
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise JsonRefused(f"the body is not valid JSON: {error}") from error
    if has_unpaired_surrogates(text, value):
        raise JsonRefused(
            "a string holds an unpaired surrogate (\\ud800 to \\udfff): not Unicode text"
        )
    return value


def has_unpaired_surrogates(text: str, value: Any) -> bool:
    """Whether `value`, parsed from the JSON `text`, holds a string (or key) that is not Unicode
    text: an unpaired surrogate, which cannot be encoded as UTF-8."""
    return bool(_MAYBE_SURROGATE.search(text)) and not _is_unicode(value)


def _is_unicode(value: Any) -> bool:
    """Whether every string of `value` (keys too) is Unicode text, i.e. encodes as UTF-8; the
    value is at most MAX_DEPTH deep, so the recursion of json.dumps is bounded."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
