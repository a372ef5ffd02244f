"""Verify that manifests' git references exist upstream, without a git binary.

Public API::

    verifier = GitVerifier(UrlPolicy(insecure_hosts), cache=MemoryAnswerCache())
    outcomes = verifier.verify([GitCheck(repo_url, "refs/heads/main", commit), ...])
    files = verifier.read_files([FileRequest(repo_url, commit, "3.12/Dockerfile"), ...])
    both = verifier.read(files=[...], contexts=[ContextRequest(repo_url, commit, "3.12")])
    both.contexts[...].checksum  # bashbrew's reproducibleGitChecksum; source_id() from it

Modules: :mod:`.model` (checks and outcomes), :mod:`.policy` (which URLs may be
contacted, SSRF defence), :mod:`.transport` (pinned HTTP, caps, retries),
:mod:`.pktline` and :mod:`.protocol` (git smart HTTP v2 with v0 fallback),
:mod:`.cache` (immutable answers), :mod:`.files` (reading files at commits),
:mod:`.contexts` and :mod:`.tarstream` (bashbrew's build-context checksum) and
:mod:`.verifier` (orchestration).
"""

from .cache import AnswerCache, MemoryAnswerCache
from .contexts import (
    DEFAULT_CONTEXT_MAX_BYTES,
    ContextRequest,
    ContextResult,
    ContextStatus,
    source_id,
)
from .files import FileRequest, FileResult, FileStatus, Reading
from .model import GitCheck, GitOutcome, Outcome
from .policy import UrlPolicy
from .transport import TransferStats
from .verifier import GitVerifier

__all__ = [
    "DEFAULT_CONTEXT_MAX_BYTES",
    "AnswerCache",
    "ContextRequest",
    "ContextResult",
    "ContextStatus",
    "FileRequest",
    "FileResult",
    "FileStatus",
    "GitCheck",
    "GitOutcome",
    "GitVerifier",
    "MemoryAnswerCache",
    "Outcome",
    "Reading",
    "TransferStats",
    "UrlPolicy",
    "source_id",
]
