"""Benchmark: whole-process figures of the command line and of the Lambda handlers' cold import,
each printed next to its target, plus the in-process validation of the corpus.

    python benchmarks/bench_corpus.py [LIBRARY_DIR] [--runs N] [--history-runs N] [--skip-history]

LIBRARY_DIR defaults to the official-images corpus (`../shared/corpus/official-images/library`,
144 files). Every figure is the MEDIAN of several runs of a fresh process (start-up included),
started with output to /dev/null; peak memory is the child's own maximum resident set size
(`os.wait4` rusage). On a shared machine the figures are noisy: compare medians, not one run.

The 5,836-file history is synthesized, deterministically, in a temporary directory: 41
snapshots of the library directory (`rev00` ... `rev40`; the last one holds the first 76 files),
each file a small, realistic revision of its corpus original. In snapshot k a file has some of
its commit ids replaced by other (derived) ids, as a bump of an upstream would, and sometimes
one entry removed, so that parsing and validating are not the same work 41 times over and the
files stay valid. `manifest-validate check rev00 ... rev40` then checks all 5,836 at once.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_LIBRARY = PROJECT.parent / "shared/corpus/official-images/library"
HISTORY_FILES = 5836
SNAPSHOTS = -(-HISTORY_FILES // 144)  # 41 for the 144-file corpus
COMMIT = re.compile(r"\b[0-9a-f]{40}\b")
HANDLERS = ("api", "worker", "revalidate")


def revise(name: str, text: str, snapshot: int) -> str:
    """Snapshot `snapshot` of one library file: about half of its distinct commit ids bumped to
    derived ids, and in one snapshot out of three one entry (never the first) removed."""
    if snapshot == 0:
        return text
    chooser = random.Random(f"{name}/{snapshot}")
    bumped: dict[str, str] = {}
    for commit in dict.fromkeys(COMMIT.findall(text)):
        if chooser.random() < 0.5:
            bumped[commit] = hashlib.sha1(f"{commit}/{snapshot}".encode()).hexdigest()
    text = COMMIT.sub(lambda found: bumped.get(found[0], found[0]), text)
    paragraphs = text.split("\n\n")
    entries = [i for i, p in enumerate(paragraphs) if p.lstrip().startswith("Tags:")]
    if len(entries) > 2 and chooser.random() < 1 / 3:
        del paragraphs[chooser.choice(entries[1:])]
    return "\n\n".join(paragraphs)


def synthesize_history(library: Path, into: Path, total: int = HISTORY_FILES) -> list[Path]:
    """Write `total` files as snapshots rev00, rev01, ... of `library`; the snapshot dirs."""
    files = sorted(p for p in library.iterdir() if p.is_file() and not p.name.startswith("."))
    snapshots = []
    written = 0
    for snapshot in range(-(-total // len(files))):
        directory = into / f"rev{snapshot:02d}"
        directory.mkdir(parents=True)
        for file in files[: total - written]:
            text = file.read_text(encoding="utf-8")
            (directory / file.name).write_text(revise(file.name, text, snapshot), encoding="utf-8")
            written += 1
        snapshots.append(directory)
    return snapshots


class Figures(NamedTuple):
    """Medians over the runs of one command (seconds, MiB), and every exit code seen."""

    wall: float
    cpu: float
    peak: float
    codes: set[int]


def run(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """(wall s, cpu s, peak RSS MiB, exit code) of one whole process, output to /dev/null."""
    started = time.perf_counter()
    child = subprocess.Popen(
        list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, child.returncode


def measure(argv: Sequence[str], runs: int, env: dict[str, str] | None = None) -> Figures:
    """Medians over `runs` runs, after one warm-up run."""
    run(argv, env)
    samples = [run(argv, env) for _ in range(runs)]
    return Figures(
        wall=statistics.median(s[0] for s in samples),
        cpu=statistics.median(s[1] for s in samples),
        peak=statistics.median(s[2] for s in samples),
        codes={s[3] for s in samples},
    )


def timed(label: str, figures: Figures, unit: str, target: float | None, extra: str = "") -> None:
    """A wall-time line, with the CPU time beside it (wall minus CPU is time spent waiting for
    a processor, the noise of a shared machine)."""
    cpu = f"{figures.cpu * 1e3:.0f} ms" if unit == "ms" else f"{figures.cpu:.2f} s"
    line(label, figures.wall, unit, target, f"cpu {cpu}; {extra}" if extra else f"cpu {cpu}")


def line(label: str, value: float, unit: str, target: float | None, extra: str = "") -> None:
    shown = f"{value * 1e3:.0f} ms" if unit == "ms" else f"{value:.2f} {unit}"
    if target is None:
        print(f"{label:<40} {shown:>10}   (no target) {extra}".rstrip())
        return
    verdict = "ok" if value <= target else "OVER"
    goal = f"{target * 1e3:.0f} ms" if unit == "ms" else f"{target:g} {unit}"
    print(f"{label:<40} {shown:>10}   target <= {goal:<8} {verdict:<4} {extra}".rstrip())


def in_process(library: Path) -> None:
    """The core alone, in this process: the import and a pass over the corpus."""
    data = [(p.name, p.read_bytes()) for p in sorted(library.iterdir()) if p.is_file()]
    started = time.perf_counter()
    from manifest_validation.checks.pipeline import validate

    imported = time.perf_counter() - started
    started = time.perf_counter()
    results = [validate(name, text) for name, text in data]
    first = time.perf_counter() - started
    repeats = []
    for _ in range(5):
        started = time.perf_counter()
        for name, text in data:
            validate(name, text)
        repeats.append(time.perf_counter() - started)
    entries = sum(len(result.parsed.entries) for result in results)
    invalid = [result.manifest for result in results if result.errors]
    print(f"in-process: {len(data)} files, {entries} entries, invalid {invalid[:5]}")
    print(f"  import of validate {imported * 1e3:.0f} ms, first pass {first:.3f} s, ", end="")
    print(f"warm pass (median of 5) {statistics.median(repeats):.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", nargs="?", type=Path, default=DEFAULT_LIBRARY)
    parser.add_argument("--runs", type=int, default=11, help="runs of each short command")
    parser.add_argument("--history-runs", type=int, default=3)
    parser.add_argument("--skip-history", action="store_true")
    args = parser.parse_args()
    library: Path = args.library
    if not library.is_dir():
        print(f"no library directory at {library}; pass one as the first argument")
        return 2
    # the console script, as people and CI run it (python -m adds runpy's start-up)
    script = Path(sys.executable).with_name("manifest-validate")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "manifest_validation"]
    files = sorted(p for p in library.iterdir() if p.is_file() and not p.name.startswith("."))
    one = library / "python" if (library / "python").exists() else files[0]
    runs = args.runs
    print(f"whole processes, median of {runs} runs (history: {args.history_runs}); {one.name}")

    timed("manifest-validate --help", measure([*cli, "--help"], runs), "ms", 0.080)
    figures = measure([*cli, "check", str(one)], runs)
    timed(f"check {one.name} (1 file)", figures, "ms", 0.120, f"exit {sorted(figures.codes)}")
    figures = measure([*cli, "cat", str(one)], runs)
    timed(f"cat {one.name}", figures, "ms", 0.120, f"exit {sorted(figures.codes)}")
    figures = measure([*cli, "check", str(library)], runs)
    label = f"check corpus ({len(files)} files)"
    timed(label, figures, "s", 0.30, f"exit {sorted(figures.codes)}")
    line("  peak memory, corpus (text)", figures.peak, "MiB", None)

    # the cold import of each Lambda handler: tracing as Powertools decides outside Lambda
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDA_"))}
    for name in HANDLERS:
        statement = f"import manifest_validation.handlers.{name}"
        figures = measure([sys.executable, "-c", statement], runs, env)
        timed(f"import handlers.{name}", figures, "ms", 0.250, "whole process")
    # as deployed (Tracing: Active in template.yaml): the X-Ray SDK is loaded, as it must be
    deployed = {**env, "LAMBDA_TASK_ROOT": str(PROJECT), "AWS_REGION": "us-east-1"}
    api = [sys.executable, "-c", "import manifest_validation.handlers.api"]
    timed("  api import, tracing on (as deployed)", measure(api, runs, deployed), "ms", None)

    if not args.skip_history:
        with tempfile.TemporaryDirectory() as temporary:
            snapshots = [str(p) for p in synthesize_history(library, Path(temporary))]
            total = sum(len(os.listdir(p)) for p in snapshots)
            for output_format in ("text", "json"):
                figures = measure(
                    [*cli, "check", "--format", output_format, *snapshots], args.history_runs
                )
                label = f"check history ({total} files, {output_format})"
                extra = f"{figures.wall / total * 1e3:.2f} ms/file, exit {sorted(figures.codes)}"
                timed(label, figures, "s", 8.0 if output_format == "text" else None, extra)
                line(f"  peak memory, history ({output_format})", figures.peak, "MiB", 64)
    in_process(library)
    return 0


if __name__ == "__main__":
    sys.exit(main())
