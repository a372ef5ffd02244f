"""Benchmark: validation time of hostile manifests, per input line, against the target.

    python benchmarks/bench_hostile.py [--sizes 5000,10000,20000,40000] [--shape NAME]...

Each shape is a library file an attacker can send within the request size limit (40,000 lines
is about 1 MiB). Target: at most 20 µs per input line for every shape and size, i.e. validation
time grows linearly with the input and a 1 MiB manifest costs well under a second. For the
one-long-line shape the unit is one comma-separated item on that line (about the bytes of a
line). The result is also checked to be bounded: at most the problem cap (plus the
too-many-problems error) whatever the input.

Validation runs without a deadline here, so the numbers are the raw cost of the checks. Each
figure is the fastest of `--repeat` runs (3) in this process: the cost of the checks themselves,
less what other processes on a loaded machine add to a single run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from manifest_validation.checks.pipeline import validate
from manifest_validation.problems.status import MAX_PROBLEMS
from manifest_validation.results.messages import Origin, Trigger, result_message

TARGET_US_PER_LINE = 20.0
DEFAULT_SIZES = (5_000, 10_000, 20_000, 40_000)
HEADER = (
    "Maintainers: Jane Doe <jane@example.com> (@janedoe)\n"
    "GitRepo: https://github.com/example/hostile.git\n"
    "\n"
)
COMMIT = "3981a44a531e7c844d844e12cbbda232d10d5dfb"


def maintainers_continued(lines: int) -> str:
    """The issue's case: one Maintainers field continued by `\\tbar,` lines (invalid each)."""
    return (
        "Maintainers: Jane Doe <jane@example.com> (@janedoe),\n"
        + "\tbar,\n" * (lines - 4)
        + f"GitRepo: https://github.com/example/hostile.git\n\nTags: x\nGitCommit: {COMMIT}\n"
    )


def tags_continued(lines: int) -> str:
    """One entry whose Tags list is continued over every line (valid, distinct tags)."""
    tags = "".join(f"\tt{index},\n" for index in range(lines - 5))
    return HEADER + f"Tags: first,\n{tags}GitCommit: {COMMIT}\n"


def shared_tags_continued(lines: int) -> str:
    tags = "".join(f"\ts{index},\n" for index in range(lines - 6))
    return HEADER + f"Tags: only\nSharedTags: first,\n{tags}GitCommit: {COMMIT}\n"


def many_entries(lines: int) -> str:
    """Valid entries of four lines each (Tags, GitCommit, Directory, blank)."""
    entry = "Tags: v{0}\nGitCommit: " + COMMIT + "\nDirectory: d{0}\n\n"
    return HEADER + "".join(entry.format(index) for index in range((lines - 3) // 4))


def many_invalid_tags(lines: int) -> str:
    """Many problems: one invalid tag per line in a continued Tags list."""
    tags = "".join(f"\t-bad!{index},\n" for index in range(lines - 5))
    return HEADER + f"Tags: first,\n{tags}GitCommit: {COMMIT}\n"


def duplicate_tags_across_entries(lines: int) -> str:
    """Many entries that all claim the same tag (every later one is a duplicate)."""
    entry = "Tags: same\nGitCommit: " + COMMIT + "\nDirectory: d{0}\n\n"
    return HEADER + "".join(entry.format(index) for index in range((lines - 3) // 4))


def inherited_shared_tags(lines: int) -> str:
    """Half the lines global SharedTags, half one-line entries inheriting all of them: a model
    of lines**2/4 items (bounded by the manifest-too-complex limit)."""
    shared = "".join(f"\ts{index},\n" for index in range(lines // 2))
    entries = "".join(f"\nTags: t{index}\n" for index in range(lines // 4))
    return HEADER.rstrip("\n") + f"\nGitCommit: {COMMIT}\nSharedTags: s,\n{shared} z\n{entries}"


def appended_maintainers(lines: int) -> str:
    """A long global Maintainers list, appended to in each of 100 entries with their own."""
    maintainers = "".join(f"\tM{index} (@m{index}),\n" for index in range(lines - 300))
    entries = "".join(
        f"\nTags: t{index}\nMaintainers: E{index} (@e{index})\n" for index in range(100)
    )
    return (
        f"Maintainers: J (@j),\n{maintainers} K (@k)\n"
        f"GitRepo: https://github.com/example/hostile.git\nGitCommit: {COMMIT}\n{entries}"
    )


def unknown_fields(lines: int) -> str:
    fields = "".join(f"X-Unknown-{index}: value\n" for index in range(lines - 5))
    return HEADER + f"Tags: x\nGitCommit: {COMMIT}\n{fields}"


def unknown_arch_prefixes(lines: int) -> str:
    fields = "".join(f"arch{index}-Directory: d\n" for index in range(lines - 5))
    return HEADER + f"Tags: x\nGitCommit: {COMMIT}\n{fields}"


def repeated_field(lines: int) -> str:
    return HEADER + f"Tags: x\nGitCommit: {COMMIT}\n" + "Directory: d\n" * (lines - 5)


def bad_lines(lines: int) -> str:
    return HEADER + f"Tags: x\nGitCommit: {COMMIT}\n" + "this line has no colon\n" * (lines - 5)


def whitespace_only_lines(lines: int) -> str:
    return HEADER + f"Tags: x\nGitCommit: {COMMIT}\n" + " \n" * (lines - 5)


def one_long_line(items: int) -> str:
    """A single Tags line of `items` distinct tags (unit: one item, about one line's bytes)."""
    tags = ", ".join(f"tag-number-{index}" for index in range(items))
    return HEADER + f"Tags: {tags}\nGitCommit: {COMMIT}\n"


SHAPES: dict[str, Callable[[int], str]] = {
    "maintainers-continued": maintainers_continued,
    "tags-continued": tags_continued,
    "shared-tags-continued": shared_tags_continued,
    "many-entries": many_entries,
    "many-invalid-tags": many_invalid_tags,
    "duplicate-tags": duplicate_tags_across_entries,
    "inherited-shared-tags": inherited_shared_tags,
    "appended-maintainers": appended_maintainers,
    "unknown-fields": unknown_fields,
    "unknown-arch-prefixes": unknown_arch_prefixes,
    "repeated-field": repeated_field,
    "bad-lines": bad_lines,
    "whitespace-only-lines": whitespace_only_lines,
    "one-long-line": one_long_line,
}


def measure(text: str, repeat: int = 3) -> tuple[float, int, int]:
    """(seconds, the fastest of `repeat` runs; problems reported; bytes of the result message)."""
    seconds = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = validate("hostile", text)
        seconds = min(seconds, time.perf_counter() - started)
    origin = Origin.of("http", text, path="library/hostile")
    message = result_message(result, origin, trigger=Trigger.CI, verify_git=False)
    return seconds, len(result.problems), len(json.dumps(message))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(size) for size in DEFAULT_SIZES))
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), default=[])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest counts")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    shapes = args.shape or list(SHAPES)
    validate("warm-up", many_entries(40))  # schemas compiled, caches warm

    print(f"target: <= {TARGET_US_PER_LINE:g} µs per line; problem cap {MAX_PROBLEMS}")
    print(
        f"{'shape':24} {'lines':>7} {'bytes':>9} {'seconds':>8} {'µs/line':>8} {'target':>7}  "
        f"{'verdict':7} {'problems':>8} {'result':>9}"
    )
    failed = []
    for shape in shapes:
        for size in sizes:
            text = SHAPES[shape](size)
            seconds, problems, result_bytes = measure(text, args.repeat)
            per_line = seconds / size * 1e6
            bounded = problems <= MAX_PROBLEMS + 1
            verdict = "PASS" if per_line <= TARGET_US_PER_LINE and bounded else "FAIL"
            if verdict == "FAIL":
                failed.append(f"{shape}@{size}")
            print(
                f"{shape:24} {size:>7} {len(text.encode()):>9} {seconds:>8.3f} {per_line:>8.1f} "
                f"{TARGET_US_PER_LINE:>7g}  {verdict:7} {problems:>8} {result_bytes:>9}",
                flush=True,
            )
    print(
        f"\n{len(failed)} of {len(shapes) * len(sizes)} over target"
        + (f": {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
