"""The ``diff`` attribute of a path, from the ``.gitattributes`` files of one commit.

Used by :mod:`.history` to decide, as ``git diff --numstat`` does, whether a file's
change is binary: ``diff`` set means text whatever the bytes, ``-diff`` (or the
``binary`` macro, ``-diff -merge -text``) means binary, and anything else (unspecified,
or ``diff=<driver>``: no driver is configured where CI runs, and git's built-in
drivers leave the decision to the content) means git looks for a NUL byte.  ``-text``
alone changes nothing for diff (pinned against git in tests/upstream/test_history.py).

What is read, as git does for a work tree checked out at the commit: the root
``.gitattributes`` and the one in every directory on the file's path, the deeper
file and the later line and the later attribute on a line winning; macros
(``[attr]name ...``) defined in the root file, plus the built-in ``binary``; a macro
expands only when set, filling only attributes not yet decided (git's ``fill_one``).
Patterns follow gitignore's syntax: no slash means the base name matched anywhere
below the file's directory; otherwise the path relative to that directory, with
``**`` across directories; a trailing slash matches directories only (so never a
file); ``!pattern`` is refused by git for attributes and ignored here too.

Not read: ``$GIT_DIR/info/attributes``, ``core.attributesFile`` and the system file
(CI's cache sets none), ``core.ignoreCase`` (off: matching is case-sensitive),
and attribute files that are themselves symbolic links (git refuses them since 2.32).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["UNSPECIFIED", "AttributeFile", "diff_attribute", "directories_of"]


class _Unspecified:
    def __repr__(self) -> str:
        return "UNSPECIFIED"


UNSPECIFIED = _Unspecified()
Value = bool | str | _Unspecified  # True set, False unset, str a value, or "!attr"
_BUILTIN_MACROS: dict[str, tuple[tuple[str, Value], ...]] = {
    "binary": (("diff", False), ("merge", False), ("text", False)),
}
_ATTR_NAME = re.compile(r"^[A-Za-z0-9_.][-A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class _Line:
    pattern: str
    states: tuple[tuple[str, Value], ...]
    no_dir: bool  # no slash: matched against the base name
    must_be_dir: bool


@dataclass(frozen=True)
class AttributeFile:
    """One parsed ``.gitattributes`` (its directory is given when looking up)."""

    lines: tuple[_Line, ...]
    macros: tuple[tuple[str, tuple[tuple[str, Value], ...]], ...]

    @classmethod
    def parse(cls, text: bytes) -> AttributeFile:
        lines: list[_Line] = []
        macros: list[tuple[str, tuple[tuple[str, Value], ...]]] = []
        for raw in text.decode("utf-8", "replace").splitlines():
            line = raw.lstrip(" \t\r")
            if not line or line.startswith("#"):
                continue
            pattern, rest = _split_pattern(line)
            if pattern is None:
                continue
            states = tuple(_states(rest))
            if pattern.startswith("[attr]"):
                name = pattern[len("[attr]") :]
                if _ATTR_NAME.match(name):
                    macros.append((name, states))
                continue
            if pattern.startswith("!"):
                continue  # git: "Negative patterns are ignored in git attributes"
            must_be_dir = pattern.endswith("/")
            pattern = pattern.rstrip("/") if must_be_dir else pattern
            if not pattern:
                continue
            no_dir = "/" not in pattern
            lines.append(_Line(pattern.lstrip("/"), states, no_dir, must_be_dir))
        return cls(tuple(lines), tuple(macros))


def _split_pattern(line: str) -> tuple[str | None, str]:
    if line.startswith('"'):
        # C-style quoted pattern (git's unquote_c_style): escapes we can read, else skip.
        match = re.match(r'"((?:[^"\\]|\\.)*)"', line)
        if not match:
            return None, ""
        try:
            pattern = match[1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            return None, ""
        return pattern, line[match.end() :]
    parts = line.split(None, 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _states(text: str) -> Iterable[tuple[str, Value]]:
    for word in text.split():
        value: Value
        if word.startswith("-"):
            name, value = word[1:], False
        elif word.startswith("!"):
            name, value = word[1:], UNSPECIFIED
        elif "=" in word:
            name, _, text_value = word.partition("=")
            value = text_value
        else:
            name, value = word, True
        if _ATTR_NAME.match(name):
            yield name, value


def directories_of(path: str) -> list[str]:
    """The directories whose ``.gitattributes`` apply to ``path``, deepest first
    (``""`` is the root)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(len(parts), -1, -1)]


def diff_attribute(path: str, files: Mapping[str, AttributeFile]) -> Value | None:
    """The ``diff`` attribute of ``path``: True, False, a driver name, ``UNSPECIFIED``
    (``!diff``), or ``None`` when no line decides it.  ``files`` maps a directory
    (``""`` for the root, ``"a/b"``) to its parsed ``.gitattributes``."""
    macros: dict[str, tuple[tuple[str, Value], ...]] = dict(_BUILTIN_MACROS)
    root = files.get("")
    if root is not None:
        macros.update(root.macros)
    assigned: dict[str, Value] = {}

    def fill(states: tuple[tuple[str, Value], ...], depth: int = 0) -> None:
        for name, value in reversed(states):
            if name in assigned:
                continue
            assigned[name] = value
            if value is True and name in macros and depth < 16:
                fill(macros[name], depth + 1)

    basename = path.rsplit("/", 1)[-1]
    for directory in directories_of(path):
        attributes = files.get(directory)
        if attributes is None:
            continue
        relative = path[len(directory) + 1 :] if directory else path
        for line in reversed(attributes.lines):
            if line.must_be_dir:
                continue
            if line.no_dir:
                matched = _wildmatch(line.pattern, pathname=False).fullmatch(basename)
            else:
                matched = _wildmatch(line.pattern, pathname=True).fullmatch(relative)
            if matched:
                fill(line.states)
                if "diff" in assigned:
                    return assigned["diff"]
    return assigned.get("diff")


@lru_cache(maxsize=4096)
def _wildmatch(pattern: str, *, pathname: bool) -> re.Pattern[str]:
    """git's wildmatch as a regular expression (``WM_PATHNAME`` when ``pathname``):
    ``*`` and ``?`` never cross ``/`` then, ``**`` between slashes spans directories."""
    out: list[str] = []
    i, n = 0, len(pattern)
    any_char = "[^/]" if pathname else "."
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif ch == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            double = j - i >= 2
            at_start = i == 0 or pattern[i - 1] == "/"
            if pathname and double and at_start and (j == n or pattern[j] == "/"):
                if j == n:
                    out.append(".*")  # trailing "/**": everything inside
                    i = j
                else:
                    out.append("(?:.*/)?")  # "**/": zero or more directories
                    i = j + 1
            else:
                out.append(any_char + "*")
                i = j
        elif ch == "?":
            out.append(any_char)
            i += 1
        elif ch == "[":
            cls, i = _bracket(pattern, i, pathname)
            out.append(cls)
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out), re.DOTALL)


_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9a-fA-F",
}


def _bracket(pattern: str, start: int, pathname: bool) -> tuple[str, int]:
    """A ``[...]`` expression from ``start``: its regex and the index after it.  An
    unclosed bracket matches nothing, as in wildmatch."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < len(pattern):
        ch = pattern[i]
        if ch == "]" and not first:
            body = "".join(items) or "\\x00-\\x00"  # never empty: "[]" is not a class
            if negate:
                return f"[^{body}{'/' if pathname else ''}]", i + 1
            return (f"(?!/)[{body}]" if pathname else f"[{body}]"), i + 1
        first = False
        if ch == "[" and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            if end != -1 and pattern[i + 2 : end] in _CLASSES:
                items.append(_CLASSES[pattern[i + 2 : end]])
                i = end + 2
                continue
        if ch == "\\" and i + 1 < len(pattern):
            i += 1
            ch = pattern[i]
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            high = pattern[i + 2]
            if high == "\\" and i + 3 < len(pattern):
                high = pattern[i + 3]
                i += 1
            if ord(high) >= ord(ch):
                items.append(f"{re.escape(ch)}-{re.escape(high)}")
            i += 3
            continue
        items.append(re.escape(ch))
        i += 1
    return "(?!)", len(pattern)  # unclosed: matches nothing
