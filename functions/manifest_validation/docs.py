"""Docs folders: an image's folder in docker-library/docs (`<image>/metadata.json`,
`README-short.txt`, `content.md`, `github-repo`, `license.md`, `maintainer.md`, optionally
`logo.png`/`logo.svg`), checked as that repository's CI checks it, with every problem at once.

What the docs CI does, and what we do the same or stricter:
- metadata.sh: metadata.json must exist and equal `jq --sort-keys '.hub.categories |= unique'`
  (2-space indent, final newline); at most 3 categories, each in the root metadata.json. We check
  the shape with `schemas/docs-metadata.schema.json` and report a formatting difference as a
  warning whose hint is the exact canonical text, as the docs CI's jq (1.7) prints it: numbers
  from their literals, lone surrogate escapes refused (high) or read as U+FFFD (low). Unknown
  keys: the schema refuses them, we report them as warnings (`docs-unknown-key`): the docs CI
  keeps and ignores them.
- check-required-files.sh: content.md, github-repo, license.md, maintainer.md non-empty for every
  image but `scratch`. We also require README-short.txt (the Docker Hub description), and count a
  whitespace-only file as empty.
- check-short.sh: README-short.txt at most 100 characters and one line. The CI counts newline
  characters (`wc -l`), so `a<LF>b` without a final newline slips through; we count lines.

`validate_docs` is pure (files in, result out). The filesystem helpers at the end serve the CLI
and the batch run.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, ValidationError

from .catalog import problem
from .problems import BySeverity, Problem
from .rules import IMAGE_NAME
from .schema import load_schema
from .validate import Status, capped, status_of

METADATA = "metadata.json"
SHORT_DESCRIPTION = "README-short.txt"
GITHUB_REPO = "github-repo"
REQUIRED_FOR_EVERY_IMAGE = (METADATA, SHORT_DESCRIPTION)
# check-required-files.sh: every image folder but scratch (which has no source, license, ...)
REQUIRED_UNLESS_EXEMPT = ("content.md", GITHUB_REPO, "license.md", "maintainer.md")
EXEMPT_IMAGES = frozenset({"scratch"})
LOGOS = ("logo.png", "logo.svg")
# The files we read: the rest of a docs folder (README.md, tag-details.md, variant-*.md, ...)
# is generated or free-form and not checked.
CHECKED_FILES = (*REQUIRED_FOR_EVERY_IMAGE, *REQUIRED_UNLESS_EXEMPT, *LOGOS)
TEXT_FILES = (*REQUIRED_FOR_EVERY_IMAGE, *REQUIRED_UNLESS_EXEMPT)
MAX_SHORT_DESCRIPTION = 100
MAX_CATEGORIES = 3  # also in the schema (maxItems)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

JsonPath = tuple[str | int, ...]


@dataclass(slots=True)
class DocsResult(BySeverity):
    """The result of checking one image's docs folder (`manifest` is the image name, as for a
    library file, so that results of both kinds read alike)."""

    kind: ClassVar[str] = "docs"
    manifest: str
    source: str
    status: Status
    problems: list[Problem]
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)


def folder_digest_input(files: Mapping[str, bytes]) -> bytes:
    """What a docs result's `origin.sha256` is the digest of: one line `NAME NUL SHA256` per
    checked file, sorted by name (so the same files give the same result id)."""
    lines = [
        f"{name}\0{hashlib.sha256(files[name]).hexdigest()}\n"
        for name in sorted(files)
        if name in CHECKED_FILES
    ]
    return "".join(lines).encode("utf-8")


# --- where values are in the JSON text ------------------------------------------------------------

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


# --- metadata.json --------------------------------------------------------------------------------


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


# --- the other files ----------------------------------------------------------------------------


def _text(name: str, data: bytes) -> tuple[str | None, list[Problem]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = f"{name} is not valid UTF-8 (byte {error.start})"
        return None, [problem("docs-invalid-encoding", message, line=line, file=name)]


def short_description_problems(text: str) -> list[Problem]:
    found = []
    # check-short.sh counts the characters of `$(cat FILE)`: trailing newlines do not count
    description = text.rstrip("\n")
    if len(description) > MAX_SHORT_DESCRIPTION:
        found.append(
            problem(
                "docs-short-description-too-long",
                f"{SHORT_DESCRIPTION} has {len(description)} characters "
                f"(at most {MAX_SHORT_DESCRIPTION})",
                line=1,
                file=SHORT_DESCRIPTION,
            )
        )
    body = text[:-1] if text.endswith("\n") else text
    if "\n" in body:
        found.append(
            problem(
                "docs-short-description-lines",
                f"{SHORT_DESCRIPTION} has {body.count(chr(10)) + 1} lines (it must be one)",
                line=2,
                file=SHORT_DESCRIPTION,
            )
        )
    return found


def github_repo_problems(text: str) -> list[Problem]:
    value = text.strip()
    parts = urlsplit(value) if value and not any(c.isspace() for c in value) else None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        shown = value if len(value) <= 80 else value[:77] + "..."
        return [
            problem(
                "docs-invalid-github-repo",
                f"{GITHUB_REPO} {shown!r} is not one https:// URL",
                line=1,
                file=GITHUB_REPO,
            )
        ]
    return []


def logo_problems(name: str, data: bytes) -> list[Problem]:
    valid = data.startswith(PNG_SIGNATURE) if name == "logo.png" else b"<svg" in data[:4096]
    if valid:
        return []
    kind = "a PNG image" if name == "logo.png" else "an SVG document"
    return [problem("docs-invalid-logo", f"{name} is not {kind}", file=name)]


def validate_docs(
    name: str,
    files: Mapping[str, bytes],
    *,
    source: str | None = None,
    categories: tuple[str, ...] | None = None,
) -> DocsResult:
    """Check the docs folder of image `name`, given its files (name -> bytes; files other than
    those we check are ignored), and report every problem (`categories`: the canonical ones,
    when not those embedded in the schema)."""
    found: list[Problem] = []
    if len(name) > 255 or not IMAGE_NAME.fullmatch(name):
        found.append(
            problem(
                "invalid-image-name",
                f"docs folder {name[:80]!r} is not a valid image name",
                hint="Name the folder as the image, e.g. `my-image`.",
            )
        )
    required: tuple[str, ...] = REQUIRED_FOR_EVERY_IMAGE
    if name not in EXEMPT_IMAGES:
        required += REQUIRED_UNLESS_EXEMPT
    for file in TEXT_FILES:
        data = files.get(file)
        if data is None:
            if file in required:
                found.append(
                    problem("docs-missing-file", f"{file} is missing", field=file, file=file)
                )
            continue
        if not data.strip():
            if file in required:
                what = "empty" if not data else "only whitespace"
                found.append(problem("docs-empty-file", f"{file} is {what}", file=file))
            continue
        if file == METADATA:
            found.extend(metadata_problems(data, categories))
            continue
        text, encoding = _text(file, data)
        found.extend(encoding)
        if text is None:
            continue
        if file == SHORT_DESCRIPTION:
            found.extend(short_description_problems(text))
        elif file == GITHUB_REPO:
            found.extend(github_repo_problems(text))
    for logo in LOGOS:
        if logo in files:
            found.extend(logo_problems(logo, files[logo]))
    # at most MAX_PROBLEMS, as for a manifest (a metadata.json of 50,000 unknown categories
    # would otherwise answer megabytes), in the folder's order
    ordered = _ordered(capped(_ordered(found)))
    return DocsResult(name, source or name, status_of(ordered), ordered, dict(files))


def _ordered(problems: list[Problem]) -> list[Problem]:
    """File by file (in CHECKED_FILES order; folder-wide problems first), then as in a file."""
    rank = {name: index for index, name in enumerate(CHECKED_FILES, 1)}
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (rank.get(p.file or "", 0), *p.sort_key()))


def cross_check(
    library_names: Collection[str],
    docs: Sequence[DocsResult],
    *,
    docs_root: str | None = None,
) -> list[DocsResult]:
    """Both repositories at once: each docs folder without a library file gets
    `missing-library-file` (scratch is exempt: it is built into Docker, not from a library
    file), and each library file without a docs folder gets a docs result of its own with
    `missing-docs-folder` (its source is where the folder should be, under `docs_root`)."""
    documented = {result.manifest for result in docs}
    libraries = set(library_names)
    checked = []
    for result in docs:
        if result.manifest in libraries or result.manifest in EXEMPT_IMAGES:
            checked.append(result)
            continue
        extra = problem(
            "missing-library-file",
            f"docs folder {result.manifest!r} has no library file (library/{result.manifest})",
        )
        problems = _ordered([extra, *result.problems])
        checked.append(
            DocsResult(result.manifest, result.source, status_of(problems), problems, result.files)
        )
    for name in sorted(libraries - documented):
        missing = [
            problem(
                "missing-docs-folder",
                f"library/{name} has no docs folder {name}/",
            )
        ]
        source = f"{docs_root.rstrip('/')}/{name}" if docs_root else name
        checked.append(DocsResult(name, source, Status.INVALID, missing))
    return checked


def validate_folders(
    folders: Sequence[tuple[str, Mapping[str, bytes], str | None]],
    *,
    library_names: Collection[str] | None = None,
    docs_root: str | None = None,
    categories: tuple[str, ...] | None = None,
) -> list[DocsResult]:
    """Check (name, files, source) docs folders; with `library_names` (when library files were
    given too), also cross-check the two repositories."""
    results = [
        validate_docs(name, files, source=source, categories=categories)
        for name, files, source in folders
    ]
    if library_names is not None:
        results = cross_check(library_names, results, docs_root=docs_root)
    return results


# --- reading docs folders from disk (the CLI and the batch run) -----------------------------------

MAX_DOCS_FILE_BYTES = 4 * 1024 * 1024


class UnreadableDocs(Exception):
    pass


def is_docs_checkout(path: Path) -> bool:
    """A docker-library/docs checkout (or a directory of docs folders): a non-hidden
    subdirectory has a metadata.json. (Its root has a metadata.json of its own, the canonical
    categories, so that file alone does not make a directory one image's folder.)"""
    try:
        children = list(path.iterdir())
    except OSError:
        return False
    return any(
        not _hidden(child) and (child / METADATA).is_file() for child in children if child.is_dir()
    )


def checkout_categories(root: Path) -> tuple[str, ...] | None:
    """The canonical categories of a docs checkout: its root metadata.json's `hub.categories`
    (what metadata.sh checks the images' against), or None when it has none we can read (the
    list embedded in the schema applies then, as for one image's folder)."""
    if not is_docs_checkout(root):
        return None
    try:
        with (root / METADATA).open("rb") as handle:
            document = json.loads(handle.read(MAX_DOCS_FILE_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    if not _has_categories(document) or not document["hub"]["categories"]:
        return None
    return tuple(dict.fromkeys(document["hub"]["categories"]))


def is_docs_folder(path: Path) -> bool:
    """What `check` takes for one image's docs folder among its PATHs: a directory with a
    metadata.json or a README-short.txt (the files every image has; neither is the name of a
    library file), and no docs folders inside (cli.py's `_docs_kind` is the same rule)."""
    return (
        path.is_dir()
        and ((path / METADATA).is_file() or (path / SHORT_DESCRIPTION).is_file())
        and not is_docs_checkout(path)
    )


def docs_folders(root: Path) -> list[Path]:
    """The image folders of a docs checkout: every non-hidden subdirectory (as the docs CI's
    `*/`), or `root` itself when it is one image's folder."""
    if is_docs_folder(root):
        return [root]
    if not root.is_dir():
        raise UnreadableDocs(f"{root}: not a directory")
    return sorted(child for child in root.iterdir() if child.is_dir() and not _hidden(child))


def _hidden(path: Path) -> bool:
    return path.name.startswith(".")


def read_docs_folder(folder: Path) -> dict[str, bytes]:
    """The checked files of one folder that exist (missing ones are the checks' business)."""
    files = {}
    for name in CHECKED_FILES:
        path = folder / name
        if not path.exists():
            continue
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_DOCS_FILE_BYTES + 1)
        except OSError as error:
            raise UnreadableDocs(f"{path}: {error.strerror or error}") from error
        if len(data) > MAX_DOCS_FILE_BYTES:
            raise UnreadableDocs(f"{path}: larger than {MAX_DOCS_FILE_BYTES} bytes")
        files[name] = data
    return files
