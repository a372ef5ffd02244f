"""X-Ray tracing for the handlers, loaded only where Powertools would trace.

Creating a Powertools `Tracer` imports the X-Ray SDK, and botocore with it (about 0.3 s of every
cold start), even when tracing is disabled. So the three handlers share one Tracer, created at
import only where Powertools would enable it: in Lambda (template.yaml deploys every function
with `Tracing: Active`), not under SAM local or Chalice, and not with POWERTOOLS_TRACE_DISABLED
true. There it is created exactly as before (`Tracer()`: auto-patching the AWS SDK and requests,
capture settings from the environment). Elsewhere (tests, `manifest-validate serve`, scripts)
the decorators return the function unchanged, which is what a disabled Tracer amounts to.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether Powertools' Tracer would trace in this environment (its own rule, from the same
    variables; a test keeps the two in step)."""
    disabled = environ.get(constants.TRACER_DISABLED_ENV, "false")
    if resolve_truthy_env_var_choice(env=disabled):
        return False
    in_lambda = bool(environ.get(constants.LAMBDA_TASK_ROOT_ENV))
    emulated = environ.get(constants.SAM_LOCAL_ENV) or environ.get(constants.CHALICE_LOCAL_ENV)
    return in_lambda and not emulated


tracer: Tracer | None = Tracer() if tracing_enabled() else None


def capture_lambda_handler(handler: F) -> F:
    """`Tracer.capture_lambda_handler` where tracing is on; the handler itself elsewhere."""
    if tracer is None:
        return handler
    return cast(F, tracer.capture_lambda_handler(handler))


def capture_method(method: F) -> F:
    """`Tracer.capture_method` where tracing is on; the function itself elsewhere."""
    if tracer is None:
        return method
    return tracer.capture_method(method)
