"""`review`: one page for a reviewer: every changed library file checked (the new side, compared
with the old so that each result says what the change does; deleted ones reported as removed),
and the docs folders of the changed images, per image (see `results.review`)."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .common import EXIT_USAGE, error, exit_code, make_verifier, settings_of
from .files import UnreadablePath, docs_kind, read_library

if TYPE_CHECKING:
    from ..application import DocsContext, DocsInput, ManifestInput, RemovedInput
    from ..libraryfile.library import Library
    from ..settings import Settings


@dataclass
class Change:
    """What is reviewed: the changed manifests (new side, with their bases), the removed ones,
    how many library files are as they were, what was compared, and the whole new library when
    it is known (for the parents of --verify-git)."""

    manifests: list[ManifestInput] = field(default_factory=list)
    removed: list[RemovedInput] = field(default_factory=list)
    unchanged: int = 0
    compared: dict[str, str] = field(default_factory=dict)
    library: Mapping[str, bytes] | None = None
    # the changed folders of a docker-library/docs repository, and its categories
    docs: list[DocsInput] | None = None
    categories: tuple[str, ...] | None = None


def command_review(args: argparse.Namespace) -> int:
    """Exit 1 when a changed manifest (or docs folder) is invalid, 3 when nothing is invalid
    but upstream could not be reached, 2 on a usage error or an unreadable input, else 0."""
    from ..application import DocsContext, Options, check, removed
    from ..repository import SourceError
    from ..results.origin import Trigger
    from ..results.review import render_review, review_document

    settings = settings_of(args)
    try:
        change = _in_repository(args, settings) if args.git else _in_files(args.old, args.new)
        library = _library(args, change)
        docs = _docs(args.docs, change) if args.docs else change.docs
    except (UnreadablePath, SourceError, OSError) as failure:
        error(failure)
        return EXIT_USAGE
    verifier = progress = None
    if args.verify_git:
        from .progress import upstream_progress

        progress = upstream_progress()
        verifier = make_verifier(settings, manifests=len(change.manifests), progress=progress)
    options = Options(Trigger.CLI, verifier=verifier, library=library, too_complex_base="omit")
    context = (
        _docs_context(args.docs, change) if args.docs else DocsContext(categories=change.categories)
    )
    try:
        checked = list(check(change.manifests, docs, options=options, docs_context=context))
        gone = list(removed(change.removed, options=options))
    finally:
        if progress is not None:
            progress.clear()
        if verifier is not None:
            verifier.close()
    document = review_document(checked, gone, compared=change.compared, unchanged=change.unchanged)
    print(render_review(document, args.format))
    return exit_code(Counter(item.result.status.value for item in checked))


def _in_files(old: str, new: str) -> Change:
    """The change from OLD to NEW: two files, two directories, or /dev/null and either."""
    from ..application import Base, ManifestInput, RemovedInput
    from ..results.origin import Origin
    from .diff import NO_FILE, two_sides

    old_files, new_files = two_sides(old, new)
    change = Change(compared={"old": old, "new": new})
    new_path = Path(new)
    if new != NO_FILE and new_path.is_dir():
        change.library = new_files
    for name in sorted(set(old_files) | set(new_files)):
        before, after = old_files.get(name), new_files.get(name)
        if before == after:
            change.unchanged += 1
            continue
        base_origin = {"sha256": Origin.of("file", before).sha256} if before is not None else {}
        if after is None:
            path = str(Path(old) / name) if Path(old).is_dir() else old
            change.removed.append(RemovedInput(name, Base(before, base_origin), path))
            continue
        path = str(new_path / name) if new_path.is_dir() else new
        change.manifests.append(ManifestInput(name, after, path, base=Base(before, base_origin)))
    return change


def _in_repository(args: argparse.Namespace, settings: Settings) -> Change:
    """The change a git range makes to the library of a manifests repository (a URL, or a
    local clone or bare repository), read from the repository: never the working tree."""
    from ..application import Base, ManifestInput, RemovedInput
    from ..diff.git import changed_files
    from ..repository import parse_range
    from ..results.origin import Origin
    from .diff import open_repository, resolve

    location, revisions = args.old, args.new
    parse_range(revisions)  # a range that cannot be one is refused before anything is opened
    with open_repository(location, settings) as source:
        base, head = resolve(source, revisions)
        files = changed_files(source, base, head)
        where = source.describe()
        change = Change(
            unchanged=len(files.unchanged),
            compared={"repository": where, "range": revisions, "old": base, "new": head},
        )
        if args.verify_git and args.library is None:  # the parents: the new library as a whole
            change.library = source.read(head, source.list_manifests(head))
        if not (files.old or files.new or files.unchanged):
            _docs_repository(source, base, head, change)
    for name in sorted(set(files.old) | set(files.new)):
        before, after = files.old.get(name), files.new.get(name)
        path = f"library/{name}"
        base_origin = {"commit": base}
        if before is not None:
            base_origin["sha256"] = Origin.of("git", before).sha256
        if after is None:
            origin = Origin.of("git", b"", repository=where, commit=head, path=path)
            change.removed.append(RemovedInput(name, Base(before, base_origin), path, origin))
            continue
        origin = Origin.of("git", after, repository=where, commit=head, path=path)
        change.manifests.append(
            ManifestInput(name, after, path, origin, base=Base(before, base_origin))
        )
    return change


def _docs_repository(source: object, base: str, head: str, change: Change) -> None:
    """A local clone of a docker-library/docs-shaped repository (a root metadata.json, image
    folders, no library/): the image folders the range changed, read at its head."""
    from ..application import DocsInput
    from ..checks.docs.checkout import categories_of
    from ..checks.docs.layout import CHECKED_FILES, METADATA
    from ..repository import LocalGitManifestSource
    from ..repository.folders import changed_directories, read_directory

    if not isinstance(source, LocalGitManifestSource):
        return  # over HTTP only the library is read
    top = source.tree(head)
    if top.get(METADATA, ("", ""))[0] != "file" or "library" in top:
        return
    change.categories = categories_of(source.blob(top[METADATA][1]))
    change.docs = [
        DocsInput(name, read_directory(source, head, name, names=CHECKED_FILES), name)
        for name in changed_directories(source, base, head)
    ]


def _library(args: argparse.Namespace, change: Change) -> Library | None:
    """The library the parents are checked against (with --verify-git): --library DIR, else
    the whole new side when it is known (a directory NEW, or the range's head)."""
    if not args.verify_git:
        if args.library is not None:
            raise UnreadablePath("--library needs --verify-git")
        return None
    if args.library is not None:
        return read_library(args.library)
    if change.library is None:
        return None
    from ..libraryfile.library import Library

    return Library(dict(change.library))


def _docs_context(directory: str, change: Change) -> DocsContext:
    """The docs folders are cross-checked against the changed images (a new image without a
    folder is reported), with the checkout's categories."""
    from ..application import DocsContext
    from ..checks.docs.checkout import checkout_categories

    root = Path(directory)
    return DocsContext(
        library_names=[item.name for item in change.manifests],
        root=str(root.parent) if docs_kind(root) == "folder" else directory,
        categories=checkout_categories(root),
    )


def _docs(directory: str, change: Change) -> list[DocsInput]:
    """The docs folders of the changed images in DIR (a docker-library/docs checkout, or one
    image's folder); an image without one is reported by the cross-check."""
    from ..application import DocsInput
    from ..checks.docs.checkout import UnreadableDocs, docs_folders, read_docs_folder

    wanted = {item.name for item in change.manifests}
    try:
        folders = [folder for folder in docs_folders(Path(directory)) if folder.name in wanted]
        return [DocsInput(f.name, read_docs_folder(f), str(f)) for f in folders]
    except UnreadableDocs as failure:
        raise UnreadablePath(str(failure)) from failure
