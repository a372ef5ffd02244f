"""Rules that need more than one value: one small function per rule, in a registry.

Each function takes a parsed manifest and yields problems of exactly one catalogued code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .architectures import SUPPORTED_ARCHITECTURES, is_windows
from .catalog import RULES, problem
from .manifest import Entry, Manifest, arch_field_parts, go_path_clean
from .problems import Problem

RuleFunction = Callable[[Manifest], Iterator[Problem]]
REGISTRY: dict[str, RuleFunction] = {}

# docker/distribution's reference grammar for one path component (official images are one).
IMAGE_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


def rule(code: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function under its catalogued code."""
    if code not in RULES:
        raise KeyError(f"rule {code!r} is not in the catalog")

    def register(function: RuleFunction) -> RuleFunction:
        REGISTRY[code] = function
        return function

    return register


def run_rules(manifest: Manifest) -> Iterator[Problem]:
    for function in REGISTRY.values():
        yield from function(manifest)


@rule("invalid-image-name")
def image_name(manifest: Manifest) -> Iterator[Problem]:
    if len(manifest.name) > 255 or not IMAGE_NAME.fullmatch(manifest.name):
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
    # Entries that bashbrew merges are one image: they cannot overlap with themselves.
    group_of = {id(entry): entry.build_key() for entry in manifest.entries}
    claimed: dict[tuple[str, str], Entry] = {}  # (shared tag, architecture) -> first entry
    for entry in manifest.entries:
        for index, shared in enumerate(entry.shared_tags):
            for architecture in entry.architectures:
                if is_windows(architecture):
                    continue
                other = claimed.setdefault((shared, architecture), entry)
                if other is entry or group_of[id(other)] == group_of[id(entry)]:
                    continue
                yield problem(
                    "shared-tag-arch-overlap",
                    f"shared tag {shared!r} already has an {architecture} image from the entry "
                    f"on line {other.first_line}",
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
