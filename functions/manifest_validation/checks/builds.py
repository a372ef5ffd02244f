"""What each entry builds: the Dockerfile of every entry and architecture, its parents, and the
review rules of official-images CI on them, as its scripts of 2026-08-21 run them
(`naughty-from.sh`, `naughty-constraints.sh`; docs/checks.md says what each rule follows).

Two steps around the network: `build_reads` says which files to read (one request per unique
(GitRepo, GitCommit, Directory/File) in effect, shared by every entry and architecture using it);
`build_findings` turns what was read into problems and into the parents of each architecture
(`froms` of the build plan). Problems are grouped: one per entry, rule and parent, naming every
architecture it concerns.

What a parent may be is the manifests repository's own data: the other library files (an
official image, its tag and architectures, through `Library`) and `.external-pins` (an external
image, a name with `/`, is permitted only where it is pinned, and only on the architectures
its pinned digest serves, which its registry answers). Only CI's own rules about names are
written here: `scratch` (never on Windows), riscv64 on Ubuntu, the constraints of Microsoft's
Windows bases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from ..libraryfile.architectures import is_windows
from ..libraryfile.library import Library
from ..libraryfile.model import Entry, Manifest
from ..libraryfile.names import COMMIT
from ..libraryfile.pins import ExternalPins, pin_path
from ..libraryfile.reader import go_path_clean
from ..problems.catalog import problem
from ..problems.problem import Problem
from ..upstream.files import FileRequest, FileResult, FileStatus
from .dockerfile import SCRATCH, ParsedDockerfile, parse_dockerfile

if TYPE_CHECKING:  # the registry client (requests) is imported only by the doors that use it
    from ..upstream.registry import ArchitecturesResult, RegistryClient

__all__ = [
    "BuildFindings",
    "BuildReads",
    "BuildUse",
    "RegistryLookup",
    "build_findings",
    "build_reads",
    "expected_windows_constraint",
    "registry_lookup",
    "riscv64_ubuntu",
]

# `image@digest` references -> what their registries answer (one batch per manifest).
RegistryLookup = Callable[[Collection[str]], Mapping[str, "ArchitecturesResult"]]

# naughty-from.sh (`_is_naughty`): on riscv64, an `ubuntu:*` parent is permitted only when
# `bashbrew list --uniq` names one of these (shell patterns, as in its `case`); the rest is
# Ubuntu 25.10 or newer (RVA23), and the script says why in these words.
RISCV64_UBUNTU_PERMITTED = (
    "ubuntu:22.04",
    "ubuntu:24.04",
    "ubuntu:25.04",
    "ubuntu:jammy*",
    "ubuntu:noble*",
    "ubuntu:plucky*",
)
RISCV64_UBUNTU_MESSAGE = (
    "DOI cannot support riscv64 on Ubuntu 25.10+ since it uses RVA23 and hardware does not "
    "exist yet"
)
# naughty-constraints.sh (`_windows_constraint`): the constraint a Microsoft base implies
# (`<prefix>-<tag>`, or the prefix alone for `latest`); any other name holding `microsoft`
# stops the script ("unknown Windows image").
WINDOWS_CONSTRAINT_PREFIXES = {
    "mcr.microsoft.com/windows/nanoserver": "nanoserver",
    "microsoft/nanoserver": "nanoserver",
    "mcr.microsoft.com/windows/servercore": "windowsservercore",
    "microsoft/windowsservercore": "windowsservercore",
}


def expected_windows_constraint(parent: str) -> str | None:
    """The constraint naughty-constraints.sh derives from a Microsoft base (None: none, or an
    unknown Windows image when the name holds `microsoft`)."""
    repository = parent.rsplit(":", 1)[0]  # ${from%:*}: a digest's `sha256` counts as a tag
    tag = parent[len(repository) + 1 :]
    prefix = WINDOWS_CONSTRAINT_PREFIXES.get(repository)
    if prefix is None:
        return None
    return prefix if tag == "latest" else f"{prefix}-{tag}"


def riscv64_ubuntu(parent: str, library: Library) -> str | None:
    """What `bashbrew list --uniq PARENT` prints for an `ubuntu:` parent that riscv64 may not
    build FROM (naughty-from.sh), else None: None too when the tag names no entry or no
    library knows `ubuntu` (the other parent rules report that, or the note says so)."""
    if not parent.startswith("ubuntu:"):
        return None
    found = library.tag("ubuntu", parent.removeprefix("ubuntu:"))
    if found is None or not found.entries:
        return None
    # one line per entry the tag names (a shared tag may name several); `*` in a `case`
    # pattern matches newlines too, as fnmatch's does
    normalized = "\n".join(f"ubuntu:{entry.tags[0]}" for entry in found.entries)
    if any(fnmatchcase(normalized, pattern) for pattern in RISCV64_UBUNTU_PERMITTED):
        return None
    return normalized


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
    judge = _Parents(collector, library, parsed, registry)
    for use, parents, _ in parsed:
        findings.froms.setdefault(use.entry.number, {})[use.architecture] = list(parents)
        judge.check(use, parents)
    findings.problems.extend(_problems(collector))
    by_repo: dict[str, list[tuple[FileRequest, str]]] = {}
    for request, detail in unreachable:
        by_repo.setdefault(request.repo, []).append((request, detail))
    findings.problems.extend(_unreachable_problem(reads, failed) for failed in by_repo.values())
    findings.problems.extend(judge.notes())
    return findings


def registry_lookup(registry: RegistryClient) -> RegistryLookup:
    """A lookup asking `registry` about each reference once for the life of the lookup (one
    call of the pipeline): the client caches what it found, this also what it did not (a
    registry that is down is not asked again for every manifest)."""
    answers: dict[str, ArchitecturesResult] = {}
    lock = threading.Lock()

    def lookup(references: Collection[str]) -> Mapping[str, ArchitecturesResult]:
        with lock:
            missing = [ref for ref in dict.fromkeys(references) if ref not in answers]
            if missing:
                answers.update(registry.architectures_many(missing))
            return {ref: answers[ref] for ref in references}

    return lookup


def _external_reference(parent: str, pins: ExternalPins) -> str | None:
    """What naughty-from.sh asks the registry about: `image:tag@digest` of a pinned parent."""
    digest = pins.pin(parent)
    return f"{parent}@{digest}" if digest is not None else None


class _Parents:
    """naughty-from.sh's `_is_naughty` and naughty-constraints.sh's comparison for each
    (entry, architecture) of one manifest, with the registry's answers for every pinned
    external parent, asked at once (only when there is one)."""

    def __init__(
        self,
        collector: _Collector,
        library: Library,
        parsed: list[tuple[BuildUse, tuple[str, ...], str | None]],
        registry: RegistryLookup | None,
    ) -> None:
        self.collector = collector
        self.library = library
        self.registry = registry
        self.skipped: list[str] = []  # official parents not checked (no library)
        self.skipped_external: list[str] = []  # external parents not checked (no pins)
        # pinned reference -> the uses it could not be checked for (registry down, mismatch)
        self.unchecked: dict[str, list[tuple[BuildUse, str]]] = {}
        external = sorted({p for _, parents, _ in parsed for p in parents if "/" in p})
        # the pins (and with them a lazy library) are read only when a parent is external
        self.pins = library.pins if external else ExternalPins.unavailable("")
        self.answers: Mapping[str, ArchitecturesResult] = {}
        if external and self.pins.available and registry is not None:
            wanted = [ref for p in external if (ref := _external_reference(p, self.pins))]
            self.answers = registry(wanted) if wanted else {}

    def check(self, use: BuildUse, parents: tuple[str, ...]) -> None:
        for parent in parents:
            self._permitted(use, parent)
        self._constraints(use, parents)

    # -- naughty-from.sh ---------------------------------------------------------------------

    def _permitted(self, use: BuildUse, parent: str) -> None:
        entry, architecture = use.entry, use.architecture
        if architecture == "riscv64" and parent.startswith("ubuntu:"):
            normalized = riscv64_ubuntu(parent, self.library)
            if normalized is not None:
                line, name = _architectures_line(entry)
                self.collector.add("from-ubuntu-riscv64", use, parent, line, name, normalized)
                return  # as the script: nothing else is asked of this parent
        if parent == SCRATCH:
            if is_windows(architecture):
                line, name = _architectures_line(entry)
                self.collector.add("from-scratch-on-windows", use, parent, line, name)
            return
        if "/" in parent:
            self._external(use, parent)
            return
        image, tag = _split_reference(parent)
        if self.library.manifest(image) is None:
            if self.library.available:
                self.collector.add("from-not-official", use, parent, *_tags_line(entry), "no-file")
            else:
                self.skipped.append(parent)
            return
        found = self.library.tag(image, tag) if tag is not None else None
        if found is None or not found.entries:
            self.collector.add("from-tag-unknown", use, parent, *_tags_line(entry))
            return
        # bashbrew's `.TagEntry`: the entry listing the tag in Tags, else the first entry
        # listing it in SharedTags (not whichever of them builds this architecture)
        if architecture not in found.entries[0].architectures:
            line, name = _architectures_line(entry)
            first = found.entries[0]
            shared = () if tag in first.tags else ("shared", f"{image}:{first.tags[0]}")
            self.collector.add("from-arch-unsupported", use, parent, line, name, *shared)

    def _external(self, use: BuildUse, parent: str) -> None:
        entry = use.entry
        if not self.pins.available:
            self.skipped_external.append(parent)
            return
        reference = _external_reference(parent, self.pins)
        if reference is None:
            why = self.pins.invalid_pin(parent) or ""
            self.collector.add(
                "from-not-official", use, parent, *_tags_line(entry), "unpinned", why
            )
            return
        if self.registry is None:
            self.skipped_external.append(parent)
            return
        from ..upstream.registry import RegistryStatus

        answer = self.answers.get(reference)
        status = answer.status if answer is not None else RegistryStatus.UNREACHABLE
        if status is RegistryStatus.FOUND and answer is not None:
            if use.architecture in answer.architectures:
                return
            served = ", ".join(sorted(answer.architectures)) or "no bashbrew architecture"
            how = "served"
        elif status in (RegistryStatus.NOT_FOUND, RegistryStatus.INVALID_REFERENCE):
            served, how = _sentence(answer.detail if answer is not None else ""), "missing"
        else:  # unreachable or a digest mismatch: reported once per image, not per entry
            self.unchecked.setdefault(reference, []).append((use, parent))
            return
        line, name = _architectures_line(entry)
        digest = reference.rpartition("@")[2]
        self.collector.add(
            "from-arch-unsupported", use, parent, line, name, "pinned", digest, served, how
        )

    def notes(self) -> list[Problem]:
        """One problem per pinned image the registry could not answer for, and the notes."""
        out = [self._unchecked(reference, uses) for reference, uses in self.unchecked.items()]
        if self.skipped:
            out.append(
                problem(
                    "parent-checks-skipped",
                    f"parents not checked against the other official images "
                    f"({self.library.reason or 'no library given'}): "
                    f"{', '.join(sorted(set(self.skipped)))}",
                )
            )
        if self.skipped_external:
            reason = self.pins.reason if not self.pins.available else "no registry client"
            out.append(
                problem(
                    "external-parents-skipped",
                    f"external parents not checked ({reason}): "
                    f"{', '.join(sorted(set(self.skipped_external)))}",
                )
            )
        return out

    def _unchecked(self, reference: str, uses: list[tuple[BuildUse, str]]) -> Problem:
        from ..upstream.registry import RegistryStatus

        answer = self.answers.get(reference)
        first, parent = uses[0]
        where = _Group(0, None)
        for use, _ in uses:
            where.add(use)
        digest = reference.rpartition("@")[2]
        detail = _sentence(answer.detail if answer is not None else "not asked")
        line, name = _tags_line(first.entry)
        if answer is not None and answer.status is RegistryStatus.DIGEST_MISMATCH:
            message = f"{parent} is pinned to {digest}, but its registry {detail[0].lower()}"
            return problem(
                "pinned-digest-mismatch",
                f"{message}{detail[1:]} ({where.where})",
                line=line,
                field=name,
            )
        return problem(
            "registry-unreachable",
            f"{parent} (pinned to {digest}) could not be checked for {where.where}: {detail}",
            line=line,
            field=name,
        )

    # -- naughty-constraints.sh --------------------------------------------------------------

    def _implied(self, use: BuildUse, parent: str) -> tuple[str, ...] | None:
        """`_expected_constraints`: the Constraints of the parent's `.TagEntry`, when it is an
        official image that has some; else a Microsoft base's; else none. None when they
        cannot be known (no library, or a Microsoft name the script does not know, where it
        stops)."""
        if parent != SCRATCH and "/" not in parent:
            image, tag = _split_reference(parent)
            if self.library.manifest(image) is None and not self.library.available:
                return None  # (a manifest under check is known all the same)
            found = self.library.tag(image, tag) if tag is not None else None
            if found is not None and found.entries and found.entries[0].constraints:
                return tuple(found.entries[0].constraints)
        if "microsoft" in parent:
            constraint = expected_windows_constraint(parent)
            if constraint is None:
                self.collector.add("windows-parent-unknown", use, parent, *_tags_line(use.entry))
                return None
            return (constraint,)
        return ()

    def _constraints(self, use: BuildUse, parents: tuple[str, ...]) -> None:
        """The union of what every parent of this architecture implies, compared with the
        entry's Constraints both ways."""
        expected: set[str] = set()
        implied_by: dict[str, str] = {}
        every = [(parent, self._implied(use, parent)) for parent in parents]
        for parent, implied in every:
            if implied is None:
                return
            for constraint in implied:
                expected.add(constraint)
                implied_by.setdefault(constraint, parent)
        entry = use.entry
        actual = set(entry.constraints)
        line, name = _constraints_line(entry)
        for constraint in sorted(expected - actual):
            self.collector.add(
                "constraints-missing", use, implied_by[constraint], line, name, constraint
            )
        for constraint in sorted(actual - expected):
            group = self.collector.add("constraints-extra", use, "", line, name, constraint)
            group.parents.extend(parent for parent in parents if parent not in group.parents)


def _sentence(text: str) -> str:
    text = text.strip() or "no answer"
    return text.rstrip(".")


def _unparseable(collector: _Collector, use: BuildUse, dockerfile: ParsedDockerfile) -> None:
    line, name = _path_line(use)
    for error in dockerfile.errors:
        collector.add(
            "dockerfile-unparseable", use, f"{error.line}:{error.message}", line, name, ""
        )


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
        if group.extra and group.extra[0] == "unpinned":
            why = group.extra[1] if len(group.extra) > 1 else ""
            file = f".external-pins/{pin_path(subject) or subject}"
            pinned = f"{file} holds no digest: {why}" if why else f"no {file}"
            return (
                f"{where} builds FROM {subject}, an external image that .external-pins does "
                f"not pin ({pinned})"
            )
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
        paths, arches = ", ".join(group.paths), ", ".join(group.architectures)
        if group.extra and group.extra[0] == "pinned":
            digest, served = group.extra[1], group.extra[2]
            if group.extra[3] == "served":
                return (
                    f"{paths} builds FROM {subject}, pinned to {digest}, which serves "
                    f"{served} but not {arches}"
                )
            return (
                f"{paths} builds FROM {subject}, pinned to {digest}: {served}, so it serves "
                f"none of {arches}"
            )
        text = f"{paths} builds FROM {subject}, which is not built for {arches}"
        if group.extra and group.extra[0] == "shared":
            text += f" (a shared tag: bashbrew takes its first entry, {group.extra[1]})"
        return text
    if code == "from-scratch-on-windows":
        return (
            f"{', '.join(group.paths)} builds FROM scratch on {', '.join(group.architectures)}: "
            "a Windows image cannot be built FROM scratch"
        )
    if code == "from-ubuntu-riscv64":
        normalized = " ".join(group.extra[0].split())
        return (
            f"{', '.join(group.paths)} builds FROM {subject} (bashbrew list --uniq: "
            f"{normalized}) on riscv64: {RISCV64_UBUNTU_MESSAGE}"
        )
    if code == "windows-parent-unknown":
        return (
            f"{where} builds FROM {subject}: naughty-constraints.sh knows no constraint for "
            "it (unknown Windows image) and stops"
        )
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
