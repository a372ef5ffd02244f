"""Docs folders on disk: a docker-library/docs checkout, its folders and their files, read with
bounds (the CLI and the batch run; the checks themselves are pure).
"""

from __future__ import annotations

import json
from pathlib import Path

from .layout import CHECKED_FILES, METADATA, SHORT_DESCRIPTION
from .metadata import _has_categories

MAX_DOCS_FILE_BYTES = 4 * 1024 * 1024


class UnreadableDocs(Exception):
    pass


def is_docs_checkout(path: Path) -> bool:
    """A docker-library/docs checkout (or a directory of docs folders): a non-hidden
    subdirectory has a metadata.json. (Its root has a metadata.json of its own, the canonical
    categories, so that file alone does not make a directory one image's folder.)"""
    try:
        children = list(path.iterdir())
    except OSError:
        return False
    return any(
        not _hidden(child) and (child / METADATA).is_file() for child in children if child.is_dir()
    )


def checkout_categories(root: Path) -> tuple[str, ...] | None:
    """The canonical categories of a docs checkout: its root metadata.json's `hub.categories`
    (what metadata.sh checks the images' against), or None when it has none we can read (the
    list embedded in the schema applies then, as for one image's folder)."""
    if not is_docs_checkout(root):
        return None
    try:
        with (root / METADATA).open("rb") as handle:
            return categories_of(handle.read(MAX_DOCS_FILE_BYTES))
    except OSError:
        return None


def categories_of(root_metadata: bytes) -> tuple[str, ...] | None:
    """The canonical categories in the text of a docs checkout's root metadata.json (read
    from disk, or from a commit), or None when it has none we can read."""
    try:
        document = json.loads(root_metadata)
    except (ValueError, RecursionError):
        return None
    if not _has_categories(document) or not document["hub"]["categories"]:
        return None
    return tuple(dict.fromkeys(document["hub"]["categories"]))


def is_docs_folder(path: Path) -> bool:
    """What `check` takes for one image's docs folder among its PATHs: a directory with a
    metadata.json or a README-short.txt (the files every image has; neither is the name of a
    library file), and no docs folders inside (cli.py's `_docs_kind` is the same rule)."""
    return (
        path.is_dir()
        and ((path / METADATA).is_file() or (path / SHORT_DESCRIPTION).is_file())
        and not is_docs_checkout(path)
    )


def docs_folders(root: Path) -> list[Path]:
    """The image folders of a docs checkout: every non-hidden subdirectory (as the docs CI's
    `*/`), or `root` itself when it is one image's folder."""
    if is_docs_folder(root):
        return [root]
    if not root.is_dir():
        raise UnreadableDocs(f"{root}: not a directory")
    return sorted(child for child in root.iterdir() if child.is_dir() and not _hidden(child))


def _hidden(path: Path) -> bool:
    return path.name.startswith(".")


def read_docs_folder(folder: Path) -> dict[str, bytes]:
    """The checked files of one folder that exist (missing ones are the checks' business)."""
    files = {}
    for name in CHECKED_FILES:
        path = folder / name
        if not path.exists():
            continue
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_DOCS_FILE_BYTES + 1)
        except OSError as error:
            raise UnreadableDocs(f"{path}: {error.strerror or error}") from error
        if len(data) > MAX_DOCS_FILE_BYTES:
            raise UnreadableDocs(f"{path}: larger than {MAX_DOCS_FILE_BYTES} bytes")
        files[name] = data
    return files
