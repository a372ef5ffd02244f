"""Where a manifest's text came from and what made us check it: the `origin` and `trigger` of a
result message (results.py), in a module of their own so that the doors that only route work
(the HTTP API, the webhook, the job queue) can name them without loading the validation core.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Trigger(StrEnum):
    CI = "ci"
    PUSH = "push"
    SCHEDULE = "schedule"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a manifest's text came from."""

    kind: str  # "git", "http" or "file"
    sha256: str
    repository: str | None = None
    commit: str | None = None
    path: str | None = None

    @classmethod
    def of(
        cls,
        kind: str,
        content: bytes | str,
        *,
        repository: str | None = None,
        commit: str | None = None,
        path: str | None = None,
    ) -> Origin:
        import hashlib  # (a text report names no origin: `check` does without it)

        data = content.encode("utf-8") if isinstance(content, str) else content
        return cls(kind, hashlib.sha256(data).hexdigest(), repository, commit, path)

    def describe(self) -> str:
        """A one-string form of the origin (the result's `source`)."""
        if self.kind == "git":
            return f"{self.repository}@{self.commit}:{self.path}"
        if self.kind == "file" and self.path:
            return self.path
        return self.kind

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"kind": self.kind, "sha256": self.sha256}
        for key in ("repository", "commit", "path"):
            value = getattr(self, key)
            if value is not None:
                document[key] = value
        return document
