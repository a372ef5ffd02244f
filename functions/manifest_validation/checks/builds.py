"""What each entry builds: the Dockerfile of every entry and architecture, its parents, and the
review rules of official-images CI (`naughty-from.sh`, `naughty-constraints.sh`) on them.

Two steps around the network: `build_reads` says which files to read (one request per unique
(GitRepo, GitCommit, Directory/File) in effect, shared by every entry and architecture using it);
`build_findings` turns what was read into problems and into the parents of each architecture
(`froms` of the build plan). Problems are grouped: one per entry, rule and parent, naming every
architecture it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ..libraryfile.library import Library
from ..libraryfile.model import Entry, Manifest
from ..libraryfile.names import COMMIT
from ..libraryfile.reader import go_path_clean
from ..problems.catalog import problem
from ..problems.problem import Problem
from ..upstream.files import FileRequest, FileResult, FileStatus
from .dockerfile import SCRATCH, ParsedDockerfile, parse_dockerfile

__all__ = [
    "BuildFindings",
    "BuildReads",
    "BuildUse",
    "build_findings",
    "build_reads",
    "expected_windows_constraint",
    "is_permitted_parent",
]


# From official-images' naughty-from.sh (`_is_naughty`): parents with a `/` that are permitted
# anyway, as (architecture pattern, image pattern), shell-glob patterns as in its `case`.
PERMITTED_PARENTS: tuple[tuple[str, str], ...] = (
    ("*", SCRATCH),
    ("amd64", "docker.elastic.co/elasticsearch/elasticsearch:*"),
    ("amd64", "docker.elastic.co/kibana/kibana:*"),
    ("amd64", "docker.elastic.co/logstash/logstash:*"),
    ("windows-*", "mcr.microsoft.com/windows/nanoserver:*"),
    ("windows-*", "mcr.microsoft.com/windows/servercore:*"),
    ("windows-*", "microsoft/nanoserver:*"),
    ("windows-*", "microsoft/windowsservercore:*"),
)
# Also from naughty-from.sh: Windows `latest` tags Microsoft removed; never permitted.
RETIRED_WINDOWS_PARENTS = frozenset(
    {
        "mcr.microsoft.com/windows/nanoserver:latest",
        "mcr.microsoft.com/windows/servercore:latest",
        "microsoft/nanoserver:latest",
        "microsoft/windowsservercore:latest",
    }
)
# From naughty-constraints.sh (`_windows_constraint`): the constraint a Microsoft base implies
# (`<prefix>-<tag>`, or the prefix alone for `latest`).
WINDOWS_CONSTRAINT_PREFIXES = {
    "mcr.microsoft.com/windows/nanoserver": "nanoserver",
    "microsoft/nanoserver": "nanoserver",
    "mcr.microsoft.com/windows/servercore": "windowsservercore",
    "microsoft/windowsservercore": "windowsservercore",
}
# naughty-constraints.sh: an image FROM scratch may carry this one without a parent implying it.
TOLERATED_ON_SCRATCH = "!aufs"


def is_permitted_parent(architecture: str, parent: str) -> bool:
    return any(
        fnmatchcase(architecture, arch) and fnmatchcase(parent, image)
        for arch, image in PERMITTED_PARENTS
    )


def expected_windows_constraint(parent: str) -> str | None:
    repository, _, tag = parent.rpartition(":")
    prefix = WINDOWS_CONSTRAINT_PREFIXES.get(repository)
    if prefix is None:
        return None
    return prefix if tag == "latest" else f"{prefix}-{tag}"


def _split_reference(parent: str) -> tuple[str, str | None]:
    """(`debian`, `bookworm`) of `debian:bookworm`; the tag is None for a digest reference."""
    if "@" in parent:
        return parent.split("@", 1)[0], None
    name, _, tag = parent.rpartition(":")
    return name, tag


# --------------------------------------------------------------------------------------------
# What to read
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildUse:
    """One entry building one architecture from `path` (Directory + File in effect)."""

    entry: Entry
    architecture: str
    path: str


@dataclass(slots=True)
class BuildReads:
    """The files to read, each with every place it is used; `fixed` are uses whose parents
    are known without a file (the `oci-import` builder imports an image built elsewhere)."""

    requests: dict[FileRequest, list[BuildUse]] = field(default_factory=dict)
    fixed: list[tuple[BuildUse, tuple[str, ...]]] = field(default_factory=list)


def _field_in_effect(entry: Entry, architecture: str, name: str) -> str:
    specific = f"{architecture}-{name}"
    return specific if entry.scalar(specific) else name


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
            repo = entry.arch_value(architecture, "GitRepo")
            commit = entry.arch_value(architecture, "GitCommit")
            path = dockerfile_path(entry, architecture)
            if not repo or any(c.isspace() for c in repo) or not COMMIT.fullmatch(commit):
                continue
            if path is None:
                continue
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


@dataclass(slots=True)
class _Group:
    """Architectures (in manifest order) and Dockerfile paths of one grouped problem."""

    line: int
    field_name: str | None
    architectures: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)

    def add(self, use: BuildUse, *extra: str) -> None:
        if use.architecture not in self.architectures:
            self.architectures.append(use.architecture)
        if use.path not in self.paths:
            self.paths.append(use.path)
        for item in extra:
            if item not in self.extra:
                self.extra.append(item)

    @property
    def where(self) -> str:
        return f"{', '.join(self.paths)} [{', '.join(self.architectures)}]"


class _Collector:
    """Problems grouped by entry, rule, subject and line: the line is part of the key because
    architectures of one entry may reach the same file through different fields (a
    `Directory` and an `ARCH-Directory`), and each problem points at the line in effect."""

    def __init__(self) -> None:
        self.groups: dict[tuple[int, str, str, int, str | None], _Group] = {}

    def add(
        self,
        code: str,
        use: BuildUse,
        subject: str,
        line: int,
        field_name: str | None,
        *extra: str,
    ) -> _Group:
        key = (use.entry.number, code, subject, line, field_name)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(line, field_name)
        group.add(use, *extra)
        return group


def _tags_line(entry: Entry) -> tuple[int, str]:
    return entry.line_of("Tags"), "Tags"


def _architectures_line(entry: Entry) -> tuple[int, str]:
    if "Architectures" in entry.own_keys:
        return entry.line_of("Architectures"), "Architectures"
    return _tags_line(entry)


def _constraints_line(entry: Entry) -> tuple[int, str]:
    if "Constraints" in entry.lines:
        return entry.line_of("Constraints"), "Constraints"
    return _tags_line(entry)


def _path_line(use: BuildUse, *, missing_directory: bool = False) -> tuple[int, str | None]:
    """The Directory or File line in effect: the one that chose the missing or bad file."""
    entry = use.entry
    directory = _field_in_effect(entry, use.architecture, "Directory")
    file = _field_in_effect(entry, use.architecture, "File")
    order = (directory, file) if missing_directory else (file, directory)
    for name in order:
        if name in entry.lines:
            return entry.line_of(name), name
    line, _ = _tags_line(entry)
    return line, None


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


def build_findings(
    reads: BuildReads,
    results: Mapping[FileRequest, FileResult],
    library: Library,
) -> BuildFindings:
    """Problems and parents of every entry and architecture of one manifest (its `reads`),
    from the files that were read.

    `library` already holds the manifests under check in place of its own copies (so an
    entry building FROM another tag of its own image resolves against the manifest itself).
    """
    findings = BuildFindings()
    collector = _Collector()
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
                line, name = _path_line(use, missing_directory=_blames_directory(use, result))
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
    skipped: list[str] = []
    for use, parents, final in parsed:
        findings.froms.setdefault(use.entry.number, {})[use.architecture] = list(parents)
        _check_parents(collector, use, parents, final, library, skipped)
    findings.problems.extend(_problems(collector))
    by_repo: dict[str, list[tuple[FileRequest, str]]] = {}
    for request, detail in unreachable:
        by_repo.setdefault(request.repo, []).append((request, detail))
    findings.problems.extend(_unreachable_problem(reads, failed) for failed in by_repo.values())
    if skipped:
        findings.problems.append(
            problem(
                "parent-checks-skipped",
                f"parents not checked against the other official images "
                f"({library.reason or 'no library given'}): {', '.join(sorted(set(skipped)))}",
            )
        )
    return findings


def _unparseable(collector: _Collector, use: BuildUse, dockerfile: ParsedDockerfile) -> None:
    line, name = _path_line(use)
    for error in dockerfile.errors:
        collector.add(
            "dockerfile-unparseable", use, f"{error.line}:{error.message}", line, name, ""
        )


def _check_parents(
    collector: _Collector,
    use: BuildUse,
    parents: tuple[str, ...],
    final: str | None,
    library: Library,
    skipped: list[str],
) -> None:
    entry, architecture = use.entry, use.architecture
    expected: set[str] = set()
    implied_by: dict[str, str] = {}
    constraints_known = True
    for parent in parents:
        if parent in RETIRED_WINDOWS_PARENTS:
            collector.add("from-windows-latest", use, parent, *_tags_line(entry))
            constraints_known = False
            continue
        if is_permitted_parent(architecture, parent):
            constraint = expected_windows_constraint(parent)
            if constraint is not None:
                expected.add(constraint)
                implied_by.setdefault(constraint, parent)
            continue
        if "/" in parent:
            collector.add("from-not-official", use, parent, *_tags_line(entry))
            constraints_known = False
            continue
        image, tag = _split_reference(parent)
        if library.manifest(image) is None:
            if library.available:
                collector.add("from-not-official", use, parent, *_tags_line(entry), "no-file")
            else:
                skipped.append(parent)
            constraints_known = False
            continue
        found = library.tag(image, tag) if tag is not None else None
        if found is None or not found.entries:
            collector.add("from-tag-unknown", use, parent, *_tags_line(entry))
            constraints_known = False
            continue
        parent_entry = found.entry_for(architecture)
        if parent_entry is None:
            collector.add("from-arch-unsupported", use, parent, *_architectures_line(entry))
            parent_entry = found.entries[0]
        for constraint in parent_entry.constraints:
            expected.add(constraint)
            implied_by.setdefault(constraint, parent)
    if not constraints_known:
        return
    actual = set(entry.constraints)
    line, name = _constraints_line(entry)
    for constraint in sorted(expected - actual):
        collector.add("constraints-missing", use, implied_by[constraint], line, name, constraint)
    extra = actual - expected
    if final == SCRATCH or SCRATCH in parents:
        extra.discard(TOLERATED_ON_SCRATCH)
    for constraint in sorted(extra):
        group = collector.add("constraints-extra", use, "", line, name, constraint)
        group.parents.extend(parent for parent in parents if parent not in group.parents)


def _problems(collector: _Collector) -> list[Problem]:
    out = []
    for (_, code, subject, _, _), group in collector.groups.items():
        out.append(
            problem(code, _message(code, subject, group), line=group.line, field=group.field_name)
        )
    return out


def _message(code: str, subject: str, group: _Group) -> str:
    where = group.where
    if code == "dockerfile-not-found":
        commit, repo, reason = group.extra[0], group.extra[1], group.extra[2]
        because = f" ({reason})" if reason else ""
        return f"{subject} does not exist in {repo} at {commit[:12]}{because} {where}"
    if code == "dockerfile-unparseable":
        line, _, message = subject.partition(":")
        paths = ", ".join(f"{path}:{line}" for path in group.paths)
        return f"{paths}: {message} [{', '.join(group.architectures)}]"
    if code == "from-not-official":
        if group.extra:
            image = _split_reference(subject)[0]
            return f"{where} builds FROM {subject}: there is no official image {image!r}"
        return f"{where} builds FROM {subject}, which is not an official image"
    if code == "from-tag-unknown":
        image, tag = _split_reference(subject)
        if tag is None:
            return (
                f"{where} builds FROM {subject}: a digest is none of {image}'s Tags or "
                "SharedTags (official images are built FROM a tag, so they are rebuilt with it)"
            )
        return (
            f"{where} builds FROM {subject}: {image} has no tag {tag!r} in its Tags or SharedTags"
        )
    if code == "from-arch-unsupported":
        return (
            f"{', '.join(group.paths)} builds FROM {subject}, which is not built for "
            f"{', '.join(group.architectures)}"
        )
    if code == "from-windows-latest":
        return f"{where} builds FROM {subject}: Microsoft removed this `latest` tag"
    if code == "constraints-missing":
        return f"Constraints lack {', '.join(group.extra)}, implied by FROM {subject} ({where})"
    parents = ", ".join(group.parents)
    return f"Constraints {', '.join(group.extra)} implied by no parent (FROM {parents}; {where})"


def _unreachable_problem(reads: BuildReads, failures: list[tuple[FileRequest, str]]) -> Problem:
    """One problem per repository whose files could not be read, on the GitRepo line of the
    first use (where the git checks put theirs when the repository was unreachable then)."""
    first, detail = failures[0]
    use = reads.requests[first][0]
    name = _field_in_effect(use.entry, use.architecture, "GitRepo")
    paths = ", ".join(sorted({request.path for request, _ in failures}))
    return problem(
        "git-repo-unreachable",
        f"Dockerfiles could not be read ({paths}): {detail}",
        line=use.entry.line_of(name),
        field=name,
    )
