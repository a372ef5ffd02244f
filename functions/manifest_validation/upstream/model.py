"""Value types exchanged between the upstream verifier and the manifest core."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["GitCheck", "GitOutcome", "Outcome"]


@dataclass(frozen=True)
class GitCheck:
    """One manifest claim: ``commit`` is reachable from ``ref`` in repository ``repo``.

    ``ref`` is a full ref name (``refs/heads/main``, ``refs/tags/v1.0``); a short name
    (``main``) is resolved the way ``git rev-parse`` would, tags before branches.
    """

    repo: str
    ref: str
    commit: str


class Outcome(StrEnum):
    """Verdict for one check.

    The first three are defects in the manifest.  ``URL_FORBIDDEN`` is a defect of the
    manifest *in this service* (the URL is refused by policy before any connection).
    ``UNREACHABLE`` means "could not verify" and must never be reported as a defect:
    networks fail, and a validator that blames the manifest for that is worse than
    useless.
    """

    OK = "ok"
    REF_NOT_FOUND = "git-ref-not-found"
    COMMIT_NOT_FOUND = "git-commit-not-found"
    COMMIT_NOT_IN_REF = "git-commit-not-in-ref"
    URL_FORBIDDEN = "git-url-forbidden"
    UNREACHABLE = "git-repo-unreachable"

    @property
    def is_defect(self) -> bool:
        """True for outcomes that mean the manifest itself is wrong."""
        return self not in (Outcome.OK, Outcome.UNREACHABLE)


@dataclass(frozen=True)
class GitOutcome:
    """The verdict for ``check`` plus one human sentence explaining it.

    ``detail`` is built only from the check itself and from server answers; it never
    contains credentials (URLs with userinfo are refused, tokens live in headers only).
    """

    check: GitCheck
    outcome: Outcome
    detail: str
