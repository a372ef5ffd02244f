"""Every rule of the catalog: a manifest that breaks it (expected code and line) and a close one
that passes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manifest_validation.checks.pipeline import validate
from manifest_validation.checks.rules import REGISTRY, _build_paths, _escapes, complexity
from manifest_validation.libraryfile.architectures import SUPPORTED_ARCHITECTURES
from manifest_validation.libraryfile.model import Entry, Manifest, arch_field_parts
from manifest_validation.libraryfile.parse import parse
from manifest_validation.problems.catalog import RULES
from test_properties import manifest_text

from .rule_cases import C1, C2, CASES, HEAD, Case

# Needs a deadline that passes during validation: tested in test_limits.py.
NOT_STATIC = {"validation-budget-exceeded"}


def positions(text: str | bytes, name: str) -> list[tuple[str, int | None]]:
    return [(p.code, p.line) for p in validate(name, text).problems]


def test_every_static_rule_has_a_case() -> None:
    # upstream and build rules need the network (test_check_verify_git.py, test_builds*);
    # docs-folder rules have their cases in docs/test_docs.py
    static = {
        code for code, rule in RULES.items() if rule.source not in ("upstream", "builds", "docs")
    } - NOT_STATIC
    assert static == {case.code for case in CASES}


def test_every_registered_rule_is_catalogued_as_a_cross_value_rule() -> None:
    assert set(REGISTRY) == {code for code, rule in RULES.items() if rule.source == "rules"}


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_rule_fires_on_the_bad_manifest_at_the_right_line(case: Case) -> None:
    assert (case.code, case.line) in positions(case.bad, case.name)


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_rule_is_silent_on_the_good_manifest(case: Case) -> None:
    assert [code for code, _ in positions(case.good, case.good_name)] == []


@pytest.mark.parametrize("case", CASES, ids=[case.code for case in CASES])
def test_every_problem_carries_the_catalog_severity_and_a_hint(case: Case) -> None:
    for found in validate(case.name, case.bad).problems:
        assert found.severity is RULES[found.code].severity
        assert found.hint


def test_duplicate_tag_inside_one_entry_and_shared_tag_equal_to_tag() -> None:
    found = positions(HEAD + "\nTags: a, b, a\nSharedTags: b\n", "img")
    assert found == [("duplicate-tag", 5), ("duplicate-tag", 6)]


def test_tag_then_later_shared_tag_conflict_points_at_the_later_shared_tag() -> None:
    text = HEAD + "\nTags: a\n\nTags: b\nSharedTags: a\nDirectory: x\n"
    assert positions(text, "img") == [("shared-tag-conflict", 8)]


def test_inherited_global_error_is_reported_once_at_the_global_line() -> None:
    text = HEAD.replace(C1, "deadbeef") + "\nTags: a\n\nTags: b\nDirectory: b\n"
    assert positions(text, "img") == [("invalid-git-commit", 3)]


def test_missing_field_points_at_the_entry_that_lacks_it() -> None:
    text = "Maintainers: Jane Doe (@jane)\n\nTags: a\nGitRepo: https://e.com/r.git\n"
    assert positions(text, "img") == [("missing-field", 3)]
    assert validate("img", text).problems[0].field == "GitCommit"


def test_merged_entries_do_not_overlap_their_shared_tags() -> None:
    text = HEAD + "\nTags: a\nSharedTags: s\n\nTags: b\nSharedTags: s\n"
    assert positions(text, "img") == []


def test_windows_entries_may_share_a_tag_on_the_same_architecture() -> None:
    text = (
        HEAD + "\nTags: a\nSharedTags: s\nArchitectures: windows-amd64\nDirectory: a\n\n"
        "Tags: b\nSharedTags: s\nArchitectures: windows-amd64\nDirectory: b\n"
    )
    assert positions(text, "img") == []


def test_file_outside_the_repository_and_absolute_paths() -> None:
    text = HEAD + "\nTags: a\nDirectory: d\nFile: ../../Dockerfile\n\nTags: b\nDirectory: /abs\n"
    assert positions(text, "img") == [
        ("path-escapes-repository", 7),
        ("path-escapes-repository", 10),
    ]


def test_latest_itself_is_fine_and_case_sensitive() -> None:
    assert positions(HEAD + "\nTags: latest, LATEST-x\n", "img") == []


def test_one_overlap_problem_per_shared_tag_and_pair_of_entries() -> None:
    # like a historical nats: two shared tags over four architectures used to give 8 errors
    arches = "amd64, arm32v6, arm64v8, s390x"
    text = (
        HEAD + f"\nTags: 2.9\nSharedTags: 2, latest\nArchitectures: {arches}\n\n"
        f"Tags: 2.10\nSharedTags: 2, latest\nArchitectures: {arches}, windows-amd64\n"
        "Directory: b\n"
    )
    found = [p for p in validate("img", text).problems if p.code == "shared-tag-arch-overlap"]
    assert [(p.line, p.message) for p in found] == [
        (
            10,
            "shared tag '2' already has amd64, arm32v6, arm64v8 and s390x images from the "
            "entry on line 5",
        ),
        (
            10,
            "shared tag 'latest' already has amd64, arm32v6, arm64v8 and s390x images from the "
            "entry on line 5",
        ),
    ]


def test_a_third_entry_overlapping_two_others_gets_one_problem_per_pair() -> None:
    text = (
        HEAD + "\nTags: a\nSharedTags: s\nArchitectures: amd64\n\n"
        "Tags: b\nSharedTags: s\nArchitectures: s390x\nDirectory: b\n\n"
        "Tags: c\nSharedTags: s\nArchitectures: amd64, s390x\nDirectory: c\n"
    )
    found = [
        p.message for p in validate("img", text).problems if p.code == "shared-tag-arch-overlap"
    ]
    assert found == [
        "shared tag 's' already has an amd64 image from the entry on line 5",
        "shared tag 's' already has an s390x image from the entry on line 9",
    ]


def walked_complexity(manifest: Manifest, limit: int) -> int:
    """complexity() as a plain walk over every claim, stopping once past `limit`: what the
    shortcuts of `complexity` must give, also in the number a too-complex message shows."""
    items = 0
    for entry in manifest.entries:
        items += len(entry.tags) + len(entry.shared_tags) * max(1, len(entry.architectures))
        if items > limit:
            return items
    claims: dict[tuple[str, str], set[tuple[object, ...]]] = {}
    for entry in manifest.entries:
        for shared in entry.shared_tags:
            for architecture in entry.architectures:
                claims.setdefault((shared, architecture), set()).add(entry.build_key())
    for groups in claims.values():
        items += len(groups) * (len(groups) - 1) // 2
        if items > limit:
            break
    return items


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifest_text(), st.integers(0, 40))
def test_complexity_is_the_plain_walk_at_every_limit(text: str, limit: int) -> None:
    manifest = parse("img", text)
    for at in (limit, 10**9):
        assert complexity(manifest, at) == walked_complexity(manifest, at)


def test_complexity_of_real_files_is_the_plain_walk(corpus: list[tuple[str, bytes]]) -> None:
    for name, data in corpus:
        manifest = parse(name, data)
        for at in (0, 50, 500, 10**9):
            assert complexity(manifest, at) == walked_complexity(manifest, at), (name, at)


# --- every rule's shortcuts against the plain walk -----------------------------------------------
# The rules first ask the whole manifest whether it can have a problem at all; these plain walks
# (the rules as first written: every entry, every item) say what they must find.


def plain_findings(manifest: Manifest) -> list[tuple[str, int | None, str | None, str]]:
    found: list[tuple[str, int | None, str | None, str]] = []

    def add(code: str, line: int | None, field: str | None, message: str) -> None:
        found.append((code, line, field, message))

    first_use: dict[str, int] = {}
    for entry in manifest.entries:
        own: set[str] = set()
        for index, tag in enumerate(entry.tags):
            line = entry.line_of("Tags", index)
            if tag in own:
                add("duplicate-tag", line, "Tags", f"tag {tag!r} is listed twice in this entry")
            elif tag in first_use:
                message = f"tag {tag!r} is already used on line {first_use[tag]}"
                add("duplicate-tag", line, "Tags", message)
            own.add(tag)
            first_use.setdefault(tag, line)
        for index, shared in enumerate(entry.shared_tags):
            if shared in own:
                message = f"shared tag {shared!r} is also one of this entry's Tags"
                add("duplicate-tag", entry.line_of("SharedTags", index), "SharedTags", message)
    tag_owner: dict[str, Entry] = {}
    shared_owner: dict[str, Entry] = {}
    for entry in manifest.entries:
        for index, tag in enumerate(entry.tags):
            other = shared_owner.get(tag)
            if other is not None and other is not entry:
                message = f"tag {tag!r} is a shared tag of the entry on line {other.first_line}"
                add("shared-tag-conflict", entry.line_of("Tags", index), "Tags", message)
        for index, shared in enumerate(entry.shared_tags):
            other = tag_owner.get(shared)
            if other is not None and other is not entry:
                message = f"shared tag {shared!r} is a tag of the entry on line {other.first_line}"
                add(
                    "shared-tag-conflict", entry.line_of("SharedTags", index), "SharedTags", message
                )
        for tag in entry.tags:
            tag_owner.setdefault(tag, entry)
        for shared in entry.shared_tags:
            shared_owner.setdefault(shared, entry)
    for entry in manifest.entries:
        for key in ("Tags", "SharedTags"):
            for index, tag in enumerate(entry.items(key)):
                if "latest" in tag and tag != "latest":
                    message = f"{key} {tag!r} contains 'latest' but is not 'latest'"
                    add("latest-in-tag", entry.line_of(key, index), key, message)
    claimed: dict[tuple[str, str], dict[tuple[object, ...], Entry]] = {}
    for entry in manifest.entries:
        for index, shared in enumerate(entry.shared_tags):
            overlaps: dict[int, tuple[Entry, list[str]]] = {}
            for architecture in entry.architectures:
                if architecture.startswith("windows-"):
                    continue
                earlier = claimed.setdefault((shared, architecture), {})
                for group, other in earlier.items():
                    if group != entry.build_key():
                        overlaps.setdefault(id(other), (other, []))[1].append(architecture)
                earlier.setdefault(entry.build_key(), entry)
            for other, arches in overlaps.values():
                images = (
                    f"an {arches[0]} image"
                    if len(arches) == 1
                    else f"{', '.join(arches[:-1])} and {arches[-1]} images"
                )
                message = (
                    f"shared tag {shared!r} already has {images} from the entry on line "
                    f"{other.first_line}"
                )
                add(
                    "shared-tag-arch-overlap",
                    entry.line_of("SharedTags", index),
                    "SharedTags",
                    message,
                )
    for entry in manifest.entries:
        for field, path in _build_paths(entry):
            if _escapes(path):
                where = "absolute" if path.startswith("/") else "outside the repository"
                message = f"{field} {entry.scalar(field)!r} is {where} ({path!r})"
                add("path-escapes-repository", entry.line_of(field), field, message)
    built_anywhere = {arch for entry in manifest.entries for arch in entry.architectures}
    for entry in (manifest.global_entry, *manifest.entries):
        for key in sorted(entry.own_keys):
            parts = arch_field_parts(key)
            if parts is None:
                continue
            if parts[0] not in SUPPORTED_ARCHITECTURES:
                message = (
                    f"{key}: {parts[0]!r} is not a supported architecture; the field is never used"
                )
                add("unknown-arch-prefix", entry.line_of(key), key, message)
                continue
            built = built_anywhere if entry.number == 0 else set(entry.architectures)
            if parts[0] not in built:
                where = "no entry builds " if entry.number == 0 else "this entry does not build "
                add(
                    "unused-arch-field",
                    entry.line_of(key),
                    key,
                    f"{key} is set but {where}{parts[0]}",
                )
    return found


RULE_CODES = {
    "path-escapes-repository",
    "duplicate-tag",
    "shared-tag-conflict",
    "latest-in-tag",
    "shared-tag-arch-overlap",
    "unused-arch-field",
    "unknown-arch-prefix",
}


@st.composite
def tangled_manifest(draw: st.DrawFn) -> str:
    """Entries whose Tags and SharedTags come from one small pool (so that they repeat,
    conflict and overlap), some of them identical builds, with ARCH-* fields of known and
    unknown architectures."""
    pool = st.sampled_from(["a", "b", "latest", "1-latest", "latest-x", "c", "s"])
    arches = st.lists(
        st.sampled_from(["amd64", "arm64v8", "s390x", "windows-amd64"]), min_size=1, unique=True
    )
    lines = [HEAD.rstrip("\n")]
    if draw(st.booleans()):
        lines.append(f"SharedTags: {', '.join(draw(st.lists(pool, min_size=1, max_size=2)))}")
    if draw(st.booleans()):
        lines.append(f"Architectures: {', '.join(draw(arches))}")
    if draw(st.booleans()):
        lines.append(f"{draw(st.sampled_from(['s390x', 'foo', 'i386']))}-GitCommit: {C2}")
    paragraphs = ["\n".join(lines)]
    for _ in range(draw(st.integers(1, 5))):
        fields = [f"Tags: {', '.join(draw(st.lists(pool, min_size=1, max_size=3)))}"]
        if draw(st.booleans()):
            fields.append(f"SharedTags: {', '.join(draw(st.lists(pool, max_size=3)))}")
        if draw(st.booleans()):
            fields.append(f"Architectures: {', '.join(draw(arches))}")
        if draw(st.booleans()):
            fields.append(f"Directory: {draw(st.sampled_from(['x', 'y', '.', '../up', '/a']))}")
        if draw(st.booleans()):
            fields.append(f"File: {draw(st.sampled_from(['Dockerfile', '../../F', '/F']))}")
        if draw(st.booleans()):
            prefix = draw(st.sampled_from(["amd64", "s390x", "bogus", "arm64v8"]))
            fields.append(f"{prefix}-Directory: {draw(st.sampled_from(['x', 'z', '..']))}")
        paragraphs.append("\n".join(fields))
    return "\n\n".join(paragraphs) + "\n"


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tangled_manifest())
def test_the_rules_find_what_the_plain_walks_find(text: str) -> None:
    manifest = parse("img", text)
    found = [
        (p.code, p.line, p.field, p.message)
        for p in validate("img", text).problems
        if p.code in RULE_CODES
    ]
    assert sorted(found, key=str) == sorted(set(plain_findings(manifest)), key=str)
