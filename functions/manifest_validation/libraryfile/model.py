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

from dataclasses import dataclass, field

from ..problems.problem import Problem
from .names import BUILD_FIELDS

LIST_FIELDS = ("Maintainers", "Tags", "SharedTags", "Architectures", "Constraints")
SCALAR_FIELDS = BUILD_FIELDS
SCALAR_FIELD_SET = frozenset(SCALAR_FIELDS)
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

Value = str | list[str]

# bashbrew checks the items of every list field but Constraints, so an empty item of those
# refuses the file; an empty Constraints item it keeps (and `cat` prints it: `a, `).
KEEPS_EMPTY_ITEMS = frozenset({"Constraints"})
# The `strip:"\n\r\t "` tag of bashbrew's list fields: what is trimmed off each item.
LIST_ITEM_STRIP = "\n\r\t "


# the same few names recur in every paragraph of every file: each is split once (a memo that
# stops growing when full, so that a file of made-up names does not push the real ones out)
_ARCH_FIELD_PARTS: dict[str, tuple[str, str] | None] = {}
_ARCH_FIELD_PARTS_LIMIT = 10_000
_UNKNOWN = ("", "")  # (not in the memo)


def arch_field_parts(key: str) -> tuple[str, str] | None:
    """(architecture, field) for an architecture-specific key like `arm64v8-GitCommit`.

    bashbrew treats any key ending in `-GitRepo`, `-GitFetch`, ... as architecture-specific,
    whatever its prefix.
    """
    parts = _ARCH_FIELD_PARTS.get(key, _UNKNOWN)
    if parts is not _UNKNOWN:
        return parts
    prefix, dash, suffix = key.rpartition("-")
    parts = (prefix, suffix) if dash and suffix in _ARCH_FIELD_SUFFIX_SET else None
    if len(_ARCH_FIELD_PARTS) < _ARCH_FIELD_PARTS_LIMIT:
        _ARCH_FIELD_PARTS[key] = parts
    return parts


def is_known_field(key: str) -> bool:
    return key in KNOWN_FIELDS or arch_field_parts(key) is not None


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
    # the ARCH-* keys of `values`, sorted (given by the parser, else computed when first asked
    # for: the keys of `values` are fixed once parsed; merging only changes Tags and SharedTags)
    _arch_keys: list[str] | None = field(default=None, compare=False)

    def scalar(self, key: str) -> str:
        value = self.values.get(key, "")
        return value if isinstance(value, str) else ""

    def items(self, key: str) -> list[str]:
        value = self.values.get(key)
        return value if isinstance(value, list) else []

    # (`items` of each, spelled out: the rules read these for every entry)
    @property
    def tags(self) -> list[str]:
        value = self.values.get("Tags")
        return value if isinstance(value, list) else []

    @property
    def shared_tags(self) -> list[str]:
        value = self.values.get("SharedTags")
        return value if isinstance(value, list) else []

    @property
    def architectures(self) -> list[str]:
        value = self.values.get("Architectures")
        return value if isinstance(value, list) else []

    @property
    def constraints(self) -> list[str]:
        value = self.values.get("Constraints")
        return value if isinstance(value, list) else []

    def arch_keys(self) -> list[str]:
        if self._arch_keys is None:
            self._arch_keys = sorted(key for key in self.values if arch_field_parts(key))
        return self._arch_keys

    def arch_value(self, architecture: str, key: str) -> str:
        """The value of `key` for one architecture: `ARCH-key` wins over the plain field."""
        specific = self.values.get(f"{architecture}-{key}")
        if isinstance(specific, str) and specific:
            return specific
        return self.scalar(key)

    def key_in_effect(self, architecture: str, key: str) -> str:
        """The field that gives `key` its value for one architecture (`ARCH-key` when it is
        set, else `key`): the line a problem about that value points at."""
        specific = f"{architecture}-{key}"
        return specific if self.scalar(specific) else key

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
                    entry.arch_keys(),
                )
                by_key[key] = copy
                merged.append(copy)
                continue
            first.values["Tags"] = first.tags + entry.tags
            first.values["SharedTags"] = list(dict.fromkeys(first.shared_tags + entry.shared_tags))
        return merged
