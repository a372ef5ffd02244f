"""`manifest-validate diff` output: text for people, JSON for programs, Markdown for a
pull-request comment (compact: one section per changed image, bullet lists and one table)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from .model import ChangeSummary, CommitMove, EntrySummary, FieldChange, ImageChanges, TagChanges

DIFF_FORMATS = ("text", "json", "markdown")
_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_GITHUB = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+?(?:\.git)?/?")


def _short(value: str) -> str:
    """Commit ids shortened to 12 digits (still unique in practice); other values as they are."""
    return value[:12] if _HEX.fullmatch(value) else value


def _shown(value: str) -> str:
    return _short(value) if value else "(none)"


def _field_text(change: FieldChange) -> str:
    name = f"{change.architecture}-{change.field}" if change.architecture else change.field
    return f"{name} {_shown(change.old)} -> {_shown(change.new)}"


def _tag_change_parts(change: TagChanges) -> list[str]:
    parts = []
    if change.architectures_added:
        parts.append("architectures added: " + ", ".join(change.architectures_added))
    if change.architectures_removed:
        parts.append("architectures removed: " + ", ".join(change.architectures_removed))
    parts += [_field_text(field) for field in change.fields]
    return parts


def _entry_text(entry: EntrySummary) -> str:
    tags = ", ".join(entry.tags) or "(no tags)"
    shared = f"; shared: {', '.join(entry.shared_tags)}" if entry.shared_tags else ""
    return f"{tags}{shared} [{', '.join(entry.architectures)}]"


def _counts_line(summary: ChangeSummary) -> str:
    counts = summary.counts()
    changed = counts["added"] + counts["removed"] + counts["modified"]
    word = "image" if changed == 1 else "images"
    return (
        f"{changed} {word} changed: {counts['modified']} modified, {counts['added']} added, "
        f"{counts['removed']} removed ({counts['unchanged']} unchanged)"
    )


def _image_lines(image: ImageChanges) -> Iterable[str]:
    """`label: value` lines of one image, shared by text and Markdown."""
    for entry in image.entries_added:
        yield f"entry added: {_entry_text(entry)}"
    for entry in image.entries_removed:
        yield f"entry removed: {_entry_text(entry)}"
    if image.tags_added:
        yield "tags added: " + ", ".join(image.tags_added)
    if image.tags_removed:
        yield "tags removed: " + ", ".join(image.tags_removed)
    if image.shared_tags_added:
        yield "shared tags added: " + ", ".join(image.shared_tags_added)
    if image.shared_tags_removed:
        yield "shared tags removed: " + ", ".join(image.shared_tags_removed)
    for move in image.tags_moved:
        if move.shared:
            yield f"shared tag {move.tag} now on [{move.new_entry}] (was [{move.old_entry}])"
        else:
            yield f"tag moved: {move.tag} from [{move.old_entry}] to [{move.new_entry}]"
    if image.maintainers_added:
        yield "maintainers added: " + "; ".join(image.maintainers_added)
    if image.maintainers_removed:
        yield "maintainers removed: " + "; ".join(image.maintainers_removed)


def image_text_lines(image: ImageChanges) -> list[str]:
    """What changed in one image, a line each (`tags added: ...`, `tag 1.0: GitCommit ...`),
    then its commit checks and problems: the body of its section in the text output."""
    lines = list(_image_lines(image))
    for change in image.changed:
        label = ("shared tag" if change.shared else "tag") + ("s" if len(change.tags) > 1 else "")
        parts = "; ".join(_tag_change_parts(change))
        lines.append(f"{label} {', '.join(change.tags)}: {parts}")
    for check in image.commit_checks:
        if check.verdict == "descendant":
            lines.append(f"{_check_text(check.move)}: descends from the old commit")
        elif check.verdict == "unknown":
            lines.append(f"{_check_text(check.move)}: not checked: {check.detail}")
    for found in image.problems:
        where = f"line {found.line}: " if found.line else ""
        lines.append(f"{where}{found.code} {found.severity.value}: {found.message}")
    return lines


def render_diff_text(summary: ChangeSummary) -> str:
    lines: list[str] = []
    for image in summary.changed:
        lines.append(f"{image.name} ({image.status})")
        lines += [f"  {line}" for line in image_text_lines(image)]
    lines.append(_counts_line(summary))
    return "\n".join(lines)


def _check_text(move: CommitMove) -> str:
    return f"GitCommit {_short(move.old)} -> {_short(move.new)} ({', '.join(move.tags)})"


def _md(text: str) -> str:
    """Inline code, safe for Markdown tables (backticks and pipes cannot break out)."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _md_list(items: Iterable[str]) -> str:
    return ", ".join(_md(item) for item in items)


def _md_field(change: FieldChange, repo: str) -> str:
    name = f"{change.architecture}-{change.field}" if change.architecture else change.field
    text = f"{name} {_md(_shown(change.old))} → {_md(_shown(change.new))}"
    github = _GITHUB.fullmatch(repo)
    if change.field == "GitCommit" and github and change.old and change.new:
        base = repo.removesuffix("/").removesuffix(".git")
        text += f" ([compare]({base}/compare/{change.old}...{change.new}))"
    return text


# GitHub refuses comments over 65536 characters; leave room for what a CI job adds around it.
MARKDOWN_LIMIT = 60_000


def render_diff_markdown(summary: ChangeSummary, *, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment; a GitCommit moved on a github.com GitRepo links to GitHub's
    compare view. Images that would take the comment over `limit` characters are named at the
    end instead (the JSON output has everything)."""
    out = ["## Library changes", "", _counts_line(summary)]
    size = sum(len(line) + 1 for line in out)
    left_out: list[str] = []
    for image in summary.changed:
        section = _md_image(image)
        length = sum(len(line) + 1 for line in section)
        if left_out or size + length > limit:
            left_out.append(image.name)
            continue
        out += section
        size += length
    if left_out:
        out += ["", f"Not shown, to keep this comment short: {_md_list(left_out)}."]
    if not summary.changed:
        out += ["", "No image changed."]
    return "\n".join(out) + "\n"


def _md_image(image: ImageChanges) -> list[str]:
    """The section of one image: bullets, a table of per-tag changes, warnings."""
    return ["", f"### {_md(image.name)} ({image.status})", "", *image_markdown(image)]


def image_markdown(image: ImageChanges) -> list[str]:
    """What changed in one image, in Markdown (bullets, a table of per-tag changes, commit
    checks and warnings): the body of its section in the `markdown` output."""
    out: list[str] = []
    bullets = []
    for verb, entries in (("added", image.entries_added), ("removed", image.entries_removed)):
        for entry in entries:
            bullets.append(
                f"- **entry {verb}:** {_md_list(entry.tags)} on {_md_list(entry.architectures)}"
            )
    for label, items in (
        ("tags added", image.tags_added),
        ("tags removed", image.tags_removed),
        ("shared tags added", image.shared_tags_added),
        ("shared tags removed", image.shared_tags_removed),
        ("maintainers added", image.maintainers_added),
        ("maintainers removed", image.maintainers_removed),
    ):
        if items:
            bullets.append(f"- **{label}:** {_md_list(items)}")
    for move in image.tags_moved:
        if move.shared:
            bullets.append(
                f"- **shared tag** {_md(move.tag)} now on {_md(move.new_entry)} "
                f"(was {_md(move.old_entry)})"
            )
        else:
            bullets.append(
                f"- **tag moved:** {_md(move.tag)} from {_md(move.old_entry)} "
                f"to {_md(move.new_entry)}"
            )
    out += bullets
    if image.changed:
        repo_of = {tag: move.repo for move in image.commit_moves for tag in move.tags}
        if bullets:
            out.append("")
        out += ["| tags | changes |", "| --- | --- |"]
        for change in image.changed:
            repo = next((repo_of[t] for t in change.tags if t in repo_of), "")
            parts = []
            if change.architectures_added:
                parts.append("architectures added: " + _md_list(change.architectures_added))
            if change.architectures_removed:
                parts.append("architectures removed: " + _md_list(change.architectures_removed))
            parts += [_md_field(field, repo) for field in change.fields]
            label = _md_list(change.tags) + (" (shared)" if change.shared else "")
            out.append(f"| {label} | {'<br>'.join(parts)} |")
    for check in image.commit_checks:
        if check.verdict == "unknown":
            out += ["", f"- {_md(_check_text(check.move))}: not checked ({check.detail})"]
    for found in image.problems:
        where = f" (line {found.line})" if found.line else ""
        out += ["", f"> **{found.severity.value}** {_md(found.code)}{where}: {found.message}"]
    return out


def render_diff(summary: ChangeSummary, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(summary.to_json(), indent=2, ensure_ascii=False)
    if output_format == "markdown":
        return render_diff_markdown(summary).rstrip("\n")
    return render_diff_text(summary)
