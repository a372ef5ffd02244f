"""The canonical text of a metadata.json as the docs CI's jq (1.7) prints it with `--sort-keys`:
numbers from their literals (decNumber), strings escaped as jq escapes them, lone surrogates as
jq reads them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


class JsonNumber:
    """A number of metadata.json, kept as its literal: jq 1.7 (the docs CI runs the jq of
    GitHub's ubuntu-latest) prints an unchanged number from its literal, not from a double, and
    Python's int() refuses literals of more than 4,300 digits."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:  # as it appears in schema messages
        return self.literal

    def jq_text(self) -> str:
        """jq 1.7's text for this literal: decNumber's to-scientific-string (which Python's
        Decimal implements too: `1e2` is `1E+2`, `1.0` stays `1.0`, `0.0000001` is `1E-7`).
        Past decNumber's largest exponent, jq clamps a zero's exponent and prints any other
        number as +-DBL_MAX; an exponent of more than 18 digits (beyond Decimal) is printed as
        written."""
        try:
            number = Decimal(self.literal)
        except ArithmeticError:
            return self.literal
        sign = "-" if number.is_signed() else ""
        if number.is_zero():
            exponent = number.as_tuple().exponent
            if isinstance(exponent, int) and exponent > _DEC_EMAX:
                return f"{sign}0E+{_DEC_EMAX}"
        elif number.adjusted() > _DEC_EMAX:
            return f"{sign}1.7976931348623157e+308"
        return str(number)


_DEC_EMAX = 999_999_999  # decNumber's largest exponent, as jq sets its context


def _jq_dump(value: Any, indent: str, out: list[str]) -> None:
    """jq's pretty printer (`--indent 2`, as `jq --sort-keys` prints): keys sorted by code
    point, `[]` and `{}` for empty containers, strings with non-ASCII as it is."""
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        out.append("{")
        for index, key in enumerate(sorted(value)):
            out.append(("," if index else "") + "\n" + inner + _jq_string(key) + ": ")
            _jq_dump(value[key], inner, out)
        out.append("\n" + indent + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        out.append("[")
        for index, item in enumerate(value):
            out.append(("," if index else "") + "\n" + inner)
            _jq_dump(item, inner, out)
        out.append("\n" + indent + "]")
    elif isinstance(value, str):
        out.append(_jq_string(value))
    elif isinstance(value, JsonNumber):
        out.append(value.jq_text())
    else:  # true, false, null, and numbers given as Python numbers
        out.append(json.dumps(value))


def _jq_string(value: str) -> str:
    # Python escapes what jq escapes (`"`, `\\`, \b \f \n \r \t, other controls as
    # lower-case \u00XX) but DEL, and neither escapes `/` or non-ASCII
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def canonical_metadata(document: Mapping[str, Any]) -> str:
    """The text metadata.sh wants: `jq --sort-keys '.hub.categories |= unique'` plus the final
    newline (numbers as `JsonNumber` print as jq 1.7 prints their literals)."""
    hub = document["hub"]
    canonical = {**document, "hub": {**hub, "categories": sorted(set(hub["categories"]))}}
    out: list[str] = []
    _jq_dump(canonical, "", out)
    return "".join(out) + "\n"


# A backslash escape of a JSON text: a surrogate pair, a lone high surrogate (group 1: jq
# refuses the text), a lone low surrogate (group 2: jq reads U+FFFD), or any other escape.
_ESCAPE = re.compile(
    r"\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|(u[dD][89abAB][0-9a-fA-F]{2})|(u[dD][c-fC-F][0-9a-fA-F]{2})|.)",
    re.DOTALL,
)


_LONE_LOW = re.compile("[\udc00-\udfff]")


def _surrogates(text: str) -> tuple[int | None, bool]:
    """(offset of the first lone high surrogate escape or None, whether a lone low one is
    there) in a JSON text that json.loads accepted (its backslashes all open escapes)."""
    low = False
    if "\\u" not in text:
        return None, False
    for match in _ESCAPE.finditer(text):
        if match.group(1):
            return match.start(), low
        low = low or bool(match.group(2))
    return None, low


def _replace_lone_low(value: Any) -> Any:
    """U+FFFD for each lone low surrogate, in keys and strings, as jq reads them."""
    if isinstance(value, str):
        return _LONE_LOW.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_lone_low(item) for item in value]
    if isinstance(value, dict):
        return {_replace_lone_low(k): _replace_lone_low(v) for k, v in value.items()}
    return value
