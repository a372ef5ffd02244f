"""Library definition files, read exactly as bashbrew reads them.

The whole format in one place (see FORMAT-NOTES in the design docs for how each point was checked
against bashbrew itself):

* Only `\\n` ends a line; one `\\r` before it is dropped. A line whose first non-blank character is
  `#` is removed before anything else, also inside a continuation.
* Only an empty line separates paragraphs. A line that starts with a space or a tab continues the
  previous field: its first character is removed, trailing whitespace trimmed, and a lone `.` means
  an empty line. A line of only whitespace is therefore a continuation too (and silently glues two
  paragraphs together). A continuation with no field before it in its paragraph is dropped. Any
  other line must contain `:`.
* A value is built the way pault.ag/go/debian's control reader builds it: the text after `Key:`
  trimmed, then every continuation line appended *with a newline after it* (and one before it
  when the value so far is not empty and does not end in one). So `GitCommit: <id>` followed by a
  whitespace-only line is `<id>\n\n`, and `GitCommit:` with the id on the next line is `<id>\n`:
  scalar fields keep these newlines (and fail their patterns), list fields trim them away.
* `Key: value`: key and first-line value trimmed (Go's `strings.TrimSpace`); keys are
  case-sensitive; unknown keys are ignored; a key repeated in one paragraph keeps its last value.
* The first paragraph is the global entry; every later paragraph is an entry that starts from a
  copy of the global one. Scalars, `ARCH-*` fields, SharedTags and Architectures are replaced by
  the entry's own value; Maintainers and Constraints are appended to the global ones.
* Lists split on `,`, each item trimmed. Architectures are de-duplicated and sorted, SharedTags
  de-duplicated keeping order; an entry's Directory (and `ARCH-Directory`) is cleaned like Go's
  `path.Clean`, the global Directory is kept as written.
* Entries with the same build artifacts are merged into the first of them (tags concatenated).

Everything bashbrew does silently is reported here as a warning, everything it refuses as an error;
this module never raises on bad input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from .architectures import SUPPORTED_ARCHITECTURES
from .catalog import problem
from .problems import Problem

LIST_FIELDS = ("Maintainers", "Tags", "SharedTags", "Architectures", "Constraints")
SCALAR_FIELDS = ("GitRepo", "GitFetch", "GitCommit", "Directory", "File", "Builder")
ARCH_FIELD_SUFFIXES = SCALAR_FIELDS
_ARCH_FIELD_SUFFIX_SET = frozenset(ARCH_FIELD_SUFFIXES)
KNOWN_FIELDS = LIST_FIELDS + SCALAR_FIELDS
# bashbrew appends these two to the global paragraph's list; every other field is replaced.
APPENDED_LIST_FIELDS = frozenset({"Maintainers", "Constraints"})
# Empty values of these fields silently mean the default.
DEFAULTED_WHEN_EMPTY = frozenset({"Directory", "File", "Builder"})

DEFAULTS: dict[str, str | list[str]] = {
    "GitFetch": "refs/heads/master",
    "Directory": ".",
    "File": "Dockerfile",
    "Architectures": ["amd64"],
}
# Order of `bashbrew cat`: these, then ARCH-* fields sorted by key, then Constraints.
CAT_ORDER = ("Maintainers", "Tags", "SharedTags", "Architectures", *SCALAR_FIELDS)

Value = str | list[str]

# Go's `unicode.IsSpace`, which `strings.TrimSpace` and `TrimRightFunc(..., unicode.IsSpace)` use.
# Not Python's `str.isspace` (that one also counts the separators U+001C..U+001F).
GO_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
# bashbrew checks the items of every list field but Constraints, so an empty item of those
# refuses the file; an empty Constraints item it keeps (and `cat` prints it: `a, `).
KEEPS_EMPTY_ITEMS = frozenset({"Constraints"})
# The `strip:"\n\r\t "` tag of bashbrew's list fields: what is trimmed off each item.
LIST_ITEM_STRIP = "\n\r\t "


def arch_field_parts(key: str) -> tuple[str, str] | None:
    """(architecture, field) for an architecture-specific key like `arm64v8-GitCommit`.

    bashbrew treats any key ending in `-GitRepo`, `-GitFetch`, ... as architecture-specific,
    whatever its prefix.
    """
    prefix, dash, suffix = key.rpartition("-")
    if dash and suffix in _ARCH_FIELD_SUFFIX_SET:
        return prefix, suffix
    return None


def is_known_field(key: str) -> bool:
    return key in KNOWN_FIELDS or arch_field_parts(key) is not None


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


# --------------------------------------------------------------------------------------------
# Lines and paragraphs
# --------------------------------------------------------------------------------------------


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


def _some(items: list[str], shown: int = 3) -> str:
    """The first few items for a message (a message never grows with a hostile list)."""
    text = ", ".join(_shorten(item) for item in items[:shown])
    return text if len(items) <= shown else f"{text} and {len(items) - shown} more"


# --------------------------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Entry:
    """The effective values of one paragraph after inheritance (the global entry has number 0).

    `values` is the JSON form validated by the schema: lists for list fields, strings for scalars
    and `ARCH-*` fields. `lines` says where each value was written (which may be the global
    paragraph), `item_lines` the same for each list item.
    """

    number: int
    first_line: int
    last_line: int
    values: dict[str, Value]
    lines: dict[str, int]
    item_lines: dict[str, list[int]]
    own_keys: frozenset[str]
    _arch_keys: list[str] | None = None  # the ARCH-* keys of `values`, sorted, once known

    def __post_init__(self) -> None:
        # the keys of `values` are fixed once parsed (merging only changes Tags and SharedTags)
        self._arch_keys = sorted(key for key in self.values if arch_field_parts(key) is not None)

    def scalar(self, key: str) -> str:
        value = self.values.get(key, "")
        return value if isinstance(value, str) else ""

    def items(self, key: str) -> list[str]:
        value = self.values.get(key)
        return value if isinstance(value, list) else []

    @property
    def tags(self) -> list[str]:
        return self.items("Tags")

    @property
    def shared_tags(self) -> list[str]:
        return self.items("SharedTags")

    @property
    def architectures(self) -> list[str]:
        return self.items("Architectures")

    @property
    def constraints(self) -> list[str]:
        return self.items("Constraints")

    def arch_keys(self) -> list[str]:
        return self._arch_keys or []

    def arch_value(self, architecture: str, key: str) -> str:
        """The value of `key` for one architecture: `ARCH-key` wins over the plain field."""
        specific = self.values.get(f"{architecture}-{key}")
        if isinstance(specific, str) and specific:
            return specific
        return self.scalar(key)

    def line_of(self, key: str, item: int | None = None) -> int:
        if item is not None and key in self.item_lines:
            lines = self.item_lines[key]
            if 0 <= item < len(lines):
                return lines[item]
        return self.lines.get(key, self.first_line)

    def item_line(self, key: str, value: str) -> int:
        """The line of the first item equal to `value` of list field `key`."""
        items = self.items(key)
        return self.line_of(key, items.index(value) if value in items else None)

    def build_key(self) -> tuple[object, ...]:
        """Equal for entries whose build artifacts are identical (bashbrew merges them)."""
        return (
            tuple(self.architectures),
            self.scalar("GitRepo"),
            self.scalar("GitFetch"),
            self.scalar("GitCommit"),
            self.scalar("Directory"),
            self.scalar("File"),
            self.scalar("Builder"),
            ", ".join(self.constraints),
            tuple((key, self.scalar(key)) for key in self.arch_keys() if self.scalar(key)),
        )


@dataclass(slots=True)
class Manifest:
    name: str
    global_entry: Entry
    entries: list[Entry]
    problems: list[Problem]
    line_count: int = 0  # lines of the file (`\n`-separated)

    def uses_global(self, line: int | None, key: str | None) -> bool:
        """False for a problem about a global value (its line is in the global paragraph)
        that every entry overrides: bashbrew never looks at such a value."""
        first, last = self.global_entry.first_line, self.global_entry.last_line
        if line is None or key is None or not first <= line <= last:
            return True
        return any(key not in entry.own_keys for entry in self.entries)

    def value_at(self, line: int | None, key: str | None) -> str | None:
        """The scalar value of `key` written on `line` (global paragraph or an entry)."""
        if line is None or key is None:
            return None
        for entry in (self.global_entry, *self.entries):
            if entry.lines.get(key) == line:
                return entry.scalar(key)
        return None

    def merged_entries(self) -> list[Entry]:
        """Entries with identical build artifacts merged into the first, as bashbrew does."""
        merged: list[Entry] = []
        by_key: dict[tuple[object, ...], Entry] = {}
        for entry in self.entries:
            key = entry.build_key()
            first = by_key.get(key)
            if first is None:
                copy = Entry(
                    entry.number,
                    entry.first_line,
                    entry.last_line,
                    dict(entry.values),
                    entry.lines,
                    entry.item_lines,
                    entry.own_keys,
                )
                by_key[key] = copy
                merged.append(copy)
                continue
            first.values["Tags"] = first.tags + entry.tags
            first.values["SharedTags"] = list(dict.fromkeys(first.shared_tags + entry.shared_tags))
        return merged


def _split_list(source: SourceField, problems: list[Problem]) -> tuple[list[str], list[int]]:
    """bashbrew's list fields: the value split on `,`, each item trimmed of `\n\r\t `.

    One pass over the value (a hostile list of 40,000 continued lines stays linear): each item's
    line is found by counting the newlines of the items before it, never from the start.
    """
    value = source.value
    if "\n" not in value and ",," not in value:  # the common case: one line
        items = [item.strip(LIST_ITEM_STRIP) for item in value.split(",")]
        if all(items):
            return items, [source.line] * len(items)
    items = []
    lines: list[int] = []
    value_lines = source.value_lines
    last = len(value_lines) - 1
    newlines_before = 0  # newlines of the value before the current item
    for raw in value.split(","):
        left = raw.lstrip(LIST_ITEM_STRIP)
        item = left.rstrip(LIST_ITEM_STRIP)
        lead = len(raw) - len(left)
        line = value_lines[min(newlines_before + raw.count("\n", 0, lead), last)]
        newlines_before += raw.count("\n")
        if not item:
            problems.append(
                problem(
                    "empty-list-item",
                    f"{source.key} has an empty item"
                    + ("" if value else " (the field has no value)"),
                    line=line,
                    field=source.key,
                )
            )
            if source.key not in KEEPS_EMPTY_ITEMS:
                continue
        items.append(item)
        lines.append(line)
    return items, lines


def _dedupe(
    key: str, items: list[str], lines: list[int], problems: list[Problem], sort: bool
) -> tuple[list[str], list[int]]:
    seen: dict[str, int] = {}
    for item, line in zip(items, lines, strict=True):
        if item in seen:
            problems.append(
                problem(
                    "duplicate-item",
                    f"{key} lists {item!r} more than once; the repetition is ignored",
                    line=line,
                    field=key,
                )
            )
            continue
        seen[item] = line
    pairs = sorted(seen.items()) if sort else list(seen.items())
    return [item for item, _ in pairs], [line for _, line in pairs]


def _suggest(key: str) -> str | None:
    for known in KNOWN_FIELDS:
        if key.lower() == known.lower():
            return known
    prefix, dash, suffix = key.rpartition("-")
    if dash and prefix:
        guess = _close(suffix, ARCH_FIELD_SUFFIXES)
        if guess:
            return f"{prefix}-{guess}"
    return _close(key, KNOWN_FIELDS)


def _close(word: str, candidates: Iterable[str]) -> str | None:
    lowered = {candidate.lower(): candidate for candidate in candidates}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.7)
    return lowered[found[0]] if found else None


# Suggestions ("did you mean Tags?") cost a fuzzy match each; a file of thousands of unknown
# fields gets them for the first ones only (only the first problems are reported anyway), and
# keys longer than any field name could be a misspelling of get none.
MAX_SUGGESTIONS = 200
MAX_SUGGESTED_KEY = 40


def _check_keys(paragraph: Paragraph, problems: list[Problem], suggestions: list[int]) -> None:
    for key, source in paragraph.fields.items():
        if is_known_field(key):
            if not source.value and key in DEFAULTED_WHEN_EMPTY:
                problems.append(
                    problem(
                        "empty-value",
                        f"{key} is empty; the default applies",
                        line=source.line,
                        field=key,
                    )
                )
            continue
        suggestion = None
        if suggestions[0] < MAX_SUGGESTIONS and len(key) <= MAX_SUGGESTED_KEY:
            suggestions[0] += 1
            suggestion = _suggest(key)
        problems.append(
            problem(
                "unknown-field",
                f"unknown field {key!r} is ignored"
                + (f"; did you mean {suggestion}?" if suggestion else ""),
                line=source.line,
                field=key,
                hint=f"Rename it to {suggestion}." if suggestion else None,
            )
        )


def _global_entry(paragraph: Paragraph, problems: list[Problem]) -> Entry:
    values: dict[str, Value] = {
        key: list(value) if isinstance(value, list) else value for key, value in DEFAULTS.items()
    }
    lines: dict[str, int] = {}
    item_lines: dict[str, list[int]] = {"Architectures": [paragraph.first_line]}
    _apply(paragraph, values, lines, item_lines, problems, inherit_lists=False, clean=False)
    return Entry(
        0,
        paragraph.first_line,
        paragraph.last_line,
        values,
        lines,
        item_lines,
        frozenset(paragraph.fields),
    )


def _entry(number: int, paragraph: Paragraph, base: Entry, problems: list[Problem]) -> Entry:
    # Inherited lists are shared with the global entry, not copied: nothing mutates a parsed
    # list in place, and copying a long global list into every entry would make the work grow
    # with entries x items instead of with the size of the file.
    values = {key: value for key, value in base.values.items() if key != "Tags"}
    lines = {key: line for key, line in base.lines.items() if key != "Tags"}
    item_lines = {key: value for key, value in base.item_lines.items() if key != "Tags"}
    _apply(paragraph, values, lines, item_lines, problems, inherit_lists=True, clean=True)
    return Entry(
        number,
        paragraph.first_line,
        paragraph.last_line,
        values,
        lines,
        item_lines,
        frozenset(paragraph.fields),
    )


def _apply(
    paragraph: Paragraph,
    values: dict[str, Value],
    lines: dict[str, int],
    item_lines: dict[str, list[int]],
    problems: list[Problem],
    *,
    inherit_lists: bool,
    clean: bool,
) -> None:
    for key, source in paragraph.fields.items():
        if key in LIST_FIELDS:
            items, positions = _split_list(source, problems)
            if key == "Architectures":
                items, positions = _dedupe(key, items, positions, problems, sort=True)
            elif key == "SharedTags":
                items, positions = _dedupe(key, items, positions, problems, sort=False)
            if inherit_lists and key in APPENDED_LIST_FIELDS:
                inherited = values.get(key)
                if isinstance(inherited, list) and inherited:
                    problems.append(
                        problem(
                            "list-appended-to-global",
                            f"this entry's {key} are added to the global {key} "
                            f"({_some(inherited)}), not used instead of them",
                            line=source.line,
                            field=key,
                        )
                    )
                    items = inherited + items
                    positions = item_lines.get(key, []) + positions
            values[key] = items
            item_lines[key] = positions
            lines[key] = source.line
        elif is_known_field(key):
            values[key] = source.value
            lines[key] = source.line
    if clean:
        # an entry's Directory values, its own or inherited, are cleaned (path.Clean is
        # idempotent); the global paragraph keeps its Directory as written
        for key, value in values.items():
            if isinstance(value, str) and (key == "Directory" or key.endswith("-Directory")):
                values[key] = go_path_clean(value)


def parse(name: str, data: bytes | str) -> Manifest:
    """Parse one library file. Never raises on bad input: problems are in `Manifest.problems`."""
    problems: list[Problem] = []
    if isinstance(data, bytes):
        text, problems = decode(data)
        if text is None:
            return _empty(name, problems)
    else:
        text = data
    if text.startswith("\ufeff"):
        # kept, as bashbrew keeps it: the first key then carries it and is unknown
        problems.append(
            problem("byte-order-mark", "the file starts with a UTF-8 byte order mark", line=1)
        )
    paragraphs, read_problems = read_paragraphs(text)
    problems.extend(read_problems)
    if not paragraphs:
        problems.append(
            problem("empty-manifest", "the file has no fields (empty or only comments)", line=None)
        )
        return _empty(name, problems)
    suggestions = [0]  # how many fuzzy matches this file has had
    for paragraph in paragraphs:
        _check_keys(paragraph, problems, suggestions)
    global_entry = _global_entry(paragraphs[0], problems)
    entries = [
        _entry(number, paragraph, global_entry, problems)
        for number, paragraph in enumerate(paragraphs[1:], start=1)
    ]
    return Manifest(name, global_entry, entries, problems, text.count("\n") + 1)


def _empty(name: str, problems: list[Problem]) -> Manifest:
    empty = Entry(0, 1, 1, {}, {}, {}, frozenset())
    return Manifest(name, empty, [], problems)


# --------------------------------------------------------------------------------------------
# Canonical text (`bashbrew cat`)
# --------------------------------------------------------------------------------------------


def _render_value(value: Value) -> str:
    return ", ".join(value) if isinstance(value, list) else value


def _paragraph_lines(entry: Entry, base: dict[str, Value]) -> Iterator[str]:
    """The fields of `entry` whose value differs from `base`, in bashbrew's order."""

    def differs(key: str) -> str | None:
        text = _render_value(entry.values.get(key, ""))
        if text and text != _render_value(base.get(key, "")):
            return text
        return None

    for key in (*CAT_ORDER, *entry.arch_keys(), "Constraints"):
        text = differs(key)
        if text is not None:
            yield f"{key}: {text}"


def canonical_text(manifest: Manifest) -> str:
    """The text `bashbrew cat` prints for a valid manifest (without a final newline)."""
    paragraphs = ["\n".join(_paragraph_lines(manifest.global_entry, DEFAULTS))]
    for entry in manifest.merged_entries():
        paragraphs.append("\n".join(_paragraph_lines(entry, manifest.global_entry.values)))
    return "\n\n".join(paragraphs)


__all__ = [
    "KNOWN_FIELDS",
    "LIST_FIELDS",
    "SCALAR_FIELDS",
    "SUPPORTED_ARCHITECTURES",
    "Entry",
    "Manifest",
    "Paragraph",
    "SourceField",
    "arch_field_parts",
    "canonical_text",
    "go_path_clean",
    "parse",
    "read_paragraphs",
]
