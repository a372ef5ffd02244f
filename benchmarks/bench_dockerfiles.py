"""Benchmark: reading every Dockerfile of a library, ours vs ``git fetch --depth 1``.

Builds a handful of deterministic repositories of realistic size (a few thousand
files, a few hundred commits each; content from a seeded PRNG through ``git
fast-import``), serves them with the real ``git http-backend`` (tests/gitserver.py),
writes a 30-manifest library whose entries (several commits per repository, several
directories per commit, Windows entries among them) point into them, parses it with
the project's manifest parser and reads the Dockerfile of every entry and
architecture:

* ``read_files``: one :meth:`GitVerifier.read_files` call for the whole library (cold
  caches), then the same call again (warm caches), and once more against a server
  without filter support (the fallback);
* ``git fetch --depth 1``: per repository a fresh bare repository and ONE
  ``git fetch --depth 1`` of all its commits (git's cheapest way to get those files),
  then ``git show``.

Contents are compared with ``git show`` in the served repositories.  Targets: at most
1/20 of git's bytes, at most 3 requests per repository.

Run: ``python benchmarks/bench_dockerfiles.py [--repos 5] [--files 3000] [--commits 300]
[--delay 0.02]`` (about half a minute with the defaults).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gitserver import GIT, GitServer, git_env, run_git, serve_git
from manifest_validation.libraryfile.parse import parse
from manifest_validation.libraryfile.reader import go_path_clean
from manifest_validation.upstream import FileRequest, FileStatus, GitVerifier, UrlPolicy

MANIFESTS = 30
VERSIONS = ["1.20", "1.21", "1.22", "1.23"]
VARIANTS = ["bookworm", "bullseye", "alpine3.19", "alpine3.20"]
WINDOWS = ["windows/servercore-ltsc2022", "windows/nanoserver-ltsc2022"]
DOCKERFILE_DIRS = [f"{v}/{variant}" for v in VERSIONS for variant in VARIANTS + WINDOWS]
LINUX_ARCHES = "amd64, arm32v7, arm64v8, i386, ppc64le, s390x"


@dataclass
class Built:
    name: str
    commits: list[str]  # oldest first
    pack_bytes: int


WORDS = ["RUN", "set", "-eux", "apt-get", "install", "curl", "gpg", "make", "ENV", "COPY"]


def _line_pool(rng: random.Random) -> list[bytes]:
    """Lines that recur across files, as in real code, so packs find some deltas."""
    pool = []
    for _ in range(4000):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        pool.append(f"{words} {rng.getrandbits(64):016x}".encode())
    return pool


def _content(rng: random.Random, pool: list[bytes], size: int, head: bytes = b"") -> bytes:
    lines = [head] if head else []
    total = len(head)
    while total < size:
        line = rng.choice(pool) if rng.random() < 0.7 else f"{rng.getrandbits(128):032x}".encode()
        lines.append(line)
        total += len(line) + 1
    return b"\n".join(lines) + b"\n"


def build_repo(root: Path, name: str, files: int, commits: int, seed: int) -> Built:
    """``root/name`` (bare): Dockerfile directories beside a large source tree; the
    first commit adds everything, each later one changes a few source files and now
    and then a Dockerfile."""
    rng = random.Random(seed)
    pool = _line_pool(rng)
    bare = root / name
    run_git("init", "-q", "--bare", "-b", "master", bare)
    bulk = [
        f"src/pkg{i % 40}/sub{i % 7}/part{i % 3}/file{i}.go"
        for i in range(max(0, files - 2 * len(DOCKERFILE_DIRS)))
    ]
    dockerfiles = [f"{d}/Dockerfile" for d in DOCKERFILE_DIRS]
    out = bytearray()
    when = 1_577_836_800

    def dockerfile(path: str, i: int) -> bytes:
        base = "mcr.microsoft.com/windows/servercore:ltsc2022" if "windows" in path else "debian"
        return _content(rng, pool, rng.randint(1_500, 4_000), f"FROM {base}\n# rev {i}".encode())

    for i in range(commits):
        when += 3600
        out += f"commit refs/heads/master\nmark :{i + 1}\n".encode()
        out += f"committer Bench <bench@example.invalid> {when} +0000\n".encode()
        message = f"change {i}".encode()
        out += b"data %d\n%s\n" % (len(message), message)
        if i:
            out += f"from :{i}\n".encode()
            changes = [(p, None) for p in rng.sample(bulk, 4)]
            if rng.random() < 0.3:
                changes.append((rng.choice(dockerfiles), i))
        else:
            changes = [(p, None) for p in bulk] + [(p, 0) for p in dockerfiles]
            changes += [(f"{d}/docker-entrypoint.sh", None) for d in DOCKERFILE_DIRS]
        for path, rev in changes:
            if rev is not None:
                data = dockerfile(path, rev)
            else:
                data = _content(rng, pool, rng.randint(500, 6_000))
            out += f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"
    marks = root / f"{name}.marks"
    subprocess.run(
        [GIT, "--git-dir", str(bare), "fast-import", "--quiet", f"--export-marks={marks}"],
        input=bytes(out),
        env=git_env(),
        check=True,
    )
    run_git("--git-dir", bare, "repack", "-adq")
    ids = {int(k[1:]): v for k, v in (line.split() for line in marks.read_text().splitlines())}
    size = sum(f.stat().st_size for f in bare.rglob("*.pack"))
    return Built(name, [ids[i + 1] for i in range(commits)], size)


def write_library(server: GitServer, built: list[Built], directory: Path) -> list[Path]:
    """30 manifests; manifest m points at repository m % N, at one of three commits of
    it, with four Linux entries and one Windows entry on different directories."""
    rng = random.Random(7)
    paths = []
    for m in range(MANIFESTS):
        repo = built[m % len(built)]
        position = [1.0, 0.85, 0.6][(m // len(built)) % 3]  # the tip, recent, older
        commit = repo.commits[int(position * (len(repo.commits) - 1))]
        lines = [
            "Maintainers: Bench <bench@example.invalid> (@bench)",
            f"GitRepo: {server.repo_url(repo.name)}",
            f"GitCommit: {commit}",
        ]
        linux = [d for d in DOCKERFILE_DIRS if "windows" not in d]
        for n, directory_name in enumerate(rng.sample(linux, 4)):
            lines += ["", f"Tags: {directory_name.replace('/', '-')}-{m}-{n}"]
            lines += [f"Architectures: {LINUX_ARCHES}", f"Directory: {directory_name}"]
        windows = rng.choice([d for d in DOCKERFILE_DIRS if "windows" in d])
        lines += ["", f"Tags: {windows.replace('/', '-')}-{m}", "Architectures: windows-amd64"]
        lines += [f"Directory: {windows}", "Constraints: windowsservercore-ltsc2022"]
        path = directory / f"image{m}"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def file_requests(library: list[Path]) -> list[FileRequest]:
    """What the rules read: one Dockerfile per entry and architecture."""
    requests = []
    for path in library:
        manifest = parse(path.name, path.read_bytes())
        assert not manifest.problems, manifest.problems
        for entry in manifest.merged_entries():
            for arch in entry.architectures:
                directory = entry.arch_value(arch, "Directory") or "."
                name = entry.arch_value(arch, "File") or "Dockerfile"
                requests.append(
                    FileRequest(
                        entry.arch_value(arch, "GitRepo"),
                        entry.arch_value(arch, "GitCommit"),
                        go_path_clean(f"{directory}/{name}"),
                    )
                )
    return requests


def per_repo_requests(server: GitServer) -> Counter[str]:
    return Counter(path.strip("/").split("/")[0] for path in server.paths)


def git_fetch_depth_1(
    server: GitServer, requests: list[FileRequest], workdir: Path, workers: int
) -> dict[FileRequest, bytes]:
    commits: dict[str, set[str]] = {}
    for request in requests:
        commits.setdefault(request.repo, set()).add(request.commit)
    clone_of = {url: workdir / f"clone{i}.git" for i, url in enumerate(commits)}

    def fetch(url: str) -> None:
        run_git("init", "-q", "--bare", clone_of[url])
        run_git("-C", clone_of[url], "fetch", "-q", "--depth", "1", "--no-tags", url,
                *sorted(commits[url]))  # fmt: skip

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fetch, commits))
    return {r: show(clone_of[r.repo], r.commit, r.path) for r in dict.fromkeys(requests)}


def show(git_dir: Path, commit: str, path: str) -> bytes:
    return subprocess.run(
        [GIT, "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
        env=git_env(),
        check=True,
        capture_output=True,
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=5)
    parser.add_argument("--files", type=int, default=3000, help="files per repository")
    parser.add_argument("--commits", type=int, default=300, help="commits per repository")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dockerfiles-") as tmp:
        root = Path(tmp) / "served"
        root.mkdir()
        started = time.monotonic()
        with ThreadPoolExecutor(2) as pool:
            built = list(
                pool.map(
                    lambda i: build_repo(root, f"img{i}.git", args.files, args.commits, seed=i),
                    range(args.repos),
                )
            )
        print(
            f"built {args.repos} repositories in {time.monotonic() - started:.1f}s: "
            f"{args.files} files, {args.commits} commits, packs "
            + ", ".join(f"{b.pack_bytes / 1e6:.1f} MB" for b in built)
        )
        (Path(tmp) / "library").mkdir()
        rows: list[tuple[str, float, int, int, int]] = []
        with serve_git(root, delay=args.delay) as server:
            library = write_library(server, built, Path(tmp) / "library")
            requests = file_requests(library)
            unique = list(dict.fromkeys(requests))
            pairs = {(r.repo, r.commit) for r in unique}
            print(
                f"{len(library)} manifests: {len(requests)} Dockerfile reads (entry x arch), "
                f"{len(unique)} unique files, {len(pairs)} (repository, commit) pairs"
            )
            verifier = GitVerifier(UrlPolicy([server.host_port]), max_workers=args.workers)
            most_per_repo = 0
            for label in ("read_files (cold)", "read_files (warm)"):
                server.reset_counters()
                t0 = time.monotonic()
                ours = verifier.read_files(requests)
                wall = time.monotonic() - t0
                per_repo = per_repo_requests(server)
                most_per_repo = max(most_per_repo, *per_repo.values(), 0)
                rows.append((label, wall, server.requests, max(per_repo.values(), default=0),
                             server.bytes_sent))  # fmt: skip
            verifier.close()
            served = {b.name: root / b.name for b in built}
            wrong = [
                r
                for r in unique
                if ours[r].status is not FileStatus.FOUND
                or ours[r].content != show(served[r.repo.rsplit("/", 1)[1]], r.commit, r.path)
            ]
            server.reset_counters()
            t0 = time.monotonic()
            theirs = git_fetch_depth_1(server, requests, Path(tmp), args.workers)
            wall = time.monotonic() - t0
            per_repo = per_repo_requests(server)
            git_row = ("git fetch --depth 1", wall, server.requests, max(per_repo.values()),
                       server.bytes_sent)  # fmt: skip
            rows.append(git_row)
            disagreements = [r for r in unique if theirs[r] != ours[r].content]
        with serve_git(root, delay=args.delay, allow_filter=False) as plain:
            fallback = GitVerifier(UrlPolicy([plain.host_port]), max_workers=args.workers)
            t0 = time.monotonic()
            moved = [FileRequest(plain.repo_url(r.repo.rsplit("/", 1)[1]), r.commit, r.path)
                     for r in requests]  # fmt: skip
            got = fallback.read_files(moved)
            wall = time.monotonic() - t0
            fallback.close()
            per_repo = per_repo_requests(plain)
            rows.append(("read_files (no filter)", wall, plain.requests, max(per_repo.values()),
                         plain.bytes_sent))  # fmt: skip
            wrong += [r for r in moved if got[r].status is not FileStatus.FOUND]

    print("(timings on a shared, loaded machine)")
    print()
    print(f"{'approach':<24} {'wall s':>7} {'requests':>9} {'max/repo':>9} {'bytes served':>13}")
    for label, wall, count, most, sent in rows:
        print(f"{label:<24} {wall:>7.2f} {count:>9} {most:>9} {sent:>13,}")
    cold = rows[0]
    ratio = cold[4] / git_row[4]
    print()
    print(
        f"cold read_files / git fetch --depth 1: bytes {ratio:.4f} (1/{1 / ratio:.0f}; "
        f"target <= 1/20: {'met' if ratio <= 1 / 20 else 'MISSED'}), "
        f"requests per repository {cold[3]} (target <= 3: {'met' if cold[3] <= 3 else 'MISSED'})"
    )
    print(f"contents differing from git show: {len(wrong)}; from git fetch: {len(disagreements)}")
    if wrong or disagreements or ratio > 1 / 20 or cold[3] > 3:
        sys.exit(1)


if __name__ == "__main__":
    main()
