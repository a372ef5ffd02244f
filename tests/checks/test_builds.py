"""The build rules on parsed manifests and file contents given as a plain mapping (what the file
reader would answer); tests/checks/test_builds_git.py runs them over real git repositories."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from manifest_validation.checks.builds import (
    BuildFindings,
    build_findings,
    build_reads,
    expected_windows_constraint,
    is_permitted_parent,
)
from manifest_validation.libraryfile.library import Library
from manifest_validation.libraryfile.parse import parse
from manifest_validation.problems.catalog import RULES
from manifest_validation.problems.problem import Severity
from manifest_validation.upstream.files import FileResult, FileStatus

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


def library(**files: str) -> Library:
    return Library({"debian": DEBIAN, "winbase": SERVERCORE_IMAGE, **files})


def findings(
    text: str,
    files: Mapping[str, str | None],
    lib: Library | None = None,
    *,
    name: str = "app",
    status: FileStatus | None = None,
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
    return build_findings(reads, results, others)


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
        "Tags: 1-scratch\nDirectory: scratch\nConstraints: !aufs\n",
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


def test_from_windows_latest() -> None:
    text = manifest("Tags: win\nArchitectures: windows-amd64\nConstraints: windowsservercore\n")
    found = findings(text, {"Dockerfile": "FROM mcr.microsoft.com/windows/servercore\n"})
    assert codes(found) == [("from-windows-latest", 5, "Tags")]


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


def test_a_windows_base_on_linux_is_not_official() -> None:
    text = manifest("Tags: x\n")
    found = findings(text, {"Dockerfile": "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"})
    assert codes(found) == [("from-not-official", 5, "Tags")]


def test_constraints_come_from_an_official_parent() -> None:
    text = manifest("Tags: x\nArchitectures: windows-amd64\n")
    found = findings(text, {"Dockerfile": "FROM winbase:ltsc2022\n"})
    assert codes(found) == [("constraints-missing", 5, "Tags")]
    assert "windowsservercore-ltsc2022" in found.problems[0].message


def test_aufs_is_tolerated_only_on_scratch() -> None:
    text = manifest("Tags: x\nConstraints: !aufs\n")
    assert codes(findings(text, {"Dockerfile": "FROM scratch\n"})) == []
    found = findings(text, {"Dockerfile": "FROM debian:bookworm\n"})
    assert codes(found) == [("constraints-extra", 6, "Constraints")]
    assert "!aufs" in found.problems[0].message
    assert "FROM debian:bookworm" in found.problems[0].message
    assert "[amd64]" in found.problems[0].message


def test_permitted_exceptions_are_per_architecture() -> None:
    text = manifest("Tags: x\nArchitectures: amd64, arm64v8\n")
    found = findings(
        text, {"Dockerfile": "FROM docker.elastic.co/elasticsearch/elasticsearch:8.15.0\n"}
    )
    assert codes(found) == [("from-not-official", 5, "Tags")]
    assert "[arm64v8]" in found.problems[0].message
    assert is_permitted_parent("windows-amd64", "microsoft/nanoserver:1809")
    assert not is_permitted_parent("amd64", "microsoft/nanoserver:1809")
    assert is_permitted_parent("s390x", "scratch")
    assert expected_windows_constraint("microsoft/windowsservercore:latest") == (
        "windowsservercore"
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
        ("from-not-official", 11, "Tags"),
        ("parent-checks-skipped", None, None),
    ]
    note = next(p for p in found.problems if p.code == "parent-checks-skipped")
    assert note.severity is Severity.INFO
    assert "alpine:3.20, debian:bookworm" in note.message
    assert "app:a" not in note.message  # resolved against the manifest itself


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
        "from-windows-latest",
        "constraints-missing",
        "constraints-extra",
        "dockerfile-not-found",
        "dockerfile-unparseable",
        "parent-checks-skipped",
    ):
        assert RULES[code].source == "builds"
    assert RULES["parent-checks-skipped"].severity is Severity.INFO


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
