"""Benchmark: `manifest-validate sources` on meta's real ``sources.json`` slice.

The five upstream repositories of ``../shared/upstream`` are served by the real
``git http-backend`` (tests/gitserver.py, filters allowed as on GitHub), the five library
files of official-images at the slice's commit point at it (tests/upstream/real_upstream.py).
Measured with the server's own counters (requests, bytes it sent):

* ``sources (cold)``: the whole command's work through the application layer (one
  `sources_document` call, fresh verifier): the git checks of every entry (refs, commits in
  their refs) and ONE read of every Dockerfile and build context;
* ``  of which read``: that read alone, after the git checks of a fresh verifier (the
  advertisement is shared: trees and blobs per repository and commit set);
* ``read alone (cold)``: the read on a verifier that did nothing before;
* ``git fetch --depth 1`` / ``git fetch (full)``: per repository ONE fetch of its
  commits at depth 1 / of ``master`` with its history (what bashbrew's git cache holds).

The document is compared with meta's, source by source. Targets printed beside: at most 1/4
of the depth-1 bytes, at most 3 requests per repository and commit set for the read. The
first is out of reach on this slice, and the floor says why: hashing a context needs every
byte of its files, and the pack of just the contexts' blobs is already more than 1/4 of what
``git fetch --depth 1`` sends (the contexts are most of these small repositories). The run
fails only on a wrong document or a request too many.

Run: ``python benchmarks/bench_sources.py [--delay 0.02]`` (a few seconds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_contexts import Row, context_blobs_pack, git_fetch, measure
from gitserver import GitServer, serve_git
from manifest_validation.application import ManifestInput, Options, sources_document
from manifest_validation.checks.builds import build_reads
from manifest_validation.checks.contexts import context_reads
from manifest_validation.checks.git import git_checks
from manifest_validation.libraryfile.parse import parse
from manifest_validation.libraryfile.pins import ExternalPins, beside_library
from manifest_validation.results.origin import Trigger
from manifest_validation.upstream import (
    ContextRequest,
    FileRequest,
    GitCheck,
    GitVerifier,
    UrlPolicy,
)
from upstream.real_upstream import (
    IMAGES,
    SHARED_NAME,
    SHARED_UPSTREAM,
    clone_bundles,
    load_sources,
    local_library,
    meta_document,
)


def inputs(library: Path) -> list[ManifestInput]:
    return [
        ManifestInput(name, (library / name).read_bytes(), str(library / name)) for name in IMAGES
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args()
    if not (SHARED_UPSTREAM / "sources.json").is_file():
        sys.exit(f"the real upstream slice is not beside the project ({SHARED_NAME} absent)")
    sources = load_sources()
    with tempfile.TemporaryDirectory(prefix="bench-sources-") as tmp:
        served = Path(tmp) / "served"
        clone_bundles(served)
        rows: list[Row] = []
        with serve_git(served, delay=args.delay) as server:
            library = local_library(Path(tmp) / "official-images", server.base_url)
            manifests = inputs(library)
            pins = ExternalPins.from_directory(beside_library(library))
            policy = UrlPolicy([server.host_port])
            document: dict[str, object] = {}

            def whole() -> None:
                with GitVerifier(policy) as verifier:
                    options = Options(Trigger.CLI, verifier=verifier, pins=pins.digests)
                    document.update(sources_document(manifests, options=options).document.sources)

            rows.append(measure(server, "sources (cold)", whole))
            wrong = _differences(document, meta_document(server.base_url))
            rows.append(_read_after_checks(server, policy, manifests))
            rows.append(_read_alone(server, policy, manifests))
            work = Path(tmp)
            for label, full in (("git fetch --depth 1", False), ("git fetch (full)", True)):
                rows.append(
                    measure(server, label, lambda f=full: git_fetch(server, sources, work, full=f))
                )
        floor = context_blobs_pack(served, sources)
    _report(rows, floor, wrong, len(document))


def _requests(
    manifests: list[ManifestInput],
) -> tuple[list[GitCheck], set[FileRequest], set[ContextRequest]]:
    """What validate_many asks upstream for these manifests: git checks, then one read."""
    checks: list[GitCheck] = []
    files: set[FileRequest] = set()
    contexts: set[ContextRequest] = set()
    for item in manifests:
        manifest = parse(item.name, item.content)
        checks += list(git_checks(manifest))
        files |= set(build_reads(manifest).requests)
        contexts |= set(context_reads(manifest))
    return checks, files, contexts


def _read_after_checks(server: GitServer, policy: UrlPolicy, manifests: list[ManifestInput]) -> Row:
    checks, files, contexts = _requests(manifests)
    with GitVerifier(policy) as verifier:
        verifier.verify(checks)  # as validate_many does first: the advertisement is read
        return measure(server, "  of which read", lambda: verifier.read(files, contexts))


def _read_alone(server: GitServer, policy: UrlPolicy, manifests: list[ManifestInput]) -> Row:
    _, files, contexts = _requests(manifests)
    with GitVerifier(policy) as verifier:
        return measure(server, "read alone (cold)", lambda: verifier.read(files, contexts))


def _differences(ours: dict[str, object], meta: dict[str, object]) -> int:
    """Sources differing from meta's (a missing or extra key counts), and a wrong order."""
    wrong = sum(1 for key, source in meta.items() if ours.get(key) != source)
    wrong += sum(1 for key in ours if key not in meta)
    return wrong + (list(ours) != list(meta))


def _report(rows: list[Row], floor: int, wrong: int, count: int) -> None:
    print("(timings on a shared, loaded machine)")
    print()
    print(f"{'approach':<22} {'wall s':>7} {'requests':>9} {'max/repo':>9} {'bytes served':>13}")
    for label, wall, requests, most, sent in rows:
        print(f"{label:<22} {wall:>7.2f} {requests:>9} {most:>9} {sent:>13,}")
    print(f"{'floor: context blobs':<22} {'':>7} {'':>9} {'':>9} {floor:>13,}")
    by_label = {row[0]: row for row in rows}
    whole, read = by_label["sources (cold)"], by_label["  of which read"]
    alone = by_label["read alone (cold)"]
    shallow, full = by_label["git fetch --depth 1"], by_label["git fetch (full)"]
    ratio = whole[4] / shallow[4]
    print()
    print(
        f"sources / git fetch --depth 1: bytes {ratio:.3f} (1/{1 / ratio:.1f}; target <= 1/4: "
        f"{'met' if ratio <= 1 / 4 else 'missed'}); / full fetch: 1/{full[4] / whole[4]:.0f}"
    )
    print(
        f"floor (the contexts' blobs alone, packed) / git fetch --depth 1: "
        f"{floor / shallow[4]:.3f} (1/{shallow[4] / floor:.1f}): "
        + ("no client can meet 1/4 here" if floor / shallow[4] > 1 / 4 else "1/4 is reachable")
        + f"; sources / floor: {whole[4] / floor:.2f}"
    )
    print(
        f"requests per repository and commit set: read after the git checks {read[3]}, read "
        f"alone {alone[3]} (target <= 3: {'met' if alone[3] <= 3 else 'MISSED'}); the whole "
        f"command {whole[3]} (the git checks' advertisement, ls-refs and negotiations too)"
    )
    print(f"sources: {count}; differing from meta's sources.json (or out of order): {wrong}")
    if wrong or alone[3] > 3:
        sys.exit(1)


if __name__ == "__main__":
    main()
