"""GitHub push webhooks: verify the signature, and work out which manifests a push touched.

GitHub lists at most 20 commits in a push payload, and a forced push or a new branch does not
say what changed relative to what we last saw: in those cases every manifest is re-validated at
the pushed commit. Otherwise the files under `library/` that the push's commits added, modified
or removed decide, in commit order (a file removed and added again is validated).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..libraryfile.names import COMMIT, IMAGE_NAME
from ..results.origin import Trigger
from ..work.jobs import Action, Job

# GitHub truncates `commits` to 20; with that many we cannot trust the list to be complete.
TRUNCATED_COMMITS = 20
_ZERO = re.compile(r"0+")
_COMMIT = re.compile(rf"(?!0+$)(?:{COMMIT.pattern})")  # all zeros: no commit (a new branch)


def signature_of(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256` against the HMAC-SHA256 of the raw body, in constant time."""
    if not secret or not header:
        return False
    expected = signature_of(secret.encode("utf-8"), body)
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def normalize_repository(url: str) -> str:
    """`https://github.com/Owner/Repo.git/` and `https://github.com/owner/repo` are the same."""
    text = url.strip().lower().rstrip("/")
    return text.removesuffix(".git")


@dataclass(frozen=True, slots=True)
class PushPlan:
    """What to do about one webhook delivery: jobs to enqueue, or why nothing."""

    jobs: list[Job] = field(default_factory=list)
    ignored: str | None = None  # the reason nothing is done
    full: bool = False
    key: str | None = None  # what identifies the push (see push_key); None when ignored


def push_key(repository: str, ref: str, before: str | None, after: str) -> str:
    """The identity of a push by its content: the same (repository, ref, before, after) is the
    same push, whatever its delivery id (which the signature does not cover, so a replayed
    body can come with any)."""
    identity = json.dumps([normalize_repository(repository), ref, before, after])
    return hashlib.sha256(identity.encode()).hexdigest()


def push_run(key: str) -> str:
    """The run of a push's jobs (see `Job.run`): its key, whatever delivery brought it."""
    return f"push:{key}"


def _library_name(path: str) -> str | None:
    directory, _, name = path.rpartition("/")
    if directory != "library" or not IMAGE_NAME.fullmatch(name):
        return None
    return name


def plan_push(
    payload: Mapping[str, Any],
    *,
    repository: str,
    branch: str,
    delivery: str | None,
) -> PushPlan:
    """The jobs for a `push` event to `repository` (the configured URL) and `branch`."""
    # A signed payload is GitHub's, but the shape is still checked: a value of the wrong type
    # is a push we do not understand (ignored), never an exception.
    repo = payload.get("repository")
    if not isinstance(repo, Mapping):
        return PushPlan(ignored="not a push payload (no repository object)")
    urls = {
        normalize_repository(str(repo.get(key)))
        for key in ("clone_url", "html_url", "url", "git_url", "ssh_url")
        if isinstance(repo.get(key), str)
    }
    if normalize_repository(repository) not in urls:
        return PushPlan(ignored="push to another repository")
    ref = payload.get("ref")
    if ref != f"refs/heads/{branch}":
        return PushPlan(ignored=f"push to {ref!r}, not to refs/heads/{branch}")
    after = payload.get("after")
    if payload.get("deleted") or not isinstance(after, str) or _ZERO.fullmatch(after):
        return PushPlan(ignored="branch deletion")
    before = payload.get("before")
    identity = push_key(repository, ref, before if isinstance(before, str) else None, after)
    commits = payload.get("commits")
    if not isinstance(commits, list):
        commits = []
    # What the branch pointed at before: results say what changed since (none for a new branch).
    before = payload.get("before")
    base = None
    if isinstance(before, str) and _COMMIT.fullmatch(before) and not payload.get("created"):
        base = before
    run = push_run(identity)
    if payload.get("created") or payload.get("forced") or len(commits) >= TRUNCATED_COMMITS:
        expand = Job(Action.EXPAND, repository, after, Trigger.PUSH, None, delivery, base, run)
        return PushPlan(jobs=[expand], full=True, key=identity)
    final: dict[str, Action] = {}
    for commit in commits:
        if not isinstance(commit, Mapping):
            continue
        for key, action in (
            ("added", Action.VALIDATE),
            ("modified", Action.VALIDATE),
            ("removed", Action.REMOVED),
        ):
            paths = commit.get(key)
            for path in paths if isinstance(paths, list) else []:
                name = _library_name(str(path))
                if name is not None:
                    final[name] = action
    jobs = [
        Job(action, repository, after, Trigger.PUSH, name, delivery, base, run)
        for name, action in sorted(final.items())
    ]
    if not jobs:
        return PushPlan(ignored="no library file changed")
    return PushPlan(jobs=jobs, key=identity)
