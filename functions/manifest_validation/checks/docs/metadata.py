"""A docs folder's metadata.json: parsed with lines for every value, checked against
schemas/docs-metadata.schema.json, and compared with the canonical form `metadata.sh` demands.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from ...problems.catalog import problem
from ...problems.problem import Problem
from ..schema import load_schema
from .jq import _LONE_LOW, JsonNumber, _replace_lone_low, _surrogates, canonical_metadata
from .layout import MAX_CATEGORIES, METADATA

JsonPath = tuple[str | int, ...]


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # no backtracking


_SCALAR_END = re.compile(r"[\s,\]}]")


def value_lines(text: str) -> dict[JsonPath, int]:
    """The 1-based line of every value of a *valid* JSON text, by its path (keys and indices):
    for an object member, the line of its key; for an array item, the line where it starts.

    Python's json module keeps no positions, so this is a small scanner: one pass, no recursion
    (a stack of open containers), every character looked at a bounded number of times. A
    repeated key keeps its last position, as json.loads keeps its last value.
    """
    lines: dict[JsonPath, int] = {(): 1}
    # open containers: [path, is_object, current key or index, expecting a key]
    stack: list[list[Any]] = []
    line = 1
    position = 0
    length = len(text)

    def value_path() -> JsonPath:
        if not stack:
            return ()
        path, _, current, _ = stack[-1]
        return (*path, current)

    while position < length:
        char = text[position]
        if char == "\n":
            line += 1
            position += 1
        elif char in " \t\r,:":
            if stack and char == ",":
                frame = stack[-1]
                if frame[1]:
                    frame[3] = True
                else:
                    frame[2] += 1
            position += 1
        elif char == '"':
            match = _STRING.match(text, position)
            end = match.end() if match else length
            if stack and stack[-1][1] and stack[-1][3]:
                key = _LONE_LOW.sub("\ufffd", json.loads(text[position:end]))
                stack[-1][2] = key
                stack[-1][3] = False
                lines[(*stack[-1][0], key)] = line
            elif stack and not stack[-1][1]:
                lines[(*stack[-1][0], stack[-1][2])] = line
            position = end
        elif char in "{[":
            path = value_path()
            if stack and not stack[-1][1]:
                lines[path] = line
            stack.append([path, char == "{", 0, char == "{"])
            position += 1
        elif char in "}]":
            stack.pop()
            position += 1
        else:  # a number, true, false or null
            if stack and not stack[-1][1]:
                lines[(*stack[-1][0], stack[-1][2])] = line
            found = _SCALAR_END.search(text, position)
            position = found.start() if found else length
    return lines


def field_name(path: Sequence[str | int]) -> str | None:
    """`hub.categories[3]` for ("hub", "categories", 3); None for the document itself."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


@lru_cache(maxsize=4)
def metadata_validator(categories: tuple[str, ...] | None = None) -> Draft202012Validator:
    """The schema's validator; with `categories`, those are the canonical ones instead of the
    list embedded in the schema (a docs checkout's own root metadata.json, as metadata.sh)."""
    schema = load_schema("docs-metadata.schema.json")
    if categories is not None:
        schema = copy.deepcopy(schema)
        schema["$defs"]["category"]["enum"] = list(categories)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def canonical_categories() -> list[str]:
    """The canonical categories, as embedded in the schema."""
    categories: list[str] = load_schema("docs-metadata.schema.json")["$defs"]["category"]["enum"]
    return list(categories)


class _NotJson(ValueError):
    """NaN and Infinity, which Python accepts and JSON does not."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def metadata_problems(data: bytes, categories: tuple[str, ...] | None = None) -> list[Problem]:
    """Every problem of one metadata.json (its bytes), with lines into its text (`categories`:
    the canonical ones, when not those embedded in the schema)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return [
            problem(
                "docs-invalid-encoding",
                f"{METADATA} is not valid UTF-8 (byte {error.start})",
                line=line,
                file=METADATA,
            )
        ]
    try:
        document = json.loads(
            text, parse_constant=_refuse_constant, parse_int=JsonNumber, parse_float=JsonNumber
        )
    except json.JSONDecodeError as error:
        return [
            problem(
                "docs-invalid-json",
                f"{METADATA} is not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}",
                line=error.lineno,
                file=METADATA,
            )
        ]
    except _NotJson as error:
        return [problem("docs-invalid-json", f"{METADATA}: {error}", file=METADATA)]
    except RecursionError:  # json.loads recurses per nesting level
        return [problem("docs-invalid-json", f"{METADATA} is nested too deeply", file=METADATA)]
    lone_high, lone_low = _surrogates(text)
    if lone_high is not None:
        line = text.count("\n", 0, lone_high) + 1
        column = lone_high - (text.rfind("\n", 0, lone_high) + 1) + 1
        return [
            problem(
                "docs-invalid-json",
                f"{METADATA} is not valid JSON: {text[lone_high : lone_high + 6]} is half of a "
                f"surrogate pair at line {line}, column {column}",
                line=line,
                file=METADATA,
            )
        ]
    try:
        document = _replace_lone_low(document) if lone_low else document
        return _document_problems(text, document, categories)
    except RecursionError:  # what json.loads takes, our walks may not (frames per level)
        return [problem("docs-invalid-json", f"{METADATA} is nested too deeply", file=METADATA)]


def _document_problems(
    text: str, document: Any, categories: tuple[str, ...] | None
) -> list[Problem]:
    lines = value_lines(text)
    found: list[Problem] = []
    known = list(categories) if categories is not None else canonical_categories()
    for schema_error in metadata_validator(categories).iter_errors(document):
        found.extend(_schema_problems(schema_error, lines, known))
    # metadata.sh checks the format whenever jq can compute it: whenever categories is an array
    # of strings (other shapes are schema errors already)
    if _has_categories(document):
        canonical = canonical_metadata(document)
        if canonical != text:
            found.append(_not_canonical(text, canonical))
    return found


def _has_categories(document: Any) -> bool:
    hub = document.get("hub") if isinstance(document, dict) else None
    categories = hub.get("categories") if isinstance(hub, dict) else None
    return isinstance(categories, list) and all(isinstance(c, str) for c in categories)


def _not_canonical(text: str, canonical: str) -> Problem:
    ours, theirs = text.splitlines(keepends=True), canonical.splitlines(keepends=True)
    first = next(
        (n for n, (a, b) in enumerate(zip(ours, theirs, strict=False), 1) if a != b),
        min(len(ours), len(theirs)) + 1,
    )
    return problem(
        "docs-not-canonical",
        f"{METADATA} is not in canonical form (first difference at line {first})",
        line=min(first, max(len(ours), 1)),
        file=METADATA,
        hint=f"Replace the file with exactly:\n{canonical}",
    )


def _line(lines: Mapping[JsonPath, int], path: Sequence[str | int]) -> int | None:
    """The line of `path`, or of its nearest ancestor we know."""
    key = tuple(path)
    while key not in lines and key:
        key = key[:-1]
    return lines.get(key)


def _schema_problems(
    error: ValidationError, lines: Mapping[JsonPath, int], categories: Sequence[str]
) -> Iterator[Problem]:
    path = list(error.absolute_path)
    where = field_name(path)
    line = _line(lines, path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for key in error.instance:
            if key not in known:
                yield problem(
                    "docs-unknown-key",
                    f"unknown key {key!r}" + (f" in {where}" if where else "") + " is ignored",
                    line=_line(lines, [*path, key]),
                    field=field_name([*path, key]),
                    file=METADATA,
                )
    elif error.validator == "enum" and path[:2] == ["hub", "categories"]:
        value = error.instance
        close = difflib.get_close_matches(value, categories, n=1) if isinstance(value, str) else []
        hint = f"Did you mean {close[0]}? " if close else ""
        yield problem(
            "docs-unknown-category",
            f"unknown category {value!r}",
            line=line,
            field=where,
            hint=f"{hint}Canonical categories: {', '.join(categories)}.",
            file=METADATA,
        )
    elif (
        error.validator == "maxItems"
        and path == ["hub", "categories"]
        and isinstance(error.instance, list)
    ):
        yield problem(
            "docs-too-many-categories",
            f"{len(error.instance)} categories (at most {MAX_CATEGORIES})",
            line=line,
            field=where,
            file=METADATA,
        )
    elif error.validator == "uniqueItems" and isinstance(error.instance, list):
        seen: set[str] = set()
        for index, value in enumerate(error.instance):
            marker = json.dumps(value, sort_keys=True)
            if marker in seen:
                yield problem(
                    "docs-duplicate-category",
                    f"category {value!r} is listed twice",
                    line=_line(lines, [*path, index]),
                    field=field_name([*path, index]),
                    file=METADATA,
                )
            seen.add(marker)
    else:
        yield problem(
            "docs-invalid-metadata",
            f"{where or METADATA}: {error.message}",
            line=line,
            field=where,
            file=METADATA,
        )
