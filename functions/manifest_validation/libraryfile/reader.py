"""Lines and paragraphs of a library file, as bashbrew's RFC 2822 reader (pault.ag/go/debian's
control reader) makes them: the first of the format's three steps (reader -> parse -> model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..problems.catalog import problem
from ..problems.problem import Problem

# Go's `unicode.IsSpace`, which `strings.TrimSpace` and `TrimRightFunc(..., unicode.IsSpace)` use.
# Not Python's `str.isspace` (that one also counts the separators U+001C..U+001F).
GO_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


@lru_cache(maxsize=4096)
def go_path_clean(path: str) -> str:
    """Go's `path.Clean`: the shortest equivalent slash-separated path."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


@dataclass(slots=True)
class SourceField:
    """One `Key: value` as bashbrew sees it, with the file line of every line of its value.

    `value` is the value exactly as bashbrew's reader builds it (continuation newlines included);
    `value_lines[i]` is the file line that holds line `i` of `value`.
    """

    key: str
    value: str
    line: int
    value_lines: list[int]

    @property
    def last_line(self) -> int:
        return self.value_lines[-1] if self.value_lines else self.line


@dataclass(slots=True)
class Paragraph:
    first_line: int
    fields: dict[str, SourceField] = field(default_factory=dict)  # last occurrence wins
    last_line: int = 0


class _FieldBuilder:
    """Collects a field's first line and its continuation lines."""

    __slots__ = ("continuations", "first", "key", "line", "lines")

    def __init__(self, key: str, value: str, line: int) -> None:
        self.key = key
        self.line = line
        self.first = value
        self.continuations: list[str] = []
        self.lines: list[int] = []

    def build(self) -> SourceField:
        if not self.continuations:
            return SourceField(self.key, self.first, self.line, [self.line])
        # go-debian appends `line + "\n"` for every continuation line, after a "\n" that ends
        # a non-empty first line: the value is its lines joined, with a final newline.
        parts = [self.first, *self.continuations] if self.first else self.continuations
        lines = [self.line, *self.lines] if self.first else self.lines
        return SourceField(self.key, "\n".join(parts) + "\n", self.line, lines)


def decode(data: bytes) -> tuple[str | None, list[Problem]]:
    """The text of a library file, or None with the reason it cannot be read."""
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return None, [problem("binary-content", "the file contains NUL bytes", line=line)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return None, [
            problem(
                "invalid-encoding",
                f"invalid UTF-8 byte 0x{data[error.start]:02x} at byte offset {error.start}",
                line=line,
            )
        ]
    return text, []


def read_paragraphs(text: str) -> tuple[list[Paragraph], list[Problem]]:
    """Split a library file into paragraphs of fields, the way bashbrew's reader does."""
    problems: list[Problem] = []
    paragraphs: list[Paragraph] = []
    current: Paragraph | None = None
    builder: _FieldBuilder | None = None
    seen_keys: set[str] = set()

    def finish_field() -> None:
        nonlocal builder
        if builder is not None and current is not None:
            built = builder.build()
            if built.key in seen_keys:
                problems.append(
                    problem(
                        "repeated-field",
                        f"{built.key} is set again in this paragraph; the earlier value is ignored",
                        line=built.line,
                        field=built.key,
                    )
                )
                # keep the insertion order of the last occurrence, as the value it carries
                del current.fields[built.key]
            seen_keys.add(built.key)
            current.fields[built.key] = built
            current.last_line = built.last_line
        builder = None

    def finish_paragraph() -> None:
        nonlocal current
        finish_field()
        if current is not None and current.fields:
            paragraphs.append(current)
        current = None
        seen_keys.clear()

    for number, line in enumerate(text.split("\n"), start=1):
        if line.endswith("\r"):
            line = line[:-1]
        stripped = line.strip(GO_WHITESPACE)  # (bashbrew's comment stripper trims these)
        if stripped.startswith("#"):
            continue
        if not line:
            finish_paragraph()
            continue
        if line[0] in " \t":
            if not stripped:
                problems.append(
                    problem(
                        "whitespace-only-line",
                        "this line holds only whitespace: it continues the previous field "
                        "instead of separating paragraphs",
                        line=number,
                    )
                )
            if builder is None:
                if stripped:
                    problems.append(
                        problem(
                            "orphan-continuation",
                            "indented line with no field before it; bashbrew drops it",
                            line=number,
                        )
                    )
                continue
            continuation = line[1:].rstrip(GO_WHITESPACE)
            if continuation == ".":
                continuation = ""
            builder.continuations.append(continuation)
            builder.lines.append(number)
            continue
        key, colon, value = line.partition(":")
        if not colon:
            problems.append(
                problem(
                    "bad-line",
                    f"bad line {_shorten(line)!r}: expected `Field: value`",
                    line=number,
                )
            )
            continue
        finish_field()
        if current is None:
            current = Paragraph(first_line=number, last_line=number)
        builder = _FieldBuilder(key.strip(GO_WHITESPACE), value.strip(GO_WHITESPACE), number)
    finish_paragraph()
    return paragraphs, problems


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
