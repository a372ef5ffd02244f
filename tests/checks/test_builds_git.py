"""`check --verify-git [--library DIR]` reads real Dockerfiles from real repositories served by
`git http-backend` on 127.0.0.1 and checks what each entry builds FROM."""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, GitServers, commit_all, run_git
from manifest_validation.checks.schema import result_validator
from manifest_validation.cli.main import main
from paths import beside

pytestmark = pytest.mark.slow  # real git servers and repositories built for the module

DOCKERFILES = {
    # multi-stage, ARG in FROM, COPY --from a stage and from an image
    "multi/Dockerfile": "ARG GO=1.22\n"
    "FROM golang:${GO}-bookworm AS build\n"
    "RUN go build -o /app .\n"
    "\n"
    "FROM debian:bookworm-slim\n"
    "COPY --from=build /app /usr/local/bin/app\n"
    "COPY --from=busybox:stable /bin/busybox /bin/busybox\n",
    "arg/Dockerfile": "ARG SUITE=bookworm\nARG VARIANT\n"
    "FROM debian:${SUITE}${VARIANT:+-$VARIANT}\n",
    "windows/servercore/Dockerfile": "# escape=`\n"
    "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
    "RUN powershell -Command `\n    Write-Host hello\n",
    "bad/Dockerfile": "FROM debian:${SUITE}\n",
    "vendor/Dockerfile": "FROM someone/base:1\n",
    "old/Dockerfile": "FROM debian:sid\n",
    "winlatest/Dockerfile": "FROM mcr.microsoft.com/windows/nanoserver\n",
    "scratch/Dockerfile": "FROM scratch\nADD rootfs.tar.gz /\n",
}
# the other official images (the library DIR): bookworm-slim lacks arm64v8
LIBRARY_FILES = {
    "debian": "Maintainers: Deb (@deb)\nGitRepo: https://example.invalid/debian.git\n"
    "GitCommit: " + "1" * 40 + "\n\n"
    "Tags: bookworm, latest\nArchitectures: amd64, arm64v8\n\n"
    "Tags: bookworm-slim\nArchitectures: amd64\n",
    "golang": "Maintainers: Go (@go)\nGitRepo: https://example.invalid/golang.git\n"
    "GitCommit: " + "1" * 40 + "\n\n"
    "Tags: 1.22-bookworm, 1.22\nArchitectures: amd64, arm64v8\n",
    "busybox": "Maintainers: Bb (@bb)\nGitRepo: https://example.invalid/busybox.git\n"
    "GitCommit: " + "1" * 40 + "\n\n"
    "Tags: stable\nArchitectures: amd64, arm64v8\n",
}


@dataclass(frozen=True)
class Upstream:
    root: Path
    commit: str
    library: Path


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    root = tmp_path_factory.mktemp("builds")
    work = root / "work"
    run_git("init", "-q", "-b", "master", work)
    for path, text in DOCKERFILES.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    # a repository of realistic shape: other files beside the Dockerfiles
    for number in range(40):
        (work / "docs" / f"page{number}.md").parent.mkdir(exist_ok=True)
        (work / "docs" / f"page{number}.md").write_text(f"page {number}\n" * 50)
    commit = commit_all(work, "images")
    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "app.git")
    library = root / "library"
    library.mkdir()
    for name, text in LIBRARY_FILES.items():
        (library / name).write_text(text)
    return Upstream(served, commit, library)


@pytest.fixture(scope="module")
def server(upstream: Upstream, module_git_server: GitServers) -> GitServer:
    return module_git_server(upstream.root)


@pytest.fixture(scope="module")
def server_nofilter(upstream: Upstream, module_git_server: GitServers) -> GitServer:
    return module_git_server(upstream.root, "v2-nofilter")


@pytest.fixture(scope="module")
def server_flaky(upstream: Upstream, module_git_server: GitServers) -> GitServer:
    return module_git_server(upstream.root, fail_every=3)


def good_manifest(url: str, commit: str) -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"  # 1
        f"GitRepo: {url}\n"  # 2
        f"GitCommit: {commit}\n"  # 3
        "\n"
        "Tags: 1.0, 1\n"  # 5
        "Architectures: amd64\n"  # 6
        "Directory: multi\n"  # 7
        "\n"
        "Tags: 1.0-arg\n"  # 9
        "Architectures: amd64, arm64v8\n"  # 10
        "Directory: arg\n"  # 11
        "\n"
        "Tags: 1.0-windowsservercore-ltsc2022\n"  # 13
        "Architectures: windows-amd64\n"  # 14
        "Directory: windows/servercore\n"  # 15
        "Constraints: windowsservercore-ltsc2022\n"  # 16
        "\n"
        "Tags: 1.0-scratch\n"  # 18
        "Directory: scratch\n"  # 19
    )


def bad_manifest(url: str, commit: str) -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"  # 1
        f"GitRepo: {url}\n"  # 2
        f"GitCommit: {commit}\n"  # 3
        "\n"
        "Tags: win\n"  # 5
        "Architectures: windows-amd64\n"  # 6
        "Directory: windows/servercore\n"  # 7
        "\n"
        "Tags: arm\n"  # 9
        "Architectures: amd64, arm64v8\n"  # 10
        "Directory: multi\n"  # 11
        "\n"
        "Tags: missing\n"  # 13
        "Directory: nowhere\n"  # 14
        "\n"
        "Tags: bad\n"  # 16
        "Directory: bad\n"  # 17
        "\n"
        "Tags: vendor\n"  # 19
        "Directory: vendor\n"  # 20
        "\n"
        "Tags: old\n"  # 22
        "Directory: old\n"  # 23
        "\n"
        "Tags: nano\n"  # 25
        "Architectures: windows-amd64\n"  # 26
        "Directory: winlatest\n"  # 27
        "Constraints: nanoserver\n"  # 28
        "\n"
        "Tags: misfile\n"  # 30
        "Directory: arg\n"  # 31
        "File: Dockerfile.nope\n"  # 32
        "\n"
        "Tags: extra\n"  # 34
        "Directory: scratch\n"  # 35
        "Constraints: !aufs, windowsservercore-ltsc2022\n"  # 36
    )


def check(
    tmp_path: Path, text: str, *extra: str, output: str = "json"
) -> tuple[int, str, dict[str, Any]]:
    path = tmp_path / "app"
    path.write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        sources = ["--sources"] if output == "json" else []
        code = main(["check", "--format", output, *sources, "--verify-git", *extra, str(path)])
    document = json.loads(out.getvalue()) if output == "json" else {}
    for message in document.get("results", []):
        assert [e.message for e in result_validator().iter_errors(message)] == []
    return code, out.getvalue(), document


def problems(document: dict[str, Any]) -> list[tuple[str, int | None, str | None]]:
    return [(p["code"], p["line"], p["field"]) for p in document["results"][0]["problems"]]


def froms(document: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """The first tag of each source -> architecture -> its `froms` (bashbrew's)."""
    found: dict[str, dict[str, list[str]]] = {}
    for source in document["results"][0]["sources"].values():
        for arch, value in source["arches"].items():
            found.setdefault(value["tags"][0], {})[arch] = value["froms"]
    return found


EXPECTED_FROMS = {
    # bashbrew's froms: every use, the COPY --from of the build stage as the stage's image
    "app:1.0": {
        "amd64": [
            "golang:1.22-bookworm",
            "debian:bookworm-slim",
            "golang:1.22-bookworm",
            "busybox:stable",
        ]
    },
    "app:1.0-arg": {"amd64": ["debian:bookworm"], "arm64v8": ["debian:bookworm"]},
    "app:1.0-windowsservercore-ltsc2022": {
        "windows-amd64": ["mcr.microsoft.com/windows/servercore:ltsc2022"]
    },
    "app:1.0-scratch": {"amd64": ["scratch"]},
}


def test_every_parent_fine_exits_0_with_froms(
    upstream: Upstream, server: GitServer, tmp_path: Path
) -> None:
    text = good_manifest(server.repo_url("app.git"), upstream.commit)
    server.reset_counters()
    code, _, document = check(
        tmp_path, text, "--library", str(upstream.library), "--insecure-host", server.host_port
    )
    assert (code, problems(document)) == (0, [])
    assert document["results"][0]["schema_version"] == "2.0"
    assert froms(document) == EXPECTED_FROMS
    # every context was read in the same requests: each source has its checksum and time
    for key, source in document["results"][0]["sources"].items():
        assert key == source["sourceId"] and source["reproducibleGitChecksum"]
        assert source["entries"][0]["SOURCE_DATE_EPOCH"] == 1577836800  # git_env's date
    # git checks (advertisement, ls-refs, one negotiation at most) + one tree fetch + one blob
    # fetch: every Dockerfile of the manifest is read with at most 3 requests
    assert server.requests <= 6


def test_each_rule_at_its_line(upstream: Upstream, server: GitServer, tmp_path: Path) -> None:
    text = bad_manifest(server.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path, text, "--library", str(upstream.library), "--insecure-host", server.host_port
    )
    assert code == 1
    assert problems(document) == [
        ("constraints-missing", 5, "Tags"),
        ("from-arch-unsupported", 10, "Architectures"),
        ("dockerfile-not-found", 14, "Directory"),
        ("dockerfile-unparseable", 17, "Directory"),
        ("from-not-official", 19, "Tags"),
        ("from-tag-unknown", 22, "Tags"),
        ("from-windows-latest", 25, "Tags"),
        ("dockerfile-not-found", 32, "File"),
        ("constraints-extra", 36, "Constraints"),  # !aufs is tolerated on scratch
    ]
    by_line = {p["line"]: p["message"] for p in document["results"][0]["problems"]}
    assert "windowsservercore-ltsc2022" in by_line[5] and "windows-amd64" in by_line[5]
    assert "debian:bookworm-slim" in by_line[10] and by_line[10].endswith("not built for arm64v8")
    assert "multi/Dockerfile" in by_line[10]
    assert "nowhere/Dockerfile" in by_line[14] and "has no 'nowhere'" in by_line[14]
    assert "arg/Dockerfile.nope" in by_line[32] and "has no 'Dockerfile.nope'" in by_line[32]
    assert "bad/Dockerfile:1" in by_line[17] and "$SUITE" in by_line[17]
    assert "someone/base:1" in by_line[19]
    assert "windowsservercore-ltsc2022" in by_line[36] and "!aufs" not in by_line[36]


def test_without_library_a_note_and_still_valid(
    upstream: Upstream, server: GitServer, tmp_path: Path
) -> None:
    text = good_manifest(server.repo_url("app.git"), upstream.commit)
    code, out, _ = check(tmp_path, text, "--insecure-host", server.host_port, output="text")
    assert code == 0
    assert "parent-checks-skipped info:" in out
    assert "busybox:stable, debian:bookworm, debian:bookworm-slim, golang:1.22-bookworm" in out
    assert out.rstrip().endswith(
        "1 manifest checked: 1 valid, 0 invalid (0 errors, 0 warnings, 1 note)"
    )
    code, out, _ = check(tmp_path, text, "--insecure-host", server.host_port, output="github")
    assert code == 0
    assert "::notice file=" in out and "title=parent-checks-skipped::" in out
    code, _, document = check(tmp_path, text, "--insecure-host", server.host_port)
    assert document["results"][0]["summary"] == {
        "entries": 4,
        "errors": 0,
        "warnings": 0,
        "notes": 1,
    }
    assert document["summary"]["notes"] == 1


def test_a_server_without_filter_support(
    upstream: Upstream, server_nofilter: GitServer, tmp_path: Path
) -> None:
    text = good_manifest(server_nofilter.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        server_nofilter.host_port,
    )
    assert (code, problems(document)) == (0, [])
    assert froms(document) == EXPECTED_FROMS


def test_a_flaky_server(upstream: Upstream, server_flaky: GitServer, tmp_path: Path) -> None:
    text = bad_manifest(server_flaky.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        server_flaky.host_port,
    )
    # every third request fails with 503: retries still get every answer
    assert code == 1
    assert [c for c, _, _ in problems(document)].count("dockerfile-not-found") == 2
    assert "git-repo-unreachable" not in [c for c, _, _ in problems(document)]


def test_dockerfiles_that_cannot_be_read_make_it_unverified_never_invalid(
    upstream: Upstream, tmp_path: Path, git_server: GitServers
) -> None:
    # the git checks pass; every shallow fetch (how files are read) fails, retries too
    srv = git_server(upstream.root, fail_when_body_has=b"deepen")
    text = bad_manifest(srv.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path, text, "--library", str(upstream.library), "--insecure-host", srv.host_port
    )
    result = document["results"][0]
    assert (code, result["status"]) == (3, "unverified")
    assert problems(document) == [("git-repo-unreachable", 2, "GitRepo")]
    (only,) = result["problems"]
    assert only["severity"] == "warning" and "Dockerfiles could not be read" in only["message"]
    assert "nowhere/Dockerfile" in only["message"]  # a missing file is not claimed missing
    # the sources of an unverified manifest are kept, but nothing was read upstream: the
    # heavy fields are null, the keys provisional
    sources = result["sources"]
    assert sources and all(key.startswith("provisional:") for key in sources)
    assert all(
        s["sourceId"] is None and s["reproducibleGitChecksum"] is None for s in sources.values()
    )
    arches = [a for source in sources.values() for a in source["arches"].values()]
    assert arches and all(a["froms"] == [] and a["lastStageFrom"] is None for a in arches)


def test_a_missing_commit_is_reported_once_by_the_git_checks(
    server: GitServer, upstream: Upstream, tmp_path: Path
) -> None:
    text = good_manifest(server.repo_url("app.git"), "0" * 40)
    code, _, document = check(
        tmp_path, text, "--library", str(upstream.library), "--insecure-host", server.host_port
    )
    assert code == 1
    assert {c for c, _, _ in problems(document)} == {"git-commit-not-found"}


def test_a_checked_file_takes_precedence_over_the_library_copy(
    upstream: Upstream, server: GitServer, tmp_path: Path
) -> None:
    # the library's debian lacks arm64v8 for bookworm-slim; the pull request adds it
    url = server.repo_url("app.git")
    text = good_manifest(url, upstream.commit).replace("Architectures: amd64\n", "", 1)
    text = text.replace("Tags: 1.0, 1\n", "Tags: 1.0, 1\nArchitectures: amd64, arm64v8\n")
    debian = LIBRARY_FILES["debian"].replace(
        "Tags: bookworm-slim\nArchitectures: amd64\n",
        "Tags: bookworm-slim\nArchitectures: amd64, arm64v8\n",
    )
    # checked too: let it build from the local server (no other host may be contacted)
    debian = debian.replace("https://example.invalid/debian.git", url)
    debian = debian.replace("1" * 40, upstream.commit + "\nDirectory: scratch")
    (tmp_path / "debian").write_text(debian)
    (tmp_path / "app").write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "check",
                "--verify-git",
                "--library",
                str(upstream.library),
                "--insecure-host",
                server.host_port,
                str(tmp_path / "app"),
                str(tmp_path / "debian"),
            ]
        )
    assert code == 0, out.getvalue()


def test_library_needs_verify_git(upstream: Upstream, tmp_path: Path) -> None:
    (tmp_path / "app").write_text("Maintainers: A (@a)\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["check", "--library", str(upstream.library), str(tmp_path / "app")])
    assert code == 2
    assert "--library needs --verify-git" in err.getvalue()
    with contextlib.redirect_stderr(err):
        code = main(["check", "--verify-git", "--library", str(tmp_path / "no"), str(tmp_path)])
    assert code == 2


# --- a small real-looking library on top of the corpus' debian and alpine ---------------------


def test_corpus_library(tmp_path: Path, git_server: GitServers, library_dir: Path) -> None:
    for name in ("debian", "alpine"):
        beside(library_dir / name, "the official-images corpus")
    work = tmp_path / "work"
    run_git("init", "-q", "-b", "master", work)
    dockerfiles = {
        "runtime/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update\n",
        "runtime/alpine/Dockerfile": "FROM alpine:3.23\nRUN apk add --no-cache ca-certificates\n",
        "sdk/Dockerfile": "ARG BASE=myruntime:1-bookworm\nFROM ${BASE}\nRUN make install\n",
        "tool/Dockerfile": "FROM mysdk:1 AS build\nRUN make\nFROM myruntime:1-alpine\n"
        "COPY --from=build /usr/local/bin/tool /usr/local/bin/\n",
    }
    for path, text in dockerfiles.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    commit = commit_all(work, "images")
    served = tmp_path / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "images.git")
    checked = tmp_path / "checked"
    checked.mkdir()
    server = git_server(served)
    url = server.repo_url("images.git")
    head = f"Maintainers: Jane Doe (@jane)\nGitRepo: {url}\nGitCommit: {commit}\n"
    (checked / "myruntime").write_text(
        head + "\nTags: 1-bookworm, 1\nArchitectures: amd64, arm64v8, s390x\n"
        "Directory: runtime\n\nTags: 1-alpine\nArchitectures: amd64, arm64v8\n"
        "Directory: runtime/alpine\n"
    )
    (checked / "mysdk").write_text(
        head + "\nTags: 1\nArchitectures: amd64, arm64v8\nDirectory: sdk\n"
    )
    (checked / "mytool").write_text(
        head + "\nTags: 1\nArchitectures: amd64, arm64v8\nDirectory: tool\n"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "check",
                "--format",
                "json",
                "--sources",
                "--verify-git",
                "--library",
                str(library_dir),
                "--insecure-host",
                server.host_port,
                str(checked),
            ]
        )
    document = json.loads(out.getvalue())
    by_name = {result["manifest"]: result for result in document["results"]}
    # debian:bookworm-slim is not built for s390x in the corpus
    assert [(p["code"], p["line"]) for p in by_name["myruntime"]["problems"]] == [
        ("from-arch-unsupported", 6)
    ]
    assert "not built for s390x" in by_name["myruntime"]["problems"][0]["message"]
    assert by_name["mysdk"]["status"] == "valid"
    assert by_name["mytool"]["status"] == "valid"
    ((sdk_id, sdk_source),) = by_name["mysdk"]["sources"].items()
    ((_, tool_source),) = by_name["mytool"]["sources"].items()
    tool = tool_source["arches"]["arm64v8"]
    assert tool["froms"] == ["mysdk:1", "myruntime:1-alpine", "mysdk:1"]
    assert tool["lastStageFrom"] == "myruntime:1-alpine"
    # parents among the manifests checked together: myruntime is invalid for a review rule
    # (s390x), which does not stop the publisher: it is in the document (so its sourceId is
    # its child's parent), but its own message, invalid, carries no sources
    runtime_id = tool["parents"]["myruntime:1-alpine"]["sourceId"]
    assert tool["parents"] == {
        "mysdk:1": {"sourceId": sdk_id, "pin": None},
        "myruntime:1-alpine": {"sourceId": runtime_id, "pin": None},
    }
    assert re.fullmatch("[0-9a-f]{64}", runtime_id) and runtime_id != sdk_id
    assert sdk_source["arches"]["amd64"]["froms"] == ["myruntime:1-bookworm"]
    assert "sources" not in by_name["myruntime"]
    assert code == 1
