"""`sources`: the publisher's `sources.json` (docker-library/meta-scripts' `sources.sh`) for
the library files given, read upstream over git's smart HTTP (no clone, no bashbrew)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import (
    EXIT_USAGE,
    error,
    exit_code,
    make_verifier,
    note,
    settings_of,
)
from .files import Paths, UnreadablePath, read_library


def command_sources(args: argparse.Namespace) -> int:
    """Print the document of every library file given (stdout), the problems of those left
    out of it and where sources.sh would have stopped (stderr). Exit 1 when a file is left
    out (bashbrew refuses it, or what it builds cannot be read), 3 when an upstream
    repository could not be reached (the fields it would give are null), 2 usage; review
    errors (parents, constraints: `check`'s business) leave a file in, with a note."""
    from collections import Counter
    from collections.abc import Iterator

    from ..application import ManifestInput, Options, in_document, sources_document
    from ..libraryfile.pins import ExternalPins, beside_library
    from ..results.origin import Trigger
    from ..results.report import text_lines

    if not args.paths:
        error("give a PATH")
        return EXIT_USAGE
    library = None
    if args.library is not None:
        try:
            library = read_library(args.library)
        except (UnreadablePath, OSError) as failure:
            error(failure)
            return EXIT_USAGE
    pins = ExternalPins.unavailable("no --external-pins and no --library")
    if args.external_pins is not None:
        pins = ExternalPins.from_directory(Path(args.external_pins))
        if not pins.available:
            error(f"--external-pins: {pins.reason}")
            return EXIT_USAGE
    elif args.library is not None:
        pins = ExternalPins.from_directory(beside_library(Path(args.library)))
    if not pins.available:
        note(f"no external pins ({pins.reason}): every parent's pin is null")
    for path, why in pins.invalid:
        note(f"external pin {path} left out: {why}")
    paths = Paths.of(args.paths)

    def inputs() -> Iterator[ManifestInput]:
        for name, data, path in paths.read_manifests():
            yield ManifestInput(name, data, path)

    manifests = list(inputs())
    verifier = make_verifier(settings_of(args), manifests=len(manifests))
    try:
        run = sources_document(
            manifests,
            options=Options(
                Trigger.CLI, verifier=verifier, library=library, messages=False, pins=pins.digests
            ),
        )
    finally:
        verifier.close()
    statuses: Counter[str] = Counter()
    for item, result in run.results:
        if not in_document(result):
            statuses["invalid"] += 1  # left out: its problems say why
            for line in text_lines(result):
                print(line, file=sys.stderr)
        elif result.status.value == "unverified":
            statuses["unverified"] += 1
            for line in text_lines(result):
                print(line, file=sys.stderr)
        elif result.errors:
            note(
                f"{item.path}: in the document as sources.sh makes it, despite "
                f"{len(result.errors)} review error(s) (`check --verify-git` lists them)"
            )
    for conflict in run.document.conflicts:
        note(f"as sources.sh would not: {conflict}")
    indent = "\t" if args.tab else 2
    text = json.dumps(run.document.sources, indent=indent, ensure_ascii=False)
    # jq escapes DEL as well as the control characters json escapes
    sys.stdout.write(text.replace("\x7f", "\\u007f") + "\n")
    if paths.unreadable:
        return EXIT_USAGE
    return exit_code(statuses)
