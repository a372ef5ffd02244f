"""What each entry builds: the Dockerfile of every entry and architecture, its parents, and the
review rules of official-images CI on them, as its scripts of 2026-08-21 run them
(`naughty-from.sh`, `naughty-constraints.sh`; docs/checks.md says what each rule follows).

Two steps around the network: `build_reads` says which files to read (one request per unique
(GitRepo, GitCommit, Directory/File) in effect, shared by every entry and architecture using it);
`build_findings` turns what was read into problems and into the parents of each architecture
(the `froms` of the publisher's sources). Problems are grouped: one per entry, rule and parent,
naming every architecture it concerns.

The rules on parents are in `parents` (what a parent may be is the manifests repository's own
data: the other library files and `.external-pins`); how problems are grouped and worded, in
`build_problems`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..libraryfile.library import Library
from ..libraryfile.model import Entry, Manifest
from ..libraryfile.reader import go_path_clean
from ..problems.catalog import problem
from ..problems.problem import Problem
from ..upstream.files import FileRequest, FileResult, FileStatus
from .build_problems import BuildUse, Collector, grouped_problems, path_line
from .dockerfile import SCRATCH, ParsedDockerfile, parse_dockerfile
from .git import upstream_in_effect
from .parents import ParentJudge, RegistryLookup

__all__ = [
    "BuildFindings",
    "BuildReads",
    "build_findings",
    "build_reads",
    "dockerfile_path",
]


# --------------------------------------------------------------------------------------------
# What to read
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class BuildReads:
    """The files to read, each with every place it is used; `fixed` are uses whose parents
    are known without a file (the `oci-import` builder imports an image built elsewhere)."""

    requests: dict[FileRequest, list[BuildUse]] = field(default_factory=dict)
    fixed: list[tuple[BuildUse, tuple[str, ...]]] = field(default_factory=list)


def dockerfile_path(entry: Entry, architecture: str) -> str | None:
    """`Directory/File` in effect, cleaned; None when it leaves the repository (reported by
    the `path-escapes-repository` rule)."""
    directory = entry.arch_value(architecture, "Directory") or "."
    file = entry.arch_value(architecture, "File") or "Dockerfile"
    if directory.startswith("/") or file.startswith("/"):
        return None
    path = go_path_clean(f"{directory}/{file}")
    if path in (".", "..") or path.startswith("../"):
        return None
    return path


def build_reads(manifest: Manifest) -> BuildReads:
    """Which Dockerfile each entry and architecture builds from. Values that are already
    invalid (reported by the schema and the rules) are not read."""
    reads = BuildReads()
    for entry in manifest.entries:
        for architecture in entry.architectures:
            upstream = upstream_in_effect(entry, architecture)
            path = dockerfile_path(entry, architecture)
            if upstream is None or path is None:
                continue
            repo, commit = upstream
            use = BuildUse(entry, architecture, path)
            if entry.arch_value(architecture, "Builder") == "oci-import":
                reads.fixed.append((use, (SCRATCH,)))  # as bashbrew: no Dockerfile to read
                continue
            reads.requests.setdefault(FileRequest(repo, commit, path), []).append(use)
    return reads


# --------------------------------------------------------------------------------------------
# What was read
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class BuildFindings:
    problems: list[Problem] = field(default_factory=list)
    # entry number -> architecture -> parents in order, each once (what the rules check)
    froms: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # entry number -> architecture -> (froms, last stage's FROM) as bashbrew reports them
    # (the publisher's sources.json), for the Dockerfiles that could be read and parsed
    bashbrew_froms: dict[int, dict[str, tuple[tuple[str, ...], str | None]]] = field(
        default_factory=dict
    )


def build_findings(
    reads: BuildReads,
    results: Mapping[FileRequest, FileResult],
    library: Library,
    *,
    registry: RegistryLookup | None = None,
) -> BuildFindings:
    """Problems and parents of every entry and architecture of one manifest (its `reads`),
    from the files that were read.

    `library` already holds the manifests under check in place of its own copies (so an
    entry building FROM another tag of its own image resolves against the manifest itself),
    and carries the external pins of the same revision. `registry` answers, for the pinned
    external parents (`image:tag@digest`), which architectures each digest serves: asked
    once, for all of them; without it they are not checked (a note says so).
    """
    findings = BuildFindings()
    collector = Collector()
    unreachable: list[tuple[FileRequest, str]] = []
    parsed: list[tuple[BuildUse, tuple[str, ...], str | None]] = []
    for request, uses in reads.requests.items():
        result = results.get(request)
        status = result.status if result is not None else FileStatus.UNREACHABLE
        if status is FileStatus.FOUND and result is not None:
            dockerfile = parse_dockerfile(result.content or b"")
            for use in uses:
                if dockerfile.errors:
                    _unparseable(collector, use, dockerfile)
                else:
                    parsed.append((use, dockerfile.parents, dockerfile.final_parent))
                    findings.bashbrew_froms.setdefault(use.entry.number, {})[use.architecture] = (
                        dockerfile.froms,
                        dockerfile.last_stage_from,
                    )
        elif status is FileStatus.MISSING:
            for use in uses:
                line, name = path_line(use, missing_directory=_blames_directory(use, result))
                collector.add(
                    "dockerfile-not-found",
                    use,
                    use.path,
                    line,
                    name,
                    request.commit,
                    request.repo,
                    result.missing_reason if result is not None else "",
                )
        elif status is FileStatus.UNREACHABLE:
            unreachable.append((request, result.detail if result is not None else "not read"))
        # commit-missing and forbidden: the git checks of the same entry report them
    parsed.extend((use, parents, parents[-1] if parents else None) for use, parents in reads.fixed)
    for use, parents in reads.fixed:  # bashbrew: `FROM scratch`, read from no file
        findings.bashbrew_froms.setdefault(use.entry.number, {})[use.architecture] = (
            parents,
            parents[-1] if parents else None,
        )
    judge = ParentJudge(collector, library, parsed, registry)
    for use, parents, _ in parsed:
        findings.froms.setdefault(use.entry.number, {})[use.architecture] = list(parents)
        judge.check(use, parents)
    findings.problems.extend(grouped_problems(collector))
    by_repo: dict[str, list[tuple[FileRequest, str]]] = {}
    for request, detail in unreachable:
        by_repo.setdefault(request.repo, []).append((request, detail))
    findings.problems.extend(_unreachable_problem(reads, failed) for failed in by_repo.values())
    findings.problems.extend(judge.notes())
    return findings


def _unparseable(collector: Collector, use: BuildUse, dockerfile: ParsedDockerfile) -> None:
    line, name = path_line(use)
    for error in dockerfile.errors:
        collector.add(
            "dockerfile-unparseable", use, f"{error.line}:{error.message}", line, name, ""
        )


def _directory_parts(use: BuildUse) -> int:
    """How many leading components of `use.path` the Directory in effect chose (the rest
    came from File): the common prefix of the two, so `Directory: a/b` with
    `File: ../Dockerfile` (path `a/Dockerfile`) owns `a` only."""
    directory = go_path_clean(use.entry.arch_value(use.architecture, "Directory") or ".")
    if directory == ".":
        return 0
    count = 0
    for own, part in zip(directory.split("/"), use.path.split("/")[:-1], strict=False):
        if own != part:
            break
        count += 1
    return count


def _blames_directory(use: BuildUse, result: FileResult | None) -> bool:
    """Whether the path went wrong in a component the Directory chose (`missing_part`, the
    reader's structured finding), rather than in File's part; unknown: File's."""
    part = result.missing_part if result is not None else None
    return part is not None and part < _directory_parts(use)


def _unreachable_problem(reads: BuildReads, failures: list[tuple[FileRequest, str]]) -> Problem:
    """One problem per repository whose files could not be read, on the GitRepo line of the
    first use (where the git checks put theirs when the repository was unreachable then)."""
    first, detail = failures[0]
    use = reads.requests[first][0]
    name = use.entry.key_in_effect(use.architecture, "GitRepo")
    paths = ", ".join(sorted({request.path for request, _ in failures}))
    return problem(
        "git-repo-unreachable",
        f"Dockerfiles could not be read ({paths}): {detail}",
        line=use.entry.line_of(name),
        field=name,
    )
