"""Benchmark the local HTTP server and the api handler's cold start.

    python benchmarks/bench_api.py [--requests 400] [--concurrency 4] [--manifest PATH]

Starts `manifest-validate serve` on 127.0.0.1 in its own process, posts a typical manifest
(without verify_git) over keep-alive connections from a few client threads, and prints
requests/second and p50/p99 latency. Then measures the api handler's cold start: the import
time of `manifest_validation.handlers.api` in a fresh interpreter, and its first invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = PROJECT.parent / "shared/corpus/official-images/library/redis"
TOKEN = "benchmark-token"

COLD_START = """
import time
started = time.perf_counter()
from manifest_validation.handlers import api
imported = time.perf_counter() - started
from manifest_validation.handlers.local_server import LocalContext, http_api_event
import os, pathlib
body = pathlib.Path(os.environ["BENCH_BODY"]).read_bytes()
event = http_api_event("POST", "/v1/validations", [("Authorization", "Bearer {token}"),
    ("Content-Type", "application/json")], body)
started = time.perf_counter()
response = api.handler(event, LocalContext())
first = time.perf_counter() - started
assert response["statusCode"] == 200, response
print(imported, first)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--manifest", type=Path, default=None)
    args = parser.parse_args()
    manifest = args.manifest or (
        DEFAULT_MANIFEST if DEFAULT_MANIFEST.exists() else PROJECT / "examples/library/hello-world"
    )
    body = json.dumps({"manifests": [{"name": manifest.name, "content": manifest.read_text()}]})
    env = dict(os.environ, MANIFEST_VALIDATION_API_TOKENS=TOKEN, POWERTOOLS_TRACE_DISABLED="1")
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    server = subprocess.Popen(
        [sys.executable, "-m", "manifest_validation", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[2].removesuffix("/v1/") + "/v1/validations"
        # the server logs (JSON) and emits metrics on stdout: keep draining it
        threading.Thread(target=server.stdout.read, daemon=True).start()
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        requests.post(url, data=body, headers=headers, timeout=30).raise_for_status()  # warm-up
        latencies: list[float] = []
        lock = threading.Lock()
        per_client = args.requests // args.concurrency

        def client() -> None:
            with requests.Session() as session:
                for _ in range(per_client):
                    started = time.perf_counter()
                    response = session.post(url, data=body, headers=headers, timeout=30)
                    elapsed = time.perf_counter() - started
                    response.raise_for_status()
                    with lock:
                        latencies.append(elapsed)

        threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)

    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"manifest            {manifest.name} ({len(manifest.read_bytes())} bytes)")
    print(f"requests            {len(latencies)} with {args.concurrency} keep-alive clients")
    print(f"requests/second     {len(latencies) / wall:.1f}")
    print(f"latency p50         {statistics.median(latencies) * 1e3:.1f} ms")
    print(f"latency p99         {p99 * 1e3:.1f} ms")

    script = COLD_START.format(token=TOKEN)
    body_file = Path(tempfile.mkdtemp()) / "body.json"
    body_file.write_text(body)
    env["BENCH_BODY"] = str(body_file)
    imports, firsts = [], []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        ).stdout.split()
        imports.append(float(out[-2]))
        firsts.append(float(out[-1]))
    print(f"cold start import   {statistics.median(imports) * 1e3:.0f} ms (median of 5)")
    print(f"first invocation    {statistics.median(firsts) * 1e3:.0f} ms (median of 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
