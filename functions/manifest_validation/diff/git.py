"""`diff --git`: what changed in the library of a manifests repository between two commits, and
`diff --verify-git`: does each moved GitCommit descend from the commit it replaces?

`changes_between_commits(source, base, head)` takes any source that knows git's blob ids
(`repository.BlobIdSource`: `GitManifestSource` over smart HTTP, `LocalGitManifestSource` over a
local clone) and gives the same `ChangeSummary` for the same commits whichever it is. The two
commits usually come from `repository.resolve_range(source, "A..B")` (or `"A...B"`, the merge base
of A and B against B, as `git diff A...B`); `repository.open_manifests_repository` opens a URL or
a local clone.

A GitCommit that moved on the same GitRepo and GitFetch to a commit that is not a descendant of
the old one is a `commit-not-descendant` warning (history rewritten, or a downgrade). A check
that could not complete (network, policy, a commit the server does not serve) is reported as
"unknown" with the reason, never as a warning.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..libraryfile.model import Manifest
from ..libraryfile.names import COMMIT
from ..libraryfile.parse import parse
from ..problems.catalog import problem
from .changes import diff_libraries, diff_manifests
from .model import ChangeSummary, CommitCheck, ImageChanges

if TYPE_CHECKING:
    from ..repository import BlobIdSource, ManifestSource
    from ..upstream import GitVerifier

_COMMIT = re.compile(COMMIT.pattern, re.IGNORECASE)  # as a revision, any case


def resolve_revision(source: ManifestSource, revision: str) -> str:
    """A full commit id as it is; anything else by the source: any single revision git
    accepts (`HEAD~2`, a tag, `origin/master`, an abbreviated id...) for a source with
    history (see `repository.revisions`), a branch for any other source."""
    if _COMMIT.fullmatch(revision):
        return revision.lower()
    from ..repository.revisions import HistorySource, resolve_commit

    if isinstance(source, HistorySource):
        return resolve_commit(source, revision)
    return source.resolve(revision)


def changes_between_commits(source: BlobIdSource, base: str, head: str) -> ChangeSummary:
    """The changes of the library between two commits of a manifests repository: the two
    trees are compared by blob id, and only the files that differ are read and parsed.
    Raises `SourceError` (or `SourceUnavailable`) when either side cannot be read."""
    old_ids, new_ids = source.blob_ids(base), source.blob_ids(head)
    differing = sorted(
        name for name in set(old_ids) | set(new_ids) if old_ids.get(name) != new_ids.get(name)
    )
    old_files = source.read(base, [name for name in differing if name in old_ids])
    new_files = source.read(head, [name for name in differing if name in new_ids])
    old: dict[str, Manifest | None] = {name: parse(name, data) for name, data in old_files.items()}
    new: dict[str, Manifest | None] = {name: parse(name, data) for name, data in new_files.items()}
    summary = diff_libraries(old, new)
    same = set(old_ids) & set(new_ids) - set(differing)
    summary.images += [ImageChanges(name, "unchanged") for name in same]
    summary.images.sort(key=lambda image: image.name)
    return summary


def verify_commit_moves(summary: ChangeSummary, verifier: GitVerifier) -> None:
    """Fill `commit_checks` and `problems` of every changed image (each distinct
    (GitRepo, old, new) is asked once)."""
    answers: dict[tuple[str, str, str], tuple[bool | None, str]] = {}
    for image in summary.changed:
        for move in image.commit_moves:
            key = (move.repo, move.old, move.new)
            if key not in answers:
                answers[key] = verifier.descends(move.repo, move.old, move.new)
            descends, detail = answers[key]
            verdict = (
                "unknown" if descends is None else "descendant" if descends else ("not-descendant")
            )
            image.commit_checks.append(CommitCheck(move, verdict, detail))
            if descends is False:
                image.problems.append(
                    problem(
                        "commit-not-descendant",
                        f"GitCommit of {', '.join(move.tags)} moved from {move.old[:12]} to "
                        f"{move.new[:12]} on {move.fetch}, "
                        + (
                            "but the old commit no longer exists upstream (history rewritten)"
                            if "no longer exists" in detail
                            else "which does not descend from it (history rewritten, or a "
                            "downgrade)"
                        ),
                        line=move.line,
                        field=move.field,
                    )
                )


# Pairing entries compares every old entry with every new one, and entries carry the global
# SharedTags they inherit: the work of a comparison grows with the product of the two files'
# entries and with their list items, which a short hostile file (or `base` of an API request)
# can make huge. Real library files stay far below (the corpus's largest has 148 entries).
MAX_ENTRY_PAIRS = 100_000


class ComparisonTooLarge(ValueError):
    """Comparing a manifest with its base would cost too much; the message says why."""


def _comparison_refusal(new: Manifest, old: Manifest | None) -> str | None:
    from ..checks.rules import complexity, complexity_limit

    if old is None:
        return None
    pairs = len(old.entries) * len(new.entries)
    if pairs > MAX_ENTRY_PAIRS:
        return (
            f"comparing {len(new.entries):,} entries with the base's {len(old.entries):,} "
            f"would pair {pairs:,} entries (at most {MAX_ENTRY_PAIRS:,})"
        )
    for side, manifest in (("the manifest", new), ("the base", old)):
        limit = complexity_limit(manifest)
        size = complexity(manifest, limit)
        if size > limit:
            return (
                f"the entries of {side} inherit list values {size:,} times over "
                f"(at most {limit:,} for its {manifest.line_count:,} lines)"
            )
    return None


def manifest_changes(
    new: Manifest,
    base: bytes | str | None,
    *,
    base_origin: dict[str, str],
    verifier: GitVerifier | None = None,
) -> dict[str, Any]:
    """The `changes` field of a result message: what `new` changes relative to `base` (the
    text it replaces; None: the file did not exist there), with `base` saying what it was
    compared to (`commit` and/or `sha256`). With a verifier, moved commits are checked too.

    Raises `ComparisonTooLarge` (before any of the comparison's work) when the two are beyond
    the bounds above."""
    old = parse(new.name, base) if base is not None else None
    refusal = _comparison_refusal(new, old)
    if refusal is not None:
        raise ComparisonTooLarge(refusal)
    image = diff_manifests(new.name, old, new, new_reading_errors=False)
    if verifier is not None:
        verify_commit_moves(ChangeSummary([image]), verifier)
    return {"base": base_origin, **image.to_json()}
