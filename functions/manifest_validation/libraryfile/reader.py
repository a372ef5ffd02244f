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


# the first characters of a line that make it anything but `Key: value` or a bad line: a
# comment, a continuation, or a field with leading (non-ASCII) whitespace
_SPECIAL_STARTS = frozenset(GO_WHITESPACE + "#")


def read_paragraphs(text: str) -> tuple[list[Paragraph], list[Problem]]:
    """Split a library file into paragraphs of fields, the way bashbrew's reader does.

    One loop over the lines, with the field being read held in locals: this is the first
    thing every check pays, for every line of every file."""
    problems: list[Problem] = []
    paragraphs: list[Paragraph] = []
    fields: dict[str, SourceField] | None = None  # those of the paragraph being read
    first_line = last_line = 0
    reading = False  # whether a field is being read: its key, value, line, ...
    key = value = ""
    line_number = 0
    continued: list[tuple[str, int]] | None = None  # ... its continuation lines, if any
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    lines.append("")  # the end of the text ends the last field and paragraph, as a blank line
    special = _SPECIAL_STARTS
    for number, line in enumerate(lines, 1):
        if not line:  # an empty line ends the paragraph
            if reading and fields is not None:
                if continued is None and key not in fields:  # (the common case, inline)
                    fields[key] = SourceField(key, value, line_number, [line_number])
                    last_line = line_number
                else:
                    last_line = _add_field(fields, key, value, line_number, continued, problems)
                reading = False
            if fields:
                paragraphs.append(Paragraph(first_line, fields, last_line))
            fields = None
            continue
        start = line[0]
        if start in special:
            # (bashbrew's comment stripper trims these before it looks for a `#`)
            if start == "#" or line.strip(GO_WHITESPACE).startswith("#"):
                continue
            if start == " " or start == "\t":  # a continuation line
                stripped = line.strip(GO_WHITESPACE)
                if not stripped:
                    problems.append(
                        problem(
                            "whitespace-only-line",
                            "this line holds only whitespace: it continues the previous field "
                            "instead of separating paragraphs",
                            line=number,
                        )
                    )
                if not reading:
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
                if continued is None:
                    continued = []
                continued.append(("" if continuation == "." else continuation, number))
                continue
        name, colon, rest = line.partition(":")
        if not colon:
            problems.append(
                problem(
                    "bad-line",
                    f"bad line {_shorten(line)!r}: expected `Field: value`",
                    line=number,
                )
            )
            continue
        if reading and fields is not None:  # a new field ends the one being read
            if continued is None and key not in fields:  # (the common case, inline)
                fields[key] = SourceField(key, value, line_number, [line_number])
                last_line = line_number
            else:
                last_line = _add_field(fields, key, value, line_number, continued, problems)
        elif fields is None:
            fields = {}
            first_line = last_line = number
        key = name.strip(GO_WHITESPACE)
        value = rest.strip(GO_WHITESPACE)
        line_number = number
        continued = None
        reading = True
    return paragraphs, problems


def _add_field(
    fields: dict[str, SourceField],
    key: str,
    value: str,
    line: int,
    continued: list[tuple[str, int]] | None,
    problems: list[Problem],
) -> int:
    """Add the field read to its paragraph's `fields`; the line its value ends on."""
    if continued is None:
        built = SourceField(key, value, line, [line])
    else:
        # go-debian appends `line + "\n"` for every continuation line, after a "\n" that ends
        # a non-empty first line: the value is its lines joined, with a final newline.
        parts = [part for part, _ in continued]
        numbers = [at for _, at in continued]
        if value:
            parts.insert(0, value)
            numbers.insert(0, line)
        built = SourceField(key, "\n".join(parts) + "\n", line, numbers)
    if key in fields:
        problems.append(
            problem(
                "repeated-field",
                f"{key} is set again in this paragraph; the earlier value is ignored",
                line=line,
                field=key,
            )
        )
        # keep the insertion order of the last occurrence, as the value it carries
        del fields[key]
    fields[key] = built
    return built.value_lines[-1]


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
