"""Result messages: the contract with the publishing side (`schemas/validation-result.schema.json`).

One message per manifest per validation. Its `id` is deterministic: the same manifest content,
checked with the same checks, with the same outcome, gives the same id, so queues de-duplicate
re-deliveries and re-validations that found nothing new.

For manifests with no defect the message carries the build plan, modelled on the publishing
side's `sources.json` (docker-library/meta-scripts): one source per set of entries bashbrew
merges, with `entry` (GitRepo, GitFetch, GitCommit, Directory, File, Builder), full tag
references, and `arches` with per-architecture values, `archTags`, `platformString` and `platform`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..checks.pipeline import ValidationResult
from ..libraryfile.architectures import NAMESPACES, PLATFORMS, platform_string
from ..libraryfile.model import Entry, Manifest
from ..libraryfile.names import BUILD_FIELDS
from ..problems.status import Status
from .origin import Origin as Origin
from .origin import Trigger as Trigger

if TYPE_CHECKING:
    from ..checks.docs.folder import DocsResult

SCHEMA_VERSION = "1.1"  # 1.1: `kind` (manifest or docs), `file` in problems, `changes`, `froms`
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


def _arch_plan(
    entry: Entry, image: str, architecture: str, tags: list[str], froms: list[str] | None
) -> dict[str, Any]:
    platform = PLATFORMS[architecture]
    plan: dict[str, Any] = {key: entry.arch_value(architecture, key) for key in BUILD_FIELDS}
    plan["archTags"] = [f"{NAMESPACES[architecture]}/{image}:{tag}" for tag in tags]
    plan["platformString"] = platform_string(platform)
    plan["platform"] = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        plan["platform"]["variant"] = platform.variant
    if froms is not None:
        plan["froms"] = froms
    return plan


def build_plan(
    manifest: Manifest, froms: dict[int, dict[str, list[str]]] | None = None
) -> dict[str, Any]:
    """What the publisher builds, per merged entry and architecture (no re-parsing needed).

    `froms` (entry number -> architecture -> parents, known when the Dockerfiles were read)
    adds each architecture's parents, in order, so the publisher can order the builds."""
    froms = froms or {}
    image = manifest.name
    sources = []
    for entry in manifest.merged_entries():
        all_tags = entry.tags + [tag for tag in entry.shared_tags if tag not in entry.tags]
        arches = {
            architecture: _arch_plan(
                entry, image, architecture, all_tags, froms.get(entry.number, {}).get(architecture)
            )
            for architecture in entry.architectures
            if architecture in PLATFORMS
        }
        built = {key: entry.scalar(key) for key in BUILD_FIELDS}
        source_key = {
            "entry": built,
            "arches": {a: {k: v[k] for k in BUILD_FIELDS} for a, v in arches.items()},
            "constraints": entry.constraints,
        }
        sources.append(
            {
                "sourceId": _digest(source_key),
                "tags": [f"{image}:{tag}" for tag in entry.tags],
                "sharedTags": [f"{image}:{tag}" for tag in entry.shared_tags],
                "constraints": entry.constraints,
                "entry": built,
                "arches": arches,
            }
        )
    return {"sources": sources}


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
) -> dict[str, Any]:
    """The message for one validation of one manifest; `changes` (see `diff_git.
    manifest_changes`) is what it changes relative to a base, and is part of the id."""
    problems = [problem.to_json() for problem in result.problems]
    message = make_message(
        result.manifest,
        origin,
        trigger=trigger,
        status=result.status.value,
        checks={"verify_git": verify_git},
        problems=problems,
        entries=len(result.parsed.entries),
        checked_at=checked_at,
        outcome=None if changes is None else [result.status.value, problems, changes],
    )
    if result.status in (Status.VALID, Status.UNVERIFIED):
        message["build_plan"] = build_plan(result.parsed, result.froms)
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
    """The message for one check of one image's docs folder (`kind: "docs"`; no build plan).
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
