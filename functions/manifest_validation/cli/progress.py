"""What `--verify-git` is doing, on one line of stderr rewritten in place while the upstream
checks run: only on a terminal (a CI log or a file gets nothing), plain text, no dependency.

    checking upstream: repositories 12/57 (8 s)
"""

from __future__ import annotations

import sys
import time
from typing import IO

WIDTH = 79


class UpstreamProgress:
    """A `GitVerifier` progress callback: `(what, done, total)`. `clear()` wipes the line
    (before the results are printed), and is safe to call at any time, more than once."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, what: str, done: int, total: int) -> None:
        seconds = time.monotonic() - self.started
        line = f"checking upstream: {what} {done}/{total} ({seconds:.0f} s)"
        self.stream.write("\r" + line[:WIDTH].ljust(WIDTH))
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * WIDTH + "\r")
            self.stream.flush()
            self.shown = False


def upstream_progress() -> UpstreamProgress | None:
    """A progress line for this run when stderr is a terminal; None otherwise."""
    try:
        terminal = sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by something that is not a file, or closed
        terminal = False
    return UpstreamProgress() if terminal else None
