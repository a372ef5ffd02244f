"""How the problems about builds are grouped and worded: one problem per entry, rule, subject
and line, naming every architecture and Dockerfile it concerns (`Collector`), on the line of
the field in effect; the messages of the Dockerfile and parent rules (see builds, parents)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..libraryfile.model import Entry
from ..libraryfile.pins import pin_path
from ..problems.catalog import problem
from ..problems.problem import Problem

# why naughty-from.sh refuses riscv64 on newer Ubuntu, in its words (parents.riscv64_ubuntu)
RISCV64_UBUNTU_MESSAGE = (
    "DOI cannot support riscv64 on Ubuntu 25.10+ since it uses RVA23 and hardware does not "
    "exist yet"
)


def split_reference(parent: str) -> tuple[str, str | None]:
    """(`debian`, `bookworm`) of `debian:bookworm`; the tag is None for a digest reference."""
    if "@" in parent:
        return parent.split("@", 1)[0], None
    name, _, tag = parent.rpartition(":")
    return name, tag


@dataclass(frozen=True, slots=True)
class BuildUse:
    """One entry building one architecture from `path` (Directory + File in effect)."""

    entry: Entry
    architecture: str
    path: str


@dataclass(slots=True)
class Group:
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


class Collector:
    """Problems grouped by entry, rule, subject and line: the line is part of the key because
    architectures of one entry may reach the same file through different fields (a
    `Directory` and an `ARCH-Directory`), and each problem points at the line in effect."""

    def __init__(self) -> None:
        self.groups: dict[tuple[int, str, str, int, str | None], Group] = {}

    def add(
        self,
        code: str,
        use: BuildUse,
        subject: str,
        line: int,
        field_name: str | None,
        *extra: str,
    ) -> Group:
        key = (use.entry.number, code, subject, line, field_name)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(line, field_name)
        group.add(use, *extra)
        return group


def tags_line(entry: Entry) -> tuple[int, str]:
    return entry.line_of("Tags"), "Tags"


def architectures_line(entry: Entry) -> tuple[int, str]:
    if "Architectures" in entry.own_keys:
        return entry.line_of("Architectures"), "Architectures"
    return tags_line(entry)


def constraints_line(entry: Entry) -> tuple[int, str]:
    if "Constraints" in entry.lines:
        return entry.line_of("Constraints"), "Constraints"
    return tags_line(entry)


def path_line(use: BuildUse, *, missing_directory: bool = False) -> tuple[int, str | None]:
    """The Directory or File line in effect: the one that chose the missing or bad file."""
    entry = use.entry
    directory = entry.key_in_effect(use.architecture, "Directory")
    file = entry.key_in_effect(use.architecture, "File")
    order = (directory, file) if missing_directory else (file, directory)
    for name in order:
        if name in entry.lines:
            return entry.line_of(name), name
    line, _ = tags_line(entry)
    return line, None


def sentence(text: str) -> str:
    text = text.strip() or "no answer"
    return text.rstrip(".")


def grouped_problems(collector: Collector) -> list[Problem]:
    out = []
    for (_, code, subject, _, _), group in collector.groups.items():
        out.append(
            problem(code, _message(code, subject, group), line=group.line, field=group.field_name)
        )
    return out


def _message(code: str, subject: str, group: Group) -> str:
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
            image = split_reference(subject)[0]
            return f"{where} builds FROM {subject}: there is no official image {image!r}"
        return f"{where} builds FROM {subject}, which is not an official image"
    if code == "from-tag-unknown":
        image, tag = split_reference(subject)
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
