"""The one place that knows how the package's Lambda doors are reached and configured.

Everything else in tests/aws treats the functions as AWS does: a handler named by template.yaml,
called with an event and a context, configured only through its environment. What this module
adds on top is the in-process detail of a cold start: each handler keeps the services of its
container (`handlers.root.default_services`, made from the environment on first use), so a new
environment takes effect once that cache is cleared, as a new container would start.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from manifest_validation.results.ledger_dynamodb import LEASE

from .template import function_setting

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# The template's logical ids of the three functions.
API = "ApiFunction"
WORKER = "WorkerFunction"
REVALIDATE = "RevalidateFunction"
FUNCTIONS = (API, WORKER, REVALIDATE)

# Variables the code reads besides the ones template.yaml sets: a developer's shell must not leak
# them into a test (a local secret would bypass SSM, a state dir would change the results queue).
NOT_IN_TEMPLATE = (
    "MANIFEST_VALIDATION_WEBHOOK_SECRET",
    "WEBHOOK_SECRET_SECRET",
    "MANIFEST_VALIDATION_API_TOKENS",
    "API_TOKENS_SECRET",
    "MANIFEST_VALIDATION_GIT_TOKENS",
    "MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS",
    "MANIFEST_VALIDATION_STATE_DIR",
    "POWERTOOLS_IDEMPOTENCY_DISABLED",
    "LAMBDA_TASK_ROOT",  # would turn X-Ray tracing on (handlers/tracing.py)
)

# The ledger record's attribute holding when an in-progress record stops blocking: its holder's
# lease (epoch milliseconds), as the code names it. The TTL attribute comes from the template.
IN_PROGRESS_EXPIRY_ATTRIBUTE = LEASE


def handler_name(function: str) -> str:
    return str(function_setting(function, "Handler"))


def handler(function: str) -> Handler:
    """The callable template.yaml deploys for `function` (a logical id)."""
    module, _, attribute = handler_name(function).rpartition(".")
    found: Handler = getattr(importlib.import_module(module), attribute)
    return found


def configure(environment: Mapping[str, str], patch: pytest.MonkeyPatch) -> None:
    """Give the code under test exactly `environment` (plus the process's own PATH, HOME, ...):
    every variable it reads is set from there or removed, then its cached clients are dropped."""
    for name in NOT_IN_TEMPLATE:
        patch.delenv(name, raising=False)
    for name, value in environment.items():
        patch.setenv(name, value)
    reset()


def reset() -> None:
    """Forget clients, caches and sources made from an earlier environment (a cold start)."""
    from manifest_validation.handlers.root import default_services

    default_services.cache_clear()


def configure_process(environment: Mapping[str, str]) -> None:
    """`configure` for a process of its own (a second Lambda container, see container.py)."""
    for name in NOT_IN_TEMPLATE:
        os.environ.pop(name, None)
    os.environ.update(environment)
    reset()


def api_event(
    method: str, path: str, headers: list[tuple[str, str]], body: bytes
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the local server builds it."""
    from manifest_validation.handlers.local_server import http_api_event

    event: dict[str, Any] = http_api_event(method, path, headers, body)
    return event
