"""Benchmark: whole-process figures of the command line and of the Lambda handlers' cold import,
each printed next to its target, plus the in-process validation of the corpus.

    python benchmarks/bench_corpus.py [LIBRARY_DIR] [--history TARBALL] [--runs N]
                                      [--history-runs N] [--skip-history] [--instructions]

LIBRARY_DIR defaults to the official-images corpus (`../shared/corpus/official-images/library`,
144 files). Every figure is the MEDIAN of several runs of a fresh process (start-up included),
started with output to /dev/null; peak memory is the child's own maximum resident set size
(`os.wait4` rusage). On a shared machine the figures are noisy: compare medians, and the CPU
time printed beside every wall time (wall minus CPU is time spent waiting for a processor).
`--instructions` adds, for the short commands, the instructions one run executes under
`valgrind --tool=callgrind`: the stable figure to compare two versions with on a busy machine.

The history is REAL: `../shared/corpus/library-history-2022-2023.tar.gz` holds 4,288 revisions
of 141 images (`history-2022-2023/IMAGE@BLOBID12`, see README-history.md next to it). `check`
takes the image name from the file name, so the revisions are laid out in a temporary directory
as `r000/IMAGE` ... `r170/IMAGE` (revision k of each image, in blob-id order, in directory k)
and `manifest-validate check r000 ... r170` checks all of them at once.

The per-file targets: a Go parser needs about REFERENCE_MS_PER_FILE (0.3 ms) a file on this
machine class, whole process; `check` may take twice that, and `check --format json` at most
1.2 times what `check` (text) takes.

Python is started as an installed command is: with its bytecode cached (an environment with
PYTHONDONTWRITEBYTECODE set would otherwise compile every module of the package in every run;
the warm-up run writes the cache).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_LIBRARY = PROJECT.parent / "shared/corpus/official-images/library"
DEFAULT_HISTORY = PROJECT.parent / "shared/corpus/library-history-2022-2023.tar.gz"
HANDLERS = ("api", "worker", "revalidate")
REFERENCE_MS_PER_FILE = 0.3  # a Go parser's text run, whole process, per file
PER_FILE_TARGET_MS = 2 * REFERENCE_MS_PER_FILE
JSON_OVER_TEXT_TARGET = 1.2
# the children run as an installed command does (see the docstring)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def lay_out_history(tarball: Path, into: Path) -> list[Path]:
    """Write every revision of the tarball as `into/rNNN/IMAGE` (revision k of each image, in
    blob-id order, in directory k); the directories, in order."""
    revisions: Counter[str] = Counter()
    directories: dict[int, Path] = {}
    with tarfile.open(tarball) as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile()), key=lambda m: m.name)
        for member in members:
            image = member.name.rsplit("/", 1)[-1].split("@", 1)[0]
            index = revisions[image]
            revisions[image] += 1
            directory = directories.get(index)
            if directory is None:
                directory = directories[index] = into / f"r{index:03d}"
                directory.mkdir(parents=True)
            content = archive.extractfile(member)
            assert content is not None
            (directory / image).write_bytes(content.read())
    return [directories[index] for index in sorted(directories)]


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
        list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or ENV
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


def instructions(argv: Sequence[str]) -> int | None:
    """The instructions one run executes (callgrind), None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    completed = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", completed.stderr)
    return int(found[1]) if found else None


def timed(label: str, figures: Figures, unit: str, target: float | None, extra: str = "") -> None:
    """A wall-time line, with the CPU time beside it (wall minus CPU is time spent waiting for
    a processor, the noise of a shared machine)."""
    cpu = f"{figures.cpu * 1e3:.0f} ms" if unit == "ms" else f"{figures.cpu:.2f} s"
    if target is not None:
        cpu += " ok" if figures.cpu <= target else " OVER"
    line(label, figures.wall, unit, target, f"cpu {cpu}; {extra}" if extra else f"cpu {cpu}")


def line(label: str, value: float, unit: str, target: float | None, extra: str = "") -> None:
    shown = f"{value * 1e3:.0f} ms" if unit == "ms" else f"{value:.2f} {unit}"
    if target is None:
        print(f"{label:<40} {shown:>10}   (no target) {extra}".rstrip())
        return
    verdict = "ok" if value <= target else "OVER"
    goal = f"{target * 1e3:.0f} ms" if unit == "ms" else f"{target:g} {unit}"
    print(f"{label:<40} {shown:>10}   target <= {goal:<8} {verdict:<4} {extra}".rstrip())


def per_file(label: str, figures: Figures, files: int, text: Figures | None = None) -> None:
    """A batch run: ms a file (wall, and CPU), against twice the Go reference; the whole run;
    for the JSON run, its ratio to the text run (wall, and CPU) against its own target."""
    wall, cpu = figures.wall / files * 1e3, figures.cpu / files * 1e3
    verdict = "ok" if wall <= PER_FILE_TARGET_MS else "OVER"
    cpu_verdict = "ok" if cpu <= PER_FILE_TARGET_MS else "OVER"
    print(
        f"{label:<40} {wall:>6.3f} ms/file   target <= {PER_FILE_TARGET_MS:g} ms {verdict:<4} "
        f"cpu {cpu:.3f} ms/file {cpu_verdict}"
    )
    reference = REFERENCE_MS_PER_FILE
    print(
        f"  {wall / reference:.2f}x the Go reference ({reference:g} ms/file; "
        f"cpu {cpu / reference:.2f}x), whole run {figures.wall:.2f} s wall, "
        f"{figures.cpu:.2f} s cpu, exit {sorted(figures.codes)}"
    )
    if text is not None:
        ratio, cpu_ratio = figures.wall / text.wall, figures.cpu / text.cpu
        verdict = "ok" if ratio <= JSON_OVER_TEXT_TARGET else "OVER"
        cpu_verdict = "ok" if cpu_ratio <= JSON_OVER_TEXT_TARGET else "OVER"
        print(
            f"  json / text {ratio:.2f}x   target <= {JSON_OVER_TEXT_TARGET:g}x {verdict:<4} "
            f"cpu {cpu_ratio:.2f}x {cpu_verdict}"
        )


def batch(label: str, cli: list[str], paths: Sequence[str], files: int, runs: int) -> None:
    """`check` and `check --format json` over `paths` (`files` library files)."""
    text = measure([*cli, "check", *paths], runs)
    per_file(f"check {label} text ({files} files)", text, files)
    line("  peak memory (text)", text.peak, "MiB", 64)
    figures = measure([*cli, "check", "--format", "json", *paths], runs)
    per_file(f"check {label} json ({files} files)", figures, files, text)
    line("  peak memory (json)", figures.peak, "MiB", 64)


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
    parser.add_argument("--history", type=Path, default=DEFAULT_HISTORY, help="the tarball")
    parser.add_argument("--runs", type=int, default=11, help="runs of each short command")
    parser.add_argument("--history-runs", type=int, default=3)
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions (callgrind)"
    )
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

    short = {
        "manifest-validate --help": ([*cli, "--help"], 0.080),
        f"check {one.name} (1 file)": ([*cli, "check", str(one)], 0.060),
        f"cat {one.name}": ([*cli, "cat", str(one)], 0.120),
    }
    for label, (argv, target) in short.items():
        figures = measure(argv, runs)
        timed(label, figures, "ms", target, f"exit {sorted(figures.codes)}")
        if args.instructions:
            counted = instructions(argv)
            if counted is not None:
                print(f"  {counted / 1e6:.1f} M instructions (callgrind, one run)")
    batch("corpus", cli, [str(library)], len(files), runs)

    # the cold import of each Lambda handler: tracing as Powertools decides outside Lambda
    env = {k: v for k, v in ENV.items() if not k.startswith(("AWS_", "LAMBDA_"))}
    for name in HANDLERS:
        statement = f"import manifest_validation.handlers.{name}"
        figures = measure([sys.executable, "-c", statement], runs, env)
        timed(f"import handlers.{name}", figures, "ms", 0.250, "whole process")
    # as deployed (Tracing: Active in template.yaml): the X-Ray SDK is loaded, as it must be
    deployed = {**env, "LAMBDA_TASK_ROOT": str(PROJECT), "AWS_REGION": "us-east-1"}
    api = [sys.executable, "-c", "import manifest_validation.handlers.api"]
    timed("  api import, tracing on (as deployed)", measure(api, runs, deployed), "ms", None)

    if not args.skip_history:
        if not args.history.is_file():
            print(f"no history at {args.history}; pass --history TARBALL or --skip-history")
            return 2
        with tempfile.TemporaryDirectory() as temporary:
            revisions = [str(p) for p in lay_out_history(args.history, Path(temporary))]
            total = sum(len(os.listdir(p)) for p in revisions)
            print(f"history: {len(revisions)} directories of revisions")
            batch("history", cli, revisions, total, args.history_runs)
    in_process(library)
    return 0


if __name__ == "__main__":
    sys.exit(main())
