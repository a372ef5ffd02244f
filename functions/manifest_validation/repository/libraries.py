"""The library of the manifests repository at a commit (see `libraryfile.library.Library`):
read from a `ManifestSource` with its external pins, and kept a few commits at a time."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from ..libraryfile.library import Library
from ..libraryfile.pins import ExternalPins
from .base import ManifestSource, SourceError, SourceUnavailable

__all__ = ["LIBRARY_TTL_SECONDS", "LibraryCache", "load_library"]

# How long the HTTP door keeps the library of the branch head before resolving it again.
LIBRARY_TTL_SECONDS = 300.0


def load_library(source: ManifestSource, commit: str) -> Library:
    """Every library file of the manifests repository at `commit` (one listing, one read), with
    its external pins (one more read, of the files the listing already named)."""
    names = source.list_manifests(commit)
    contents = source.read(commit, names)
    try:
        files = source.read_pins(commit)
    except SourceUnavailable:
        raise  # transient: nothing of this commit is kept, the next call tries again
    except SourceError as error:
        pins = ExternalPins.unavailable(f"the external pins could not be read: {error}")
    else:
        pins = (
            ExternalPins.unavailable(
                f"no .external-pins beside the library of {source.describe()} at {commit[:12]}"
            )
            if files is None
            else ExternalPins.of_files(files)
        )
    return Library(contents, pins=pins)


class LibraryCache:
    """Libraries by (repository, commit), a few at a time (commits are immutable), plus the
    branch head's commit for `LIBRARY_TTL_SECONDS`. Thread-safe; one load per key at a time."""

    def __init__(self, size: int = 4, ttl_seconds: float = LIBRARY_TTL_SECONDS) -> None:
        self.size = size
        self.ttl_seconds = ttl_seconds
        self._libraries: OrderedDict[tuple[str, str], Library] = OrderedDict()
        self._heads: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._loading = threading.Lock()

    def at(self, repository: str, commit: str, source: Callable[[], ManifestSource]) -> Library:
        """The library at `commit`; unavailable (with the reason) when it cannot be read."""
        key = (repository, commit)
        with self._loading:
            with self._lock:
                found = self._libraries.get(key)
                if found is not None:
                    self._libraries.move_to_end(key)
                    return found
            try:
                library = load_library(source(), commit)
            except SourceError as error:
                return Library.unavailable(f"the library could not be read: {error}")
            with self._lock:
                self._libraries[key] = library
                while len(self._libraries) > self.size:
                    self._libraries.popitem(last=False)
            return library

    def head(self, repository: str, branch: str, source: Callable[[], ManifestSource]) -> Library:
        """The library at the branch head (resolved again after the TTL)."""
        key = (repository, branch)
        now = time.monotonic()
        with self._lock:
            cached = self._heads.get(key)
        if cached is not None and now - cached[0] < self.ttl_seconds:
            commit = cached[1]
        else:
            try:
                commit = source().resolve(branch)
            except SourceError as error:
                return Library.unavailable(f"the library could not be read: {error}")
            with self._lock:
                self._heads[key] = (now, commit)
        return self.at(repository, commit, source)
