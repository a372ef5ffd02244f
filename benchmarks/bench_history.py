"""Benchmark: the tarball-rewrite history check, ours vs ``git fetch`` of the ref.

Builds a deterministic repository (``git fast-import``): a few hundred commits of
small source changes, and every Nth commit rewriting a tarball with 3-20 MiB of
random (incompressible) bytes, a few deletions among them; serves it with the real
``git http-backend`` (tests/gitserver.py) and checks the tip's history:

* ``git fetch``: what CI does (``bashbrew fetch`` then ``git fetch``): a fresh bare
  repository fetches the ref, every blob of the history included;
* ``history``: one :meth:`HistoryChecker.check` (cold), with ``object-info`` (git's
  server advertises it) and without (hidden, as GitHub does not offer it), then the
  same check again (cached).

Bytes are counted three ways: what our client read (``TransferStats``), what the
server wrote, and what the client's kernel acknowledged on the server's sockets
(Linux ``TCP_INFO``): the last is what crossed the network, also for the responses
we close after their first kilobytes.  The verdict is compared with
``naughty-commits.sh``'s logic run with git on the served repository.  Target: at
most 1/10 of ``git fetch``'s bytes.

Run: ``python benchmarks/bench_history.py [--commits 300] [--every 20] [--seed 1]``
(about a minute with the defaults; ~200 MiB of temporary files).
"""

from __future__ import annotations

import argparse
import gc
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gitserver import GIT, GitServer, git_env, run_git, serve_git
from manifest_validation.upstream import UrlPolicy
from manifest_validation.upstream.history import HistoryCheck, HistoryChecker
from upstream.tar_repos import oracle

MIB = 1024 * 1024
TARBALLS = ["vendor/app-src.tar.gz", "rootfs.tar.xz", "dist/tools.tar", "old/legacy.tar.bz2"]


def build(root: Path, commits: int, every: int, seed: int) -> tuple[Path, int]:
    """A bare repository ``repo.git`` under ``root``; returns it and the tarball bytes."""
    rng = random.Random(seed)
    bare = root / "served" / "repo.git"
    run_git("init", "-q", "--bare", bare)
    stream = bytearray()
    tar_bytes = 0
    present: set[str] = set()
    for number in range(1, commits + 1):
        date = 1_600_000_000 + number * 60
        message = f"commit {number}\n".encode()
        stream += b"commit refs/heads/main\n"
        stream += f"committer Bench <bench@example.invalid> {date} +0000\n".encode()
        stream += b"data %d\n%s" % (len(message), message)
        if number == 1:
            stream += b"deleteall\n"
        path = f"src/file{rng.randrange(40)}.c"
        content = f"/* {number} */\n".encode() + rng.randbytes(2000).hex().encode() + b"\n"
        stream += f"M 100644 inline {path}\n".encode() + b"data %d\n" % len(content) + content
        if number % every == 0:
            tarball = rng.choice(TARBALLS)
            if tarball in present and rng.random() < 0.15:
                stream += f"D {tarball}\n".encode()
                present.discard(tarball)
            else:
                size = rng.randint(3 * MIB, 20 * MIB)
                data = rng.randbytes(size)
                tar_bytes += size
                stream += f"M 100644 inline {tarball}\n".encode()
                stream += b"data %d\n" % size + data + b"\n"
                present.add(tarball)
        stream += b"\n"
    subprocess.run(
        [GIT, "--git-dir", str(bare), "fast-import", "--quiet"],
        input=bytes(stream),
        env=git_env(),
        check=True,
    )
    return bare, tar_bytes


def settle(server: GitServer) -> None:
    """Let the server's handlers see the closed connections (TCP_INFO at their end)."""
    gc.collect()
    time.sleep(0.5)


def git_fetch(server: GitServer, url: str, scratch: Path) -> dict[str, float]:
    target = scratch / "fetched.git"
    run_git("init", "-q", "--bare", target)
    server.reset_counters()
    started = time.perf_counter()
    subprocess.run(
        [GIT, "-c", "protocol.version=2", "--git-dir", str(target), "fetch", "-q", url,
         "refs/heads/main:"],
        env=git_env(),
        check=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    settle(server)
    return {
        "requests": server.requests,
        "read": server.bytes_sent,
        "sent": server.bytes_sent,
        "acked": server.bytes_acked,
        "seconds": elapsed,
    }


def ours(server: GitServer, url: str, tip: str, checker: HistoryChecker) -> dict[str, float]:
    server.reset_counters()
    before = checker.stats.requests, checker.stats.bytes_received
    started = time.perf_counter()
    report = checker.check([HistoryCheck(url, "refs/heads/main", tip)])
    elapsed = time.perf_counter() - started
    assert report.complete, report.outcomes
    settle(server)
    return {
        "requests": checker.stats.requests - before[0],
        "read": checker.stats.bytes_received - before[1],
        "sent": server.bytes_sent,
        "acked": server.bytes_acked,
        "seconds": elapsed,
        "offending": len(report.offending),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--every", type=int, default=20, help="a tarball change every N commits")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        bare, tar_bytes = build(root, args.commits, args.every, args.seed)
        tip = run_git("--git-dir", bare, "rev-parse", "refs/heads/main")
        print(
            f"repository: {args.commits} commits, {tar_bytes / MIB:.0f} MiB of tarball "
            f"rewrites (built in {time.perf_counter() - started:.1f} s)"
        )
        expected = oracle(bare, [tip])
        rows: list[tuple[str, dict[str, float]]] = []
        with serve_git(root / "served") as server:
            url = server.repo_url("repo.git")
            rows.append(("git fetch of the ref", git_fetch(server, url, root)))
            policy = UrlPolicy([server.host_port])
            with HistoryChecker(policy) as checker:
                cold = ours(server, url, tip, checker)
                rows.append(("history, object-info (cold)", cold))
                rows.append(("history, cached", ours(server, url, tip, checker)))
        with serve_git(root / "served", hide_capabilities=("object-info",)) as server:
            url = server.repo_url("repo.git")
            with HistoryChecker(UrlPolicy([server.host_port])) as checker:
                rows.append(("history, no object-info (cold)", ours(server, url, tip, checker)))
                got = checker.check([HistoryCheck(url, "refs/heads/main", tip)])
        found = {
            o.commit: ([(f.path, f.mib) for f in o.files], o.check.commit) for o in got.offending
        }
        assert found == expected, "verdict differs from naughty-commits.sh run with git"
        print(f"offending commits: {len(found)} (same as naughty-commits.sh's logic with git)\n")
        print(
            f"{'':32} {'requests':>8} {'client read':>12} {'server wrote':>13} "
            f"{'wire (acked)':>13} {'seconds':>8}"
        )
        for name, row in rows:
            print(
                f"{name:32} {row['requests']:>8.0f} {row['read'] / MIB:>10.2f}Mi "
                f"{row['sent'] / MIB:>11.2f}Mi {row['acked'] / MIB:>11.2f}Mi "
                f"{row['seconds']:>8.2f}"
            )
        baseline = rows[0][1]["acked"] or rows[0][1]["sent"]
        print()
        for name, row in rows[1:]:
            if "cached" in name:
                continue
            wire = row["acked"] or row["sent"]
            ratio = wire / baseline
            verdict = "meets" if ratio <= 0.1 else "MISSES"
            print(f"{name}: {ratio:.4f} of git fetch's bytes on the wire; target <= 0.1: {verdict}")


if __name__ == "__main__":
    main()
