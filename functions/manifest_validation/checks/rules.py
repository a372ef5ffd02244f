"""Rules that need more than one value: one small function per rule, in a registry.

Each function takes the `Facts` of a parsed manifest (the manifest, and its entries' list fields
read once for all the rules) and yields problems of exactly one catalogued code. Each first asks
the whole manifest, with a few set operations, whether it can have any such problem at all (most
manifests cannot), and walks the entries only when it can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

from ..libraryfile.architectures import SUPPORTED_ARCHITECTURES, is_windows
from ..libraryfile.model import Entry, Manifest, arch_field_parts
from ..libraryfile.names import is_image_name
from ..libraryfile.reader import go_path_clean
from ..problems.catalog import RULES, problem
from ..problems.problem import Problem


class Facts:
    """A manifest and the Tags, SharedTags and Architectures of each of its entries (the lists
    themselves, not copies: this costs one step per entry whatever the lists hold), read once
    for all the rules; what the rules derive from them is computed when first asked for."""

    __slots__ = (
        "_all_shared",
        "_all_tags",
        "_claims",
        "_groups",
        "_images",
        "_several",
        "_with_arch_fields",
        "architectures",
        "entries",
        "manifest",
        "shared_tags",
        "tags",
    )

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.entries = manifest.entries
        self.tags: list[list[str]] = []
        self.shared_tags: list[list[str]] = []
        self.architectures: list[list[str]] = []
        for entry in self.entries:  # (Entry.tags, .shared_tags and .architectures, in one go)
            values = entry.values
            tags, shared, architectures = (
                values.get("Tags"),
                values.get("SharedTags"),
                values.get("Architectures"),
            )
            self.tags.append(tags if isinstance(tags, list) else [])
            self.shared_tags.append(shared if isinstance(shared, list) else [])
            self.architectures.append(architectures if isinstance(architectures, list) else [])
        self._all_tags: list[str] | None = None
        self._all_shared: list[str] | None = None
        self._several: set[str] | None = None
        self._claims: dict[tuple[str, str], list[Entry]] | None = None
        self._images: dict[tuple[object, ...], int] = {}  # build key -> image number
        self._groups: dict[int, int] = {}  # entry (id) -> its image number
        self._with_arch_fields: list[Entry] | None = None

    def all_tags(self) -> list[str]:
        """Every entry's Tags, in order."""
        if self._all_tags is None:
            self._all_tags = list(chain.from_iterable(self.tags))
        return self._all_tags

    def all_shared_tags(self) -> list[str]:
        """Every entry's SharedTags, in order."""
        if self._all_shared is None:
            self._all_shared = list(chain.from_iterable(self.shared_tags))
        return self._all_shared

    def shared_by_several(self) -> set[str]:
        """The shared tags that more than one entry lists: only those can be claimed by two
        images (a shared tag of one entry is one image's, on every architecture)."""
        if self._several is None:
            once: set[str] = set()
            several: set[str] = set()
            for shared in self.shared_tags:
                if shared:
                    own = set(shared)
                    if not once.isdisjoint(own):
                        several.update(own.intersection(once))
                    once.update(own)
            self._several = several
        return self._several

    def claims(self) -> dict[tuple[str, str], list[Entry]]:
        """(shared tag, architecture) -> the entries that claim it, for the shared tags that
        several entries list (the only ones two images can claim)."""
        if self._claims is None:
            several = self.shared_by_several()
            claims: dict[tuple[str, str], list[Entry]] = {}
            if several:
                for entry, shared_tags, architectures in zip(
                    self.entries, self.shared_tags, self.architectures, strict=True
                ):
                    for shared in shared_tags:
                        if shared in several:
                            for architecture in architectures:
                                claims.setdefault((shared, architecture), []).append(entry)
            self._claims = claims
        return self._claims

    def image(self, entry: Entry) -> int:
        """The number of the image the entry builds: equal for entries with equal build keys,
        which bashbrew merges into one (each build key computed once)."""
        group = self._groups.get(id(entry))
        if group is None:
            group = self._images.setdefault(entry.build_key(), len(self._images))
            self._groups[id(entry)] = group
        return group

    def with_arch_fields(self) -> list[Entry]:
        """The global entry and the entries that set an `ARCH-*` field themselves (most set
        none; the field names of a file are few, and each is classified once)."""
        if self._with_arch_fields is None:
            paragraphs = [self.manifest.global_entry, *self.entries]
            written = frozenset().union(*(entry.own_keys for entry in paragraphs))
            arch_keys = {key for key in written if arch_field_parts(key) is not None}
            self._with_arch_fields = [
                entry
                for entry in paragraphs
                if arch_keys and not entry.own_keys.isdisjoint(arch_keys)
            ]
        return self._with_arch_fields


RuleFunction = Callable[[Facts], Iterator[Problem]]
REGISTRY: dict[str, RuleFunction] = {}


def rule(code: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function under its catalogued code."""
    if code not in RULES:
        raise KeyError(f"rule {code!r} is not in the catalog")

    def register(function: RuleFunction) -> RuleFunction:
        REGISTRY[code] = function
        return function

    return register


# Entries inherit the global SharedTags and Architectures, so a short file can describe a huge
# model (10,000 global shared tags x 5,000 one-line entries). The rules across entries look at
# every entry's lists; beyond this many items per line of the file they are not run, and the
# manifest says so (`manifest-too-complex`) instead of costing minutes. Real library files stay
# far below it (the corpus's largest is about 7 items per line).
COMPLEXITY_PER_LINE = 40
COMPLEXITY_FLOOR = 20_000


def complexity_limit(manifest: Manifest) -> int:
    """The most `complexity` a file of this many lines may have."""
    return COMPLEXITY_FLOOR + COMPLEXITY_PER_LINE * manifest.line_count


def complexity(manifest: Manifest, limit: int) -> int:
    """How many list items the rules across entries look at, plus the pairs of images (groups
    of merged entries) that claim one shared tag on one architecture (shared-tag-arch-overlap
    compares each pair). Counting stops once past `limit`, so it costs at most that much."""
    return _complexity(Facts(manifest), limit)


def _complexity(facts: Facts, limit: int) -> int:
    items = 0
    for tags, shared_tags, architectures in zip(
        facts.tags, facts.shared_tags, facts.architectures, strict=True
    ):
        items += len(tags) + len(shared_tags) * max(1, len(architectures))
        if items > limit:
            return items
    if not facts.shared_by_several():  # every claim is one image's: no pairs
        return items
    total = items + _pairs(facts)
    if total <= limit:  # what the walk below finds when it does not stop early
        return total
    claims: dict[tuple[str, str], set[tuple[object, ...]]] = {}
    for entry in facts.entries:  # at most `limit` (shared tag, architecture) claims
        if entry.shared_tags:
            group = entry.build_key()  # entries bashbrew merges are one image
            for shared in entry.shared_tags:
                for architecture in entry.architectures:
                    claims.setdefault((shared, architecture), set()).add(group)
    for groups in claims.values():
        items += len(groups) * (len(groups) - 1) // 2
        if items > limit:
            break
    return items


def _pairs(facts: Facts) -> int:
    """The pairs of images that claim one shared tag on one architecture, all of them (build
    keys computed only for the entries that meet another on a claim)."""
    pairs = 0
    for entries in facts.claims().values():
        if len(entries) > 1:
            groups = {facts.image(entry) for entry in entries}
            pairs += len(groups) * (len(groups) - 1) // 2
    return pairs


def run_rules(manifest: Manifest) -> Iterator[Problem]:
    facts = Facts(manifest)
    lines = manifest.line_count
    if lines:
        limit = complexity_limit(manifest)
        size = _complexity(facts, limit)
        if size > limit:
            yield problem(
                "manifest-too-complex",
                f"the entries inherit list values {size:,} times over (at most {limit:,} for a "
                f"file of {lines:,} lines): the rules across entries were not run",
                line=manifest.global_entry.first_line,
            )
            yield from image_name(facts)
            return
    for function in REGISTRY.values():
        yield from function(facts)


@rule("invalid-image-name")
def image_name(facts: Facts) -> Iterator[Problem]:
    name = facts.manifest.name
    if not is_image_name(name):
        yield problem("invalid-image-name", f"{name!r} is not a valid image repository name")


def _first_line(entry: Entry, tag: str) -> int:
    """The line of the first of the entry's Tags equal to `tag`."""
    return entry.line_of("Tags", entry.tags.index(tag))


@rule("duplicate-tag")
def duplicate_tags(facts: Facts) -> Iterator[Problem]:
    all_tags = facts.all_tags()
    tag_set = set(all_tags)
    if len(tag_set) == len(all_tags) and tag_set.isdisjoint(facts.all_shared_tags()):
        return  # no Tag used twice, none also a shared tag (of this entry or another)
    first_use: dict[str, Entry] = {}  # tag -> the entry that first used it as a Tag
    for entry, tags, shared_tags in zip(facts.entries, facts.tags, facts.shared_tags, strict=True):
        own = set(tags)
        if len(own) == len(tags) and first_use.keys().isdisjoint(own):
            first_use.update(dict.fromkeys(tags, entry))  # no repeated Tag in this entry
        else:
            own.clear()
            for index, tag in enumerate(tags):
                if tag in own:
                    yield problem(
                        "duplicate-tag",
                        f"tag {tag!r} is listed twice in this entry",
                        line=entry.line_of("Tags", index),
                        field="Tags",
                    )
                elif tag in first_use:
                    yield problem(
                        "duplicate-tag",
                        f"tag {tag!r} is already used on line {_first_line(first_use[tag], tag)}",
                        line=entry.line_of("Tags", index),
                        field="Tags",
                    )
                own.add(tag)
                first_use.setdefault(tag, entry)
        if shared_tags and not own.isdisjoint(shared_tags):
            for index, shared in enumerate(shared_tags):
                if shared in own:
                    yield problem(
                        "duplicate-tag",
                        f"shared tag {shared!r} is also one of this entry's Tags",
                        line=entry.line_of("SharedTags", index),
                        field="SharedTags",
                    )


@rule("shared-tag-conflict")
def shared_tag_conflicts(facts: Facts) -> Iterator[Problem]:
    if set(facts.all_tags()).isdisjoint(facts.all_shared_tags()):
        return  # no tag is anyone's shared tag
    tag_owner: dict[str, Entry] = {}
    shared_owner: dict[str, Entry] = {}
    for entry, tags, shared_tags in zip(facts.entries, facts.tags, facts.shared_tags, strict=True):
        if shared_owner and not shared_owner.keys().isdisjoint(tags):
            for index, tag in enumerate(tags):
                other = shared_owner.get(tag)
                if other is not None and other is not entry:
                    yield problem(
                        "shared-tag-conflict",
                        f"tag {tag!r} is a shared tag of the entry on line {other.first_line}",
                        line=entry.line_of("Tags", index),
                        field="Tags",
                    )
        if shared_tags and not tag_owner.keys().isdisjoint(shared_tags):
            for index, shared in enumerate(shared_tags):
                other = tag_owner.get(shared)
                if other is not None and other is not entry:
                    yield problem(
                        "shared-tag-conflict",
                        f"shared tag {shared!r} is a tag of the entry on line {other.first_line}",
                        line=entry.line_of("SharedTags", index),
                        field="SharedTags",
                    )
        for tag in tags:
            tag_owner.setdefault(tag, entry)
        for shared in shared_tags:
            shared_owner.setdefault(shared, entry)


def _latest_inside(tags: list[str]) -> bool:
    """Whether a tag has "latest" in it without being "latest": each tag that is exactly
    "latest" holds it once, so any more is a tag with it inside (and "latest" holds no NUL, so
    no occurrence spans two tags)."""
    return "\0".join(tags).count("latest") != tags.count("latest")


@rule("latest-in-tag")
def latest_in_tag(facts: Facts) -> Iterator[Problem]:
    if not _latest_inside(facts.all_tags()) and not _latest_inside(facts.all_shared_tags()):
        return
    for entry in facts.entries:
        for key in ("Tags", "SharedTags"):
            tags = entry.items(key)
            if not _latest_inside(tags):
                continue
            for index, tag in enumerate(tags):
                if "latest" in tag and tag != "latest":
                    yield problem(
                        "latest-in-tag",
                        f"{key} {tag!r} contains 'latest' but is not 'latest'",
                        line=entry.line_of(key, index),
                        field=key,
                    )


@rule("shared-tag-arch-overlap")
def shared_tag_arch_overlap(facts: Facts) -> Iterator[Problem]:
    """One problem per shared tag and pair of entries, naming every architecture both claim
    (as official-images' naughty-sharedtags.sh groups them), on the later entry's SharedTags."""
    # Only the claims of several entries (shared tags that several entries list, on one
    # architecture) can overlap: the walk skips the others, and the entries with none.
    claims = facts.claims()
    meeting = {id(entry) for entries in claims.values() if len(entries) > 1 for entry in entries}
    # (shared tag, architecture) -> the first entry of every earlier image (group of merged
    # entries) that claims it; the pairs this walks are bounded by complexity() (run_rules does
    # not run the rules beyond it)
    claimed: dict[tuple[str, str], dict[int, Entry]] = {}
    for entry in facts.entries:
        if id(entry) not in meeting:
            continue
        for index, shared in enumerate(entry.shared_tags):
            overlaps: dict[int, tuple[Entry, list[str]]] = {}  # other entry -> architectures
            for architecture in entry.architectures:
                if is_windows(architecture) or len(claims.get((shared, architecture), ())) < 2:
                    continue
                earlier = claimed.setdefault((shared, architecture), {})
                # entries that bashbrew merges are one image: they cannot overlap
                own = facts.image(entry)
                for group, other in earlier.items():
                    if group != own:
                        overlaps.setdefault(id(other), (other, []))[1].append(architecture)
                earlier.setdefault(own, entry)
            for other, architectures in overlaps.values():
                images = (
                    f"an {architectures[0]} image"
                    if len(architectures) == 1
                    else f"{', '.join(architectures[:-1])} and {architectures[-1]} images"
                )
                yield problem(
                    "shared-tag-arch-overlap",
                    f"shared tag {shared!r} already has {images} from the entry on line "
                    f"{other.first_line}",
                    line=entry.line_of("SharedTags", index),
                    field="SharedTags",
                )


def _escapes(path: str) -> bool:
    cleaned = go_path_clean(path)
    return path.startswith("/") or cleaned == ".." or cleaned.startswith("../")


def _within(directory: str, file: str) -> str:
    """The path of `file` in the repository (File is relative to Directory)."""
    return file if file.startswith("/") else f"{directory}/{file}"


def _build_paths(entry: Entry) -> Iterator[tuple[str, str]]:
    """(field, path in the repository) for Directory, File and their ARCH-* variants."""
    directory = entry.scalar("Directory")
    yield "Directory", directory
    if not _escapes(directory):  # else File is outside too: one problem is enough
        yield "File", _within(directory, entry.scalar("File"))
    for key in entry.arch_keys():
        architecture, kind = arch_field_parts(key) or ("", "")
        directory = entry.arch_value(architecture, "Directory")
        if kind == "Directory":
            yield key, directory
        elif kind == "File" and not _escapes(directory):
            yield key, _within(directory, entry.arch_value(architecture, "File"))


# (Directory, File) of entries without ARCH-* fields whose paths stay in the repository: the
# same pairs recur in every entry and file (a bounded memo)
_INSIDE: set[tuple[str, str]] = set()
_INSIDE_LIMIT = 10_000


@rule("path-escapes-repository")
def path_escapes_repository(facts: Facts) -> Iterator[Problem]:
    for entry in facts.entries:
        plain = not entry.arch_keys()
        if plain:
            values = entry.values
            pair = (values.get("Directory", ""), values.get("File", ""))
            if pair in _INSIDE:  # (which holds strings only: the values themselves)
                continue
        inside = True
        for field, path in _build_paths(entry):
            if _escapes(path):
                inside = False
                where = "absolute" if path.startswith("/") else "outside the repository"
                yield problem(
                    "path-escapes-repository",
                    f"{field} {entry.scalar(field)!r} is {where} ({path!r})",
                    line=entry.line_of(field),
                    field=field,
                )
        if plain and inside:
            directory, file = pair
            if isinstance(directory, str) and isinstance(file, str):
                if len(_INSIDE) >= _INSIDE_LIMIT:
                    _INSIDE.clear()
                _INSIDE.add((directory, file))


@rule("unused-arch-field")
def unused_arch_fields(facts: Facts) -> Iterator[Problem]:
    manifest = facts.manifest
    built_anywhere: set[str] | None = None
    for entry in facts.with_arch_fields():
        for key in entry.own_keys:
            parts = arch_field_parts(key)
            if parts is None or parts[0] not in SUPPORTED_ARCHITECTURES:
                continue
            architecture = parts[0]
            # a global ARCH-* field is fine as long as some entry builds that architecture
            if entry.number == 0:
                if built_anywhere is None:
                    built_anywhere = {a for each in manifest.entries for a in each.architectures}
                built = built_anywhere
            else:
                built = set(entry.architectures)
            if architecture not in built:
                yield problem(
                    "unused-arch-field",
                    f"{key} is set but "
                    + ("no entry builds " if entry.number == 0 else "this entry does not build ")
                    + architecture,
                    line=entry.line_of(key),
                    field=key,
                )


@rule("unknown-arch-prefix")
def unknown_arch_prefix(facts: Facts) -> Iterator[Problem]:
    for entry in facts.with_arch_fields():
        for key in entry.own_keys:
            parts = arch_field_parts(key)
            if parts is not None and parts[0] not in SUPPORTED_ARCHITECTURES:
                yield problem(
                    "unknown-arch-prefix",
                    f"{key}: {parts[0]!r} is not a supported architecture; the field is never used",
                    line=entry.line_of(key),
                    field=key,
                )
