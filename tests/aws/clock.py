"""Emulated time: what AWS does when minutes pass, without waiting for them.

The harness keeps every duration the template sets (a 1,860 s visibility timeout stays 1,860 s
on the queue). Instead of sleeping, a test says `clock.advance(seconds)`, and each part of the
local AWS that depends on time catches up by what that time would have done:

* the poller makes visible again every message whose visibility timeout has run out
  (ChangeMessageVisibility 0, the very state change the timeout makes);
* the FIFO de-duplication window of the results queue forgets ids sent more than 5 minutes of
  emulated time ago (see `proxy.FifoDedupWindow`);
* the idempotency table's records age (their expiry attributes move back by the same time).

Real time keeps running underneath (it only adds a few seconds at most).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Listener = Callable[[float], None]  # called with the seconds just advanced


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def now(self) -> float:
        """Emulated epoch seconds."""
        with self._lock:
            return time.time() + self._offset

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def on_advance(self, listener: Listener) -> None:
        """`listener(seconds)` runs after every advance, in registration order."""
        self._listeners.append(listener)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        with self._lock:
            self._offset += seconds
        for listener in list(self._listeners):
            listener(seconds)
