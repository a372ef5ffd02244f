"""Verify that manifests' git references exist upstream, without a git binary.

Public API::

    verifier = GitVerifier(UrlPolicy(insecure_hosts), cache=MemoryAnswerCache())
    outcomes = verifier.verify([GitCheck(repo_url, "refs/heads/main", commit), ...])
    files = verifier.read_files([FileRequest(repo_url, commit, "3.12/Dockerfile"), ...])
    both = verifier.read(files=[...], contexts=[ContextRequest(repo_url, commit, "3.12")])
    both.contexts[...].checksum  # bashbrew's reproducibleGitChecksum; source_id() from it

    # naughty-commits.sh: large binary tarballs rewritten in GitCommits' histories
    report = HistoryChecker(policy, transport=verifier.transport).check(
        [HistoryCheck(repo_url, git_fetch, commit), ...]
    )
    # naughty-from.sh's external pins: the bashbrew architectures image@digest serves
    result = RegistryClient(policy, mirrors=parse_registry_mirrors(text)).architectures(ref)

Modules: :mod:`.model` (checks and outcomes), :mod:`.policy` (which URLs may be
contacted, SSRF defence), :mod:`.transport` (pinned HTTP, caps, retries),
:mod:`.pktline` and :mod:`.protocol` (git smart HTTP v2 with v0 fallback),
:mod:`.cache` (immutable answers), :mod:`.files` (reading files at commits),
:mod:`.contexts` and :mod:`.tarstream` (bashbrew's build-context checksum),
:mod:`.verifier` (orchestration), :mod:`.history` (tarball rewrites in a history, with
:mod:`.gitattributes`), :mod:`.registry` (OCI distribution: architectures of a pinned
digest) and :mod:`.valuecache` (their immutable answers).
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
from .history import (
    HistoryCheck,
    HistoryChecker,
    HistoryOutcome,
    HistoryReport,
    HistoryStatus,
    OffendingCommit,
    OffendingFile,
)
from .model import GitCheck, GitOutcome, Outcome
from .policy import UrlPolicy
from .references import parse_registry_mirror, parse_registry_mirrors
from .registry import ArchitecturesResult, RegistryClient, RegistryStatus
from .transport import TransferStats
from .valuecache import MemoryValueCache, ValueCache
from .verifier import GitVerifier

__all__ = [
    "DEFAULT_CONTEXT_MAX_BYTES",
    "AnswerCache",
    "ArchitecturesResult",
    "ContextRequest",
    "ContextResult",
    "ContextStatus",
    "FileRequest",
    "FileResult",
    "FileStatus",
    "GitCheck",
    "GitOutcome",
    "GitVerifier",
    "HistoryCheck",
    "HistoryChecker",
    "HistoryOutcome",
    "HistoryReport",
    "HistoryStatus",
    "MemoryAnswerCache",
    "MemoryValueCache",
    "OffendingCommit",
    "OffendingFile",
    "Outcome",
    "Reading",
    "RegistryClient",
    "RegistryStatus",
    "TransferStats",
    "UrlPolicy",
    "ValueCache",
    "parse_registry_mirror",
    "parse_registry_mirrors",
    "source_id",
]
