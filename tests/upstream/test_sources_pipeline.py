"""The publisher's document through the real pipeline: `manifest-validate sources` and
`check --verify-git --sources` against repositories served by real `git http-backend`
(contexts read in the same requests as the Dockerfiles; what bashbrew cannot archive
reported on the Directory line; exit codes; pins; a network failure)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, commit_all, run_git, serve_git
from manifest_validation.checks.contexts import context_findings, context_reads
from manifest_validation.cli.main import main
from manifest_validation.libraryfile.parse import parse
from manifest_validation.upstream import ContextRequest, ContextResult, ContextStatus, source_id

from .conftest import MakeVerifier
from .context_repos import ContextRepos, build_context_repos

PIN = "sha256:" + "c0" * 32
HEAD = "Maintainers: Jane Doe (@jane)\n"


@dataclass(frozen=True)
class Images:
    root: Path
    commit: str


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    root = tmp_path_factory.mktemp("images")
    work = root / "work"
    run_git("init", "-q", "-b", "master", work)
    files = {
        "base/Dockerfile": "FROM scratch\nADD rootfs.tar /\n",
        "child/Dockerfile": "FROM img:base AS build\nRUN make\nFROM img:base\n"
        "COPY --from=build /x /x\n",
        "win/Dockerfile": "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n",
        "rootfs/index.json": "{}\n",
    }
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    commit = commit_all(work, "images")
    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "images.git")
    return Images(served, commit)


@pytest.fixture(scope="module")
def images_server(images: Images) -> Iterator[GitServer]:
    with serve_git(images.root) as server:
        yield server


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> ContextRepos:
    return build_context_repos(tmp_path_factory)


@pytest.fixture(scope="module")
def contexts_server(contexts: ContextRepos) -> Iterator[GitServer]:
    with serve_git(contexts.root) as server:
        yield server


def manifest_text(url: str, commit: str) -> str:
    return (
        f"{HEAD}GitRepo: {url}\nGitCommit: {commit}\n"
        "\nTags: child\nArchitectures: amd64, arm64v8\nDirectory: child\n"
        "\nTags: base\nArchitectures: amd64, arm64v8\nDirectory: base\n"
        "\nTags: win\nArchitectures: windows-amd64\nDirectory: win\n"
        "Constraints: windowsservercore-ltsc2022\n"
        "\nTags: rootfs\nDirectory: rootfs\nBuilder: oci-import\nFile: index.json\n"
    )


def official_images(tmp_path: Path, files: dict[str, str], pins: bool = True) -> Path:
    library = tmp_path / "official-images" / "library"
    library.mkdir(parents=True)
    for name, text in files.items():
        (library / name).write_text(text)
    if pins:
        pin = tmp_path / "official-images" / ".external-pins" / "mcr.microsoft.com" / "windows"
        pin.mkdir(parents=True)
        (pin / "servercore___ltsc2022").write_text(PIN + "\n")
    return library


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    return code, out, captured.err


def test_sources_of_a_manifest_read_upstream(
    images: Images, images_server: GitServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = manifest_text(images_server.repo_url("images.git"), images.commit)
    library = official_images(tmp_path, {"img": text})
    code, document, err = run(
        capsys,
        "sources",
        "--insecure-host",
        images_server.host_port,
        "--library",
        str(library),
        str(library / "img"),
    )
    assert (code, err) == (0, "")
    by_tag = {
        next(iter(source["arches"].values()))["tags"][0]: (key, source)
        for key, source in document.items()
    }
    # build order: child (written first) after base, its parent; the rest in file order
    assert list(by_tag) == ["img:base", "img:win", "img:rootfs", "img:child"]
    for key, source in document.items():
        entry = source["entries"][0]
        assert (
            key
            == source["sourceId"]
            == source_id(source["reproducibleGitChecksum"], entry["File"], entry["Builder"])
        )
        assert entry["SOURCE_DATE_EPOCH"] == 1577836800  # the fixed date of git_env
    base_id, _ = by_tag["img:base"]
    child = by_tag["img:child"][1]["arches"]
    assert child["arm64v8"]["froms"] == ["img:base"] * 3
    assert child["arm64v8"]["parents"] == {"img:base": {"sourceId": base_id, "pin": None}}
    win = by_tag["img:win"][1]["arches"]["windows-amd64"]
    # the pin comes from .external-pins beside --library
    assert win["parents"] == {
        "mcr.microsoft.com/windows/servercore:ltsc2022": {"sourceId": None, "pin": PIN}
    }
    rootfs = by_tag["img:rootfs"][1]
    assert (rootfs["entries"][0]["Builder"], rootfs["entries"][0]["File"]) == (
        "oci-import",
        "index.json",
    )
    assert (rootfs["arches"]["amd64"]["froms"], rootfs["arches"]["amd64"]["lastStageFrom"]) == (
        ["scratch"],
        "scratch",
    )
    # --tab: jq --tab's text
    code = main(["sources", "--tab", "--insecure-host", images_server.host_port, "--library",
                 str(library), str(library / "img")])  # fmt: skip
    assert capsys.readouterr().out == json.dumps(document, indent="\t") + "\n"


def test_pins_by_option_and_without(
    images: Images, images_server: GitServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = manifest_text(images_server.repo_url("images.git"), images.commit)
    library = official_images(tmp_path, {"img": text}, pins=False)
    host = ["--insecure-host", images_server.host_port]
    code, document, err = run(capsys, "sources", *host, str(library / "img"))
    assert code == 0 and "every parent's pin is null" in err
    pins = [p["pin"] for s in document.values() for a in s["arches"].values()
            for p in (a["parents"] or {}).values()]  # fmt: skip
    assert pins and set(pins) == {None}
    code, _, err = run(capsys, "sources", *host, "--external-pins", str(tmp_path / "no"), "x")
    assert code == 2 and "--external-pins" in err
    pinned = tmp_path / "pins" / "mcr.microsoft.com" / "windows"
    pinned.mkdir(parents=True)
    (pinned / "servercore___ltsc2022").write_text(PIN)
    code, document, _ = run(
        capsys, "sources", *host, "--external-pins", str(tmp_path / "pins"), str(library / "img")
    )
    assert code == 0 and PIN in json.dumps(document)


def test_a_file_left_out_and_an_unreachable_repository(
    images: Images, images_server: GitServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = images_server.repo_url("images.git")
    good = f"{HEAD}GitRepo: {url}\nGitCommit: {images.commit}\n\nTags: 1\nDirectory: base\n"
    missing = good.replace("Directory: base", "Directory: nowhere")
    library = official_images(tmp_path, {"good": good, "missing": missing})
    host = ["--insecure-host", images_server.host_port]
    code, document, err = run(
        capsys, "sources", *host, str(library / "good"), str(library / "missing")
    )
    # bashbrew cannot read what `missing` builds: left out, its problem on stderr
    assert code == 1 and "dockerfile-not-found" in err
    assert [s["arches"]["amd64"]["tags"] for s in document.values()] == [["good:1"]]
    # nothing listens on this port: the repository is unreachable, the heavy fields null
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = good.replace(url, f"http://127.0.0.1:{port}/images.git")
    (library / "down").write_text(down)
    code, document, err = run(
        capsys, "sources", "--insecure-host", f"127.0.0.1:{port}", str(library / "down")
    )
    assert code == 3 and "git-repo-unreachable" in err
    ((key, source),) = document.items()
    assert key.startswith("provisional:")
    assert (source["sourceId"], source["reproducibleGitChecksum"]) == (None, None)
    assert source["entries"][0]["SOURCE_DATE_EPOCH"] is None
    assert source["arches"]["amd64"]["froms"] == []


def test_check_json_carries_sources_only_when_asked(
    images: Images, images_server: GitServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = manifest_text(images_server.repo_url("images.git"), images.commit)
    library = official_images(tmp_path, {"img": text})
    verify = ["--verify-git", "--insecure-host", images_server.host_port]
    code, plain, _ = run(capsys, "check", "--format", "json", *verify, str(library / "img"))
    code_with, full, _ = run(
        capsys, "check", "--format", "json", "--sources", *verify, str(library / "img")
    )
    assert (code, code_with) == (0, 0)
    assert "sources" not in plain["results"][0]
    assert len(full["results"][0]["sources"]) == 4
    assert all(key == s["sourceId"] for key, s in full["results"][0]["sources"].items())
    code, _, err = run(capsys, "check", "--sources", str(library / "img"))
    assert code == 2 and "--sources needs --format json" in err


def test_what_bashbrew_cannot_archive_is_an_error_on_the_directory_line(
    contexts: ContextRepos, contexts_server: GitServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    url = contexts_server.repo_url("contexts.git")
    text = (
        f"{HEAD}GitRepo: {url}\nGitCommit: {contexts.c1}\n"  # 1-3
        "\nTags: app\nDirectory: app\n"  # 5-6
        "\nTags: withsub\nDirectory: withsub\n"  # 8-9
        "\nTags: legacy\nDirectory: legacy\nFile: ../app/Dockerfile\n"  # 11-13
        "\nTags: emptylink\nArchitectures: amd64, arm64v8\nDirectory: emptylink\n"  # 15-17
        "File: ../app/Dockerfile\n"  # 18
        "\nTags: nowhere\nDirectory: nowhere\nFile: ../app/Dockerfile\n"  # 20-22
        "\nTags: missing\nDirectory: missing\n"  # 24-25
    )
    path = tmp_path / "ctx"
    path.write_text(text)
    code, document, _ = run(capsys, "check", "--format", "json", "--verify-git",
                            "--insecure-host", contexts_server.host_port, str(path))  # fmt: skip
    assert code == 1
    found = [(p["code"], p["line"], p["field"]) for p in document["results"][0]["problems"]]
    assert found == [
        ("context-submodule", 9, "Directory"),
        ("context-unsupported", 12, "Directory"),
        ("context-unsupported", 17, "Directory"),
        ("dockerfile-not-found", 21, "Directory"),  # the context: its Dockerfile is elsewhere
        ("dockerfile-not-found", 25, "Directory"),  # once: the Dockerfile's read says it
    ]
    messages = [p["message"] for p in document["results"][0]["problems"]]
    assert "withsub/vendor/mod" in messages[0] and "[amd64]" in messages[0]
    assert "[amd64, arm64v8]" in messages[2]
    assert "build context nowhere" in messages[3]


def test_context_findings_group_and_say_what_is_unknown(make_verifier: MakeVerifier) -> None:
    manifest = parse(
        "img",
        HEAD + "GitRepo: https://example.com/r.git\nGitCommit: " + "1" * 40 + "\n"
        "\nTags: a\nArchitectures: amd64, s390x\nDirectory: big\n"
        "\nTags: b\nDirectory: other\n",
    )
    reads = context_reads(manifest)
    big, other = list(reads)
    assert (big.directory, other.directory) == ("big", "other")
    results = {
        big: ContextResult(ContextStatus.TOO_LARGE, source_date_epoch=7, detail="Too big."),
        other: ContextResult(ContextStatus.UNREACHABLE, detail="Timed out."),
    }
    findings = context_findings(reads, results)
    assert [(p.code, p.line, p.severity.value) for p in findings.problems] == [
        ("context-too-large", 7, "warning"),
        ("git-repo-unreachable", 2, "warning"),
    ]
    assert "[amd64, s390x]" in findings.problems[0].message
    assert "not computed" in findings.problems[0].message
    # the commit's time is known even when the context is not read whole
    assert findings.results[1]["s390x"].source_date_epoch == 7
    assert ContextRequest("https://example.com/r.git", "1" * 40, "big") == big
