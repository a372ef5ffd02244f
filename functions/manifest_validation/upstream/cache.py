"""Cache of immutable answers about upstream repositories.

Refs move, so ref tips are always asked again; but "commit C is (not) reachable from
commit T in repository R" can never change, because a commit's ancestry is part of
its identity.  "C exists in R" is cached only when true: a missing commit may be
pushed a minute later, and a fresh "not found" is cheap (one small request).

The interface is deliberately tiny (string keys, boolean values) so that it can be
backed by DynamoDB or any key-value store later without touching the verifier.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar, runtime_checkable

__all__ = ["AnswerCache", "LruCache", "MemoryAnswerCache", "exists_key", "reachable_key"]


@runtime_checkable
class AnswerCache(Protocol):
    """Key-value store for immutable answers; implementations must be thread-safe."""

    def get(self, key: str) -> bool | None:
        """Return the stored answer, or ``None`` when unknown."""
        ...

    def put(self, key: str, value: bool) -> None:
        """Store an answer; callers only store facts that can never change."""
        ...


def reachable_key(repo: str, tip: str, commit: str) -> str:
    """Key for "``commit`` is an ancestor of (or equal to) ``tip`` in ``repo``"."""
    return f"reachable\n{repo}\n{tip}\n{commit}"


def exists_key(repo: str, commit: str) -> str:
    """Key for "``commit`` exists in ``repo``" (only ever stored as True)."""
    return f"exists\n{repo}\n{commit}"


V = TypeVar("V")


class LruCache(Generic[V]):
    """An in-process, thread-safe LRU store, bounded by entries and, where answers differ in
    size, by their total weight (a long-lived Lambda container must not grow without limit)."""

    def __init__(
        self,
        max_entries: int,
        *,
        max_weight: int | None = None,
        weight: Callable[[str, V], int] = lambda key, value: 0,
    ) -> None:
        self._data: OrderedDict[str, V] = OrderedDict()
        self._max_entries = max_entries
        self._max_weight = max_weight
        self._weight = weight
        self._total = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: V) -> None:
        weight = self._weight(key, value)
        if self._max_weight is not None and weight > self._max_weight:
            return  # one answer larger than the whole cache is simply not kept
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._total -= self._weight(key, old)
            self._data[key] = value
            self._total += weight
            while len(self._data) > self._max_entries or (
                self._max_weight is not None and self._total > self._max_weight
            ):
                old_key, old_value = self._data.popitem(last=False)
                self._total -= self._weight(old_key, old_value)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


class MemoryAnswerCache(LruCache[bool]):
    """In-process :class:`AnswerCache`, bounded by entries."""

    def __init__(self, max_entries: int = 100_000) -> None:
        super().__init__(max_entries)
