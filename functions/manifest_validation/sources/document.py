"""The publisher's `sources.json` (docker-library/meta-scripts' `sources.sh`), for the library
files given: an object keyed by `sourceId`, in bashbrew's build order.

What `sources.sh` does, step by step, and what it is here:

1. `bashbrew cat --build-order` over the files given, each file's entries in `.SortedEntries`
   order, each entry's Architectures in order (`order.py`): one item per entry and
   architecture, with `sourceId` = sha256 of `reproducibleGitChecksum`, File and Builder,
   each followed by a newline; `entries` = [that entry's GitRepo, GitFetch, GitCommit,
   Directory, File, Builder (architecture-specific values first) and SOURCE_DATE_EPOCH];
   `arches` = {that architecture: `tags` (`image:tag` of Tags then SharedTags), `archTags`
   (the same under the architecture's namespace, `winamd64/` for windows-amd64),
   `froms`, `lastStageFrom`, `platformString`, `platform` (the OCI platform, no
   `os.version` for Windows), `parents`}.
2. Items with the same `sourceId` are one source (entries that build the same thing, in one
   file or in several): its `entries` each once, the oldest SOURCE_DATE_EPOCH first (a stable
   sort); its `arches` merged, an architecture seen twice keeping one object with both
   items' tags (sources.sh stops if the two differ otherwise: see `conflicts`). The first
   item of a source decides its place.
3. For every architecture, `parents` has one key per distinct `froms` item, in order:
   `sourceId` of the item that has that tag (in `tags` or `archTags`) for that
   architecture in this document, else null; `pin` the digest `.external-pins` gives that
   image, else null. No `froms` at all gives `parents: null` (jq's `add` of nothing).

Without what upstream gives (no verifier, an unreachable repository, a context over the byte
bound) `reproducibleGitChecksum`, `sourceId` and `SOURCE_DATE_EPOCH` are null, and so are
`froms` (`[]`) and `lastStageFrom` when the Dockerfile was not read: the values `sources.sh`
writes without its heavy calculation. Such a source cannot be keyed by its `sourceId`: its
key is `provisional:` and the sha256 of GitCommit, Directory, File and Builder (each followed
by a newline), the fields meta-scripts itself uses to match sources without a `sourceId`.
Two items with the same provisional key are the same source for meta too (one commit, one
directory: one tree, one checksum; same File and Builder), so a provisional source never
mixes what meta would split; it may split what meta merges (equal contexts at other commits).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..libraryfile.architectures import NAMESPACES, PLATFORMS, platform_string
from ..libraryfile.model import Entry
from .model import Image
from .order import entry_order, entry_tags, image_order

__all__ = ["PROVISIONAL", "Document", "build_document", "provisional_key"]

PROVISIONAL = "provisional:"
# the keys of an entry as sources.sh writes them, in its order
ENTRY_FIELDS = ("GitRepo", "GitFetch", "GitCommit", "Directory", "File", "Builder")


def _source_id(checksum: str, file: str, builder: str) -> str:
    # a checksum means a verifier ran: the git client is loaded already (the light doors,
    # which have no checksums, never load it)
    from ..upstream.contexts import source_id

    return source_id(checksum, file, builder)


def provisional_key(commit: str, directory: str, file: str, builder: str) -> str:
    """The key of a source whose `sourceId` is not known (see the module's docstring)."""
    text = f"{commit}\n{directory}\n{file}\n{builder}\n"
    return PROVISIONAL + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Document:
    """`sources`: the document (key -> source), in order; `keys[i]`: the keys of the
    sources image `i` (in the order given) builds, in document order; `conflicts`: where
    `sources.sh` (or bashbrew before it) would have stopped, and what was kept instead."""

    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: list[list[str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def slice(self, index: int) -> dict[str, dict[str, Any]]:
        """The sources of image `index`, as they are in the document."""
        return {key: self.sources[key] for key in self.keys[index]}


def _platform(architecture: str) -> dict[str, str]:
    platform = PLATFORMS[architecture]
    out = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        out["variant"] = platform.variant
    return out


def _item(image: Image, entry: Entry, architecture: str) -> tuple[str, dict[str, Any]]:
    """(key, one entry building one architecture) as sources.sh's template writes it."""
    name = image.manifest.name
    build = image.build(entry.number, architecture)
    values = {key: entry.arch_value(architecture, key) for key in ENTRY_FIELDS}
    checksum = build.checksum
    identifier = _source_id(checksum, values["File"], values["Builder"]) if checksum else None
    key = identifier or provisional_key(
        values["GitCommit"], values["Directory"], values["File"], values["Builder"]
    )
    tags = entry_tags(name, entry)
    namespace = NAMESPACES.get(architecture)
    arch_tags = [f"{namespace}/{tag}" for tag in tags] if namespace else []
    return key, {
        "sourceId": identifier,
        "reproducibleGitChecksum": checksum,
        "entries": [{**values, "SOURCE_DATE_EPOCH": build.source_date_epoch}],
        "arches": {
            architecture: {
                "tags": tags,
                "archTags": arch_tags,
                "froms": list(build.froms or ()),
                "lastStageFrom": build.last_stage_from,
                "platformString": platform_string(PLATFORMS[architecture]),
                "platform": _platform(architecture),
                "parents": {},
            }
        },
    }


def _epoch_order(entry: Mapping[str, Any]) -> tuple[bool, int]:
    epoch = entry["SOURCE_DATE_EPOCH"]
    return (epoch is not None, epoch or 0)  # jq sorts null before every number


@dataclass
class _Source:
    """One source while items are merged into it: ordered sets where sources.sh keeps each
    value once (so a source built by thousands of entries costs linear time), made into the
    document's lists once at the end."""

    head: dict[str, Any]  # sourceId, reproducibleGitChecksum
    entries: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = field(default_factory=dict)
    arches: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, tuple[dict[str, None], dict[str, None]]] = field(default_factory=dict)

    def add(self, key: str, item: dict[str, Any], conflicts: list[str]) -> None:
        for entry in item["entries"]:
            self.entries.setdefault(tuple(entry.items()), entry)
        for architecture, value in item["arches"].items():
            rest = {name: v for name, v in value.items() if name not in ("tags", "archTags")}
            mine = self.arches.get(architecture)
            if mine is None:
                self.arches[architecture] = rest
                self.tags[architecture] = ({}, {})
            elif mine != rest:
                conflicts.append(
                    f"{', '.join(value['tags'][:1])} ({architecture}) builds source {key} with "
                    "other values than the item before it: the first are kept (sources.sh "
                    "stops with `duplicate architecture`)"
                )
            tags, arch_tags = self.tags[architecture]
            tags.update(dict.fromkeys(value["tags"]))
            arch_tags.update(dict.fromkeys(value["archTags"]))

    def document(self) -> dict[str, Any]:
        arches = {}
        for architecture, rest in self.arches.items():
            tags, arch_tags = self.tags[architecture]
            arches[architecture] = {"tags": list(tags), "archTags": list(arch_tags), **rest}
        # sources.sh's order of an architecture's fields: tags first
        order = ("tags", "archTags", "froms", "lastStageFrom", "platformString", "platform")
        return {
            **self.head,
            # a stable sort: entries of equal times keep the order they came in
            "entries": sorted(self.entries.values(), key=_epoch_order),
            "arches": {
                architecture: {
                    **{name: value[name] for name in order},
                    "parents": value["parents"],
                }
                for architecture, value in arches.items()
            },
        }


def build_document(images: Sequence[Image], pins: Mapping[str, str] | None = None) -> Document:
    """The document of `images` (in the order given: bashbrew sorts them), with `pins`
    (`image:tag` -> digest, as `.external-pins` has them; `library/` names stand for the
    bare ones, as sources.sh reads them)."""
    pins = {
        reference.removeprefix("library/"): digest for reference, digest in (pins or {}).items()
    }
    document = Document()
    keys: list[dict[str, None]] = [{} for _ in images]  # ordered sets
    merged = [image.manifest.merged_entries() for image in images]
    order = image_order(images, merged)
    if order.cyclic:
        document.conflicts.append(
            "the images build FROM each other in a cycle (bashbrew stops with `Cycle "
            "detected`): those in it are in the order given"
        )
    sources: dict[str, _Source] = {}
    # tag -> architecture -> the sourceIds having it there (ordered sets), before merging
    by_tag: dict[str, dict[str, dict[str | None, None]]] = {}
    for index in order.order:
        image = images[index]
        entries, cyclic = entry_order(image, merged[index])
        if cyclic:
            document.conflicts.append(
                f"entries of {image.manifest.name} build FROM each other in a cycle "
                "(bashbrew stops with `Cycle detected`): those in it are in file order"
            )
        for entry in entries:
            for architecture in entry.architectures:
                if architecture not in PLATFORMS:
                    continue  # bashbrew refuses the file (invalid-architecture)
                key, item = _item(image, entry, architecture)
                value = item["arches"][architecture]
                for tag in (*value["tags"], *value["archTags"]):
                    by_tag.setdefault(tag, {}).setdefault(architecture, {})[item["sourceId"]] = None
                keys[index].setdefault(key, None)
                source = sources.get(key)
                if source is None:
                    head = {name: item[name] for name in ("sourceId", "reproducibleGitChecksum")}
                    source = sources[key] = _Source(head)
                source.add(key, item, document.conflicts)
    for source in sources.values():
        for architecture, value in source.arches.items():
            value["parents"] = _parents(
                value["froms"], architecture, by_tag, pins, document.conflicts
            )
    document.sources = {key: source.document() for key, source in sources.items()}
    position = {key: number for number, key in enumerate(document.sources)}
    document.keys = [sorted(own, key=position.__getitem__) for own in keys]
    return document


def _parents(
    froms: Sequence[str],
    architecture: str,
    by_tag: Mapping[str, Mapping[str, Mapping[str | None, None]]],
    pins: Mapping[str, str],
    conflicts: list[str],
) -> dict[str, dict[str, str | None]] | None:
    parents: dict[str, dict[str, str | None]] = {}
    for parent in dict.fromkeys(froms):  # jq's unique_unsorted: first occurrences, in order
        found = list(by_tag.get(parent, {}).get(architecture, {}))
        if len(found) > 1:
            conflicts.append(
                f"{parent} ({architecture}) is built by {len(found)} sources: the first is "
                "its parent (sources.sh stops with `too many sourceIds`)"
            )
        parents[parent] = {"sourceId": found[0] if found else None, "pin": pins.get(parent)}
    return parents or None
