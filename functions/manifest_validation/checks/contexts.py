"""Build contexts: the directory each entry and architecture builds (Directory at GitCommit),
read upstream in the same read as the Dockerfiles, for the publisher's
`reproducibleGitChecksum` and `SOURCE_DATE_EPOCH`.

What bashbrew cannot archive (a submodule in the context, a file mode or link it cannot
write) is a problem of the entry, on its Directory line: the publisher's `sources.sh` stops
on it. A context over this service's byte bound is a warning (the manifest may be fine; only
its checksum is unknown). A missing directory is `dockerfile-not-found`, reported once: by the
Dockerfile's read when that failed too. A missing commit or a refused URL is the git checks'
to report, an unreachable repository is `git-repo-unreachable` (the result is `unverified`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from ..libraryfile.model import Entry, Manifest
from ..libraryfile.reader import go_path_clean
from ..problems.catalog import problem
from ..problems.problem import Problem
from ..upstream.contexts import ContextRequest, ContextResult, ContextStatus
from .git import upstream_in_effect

__all__ = ["ContextFindings", "ContextUse", "context_findings", "context_reads"]

_CODES = {
    ContextStatus.SUBMODULE: "context-submodule",
    ContextStatus.UNSUPPORTED: "context-unsupported",
    ContextStatus.TOO_LARGE: "context-too-large",
    ContextStatus.DIRECTORY_MISSING: "dockerfile-not-found",
}


@dataclass(frozen=True, slots=True)
class ContextUse:
    """One entry building one architecture from a context."""

    entry: Entry
    architecture: str


def context_directory(entry: Entry, architecture: str) -> str | None:
    """The Directory in effect, cleaned (`.` for the top); None when it leaves the
    repository (the `path-escapes-repository` rule reports it)."""
    directory = go_path_clean(entry.arch_value(architecture, "Directory") or ".")
    if directory.startswith("/") or directory == ".." or directory.startswith("../"):
        return None
    return directory


def context_reads(manifest: Manifest) -> dict[ContextRequest, list[ContextUse]]:
    """The build context of every entry and architecture (one request per repository,
    commit and directory); values already invalid (reported by the schema and the rules)
    are not read."""
    reads: dict[ContextRequest, list[ContextUse]] = {}
    for entry in manifest.entries:
        for architecture in entry.architectures:
            upstream = upstream_in_effect(entry, architecture)
            directory = context_directory(entry, architecture)
            if upstream is None or directory is None:
                continue
            repo, commit = upstream
            request = ContextRequest(repo, commit, directory)
            reads.setdefault(request, []).append(ContextUse(entry, architecture))
    return reads


@dataclass(slots=True)
class ContextFindings:
    problems: list[Problem] = field(default_factory=list)
    # entry number -> architecture -> what was read (every use that got a result)
    results: dict[int, dict[str, ContextResult]] = field(default_factory=dict)


def _directory_line(entry: Entry, architecture: str) -> tuple[int, str | None]:
    """The Directory line in effect (the entry's Tags line when Directory is the default)."""
    name = entry.key_in_effect(architecture, "Directory")
    if name in entry.lines:
        return entry.line_of(name), name
    return entry.line_of("Tags"), None


def context_findings(
    reads: Mapping[ContextRequest, list[ContextUse]],
    results: Mapping[ContextRequest, ContextResult],
    *,
    missing_dockerfiles: Collection[tuple[int, str]] = (),
) -> ContextFindings:
    """Problems and results of every context of one manifest (its `reads`).
    `missing_dockerfiles`: the (entry number, architecture) whose Dockerfile was reported
    missing already (a missing directory is reported once)."""
    findings = ContextFindings()
    groups: dict[tuple[int, str, int, str | None, ContextRequest], list[str]] = {}
    unreachable: list[tuple[ContextRequest, ContextUse, str]] = []
    for request, uses in reads.items():
        result = results.get(request) or ContextResult(ContextStatus.UNREACHABLE, detail="not read")
        for use in uses:
            number, architecture = use.entry.number, use.architecture
            findings.results.setdefault(number, {})[architecture] = result
            code = _CODES.get(result.status)
            if result.status is ContextStatus.UNREACHABLE:
                unreachable.append((request, use, result.detail))
            if code is None or (
                code == "dockerfile-not-found" and (number, architecture) in missing_dockerfiles
            ):
                continue
            line, name = _directory_line(use.entry, architecture)
            architectures = groups.setdefault((number, code, line, name, request), [])
            if architecture not in architectures:
                architectures.append(architecture)
    for (_, code, line, name, request), architectures in groups.items():
        result = results[request]
        findings.problems.append(
            problem(code, _message(code, request, result, architectures), line=line, field=name)
        )
    reported: set[str] = set()
    for request, use, detail in unreachable:
        if request.repo in reported:
            continue  # one per repository, as for the Dockerfiles
        reported.add(request.repo)
        name = use.entry.key_in_effect(use.architecture, "GitRepo")
        findings.problems.append(
            problem(
                "git-repo-unreachable",
                f"build contexts could not be read ({request.directory}): {detail}",
                line=use.entry.line_of(name),
                field=name,
            )
        )
    return findings


def _message(
    code: str, request: ContextRequest, result: ContextResult, architectures: list[str]
) -> str:
    where = f"[{', '.join(architectures)}]"
    detail = result.detail.rstrip(".")
    if code == "dockerfile-not-found":
        return (
            f"the build context {request.directory} does not exist in {request.repo} at "
            f"{request.commit[:12]} ({detail}) {where}"
        )
    if code == "context-too-large":
        return f"{detail}: its reproducibleGitChecksum and sourceId are not computed {where}"
    return f"{detail} {where}"
