"""Output formats for results: text for people, JSON for programs, GitHub Actions annotations.

`ReportWriter` writes each result as soon as it is validated and keeps only counters, so a run
over thousands of files holds one manifest at a time; the JSON document is written piece by
piece too, byte for byte what `render` gives for the whole list. Nothing here is imported
before a command needs it (not even by `manifest-validate --help`: cli.py spells `FORMATS` out),
and the json module only by the JSON format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol

from ..problems.problem import Problem, Severity

if TYPE_CHECKING:
    from ..problems.catalog import Rule
    from ..problems.status import Status

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


class Summary:
    """Counts of a run: manifests and docs folders, results by status, problems by severity."""

    def __init__(self) -> None:
        self.manifests = 0
        self.docs = 0
        self.statuses: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()

    @property
    def results(self) -> int:
        return self.manifests + self.docs

    def add(self, result: CheckResult) -> None:
        if result.kind == "docs":
            self.docs += 1
        else:
            self.manifests += 1
        self.statuses[result.status.value] += 1
        self.severities.update(found.severity.value for found in result.problems)

    def to_json(self) -> dict[str, int]:
        counts = {
            "manifests": self.manifests,
            "valid": self.statuses["valid"],
            "invalid": self.statuses["invalid"],
            "unverified": self.statuses["unverified"],
            "errors": self.severities["error"],
            "warnings": self.severities["warning"],
            "notes": self.severities["info"],
        }
        if self.docs:
            counts["docs"] = self.docs  # docs folders (only when some were checked)
        return counts


def summary(results: Iterable[CheckResult]) -> dict[str, int]:
    counts = Summary()
    for result in results:
        counts.add(result)
    return counts.to_json()


def json_document(
    results: Sequence[CheckResult], messages: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`{"results": [result messages], "summary": {...}}` (messages: see results.py)."""
    return {"results": list(messages), "summary": summary(results)}


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def severity_counts(totals: Mapping[str, int]) -> str:
    """`2 errors, 1 warning` (and the notes, when there are any)."""
    parts = [plural(totals["errors"], "error"), plural(totals["warnings"], "warning")]
    if totals.get("notes"):
        parts.append(plural(totals["notes"], "note"))
    return ", ".join(parts)


def status_counts(totals: Mapping[str, int]) -> str:
    """`1 valid, 1 invalid, 1 unverified (2 errors, 1 warning)`: the end of a summary line."""
    parts = [f"{totals['valid']} valid", f"{totals['invalid']} invalid"]
    if totals["unverified"]:
        parts.append(f"{totals['unverified']} unverified")
    return f"{', '.join(parts)} ({severity_counts(totals)})"


def _checked(counts: Mapping[str, int]) -> str:
    """`3 manifests checked`, `3 manifests and 2 docs folders checked`, `2 docs folders checked`."""
    parts = [plural(counts["manifests"], "manifest")] if counts["manifests"] else []
    if counts.get("docs"):
        parts.append(plural(counts["docs"], "docs folder"))
    return f"{' and '.join(parts) or plural(0, 'manifest')} checked"


# ANSI colours of the text format on a terminal: the severity stands out, the hint steps back.
_COLOURS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[36m"}
_DIM, _BOLD, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"


def text_lines(result: CheckResult, *, colour: bool = False) -> Iterator[str]:
    """`source:line: code severity: message`, and the hint under it, for each problem."""
    for found in result.problems:
        file = _where(result, found)
        where = f"{file}:{found.line}" if found.line else file
        if colour:
            severity = f"{_COLOURS[found.severity]}{found.severity.value}{_RESET}"
            yield f"{_BOLD}{where}{_RESET}: {found.code} {severity}: {found.message}"
            if found.hint:
                yield f"    {_DIM}hint: {found.hint}{_RESET}"
            continue
        yield f"{where}: {found.code} {found.severity.value}: {found.message}"
        if found.hint:
            yield f"    hint: {found.hint}"


def text_summary(counts: Summary) -> str:
    totals = counts.to_json()
    return f"{_checked(totals)}: {status_counts(totals)}"


def render_text(results: Sequence[CheckResult]) -> str:
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


_GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github_lines(result: CheckResult) -> Iterator[str]:
    """GitHub Actions workflow commands: one annotation per problem."""
    for found in result.problems:
        command = _GITHUB_COMMANDS[found.severity]
        properties = [f"file={_escape_property(_where(result, found))}"]
        if found.line:
            properties.append(f"line={found.line}")
        properties.append(f"title={_escape_property(found.code)}")
        message = found.message + (f"\n{found.hint}" if found.hint else "")
        yield f"::{command} {','.join(properties)}::{_escape_data(message)}"


def github_summary(counts: Summary) -> str:
    totals = counts.to_json()
    return (
        f"{_checked(totals)}: {totals['valid']} valid, "
        f"{totals['invalid']} invalid, {totals['unverified']} unverified"
    )


def render_github(results: Sequence[CheckResult]) -> str:
    """GitHub Actions workflow commands: one annotation per problem, then the summary."""
    counts = Summary()
    lines: list[str] = []
    for result in results:
        counts.add(result)
        lines.extend(github_lines(result))
    lines.append(github_summary(counts))
    return "\n".join(lines)


def render(
    results: Sequence[CheckResult],
    output_format: str,
    messages: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Results as text, GitHub annotations, or JSON (which needs the result messages)."""
    if output_format == "json":
        import json

        return json.dumps(json_document(results, messages), indent=2, ensure_ascii=False)
    if output_format == "github":
        return render_github(results)
    return render_text(results)


def _indented(document: Any, prefix: str) -> str:
    """`document` exactly as `json.dumps(..., indent=2, ensure_ascii=False)` writes it,
    `len(prefix) // 2` levels deep.

    json's C encoder does not indent, and its pure-Python one costs more than validating the
    manifest; this writer is the same text (a test holds it to json.dumps) at half the cost.
    """
    from json.encoder import encode_basestring

    out: list[str] = []
    _encode_indented(document, "\n" + prefix, out, encode_basestring)
    return "".join(out)


def _json_float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _json_key(key: Any) -> str:
    """A dict key as json.dumps turns it into a string."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _json_float(key)
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _encode_indented(
    value: Any, newline: str, out: list[str], encode_basestring: Callable[[str], str]
) -> None:
    # the order of json's own checks: str, None, True, False, int, float, list/tuple, dict
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_json_float(value))
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _encode_indented(item, inner, out, encode_basestring)
            separator = "," + inner
        out.append(newline + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            out.append(separator + encode_basestring(_json_key(key)) + ": ")
            _encode_indented(item, inner, out, encode_basestring)
            separator = "," + inner
        out.append(newline + "}")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class ReportWriter:
    """Writes results to `out` as they come, in one of `FORMATS`; `close()` ends the output
    (the summary line, or the end of the JSON document) and returns the counts.

    The output is exactly `render(all results, output_format, all messages)` and a newline.
    """

    def __init__(self, out: IO[str], output_format: str, *, colour: bool = False) -> None:
        if output_format not in FORMATS:
            raise ValueError(f"unknown output format {output_format!r}")
        self.out = out
        self.format = output_format
        self.colour = colour and output_format == "text"
        self.counts = Summary()

    def add(self, result: CheckResult, message: Mapping[str, Any] | None = None) -> None:
        """One result; the JSON format needs its result message (see results.py)."""
        if self.format == "json":
            if message is None:
                raise ValueError("the JSON format needs the result message of every result")
            opening = '{\n  "results": [\n    ' if not self.counts.results else ",\n    "
            self.out.write(opening + _indented(message, "    "))
        else:
            if self.format == "text":
                lines = text_lines(result, colour=self.colour)
            else:
                lines = github_lines(result)
            for text in lines:
                self.out.write(text + "\n")
        self.counts.add(result)

    def close(self) -> Summary:
        if self.format == "json":
            start = "\n  ]" if self.counts.results else '{\n  "results": []'
            totals = _indented(self.counts.to_json(), "  ")
            self.out.write(f'{start},\n  "summary": {totals}\n}}\n')
        elif self.format == "github":
            self.out.write(github_summary(self.counts) + "\n")
        else:
            self.out.write(text_summary(self.counts) + "\n")
        return self.counts


def render_rules(output_format: str = "text") -> str:
    import json

    from ..problems.catalog import RULES

    if output_format == "json":
        return json.dumps([_rule_json(rule) for rule in RULES.values()], indent=2)
    width = max(len(code) for code in RULES)
    return "\n".join(
        f"{rule.code:<{width}}  {rule.severity.value:<7}  "
        + (f"(retired) {rule.summary}" if rule.retired else rule.summary)
        for rule in RULES.values()
    )


def render_rule(rule: Rule, output_format: str = "text") -> str:
    """One rule, whole: `rules CODE`."""
    if output_format == "json":
        import json

        return json.dumps(_rule_json(rule), indent=2)
    if output_format == "markdown":
        return "\n".join(_rule_markdown(rule))
    lines = [
        f"{rule.code} ({rule.severity.value}, {rule.source}): {rule.summary}",
        f"  why: {rule.why}",
        f"  fix: {rule.fix}",
    ]
    if rule.bashbrew:
        lines.append("  bashbrew refuses such a file too.")
    if rule.retired:
        lines.append(f"  retired, never reported: {rule.retired}")
    return "\n".join(lines)


def _rule_json(rule: Rule) -> dict[str, str]:
    out = {
        "code": rule.code,
        "severity": rule.severity.value,
        "summary": rule.summary,
        "why": rule.why,
        "fix": rule.fix,
        "stage": rule.source,
    }
    if rule.retired:
        out["retired"] = rule.retired
    return out


def _rule_markdown(rule: Rule) -> list[str]:
    out = [
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
    if rule.retired:
        out += ["", f"**Retired**, never reported: {rule.retired}"]
    return out


def render_rules_markdown() -> str:
    """docs/rules.md: the rule catalog for people (kept in sync by a test)."""
    from ..problems.catalog import RULES

    out = [
        "# Rule catalog",
        "",
        "Generated from `functions/manifest_validation/problems/catalog.py` by "
        "`manifest-validate rules --format markdown`; do not edit by hand.",
        "",
        "| code | severity | stage | summary |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES.values():
        summary = f"retired: {rule.summary}" if rule.retired else rule.summary
        out.append(
            f"| [`{rule.code}`](#{rule.code}) | {rule.severity.value} | {rule.source} | {summary} |"
        )
    for rule in RULES.values():
        out += ["", *_rule_markdown(rule)]
    return "\n".join(out) + "\n"
