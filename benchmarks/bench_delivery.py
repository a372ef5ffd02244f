"""Delivery guarantees and the local server under load.

    python benchmarks/bench_delivery.py [--fanout 82] [--skip-scenarios] [--skip-load]
                                        [--requests-per-client 10] [--levels 1,8,32,64]

1. Runs issue 18's delivery scenarios (tests/aws/scenarios.py) against the local stack: one
   moto server on 127.0.0.1, resources made from template.yaml, the real handlers, a Lambda-like
   poller, faults injected at the HTTP boundary, git over `git http-backend`, emulated time.
   Prints, per scenario, the jobs, the results expected and seen, duplicates and lost jobs
   (target: 0 and 0), jobs enqueued more than once, and what the webhook answered; then the
   scenarios that deliver pushes again, each push delivered twice at once (rows marked x2: the
   second delivery while the first runs in a container of its own).

2. Starts `manifest-validate serve` on 127.0.0.1 and posts a small manifest to
   `POST /v1/validations` from a thread pool of `requests` sessions (keep-alive), at each
   concurrency level; all clients open their first connection at the same instant, which is
   where a small listen backlog shows. Prints requests, p50/p99 latency, errors and connection
   resets, and how many first connections took a second or more (a SYN retransmitted after the
   accept queue overflowed).

Everything stays on this machine; every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

PROJECT = Path(__file__).resolve().parents[1]
TESTS = PROJECT / "tests"
MANIFEST = PROJECT / "examples" / "library" / "hello-world"
TOKEN = "bench-delivery-token"


# -- 1. scenarios ---------------------------------------------------------------------------------


@contextmanager
def functions_log(path: Path) -> Iterator[TextIO]:
    """The functions log JSON to stdout (Powertools binds its handler to it at import): send
    file descriptors 1 and 2 to `path` meanwhile, and give the table the real stdout."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    table = os.fdopen(os.dup(1), "w", buffering=1)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield table
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            table.close()


def run_scenarios(fanout: int, only: set[str] | None) -> int:
    sys.path.insert(0, str(TESTS))
    import pytest

    from aws.scenarios import SCENARIOS, fanout_forced_push, fanout_schedule
    from aws.world import MotoServerUnavailable, World, local_aws

    sized = {"b1": fanout_schedule, "b2": fanout_forced_push}
    header = (
        f"{'scenario':<44} {'jobs':>5} {'expected':>8} {'seen':>5} {'dup':>4} {'lost':>4} "
        f"{'enq2x':>5}  {'webhook':<16} {'target':<6} {'s':>5}"
    )
    runs = [(scenario, False) for scenario in SCENARIOS]
    runs += [(scenario, True) for scenario in SCENARIOS if scenario.pushes]
    missed = 0
    handle, name = tempfile.mkstemp(prefix="bench_delivery-", suffix=".log")
    os.close(handle)
    log = Path(name)
    print(f"(the functions' own logs: {log})")
    with tempfile.TemporaryDirectory() as scratch, functions_log(log) as out:
        print(header, file=out)
        print("-" * len(header), file=out)
        try:
            local_context = local_aws(Path(scratch))
            local = local_context.__enter__()
        except MotoServerUnavailable as error:
            print(f"skipped: {error}", file=out)
            return 0
        try:
            for scenario, twice in runs:
                if only and scenario.key not in only:
                    continue
                label = f"{scenario.key} x2" if twice else scenario.key
                patch = pytest.MonkeyPatch()
                started = time.perf_counter()
                try:
                    world = World.create(local, patch)
                    world.twin_deliveries = twice
                    try:
                        if scenario.key in sized:
                            outcome = sized[scenario.key](world, fanout)
                        else:
                            outcome = scenario.run(world)
                    finally:
                        world.close()
                except pytest.skip.Exception as skipped:
                    print(f"{label:<44} skipped: {skipped}", file=out)
                    continue
                except Exception as error:
                    print(
                        f"{label:<44} harness error: {type(error).__name__}: {error}",
                        file=out,
                    )
                    missed += 1
                    continue
                finally:
                    patch.undo()
                seconds = time.perf_counter() - started
                tally = outcome.tally
                problems = outcome.missed()
                missed += bool(problems)
                answers = ",".join(str(a) for a in outcome.answers) or "-"
                name = (outcome.name[:40] + " x2") if twice else outcome.name[:44]
                print(
                    f"{name:<44} {outcome.jobs:>5} {len(tally.expected):>8} "
                    f"{tally.seen:>5} {tally.duplicates:>4} {len(tally.lost):>4} "
                    f"{outcome.enqueued_twice:>5}  {answers:<16} "
                    f"{'met' if not problems else 'MISSED':<6} {seconds:>5.1f}",
                    file=out,
                )
                for problem in problems:
                    print(f"{'':<6}- {problem[:150]}", file=out)
                for note in outcome.notes:
                    print(f"{'':<6}  {note[:150]}", file=out)
        finally:
            local_context.__exit__(None, None, None)
    print(
        "\ntarget: every job exactly one result (dup 0, lost 0), no job enqueued twice "
        "(enq2x 0),\nno HTTP 500 for a dependency outage; 'expected' = one result per job; "
        "x2: every push delivered twice at once."
    )
    return missed


# -- 2. the local server under load ---------------------------------------------------------------


@dataclass
class Level:
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    first_connects: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    resets: int = 0
    wall: float = 0.0


def serve_command() -> list[str]:
    script = Path(sys.executable).parent / "manifest-validate"
    if script.exists():
        return [str(script), "serve"]
    found = shutil.which("manifest-validate")
    return [found, "serve"] if found else [sys.executable, "-m", "manifest_validation", "serve"]


def start_server(state_dir: str) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ)
    env.update(
        MANIFEST_VALIDATION_API_TOKENS=TOKEN,
        MANIFEST_VALIDATION_STATE_DIR=state_dir,
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_TRACE_DISABLED="true",
    )
    for name in ("RESULTS_QUEUE_URL", "WORK_QUEUE_URL", "IDEMPOTENCY_TABLE", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    server = subprocess.Popen(
        [*serve_command(), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    line = server.stdout.readline()  # "serving on http://127.0.0.1:PORT/v1/ ..."
    base = line.split()[2].removesuffix("/v1/")
    threading.Thread(target=server.stdout.read, daemon=True).start()  # keep draining
    return server, f"{base}/v1/validations"


def root_cause(error: BaseException) -> str:
    """The innermost exception's type and errno, e.g. ConnectionResetError(104)."""
    seen: BaseException = error
    while True:
        inner = seen.__cause__ or seen.__context__
        if inner is None and seen.args and isinstance(seen.args[0], BaseException):
            inner = seen.args[0]  # urllib3 wraps the socket error in its arguments
        if inner is None or inner is seen:
            break
        seen = inner
    errno = getattr(seen, "errno", None)
    return f"{type(seen).__name__}({errno})" if errno else type(seen).__name__


def is_reset(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionResetError | BrokenPipeError):
            return True
        if "reset by peer" in str(seen).lower():
            return True
        inner = seen.__cause__ or seen.__context__
        if inner is None and seen.args and isinstance(seen.args[0], BaseException):
            inner = seen.args[0]
        seen = inner if inner is not seen else None
    return False


def load(url: str, body: bytes, concurrency: int, per_client: int, timeout: float) -> Level:
    import requests

    level = Level(concurrency)
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    def client() -> None:
        with requests.Session() as session:
            barrier.wait()  # every client's first connection at once
            for number in range(per_client):
                started = time.perf_counter()
                try:
                    response = session.post(url, data=body, headers=headers, timeout=timeout)
                    elapsed = time.perf_counter() - started
                    with lock:
                        if response.status_code != 200:
                            level.errors.append(f"HTTP {response.status_code}")
                        else:
                            level.latencies.append(elapsed)
                        if number == 0:
                            level.first_connects.append(elapsed)
                except requests.RequestException as error:
                    with lock:
                        level.errors.append(f"{type(error).__name__}: {root_cause(error)}")
                        level.resets += is_reset(error)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    level.wall = time.perf_counter() - started
    return level


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def run_load(levels: list[int], per_client: int, timeout: float) -> None:
    body = json.dumps(
        {"manifests": [{"name": MANIFEST.name, "content": MANIFEST.read_text()}]}
    ).encode()
    with tempfile.TemporaryDirectory() as state:
        server, url = start_server(state)
        try:
            import requests

            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
            # warm-up: the validation core is imported by the first validation
            requests.post(url, data=body, headers=headers, timeout=30).raise_for_status()
            print(f"\nmanifest-validate serve ({url}), {MANIFEST.name}, {len(body)} bytes")
            header = (
                f"{'clients':>7} {'requests':>8} {'ok':>5} {'req/s':>7} {'p50 ms':>8} "
                f"{'p99 ms':>8} {'errors':>6} {'resets':>6} {'first>=1s':>9}"
            )
            print(header)
            print("-" * len(header))
            for concurrency in levels:
                level = load(url, body, concurrency, per_client, timeout)
                total = concurrency * per_client
                slow_first = sum(1 for s in level.first_connects if s >= 1.0)
                print(
                    f"{concurrency:>7} {total:>8} {len(level.latencies):>5} "
                    f"{len(level.latencies) / level.wall:>7.1f} "
                    f"{statistics.median(level.latencies or [0]) * 1e3:>8.1f} "
                    f"{percentile(level.latencies, 0.99) * 1e3:>8.1f} "
                    f"{len(level.errors):>6} {level.resets:>6} {slow_first:>9}"
                )
                if level.errors:
                    kinds: dict[str, int] = {}
                    for error in level.errors:
                        kinds[error] = kinds.get(error, 0) + 1
                    print(f"{'':>9}errors: {kinds}")
        finally:
            server.terminate()
            server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fanout", type=int, default=82, help="manifests of the fan-outs")
    parser.add_argument("--only", default="", help="scenario keys, comma-separated (a,b1,...)")
    parser.add_argument("--skip-scenarios", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--levels", default="1,8,32,64")
    parser.add_argument("--requests-per-client", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    args = parser.parse_args()
    if not args.skip_scenarios:
        only = {key.strip() for key in args.only.split(",") if key.strip()} or None
        missed = run_scenarios(args.fanout, only)
        print(f"{missed} scenario(s) missed the target")
    if not args.skip_load:
        levels = [int(level) for level in args.levels.split(",")]
        run_load(levels, args.requests_per_client, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
