"""Cache of immutable answers that are more than a yes or no.

:mod:`.cache` stores booleans ("commit C is reachable from T").  The registry client
(:mod:`.registry`: the architectures an image digest serves) and the history check
(:mod:`.history`: the tarball rewrites in a commit's history) have structured
answers; they store them here as JSON text under string keys, so that a DynamoDB
table or any other key-value store can back this protocol later without either
client changing.  Only facts that can never change are stored: what a
content-addressed digest or commit id denotes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .cache import LruCache

__all__ = ["MemoryValueCache", "ValueCache"]


@runtime_checkable
class ValueCache(Protocol):
    """Key-value store of immutable text answers; implementations must be thread-safe."""

    def get(self, key: str) -> str | None:
        """The stored answer, or ``None`` when unknown."""
        ...

    def put(self, key: str, value: str) -> None:
        """Store an answer; callers only store facts that can never change."""
        ...


class MemoryValueCache(LruCache[str]):
    """In-process :class:`ValueCache`, bounded by entries and by characters."""

    def __init__(self, max_entries: int = 20_000, max_chars: int = 64 * 1024 * 1024) -> None:
        super().__init__(
            max_entries, max_weight=max_chars, weight=lambda key, value: len(key) + len(value)
        )
