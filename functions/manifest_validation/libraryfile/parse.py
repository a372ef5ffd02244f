"""From paragraphs to a Manifest: values, lists, inheritance from the global entry, unknown and
repeated fields, exactly as bashbrew does it (see model.py for the whole format).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..problems.catalog import problem
from ..problems.problem import Problem
from .model import (
    APPENDED_LIST_FIELDS,
    ARCH_FIELD_SUFFIXES,
    DEFAULTED_WHEN_EMPTY,
    DEFAULTS,
    KEEPS_EMPTY_ITEMS,
    KNOWN_FIELDS,
    LIST_FIELDS,
    LIST_ITEM_STRIP,
    SCALAR_FIELD_SET,
    Entry,
    Manifest,
    Value,
    arch_field_parts,
)
from .reader import Paragraph, SourceField, _shorten, decode, go_path_clean, read_paragraphs


def _some(items: list[str], shown: int = 3) -> str:
    """The first few items for a message (a message never grows with a hostile list)."""
    text = ", ".join(_shorten(item) for item in items[:shown])
    return text if len(items) <= shown else f"{text} and {len(items) - shown} more"


# What a field name is: a list field, a scalar field, an `ARCH-*` field, or unknown. Names
# repeat in every paragraph of every file: each is classified once (a bounded memo, which
# stops growing when full: a file of thousands of made-up names must not make every name of
# the next files a miss).
_LIST, _SCALAR, _ARCH, _UNKNOWN = 1, 2, 3, 4
_LIST_FIELD_SET = frozenset(LIST_FIELDS)
_KINDS: dict[str, int] = {}
_KNOWN: set[str] = set()  # the names among them that are fields
_MEMO_LIMIT = 10_000


def _kind(key: str) -> int:
    kind = _KINDS.get(key)
    if kind is None:
        if key in _LIST_FIELD_SET:
            kind = _LIST
        elif key in SCALAR_FIELD_SET:
            kind = _SCALAR
        else:
            kind = _ARCH if arch_field_parts(key) is not None else _UNKNOWN
        if len(_KINDS) < _MEMO_LIMIT:
            _KINDS[key] = kind
            if kind != _UNKNOWN:
                _KNOWN.add(key)
    return kind


def _is_directory(key: str) -> bool:
    return key == "Directory" or key.endswith("-Directory")


# One-line list values without an empty item, split (and for Architectures, sorted and
# de-duplicated) once: (field, value) -> items. The same values recur in every entry and file.
_SPLIT: dict[tuple[str, str], tuple[str, ...]] = {}


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
    import difflib  # (only a file with an unknown field needs it)

    lowered = {candidate.lower(): candidate for candidate in candidates}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.7)
    return lowered[found[0]] if found else None


# Suggestions ("did you mean Tags?") cost a fuzzy match each; a file of thousands of unknown
# fields gets them for the first ones only (only the first problems are reported anyway), and
# keys longer than any field name could be a misspelling of get none.
MAX_SUGGESTIONS = 200


MAX_SUGGESTED_KEY = 40


def _check_keys(paragraph: Paragraph, problems: list[Problem], suggestions: list[int]) -> None:
    fields = paragraph.fields
    if _KNOWN.issuperset(fields):  # every name a field (seen before): only empty values to find
        for key in DEFAULTED_WHEN_EMPTY.intersection(fields):
            if not fields[key].value:
                break
        else:
            return
    kinds = _KINDS
    for key, source in fields.items():
        kind = kinds.get(key) or _kind(key)
        if kind != _UNKNOWN:
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
    arch_keys = _apply(
        paragraph, values, lines, item_lines, problems, inherit_lists=False, clean=False
    )
    return Entry(
        0,
        paragraph.first_line,
        paragraph.last_line,
        values,
        lines,
        item_lines,
        frozenset(paragraph.fields),
        sorted(arch_keys),
    )


class _Inherited:
    """What every entry of a file starts from: the global entry's values, lines and item
    lines without its Tags, its Directory values cleaned (an entry's Directory values, its own
    or inherited, are cleaned; the global paragraph keeps its Directory as written), and its
    sorted `ARCH-*` keys. Built once per file; each entry copies the dicts.

    Inherited lists are shared with the global entry, not copied: nothing mutates a parsed list
    in place, and copying a long global list into every entry would make the work grow with
    entries x items instead of with the size of the file."""

    __slots__ = ("arch_keys", "item_lines", "lines", "values")

    def __init__(self, base: Entry) -> None:
        self.values = {key: value for key, value in base.values.items() if key != "Tags"}
        for key, value in self.values.items():
            if isinstance(value, str) and _is_directory(key):
                self.values[key] = go_path_clean(value)
        self.lines = {key: line for key, line in base.lines.items() if key != "Tags"}
        self.item_lines = {key: value for key, value in base.item_lines.items() if key != "Tags"}
        self.arch_keys = base.arch_keys()


def _entry(
    number: int, paragraph: Paragraph, inherited: _Inherited, problems: list[Problem]
) -> Entry:
    values = inherited.values.copy()
    lines = inherited.lines.copy()
    item_lines = inherited.item_lines.copy()
    own_arch_keys = _apply(
        paragraph, values, lines, item_lines, problems, inherit_lists=True, clean=True
    )
    arch_keys = inherited.arch_keys
    if own_arch_keys:  # (each once, in an order that sorts in fewer steps than a set's)
        arch_keys = sorted(dict.fromkeys([*arch_keys, *own_arch_keys]))
    return Entry(
        number,
        paragraph.first_line,
        paragraph.last_line,
        values,
        lines,
        item_lines,
        frozenset(paragraph.fields),
        arch_keys,
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
) -> list[str]:
    """Set the paragraph's own values over `values` (with `clean`, its Directory values
    cleaned); the `ARCH-*` keys among them."""
    arch_keys: list[str] = []
    kinds = _KINDS
    split = _SPLIT
    for key, source in paragraph.fields.items():
        kind = kinds.get(key) or _kind(key)
        if kind == _SCALAR:
            value = source.value
            if clean and key == "Directory":
                value = go_path_clean(value)
            values[key] = value
            lines[key] = source.line
        elif kind == _ARCH:
            value = source.value
            if clean and key.endswith("-Directory"):
                value = go_path_clean(value)
            values[key] = value
            lines[key] = source.line
            arch_keys.append(key)
        elif kind == _LIST:
            known = split.get((key, source.value))
            if known is not None:  # (the memo of _list_items, inline)
                items, positions = list(known), [source.line] * len(known)
            else:
                items, positions = _list_items(key, source, problems)
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
    return arch_keys


def _list_items(
    key: str, source: SourceField, problems: list[Problem]
) -> tuple[list[str], list[int]]:
    """The items of list field `key` and the line of each: split, and for Architectures and
    SharedTags de-duplicated (Architectures also sorted)."""
    value = source.value
    memo = (key, value)
    known = _SPLIT.get(memo)
    if known is not None:
        return list(known), [source.line] * len(known)
    found = len(problems)
    items, positions = _split_list(source, problems)
    if key == "Architectures":
        items, positions = _dedupe(key, items, positions, problems, sort=True)
    elif key == "SharedTags":
        items, positions = _dedupe(key, items, positions, problems, sort=False)
    if len(problems) == found and "\n" not in value:  # one line, nothing to report: the same
        if len(_SPLIT) >= _MEMO_LIMIT:  # items, all on the field's line, whenever it recurs
            _SPLIT.clear()
        _SPLIT[memo] = tuple(items)
    return items, positions


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
    inherited = _Inherited(global_entry)
    entries = [
        _entry(number, paragraph, inherited, problems)
        for number, paragraph in enumerate(paragraphs[1:], start=1)
    ]
    return Manifest(name, global_entry, entries, problems, text.count("\n") + 1)


def _empty(name: str, problems: list[Problem]) -> Manifest:
    empty = Entry(0, 1, 1, {}, {}, {}, frozenset())
    return Manifest(name, empty, [], problems)
