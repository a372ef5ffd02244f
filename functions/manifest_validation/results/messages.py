"""Result messages: the contract with the publishing side (`schemas/validation-result.schema.json`).

One message per manifest per validation. Its `id` is deterministic: the same manifest content,
checked with the same checks, with the same outcome, gives the same id, so queues de-duplicate
re-deliveries and re-validations that found nothing new.

For manifests with no defect the message carries `sources`: its slice of the publisher's
`sources.json` (docker-library/meta-scripts), exactly as meta-scripts makes it (see
`sources/` and docs/sources.md): the sources its entries build, keyed by `sourceId`, in
bashbrew's build order, with parents resolved among the manifests checked together.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..checks.pipeline import ValidationResult
from ..problems.status import Status
from ..sources import Image, build_document
from .origin import Origin as Origin
from .origin import Trigger as Trigger

if TYPE_CHECKING:
    from ..checks.docs.folder import DocsResult

# 1.1: `kind` (manifest or docs), `file` in problems, `changes`, `froms`;
# 2.0: `sources` (the publisher's sources.json, `sourceId` as meta's) replaces `build_plan`
SCHEMA_VERSION = "2.0"
VALIDATOR = {"name": "manifest-validation", "version": __version__}


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _digest(document: Any) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def result_id(manifest: str, origin: Origin, checks: dict[str, Any], outcome: Any) -> str:
    """Same content + same checks + same outcome = same id (where and when do not count)."""
    return _digest(
        {"manifest": manifest, "sha256": origin.sha256, "checks": checks, "outcome": outcome}
    )


def manifest_sources(result: ValidationResult) -> dict[str, Any]:
    """The document of this manifest alone (no parents among other manifests): what a
    message carries when the caller gives no slice of a larger document."""
    return build_document([Image(result.parsed, result.builds)]).slice(0)


def make_message(
    manifest: str,
    origin: Origin,
    *,
    trigger: Trigger,
    status: str,
    checks: dict[str, Any],
    problems: list[dict[str, Any]],
    entries: int = 0,
    checked_at: str | None = None,
    outcome: Any = None,
    kind: str = "manifest",
) -> dict[str, Any]:
    """A result message; `outcome` (default: status and problems) is what its id depends on."""
    identity = outcome if outcome is not None else [status, problems]
    return {
        "schema_version": SCHEMA_VERSION,
        "id": result_id(manifest, origin, checks, identity),
        "kind": kind,
        "manifest": manifest,
        "source": origin.describe(),
        "origin": origin.to_json(),
        "trigger": trigger.value,
        "checked_at": checked_at or now_rfc3339(),
        "validator": VALIDATOR,
        "checks": checks,
        "status": status,
        "summary": {
            "entries": entries,
            "errors": sum(1 for p in problems if p["severity"] == "error"),
            "warnings": sum(1 for p in problems if p["severity"] == "warning"),
            "notes": sum(1 for p in problems if p["severity"] == "info"),
        },
        "problems": problems,
    }


def result_message(
    result: ValidationResult,
    origin: Origin,
    *,
    trigger: Trigger,
    verify_git: bool,
    checked_at: str | None = None,
    changes: dict[str, Any] | None = None,
    sources: dict[str, Any] | None = None,
    with_sources: bool = True,
) -> dict[str, Any]:
    """The message for one validation of one manifest; `changes` (see `diff_git.
    manifest_changes`) is what it changes relative to a base, and is part of the id.

    A manifest without errors carries `sources`: the slice given (of the document of every
    manifest checked with it), else its own document; none with `with_sources=False`. They
    are part of the id: a parent's new sourceId is news for the child, same text or not."""
    problems = [problem.to_json() for problem in result.problems]
    if not with_sources or result.status not in (Status.VALID, Status.UNVERIFIED):
        sources = None
    elif sources is None:
        sources = manifest_sources(result)
    outcome: list[Any] = [result.status.value, problems]
    if changes is not None:
        outcome.append(changes)
    if sources is not None:
        outcome.append({"sources": sources})
    message = make_message(
        result.manifest,
        origin,
        trigger=trigger,
        status=result.status.value,
        checks={"verify_git": verify_git},
        problems=problems,
        entries=len(result.parsed.entries),
        checked_at=checked_at,
        outcome=outcome,
    )
    if sources is not None:
        message["sources"] = sources
    if changes is not None:
        message["changes"] = changes
    return message


def docs_result_message(
    result: DocsResult,
    origin: Origin,
    *,
    trigger: Trigger,
    checked_at: str | None = None,
) -> dict[str, Any]:
    """The message for one check of one image's docs folder (`kind: "docs"`; no sources).
    `origin.sha256` is that of `docs.folder_digest_input(files)`."""
    problems = [problem.to_json() for problem in result.problems]
    return make_message(
        result.manifest,
        origin,
        trigger=trigger,
        status=result.status.value,
        checks={},
        problems=problems,
        checked_at=checked_at,
        outcome=["docs", result.status.value, problems],
        kind="docs",
    )


def removed_message(
    manifest: str, origin: Origin, *, trigger: Trigger, checked_at: str | None = None
) -> dict[str, Any]:
    """The message for a manifest that a push deleted (there is no content to check)."""
    return make_message(
        manifest,
        origin,
        trigger=trigger,
        status="removed",
        checks={},
        problems=[],
        checked_at=checked_at,
        outcome=["removed", origin.commit],
    )
