"""`check --verify-git` for people: an unreachable host is said once (the first warning as it
is, the others folded into one line with the number of repositories and manifests), and on a
terminal a progress line on stderr while the upstream checks run.

The hosts are closed ports on 127.0.0.1 and 127.0.0.2 (allowed with --insecure-host): the
connections are refused at once, as a host without network fails, and nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from manifest_validation.cli.main import main
from manifest_validation.problems.catalog import problem
from manifest_validation.results.unreachable import UnreachableFold, unreachable_host

HOSTS = ("--insecure-host", "127.0.0.1:1", "--insecure-host", "127.0.0.2:1")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def library_file(*repos: str) -> str:
    """One entry per repository, the first repository global."""
    text = f"Maintainers: Jane Doe (@jane)\nGitRepo: {repos[0]}\n"
    for number, repo in enumerate(repos):
        text += f"\nTags: {number + 1}\nArchitectures: amd64\nGitCommit: {COMMIT}\n"
        if number:
            text += f"GitRepo: {repo}\n"
    return text


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Four repositories on 127.0.0.1:1 (a, b, c; c in two manifests), one on 127.0.0.2:1."""
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "one").write_text(
        library_file("http://127.0.0.1:1/a.git", "http://127.0.0.1:1/c.git")
    )
    (folder / "two").write_text(
        library_file("http://127.0.0.1:1/b.git", "http://127.0.0.1:1/c.git")
    )
    (folder / "three").write_text(library_file("http://127.0.0.2:1/d.git"))
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["check", "--verify-git", *HOSTS, *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_text_says_an_unreachable_host_once(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = run(capsys, str(library))
    assert code == 3
    assert err == ""
    warnings = [line for line in lines if "git-repo-unreachable" in line]
    # the first warning of each host, as it is (files in name order: one, three, two)
    assert warnings == [
        f"{library}/one:2: git-repo-unreachable warning: Could not verify against "
        "http://127.0.0.1:1/a.git: could not connect to http://127.0.0.1:1/a.git (after 4 "
        "attempts).",
        f"{library}/three:2: git-repo-unreachable warning: Could not verify against "
        "http://127.0.0.2:1/d.git: could not connect to http://127.0.0.2:1/d.git (after 4 "
        "attempts).",
    ]
    assert lines[-2:] == [
        "127.0.0.1:1 could not be reached (could not connect to 127.0.0.1:1 (after 4 "
        "attempts)): 3 repositories, 2 manifests unverified",
        # every problem is counted, the folded ones too
        "3 manifests checked: 0 valid, 0 invalid, 3 unverified (0 errors, 5 warnings)",
    ]


def test_github_annotations_fold_into_one_warning(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = run(capsys, "--format", "github", str(library))
    assert code == 3
    assert [line.split("::")[1] for line in lines[:-2]] == [
        f"warning file={library}/one,line=2,title=git-repo-unreachable",
        f"warning file={library}/three,line=2,title=git-repo-unreachable",
    ]
    assert lines[-2] == (
        "::warning title=git-repo-unreachable::127.0.0.1:1 could not be reached (could not "
        "connect to 127.0.0.1:1 (after 4 attempts)): 3 repositories, 2 manifests unverified"
    )


def test_json_keeps_every_problem(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, "--format", "json", str(library))
    assert code == 3
    document = json.loads("\n".join(lines))
    problems = {
        result["manifest"]: [(p["code"], p["line"]) for p in result["problems"]]
        for result in document["results"]
    }
    assert problems == {
        "one": [("git-repo-unreachable", 2), ("git-repo-unreachable", 11)],
        "two": [("git-repo-unreachable", 2), ("git-repo-unreachable", 11)],
        "three": [("git-repo-unreachable", 2)],
    }
    assert {result["status"] for result in document["results"]} == {"unverified"}
    assert "could not be reached" not in "\n".join(lines)


def test_only_the_verifiers_unreachable_sentence_is_folded() -> None:
    said = problem(
        "git-repo-unreachable",
        "Could not verify against https://github.com/a/b.git: could not resolve host github.com.",
    )
    assert unreachable_host(said) == (
        "github.com",
        "could not resolve host github.com",
        "https://github.com/a/b.git",
    )
    dockerfiles = problem(
        "git-repo-unreachable", "Dockerfiles could not be read (Dockerfile): timed out"
    )
    assert unreachable_host(dockerfiles) is None
    assert unreachable_host(problem("git-ref-not-found", said.message)) is None

    fold = UnreachableFold()
    result = SimpleNamespace(problems=[dockerfiles, said])
    assert fold.shown(result)[1] == []  # type: ignore[arg-type]
    assert fold.lines() == []


def _check_on_a_terminal(library: Path, stderr_is_a_terminal: bool) -> tuple[str, bytes]:
    """(stdout, what reached stderr) of `check --verify-git` in a child process whose stderr is
    a pseudo-terminal, or a pipe."""
    command = [sys.executable, "-m", "manifest_validation", "check", "--verify-git", *HOSTS]
    if not stderr_is_a_terminal:
        done = subprocess.run(
            [*command, str(library)], capture_output=True, text=True, timeout=120, check=False
        )
        return done.stdout, done.stderr.encode()
    leader, follower = os.openpty()
    with subprocess.Popen(
        [*command, str(library)], stdout=subprocess.PIPE, stderr=follower, text=True
    ) as child:
        os.close(follower)
        stdout, _ = child.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child's end is closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return stdout, seen


def test_progress_on_a_terminal_only(library: Path) -> None:
    stdout, seen = _check_on_a_terminal(library, stderr_is_a_terminal=True)
    text = seen.decode()
    assert "checking upstream: repositories 0/4" in text
    assert "checking upstream: repositories 4/4" in text
    # the line is wiped before the results are printed, and nothing else is on stderr
    assert text.endswith("\r" + " " * 79 + "\r")
    assert all(part.startswith("checking upstream: ") for part in text.strip("\r ").split("\r"))
    assert "checking upstream" not in stdout
    assert stdout.splitlines()[-1].startswith("3 manifests checked")

    stdout, seen = _check_on_a_terminal(library, stderr_is_a_terminal=False)
    assert seen == b""
    assert stdout.splitlines()[-1].startswith("3 manifests checked")


@pytest.mark.parametrize("output_format", ["text", "markdown"])
def test_review_says_an_unreachable_host_once_too(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    empty = tmp_path / "before"
    empty.mkdir()
    code = main(
        ["review", str(empty), str(library), "--verify-git", *HOSTS, "--format", output_format]
    )
    out = capsys.readouterr().out
    assert code == 3
    # the first warning of each host as it is, then one line for the rest of 127.0.0.1:1's
    assert out.count("git-repo-unreachable") == 2
    assert out.count("Could not verify against http://127.0.0.1:1/") == 1
    assert out.count("Could not verify against http://127.0.0.2:1/") == 1
    folded = "could not be reached (could not connect to 127.0.0.1:1 (after 4 attempts)): 3 "
    assert out.count(folded) == 1
    assert "2 manifests unverified" in out
    # the counts are those of every problem
    assert "3 unverified" in out and "5 warnings" in out
    # JSON keeps them all
    main(["review", str(empty), str(library), "--verify-git", *HOSTS, "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    problems = [p for image in document["images"] for p in image["manifest"]["problems"]]
    assert len(problems) == 5
