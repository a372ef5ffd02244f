"""What a change to library files does, as data: per image, entries, tags, architectures and
build fields added, removed, moved or changed; `ChangeSummary.to_json()` is the `changes` field
of result messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..libraryfile.model import Entry
from ..problems.problem import Problem, Severity

DIFF_VERSION = 1


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One build field that changed: for every architecture of the tag (`architecture` None)
    or for one architecture only."""

    field: str
    old: str
    new: str
    architecture: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "architecture": self.architecture,
            "old": self.old,
            "new": self.new,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> FieldChange:
        return cls(document["field"], document["old"], document["new"], document["architecture"])


@dataclass(frozen=True, slots=True)
class TagChanges:
    """What changed for `tags` (all of them changed in exactly the same way)."""

    tags: tuple[str, ...]
    architectures_added: tuple[str, ...] = ()
    architectures_removed: tuple[str, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    shared: bool = False  # these are SharedTags (architectures are those of every entry)

    def key(self) -> tuple[object, ...]:
        return (self.shared, self.architectures_added, self.architectures_removed, self.fields)

    def to_json(self) -> dict[str, Any]:
        return {
            "tags": list(self.tags),
            "shared": self.shared,
            "architectures_added": list(self.architectures_added),
            "architectures_removed": list(self.architectures_removed),
            "fields": [change.to_json() for change in self.fields],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> TagChanges:
        return cls(
            tuple(document["tags"]),
            tuple(document["architectures_added"]),
            tuple(document["architectures_removed"]),
            tuple(FieldChange.from_json(change) for change in document["fields"]),
            document["shared"],
        )


@dataclass(frozen=True, slots=True)
class TagMove:
    tag: str
    old_entry: str  # the label (first tag) of the entry it was in
    new_entry: str
    shared: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "shared": self.shared,
            "from_entry": self.old_entry,
            "to_entry": self.new_entry,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> TagMove:
        return cls(
            document["tag"], document["from_entry"], document["to_entry"], document["shared"]
        )


@dataclass(frozen=True, slots=True)
class EntrySummary:
    """An entry added or removed: its tags, shared tags and architectures."""

    tags: tuple[str, ...]
    shared_tags: tuple[str, ...]
    architectures: tuple[str, ...]
    git_commit: str
    line: int

    @classmethod
    def of(cls, entry: Entry) -> EntrySummary:
        return cls(
            tuple(entry.tags),
            tuple(entry.shared_tags),
            tuple(entry.architectures),
            entry.scalar("GitCommit"),
            entry.first_line,
        )

    @property
    def label(self) -> str:
        return _label_of(self.tags, self.shared_tags, self.line)

    def to_json(self) -> dict[str, Any]:
        return {
            "tags": list(self.tags),
            "shared_tags": list(self.shared_tags),
            "architectures": list(self.architectures),
            "GitCommit": self.git_commit,
            "line": self.line,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> EntrySummary:
        return cls(
            tuple(document["tags"]),
            tuple(document["shared_tags"]),
            tuple(document["architectures"]),
            document["GitCommit"],
            document["line"],
        )


@dataclass(frozen=True, slots=True)
class CommitMove:
    """A GitCommit that changed on the same GitRepo and GitFetch (what `--verify-git` checks:
    does the new commit descend from the old one?)."""

    repo: str
    fetch: str
    old: str
    new: str
    tags: tuple[str, ...]
    architectures: tuple[str, ...]
    line: int  # the line of the field in the new file
    field: str = "GitCommit"  # the field in effect there (`arm64v8-GitCommit` or GitCommit)


@dataclass(frozen=True, slots=True)
class CommitCheck:
    """What `--verify-git` found for one commit move: `verdict` is "descendant",
    "not-descendant" or "unknown" (could not be checked; `detail` says why)."""

    move: CommitMove
    verdict: str
    detail: str


@dataclass(slots=True)
class ImageChanges:
    """Every change to one image (one library file)."""

    name: str
    status: str  # "added", "removed", "modified" or "unchanged"
    entries_added: list[EntrySummary] = field(default_factory=list)
    entries_removed: list[EntrySummary] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    tags_moved: list[TagMove] = field(default_factory=list)
    shared_tags_added: list[str] = field(default_factory=list)
    shared_tags_removed: list[str] = field(default_factory=list)
    changed: list[TagChanges] = field(default_factory=list)
    maintainers_added: list[str] = field(default_factory=list)
    maintainers_removed: list[str] = field(default_factory=list)
    commit_moves: list[CommitMove] = field(default_factory=list, repr=False)
    commit_checks: list[CommitCheck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return self.status != "unchanged"

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.name,
            "status": self.status,
            "entries_added": [entry.to_json() for entry in self.entries_added],
            "entries_removed": [entry.to_json() for entry in self.entries_removed],
            "tags_added": self.tags_added,
            "tags_removed": self.tags_removed,
            "tags_moved": [move.to_json() for move in self.tags_moved],
            "shared_tags_added": self.shared_tags_added,
            "shared_tags_removed": self.shared_tags_removed,
            "changed": [change.to_json() for change in self.changed],
            "maintainers_added": self.maintainers_added,
            "maintainers_removed": self.maintainers_removed,
            "commits": [self._commit_json(move) for move in self.commit_moves],
            "problems": [found.to_json() for found in self.problems],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ImageChanges:
        """The changes `to_json` (or a result message's `changes`) describes, as they were."""
        image = cls(
            document["image"],
            document["status"],
            entries_added=[EntrySummary.from_json(e) for e in document["entries_added"]],
            entries_removed=[EntrySummary.from_json(e) for e in document["entries_removed"]],
            tags_added=list(document["tags_added"]),
            tags_removed=list(document["tags_removed"]),
            tags_moved=[TagMove.from_json(move) for move in document["tags_moved"]],
            shared_tags_added=list(document["shared_tags_added"]),
            shared_tags_removed=list(document["shared_tags_removed"]),
            changed=[TagChanges.from_json(change) for change in document["changed"]],
            maintainers_added=list(document["maintainers_added"]),
            maintainers_removed=list(document["maintainers_removed"]),
            problems=[Problem.from_json(found) for found in document["problems"]],
        )
        for commit in document["commits"]:
            move = CommitMove(
                commit["GitRepo"],
                commit["GitFetch"],
                commit["old"],
                commit["new"],
                tuple(commit["tags"]),
                tuple(commit["architectures"]),
                commit["line"],
                # the field is not in the JSON; its line is what the renderers show
            )
            image.commit_moves.append(move)
            if commit["ancestry"] != "not-checked":
                image.commit_checks.append(CommitCheck(move, commit["ancestry"], commit["detail"]))
        return image

    def _commit_json(self, move: CommitMove) -> dict[str, Any]:
        check = next((c for c in self.commit_checks if c.move == move), None)
        return {
            "GitRepo": move.repo,
            "GitFetch": move.fetch,
            "old": move.old,
            "new": move.new,
            "tags": list(move.tags),
            "architectures": list(move.architectures),
            "line": move.line,
            "ancestry": check.verdict if check else "not-checked",
            "detail": check.detail if check else None,
        }


@dataclass(slots=True)
class ChangeSummary:
    """The changes of a set of images (one or many library files), sorted by image name."""

    images: list[ImageChanges]

    @property
    def changed(self) -> list[ImageChanges]:
        """The images to report: those that changed, and those with problems (a file that
        could not be read fully is reported even when what could be read is unchanged)."""
        return [image for image in self.images if image.has_changes or image.problems]

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for image in self.images for p in image.problems)

    def counts(self) -> dict[str, int]:
        statuses = [image.status for image in self.images]
        return {
            "images": len(statuses),
            "added": statuses.count("added"),
            "removed": statuses.count("removed"),
            "modified": statuses.count("modified"),
            "unchanged": statuses.count("unchanged"),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "diff_version": DIFF_VERSION,
            "summary": self.counts(),
            "images": [image.to_json() for image in self.changed],
        }


def _label_of(tags: Iterable[str], shared: Iterable[str], line: int) -> str:
    for tag in (*tags, *shared):
        return tag
    return f"entry at line {line}"
