"""What the Lambda runtime hands a Python handler besides the event: the context object, with
the function's name, memory and timeout as template.yaml deploys them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import doors
from .stack import ACCOUNT, REGION
from .template import function_setting


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)
    identity: Any = None
    client_context: Any = None

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"2024/01/01/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


def context_for(function: str) -> LambdaContext:
    """A fresh context for one invocation of `function` (a logical id of the template)."""
    return LambdaContext(
        function_name=f"mv-{function}",
        memory_limit_in_mb=int(function_setting(function, "MemorySize") or 128),
        timeout_seconds=float(function_setting(function, "Timeout") or 3),
    )


def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    """Call `function`'s handler in this process, as a warm container would."""
    return doors.handler(function)(event, context_for(function))
