"""bashbrew's build order (`bashbrew cat --build-order`, `.SortedEntries`): parents before
children, across the library files given and among the entries of one file.

bashbrew sorts with pault.ag/go/topsort: nodes in the order they were added, then passes over
them in that order, each pass taking every node whose parents are all taken, including those
taken earlier in the same pass. So the order is not just any topological order: a node
follows the given order unless a parent given after it holds it back to a later pass. Here
that order is computed in one topological walk: a node's pass is the latest of its parents'
passes, plus one for a parent that comes after it in the given order.

Edges come from what each entry builds FROM (`froms` of every architecture): from the node
that holds the parent tag to the node of each of the entry's tags (Tags and SharedTags), a
node never to itself. Which node holds a tag: among files, the last file naming it; among
the entries of one file, the first entry naming it (bashbrew prefers a specific tag over a
whole file, and the first specific one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..libraryfile.model import Entry
from .model import Image

__all__ = ["Sorted", "entry_order", "image_order", "topological_passes"]


@dataclass(frozen=True, slots=True)
class Sorted:
    """Indices in build order; `cyclic` when some nodes depend on each other in a cycle
    (bashbrew stops there: they are appended in the given order)."""

    order: list[int]
    cyclic: bool = False


def topological_passes(count: int, edges: Iterable[tuple[int, int]]) -> Sorted:
    """The order topsort's passes give nodes 0..count-1 (in the order added) with `edges`
    (parent, child)."""
    children: list[list[int]] = [[] for _ in range(count)]
    waiting = [0] * count
    for parent, child in edges:
        children[parent].append(child)
        waiting[child] += 1
    passes = [1] * count
    ready = [node for node in range(count) if not waiting[node]]
    done = 0
    while ready:
        node = ready.pop()
        done += 1
        for child in children[node]:
            passes[child] = max(passes[child], passes[node] + (1 if node > child else 0))
            waiting[child] -= 1
            if not waiting[child]:
                ready.append(child)
    if done == count:
        return Sorted(sorted(range(count), key=lambda node: (passes[node], node)))
    stuck = [node for node in range(count) if waiting[node]]
    free = [node for node in range(count) if not waiting[node]]
    return Sorted(sorted(free, key=lambda node: (passes[node], node)) + stuck, cyclic=True)


def entry_tags(name: str, entry: Entry) -> list[str]:
    """bashbrew's `Tags("", false, entry)`: `image:tag` of every tag, then every shared tag."""
    return [f"{name}:{tag}" for tag in (*entry.tags, *entry.shared_tags)]


def entry_froms(image: Image, entry: Entry) -> list[str]:
    """Every FROM of the entry, over its architectures, each once (unknown ones are left
    out: bashbrew cannot sort without them, and fails)."""
    froms: dict[str, None] = {}
    for architecture in entry.architectures:
        for parent in image.build(entry.number, architecture).froms or ():
            froms.setdefault(parent, None)
    return list(froms)


def _sort(nodes: Sequence[Sequence[tuple[Image, Entry]]], *, first_wins: bool) -> Sorted:
    """Nodes made of entries (a whole file, or one entry), sorted as bashbrew's
    `sortRepoObjects` sorts them."""
    holder: dict[str, int] = {}
    for index, node in enumerate(nodes):
        for image, entry in node:
            for tag in entry_tags(image.manifest.name, entry):
                if not (first_wins and tag in holder):
                    holder[tag] = index
    edges: list[tuple[int, int]] = []
    for node in nodes:
        for image, entry in node:
            for parent in entry_froms(image, entry):
                source = holder.get(parent)
                if source is None:
                    continue  # not among what is sorted: it does not matter here
                for tag in entry_tags(image.manifest.name, entry):
                    target = holder.get(tag)
                    if target is not None and target != source:
                        edges.append((source, target))
    return topological_passes(len(nodes), edges)


def image_order(images: Sequence[Image], entries: Sequence[Sequence[Entry]]) -> Sorted:
    """The files in `bashbrew cat --build-order` order (`entries`: each file's merged
    entries, `Manifest.merged_entries()`)."""
    return _sort(
        [[(image, entry) for entry in own] for image, own in zip(images, entries, strict=True)],
        first_wins=False,
    )


def entry_order(image: Image, entries: Sequence[Entry]) -> tuple[list[Entry], bool]:
    """The file's merged `entries` in bashbrew's `.SortedEntries` order, and whether they
    depend on each other in a cycle."""
    result = _sort([[(image, entry)] for entry in entries], first_wins=True)
    return [entries[index] for index in result.order], result.cyclic
