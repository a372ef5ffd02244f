"""The review page: per image, what a change to library files (and docs folders) does and what
is wrong with it, in one page: the diff comment of official-images' `munge-pr.yml` and the
problems its `test-pr.yml` naughty job prints, together (`manifest-validate review`).

`review_document` gathers the results of a review (`application.check` of the changed manifests,
each compared with its base so that its message carries `changes`; `application.removed` of the
deleted ones; the docs folders checked) into one JSON document, and `render_review` writes it
as text, Markdown or JSON. Text and Markdown are made from the document alone, so what they show
is exactly what the JSON holds::

    {"review_version": 1, "compared": {"old": ..., "new": ...},
     "summary": {"images", "added", "modified", "removed", "unchanged", "docs",
                 "valid", "invalid", "unverified", "errors", "warnings", "notes"},
     "images": [{"image", "change", "status", "maintainers", "manifest", "docs"}]}

`change` is the manifest's (`added`, `modified`, `removed`, or `unchanged` when only comments or
layout changed; null when only the image's docs folder is reviewed), `status` the worst of its
results (`invalid`, `unverified`, `valid`, or `removed`), `manifest` and `docs` the result
messages (schemas/validation-result.schema.json). `maintainers` are the GitHub handles of the
manifest's Maintainers, as munge-pr's "Relevant Maintainers" lists them.

The Markdown fits a pull-request comment and a job summary: past `MARKDOWN_LIMIT` characters the
remaining images are named at the end instead (the JSON has everything). Text from the files
(values quoted in messages) is escaped: it cannot open a link, an HTML tag or a table cell, nor
mention anyone (an `@` in a message is followed by a zero-width space).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..diff.model import ImageChanges
from ..diff.render import MARKDOWN_LIMIT, image_markdown, image_text_lines
from .report import plural, severity_counts, status_counts
from .unreachable import UnreachableFold


class Reviewed(Protocol):
    """What the review reads of one thing checked (application.Checked): its result message,
    and its result (a manifest's carries `parsed`, the library file it read)."""

    @property
    def result(self) -> object: ...

    @property
    def message(self) -> dict[str, Any] | None: ...


REVIEW_FORMATS = ("text", "markdown", "json")
REVIEW_VERSION = 1
_HANDLE = re.compile(r"\(@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\)")
_WORST = ("invalid", "unverified", "valid", "removed")


def review_document(
    checked: Iterable[Reviewed],
    removed: Iterable[Mapping[str, Any]] = (),
    *,
    compared: Mapping[str, str] | None = None,
    unchanged: int = 0,
) -> dict[str, Any]:
    """The review of a change: `checked`, the results of the changed manifests (compared with
    their bases) and docs folders; `removed`, the messages of the deleted manifests;
    `compared`, what was compared (`{"old": ..., "new": ...}`: paths, or the commits of a
    range); `unchanged`, how many other library files the change left as they were."""
    images: dict[str, dict[str, Any]] = {}

    def image(name: str) -> dict[str, Any]:
        return images.setdefault(
            name,
            {
                "image": name,
                "change": None,
                "status": "valid",
                "maintainers": [],
                "manifest": None,
                "docs": None,
            },
        )

    for item in checked:
        message = item.message
        if message is None:
            raise ValueError("a review needs the result message of every result")
        entry = image(message["manifest"])
        if message.get("kind") == "docs":
            entry["docs"] = message
            continue
        entry["manifest"] = message
        changes = message.get("changes")
        # no changes: the comparison was left out as too costly, which only a base can be
        entry["change"] = changes["status"] if changes is not None else "modified"
        parsed = getattr(item.result, "parsed", None)
        if parsed is not None:
            maintainers = parsed.global_entry.items("Maintainers")
            entry["maintainers"] = list(
                dict.fromkeys(m[1] for value in maintainers for m in _HANDLE.finditer(value))
            )
    for gone in removed:
        entry = image(gone["manifest"])
        entry["manifest"] = dict(gone)
        entry["change"] = "removed"
    for entry in images.values():
        statuses = [
            result["status"] for result in (entry["manifest"], entry["docs"]) if result is not None
        ]
        entry["status"] = min(statuses, key=_WORST.index)
    listed = [images[name] for name in sorted(images)]
    return {
        "review_version": REVIEW_VERSION,
        "compared": dict(compared or {}),
        "summary": _summary(listed, unchanged),
        "images": listed,
    }


def _summary(images: Sequence[Mapping[str, Any]], unchanged: int) -> dict[str, int]:
    changes = Counter(entry["change"] for entry in images if entry["change"] is not None)
    results = [
        result
        for entry in images
        for result in (entry["manifest"], entry["docs"])
        if result is not None and result["status"] != "removed"
    ]
    statuses = Counter(result["status"] for result in results)
    severities = Counter(found["severity"] for result in results for found in result["problems"])
    return {
        "images": sum(1 for entry in images if entry["change"] is not None),
        "added": changes["added"],
        "modified": changes["modified"],
        "removed": changes["removed"],
        "unchanged": changes["unchanged"] + unchanged,
        "docs": sum(1 for entry in images if entry["docs"] is not None),
        "valid": statuses["valid"],
        "invalid": statuses["invalid"],
        "unverified": statuses["unverified"],
        "errors": severities["error"],
        "warnings": severities["warning"],
        "notes": severities["info"],
    }


def summary_line(summary: Mapping[str, int]) -> str:
    """`3 images changed: 1 modified, 1 added, 1 removed (4 unchanged); 2 checked: 1 valid,
    1 invalid (2 errors, 1 warning)`."""
    changed = summary["images"]
    parts = []
    if changed or not summary["docs"]:
        parts.append(
            f"{changed} {'image' if changed == 1 else 'images'} changed: {summary['modified']} "
            f"modified, {summary['added']} added, {summary['removed']} removed "
            f"({summary['unchanged']} unchanged)"
        )
    if summary["docs"]:
        parts.append(plural(summary["docs"], "docs folder"))
    line = ", ".join(parts)
    checked = summary["valid"] + summary["invalid"] + summary["unverified"]
    if checked:
        line += f"; {checked} checked: {status_counts(summary)}"
    return line


def _counts(result: Mapping[str, Any]) -> str:
    return severity_counts(result["summary"])


def _changes(result: Mapping[str, Any] | None) -> ImageChanges | None:
    if result is None or result.get("changes") is None:
        return None
    return ImageChanges.from_json(result["changes"])


def _where(result: Mapping[str, Any], found: Mapping[str, Any]) -> str:
    """The file a problem is in, as a reviewer knows it (the path, not `REPO@COMMIT:PATH`)."""
    path = result["origin"].get("path") or result["source"]
    if found.get("file"):
        path = f"{path.rstrip('/')}/{found['file']}"
    return f"{path}:{found['line']}" if found["line"] else path


# -- text ----------------------------------------------------------------------------------


def render_review_text(document: Mapping[str, Any]) -> str:
    shown, folded = _folded(document)
    lines: list[str] = []
    for entry in document["images"]:
        manifest, docs = entry["manifest"], entry["docs"]
        change = f" ({entry['change']})" if entry["change"] else ""
        head = f"{entry['image']}{change}"
        if manifest is not None and manifest["status"] != "removed":
            head += f": {manifest['status']}, {_counts(manifest)}"
        lines.append(head)
        changes = _changes(manifest)
        if changes is not None:
            lines += [f"  {line}" for line in image_text_lines(changes)]
        if manifest is not None:
            lines += _problem_lines(manifest, shown.get(id(manifest)))
        if docs is not None:
            lines.append(f"  docs folder {docs['source']}: {docs['status']}, {_counts(docs)}")
            lines += _problem_lines(docs)
        if entry["maintainers"]:
            lines.append("  maintainers: " + " ".join(f"@{h}" for h in entry["maintainers"]))
    lines += folded
    lines.append(summary_line(document["summary"]))
    return "\n".join(lines)


def _folded(document: Mapping[str, Any]) -> tuple[dict[int, list[Any]], list[str]]:
    """An unreachable host said once, as `check` says it (results.unreachable): the problems
    to print of each manifest result that loses some (by `id` of the result), and one line per
    host whose other warnings were left out. The counts stay those of every problem."""
    fold = UnreachableFold()
    shown: dict[int, list[Any]] = {}
    for entry in document["images"]:
        manifest = entry["manifest"]
        if manifest is None:
            continue
        number = fold.next_result()
        kept = [p for p in manifest["problems"] if fold.keep(p["code"], p["message"], number)]
        if len(kept) < len(manifest["problems"]):
            shown[id(manifest)] = kept
    return shown, fold.lines()


def _problem_lines(result: Mapping[str, Any], problems: list[Any] | None = None) -> list[str]:
    lines = []
    for found in result["problems"] if problems is None else problems:
        lines.append(
            f"  {_where(result, found)}: {found['code']} {found['severity']}: {found['message']}"
        )
        if found["hint"]:
            lines.append(f"      hint: {found['hint']}")
    return lines


# -- Markdown ------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_SEVERITY_MARK = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}  # noqa: RUF001
_STATUS_MARK = {"invalid": "❌", "unverified": "❔", "valid": "✅", "removed": "🗑️"}


def _md_text(text: str) -> str:
    """Text of a file as Markdown text: no HTML (`<` and `>` as entities), no link, no
    emphasis, no code, no table cell (their characters backslash-escaped), and no mention (a
    zero-width space after every `@`)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u200b").replace("\r", " ").replace("\n", " ")


def _md_code(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def render_review_markdown(document: Mapping[str, Any], *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment (or job summary): a table of the images, then a section per
    image; images that would take it over `limit` characters are named at the end."""
    summary = document["summary"]
    shown, folded = _folded(document)
    out = ["## Review of the changes", "", summary_line(summary)]
    images = document["images"]
    if images:
        out += ["", "| image | change | result | problems |", "| --- | --- | --- | --- |"]
        for entry in images:
            result = entry["manifest"] if entry["manifest"] is not None else entry["docs"]
            problems = "" if result["status"] == "removed" else _image_counts(entry)
            mark = _STATUS_MARK[entry["status"]]
            out.append(
                f"| {_md_code(entry['image'])} | {entry['change'] or 'docs'} | "
                f"{mark} {entry['status']} | {problems} |"
            )
    else:
        out += ["", "Nothing to review: no library file or docs folder changed."]
    size = sum(len(line) + 1 for line in out)
    left_out: list[str] = []
    for entry in images:
        section = _md_section(entry, shown)
        length = sum(len(line) + 1 for line in section)
        if left_out or size + length > limit:
            left_out.append(entry["image"])
            continue
        out += section
        size += length
    if folded:
        out += ["", *(f"- {_SEVERITY_MARK['warning']} {_md_text(line)}" for line in folded)]
    if left_out:
        names = ", ".join(_md_code(name) for name in left_out)
        out += ["", f"Not shown, to keep this page short: {names} (the JSON output has them)."]
    return "\n".join(out) + "\n"


def _image_counts(entry: Mapping[str, Any]) -> str:
    totals: Counter[str] = Counter()
    for result in (entry["manifest"], entry["docs"]):
        if result is not None:
            totals.update({key: value for key, value in result["summary"].items()})
    parts = []
    for key, word in (("errors", "error"), ("warnings", "warning"), ("notes", "note")):
        if totals[key]:
            parts.append(plural(totals[key], word))
    return ", ".join(parts)


def _md_section(entry: Mapping[str, Any], shown: Mapping[int, list[Any]]) -> list[str]:
    manifest, docs = entry["manifest"], entry["docs"]
    change = f" ({entry['change']})" if entry["change"] else ""
    out = ["", f"### {_md_code(entry['image'])}{change}: {entry['status']}"]
    problems = None if manifest is None else shown.get(id(manifest), manifest["problems"])
    if manifest is not None and problems:
        out += ["", *_md_problems(manifest, problems)]
    changes = _changes(manifest)
    if changes is not None and (changes.has_changes or changes.problems):
        body = image_markdown(changes)
        out += ["", *(body[1:] if body and body[0] == "" else body)]
    if docs is not None:
        out += ["", f"Docs folder {_md_code(docs['source'])}: {docs['status']}"]
        if docs["problems"]:
            out += ["", *_md_problems(docs)]
    if entry["maintainers"]:
        handles = " ".join(f"@{handle}" for handle in entry["maintainers"])
        out += ["", f"Maintainers: {handles}"]
    return out


def _md_problems(result: Mapping[str, Any], problems: list[Any] | None = None) -> list[str]:
    lines = []
    for found in result["problems"] if problems is None else problems:
        where = _md_code(_where(result, found))
        text = f"- {_SEVERITY_MARK[found['severity']]} {_md_code(found['code'])} {where}: "
        text += _md_text(found["message"])
        if found["hint"]:
            text += f"<br>*{_md_text(found['hint'])}*"
        lines.append(text)
    return lines


def render_review(document: Mapping[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False)
    if output_format == "markdown":
        return render_review_markdown(document).rstrip("\n")
    if output_format == "text":
        return render_review_text(document)
    raise ValueError(f"unknown output format {output_format!r}")
