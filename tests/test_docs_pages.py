"""The README and the docs say what the code does: every `manifest-validate` command they show
parses with the real parser, every command shown with its output (a `console` block) prints
that output, and every relative link (with its #anchor) resolves."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from manifest_validation.cli.main import build_parser

PROJECT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [
        PROJECT / "README.md",
        PROJECT / "CONTRIBUTING.md",
        PROJECT / "infra" / "README.md",
        *(PROJECT / "docs").glob("*.md"),
    ]
)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def page_id(page: Path) -> str:
    return str(page.relative_to(PROJECT))


def blocks(page: Path, kind: str) -> list[str]:
    return [body for language, body in FENCE.findall(page.read_text()) if language == kind]


def console_examples() -> list[tuple[str, str, list[str]]]:
    """(page, command, expected output lines) of every `$ manifest-validate` in console blocks."""
    examples = []
    for page in PAGES:
        for body in blocks(page, "console"):
            command, output = None, []
            for line in body.splitlines():
                if line.startswith("$ "):
                    if command:
                        examples.append((page_id(page), command, output))
                    command, output = line[2:], []
                else:
                    output.append(line)
            if command:
                examples.append((page_id(page), command, output))
    return examples


def shown_commands() -> list[tuple[str, str]]:
    """(page, command line) of every `manifest-validate ...` line in sh and console blocks."""
    found = []
    for page in PAGES:
        for body in blocks(page, "sh") + blocks(page, "console"):
            for line in body.splitlines():
                text = line.removeprefix("$ ").strip()
                if text.startswith("manifest-validate "):
                    found.append((page_id(page), text))
    return found


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; a line `...` in `expected` stands for any number of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and _matches(expected[1:], actual[1:])


@pytest.mark.parametrize(("page", "command", "expected"), console_examples())
def test_console_examples_print_what_they_show(
    page: str, command: str, expected: list[str]
) -> None:
    args = shlex.split(command)
    done = subprocess.run(
        [sys.executable, "-m", "manifest_validation", *args[1:]],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    actual = done.stdout.rstrip("\n").splitlines()
    assert _matches(expected, actual), f"{page}: {command}\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize(("page", "command"), shown_commands())
def test_shown_commands_parse(page: str, command: str) -> None:
    text = command.split(" #", 1)[0]  # a comment after the command
    text = re.sub(r"\s*[|&<>].*$", "", text)  # a pipe or redirection after it
    args = shlex.split(text)[1:]
    build_parser().parse_args(args)  # SystemExit (usage error) fails the test


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        missing_anchor = anchor and file.suffix == ".md" and anchor not in _anchors(file)
        if not file.exists() or missing_anchor:
            broken.append(target)
    assert broken == [], f"{page_id(page)}: broken links {broken}"
