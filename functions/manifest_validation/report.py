"""Output formats for results: text for people, JSON for programs, GitHub Actions annotations."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .catalog import RULES
from .problems import Severity
from .validate import Status, ValidationResult

FORMATS = ("text", "json", "github")


def summary(results: Sequence[ValidationResult]) -> dict[str, int]:
    statuses = Counter(result.status for result in results)
    return {
        "manifests": len(results),
        "valid": statuses[Status.VALID],
        "invalid": statuses[Status.INVALID],
        "unverified": statuses[Status.UNVERIFIED],
        "errors": sum(len(result.errors) for result in results),
        "warnings": sum(len(result.warnings) for result in results),
        "notes": sum(len(result.notes) for result in results),
    }


def json_document(
    results: Sequence[ValidationResult], messages: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`{"results": [result messages], "summary": {...}}` (messages: see results.py)."""
    return {"results": list(messages), "summary": summary(results)}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_text(results: Sequence[ValidationResult]) -> str:
    lines = []
    for result in results:
        for found in result.problems:
            where = f"{result.source}:{found.line}" if found.line else result.source
            lines.append(f"{where}: {found.code} {found.severity.value}: {found.message}")
            if found.hint:
                lines.append(f"    hint: {found.hint}")
    counts = summary(results)
    parts = [f"{counts['valid']} valid", f"{counts['invalid']} invalid"]
    if counts["unverified"]:
        parts.append(f"{counts['unverified']} unverified")
    totals = [_plural(counts["errors"], "error"), _plural(counts["warnings"], "warning")]
    if counts["notes"]:
        totals.append(_plural(counts["notes"], "note"))
    lines.append(
        f"{_plural(counts['manifests'], 'manifest')} checked: {', '.join(parts)} "
        f"({', '.join(totals)})"
    )
    return "\n".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(results: Sequence[ValidationResult]) -> str:
    """GitHub Actions workflow commands: one annotation per problem."""
    lines = []
    for result in results:
        for found in result.problems:
            command = _GITHUB_COMMANDS[found.severity]
            properties = [f"file={_escape_property(result.source)}"]
            if found.line:
                properties.append(f"line={found.line}")
            properties.append(f"title={_escape_property(found.code)}")
            message = found.message + (f"\n{found.hint}" if found.hint else "")
            lines.append(f"::{command} {','.join(properties)}::{_escape_data(message)}")
    counts = summary(results)
    lines.append(
        f"{_plural(counts['manifests'], 'manifest')} checked: {counts['valid']} valid, "
        f"{counts['invalid']} invalid, {counts['unverified']} unverified"
    )
    return "\n".join(lines)


def render(
    results: Sequence[ValidationResult],
    output_format: str,
    messages: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Results as text, GitHub annotations, or JSON (which needs the result messages)."""
    if output_format == "json":
        return json.dumps(json_document(results, messages), indent=2, ensure_ascii=False)
    if output_format == "github":
        return render_github(results)
    return render_text(results)


def render_rules(output_format: str = "text") -> str:
    if output_format == "json":
        return json.dumps(
            [
                {
                    "code": rule.code,
                    "severity": rule.severity.value,
                    "summary": rule.summary,
                    "why": rule.why,
                    "fix": rule.fix,
                    "stage": rule.source,
                }
                for rule in RULES.values()
            ],
            indent=2,
        )
    width = max(len(code) for code in RULES)
    return "\n".join(
        f"{rule.code:<{width}}  {rule.severity.value:<7}  {rule.summary}" for rule in RULES.values()
    )


def render_rules_markdown() -> str:
    """docs/rules.md: the rule catalog for people (kept in sync by a test)."""
    out = [
        "# Rule catalog",
        "",
        "Generated from `functions/manifest_validation/catalog.py` by "
        "`manifest-validate rules --format markdown`; do not edit by hand.",
        "",
        "| code | severity | stage | summary |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES.values():
        out.append(
            f"| [`{rule.code}`](#{rule.code}) | {rule.severity.value} | {rule.source} | "
            f"{rule.summary} |"
        )
    for rule in RULES.values():
        out += [
            "",
            f"## {rule.code}",
            "",
            f"{rule.summary} ({rule.severity.value})",
            "",
            f"**Why:** {rule.why}",
            "",
            f"**Fix:** {rule.fix}",
        ]
        if rule.bashbrew:
            out += ["", "bashbrew refuses such a file too."]
    return "\n".join(out) + "\n"
