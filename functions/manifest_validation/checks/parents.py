"""The rules official-images CI applies to what each entry builds FROM, as its scripts of
2026-08-21 run them: naughty-from.sh's `_is_naughty` (an official image's tag built for the
architecture; an external image only where `.external-pins` pins it, on the architectures its
pinned digest serves; `scratch` never on Windows; riscv64 not on new Ubuntu) and
naughty-constraints.sh's comparison of an entry's Constraints with what its parents imply.
docs/checks.md says what each rule follows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from ..libraryfile.architectures import is_windows
from ..libraryfile.library import Library
from ..libraryfile.pins import ExternalPins
from ..problems.catalog import problem
from ..problems.problem import Problem
from .build_problems import (
    BuildUse,
    Collector,
    Group,
    architectures_line,
    constraints_line,
    sentence,
    split_reference,
    tags_line,
)
from .dockerfile import SCRATCH

if TYPE_CHECKING:  # the registry client (requests) is imported only by the doors that use it
    from ..upstream.registry import ArchitecturesResult, RegistryClient

__all__ = [
    "ParentJudge",
    "RegistryLookup",
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


def external_reference(parent: str, pins: ExternalPins) -> str | None:
    """What naughty-from.sh asks the registry about: `image:tag@digest` of a pinned parent."""
    digest = pins.pin(parent)
    return f"{parent}@{digest}" if digest is not None else None


class ParentJudge:
    """naughty-from.sh's `_is_naughty` and naughty-constraints.sh's comparison for each
    (entry, architecture) of one manifest, with the registry's answers for every pinned
    external parent, asked at once (only when there is one)."""

    def __init__(
        self,
        collector: Collector,
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
            wanted = [ref for p in external if (ref := external_reference(p, self.pins))]
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
                line, name = architectures_line(entry)
                self.collector.add("from-ubuntu-riscv64", use, parent, line, name, normalized)
                return  # as the script: nothing else is asked of this parent
        if parent == SCRATCH:
            if is_windows(architecture):
                line, name = architectures_line(entry)
                self.collector.add("from-scratch-on-windows", use, parent, line, name)
            return
        if "/" in parent:
            self._external(use, parent)
            return
        image, tag = split_reference(parent)
        if self.library.manifest(image) is None:
            if self.library.available:
                self.collector.add("from-not-official", use, parent, *tags_line(entry), "no-file")
            else:
                self.skipped.append(parent)
            return
        found = self.library.tag(image, tag) if tag is not None else None
        if found is None or not found.entries:
            self.collector.add("from-tag-unknown", use, parent, *tags_line(entry))
            return
        # bashbrew's `.TagEntry`: the entry listing the tag in Tags, else the first entry
        # listing it in SharedTags (not whichever of them builds this architecture)
        if architecture not in found.entries[0].architectures:
            line, name = architectures_line(entry)
            first = found.entries[0]
            shared = () if tag in first.tags else ("shared", f"{image}:{first.tags[0]}")
            self.collector.add("from-arch-unsupported", use, parent, line, name, *shared)

    def _external(self, use: BuildUse, parent: str) -> None:
        entry = use.entry
        if not self.pins.available:
            self.skipped_external.append(parent)
            return
        reference = external_reference(parent, self.pins)
        if reference is None:
            why = self.pins.invalid_pin(parent) or ""
            self.collector.add("from-not-official", use, parent, *tags_line(entry), "unpinned", why)
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
            served, how = sentence(answer.detail if answer is not None else ""), "missing"
        else:  # unreachable or a digest mismatch: reported once per image, not per entry
            self.unchecked.setdefault(reference, []).append((use, parent))
            return
        line, name = architectures_line(entry)
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
        where = Group(0, None)
        for use, _ in uses:
            where.add(use)
        digest = reference.rpartition("@")[2]
        detail = sentence(answer.detail if answer is not None else "not asked")
        line, name = tags_line(first.entry)
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
            image, tag = split_reference(parent)
            if self.library.manifest(image) is None and not self.library.available:
                return None  # (a manifest under check is known all the same)
            found = self.library.tag(image, tag) if tag is not None else None
            if found is not None and found.entries and found.entries[0].constraints:
                return tuple(found.entries[0].constraints)
        if "microsoft" in parent:
            constraint = expected_windows_constraint(parent)
            if constraint is None:
                self.collector.add("windows-parent-unknown", use, parent, *tags_line(use.entry))
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
        line, name = constraints_line(entry)
        for constraint in sorted(expected - actual):
            self.collector.add(
                "constraints-missing", use, implied_by[constraint], line, name, constraint
            )
        for constraint in sorted(actual - expected):
            group = self.collector.add("constraints-extra", use, "", line, name, constraint)
            group.parents.extend(parent for parent in parents if parent not in group.parents)
