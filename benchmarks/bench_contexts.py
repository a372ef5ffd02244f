"""Benchmark: every build-context checksum of meta's real ``sources.json`` slice.

The five upstream repositories of ``../shared/upstream`` (git bundles, full history)
are served by the real ``git http-backend`` (tests/gitserver.py, filters allowed as on
GitHub).  For the 60 sources of the slice (11 commits of 5 repositories), measured
with the server's own counters (requests, bytes it sent):

* ``read (cold)``: ONE :meth:`GitVerifier.read` of every source's build context and
  Dockerfile together, fresh caches; then the same call again (``warm``), and the
  Dockerfiles alone (``files only``), to show what the contexts add;
* ``read (no filter)``: the same cold call against a server without filter support
  (the depth-1 snapshot fallback);
* ``git fetch --depth 1``: per repository a fresh bare repository and ONE
  ``git fetch --depth 1`` of its commits (the least git itself can fetch to archive
  those contexts);
* ``git fetch (full)``: per repository ONE ``git fetch`` of ``refs/heads/master``
  with its whole history, what bashbrew's git cache holds (every GitCommit of the
  slice is on master).

Every checksum, SOURCE_DATE_EPOCH and sourceId is compared with meta's values.
Targets: at most 1/4 of the depth-1 bytes, at most 3 requests per repository.

Next to them, a floor no client can go below: a sha256 over the contexts' files needs
every byte of them, so the pack of just the contexts' blobs (made on the server side
with ``git pack-objects``, deltas between them allowed) is printed as ``floor``; when
the contexts make up much of their commits, that floor alone is above 1/4 of the
depth-1 bytes (the run then fails only on wrong checksums or requests).

Run: ``python benchmarks/bench_contexts.py [--delay 0.02]`` (a few seconds).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gitserver import GIT, GitServer, git_env, run_git, serve_git
from manifest_validation.upstream import (
    ContextRequest,
    ContextResult,
    ContextStatus,
    FileRequest,
    FileStatus,
    GitVerifier,
    UrlPolicy,
    source_id,
)
from upstream.real_upstream import (
    SHARED_NAME,
    SHARED_UPSTREAM,
    RealSource,
    clone_bundles,
    load_sources,
)

Row = tuple[str, float, int, int, int]


def per_repo(server: GitServer) -> Counter[str]:
    return Counter("/".join(path.split("/")[1:3]) for path in server.paths)


def requests_for(
    server: GitServer, sources: list[RealSource]
) -> tuple[dict[RealSource, ContextRequest], dict[RealSource, FileRequest]]:
    contexts, files = {}, {}
    for source in sources:
        url = server.repo_url(source.repo)
        contexts[source] = ContextRequest(url, source.commit, source.directory)
        path = source.file if source.directory == "." else f"{source.directory}/{source.file}"
        files[source] = FileRequest(url, source.commit, path)
    return contexts, files


def measure(server: GitServer, label: str, run: Callable[[], object]) -> Row:
    server.reset_counters()
    started = time.monotonic()
    run()
    wall = time.monotonic() - started
    counts = per_repo(server)
    return (label, wall, server.requests, max(counts.values(), default=0), server.bytes_sent)


def check(
    sources: list[RealSource],
    contexts: dict[RealSource, ContextRequest],
    got: dict[ContextRequest, ContextResult],
) -> int:
    """Sources whose checksum, SOURCE_DATE_EPOCH or sourceId differ from meta's."""
    wrong = 0
    for source in sources:
        result = got[contexts[source]]
        ok = (
            result.status is ContextStatus.OK
            and result.checksum == source.checksum
            and result.source_date_epoch == source.epoch
            and source_id(result.checksum, source.file, source.builder) == source.source_id
        )
        wrong += not ok
    return wrong


def context_blobs_pack(served: Path, sources: list[RealSource]) -> int:
    """Bytes of one pack per repository holding exactly the blobs of its sources'
    contexts: what hashing those contexts must download at the least."""
    wanted: dict[str, set[str]] = {}
    for source in sources:
        spec = f"{source.commit}:{source.directory}" if source.directory != "." else source.commit
        listing = run_git("--git-dir", served / source.repo, "ls-tree", "-r", spec)
        blobs = {line.split()[2] for line in listing.splitlines() if line.split()[1] == "blob"}
        wanted.setdefault(source.repo, set()).update(blobs)
    total = 0
    for repo, blobs in wanted.items():
        pack = subprocess.run(
            [GIT, "--git-dir", str(served / repo), "pack-objects", "--stdout", "-q"],
            input="\n".join(sorted(blobs)).encode() + b"\n",
            env=git_env(),
            check=True,
            capture_output=True,
        ).stdout
        total += len(pack)
    return total


def git_fetch(server: GitServer, sources: list[RealSource], work: Path, *, full: bool) -> None:
    commits: dict[str, set[str]] = {}
    for source in sources:
        commits.setdefault(source.repo, set()).add(source.commit)

    def fetch(repo: str) -> None:
        target = work / ("full" if full else "shallow") / repo
        run_git("init", "-q", "--bare", target)
        if full:
            run_git("-C", target, "fetch", "-q", "--no-tags", server.repo_url(repo),
                    "+refs/heads/master:refs/heads/master")  # fmt: skip
        else:
            run_git("-C", target, "fetch", "-q", "--depth", "1", "--no-tags",
                    server.repo_url(repo), *sorted(commits[repo]))  # fmt: skip

    with ThreadPoolExecutor(len(commits)) as pool:
        list(pool.map(fetch, commits))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args()
    if not (SHARED_UPSTREAM / "sources.json").is_file():
        sys.exit(f"the real upstream slice is not beside the project ({SHARED_NAME} absent)")
    sources = load_sources()
    with tempfile.TemporaryDirectory(prefix="bench-contexts-") as tmp:
        served = Path(tmp) / "served"
        names = clone_bundles(served)
        pairs = {(s.repo, s.commit) for s in sources}
        print(
            f"{len(sources)} sources of {len(names)} repositories, {len(pairs)} "
            f"(repository, commit) pairs, {len({(s.repo, s.commit, s.directory) for s in sources})}"
            " distinct contexts"
        )
        rows: list[Row] = []
        wrong = 0
        with serve_git(served, delay=args.delay) as server:
            contexts, files = requests_for(server, sources)
            verifier = GitVerifier(UrlPolicy([server.host_port]))
            results: dict[ContextRequest, ContextResult] = {}

            def both() -> None:
                reading = verifier.read(files=files.values(), contexts=contexts.values())
                results.update(reading.contexts)
                assert all(r.status is FileStatus.FOUND for r in reading.files.values())

            rows.append(measure(server, "read (cold)", both))
            wrong += check(sources, contexts, results)
            rows.append(measure(server, "read (warm)", both))
            wrong += check(sources, contexts, results)
            verifier.close()
            files_only = GitVerifier(UrlPolicy([server.host_port]))
            rows.append(
                measure(server, "files only (cold)", lambda: files_only.read_files(files.values()))
            )
            files_only.close()
            work = Path(tmp)
            for label, full in (("git fetch --depth 1", False), ("git fetch (full)", True)):
                rows.append(
                    measure(server, label, lambda f=full: git_fetch(server, sources, work, full=f))
                )
        with serve_git(served, delay=args.delay, allow_filter=False) as plain:
            contexts, files = requests_for(plain, sources)
            fallback = GitVerifier(UrlPolicy([plain.host_port]))
            results = {}

            def plain_both() -> None:
                reading = fallback.read(files=files.values(), contexts=contexts.values())
                results.update(reading.contexts)

            rows.append(measure(plain, "read (no filter)", plain_both))
            wrong += check(sources, contexts, results)
            fallback.close()
        floor = context_blobs_pack(served, sources)

    print("(timings on a shared, loaded machine)")
    print()
    print(f"{'approach':<22} {'wall s':>7} {'requests':>9} {'max/repo':>9} {'bytes served':>13}")
    for label, wall, count, most, sent in rows:
        print(f"{label:<22} {wall:>7.2f} {count:>9} {most:>9} {sent:>13,}")
    print(f"{'floor: context blobs':<22} {'':>7} {'':>9} {'':>9} {floor:>13,}")
    cold = rows[0]
    shallow = next(row for row in rows if row[0] == "git fetch --depth 1")
    full = next(row for row in rows if row[0] == "git fetch (full)")
    ratio = cold[4] / shallow[4]
    print()
    print(
        f"cold read / git fetch --depth 1: bytes {ratio:.4f} (1/{1 / ratio:.1f}; target <= 1/4: "
        f"{'met' if ratio <= 1 / 4 else 'MISSED'}); / full fetch: 1/{full[4] / cold[4]:.0f}"
    )
    print(
        f"floor (the contexts' blobs alone, packed) / git fetch --depth 1: "
        f"{floor / shallow[4]:.4f} (1/{shallow[4] / floor:.1f}); cold read / floor: "
        f"{cold[4] / floor:.2f}"
    )
    print(
        f"requests per repository (all its commits): {cold[3]} "
        f"(target <= 3: {'met' if cold[3] <= 3 else 'MISSED'})"
    )
    print(f"sources differing from meta's sources.json: {wrong}")
    # A wrong checksum or a request too many fails the run.  The byte target is printed
    # with the floor above: where the floor itself is past 1/4, no client meets it.
    if wrong or cold[3] > 3 or (ratio > 1 / 4 and floor / shallow[4] <= 1 / 4):
        sys.exit(1)


if __name__ == "__main__":
    main()
