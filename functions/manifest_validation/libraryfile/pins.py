"""The external pins of a manifests repository: `.external-pins/` beside `library/` in
docker-library/official-images, one file per external image a Dockerfile may build FROM, named
`<image>___<tag>` (the image's `/`s as directories) and holding the pinned digest.

`image:tag` <-> file path is official-images' own convention (`.external-pins/list.sh`,
`file.sh`, `tag.sh`): only the first `:` becomes `___`, and back; a tag is always given.
The publisher's `sources.json` carries these digests as `parents[...].pin`, and official-images
CI permits an external parent only where it is pinned (`naughty-from.sh`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DIRECTORY = ".external-pins"
SEPARATOR = "___"
# A pinned digest: an algorithm and its hex (what `docker pull image@digest` takes).
DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
# A pin file is a few dozen bytes; anything far larger is not one.
MAX_PIN_BYTES = 1024
# `.external-pins/` nests a directory per registry and path component, and official-images has
# a few dozen pins: a tree beyond these bounds is not a pins directory (sources refuse it).
MAX_PIN_DEPTH = 8
MAX_PIN_FILES = 10_000


def pin_path(reference: str) -> str | None:
    """The file of `image:tag` under `.external-pins/` (None when it names no tag)."""
    if ":" not in reference:
        return None
    return reference.replace(":", SEPARATOR, 1)


def pinned_reference(path: str) -> str | None:
    """The `image:tag` a pin file's path (relative to `.external-pins/`) stands for; None for
    the directory's scripts and anything else that is not `<image>___<tag>`."""
    if SEPARATOR not in path or "/" not in path:  # pins are always under a registry or owner
        return None
    return path.replace(SEPARATOR, ":", 1)


@dataclass(frozen=True, slots=True)
class ExternalPins:
    """`image:tag` -> pinned digest, as the manifests repository has them; `available` is
    False (with the reason) where no pins could be had, which is not the same as none."""

    digests: Mapping[str, str] = field(default_factory=dict)
    available: bool = True
    reason: str = ""
    # pin files whose content is not a digest: (path, what is wrong)
    invalid: tuple[tuple[str, str], ...] = ()

    @classmethod
    def unavailable(cls, reason: str) -> ExternalPins:
        return cls({}, available=False, reason=reason)

    @classmethod
    def of_files(cls, files: Mapping[str, bytes]) -> ExternalPins:
        """From `{path under .external-pins/: content}` (a directory read, or a git tree)."""
        digests: dict[str, str] = {}
        invalid: list[tuple[str, str]] = []
        for path, content in sorted(files.items()):
            reference = pinned_reference(path)
            if reference is None:
                continue
            text = content[: MAX_PIN_BYTES + 1].decode("utf-8", errors="replace").strip()
            if len(content) > MAX_PIN_BYTES or not DIGEST.fullmatch(text):
                invalid.append((path, f"not a digest: {text[:80]!r}"))
                continue
            digests[reference] = text
        return cls(digests, invalid=tuple(invalid))

    @classmethod
    def from_directory(cls, directory: Path) -> ExternalPins:
        """The pins of an `.external-pins` directory (unavailable, with the reason, when it
        cannot be read)."""
        if not directory.is_dir():
            return cls.unavailable(f"{directory} is not a directory")
        try:
            files = read_pin_files(directory)
        except OSError as error:
            return cls.unavailable(f"{directory}: {error.strerror or error}")
        return cls.of_files(files)

    def pin(self, reference: str) -> str | None:
        """The digest `image:tag` is pinned to, or None."""
        return self.digests.get(reference)

    def invalid_pin(self, reference: str) -> str | None:
        """What is wrong with the pin file of `image:tag`, when it exists but holds no
        digest (None otherwise)."""
        path = pin_path(reference)
        for invalid_path, why in self.invalid:
            if invalid_path == path:
                return why
        return None

    def __len__(self) -> int:
        return len(self.digests)


def read_pin_files(directory: Path) -> dict[str, bytes]:
    """`{path under the directory: the first bytes of the file}` of every regular file of an
    `.external-pins` directory (symbolic links are not followed; OSError when unreadable)."""
    return {file.relative_to(directory).as_posix(): _head(file) for file in _files(directory)}


def _head(file: Path) -> bytes:
    with open(file, "rb") as handle:
        return handle.read(MAX_PIN_BYTES + 1)


def _files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def beside_library(library: Path) -> Path:
    """Where an official-images checkout keeps the pins of its `library/` directory."""
    return library.parent / DIRECTORY
