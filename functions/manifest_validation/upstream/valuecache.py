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

import threading
from collections import OrderedDict
from typing import Protocol, runtime_checkable

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


class MemoryValueCache:
    """In-process :class:`ValueCache`, LRU-bounded by entries and by characters (a
    long-lived Lambda container must not grow without limit)."""

    def __init__(self, max_entries: int = 20_000, max_chars: int = 64 * 1024 * 1024) -> None:
        self._data: OrderedDict[str, str] = OrderedDict()
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: str) -> None:
        size = len(key) + len(value)
        if size > self._max_chars:
            return  # one answer larger than the whole cache is simply not kept
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._chars -= len(key) + len(old)
            self._data[key] = value
            self._chars += size
            while len(self._data) > self._max_entries or self._chars > self._max_chars:
                old_key, old_value = self._data.popitem(last=False)
                self._chars -= len(old_key) + len(old_value)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
