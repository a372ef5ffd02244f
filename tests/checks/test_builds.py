"""The build rules on parsed manifests and file contents given as a plain mapping (what the file
reader would answer); tests/checks/test_builds_git.py runs them over real git repositories."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from manifest_validation.checks.builds import BuildFindings, build_findings, build_reads
from manifest_validation.checks.parents import expected_windows_constraint
from manifest_validation.libraryfile.library import Library
from manifest_validation.libraryfile.parse import parse
from manifest_validation.libraryfile.pins import ExternalPins
from manifest_validation.problems.catalog import RULES
from manifest_validation.problems.problem import Severity
from manifest_validation.problems.status import Status, status_of
from manifest_validation.upstream.files import FileResult, FileStatus
from manifest_validation.upstream.registry import ArchitecturesResult, RegistryStatus

C1 = "1" * 40
C2 = "2" * 40
REPO = "https://example.invalid/app.git"

DEBIAN = f"""Maintainers: Deb (@deb)
GitRepo: https://example.invalid/debian.git
GitCommit: {C1}

Tags: bookworm, latest
Architectures: amd64, arm64v8

Tags: bookworm-slim
SharedTags: slim
Architectures: amd64
"""

SERVERCORE_IMAGE = f"""Maintainers: Win (@win)
GitRepo: https://example.invalid/win.git
GitCommit: {C1}

Tags: ltsc2022
Architectures: windows-amd64
Constraints: windowsservercore-ltsc2022
"""


SERVERCORE_DIGEST = "sha256:" + "5c" * 32
NANOSERVER_DIGEST = "sha256:" + "4a" * 32
VENDOR_DIGEST = "sha256:" + "7e" * 32
# the manifests repository's .external-pins (as files: official-images' naming)
PINS = ExternalPins.of_files(
    {
        "mcr.microsoft.com/windows/servercore___ltsc2022": f"{SERVERCORE_DIGEST}\n".encode(),
        "mcr.microsoft.com/windows/nanoserver___ltsc2022": f"{NANOSERVER_DIGEST}\n".encode(),
        "vendor/base___1": f"{VENDOR_DIGEST}\n".encode(),
        "vendor/broken___1": b"latest\n",
    }
)


def served(reference: str, *arches: str) -> ArchitecturesResult:
    return ArchitecturesResult(
        reference,
        RegistryStatus.FOUND,
        frozenset(arches),
        detail=f"The index serves {', '.join(sorted(arches))}.",
    )


# what the registry answers about each pinned digest (tests/test_builds_git.py asks a real one)
ANSWERS = {
    f"mcr.microsoft.com/windows/servercore:ltsc2022@{SERVERCORE_DIGEST}": "windows-amd64",
    f"mcr.microsoft.com/windows/nanoserver:ltsc2022@{NANOSERVER_DIGEST}": "windows-amd64",
    f"vendor/base:1@{VENDOR_DIGEST}": "amd64 arm64v8",
}


class Registry:
    """Answers for pinned references, counting what is asked."""

    def __init__(self, answers: dict[str, ArchitecturesResult] | None = None) -> None:
        self.answers = answers or {
            ref: served(ref, *arches.split()) for ref, arches in ANSWERS.items()
        }
        self.asked: list[list[str]] = []

    def __call__(self, references: object) -> dict[str, ArchitecturesResult]:
        wanted = sorted(references)  # type: ignore[call-overload]
        self.asked.append(wanted)
        return {ref: self.answers[ref] for ref in wanted}


def library(**files: str) -> Library:
    return Library({"debian": DEBIAN, "winbase": SERVERCORE_IMAGE, **files}, pins=PINS)


def findings(
    text: str,
    files: Mapping[str, str | None],
    lib: Library | None = None,
    *,
    name: str = "app",
    status: FileStatus | None = None,
    registry: Registry | None = None,
) -> BuildFindings:
    """Build findings of manifest `text` whose Dockerfiles (by path, any commit) are `files`
    (None: missing)."""
    manifest = parse(name, text)
    reads = build_reads(manifest)
    results = {}
    for request in reads.requests:
        content = files.get(request.path)
        if status is not None:
            results[request] = FileResult(status, detail="injected")
        elif content is None:  # as the reader says when the last component is absent
            parent, _, base = request.path.rpartition("/")
            reason = f"{parent or 'the top directory'} has no {base!r}"
            results[request] = FileResult(
                FileStatus.MISSING,
                detail=f"{request.path} does not exist at commit {request.commit}: {reason}.",
                missing_part=request.path.count("/"),
                missing_reason=reason,
            )
        else:
            results[request] = FileResult(FileStatus.FOUND, content.encode())
    others = (lib if lib is not None else library()).overlay([manifest])
    return build_findings(reads, results, others, registry=registry or Registry())


def codes(found: BuildFindings) -> list[tuple[str, int | None, str | None]]:
    return sorted((p.code, p.line, p.field) for p in found.problems)


def manifest(*entries: str, head: str = "") -> str:
    return f"Maintainers: Jane (@jane)\nGitRepo: {REPO}\nGitCommit: {C1}\n{head}\n" + "\n".join(
        entries
    )


# line numbers: the global paragraph takes lines 1-3 (+ head), the blank line 4
def test_a_library_where_every_parent_is_fine_has_no_problem() -> None:
    text = manifest(
        "Tags: 1\nArchitectures: amd64, arm64v8\nDirectory: 1\n",
        "Tags: 1-slim\nDirectory: 1/slim\n",
        "Tags: 1-scratch\nDirectory: scratch\n",
    )
    found = findings(
        text,
        {
            "1/Dockerfile": "FROM debian:bookworm\n",
            "1/slim/Dockerfile": "ARG V=slim\nFROM debian:bookworm-$V\nCOPY --from=app:1 / /\n",
            "scratch/Dockerfile": "FROM scratch\nADD rootfs.tar /\n",
        },
    )
    assert codes(found) == []
    assert found.froms == {
        1: {"amd64": ["debian:bookworm"], "arm64v8": ["debian:bookworm"]},
        2: {"amd64": ["debian:bookworm-slim", "app:1"]},
        3: {"amd64": ["scratch"]},
    }


def test_from_not_official_on_the_tags_line_grouping_architectures() -> None:
    text = manifest("Tags: 1, one\nArchitectures: amd64, arm64v8\n")
    found = findings(text, {"Dockerfile": "FROM someone/base:1\n"})
    assert codes(found) == [("from-not-official", 5, "Tags")]
    (only,) = found.problems
    assert "someone/base:1" in only.message
    assert "Dockerfile" in only.message
    assert "[amd64, arm64v8]" in only.message


def test_an_unknown_official_image_is_not_official() -> None:
    found = findings(manifest("Tags: 1\n"), {"Dockerfile": "FROM nosuchimage:1\n"})
    assert codes(found) == [("from-not-official", 5, "Tags")]
    assert "no official image" in found.problems[0].message


def test_from_tag_unknown() -> None:
    found = findings(manifest("Tags: 1\n"), {"Dockerfile": "FROM debian:sid\n"})
    assert codes(found) == [("from-tag-unknown", 5, "Tags")]
    assert "debian:sid" in found.problems[0].message
    assert "debian has no tag 'sid'" in found.problems[0].message


def test_a_digest_of_an_official_image_is_no_known_tag() -> None:
    digest = "debian@sha256:" + "a" * 64
    found = findings(manifest("Tags: 1\n"), {"Dockerfile": f"FROM {digest}\n"})
    assert codes(found) == [("from-tag-unknown", 5, "Tags")]
    message = found.problems[0].message
    assert digest in message and "a digest is none of debian's Tags or SharedTags" in message


def test_shared_tags_are_tags() -> None:
    found = findings(manifest("Tags: 1\n"), {"Dockerfile": "FROM debian:slim\n"})
    assert codes(found) == []


def test_from_arch_unsupported_on_the_architectures_line() -> None:
    text = manifest("Tags: 1\nArchitectures: amd64, arm64v8, s390x\n")
    found = findings(text, {"Dockerfile": "FROM debian:bookworm-slim\n"})
    assert codes(found) == [("from-arch-unsupported", 6, "Architectures")]
    assert "not built for arm64v8, s390x" in found.problems[0].message


def test_from_arch_unsupported_on_the_tags_line_when_architectures_are_inherited() -> None:
    text = manifest("Tags: 1\n", head="Architectures: amd64, arm64v8\n")
    found = findings(text, {"Dockerfile": "FROM debian:bookworm-slim\n"})
    assert codes(found) == [("from-arch-unsupported", 6, "Tags")]


def test_a_parent_in_the_same_manifest_resolves_against_it() -> None:
    text = manifest(
        "Tags: base\nArchitectures: amd64\nDirectory: base\n",
        "Tags: child\nArchitectures: amd64, arm64v8\nDirectory: child\n",
    )
    found = findings(
        text, {"base/Dockerfile": "FROM debian:bookworm\n", "child/Dockerfile": "FROM app:base\n"}
    )
    assert codes(found) == [("from-arch-unsupported", 10, "Architectures")]


def test_the_checked_manifest_takes_precedence_over_the_library_copy() -> None:
    # the library's `app` has no tag `base`; the manifest under check has it
    old = manifest("Tags: old\n")
    text = manifest("Tags: base\nDirectory: base\n", "Tags: child\nDirectory: child\n")
    files = {"base/Dockerfile": "FROM debian:bookworm\n", "child/Dockerfile": "FROM app:base\n"}
    assert codes(findings(text, files, library(app=old))) == []


def test_a_windows_latest_tag_is_an_unpinned_external_image() -> None:
    # naughty-from.sh of 2026-08-21 has no list of retired Windows tags any more: a Microsoft
    # base is an external image like any other, and no `latest` tag is pinned
    text = manifest("Tags: win\nArchitectures: windows-amd64\nConstraints: windowsservercore\n")
    found = findings(text, {"Dockerfile": "FROM mcr.microsoft.com/windows/servercore\n"})
    assert codes(found) == [("from-not-official", 5, "Tags")]
    assert found.problems[0].message == (
        "Dockerfile [windows-amd64] builds FROM mcr.microsoft.com/windows/servercore:latest, an "
        "external image that .external-pins does not pin "
        "(no .external-pins/mcr.microsoft.com/windows/servercore___latest)"
    )
    assert RULES["from-windows-latest"].retired


def test_windows_entry_with_its_constraints_is_fine() -> None:
    text = manifest(
        "Tags: win\nArchitectures: windows-amd64\nConstraints: windowsservercore-ltsc2022\n"
    )
    dockerfile = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir c:\\\n"
    assert codes(findings(text, {"Dockerfile": dockerfile})) == []


def test_windows_entry_without_its_constraints() -> None:
    text = manifest("Tags: win\nArchitectures: windows-amd64\n")
    found = findings(text, {"Dockerfile": "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n"})
    assert codes(found) == [("constraints-missing", 5, "Tags")]
    message = found.problems[0].message
    assert "nanoserver-ltsc2022" in message
    assert "mcr.microsoft.com/windows/nanoserver:ltsc2022" in message
    assert "windows-amd64" in message


def test_wrong_windows_constraint_is_missing_and_extra_on_the_constraints_line() -> None:
    text = manifest(
        "Tags: win\nArchitectures: windows-amd64\nConstraints: windowsservercore-1809\n"
    )
    found = findings(text, {"Dockerfile": "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"})
    assert codes(found) == [
        ("constraints-extra", 7, "Constraints"),
        ("constraints-missing", 7, "Constraints"),
    ]


def test_a_windows_base_on_linux_is_not_served_and_implies_its_constraint() -> None:
    # the pinned digest serves windows-amd64 only (CI asks its registry; no wildcard by
    # architecture any more), and naughty-constraints.sh derives the constraint of a Microsoft
    # base whatever naughty-from.sh says of it
    text = manifest("Tags: x\n")
    found = findings(text, {"Dockerfile": "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"})
    assert codes(found) == [
        ("constraints-missing", 5, "Tags"),
        ("from-arch-unsupported", 5, "Tags"),
    ]
    messages = {p.code: p.message for p in found.problems}
    assert messages["from-arch-unsupported"] == (
        "Dockerfile builds FROM mcr.microsoft.com/windows/servercore:ltsc2022, pinned to "
        f"{SERVERCORE_DIGEST}, which serves windows-amd64 but not amd64"
    )
    assert messages["constraints-missing"] == (
        "Constraints lack windowsservercore-ltsc2022, implied by FROM "
        "mcr.microsoft.com/windows/servercore:ltsc2022 (Dockerfile [amd64])"
    )


def test_constraints_come_from_an_official_parent() -> None:
    text = manifest("Tags: x\nArchitectures: windows-amd64\n")
    found = findings(text, {"Dockerfile": "FROM winbase:ltsc2022\n"})
    assert codes(found) == [("constraints-missing", 5, "Tags")]
    assert "windowsservercore-ltsc2022" in found.problems[0].message


def test_aufs_is_an_extra_constraint_even_on_scratch() -> None:
    # naughty-constraints.sh of 2026-08-21 dropped the old script's `!aufs` exception for
    # images FROM scratch: it compares Constraints with what the parents imply, nothing else
    text = manifest("Tags: x\nConstraints: !aufs\n")
    found = findings(text, {"Dockerfile": "FROM scratch\n"})
    assert codes(found) == [("constraints-extra", 6, "Constraints")]
    assert found.problems[0].message == (
        "Constraints !aufs implied by no parent (FROM scratch; Dockerfile [amd64])"
    )
    found = findings(text, {"Dockerfile": "FROM debian:bookworm\n"})
    assert codes(found) == [("constraints-extra", 6, "Constraints")]
    assert "FROM debian:bookworm" in found.problems[0].message


def test_no_external_image_is_permitted_without_a_pin() -> None:
    # the old naughty-from.sh permitted docker.elastic.co/* on amd64 and microsoft/* on
    # Windows by name; CI stopped in January 2024: only .external-pins decides
    text = manifest("Tags: x\nArchitectures: amd64, arm64v8\n")
    found = findings(
        text, {"Dockerfile": "FROM docker.elastic.co/elasticsearch/elasticsearch:8.15.0\n"}
    )
    assert codes(found) == [("from-not-official", 5, "Tags")]
    assert "[amd64, arm64v8]" in found.problems[0].message
    text = manifest("Tags: x\nArchitectures: windows-amd64\nConstraints: nanoserver-1809\n")
    found = findings(text, {"Dockerfile": "FROM microsoft/nanoserver:1809\n"})
    assert codes(found) == [("from-not-official", 5, "Tags")]
    assert expected_windows_constraint("microsoft/windowsservercore:latest") == (
        "windowsservercore"
    )
    assert expected_windows_constraint("mcr.microsoft.com/windows/nanoserver:1809") == (
        "nanoserver-1809"
    )
    assert expected_windows_constraint("debian:bookworm") is None


def test_dockerfile_not_found_on_the_file_or_directory_line_in_effect() -> None:
    text = manifest(
        "Tags: a\nDirectory: a\n",  # 5, 6
        "Tags: b\nFile: Dockerfile.b\n",  # 8, 9
        "Tags: c\nArchitectures: amd64, arm64v8\narm64v8-Directory: c/arm\n",  # 11-13
        "Tags: d\n",  # 15
    )
    found = findings(text, {})
    assert codes(found) == [
        ("dockerfile-not-found", 6, "Directory"),
        ("dockerfile-not-found", 9, "File"),
        ("dockerfile-not-found", 11, None),  # neither written: the Tags line
        ("dockerfile-not-found", 13, "arm64v8-Directory"),
        ("dockerfile-not-found", 15, None),
    ]
    messages = {p.line: p.message for p in found.problems}
    assert "c/arm/Dockerfile" in messages[13] and "[arm64v8]" in messages[13]


def missing_at(
    text: str, part: int, detail: str = ""
) -> tuple[BuildFindings, list[tuple[str, int | None, str | None]]]:
    """Findings when every Dockerfile of `text` is missing at component `part` of its path,
    with a `detail` that says nothing (the line must follow from the structured finding)."""
    m = parse("app", text)
    reads = build_reads(m)
    result = FileResult(FileStatus.MISSING, detail=detail, missing_part=part, missing_reason="x")
    found = build_findings(reads, dict.fromkeys(reads.requests, result), library().overlay([m]))
    return found, codes(found)


def test_a_missing_directory_blames_directory_even_when_file_is_written() -> None:
    text = manifest("Tags: a\nDirectory: gone\nFile: Dockerfile.x\n")  # 5, 6, 7
    assert missing_at(text, 0)[1] == [("dockerfile-not-found", 6, "Directory")]
    assert missing_at(text, 1)[1] == [("dockerfile-not-found", 7, "File")]
    # what decides is `missing_part`, never the wording of the reader's detail
    misleading = f"gone/Dockerfile.x does not exist at commit {C1}: gone has no 'Dockerfile.x'."
    assert missing_at(text, 0, misleading)[1] == [("dockerfile-not-found", 6, "Directory")]


def test_the_directory_owns_the_components_it_chose() -> None:
    # Directory a/b with File ../Dockerfile builds a/Dockerfile: `a` is the Directory's
    text = manifest("Tags: a\nDirectory: a/b\nFile: ../Dockerfile\n")  # 5, 6, 7
    assert missing_at(text, 0)[1] == [("dockerfile-not-found", 6, "Directory")]
    assert missing_at(text, 1)[1] == [("dockerfile-not-found", 7, "File")]
    # a File with a directory part of its own: that part is File's
    text = manifest("Tags: a\nDirectory: a\nFile: b/Dockerfile\n")
    assert missing_at(text, 0)[1] == [("dockerfile-not-found", 6, "Directory")]
    assert missing_at(text, 1)[1] == [("dockerfile-not-found", 7, "File")]
    # unknown component (the path itself refused): the File line, then the Directory line
    m = parse("app", text)
    reads = build_reads(m)
    unknown = FileResult(FileStatus.MISSING, detail="refused")
    found = build_findings(reads, dict.fromkeys(reads.requests, unknown), library().overlay([m]))
    assert codes(found) == [("dockerfile-not-found", 7, "File")]


def test_one_file_reached_through_different_fields_is_blamed_per_architecture() -> None:
    # both architectures build a/b/Dockerfile; `b` is File's for amd64, arm64v8-Directory's
    text = manifest(
        "Tags: a\nArchitectures: amd64, arm64v8\nDirectory: a\nFile: b/Dockerfile\n"  # 5-8
        "arm64v8-Directory: a/b\narm64v8-File: Dockerfile\n"  # 9, 10
    )
    found, found_codes = missing_at(text, 1)
    assert found_codes == [
        ("dockerfile-not-found", 8, "File"),
        ("dockerfile-not-found", 9, "arm64v8-Directory"),
    ]
    messages = {p.line: p.message for p in found.problems}
    assert "[amd64]" in messages[8] and "[arm64v8]" in messages[9]


def test_dockerfile_unparseable_on_the_file_line() -> None:
    text = manifest("Tags: a\nFile: Dockerfile.a\n", "Tags: b\nDirectory: b\n")
    found = findings(text, {"Dockerfile.a": "FROM debian:$SUITE\n", "b/Dockerfile": "RUN true\n"})
    assert codes(found) == [
        ("dockerfile-unparseable", 6, "File"),
        ("dockerfile-unparseable", 9, "Directory"),
    ]
    assert "Dockerfile.a:1" in found.problems[0].message
    assert "$SUITE" in found.problems[0].message


def test_the_same_parse_error_through_two_fields_is_two_problems() -> None:
    text = manifest("Tags: a\nArchitectures: amd64, arm64v8\nDirectory: x\narm64v8-Directory: y\n")
    found = findings(text, {"x/Dockerfile": "RUN true\n", "y/Dockerfile": "RUN true\n"})
    assert codes(found) == [
        ("dockerfile-unparseable", 7, "Directory"),
        ("dockerfile-unparseable", 8, "arm64v8-Directory"),
    ]
    messages = {p.line: p.message for p in found.problems}
    assert "x/Dockerfile:1" in messages[7] and "[amd64]" in messages[7]
    assert "y/Dockerfile:1" in messages[8] and "[arm64v8]" in messages[8]


def test_without_a_library_one_note_names_the_skipped_parents() -> None:
    text = manifest(
        "Tags: a\nDirectory: a\n",
        "Tags: b\nDirectory: b\n",
        "Tags: c\nDirectory: c\n",
    )
    files = {
        "a/Dockerfile": "FROM debian:bookworm\n",
        "b/Dockerfile": "FROM alpine:3.20\nCOPY --from=app:a / /\n",
        "c/Dockerfile": "FROM someone/x\n",
    }
    found = findings(text, files, Library.unavailable("no library given"))
    assert codes(found) == [
        ("external-parents-skipped", None, None),
        ("parent-checks-skipped", None, None),
    ]
    note = next(p for p in found.problems if p.code == "parent-checks-skipped")
    assert note.severity is Severity.INFO
    assert "alpine:3.20, debian:bookworm" in note.message
    assert "app:a" not in note.message  # resolved against the manifest itself
    external = next(p for p in found.problems if p.code == "external-parents-skipped")
    assert external.severity is Severity.INFO
    assert external.message == (
        "external parents not checked (no .external-pins given): someone/x:latest"
    )


def test_no_note_when_nothing_needed_the_library() -> None:
    found = findings(
        manifest("Tags: a\n"), {"Dockerfile": "FROM scratch\n"}, Library.unavailable("x")
    )
    assert codes(found) == []


def test_unreachable_is_one_problem_for_the_manifest() -> None:
    text = manifest("Tags: a\nDirectory: a\n", "Tags: b\nDirectory: b\n")
    found = findings(text, {}, status=FileStatus.UNREACHABLE)
    assert codes(found) == [("git-repo-unreachable", 2, "GitRepo")]
    assert found.froms == {}


def test_unreachable_is_one_problem_per_repository() -> None:
    text = manifest(
        "Tags: a\nDirectory: a\n",  # 5, 6
        "Tags: b\nGitRepo: https://example.invalid/other.git\nDirectory: b\n",  # 8, 9, 10
    )
    found = findings(text, {}, status=FileStatus.UNREACHABLE)
    assert codes(found) == [
        ("git-repo-unreachable", 2, "GitRepo"),
        ("git-repo-unreachable", 9, "GitRepo"),
    ]
    messages = {p.line: p.message for p in found.problems}
    assert "(a/Dockerfile)" in messages[2] and "(b/Dockerfile)" in messages[9]


@pytest.mark.parametrize("status", [FileStatus.COMMIT_MISSING, FileStatus.FORBIDDEN])
def test_what_the_git_checks_report_adds_nothing(status: FileStatus) -> None:
    assert codes(findings(manifest("Tags: a\n"), {}, status=status)) == []


def test_one_request_per_unique_file() -> None:
    text = manifest(
        "Tags: a\nArchitectures: amd64, arm64v8, s390x\n",
        "Tags: b\nDirectory: .\n",
        f"Tags: c\nArchitectures: amd64, i386\ni386-GitCommit: {C2}\n",
        "Tags: d\nDirectory: ../up\n",  # leaves the repository: reported by the rules, not read
        "Tags: e\nBuilder: oci-import\nFile: index.json\n",
    )
    reads = build_reads(parse("app", text))
    assert sorted((r.commit, r.path) for r in reads.requests) == [
        (C1, "Dockerfile"),
        (C2, "Dockerfile"),
    ]
    (c1,) = (uses for r, uses in reads.requests.items() if r.commit == C1)
    assert len(c1) == 5  # a x3, b, c/amd64
    assert [(use.entry.number, parents) for use, parents in reads.fixed] == [(5, ("scratch",))]


def test_every_build_rule_is_catalogued() -> None:
    for code in (
        "from-not-official",
        "from-tag-unknown",
        "from-arch-unsupported",
        "from-scratch-on-windows",
        "from-ubuntu-riscv64",
        "pinned-digest-mismatch",
        "registry-unreachable",
        "windows-parent-unknown",
        "constraints-missing",
        "constraints-extra",
        "dockerfile-not-found",
        "dockerfile-unparseable",
        "parent-checks-skipped",
        "external-parents-skipped",
    ):
        assert RULES[code].source == "builds" and not RULES[code].retired
    assert RULES["parent-checks-skipped"].severity is Severity.INFO
    assert RULES["external-parents-skipped"].severity is Severity.INFO
    assert RULES["registry-unreachable"].severity is Severity.WARNING


def test_a_lazy_library_is_read_only_when_a_parent_needs_it() -> None:
    calls: list[int] = []

    def load() -> Library:
        calls.append(1)
        return library()

    lazy = Library.lazy(load)
    assert codes(findings(manifest("Tags: a\n"), {"Dockerfile": "FROM scratch\n"}, lazy)) == []
    assert calls == []
    found = findings(manifest("Tags: a\n"), {"Dockerfile": "FROM debian:sid\n"}, lazy)
    assert codes(found) == [("from-tag-unknown", 5, "Tags")]
    findings(manifest("Tags: a\n"), {"Dockerfile": "FROM debian:bookworm\n"}, lazy)
    assert calls == [1]
    failing = Library.lazy(lambda: Library.unavailable("the library could not be read: down"))
    found = findings(manifest("Tags: a\n"), {"Dockerfile": "FROM debian:sid\n"}, failing)
    assert codes(found) == [("parent-checks-skipped", None, None)]
    assert "could not be read: down" in found.problems[0].message


# --- naughty-from.sh of 2026-08-21: scratch, pins and their registries, riscv64 on Ubuntu -----


def test_scratch_is_refused_on_windows_only() -> None:
    text = manifest(
        "Tags: x\nArchitectures: amd64, windows-amd64\nConstraints: nanoserver-ltsc2022\n"
    )
    found = findings(text, {"Dockerfile": "FROM scratch\nCOPY hello /\n"})
    # the line to change is Architectures; the constraint is extra for both architectures
    assert codes(found) == [
        ("constraints-extra", 7, "Constraints"),
        ("from-scratch-on-windows", 6, "Architectures"),
    ]
    problem = next(p for p in found.problems if p.code == "from-scratch-on-windows")
    assert problem.message == (
        "Dockerfile builds FROM scratch on windows-amd64: a Windows image cannot be built "
        "FROM scratch"
    )
    # an oci-import entry builds FROM scratch as bashbrew says, on Windows too
    text = manifest(
        "Tags: y\nArchitectures: windows-amd64\nBuilder: oci-import\nFile: index.json\n"
    )
    found = findings(text, {})
    assert codes(found) == [("from-scratch-on-windows", 6, "Architectures")]


def test_a_pinned_digest_is_permitted_on_the_architectures_it_serves_only() -> None:
    text = manifest(
        "Tags: a\nArchitectures: amd64, arm64v8, s390x, ppc64le\n",  # 5, 6
        "Tags: b\nArchitectures: amd64\nDirectory: b\n",  # 8-10
    )
    registry = Registry()
    found = findings(
        text,
        {"Dockerfile": "FROM vendor/base:1\n", "b/Dockerfile": "FROM vendor/base:1\n"},
        registry=registry,
    )
    assert codes(found) == [("from-arch-unsupported", 6, "Architectures")]
    assert found.problems[0].message == (
        f"Dockerfile builds FROM vendor/base:1, pinned to {VENDOR_DIGEST}, which serves amd64, "
        "arm64v8 but not ppc64le, s390x"
    )
    # one question for the manifest: the reference CI asks `bashbrew remote arches` about
    assert registry.asked == [[f"vendor/base:1@{VENDOR_DIGEST}"]]


def test_a_pinned_digest_the_registry_does_not_have_serves_no_architecture() -> None:
    reference = f"vendor/base:1@{VENDOR_DIGEST}"
    missing = ArchitecturesResult(
        reference,
        RegistryStatus.NOT_FOUND,
        detail=f"docker.io/vendor/base has no {VENDOR_DIGEST} (MANIFEST_UNKNOWN).",
    )
    text = manifest("Tags: a\nArchitectures: amd64, arm64v8\n")
    found = findings(
        text, {"Dockerfile": "FROM vendor/base:1\n"}, registry=Registry({reference: missing})
    )
    assert codes(found) == [("from-arch-unsupported", 6, "Architectures")]
    assert found.problems[0].message == (
        f"Dockerfile builds FROM vendor/base:1, pinned to {VENDOR_DIGEST}: docker.io/vendor/base "
        f"has no {VENDOR_DIGEST} (MANIFEST_UNKNOWN), so it serves none of amd64, arm64v8"
    )


def test_an_unreachable_registry_makes_the_manifest_unverified_once_per_image() -> None:
    reference = f"vendor/base:1@{VENDOR_DIGEST}"
    down = ArchitecturesResult(
        reference,
        RegistryStatus.UNREACHABLE,
        detail="Could not ask docker.io/vendor/base: connection refused.",
    )
    text = manifest(
        "Tags: a\nArchitectures: amd64, arm64v8\n",  # 5, 6
        "Tags: b\nDirectory: b\n",  # 8, 9
    )
    found = findings(
        text,
        {"Dockerfile": "FROM vendor/base:1\n", "b/Dockerfile": "FROM vendor/base:1\n"},
        registry=Registry({reference: down}),
    )
    assert codes(found) == [("registry-unreachable", 5, "Tags")]
    (only,) = found.problems
    assert only.severity is Severity.WARNING
    assert only.message == (
        f"vendor/base:1 (pinned to {VENDOR_DIGEST}) could not be checked for Dockerfile, "
        "b/Dockerfile [amd64, arm64v8]: Could not ask docker.io/vendor/base: connection refused"
    )
    assert status_of(found.problems) is Status.UNVERIFIED


def test_a_digest_mismatch_is_an_error_of_its_own() -> None:
    reference = f"vendor/base:1@{VENDOR_DIGEST}"
    lying = ArchitecturesResult(
        reference,
        RegistryStatus.DIGEST_MISMATCH,
        detail=f"docker.io/vendor/base served a manifest whose bytes hash to sha256:{'0' * 64}, "
        f"not {VENDOR_DIGEST}.",
    )
    found = findings(
        manifest("Tags: a\n"),
        {"Dockerfile": "FROM vendor/base:1\n"},
        registry=Registry({reference: lying}),
    )
    assert codes(found) == [("pinned-digest-mismatch", 5, "Tags")]
    assert found.problems[0].message == (
        f"vendor/base:1 is pinned to {VENDOR_DIGEST}, but its registry docker.io/vendor/base "
        f"served a manifest whose bytes hash to sha256:{'0' * 64}, not {VENDOR_DIGEST} "
        "(Dockerfile [amd64])"
    )
    assert status_of(found.problems) is Status.INVALID


def test_a_pin_file_without_a_digest_pins_nothing() -> None:
    found = findings(manifest("Tags: a\n"), {"Dockerfile": "FROM vendor/broken:1\n"})
    assert codes(found) == [("from-not-official", 5, "Tags")]
    assert found.problems[0].message == (
        "Dockerfile [amd64] builds FROM vendor/broken:1, an external image that .external-pins "
        "does not pin (.external-pins/vendor/broken___1 holds no digest: not a digest: 'latest')"
    )


def test_without_pins_or_registry_external_parents_get_a_note() -> None:
    text = manifest("Tags: a\n")
    files = {"Dockerfile": "FROM vendor/base:1\nCOPY --from=someone/tool:2 / /\n"}
    no_pins = Library({"debian": DEBIAN})
    found = findings(text, files, no_pins)
    assert codes(found) == [("external-parents-skipped", None, None)]
    assert found.problems[0].message == (
        "external parents not checked (no .external-pins given): someone/tool:2, vendor/base:1"
    )
    # pins but no registry client: the unpinned parent is refused, the pinned one not checked
    manifest_ = parse("app", text)
    reads = build_reads(manifest_)
    results = {r: FileResult(FileStatus.FOUND, files[r.path].encode()) for r in reads.requests}
    found = build_findings(reads, results, library().overlay([manifest_]))
    assert codes(found) == [
        ("external-parents-skipped", None, None),
        ("from-not-official", 5, "Tags"),
    ]
    note = next(p for p in found.problems if p.code == "external-parents-skipped")
    assert note.message == "external parents not checked (no registry client): vendor/base:1"


def test_pins_are_read_only_when_a_parent_is_external() -> None:
    loads: list[int] = []

    def load() -> Library:
        loads.append(1)
        return library()

    registry = Registry()
    found = findings(
        manifest("Tags: a\n"),
        {"Dockerfile": "FROM scratch\n"},
        Library.lazy(load),
        registry=registry,
    )
    assert (codes(found), loads, registry.asked) == ([], [], [])


UBUNTU = f"""Maintainers: Ubuntu (@ubuntu)
GitRepo: https://example.invalid/ubuntu.git
GitCommit: {C1}
Architectures: amd64, arm64v8, riscv64

Tags: 22.04, jammy-20260810, jammy

Tags: 24.04, noble-20260810, noble
SharedTags: lts

Tags: 25.04, plucky-20250730, plucky

Tags: 25.10, questing-20260801, questing
SharedTags: lts

Tags: 26.04, resolute-20260811.1, resolute, latest, rolling

Tags: 20.04, focal-20250404, focal
"""


@pytest.mark.parametrize(
    ("parent", "normalized"),
    [
        ("ubuntu:22.04", None),
        ("ubuntu:jammy", None),  # bashbrew list --uniq: ubuntu:22.04
        ("ubuntu:noble-20260810", None),
        ("ubuntu:plucky", None),
        ("ubuntu:25.10", "ubuntu:25.10"),
        ("ubuntu:questing", "ubuntu:25.10"),
        ("ubuntu:latest", "ubuntu:26.04"),  # "catch when latest changes"
        ("ubuntu:rolling", "ubuntu:26.04"),
        ("ubuntu:focal", "ubuntu:20.04"),  # the script's list is what it permits, nothing older
        # a shared tag naming two entries: both lines, and `ubuntu:24.04*`... is no pattern
        ("ubuntu:lts", "ubuntu:24.04\nubuntu:25.10"),
    ],
)
def test_riscv64_on_ubuntu_follows_the_scripts_allow_list(
    parent: str, normalized: str | None
) -> None:
    text = manifest("Tags: a\nArchitectures: amd64, riscv64\n")  # 5, 6
    found = findings(text, {"Dockerfile": f"FROM {parent}\n"}, library(ubuntu=UBUNTU))
    if normalized is None:
        assert codes(found) == []
        return
    assert codes(found) == [("from-ubuntu-riscv64", 6, "Architectures")]
    shown = " ".join(normalized.split())
    assert found.problems[0].message == (
        f"Dockerfile builds FROM {parent} (bashbrew list --uniq: {shown}) on riscv64: DOI cannot "
        "support riscv64 on Ubuntu 25.10+ since it uses RVA23 and hardware does not exist yet"
    )


def test_riscv64_refusal_replaces_the_other_parent_checks_of_that_architecture() -> None:
    # 25.10 is not built for riscv64 here: the script returns before asking, and so do we
    ubuntu = UBUNTU.replace("Tags: 25.10, questing", "Architectures: amd64\nTags: 25.10, questing")
    text = manifest("Tags: a\nArchitectures: amd64, arm64v8, riscv64\n")
    found = findings(text, {"Dockerfile": "FROM ubuntu:25.10\n"}, library(ubuntu=ubuntu))
    assert codes(found) == [
        ("from-arch-unsupported", 6, "Architectures"),
        ("from-ubuntu-riscv64", 6, "Architectures"),
    ]
    unsupported = next(p for p in found.problems if p.code == "from-arch-unsupported")
    assert unsupported.message.endswith("which is not built for arm64v8")
    # an unknown tag is reported once, as unknown
    found = findings(text, {"Dockerfile": "FROM ubuntu:99.04\n"}, library(ubuntu=UBUNTU))
    assert codes(found) == [("from-tag-unknown", 5, "Tags")]


def test_a_shared_tag_is_its_first_entry_as_bashbrew_takes_it() -> None:
    # bashbrew's `.TagEntry` for a shared tag is the first entry that lists it: CI checks that
    # entry's architectures and constraints, not those of whichever entry would build here
    image = f"""Maintainers: Go (@go)
GitRepo: https://example.invalid/go.git
GitCommit: {C1}

Tags: 1.22-bookworm
SharedTags: 1.22
Architectures: amd64, arm64v8

Tags: 1.22-windowsservercore-ltsc2022
SharedTags: 1.22
Architectures: windows-amd64
Constraints: windowsservercore-ltsc2022
"""
    text = manifest(
        "Tags: w\nArchitectures: windows-amd64\nConstraints: windowsservercore-ltsc2022\n"
    )
    found = findings(text, {"Dockerfile": "FROM golang:1.22\n"}, library(golang=image))
    assert codes(found) == [
        ("constraints-extra", 7, "Constraints"),
        ("from-arch-unsupported", 6, "Architectures"),
    ]
    unsupported = next(p for p in found.problems if p.code == "from-arch-unsupported")
    assert unsupported.message == (
        "Dockerfile builds FROM golang:1.22, which is not built for windows-amd64 (a shared tag: "
        "bashbrew takes its first entry, golang:1.22-bookworm)"
    )
    text = manifest(
        "Tags: w\nArchitectures: windows-amd64\nConstraints: windowsservercore-ltsc2022\n"
    )
    found = findings(
        text, {"Dockerfile": "FROM golang:1.22-windowsservercore-ltsc2022\n"}, library(golang=image)
    )
    assert codes(found) == []


def test_constraints_are_compared_whatever_the_parent_checks_say() -> None:
    # naughty-constraints.sh runs beside naughty-from.sh: a parent that is no official image
    # implies nothing, so a Windows constraint is extra even though the parent is refused
    text = manifest(
        "Tags: x\nArchitectures: windows-amd64\nConstraints: windowsservercore-ltsc2022\n"
    )
    found = findings(text, {"Dockerfile": "FROM someone/base:1\n"})
    assert codes(found) == [
        ("constraints-extra", 7, "Constraints"),
        ("from-not-official", 5, "Tags"),
    ]
    # only a parent whose constraints cannot be known (no library) leaves them unchecked
    found = findings(
        text, {"Dockerfile": "FROM winbase:ltsc2022\n"}, Library.unavailable("no library given")
    )
    assert codes(found) == [("parent-checks-skipped", None, None)]


def test_a_microsoft_name_the_constraints_script_does_not_know() -> None:
    text = manifest(
        "Tags: x\nArchitectures: windows-amd64\nConstraints: windowsservercore-ltsc2022\n"
    )
    pins = ExternalPins.of_files(
        {
            "mcr.microsoft.com/windows/server___ltsc2022": f"{SERVERCORE_DIGEST}\n".encode(),
        }
    )
    reference = f"mcr.microsoft.com/windows/server:ltsc2022@{SERVERCORE_DIGEST}"
    found = findings(
        text,
        {"Dockerfile": "FROM mcr.microsoft.com/windows/server:ltsc2022\n"},
        Library({}, pins=pins),
        registry=Registry({reference: served(reference, "windows-amd64")}),
    )
    # pinned and served: naughty-from.sh accepts it; naughty-constraints.sh stops on it
    assert codes(found) == [("windows-parent-unknown", 5, "Tags")]
    assert found.problems[0].message == (
        "Dockerfile [windows-amd64] builds FROM mcr.microsoft.com/windows/server:ltsc2022: "
        "naughty-constraints.sh knows no constraint for it (unknown Windows image) and stops"
    )


def test_a_retired_code_is_never_raised() -> None:
    from manifest_validation.problems.catalog import problem

    with pytest.raises(ValueError, match="from-windows-latest is retired"):
        problem("from-windows-latest", "x")


def test_constraints_of_a_parent_in_the_manifest_itself_without_a_library() -> None:
    text = manifest(
        "Tags: base\nArchitectures: windows-amd64\nDirectory: base\n"  # 5-7
        "Constraints: windowsservercore-ltsc2022\n",  # 8
        "Tags: child\nArchitectures: windows-amd64\nDirectory: child\n",  # 10-12
    )
    files = {
        "base/Dockerfile": "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n",
        "child/Dockerfile": "FROM app:base\n",
    }
    found = findings(text, files, Library.unavailable("no library given"))
    assert codes(found) == [
        ("constraints-missing", 10, "Tags"),
        ("external-parents-skipped", None, None),
    ]
    missing = next(p for p in found.problems if p.code == "constraints-missing")
    assert missing.message == (
        "Constraints lack windowsservercore-ltsc2022, implied by FROM app:base "
        "(child/Dockerfile [windows-amd64])"
    )
