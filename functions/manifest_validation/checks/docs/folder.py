"""Docs folders: an image's folder in docker-library/docs (`<image>/metadata.json`,
`README-short.txt`, `content.md`, `github-repo`, `license.md`, `maintainer.md`, optionally
`logo.png`/`logo.svg`), checked as that repository's CI checks it, with every problem at once.

What the docs CI does, and what we do the same or stricter:
- metadata.sh: metadata.json must exist and equal `jq --sort-keys '.hub.categories |= unique'`
  (2-space indent, final newline); at most 3 categories, each in the root metadata.json. We check
  the shape with `schemas/docs-metadata.schema.json` and report a formatting difference as a
  warning whose hint is the exact canonical text, as the docs CI's jq (1.7) prints it: numbers
  from their literals, lone surrogate escapes refused (high) or read as U+FFFD (low). Unknown
  keys: the schema refuses them, we report them as warnings (`docs-unknown-key`): the docs CI
  keeps and ignores them.
- check-required-files.sh: content.md, github-repo, license.md, maintainer.md non-empty for every
  image but `scratch`. We also require README-short.txt (the Docker Hub description), and count a
  whitespace-only file as empty.
- check-short.sh: README-short.txt at most 100 characters and one line. The CI counts newline
  characters (`wc -l`), so `a<LF>b` without a final newline slips through; we count lines.

`validate_docs` is pure (files in, result out). The filesystem helpers at the end serve the CLI
and the batch run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from ...libraryfile.names import is_image_name
from ...problems.catalog import problem
from ...problems.problem import BySeverity, Problem
from ...problems.status import Status, capped, status_of
from .layout import (
    CHECKED_FILES,
    EXEMPT_IMAGES,
    GITHUB_REPO,
    LOGOS,
    MAX_SHORT_DESCRIPTION,
    METADATA,
    PNG_SIGNATURE,
    REQUIRED_FOR_EVERY_IMAGE,
    REQUIRED_UNLESS_EXEMPT,
    SHORT_DESCRIPTION,
    TEXT_FILES,
)
from .metadata import metadata_problems


@dataclass(slots=True)
class DocsResult(BySeverity):
    """The result of checking one image's docs folder (`manifest` is the image name, as for a
    library file, so that results of both kinds read alike)."""

    kind: ClassVar[str] = "docs"
    manifest: str
    source: str
    status: Status
    problems: list[Problem]
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)


def folder_digest_input(files: Mapping[str, bytes]) -> bytes:
    """What a docs result's `origin.sha256` is the digest of: one line `NAME NUL SHA256` per
    checked file, sorted by name (so the same files give the same result id)."""
    lines = [
        f"{name}\0{hashlib.sha256(files[name]).hexdigest()}\n"
        for name in sorted(files)
        if name in CHECKED_FILES
    ]
    return "".join(lines).encode("utf-8")


def _text(name: str, data: bytes) -> tuple[str | None, list[Problem]]:
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = f"{name} is not valid UTF-8 (byte {error.start})"
        return None, [problem("docs-invalid-encoding", message, line=line, file=name)]


def short_description_problems(text: str) -> list[Problem]:
    found = []
    # check-short.sh counts the characters of `$(cat FILE)`: trailing newlines do not count
    description = text.rstrip("\n")
    if len(description) > MAX_SHORT_DESCRIPTION:
        found.append(
            problem(
                "docs-short-description-too-long",
                f"{SHORT_DESCRIPTION} has {len(description)} characters "
                f"(at most {MAX_SHORT_DESCRIPTION})",
                line=1,
                file=SHORT_DESCRIPTION,
            )
        )
    body = text[:-1] if text.endswith("\n") else text
    if "\n" in body:
        found.append(
            problem(
                "docs-short-description-lines",
                f"{SHORT_DESCRIPTION} has {body.count(chr(10)) + 1} lines (it must be one)",
                line=2,
                file=SHORT_DESCRIPTION,
            )
        )
    return found


def github_repo_problems(text: str) -> list[Problem]:
    value = text.strip()
    parts = urlsplit(value) if value and not any(c.isspace() for c in value) else None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        shown = value if len(value) <= 80 else value[:77] + "..."
        return [
            problem(
                "docs-invalid-github-repo",
                f"{GITHUB_REPO} {shown!r} is not one https:// URL",
                line=1,
                file=GITHUB_REPO,
            )
        ]
    return []


def logo_problems(name: str, data: bytes) -> list[Problem]:
    valid = data.startswith(PNG_SIGNATURE) if name == "logo.png" else b"<svg" in data[:4096]
    if valid:
        return []
    kind = "a PNG image" if name == "logo.png" else "an SVG document"
    return [problem("docs-invalid-logo", f"{name} is not {kind}", file=name)]


def validate_docs(
    name: str,
    files: Mapping[str, bytes],
    *,
    source: str | None = None,
    categories: tuple[str, ...] | None = None,
) -> DocsResult:
    """Check the docs folder of image `name`, given its files (name -> bytes; files other than
    those we check are ignored), and report every problem (`categories`: the canonical ones,
    when not those embedded in the schema)."""
    found: list[Problem] = []
    if not is_image_name(name):
        found.append(
            problem(
                "invalid-image-name",
                f"docs folder {name[:80]!r} is not a valid image name",
                hint="Name the folder as the image, e.g. `my-image`.",
            )
        )
    required: tuple[str, ...] = REQUIRED_FOR_EVERY_IMAGE
    if name not in EXEMPT_IMAGES:
        required += REQUIRED_UNLESS_EXEMPT
    for file in TEXT_FILES:
        data = files.get(file)
        if data is None:
            if file in required:
                found.append(
                    problem("docs-missing-file", f"{file} is missing", field=file, file=file)
                )
            continue
        if not data.strip():
            if file in required:
                what = "empty" if not data else "only whitespace"
                found.append(problem("docs-empty-file", f"{file} is {what}", file=file))
            continue
        if file == METADATA:
            found.extend(metadata_problems(data, categories))
            continue
        text, encoding = _text(file, data)
        found.extend(encoding)
        if text is None:
            continue
        if file == SHORT_DESCRIPTION:
            found.extend(short_description_problems(text))
        elif file == GITHUB_REPO:
            found.extend(github_repo_problems(text))
    for logo in LOGOS:
        if logo in files:
            found.extend(logo_problems(logo, files[logo]))
    # at most MAX_PROBLEMS, as for a manifest (a metadata.json of 50,000 unknown categories
    # would otherwise answer megabytes), in the folder's order
    ordered = _ordered(capped(_ordered(found)))
    return DocsResult(name, source or name, status_of(ordered), ordered, dict(files))


def _ordered(problems: list[Problem]) -> list[Problem]:
    """File by file (in CHECKED_FILES order; folder-wide problems first), then as in a file."""
    rank = {name: index for index, name in enumerate(CHECKED_FILES, 1)}
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (rank.get(p.file or "", 0), *p.sort_key()))


def cross_check(
    library_names: Collection[str],
    docs: Sequence[DocsResult],
    *,
    docs_root: str | None = None,
) -> list[DocsResult]:
    """Both repositories at once: each docs folder without a library file gets
    `missing-library-file` (scratch is exempt: it is built into Docker, not from a library
    file), and each library file without a docs folder gets a docs result of its own with
    `missing-docs-folder` (its source is where the folder should be, under `docs_root`)."""
    documented = {result.manifest for result in docs}
    libraries = set(library_names)
    checked = []
    for result in docs:
        if result.manifest in libraries or result.manifest in EXEMPT_IMAGES:
            checked.append(result)
            continue
        extra = problem(
            "missing-library-file",
            f"docs folder {result.manifest!r} has no library file (library/{result.manifest})",
        )
        problems = _ordered([extra, *result.problems])
        checked.append(
            DocsResult(result.manifest, result.source, status_of(problems), problems, result.files)
        )
    for name in sorted(libraries - documented):
        missing = [
            problem(
                "missing-docs-folder",
                f"library/{name} has no docs folder {name}/",
            )
        ]
        source = f"{docs_root.rstrip('/')}/{name}" if docs_root else name
        checked.append(DocsResult(name, source, Status.INVALID, missing))
    return checked


def validate_folders(
    folders: Sequence[tuple[str, Mapping[str, bytes], str | None]],
    *,
    library_names: Collection[str] | None = None,
    docs_root: str | None = None,
    categories: tuple[str, ...] | None = None,
) -> list[DocsResult]:
    """Check (name, files, source) docs folders; with `library_names` (when library files were
    given too), also cross-check the two repositories."""
    results = [
        validate_docs(name, files, source=source, categories=categories)
        for name, files, source in folders
    ]
    if library_names is not None:
        results = cross_check(library_names, results, docs_root=docs_root)
    return results
