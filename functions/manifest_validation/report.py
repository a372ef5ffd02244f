"""Output formats for results: text for people, JSON for programs, GitHub Actions annotations.

`ReportWriter` writes each result as soon as it is validated and keeps only counters, so a run
over thousands of files holds one manifest at a time; the JSON document is written piece by
piece too, byte for byte what `render` gives for the whole list. Nothing here is imported
before a command needs it (`FORMATS` is all that `manifest-validate --help` reads).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .validate import ValidationResult

FORMATS = ("text", "json", "github")


class Summary:
    """Counts of a run: manifests by status, and problems by severity."""

    def __init__(self) -> None:
        self.manifests = 0
        self.statuses: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()

    def add(self, result: ValidationResult) -> None:
        self.manifests += 1
        self.statuses[result.status.value] += 1
        self.severities.update(found.severity.value for found in result.problems)

    def to_json(self) -> dict[str, int]:
        return {
            "manifests": self.manifests,
            "valid": self.statuses["valid"],
            "invalid": self.statuses["invalid"],
            "unverified": self.statuses["unverified"],
            "errors": self.severities["error"],
            "warnings": self.severities["warning"],
        }


def summary(results: Iterable[ValidationResult]) -> dict[str, int]:
    counts = Summary()
    for result in results:
        counts.add(result)
    return counts.to_json()


def json_document(
    results: Sequence[ValidationResult], messages: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`{"results": [result messages], "summary": {...}}` (messages: see results.py)."""
    return {"results": list(messages), "summary": summary(results)}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def text_lines(result: ValidationResult) -> Iterator[str]:
    """`source:line: code severity: message`, and the hint under it, for each problem."""
    for found in result.problems:
        where = f"{result.source}:{found.line}" if found.line else result.source
        yield f"{where}: {found.code} {found.severity.value}: {found.message}"
        if found.hint:
            yield f"    hint: {found.hint}"


def text_summary(counts: Summary) -> str:
    totals = counts.to_json()
    parts = [f"{totals['valid']} valid", f"{totals['invalid']} invalid"]
    if totals["unverified"]:
        parts.append(f"{totals['unverified']} unverified")
    return (
        f"{_plural(totals['manifests'], 'manifest')} checked: {', '.join(parts)} "
        f"({_plural(totals['errors'], 'error')}, {_plural(totals['warnings'], 'warning')})"
    )


def render_text(results: Sequence[ValidationResult]) -> str:
    counts = Summary()
    lines: list[str] = []
    for result in results:
        counts.add(result)
        lines.extend(text_lines(result))
    lines.append(text_summary(counts))
    return "\n".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(result: ValidationResult) -> Iterator[str]:
    """GitHub Actions workflow commands: one annotation per problem."""
    for found in result.problems:
        command = "error" if found.severity.value == "error" else "warning"
        properties = [f"file={_escape_property(result.source)}"]
        if found.line:
            properties.append(f"line={found.line}")
        properties.append(f"title={_escape_property(found.code)}")
        message = found.message + (f"\n{found.hint}" if found.hint else "")
        yield f"::{command} {','.join(properties)}::{_escape_data(message)}"


def github_summary(counts: Summary) -> str:
    totals = counts.to_json()
    return (
        f"{_plural(totals['manifests'], 'manifest')} checked: {totals['valid']} valid, "
        f"{totals['invalid']} invalid, {totals['unverified']} unverified"
    )


def render_github(results: Sequence[ValidationResult]) -> str:
    """GitHub Actions workflow commands: one annotation per problem, then the summary."""
    counts = Summary()
    lines: list[str] = []
    for result in results:
        counts.add(result)
        lines.extend(github_lines(result))
    lines.append(github_summary(counts))
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


def _indented(document: Any, prefix: str) -> str:
    """`document` as `json.dumps(..., indent=2)` writes it `len(prefix) // 2` levels deep
    (JSON text has no raw newline inside a string, so every newline starts a line)."""
    return json.dumps(document, indent=2, ensure_ascii=False).replace("\n", "\n" + prefix)


class ReportWriter:
    """Writes results to `out` as they come, in one of `FORMATS`; `close()` ends the output
    (the summary line, or the end of the JSON document) and returns the counts.

    The output is exactly `render(all results, output_format, all messages)` and a newline.
    """

    def __init__(self, out: IO[str], output_format: str) -> None:
        if output_format not in FORMATS:
            raise ValueError(f"unknown output format {output_format!r}")
        self.out = out
        self.format = output_format
        self.counts = Summary()

    def add(self, result: ValidationResult, message: Mapping[str, Any] | None = None) -> None:
        """One result; the JSON format needs its result message (see results.py)."""
        if self.format == "json":
            if message is None:
                raise ValueError("the JSON format needs the result message of every result")
            opening = '{\n  "results": [\n    ' if not self.counts.manifests else ",\n    "
            self.out.write(opening + _indented(message, "    "))
        else:
            lines = text_lines(result) if self.format == "text" else github_lines(result)
            for text in lines:
                self.out.write(text + "\n")
        self.counts.add(result)

    def close(self) -> Summary:
        if self.format == "json":
            start = "\n  ]" if self.counts.manifests else '{\n  "results": []'
            totals = _indented(self.counts.to_json(), "  ")
            self.out.write(f'{start},\n  "summary": {totals}\n}}\n')
        elif self.format == "github":
            self.out.write(github_summary(self.counts) + "\n")
        else:
            self.out.write(text_summary(self.counts) + "\n")
        return self.counts


def render_rules(output_format: str = "text") -> str:
    from .catalog import RULES

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
    from .catalog import RULES

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
    return "\n".join(out) + "\n"
