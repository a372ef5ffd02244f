"""Benchmark: the local `revalidate` of a 150-manifest library against local repositories.

    python benchmarks/bench_revalidate.py [--manifests 150] [--upstreams 15] [--delay 0.01]

Builds upstream repositories and a manifests repository whose `library/` holds N manifests (each
with a few entries pointing at upstream commits: tips, ancestors, tags), serves them all through
the real `git http-backend` on 127.0.0.1 with a per-request delay, then runs the same in-process
re-validation as `manifest-validate revalidate --repository URL` and prints wall time and HTTP
requests per manifest (manifests repository reads and upstream checks together).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gitserver import run_git, serve_git
from manifest_validation.cli.revalidate import RecordingResults
from manifest_validation.repository import GitManifestSource
from manifest_validation.results.messages import Trigger
from manifest_validation.results.queues import LocalResultQueue
from manifest_validation.upstream import GitVerifier, UrlPolicy
from manifest_validation.work.revalidate import prefetch, revalidation_jobs, run_in_process
from manifest_validation.work.worker import Worker


def build_upstream(work: Path, bare: Path, commits: int) -> list[str]:
    run_git("init", "-q", "-b", "master", work)
    shas = []
    for number in range(commits):
        (work / "Dockerfile").write_text(f"FROM scratch\n# {number}\n")
        run_git("add", "-A", cwd=work)
        run_git("commit", "-qm", f"c{number}", cwd=work)
        shas.append(run_git("rev-parse", "HEAD", cwd=work))
    run_git("tag", "v1", shas[commits // 2], cwd=work)
    run_git("clone", "-q", "--bare", "--no-local", work, bare)
    return shas


def manifest_text(rng: random.Random, name: str, url: str, shas: list[str]) -> str:
    lines = [
        "Maintainers: Jane Doe <jane@example.com> (@jane)",
        f"GitRepo: {url}",
        "",
    ]
    for entry in range(rng.randint(2, 6)):
        commit = shas[-1] if entry == 0 else rng.choice(shas[:-1])
        lines += [
            f"Tags: {entry}.0, {entry}" + (", latest" if entry == 0 else ""),
            "Architectures: amd64, arm64v8",
            f"GitCommit: {commit}",
            f"Directory: {entry}",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifests", type=int, default=150)
    parser.add_argument("--upstreams", type=int, default=15)
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("--delay", type=float, default=0.01)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        served = root / "served"
        served.mkdir()
        upstream: list[tuple[str, list[str]]] = []
        for index in range(args.upstreams):
            name = f"up{index}.git"
            upstream.append(
                (name, build_upstream(root / f"up{index}", served / name, args.commits))
            )
        with serve_git(served, delay=args.delay) as server:
            work = root / "official-images"
            run_git("init", "-q", "-b", "master", work)
            (work / "library").mkdir()
            for number in range(args.manifests):
                repo, shas = upstream[number % len(upstream)]
                name = f"image{number:03d}"
                text = manifest_text(rng, name, server.repo_url(repo), shas)
                (work / "library" / name).write_text(text)
            run_git("add", "-A", cwd=work)
            run_git("commit", "-qm", "library", cwd=work)
            run_git("clone", "-q", "--bare", "--no-local", work, served / "official-images.git")

            policy = UrlPolicy([server.host_port])
            url = server.repo_url("official-images.git")
            server.reset_counters()
            started = time.perf_counter()
            source = GitManifestSource(url, policy=policy)
            jobs = revalidation_jobs(source, url, "master", trigger=Trigger.CLI)
            prefetch(source, jobs)
            recording = RecordingResults(LocalResultQueue(root / "state"))
            with GitVerifier(policy) as verifier:
                worker = Worker(lambda _: source, recording, None, verifier)
                failures = run_in_process(jobs, worker, concurrency=args.concurrency)
            wall = time.perf_counter() - started
            requests = server.requests
            received = server.bytes_sent
    print(f"manifests          {len(jobs)} ({args.upstreams} upstream repositories)")
    print(f"per-request delay  {args.delay * 1e3:.0f} ms")
    print(f"statuses           {dict(recording.statuses)}")
    print(f"failures           {len(failures)}")
    print(f"wall time          {wall:.2f} s")
    print(f"HTTP requests      {requests} ({requests / len(jobs):.2f} per manifest)")
    print(f"bytes from server  {received:,} ({received / len(jobs):,.0f} per manifest)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
