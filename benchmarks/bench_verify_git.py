"""Benchmark: our smart-HTTP verifier vs ``git fetch`` + ``git merge-base``.

Builds a few deterministic repositories of realistic size (hundreds of commits, MBs
of history; content from a seeded PRNG through ``git fast-import``), serves them
with the real ``git http-backend`` (tests/gitserver.py) with a per-request delay to
stand in for network latency, and answers the same manifest-like set of checks
(tips, old ancestors, tags, commits not in the ref, missing commits) both ways:

* ``verifier``: :class:`GitVerifier` (cold cache, then warm cache);
* ``git fetch``: fresh empty repository, one ``git fetch`` of the needed refs per
  upstream (in parallel, same worker count), then ``git cat-file -e`` and
  ``git merge-base --is-ancestor`` per check.

Run: ``python benchmarks/bench_verify_git.py [--delay 0.02] [--repos 3] [--commits 400]``
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gitserver import GitServer, git_env, run_git, serve_git
from manifest_validation.upstream import (
    GitCheck,
    GitVerifier,
    MemoryAnswerCache,
    Outcome,
    UrlPolicy,
)

WORDS = [
    "FROM", "RUN", "apt-get", "install", "ENV", "COPY", "set", "-eux", "curl", "wget",
    "gpg", "verify", "version", "arch", "amd64", "arm64", "ppc64le", "s390x", "make",
    "configure", "--prefix", "/usr/local", "rm", "-rf", "tmp", "docker", "entrypoint",
    "sha256", "echo", "export", "if", "then", "fi", "done", "for", "in", "do", "case",
]  # fmt: skip


@dataclass
class Built:
    name: str
    master: list[str]  # commit ids, oldest first
    release: list[str]  # commits of the release branch (forked from master)
    tags: dict[str, str]  # tag name -> commit


def _blob(rng: random.Random, size: int) -> bytes:
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
        line += f" {rng.getrandbits(64):016x}"  # some entropy, like checksums in Dockerfiles
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def build_repo(root: Path, name: str, commits: int, seed: int) -> Built:
    """Create ``root/name`` (bare) with ``commits`` commits on master, a release
    branch forked at 60 %, and an annotated tag every 50 commits."""
    rng = random.Random(seed)
    bare = root / name
    run_git("init", "-q", "--bare", "-b", "master", bare)
    files = [f"dir{i % 7}/file{i}.txt" for i in range(60)]
    out = bytearray()
    mark = 0
    when = 1_577_836_800  # 2020-01-01

    def commit(branch: str, parent_mark: int | None, message: str, changes: int) -> int:
        nonlocal mark, when
        mark += 1
        when += 3600
        out.extend(f"commit refs/heads/{branch}\nmark :{mark}\n".encode())
        out.extend(f"committer Bench <bench@example.invalid> {when} +0000\n".encode())
        out.extend(b"data %d\n%s\n" % (len(message), message.encode()))
        if parent_mark is not None:
            out.extend(f"from :{parent_mark}\n".encode())
        for path in rng.sample(files, changes):
            data = _blob(rng, rng.randint(2_000, 30_000))
            out.extend(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        return mark

    master_marks: list[int] = []
    parent: int | None = None
    for i in range(commits):
        parent = commit("master", parent, f"master change {i}", 60 if i == 0 else 3)
        master_marks.append(parent)
    fork = master_marks[int(commits * 0.6)]
    release_marks: list[int] = []
    parent = fork
    for i in range(commits // 10):
        parent = commit("release", parent, f"release fix {i}", 2)
        release_marks.append(parent)
    tag_marks = {f"v{n}": master_marks[n] for n in range(0, commits, 50)}
    for tag, tag_mark in tag_marks.items():
        out.extend(f"tag {tag}\nfrom :{tag_mark}\n".encode())
        out.extend(f"tagger Bench <bench@example.invalid> {when} +0000\n".encode())
        out.extend(b"data 8\nrelease\n\n")
    marks_file = root / f"{name}.marks"
    subprocess.run(
        ["git", "--git-dir", str(bare), "fast-import", "--quiet", f"--export-marks={marks_file}"],
        input=bytes(out),
        env=git_env(),
        check=True,
    )
    run_git("--git-dir", bare, "repack", "-adq")
    ids = dict(
        (int(line.split()[0][1:]), line.split()[1]) for line in marks_file.read_text().splitlines()
    )
    return Built(
        name,
        [ids[m] for m in master_marks],
        [ids[m] for m in release_marks],
        {tag: ids[m] for tag, m in tag_marks.items()},
    )


def make_checks(server: GitServer, built: list[Built]) -> list[GitCheck]:
    checks = []
    for repo in built:
        url = server.repo_url(repo.name)
        master, n = repo.master, len(repo.master)
        checks += [
            GitCheck(url, "refs/heads/master", master[-1]),  # tip
            GitCheck(url, "refs/heads/master", master[-5]),  # recent ancestor
            GitCheck(url, "refs/heads/master", master[n // 2]),  # old ancestor
            GitCheck(url, "refs/heads/master", master[3]),  # very old ancestor
            GitCheck(url, "refs/heads/release", repo.release[-1]),  # branch tip
            GitCheck(url, "refs/heads/release", master[n // 3]),  # branch's history
            GitCheck(url, "refs/heads/master", repo.release[0]),  # not in ref
            GitCheck(url, "refs/heads/master", f"{random.Random(n).getrandbits(160):040x}"),
        ]
        for tag in list(repo.tags)[-2:]:
            checks.append(GitCheck(url, f"refs/tags/{tag}", repo.tags[tag]))  # tag's commit
        first_tag = next(iter(repo.tags))
        checks.append(GitCheck(url, f"refs/tags/{first_tag}", repo.tags[first_tag]))
    return checks


def git_fetch_approach(
    server: GitServer, checks: list[GitCheck], workdir: Path, workers: int
) -> dict[GitCheck, Outcome]:
    by_repo: dict[str, set[str]] = {}
    for check in checks:
        by_repo.setdefault(check.repo, set()).add(check.ref)
    # One fresh repository per upstream: parallel fetches into one would fight over locks.
    clone_of = {url: workdir / f"clone{i}" for i, url in enumerate(by_repo)}

    def fetch(url: str) -> None:
        run_git("init", "-q", "--bare", clone_of[url])
        specs = [f"+{ref}:refs/fetched/{ref}" for ref in sorted(by_repo[url])]
        run_git("-C", clone_of[url], "fetch", "-q", "--no-tags", url, *specs)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fetch, by_repo))
    verdicts = {}
    for check in checks:
        clone = clone_of[check.repo]
        tip = f"refs/fetched/{check.ref}"
        exists = subprocess.run(
            ["git", "-C", str(clone), "cat-file", "-e", f"{check.commit}^{{commit}}"],
            env=git_env(),
            capture_output=True,
        )
        if exists.returncode != 0:
            # Only what was fetched is known locally: "not found" here may just mean
            # "not in the fetched refs", a known weakness of this approach.
            verdicts[check] = Outcome.COMMIT_NOT_FOUND
            continue
        ancestor = subprocess.run(
            ["git", "-C", str(clone), "merge-base", "--is-ancestor", check.commit, tip],
            env=git_env(),
        )
        verdicts[check] = Outcome.OK if ancestor.returncode == 0 else Outcome.COMMIT_NOT_IN_REF
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--repos", type=int, default=3)
    parser.add_argument("--commits", type=int, default=400)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-verify-git-") as tmp:
        root = Path(tmp) / "served"
        root.mkdir()
        started = time.monotonic()
        built = [
            build_repo(root, f"repo{i}.git", args.commits + 50 * i, seed=i)
            for i in range(args.repos)
        ]
        sizes = {
            b.name: sum(f.stat().st_size for f in (root / b.name).rglob("*.pack")) for b in built
        }
        print(
            f"built {args.repos} repos in {time.monotonic() - started:.1f}s: "
            + ", ".join(
                f"{n} {len(b.master)} commits {sizes[n] / 1e6:.1f} MB"
                for n, b in zip(sizes, built, strict=True)
            )
        )
        rows = []
        with serve_git(root, delay=args.delay) as server:
            checks = make_checks(server, built)
            print(f"{len(checks)} checks, per-request delay {args.delay}s, {args.workers} workers")

            cache = MemoryAnswerCache()
            verifier = GitVerifier(
                UrlPolicy([server.host_port]), cache=cache, max_workers=args.workers
            )
            for label in ("verifier (cold cache)", "verifier (warm cache)"):
                server.reset_counters()
                t0 = time.monotonic()
                ours = {c: r.outcome for c, r in verifier.verify(checks).items()}
                rows.append((label, time.monotonic() - t0, server.requests, server.bytes_sent))
            verifier.close()

            server.reset_counters()
            t0 = time.monotonic()
            theirs = git_fetch_approach(server, checks, Path(tmp), args.workers)
            rows.append(
                (
                    "git fetch + merge-base",
                    time.monotonic() - t0,
                    server.requests,
                    server.bytes_sent,
                )
            )

        disagreements = [c for c in checks if ours[c] != theirs[c]]
        print()
        print(f"{'approach':<24} {'wall s':>8} {'requests':>9} {'bytes served':>13}")
        for label, wall, requests, sent in rows:
            print(f"{label:<24} {wall:>8.3f} {requests:>9} {sent:>13,}")
        git_row, cold = rows[-1], rows[0]
        print()
        print(
            f"cold verifier / git: time {cold[1] / git_row[1]:.3f}, "
            f"bytes {cold[3] / git_row[3]:.5f} (1/{git_row[3] / max(cold[3], 1):.0f})"
        )
        verdicts: dict[str, int] = {}
        for outcome in ours.values():
            verdicts[outcome.value] = verdicts.get(outcome.value, 0) + 1
        print(f"verdicts: {verdicts}; disagreements with git: {len(disagreements)}")
        for check in disagreements:
            print(f"  {check}: ours={ours[check]} git={theirs[check]}")


if __name__ == "__main__":
    main()
