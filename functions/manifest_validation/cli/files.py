"""What the command line reads from disk: library files (one, or a directory of them, each
bounded in size), the `--library` of other images, and docs folders among the PATHs."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .common import error, note

if TYPE_CHECKING:
    from ..libraryfile.library import Library
    from ..libraryfile.pins import ExternalPins

# A library file is a few hundred KiB at most (python's is ~40 KiB); refuse to read a huge file.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


class UnreadablePath(Exception):
    pass


def manifest_files(path: Path) -> Iterator[Path]:
    """A manifest file, or every regular, non-hidden file of a directory (sorted by name)."""
    if path.is_dir():
        # (a directory listing tells which children are files without a stat for each)
        with os.scandir(path) as listing:
            children = sorted(
                child.name
                for child in listing
                if not child.name.startswith(".") and child.is_file()
            )
        for name in children:
            yield path / name
    elif path.is_file():
        yield path
    elif path.exists():
        raise UnreadablePath(f"{path}: not a regular file or directory")
    else:
        raise UnreadablePath(f"{path}: no such file or directory")


def read_manifest(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            # as much as the file holds and one byte more, not a buffer of the largest size
            # allowed (which costs more than the rest of reading a small file)
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(min(size, MAX_MANIFEST_BYTES) + 1)
            if len(data) > size:  # it grew meanwhile, or has no size (a /proc file)
                data += handle.read(MAX_MANIFEST_BYTES + 1 - len(data))
    except OSError as failure:
        raise UnreadablePath(f"{path}: {failure.strerror or failure}") from failure
    if len(data) > MAX_MANIFEST_BYTES:
        raise UnreadablePath(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes")
    return data


def read_library(directory: str, *, pins: ExternalPins | None = None) -> Library:
    """`--library DIR`: the other official images' library files, by file name (with the
    external pins of the same checkout, when given)."""
    from ..libraryfile.library import Library

    path = Path(directory)
    if not path.is_dir():
        raise UnreadablePath(f"{path}: not a directory (--library)")
    return Library({file.name: read_manifest(file) for file in manifest_files(path)}, pins=pins)


def library_of(path: Path) -> dict[str, bytes]:
    """{image name: content} of a library file or of every manifest file of a directory."""
    return {file.name: read_manifest(file) for file in manifest_files(path)}


def is_official_images_checkout(path: Path) -> bool:
    """A directory with a `library/` directory of files in it (docker-library/official-images,
    or a fork or mirror of its layout)."""
    library = path / "library"
    try:
        return path.is_dir() and library.is_dir() and any(library.iterdir())
    except OSError:
        return False


def docs_kind(path: Path) -> str | None:
    """ "folder" for one image's docs folder (a directory with a metadata.json or a
    README-short.txt), "checkout" for a directory of them (a docker-library/docs checkout,
    whose root has a metadata.json too), None for anything else: the docs checks' own
    `is_docs_folder` and `is_docs_checkout`, without importing them for library files."""
    if not path.is_dir():
        return None
    try:
        children = [child for child in path.iterdir() if not child.name.startswith(".")]
    except OSError:
        return None
    if any(child.is_dir() and (child / "metadata.json").is_file() for child in children):
        return "checkout"
    if (path / "metadata.json").is_file() or (path / "README-short.txt").is_file():
        return "folder"
    return None


@dataclass
class Paths:
    """The PATH arguments of `check`, sorted: library files to read, docs folders to check,
    and what could not be read (each reported on stderr when found)."""

    manifests: list[str] = field(default_factory=list)
    docs_folders: list[Path] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, arguments: Sequence[str]) -> Paths:
        paths = cls()
        for argument in arguments:
            path = Path(argument)
            kind = docs_kind(path)
            if kind == "folder":
                paths.docs_folders.append(path)
            elif kind == "checkout":
                paths.docs_folders += sorted(
                    child
                    for child in path.iterdir()
                    if child.is_dir() and not child.name.startswith(".")
                )
            elif is_official_images_checkout(path):
                # its README, MAINTAINERS and scripts are not library files: its library/ is
                library = path / "library"
                note(f"{path} is an official-images checkout: checking {library}")
                paths.manifests.append(str(library))
            else:
                paths.manifests.append(argument)
        return paths

    def unreadable_now(self, failure: object) -> None:
        self.unreadable.append(str(failure))
        error(failure)

    def read_manifests(self) -> Iterator[tuple[str, bytes, str]]:
        """(name, content, path) of every library file, read one at a time; a path or file
        that cannot be read is reported and skipped."""
        for argument in self.manifests:
            try:
                files = list(manifest_files(Path(argument)))
            except (UnreadablePath, OSError) as failure:
                files = []
                self.unreadable_now(failure)
            else:
                if not files:  # a mistyped path must not pass a CI job as "0 checked, valid"
                    self.unreadable_now(f"{argument}: no library files in this directory")
            for file in files:
                try:
                    data = read_manifest(file)
                except UnreadablePath as failure:
                    self.unreadable_now(failure)
                    continue
                yield file.name, data, str(file)


def each_once(folders: list[Path]) -> list[Path]:
    """A folder given both as a PATH and inside --docs DIR is checked once."""
    seen: set[Path] = set()
    unique = []
    for folder in folders:
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            unique.append(folder)
    return unique
