"""`diff`: what a change to library files does, per image (two files or directories, or a
manifests repository at two commits: a URL, or a local clone or bare repository)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .common import (
    EXIT_INVALID,
    EXIT_USAGE,
    EXIT_VALID,
    error,
    make_verifier,
    settings_of,
    warning,
)
from .files import UnreadablePath, library_of

if TYPE_CHECKING:
    from ..diff.model import ChangeSummary
    from ..repository import ManifestRepository
    from ..settings import Settings

# What stands for "no file" on one side of `diff OLD NEW` (a new image, a removed one), as in
# `diff -u /dev/null FILE`.
NO_FILE = "/dev/null"


def command_diff(args: argparse.Namespace) -> int:
    """What a change does: exit 0 when computed (whatever it found: `commit-not-descendant`
    is a warning to read, not a failure), 1 when a file could not be read fully (NUL bytes,
    not UTF-8, a line that is not a field, ...: the comparison covers only what could be read,
    and the errors are in the output), 2 on a usage error or an unreadable input."""
    from ..diff.changes import diff_libraries
    from ..diff.render import render_diff
    from ..libraryfile.model import Manifest
    from ..libraryfile.parse import parse

    settings = settings_of(args)
    summary: ChangeSummary
    if args.git:
        from ..repository import SourceError

        try:
            summary = _changes_in_repository(args.old, args.new, settings)
        except SourceError as failure:
            error(failure)
            return EXIT_USAGE
    else:
        try:
            old_files, new_files = two_sides(args.old, args.new)
        except (UnreadablePath, OSError) as failure:
            error(failure)
            return EXIT_USAGE
        old: dict[str, Manifest | None] = {n: parse(n, d) for n, d in old_files.items()}
        new: dict[str, Manifest | None] = {n: parse(n, d) for n, d in new_files.items()}
        summary = diff_libraries(old, new)
    if args.verify_git:
        from ..diff.git import verify_commit_moves

        with make_verifier(settings) as verifier:
            verify_commit_moves(summary, verifier)
    print(render_diff(summary, args.format))
    return EXIT_INVALID if summary.has_errors else EXIT_VALID


def two_sides(old: str, new: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """`{image: content}` of OLD and NEW: two files (the image named after NEW, or after OLD
    when NEW is /dev/null), two directories (by file name), or /dev/null and either (the image
    or images are new, or removed). Raises UnreadablePath with the sentence for the user."""
    old_path, new_path = Path(old), Path(new)
    if old == NO_FILE and new == NO_FILE:
        raise UnreadablePath("OLD and NEW cannot both be /dev/null")
    missing = [str(path) for path in (old_path, new_path) if not path.exists()]
    if missing:
        raise UnreadablePath(f"{missing[0]}: no such file or directory")
    if old == NO_FILE:
        return {}, library_of(new_path)
    if new == NO_FILE:
        return library_of(old_path), {}
    if old_path.is_dir() != new_path.is_dir():
        raise UnreadablePath("OLD and NEW must both be files or both directories")
    old_files, new_files = library_of(old_path), library_of(new_path)
    if not new_path.is_dir():  # two files: the same image, named after NEW
        old_files = {new_path.name: old_files[old_path.name]}
    return old_files, new_files


def _changes_in_repository(location: str, revisions: str, settings: Settings) -> ChangeSummary:
    """The changes of a manifests repository's library over a git range (`A..B`, or `A...B`
    against their merge base), the repository being a URL (smart HTTP) or a local clone; the
    notes git would print as warnings (several merge bases, an ambiguous ref) go to stderr."""
    from ..diff.git import changes_between_commits
    from ..repository import parse_range

    parse_range(revisions)  # a range that cannot be one is refused before anything is opened
    with open_repository(location, settings) as source:
        base, head = resolve(source, revisions)
        return changes_between_commits(source, base, head)


def open_repository(location: str, settings: Settings) -> ManifestRepository:
    """The manifests repository at `location`: a URL (under the run's URL policy and tokens),
    a working clone, a worktree or a bare repository. Raises SourceError."""
    from ..repository import open_manifests_repository
    from ..upstream import UrlPolicy

    return open_manifests_repository(
        location, policy=UrlPolicy(settings.insecure_hosts), credentials=dict(settings.git_tokens)
    )


def resolve(source: ManifestRepository, revisions: str) -> tuple[str, str]:
    """(base, head) of a range, its warnings printed on stderr. Raises SourceError."""
    from ..repository import resolve_range

    notes: list[str] = []
    try:
        return resolve_range(source, revisions, warnings=notes)
    finally:
        for note in notes:
            warning(note)
