"""What a check finds: one `Problem` per defect, with the place it was found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # a note: never a defect, never changes a status


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in one manifest.

    `line` is 1-based and points at the field whose value is wrong (for a missing field: a line of
    the paragraph that lacks it); it is None when the problem concerns the whole file.
    `file` names the file of a docs folder the problem is in (None for a library file).
    """

    code: str
    severity: Severity
    message: str
    line: int | None = None
    field: str | None = None
    hint: str | None = None
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }
        if self.file is not None:
            document["file"] = self.file
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Problem:
        """The problem `to_json` wrote (e.g. in a result's `changes`, read back)."""
        return cls(
            document["code"],
            Severity(document["severity"]),
            document["message"],
            document["line"],
            document["field"],
            document["hint"],
            document.get("file"),
        )

    def sort_key(self) -> tuple[int, int, str, str]:
        return (
            self.line or 0,
            _SEVERITY_ORDER[self.severity],
            self.code,
            self.message,
        )


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class BySeverity:
    """`errors`, `warnings` and `notes` of a result's `problems` (library file or docs folder)."""

    __slots__ = ()
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def notes(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.INFO]
