"""`diff`: what a change to library files does, per image (two files or directories, or a
manifests repository at two commits)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .common import EXIT_INVALID, EXIT_USAGE, EXIT_VALID, error, make_verifier, settings_of
from .files import UnreadablePath, library_of

if TYPE_CHECKING:
    from ..diff.model import ChangeSummary
    from ..settings import Settings


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

        repository, revisions = args.old, args.new
        base, dots, head = revisions.partition("..")
        if not dots or not base or not head or head.startswith("."):
            error(f"{revisions!r} is not BASE..HEAD")
            return EXIT_USAGE
        try:
            summary = _changes_in_repository(repository, base, head, settings)
        except SourceError as failure:
            error(failure)
            return EXIT_USAGE
    else:
        old_path, new_path = Path(args.old), Path(args.new)
        missing = [str(path) for path in (old_path, new_path) if not path.exists()]
        if missing:
            error(f"{missing[0]}: no such file or directory")
            return EXIT_USAGE
        if old_path.is_dir() != new_path.is_dir():
            error("OLD and NEW must both be files or both directories")
            return EXIT_USAGE
        try:
            old_files, new_files = library_of(old_path), library_of(new_path)
        except (UnreadablePath, OSError) as failure:
            error(failure)
            return EXIT_USAGE
        if not new_path.is_dir():  # two files: the same image, named after NEW
            old_files = {new_path.name: old_files[old_path.name]}
        old: dict[str, Manifest | None] = {n: parse(n, d) for n, d in old_files.items()}
        new: dict[str, Manifest | None] = {n: parse(n, d) for n, d in new_files.items()}
        summary = diff_libraries(old, new)
    if args.verify_git:
        from ..diff.git import verify_commit_moves

        with make_verifier(settings) as verifier:
            verify_commit_moves(summary, verifier)
    print(render_diff(summary, args.format))
    return EXIT_INVALID if summary.has_errors else EXIT_VALID


def _changes_in_repository(
    repository: str, base: str, head: str, settings: Settings
) -> ChangeSummary:
    from ..diff.git import changes_between_commits, resolve_revision
    from ..repository import GitManifestSource
    from ..upstream import UrlPolicy

    with GitManifestSource(
        repository,
        policy=UrlPolicy(settings.insecure_hosts),
        credentials=dict(settings.git_tokens),
    ) as source:
        return changes_between_commits(
            source, resolve_revision(source, base), resolve_revision(source, head)
        )
