"""The outside things a door needs (tokens, the results queue, the upstream verifier), made from
the environment on first use and kept for the life of the process (a warm Lambda container
reuses connections and cached upstream answers)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .auth import TokenSource, token_source_from_env

if TYPE_CHECKING:
    from .queues import ResultQueue
    from .upstream import GitVerifier

ENV_GIT_TOKENS = "MANIFEST_VALIDATION_GIT_TOKENS"
# API Gateway answers after 30 s at most: leave room for the rest of the request.
API_VERIFY_BUDGET_SECONDS = 20.0


def git_credentials(value: str) -> dict[str, str]:
    """Tokens per git host from `host=token,host2=token2`."""
    credentials = {}
    for item in value.split(","):
        host, equals, token = item.strip().partition("=")
        if equals and host and token:
            credentials[host.lower()] = token
    return credentials


class Services:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (tests, or after the environment changed)."""
        self._tokens: TokenSource | None = None
        self._queue: ResultQueue | None = None
        self._verifier: GitVerifier | None = None

    def tokens(self) -> Sequence[str]:
        with self._lock:
            if self._tokens is None:
                self._tokens = token_source_from_env()
            source = self._tokens
        return source()

    def queue(self) -> ResultQueue:
        with self._lock:
            if self._queue is None:
                from .queues import queue_from_env

                self._queue = queue_from_env()
            return self._queue

    def verifier(self) -> GitVerifier:
        with self._lock:
            if self._verifier is None:
                from .upstream import GitVerifier, UrlPolicy

                self._verifier = GitVerifier(
                    UrlPolicy.from_env(),
                    credentials=git_credentials(os.environ.get(ENV_GIT_TOKENS, "")),
                    manifest_budget_seconds=API_VERIFY_BUDGET_SECONDS,
                )
            return self._verifier

    def use(
        self,
        *,
        tokens: TokenSource | None = None,
        queue: ResultQueue | None = None,
        verifier: GitVerifier | None = None,
    ) -> None:
        """Put given implementations in place (the local server, tests)."""
        with self._lock:
            if tokens is not None:
                self._tokens = tokens
            if queue is not None:
                self._queue = queue
            if verifier is not None:
                self._verifier = verifier


services = Services()
