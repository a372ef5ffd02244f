"""The other official images a manifest's parents are checked against.

A `Library` is the set of library files at one revision (a directory, or the manifests
repository at a commit), parsed lazily. Manifests under check take precedence over the
library's copies (`overlay`), so a pull request that changes two images at once is checked
against its own versions, and an entry building FROM another tag of its own image resolves
against the manifest being checked.

A library may be *unavailable* (none given, or the manifests repository could not be read):
then parents that need it are not checked, and the caller says so (never silently).

A library also carries the manifests repository's external pins (`.external-pins/` at the same
revision; see `pins.ExternalPins`): the external images a parent may name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .model import Entry, Manifest
from .parse import parse
from .pins import ExternalPins

__all__ = ["Library", "TagEntries"]


@dataclass(frozen=True, slots=True)
class TagEntries:
    """The entries of one image that a tag names: those listing it in Tags, else those listing
    it in SharedTags (a shared tag may span entries, e.g. Linux and Windows)."""

    image: str
    tag: str
    entries: tuple[Entry, ...]

    def architectures(self) -> set[str]:
        return {arch for entry in self.entries for arch in entry.architectures}

    def entry_for(self, architecture: str) -> Entry | None:
        for entry in self.entries:
            if architecture in entry.architectures:
                return entry
        return None


class Library:
    """Library files by image name, parsed on first use.

    `available` is False when there is no library at all (`reason` says why). A library may
    be `lazy` (read on first use: a door only pays for it when a parent needs it) and may lie
    over a `base` (`overlay`): its own manifests first, then the base's.
    """

    def __init__(
        self,
        contents: Mapping[str, bytes | str] | None = None,
        *,
        available: bool = True,
        reason: str = "",
        pins: ExternalPins | None = None,
    ) -> None:
        self._available = available
        self._reason = reason
        self._pins = pins
        self._contents = dict(contents or {})
        self._parsed: dict[str, Manifest] = {}
        self._tags: dict[str, dict[str, list[Entry]]] = {}
        self._base: Library | None = None
        self._loader: Callable[[], Library] | None = None
        self._lock = threading.RLock()

    @classmethod
    def unavailable(cls, reason: str, *, pins: ExternalPins | None = None) -> Library:
        return cls(available=False, reason=reason, pins=pins)

    @classmethod
    def lazy(cls, loader: Callable[[], Library]) -> Library:
        """The library `loader` returns, called once, on first use."""
        library = cls()
        library._loader = loader
        return library

    def _loaded_base(self) -> Library | None:
        with self._lock:
            if self._loader is not None:
                loader, self._loader = self._loader, None
                self._base = loader()
            return self._base

    @property
    def available(self) -> bool:
        base = self._loaded_base()
        return base.available if base is not None else self._available

    @property
    def reason(self) -> str:
        """Why the library is unavailable (for the note); empty when it is available."""
        base = self._loaded_base()
        return base.reason if base is not None else self._reason

    @property
    def pins(self) -> ExternalPins:
        """The external pins of the same revision (unavailable, with the reason, when there
        are none: not the same as a repository that pins nothing)."""
        if self._pins is not None:  # (not truthiness: pins that pin nothing are falsy)
            return self._pins
        base = self._loaded_base()
        return (
            base.pins if base is not None else ExternalPins.unavailable("no .external-pins given")
        )

    def names(self) -> set[str]:
        base = self._loaded_base()
        own = set(self._contents) | set(self._parsed)
        return own | base.names() if base is not None else own

    def overlay(self, manifests: Iterable[Manifest]) -> Library:
        """This library with `manifests` in place of its copies (nothing is read yet)."""
        combined = Library()
        combined._parsed = {manifest.name: manifest for manifest in manifests}
        combined._base = self
        return combined

    def manifest(self, image: str) -> Manifest | None:
        with self._lock:
            found = self._parsed.get(image)
            if found is None and image in self._contents:
                found = parse(image, self._contents[image])
                self._parsed[image] = found
        if found is not None:
            return found
        base = self._loaded_base()
        return base.manifest(image) if base is not None else None

    def tag(self, image: str, tag: str) -> TagEntries | None:
        """The entries `image:tag` names; None when the image is unknown here."""
        manifest = self.manifest(image)
        if manifest is None:
            return None
        with self._lock:
            index = self._tags.get(image)
            if index is None:
                index = _tag_index(manifest)
                self._tags[image] = index
        return TagEntries(image, tag, tuple(index.get(tag, ())))


def _tag_index(manifest: Manifest) -> dict[str, list[Entry]]:
    tags: dict[str, list[Entry]] = {}
    shared: dict[str, list[Entry]] = {}
    for entry in manifest.entries:
        for tag in entry.tags:
            tags.setdefault(tag, []).append(entry)
        for tag in entry.shared_tags:
            shared.setdefault(tag, []).append(entry)
    for tag, entries in shared.items():
        tags.setdefault(tag, entries)
    return tags
