"""Rules that need more than one value: one small function per rule, in a registry.

Each function takes a parsed manifest and yields problems of exactly one catalogued code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..libraryfile.architectures import SUPPORTED_ARCHITECTURES, is_windows
from ..libraryfile.model import Entry, Manifest, arch_field_parts
from ..libraryfile.names import is_image_name
from ..libraryfile.reader import go_path_clean
from ..problems.catalog import RULES, problem
from ..problems.problem import Problem

RuleFunction = Callable[[Manifest], Iterator[Problem]]
REGISTRY: dict[str, RuleFunction] = {}

# docker/distribution's reference grammar for one path component (official images are one).


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
    items = 0
    for entry in manifest.entries:
        items += len(entry.tags) + len(entry.shared_tags) * max(1, len(entry.architectures))
        if items > limit:
            return items
    claims: dict[tuple[str, str], set[tuple[object, ...]]] = {}
    for entry in manifest.entries:  # at most `limit` (shared tag, architecture) claims
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


def run_rules(manifest: Manifest) -> Iterator[Problem]:
    lines = manifest.line_count
    if lines:
        limit = complexity_limit(manifest)
        size = complexity(manifest, limit)
        if size > limit:
            yield problem(
                "manifest-too-complex",
                f"the entries inherit list values {size:,} times over (at most {limit:,} for a "
                f"file of {lines:,} lines): the rules across entries were not run",
                line=manifest.global_entry.first_line,
            )
            yield from image_name(manifest)
            return
    for function in REGISTRY.values():
        yield from function(manifest)


@rule("invalid-image-name")
def image_name(manifest: Manifest) -> Iterator[Problem]:
    if not is_image_name(manifest.name):
        yield problem(
            "invalid-image-name",
            f"{manifest.name!r} is not a valid image repository name",
        )


@rule("duplicate-tag")
def duplicate_tags(manifest: Manifest) -> Iterator[Problem]:
    first_use: dict[str, int] = {}  # tag -> line where it was first used as a Tag
    for entry in manifest.entries:
        own: set[str] = set()
        for index, tag in enumerate(entry.tags):
            line = entry.line_of("Tags", index)
            if tag in own:
                yield problem(
                    "duplicate-tag",
                    f"tag {tag!r} is listed twice in this entry",
                    line=line,
                    field="Tags",
                )
            elif tag in first_use:
                yield problem(
                    "duplicate-tag",
                    f"tag {tag!r} is already used on line {first_use[tag]}",
                    line=line,
                    field="Tags",
                )
            own.add(tag)
            first_use.setdefault(tag, line)
        for index, shared in enumerate(entry.shared_tags):
            if shared in own:
                yield problem(
                    "duplicate-tag",
                    f"shared tag {shared!r} is also one of this entry's Tags",
                    line=entry.line_of("SharedTags", index),
                    field="SharedTags",
                )


@rule("shared-tag-conflict")
def shared_tag_conflicts(manifest: Manifest) -> Iterator[Problem]:
    tag_owner: dict[str, Entry] = {}
    shared_owner: dict[str, Entry] = {}
    for entry in manifest.entries:
        for index, tag in enumerate(entry.tags):
            other = shared_owner.get(tag)
            if other is not None and other is not entry:
                yield problem(
                    "shared-tag-conflict",
                    f"tag {tag!r} is a shared tag of the entry on line {other.first_line}",
                    line=entry.line_of("Tags", index),
                    field="Tags",
                )
        for index, shared in enumerate(entry.shared_tags):
            other = tag_owner.get(shared)
            if other is not None and other is not entry:
                yield problem(
                    "shared-tag-conflict",
                    f"shared tag {shared!r} is a tag of the entry on line {other.first_line}",
                    line=entry.line_of("SharedTags", index),
                    field="SharedTags",
                )
        for tag in entry.tags:
            tag_owner.setdefault(tag, entry)
        for shared in entry.shared_tags:
            shared_owner.setdefault(shared, entry)


@rule("latest-in-tag")
def latest_in_tag(manifest: Manifest) -> Iterator[Problem]:
    for entry in manifest.entries:
        for key in ("Tags", "SharedTags"):
            for index, tag in enumerate(entry.items(key)):
                if "latest" in tag and tag != "latest":
                    yield problem(
                        "latest-in-tag",
                        f"{key} {tag!r} contains 'latest' but is not 'latest'",
                        line=entry.line_of(key, index),
                        field=key,
                    )


@rule("shared-tag-arch-overlap")
def shared_tag_arch_overlap(manifest: Manifest) -> Iterator[Problem]:
    """One problem per shared tag and pair of entries, naming every architecture both claim
    (as official-images' naughty-sharedtags.sh groups them), on the later entry's SharedTags."""
    # Entries that bashbrew merges are one image: they cannot overlap with themselves. (Their
    # build keys are computed only for entries that meet another on a shared tag.)
    keys: dict[int, tuple[object, ...]] = {}

    def group_of(entry: Entry) -> tuple[object, ...]:
        key = keys.get(id(entry))
        if key is None:
            key = keys[id(entry)] = entry.build_key()
        return key

    # (shared tag, architecture) -> the first entry of every earlier image (group of merged
    # entries) that claims it; the pairs this walks are bounded by complexity() (run_rules does
    # not run the rules beyond it)
    claimed: dict[tuple[str, str], dict[tuple[object, ...], Entry]] = {}
    for entry in manifest.entries:
        for index, shared in enumerate(entry.shared_tags):
            overlaps: dict[int, tuple[Entry, list[str]]] = {}  # other entry -> architectures
            for architecture in entry.architectures:
                if is_windows(architecture):
                    continue
                earlier = claimed.setdefault((shared, architecture), {})
                own = group_of(entry)
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


@rule("path-escapes-repository")
def path_escapes_repository(manifest: Manifest) -> Iterator[Problem]:
    for entry in manifest.entries:
        for field, path in _build_paths(entry):
            if _escapes(path):
                where = "absolute" if path.startswith("/") else "outside the repository"
                yield problem(
                    "path-escapes-repository",
                    f"{field} {entry.scalar(field)!r} is {where} ({path!r})",
                    line=entry.line_of(field),
                    field=field,
                )


@rule("unused-arch-field")
def unused_arch_fields(manifest: Manifest) -> Iterator[Problem]:
    built_anywhere = {arch for entry in manifest.entries for arch in entry.architectures}
    for entry in (manifest.global_entry, *manifest.entries):
        for key in entry.own_keys:
            parts = arch_field_parts(key)
            if parts is None or parts[0] not in SUPPORTED_ARCHITECTURES:
                continue
            architecture = parts[0]
            # a global ARCH-* field is fine as long as some entry builds that architecture
            built = built_anywhere if entry.number == 0 else set(entry.architectures)
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
def unknown_arch_prefix(manifest: Manifest) -> Iterator[Problem]:
    for entry in (manifest.global_entry, *manifest.entries):
        for key in entry.own_keys:
            parts = arch_field_parts(key)
            if parts is not None and parts[0] not in SUPPORTED_ARCHITECTURES:
                yield problem(
                    "unknown-arch-prefix",
                    f"{key}: {parts[0]!r} is not a supported architecture; the field is never used",
                    line=entry.line_of(key),
                    field=key,
                )
