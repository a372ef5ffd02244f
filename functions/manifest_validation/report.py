"""Output formats for results: text for people, JSON for programs, GitHub Actions annotations."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .catalog import RULES
from .problems import Problem, Severity
from .validate import Status

FORMATS = ("text", "json", "github")


class CheckResult(Protocol):
    """What the reports need of a result: a library file's (validate.ValidationResult) or a docs
    folder's (docs.DocsResult)."""

    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def problems(self) -> list[Problem]: ...
    @property
    def errors(self) -> list[Problem]: ...
    @property
    def warnings(self) -> list[Problem]: ...
    @property
    def notes(self) -> list[Problem]: ...


def _where(result: CheckResult, found: Problem) -> str:
    """The file a problem is in: the result's source, or a file of a docs folder in it."""
    return f"{result.source.rstrip('/')}/{found.file}" if found.file else result.source


def summary(results: Sequence[CheckResult]) -> dict[str, int]:
    statuses = Counter(result.status for result in results)
    docs = sum(1 for result in results if result.kind == "docs")
    counts = {
        "manifests": len(results) - docs,
        "valid": statuses[Status.VALID],
        "invalid": statuses[Status.INVALID],
        "unverified": statuses[Status.UNVERIFIED],
        "errors": sum(len(result.errors) for result in results),
        "warnings": sum(len(result.warnings) for result in results),
        "notes": sum(len(result.notes) for result in results),
    }
    if docs:
        counts["docs"] = docs  # docs folders (only when some were checked)
    return counts


def json_document(
    results: Sequence[CheckResult], messages: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`{"results": [result messages], "summary": {...}}` (messages: see results.py)."""
    return {"results": list(messages), "summary": summary(results)}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _checked(counts: Mapping[str, int]) -> str:
    """`3 manifests checked`, `3 manifests and 2 docs folders checked`, `2 docs folders checked`."""
    parts = [_plural(counts["manifests"], "manifest")] if counts["manifests"] else []
    if counts.get("docs"):
        parts.append(_plural(counts["docs"], "docs folder"))
    return f"{' and '.join(parts) or _plural(0, 'manifest')} checked"


def render_text(results: Sequence[CheckResult]) -> str:
    lines = []
    for result in results:
        for found in result.problems:
            file = _where(result, found)
            where = f"{file}:{found.line}" if found.line else file
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
    lines.append(f"{_checked(counts)}: {', '.join(parts)} ({', '.join(totals)})")
    return "\n".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(results: Sequence[CheckResult]) -> str:
    """GitHub Actions workflow commands: one annotation per problem."""
    lines = []
    for result in results:
        for found in result.problems:
            command = _GITHUB_COMMANDS[found.severity]
            properties = [f"file={_escape_property(_where(result, found))}"]
            if found.line:
                properties.append(f"line={found.line}")
            properties.append(f"title={_escape_property(found.code)}")
            message = found.message + (f"\n{found.hint}" if found.hint else "")
            lines.append(f"::{command} {','.join(properties)}::{_escape_data(message)}")
    counts = summary(results)
    lines.append(
        f"{_checked(counts)}: {counts['valid']} valid, "
        f"{counts['invalid']} invalid, {counts['unverified']} unverified"
    )
    return "\n".join(lines)


def render(
    results: Sequence[CheckResult],
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
