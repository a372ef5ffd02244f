"""The command line's edges, run as a user runs it: every --help, empty or mistaken paths, a
closed pipe, a rule explained, colours on a terminal."""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from manifest_validation.cli.main import build_parser
from paths import PROJECT

HELLO = PROJECT / "examples" / "library" / "hello-world"
BROKEN = PROJECT / "examples" / "invalid" / "broken-db"
CLI = [sys.executable, "-m", "manifest_validation"]


def run(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=60, check=False, **options
    )


def command_parsers(only: str | None = None) -> dict[str, argparse.ArgumentParser]:
    parser = build_parser(only)
    (commands,) = [a for a in parser._actions if a.dest == "command"]  # the subparsers
    return dict(commands.choices)  # type: ignore[arg-type]


def subcommands() -> list[str]:
    return sorted(command_parsers())


@pytest.mark.parametrize("command", subcommands())
def test_a_run_builds_the_parser_of_its_command_alone_and_the_same(command: str) -> None:
    alone = command_parsers(command)
    assert list(alone) == [command]
    assert alone[command].format_help() == command_parsers()[command].format_help()


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_has_working_help(command: str) -> None:
    done = run(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: manifest-validate {command}")
    assert "Traceback" not in done.stderr


def test_diff_with_one_argument_is_a_usage_error_not_a_crash() -> None:
    done = run("diff", str(HELLO))
    assert done.returncode == 2
    assert "the following arguments are required: NEW" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_directory_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / ".hidden").write_text("Maintainers: x (@x)\n")
    done = run("check", str(tmp_path))
    assert done.returncode == 2
    assert f"{tmp_path}: no library files in this directory" in done.stderr
    # the same with other paths beside it: the readable ones are still reported
    done = run("check", str(tmp_path), str(HELLO))
    assert done.returncode == 2
    assert "1 manifest checked: 1 valid" in done.stdout


def test_an_official_images_checkout_checks_its_library(tmp_path: Path) -> None:
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "hello-world").write_bytes(HELLO.read_bytes())
    (tmp_path / "README.md").write_text("# Docker Official Images\n\nNot a library file.\n")
    (tmp_path / "MAINTAINERS").write_text("Someone <someone@example.com> (@someone)\n")
    done = run("check", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{tmp_path} is an official-images checkout: checking {tmp_path / 'library'}" in (
        done.stderr
    )
    assert done.stdout.strip() == "1 manifest checked: 1 valid, 0 invalid (0 errors, 0 warnings)"


@pytest.mark.parametrize(
    "args",
    [
        ["rules"],
        ["check", "--format", "json", str(PROJECT / "examples" / "library")],
        ["diff", str(PROJECT / "examples" / "library"), str(PROJECT / "examples" / "invalid")],
    ],
)
def test_a_closed_pipe_ends_quietly_with_the_sigpipe_status(args: list[str]) -> None:
    """As `... | head` once the reader is gone: here it is gone before the first write, so
    every write fails, whatever the timing."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [*CLI, *args], stdout=writer, stderr=subprocess.PIPE, timeout=60, check=False
        )
    finally:
        os.close(writer)
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert done.returncode == 141


def test_rules_code_explains_a_rule() -> None:
    done = run("rules", "latest-in-tag", "missing-field")
    assert done.returncode == 0
    assert done.stdout.startswith("latest-in-tag (error, rules): ")
    assert "  why: " in done.stdout and "  fix: " in done.stdout
    assert "\nmissing-field (error, " in done.stdout
    as_json = json.loads(run("rules", "--format", "json", "latest-in-tag").stdout)
    assert as_json["code"] == "latest-in-tag" and as_json["fix"]


def test_rules_with_an_unknown_code_suggests_one() -> None:
    done = run("rules", "latest-in-tags")
    assert done.returncode == 2
    assert "'latest-in-tags' is not a rule code; did you mean latest-in-tag?" in done.stderr


def _on_a_terminal(*args: str, **environ: str) -> str:
    """What the command prints when its stdout is a terminal."""
    leader, follower = pty.openpty()
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env.update(environ)
    with subprocess.Popen([*CLI, *args], stdout=follower, stderr=follower, env=env) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colours_on_a_terminal_unless_no_color() -> None:
    coloured = _on_a_terminal("check", str(BROKEN))
    assert "\x1b[1;31merror\x1b[0m" in coloured  # the severity stands out
    plain = _on_a_terminal("check", str(BROKEN), NO_COLOR="1")
    assert "\x1b[" not in plain and " error: " in plain
    piped = run("check", str(BROKEN))  # not a terminal: never colours
    assert "\x1b[" not in piped.stdout


def test_unknown_request_fields_get_a_did_you_mean() -> None:
    from manifest_validation.api.validations import ApiError, parse_request

    body = {"manifests": [{"name": "hello-world", "content": ""}], "verify-git": True}
    with pytest.raises(ApiError) as refused:
        parse_request("application/json", json.dumps(body).encode(), {})
    assert refused.value.message == "unknown field 'verify-git'; did you mean 'verify_git'?"
    body = {"manifests": [{"name": "hello-world", "contents": ""}]}
    with pytest.raises(ApiError) as refused:
        parse_request("application/json", json.dumps(body).encode(), {})
    assert refused.value.message == "unknown field 'contents'; did you mean 'content'?"
    assert refused.value.field == "manifests[0].contents"
