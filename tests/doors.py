"""The Lambda doors as a test drives them: each handler's `handle(event, context, services)`
with `Services` made for the test from the environment it set (and fakes passed to the
constructor), as a Lambda container makes them from its environment."""

from __future__ import annotations

import time
from typing import Any

from manifest_validation.handlers import api, revalidate, worker
from manifest_validation.handlers.local_server import LocalContext
from manifest_validation.handlers.root import Services
from manifest_validation.settings import Settings

WORKER_TIMEOUT_SECONDS = 300


class Doors:
    def __init__(self, **fakes: Any) -> None:
        self.services = Services(Settings.from_env(), **fakes)

    def api(self, event: dict[str, Any]) -> dict[str, Any]:
        return api.handle(event, LocalContext(), services=self.services)

    def worker(self, event: dict[str, Any]) -> dict[str, Any]:
        # the worker function's timeout (template.yaml): it starts no job when little is left
        context = LocalContext(deadline=time.monotonic() + WORKER_TIMEOUT_SECONDS)
        return worker.handle(event, context, services=self.services)

    def revalidate(self, event: dict[str, Any]) -> dict[str, Any]:
        return revalidate.handle(event, LocalContext(), services=self.services)


_current: list[Doors] = []


def rebuild(**fakes: Any) -> Doors:
    """New doors from the environment as it is now (a test changed it, or wants fakes)."""
    _current[:] = [Doors(**fakes)]
    return _current[0]


def current() -> Doors:
    """The doors the running test made last (made from the environment if it made none)."""
    return _current[0] if _current else rebuild()


def forget() -> None:
    _current.clear()
