"""A second Lambda container: one invocation in a process of its own.

    python -m aws.container FUNCTION RESPONSE_FILE < event.json

Two concurrent invocations never share memory in Lambda (and the handlers keep per-invocation
state on module objects), so a test that needs two at once runs one of them here. The process's
environment is the stack's (`Stack.process_environment`); the response goes to RESPONSE_FILE
(stdout carries the function's own logs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]


def main() -> int:
    from . import doors
    from .runtime import invoke

    function, output = sys.argv[1], Path(sys.argv[2])
    event = json.load(sys.stdin)
    doors.reset()
    response = invoke(function, event)
    output.write_text(json.dumps(response))
    return 0


def start(
    function: str, event: dict[str, Any], environment: dict[str, str], scratch: Path
) -> subprocess.Popen[bytes]:
    """Start one invocation of `function` in a new process (files in `scratch`); its answer
    comes from `finish`."""
    env = dict(environment)
    env["PYTHONPATH"] = str(TESTS) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    (scratch / "event.json").write_text(json.dumps(event))
    with (scratch / "event.json").open("rb") as stdin, (scratch / "stderr").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "aws.container", function, str(scratch / "response.json")],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            cwd=TESTS,
        )


def finish(process: subprocess.Popen[bytes], scratch: Path, timeout: float = 60) -> dict[str, Any]:
    if process.wait(timeout) != 0:
        errors = (scratch / "stderr").read_text(errors="replace")
        raise AssertionError(f"the container failed: {errors[-2000:]}")
    response: dict[str, Any] = json.loads((scratch / "response.json").read_text())
    return response


if __name__ == "__main__":
    sys.exit(main())
