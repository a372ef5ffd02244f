"""`check`, `cat` and `rules`: library files and docs folders checked, printed, explained."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .common import (
    EXIT_INVALID,
    EXIT_USAGE,
    EXIT_VALID,
    error,
    exit_code,
    settings_of,
    wants_colour,
)
from .files import Paths, UnreadablePath, docs_kind, each_once, read_library, read_manifest

if TYPE_CHECKING:
    from ..application import DocsContext, DocsInput, ManifestInput
    from ..libraryfile.library import Library


def command_check(args: argparse.Namespace) -> int:
    """Validate and write each manifest in turn (one in memory at a time), except with
    --verify-git: the upstream checks of all manifests run together (one ref listing per
    repository for the whole run), so those manifests are all read and validated first.
    Docs folders come after the manifests (they are cross-checked against their names)."""
    from ..application import Options, check
    from ..results.origin import Trigger
    from ..results.unreachable import FoldingReportWriter

    if not args.paths and not args.docs:
        error("give a PATH or --docs DIR")
        return EXIT_USAGE
    if args.sources and args.format != "json":
        error("--sources needs --format json")
        return EXIT_USAGE
    library = None
    for option, given in (("--library", args.library), ("--external-pins", args.external_pins)):
        if given is not None and not args.verify_git:
            error(f"{option} needs --verify-git")
            return EXIT_USAGE
    if args.verify_git:
        try:
            library = _library(args)
        except (UnreadablePath, OSError) as failure:
            error(failure)
            return EXIT_USAGE
    paths = Paths.of(args.paths)
    verifier = None
    progress = None
    registry = history = None
    if args.verify_git:
        from .common import make_services, make_verifier
        from .progress import upstream_progress

        settings = settings_of(args)
        manifests = list(_inputs(paths))  # they are verified together: count them first
        progress = upstream_progress()
        verifier = make_verifier(settings, manifests=len(manifests), progress=progress)
        services = make_services(settings, verifier)
        try:
            registry, history = services.registry(), services.history()
        except ValueError as failure:  # a registry mirror that is not HOST=URL
            verifier.close()
            error(failure)
            return EXIT_USAGE
    options = Options(
        Trigger.CLI,
        verifier=verifier,
        library=library,
        registry=registry,
        history=history,
        messages=args.format == "json",
        sources=args.sources,  # CI reads status and problems: the sources only when asked
    )
    # an unreachable host is said once (text and github; JSON as it is)
    writer = FoldingReportWriter(sys.stdout, args.format, colour=wants_colour(args))
    try:
        for checked in check(
            manifests if verifier is not None else _inputs(paths),
            _docs_inputs(args, paths),
            options=options,
            docs_context=_docs_context(args, paths),
        ):
            if progress is not None:
                progress.clear()  # the upstream checks are done: results come now
            writer.add(checked.result, checked.message)
    finally:
        if progress is not None:
            progress.clear()
        if verifier is not None:
            verifier.close()
    counts = writer.close()
    if paths.unreadable:
        return EXIT_USAGE
    return exit_code(counts.statuses)


def _library(args: argparse.Namespace) -> Library | None:
    """`--library DIR` with the external pins of `--external-pins DIR`, else of the
    `.external-pins` beside DIR (an official-images checkout); None without either."""
    from ..libraryfile.library import Library
    from ..libraryfile.pins import ExternalPins, beside_library

    if args.external_pins is not None:
        directory = Path(args.external_pins)
        if not directory.is_dir():
            raise UnreadablePath(f"{directory}: not a directory (--external-pins)")
        pins = ExternalPins.from_directory(directory)
        if not pins.available:
            raise UnreadablePath(f"{pins.reason} (--external-pins)")
    elif args.library is not None:
        given = Path(args.library)
        # `--library .` or `..`: beside the directory that names, not inside it
        pins = ExternalPins.from_directory(
            beside_library(given.resolve() if given.name in ("", ".", "..") else given)
        )
    else:
        return None
    if args.library is None:
        return Library.unavailable("no library given", pins=pins)
    return read_library(args.library, pins=pins)


def _inputs(paths: Paths) -> Iterator[ManifestInput]:
    from ..application import ManifestInput

    for name, data, path in paths.read_manifests():
        yield ManifestInput(name, data, path)


def _docs_inputs(args: argparse.Namespace, paths: Paths) -> list[DocsInput] | None:
    """The docs folders among the PATHs and those of --docs DIR (None: no docs checks); a
    folder that cannot be read is reported. When --docs DIR itself cannot be listed, nothing
    is cross-checked (every library file would look undocumented)."""
    if not paths.docs_folders and not args.docs:
        return None
    from ..application import DocsInput
    from ..checks.docs.checkout import UnreadableDocs, docs_folders, read_docs_folder

    folders = paths.docs_folders
    if args.docs:
        try:
            folders = [*folders, *docs_folders(Path(args.docs))]
        except (UnreadableDocs, OSError) as failure:
            paths.unreadable_now(failure)
            return None
    inputs = []
    for folder in each_once(folders):
        try:
            inputs.append(DocsInput(folder.name, read_docs_folder(folder), str(folder)))
        except (UnreadableDocs, OSError) as failure:
            paths.unreadable_now(failure)
    return inputs


def _docs_context(args: argparse.Namespace, paths: Paths) -> DocsContext:
    from ..application import DocsContext

    if not args.docs:
        if not paths.docs_folders:
            return DocsContext()
        from ..checks.docs.checkout import checkout_categories

        # folders of a docs checkout are held to its categories, as its CI holds them
        parent = paths.docs_folders[0].parent
        return DocsContext(root=str(parent), categories=checkout_categories(parent))
    if docs_kind(Path(args.docs)) == "folder":
        return DocsContext(root=str(Path(args.docs).parent))
    from ..checks.docs.checkout import checkout_categories

    return DocsContext(root=args.docs, categories=checkout_categories(Path(args.docs)))


def command_cat(args: argparse.Namespace) -> int:
    from ..libraryfile.cat import canonical_text

    path = Path(args.file)
    try:
        data = read_manifest(path)
    except UnreadablePath as failure:
        error(failure)
        return EXIT_USAGE
    from ..checks.pipeline import validate
    from ..problems.catalog import refused_by_bashbrew
    from ..results.report import render

    result = validate(path.name, data, source=str(path))
    # Print exactly when bashbrew would: our own errors (a Directory with a newline in it, a
    # `latest-debian` tag, ...) go to stderr, but do not stop the canonical text.
    manifest = result.parsed
    if any(
        refused_by_bashbrew(
            found,
            unused_global=not manifest.uses_global(found.line, found.field),
            value=manifest.value_at(found.line, found.field),
        )
        for found in result.errors
    ):
        print(render([result], "text"), file=sys.stderr)
        return EXIT_INVALID
    if result.errors:
        print(render([result], "text"), file=sys.stderr)
    print(canonical_text(result.parsed))
    return EXIT_VALID


def command_rules(args: argparse.Namespace) -> int:
    from ..results.report import render_rule, render_rules, render_rules_markdown

    if args.codes:
        from ..problems.catalog import RULES

        unknown = [code for code in args.codes if code not in RULES]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], list(RULES), n=1)
            guess = f"; did you mean {close[0]}?" if close else ""
            error(f"{unknown[0]!r} is not a rule code{guess} (manifest-validate rules lists them)")
            return EXIT_USAGE
        print("\n\n".join(render_rule(RULES[code], args.format) for code in args.codes))
        return EXIT_VALID
    if args.format == "markdown":
        sys.stdout.write(render_rules_markdown())
    else:
        print(render_rules(args.format))
    return EXIT_VALID
