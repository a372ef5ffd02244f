"""What a change to library files does, computed on the parsed model (not on the text).

A reviewer of a pull request to the library wants to know what will be built and published
differently, not which lines moved. For each image this module reports:

* the image added or removed (a file appeared or disappeared);
* entries added and removed, tags added, removed and moved between entries, the same for
  SharedTags;
* per tag: architectures added and removed, and every build field that changed (GitRepo,
  GitFetch, GitCommit, Directory, File, Builder, Constraints), once for the whole entry or per
  architecture when only some architectures changed (`arm64v8-GitCommit` and the like);
* Maintainers added and removed.

Entries are compared after bashbrew's merge of entries with identical build artifacts
(`Manifest.merged_entries`), so splitting or merging paragraphs without changing what is built is
no change.

**Entry identity.** An entry has no name, so an old entry and a new entry are "the same entry"
when they share tags: every (old, new) pair sharing at least one tag is scored by the number of
Tags they share (then SharedTags, but for a shared tag on more than MAX_SHARED_TAG_FANOUT
entries), and pairs are taken best score first (ties: file order), each entry at most once. A
paired entry is labelled by its new first tag. Unpaired old entries are *removed*, unpaired new
ones *added*. A tag that is in an old entry and in a new entry that is not
its partner has *moved*. Field changes are reported per tag, between the old entry holding the tag
and the new entry holding it, whether or not the two are partners; tags with identical changes
are grouped.

Pure: no I/O; `ChangeSummary.to_json()` is the JSON form (the `changes` field of result messages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from ..libraryfile.model import Entry, Manifest
from ..libraryfile.names import BUILD_FIELDS
from ..problems.problem import Problem, Severity
from .model import (
    ChangeSummary,
    CommitMove,
    EntrySummary,
    FieldChange,
    ImageChanges,
    TagChanges,
    TagMove,
    _label_of,
)


def _label(entry: Entry) -> str:
    return _label_of(entry.tags, entry.shared_tags, entry.first_line)


# A shared tag carried by more entries than this says nothing about which entry is which (real
# ones are on two or three: a Linux and the Windows variants); it is left out of the pairing
# score, which keeps pairing linear in the entries on hostile input.
MAX_SHARED_TAG_FANOUT = 64


def _by_item(entries: list[Entry], key: str) -> dict[str, list[int]]:
    """{tag: indexes of the entries listing it under `key`}, each index once per tag."""
    found: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        for item in dict.fromkeys(entry.items(key)):
            found.setdefault(item, []).append(index)
    return found


def pair_entries(old: list[Entry], new: list[Entry]) -> dict[int, int]:
    """{old index: new index} by the entry identity rule of the module docstring. Only pairs
    that share a tag are scored (found through an index of the new entries' tags)."""
    new_tags, new_shared = _by_item(new, "Tags"), _by_item(new, "SharedTags")
    scored = []
    for i, before in enumerate(old):
        tags: dict[int, int] = {}
        for tag in dict.fromkeys(before.tags):
            for j in new_tags.get(tag, ()):
                tags[j] = tags.get(j, 0) + 1
        shared: dict[int, int] = {}
        for tag in dict.fromkeys(before.shared_tags):
            holders = new_shared.get(tag, ())
            if len(holders) > MAX_SHARED_TAG_FANOUT:
                continue
            for j in holders:
                shared[j] = shared.get(j, 0) + 1
        for j in tags.keys() | shared.keys():
            scored.append(((tags.get(j, 0), shared.get(j, 0)), i, j))
    scored.sort(key=lambda item: (-item[0][0], -item[0][1], item[1], item[2]))
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in scored:
        if i not in pairs and j not in taken:
            pairs[i] = j
            taken.add(j)
    return pairs


def _field_changes(before: Entry, after: Entry) -> list[FieldChange]:
    """Changed build fields between two entries, on the architectures both build."""
    common = [arch for arch in after.architectures if arch in before.architectures]
    changes: list[FieldChange] = []
    for name in BUILD_FIELDS:
        per_arch = {
            arch: (before.arch_value(arch, name), after.arch_value(arch, name)) for arch in common
        }
        changed = {arch: pair for arch, pair in per_arch.items() if pair[0] != pair[1]}
        if not common:
            old, new = before.scalar(name), after.scalar(name)
            if old != new:
                changes.append(FieldChange(name, old, new))
            continue
        if not changed:
            continue
        if len(changed) == len(common) and len(set(changed.values())) == 1:
            old, new = next(iter(changed.values()))
            changes.append(FieldChange(name, old, new))
            continue
        for arch, (old, new) in sorted(changed.items()):
            changes.append(FieldChange(name, old, new, arch))
    old_constraints, new_constraints = ", ".join(before.constraints), ", ".join(after.constraints)
    if old_constraints != new_constraints:
        changes.append(FieldChange("Constraints", old_constraints, new_constraints))
    return changes


def _commit_moves(before: Entry, after: Entry, tags: tuple[str, ...]) -> list[CommitMove]:
    """GitCommit changes with GitRepo and GitFetch unchanged, one per distinct move."""
    moves: dict[tuple[str, str, str, str], list[str]] = {}
    for arch in after.architectures:
        if arch not in before.architectures:
            continue
        repo, fetch = after.arch_value(arch, "GitRepo"), after.arch_value(arch, "GitFetch")
        old, new = before.arch_value(arch, "GitCommit"), after.arch_value(arch, "GitCommit")
        if old == new or not old or not new:
            continue
        if (before.arch_value(arch, "GitRepo"), before.arch_value(arch, "GitFetch")) != (
            repo,
            fetch,
        ):
            continue
        moves.setdefault((repo, fetch, old, new), []).append(arch)
    out = []
    for (repo, fetch, old, new), arches in moves.items():
        specific = f"{arches[0]}-GitCommit"
        key = specific if after.scalar(specific) else "GitCommit"
        out.append(CommitMove(repo, fetch, old, new, tags, tuple(arches), after.line_of(key), key))
    return out


def _tag_changes(
    tags: list[str], old_of: Mapping[str, Entry], new_of: Mapping[str, Entry], *, shared: bool
) -> list[TagChanges]:
    grouped: dict[tuple[object, ...], TagChanges] = {}
    for tag in tags:
        before, after = old_of[tag], new_of[tag]
        change = TagChanges(
            (tag,),
            tuple(a for a in after.architectures if a not in before.architectures),
            tuple(a for a in before.architectures if a not in after.architectures),
            tuple(_field_changes(before, after)),
            shared,
        )
        if not (change.architectures_added or change.architectures_removed or change.fields):
            continue
        existing = grouped.get(change.key())
        if existing is not None:
            change = TagChanges(
                (*existing.tags, tag),
                existing.architectures_added,
                existing.architectures_removed,
                existing.fields,
                shared,
            )
        grouped[change.key()] = change
    return list(grouped.values())


def _shared_arch_changes(
    tags: list[str],
    old: list[Entry],
    new: list[Entry],
    old_holders: Mapping[str, list[int]],
    new_holders: Mapping[str, list[int]],
) -> list[TagChanges]:
    """A shared tag's architectures are the union over the entries that carry it."""

    def arches(entries: list[Entry], holders: Iterable[int]) -> list[str]:
        return sorted({a for index in holders for a in entries[index].architectures})

    grouped: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for tag in tags:
        before, after = arches(old, old_holders[tag]), arches(new, new_holders[tag])
        added = tuple(a for a in after if a not in before)
        removed = tuple(a for a in before if a not in after)
        if added or removed:
            grouped.setdefault((added, removed), []).append(tag)
    return [
        TagChanges(tuple(group), added, removed, (), True)
        for (added, removed), group in grouped.items()
    ]


def _index(entries: list[Entry], key: str) -> dict[str, Entry]:
    """The first entry holding each tag (bashbrew refuses duplicates; be lenient here)."""
    found: dict[str, Entry] = {}
    for entry in entries:
        for tag in entry.items(key):
            found.setdefault(tag, entry)
    return found


def _ordered(items: Iterable[str], keep: set[str]) -> list[str]:
    return [item for item in dict.fromkeys(items) if item in keep]


def reading_errors(manifest: Manifest | None, side: str) -> list[Problem]:
    """The errors met reading one side ("old" or "new"): NUL bytes, not UTF-8, a line that is
    not a field, ... What could not be read is not in the model, so the comparison is partial:
    each error is reported with the changes (lines are those of the new text: an old side's
    line is given in the message)."""
    if manifest is None:
        return []
    found = []
    for error in manifest.problems:
        if error.severity is not Severity.ERROR:
            continue
        if side == "old":
            where = f", line {error.line}" if error.line else ""
            message = f"the old file{where}: {error.message} (only what could be read is compared)"
            found.append(replace(error, message=message, line=None))
        else:
            message = f"the new file: {error.message} (only what could be read is compared)"
            found.append(replace(error, message=message))
    return found


def diff_manifests(
    name: str, old: Manifest | None, new: Manifest | None, *, new_reading_errors: bool = True
) -> ImageChanges:
    """The changes from `old` to `new` of one image (None: the file does not exist), with the
    errors met reading either file (the new file's only with `new_reading_errors`: the result
    of validating it reports them already)."""
    changes = _changes(name, old, new)
    changes.problems += reading_errors(old, "old")
    if new_reading_errors:
        changes.problems += reading_errors(new, "new")
    return changes


def _changes(name: str, old: Manifest | None, new: Manifest | None) -> ImageChanges:
    if old is None and new is None:
        return ImageChanges(name, "unchanged")
    before = old.merged_entries() if old is not None else []
    after = new.merged_entries() if new is not None else []
    status = "added" if old is None else "removed" if new is None else "modified"
    changes = ImageChanges(name, status)
    pairs = pair_entries(before, after)
    paired_new = set(pairs.values())
    changes.entries_removed = [EntrySummary.of(e) for i, e in enumerate(before) if i not in pairs]
    changes.entries_added = [EntrySummary.of(e) for j, e in enumerate(after) if j not in paired_new]

    old_tags, new_tags = _index(before, "Tags"), _index(after, "Tags")
    old_all = [tag for entry in before for tag in entry.tags]
    new_all = [tag for entry in after for tag in entry.tags]
    changes.tags_added = _ordered(new_all, set(new_tags) - set(old_tags))
    changes.tags_removed = _ordered(old_all, set(old_tags) - set(new_tags))
    common = _ordered(new_all, set(new_tags) & set(old_tags))
    position = {id(entry): index for index, entry in enumerate(before)}
    new_position = {id(entry): index for index, entry in enumerate(after)}
    for tag in common:
        i, j = position[id(old_tags[tag])], new_position[id(new_tags[tag])]
        if pairs.get(i) != j:
            changes.tags_moved.append(TagMove(tag, _label(before[i]), _label(after[j])))

    old_shared, new_shared = _index(before, "SharedTags"), _index(after, "SharedTags")
    old_shared_all = [tag for entry in before for tag in entry.shared_tags]
    new_shared_all = [tag for entry in after for tag in entry.shared_tags]
    changes.shared_tags_added = _ordered(new_shared_all, set(new_shared) - set(old_shared))
    changes.shared_tags_removed = _ordered(old_shared_all, set(old_shared) - set(new_shared))
    common_shared = _ordered(new_shared_all, set(new_shared) & set(old_shared))
    old_holders, new_holders = _by_item(before, "SharedTags"), _by_item(after, "SharedTags")
    for tag in common_shared:
        old_set, new_set = set(old_holders[tag]), set(new_holders[tag])
        if {pairs.get(i) for i in old_set} != new_set:
            old_labels = ", ".join(_label(before[i]) for i in sorted(old_set))
            new_labels = ", ".join(_label(after[j]) for j in sorted(new_set))
            changes.tags_moved.append(TagMove(tag, old_labels, new_labels, shared=True))

    changes.changed = _tag_changes(common, old_tags, new_tags, shared=False)
    # shared tags: build fields differ per entry (already reported per tag); architectures are
    # the union of every entry carrying the shared tag
    changes.changed += _shared_arch_changes(common_shared, before, after, old_holders, new_holders)
    for tag in common:
        changes.commit_moves += _commit_moves(old_tags[tag], new_tags[tag], (tag,))
    changes.commit_moves = _merge_moves(changes.commit_moves)

    if old is not None and new is not None:
        old_maintainers = old.global_entry.items("Maintainers")
        new_maintainers = new.global_entry.items("Maintainers")
        changes.maintainers_added = [m for m in new_maintainers if m not in old_maintainers]
        changes.maintainers_removed = [m for m in old_maintainers if m not in new_maintainers]
        if not any(
            (
                changes.entries_added,
                changes.entries_removed,
                changes.tags_added,
                changes.tags_removed,
                changes.tags_moved,
                changes.shared_tags_added,
                changes.shared_tags_removed,
                changes.changed,
                changes.maintainers_added,
                changes.maintainers_removed,
            )
        ):
            changes.status = "unchanged"
    return changes


def _merge_moves(moves: list[CommitMove]) -> list[CommitMove]:
    """One move per (repo, fetch, old, new), with the tags and architectures of all uses."""
    merged: dict[tuple[str, str, str, str], CommitMove] = {}
    for move in moves:
        key = (move.repo, move.fetch, move.old, move.new)
        known = merged.get(key)
        if known is None:
            merged[key] = move
            continue
        merged[key] = CommitMove(
            move.repo,
            move.fetch,
            move.old,
            move.new,
            tuple(dict.fromkeys((*known.tags, *move.tags))),
            tuple(dict.fromkeys((*known.architectures, *move.architectures))),
            min(known.line, move.line),
            known.field if known.line <= move.line else move.field,
        )
    return list(merged.values())


def diff_libraries(
    old: Mapping[str, Manifest | None], new: Mapping[str, Manifest | None]
) -> ChangeSummary:
    """The changes between two sets of manifests by image name (a missing or None value:
    the file does not exist on that side)."""
    names = sorted(set(old) | set(new))
    return ChangeSummary([diff_manifests(name, old.get(name), new.get(name)) for name in names])
