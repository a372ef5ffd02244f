"""Benchmark: validate the whole official-images corpus in one process, and time the CLI on one
file (start-up included).

    python benchmarks/bench_corpus.py [LIBRARY_DIR]

Targets: the 144-file corpus (about 2,100 entries) in <= 0.3 s after start-up on one core;
`manifest-validate check` on one file <= 0.5 s wall.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_LIBRARY = Path(__file__).resolve().parents[2] / "shared/corpus/official-images/library"


def main() -> int:
    library = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_LIBRARY
    if not library.is_dir():
        print(f"no library directory at {library}; pass one as the first argument")
        return 2
    files = sorted(path for path in library.iterdir() if path.is_file())
    data = [(path.name, path.read_bytes()) for path in files]

    started = time.perf_counter()
    from manifest_validation.validate import validate

    imported = time.perf_counter() - started

    started = time.perf_counter()
    results = [validate(name, text) for name, text in data]
    first = time.perf_counter() - started
    entries = sum(len(result.parsed.entries) for result in results)
    invalid = [result.manifest for result in results if result.errors]

    repeats = []
    for _ in range(5):
        started = time.perf_counter()
        for name, text in data:
            validate(name, text)
        repeats.append(time.perf_counter() - started)

    print(f"files            {len(files)}")
    print(f"entries          {entries}")
    print(f"import seconds   {imported:.3f}")
    print(f"first pass       {first:.3f} s  ({entries / first:,.0f} entries/s)")
    print(
        f"warm pass (med)  {statistics.median(repeats):.3f} s  "
        f"({entries / statistics.median(repeats):,.0f} entries/s)"
    )
    print(f"invalid files    {len(invalid)} {invalid[:5]}")

    one = str(library / ("python" if (library / "python").exists() else files[0].name))
    walls = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "manifest_validation", "check", one],
            check=False,
            capture_output=True,
        )
        walls.append(time.perf_counter() - started)
    print(
        f"CLI check 1 file {min(walls):.3f} s min, {statistics.median(walls):.3f} s median "
        f"(wall, start-up included; {Path(one).name})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
