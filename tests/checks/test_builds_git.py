"""`check --verify-git [--library DIR]` reads real Dockerfiles from real repositories served by
`git http-backend` on 127.0.0.1 and checks what each entry builds FROM."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, GitServers, commit_all, run_git
from manifest_validation.checks.schema import result_validator
from manifest_validation.cli.main import main
from paths import beside
from upstream.registry_server import (
    Registry,
    free_port,
    registry_binary,
    run_proxy,
    run_registry,
)

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
    "winscratch/Dockerfile": "FROM scratch\nCOPY hello.exe /\n",
    "pinned/Dockerfile": "FROM vendor/base:1 AS build\nRUN make\nFROM ubuntu:noble\n"
    "COPY --from=build /app /app\n",
    "gone/Dockerfile": "FROM vendor/gone:1\n",
    "rolling/Dockerfile": "FROM ubuntu:rolling\n",
}
# the other official images (the library DIR): bookworm-slim lacks arm64v8; ubuntu's tags as
# today's library has them (26.04 is `latest`)
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
    "ubuntu": "Maintainers: Ubuntu (@ubuntu)\nGitRepo: https://example.invalid/ubuntu.git\n"
    "GitCommit: " + "1" * 40 + "\nArchitectures: amd64, arm64v8, riscv64\n\n"
    "Tags: 24.04, noble-20260810, noble\n\n"
    "Tags: 26.04, resolute-20260811.1, resolute, latest, rolling\n",
}
# not in the registry: a digest nobody pushed
GONE_DIGEST = "sha256:" + "0d" * 32


@dataclass(frozen=True)
class Pinned:
    """Images pushed to a real registry on 127.0.0.1, standing in for their registries."""

    registry: Registry
    servercore: str  # windows/servercore index: windows-amd64
    nanoserver: str  # windows/nanoserver index: windows-amd64
    vendor: str  # vendor/base index: amd64, arm64v8

    @property
    def args(self) -> tuple[str, ...]:
        """What points the registry client at it: mirrors for the registries the pinned
        references name (no request leaves 127.0.0.1), and the host allowed plain http."""
        url = self.registry.url
        return (
            "--registry-mirror",
            f"mcr.microsoft.com={url}",
            "--registry-mirror",
            f"docker.io={url}",
            "--insecure-host",
            self.registry.host_port,
        )


def _index(registry: Registry, name: str, *platforms: tuple[str, str, str | None]) -> str:
    entries = []
    for os_name, arch, variant in platforms:
        digest, size, _ = registry.push_image(name, os_name, arch, variant)
        platform = {"os": os_name, "architecture": arch}
        if variant:
            platform["variant"] = variant
        entries.append((digest, size, platform))
    return registry.push_index(name, entries)[0]


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pinned]:
    if registry_binary() is None:
        pytest.skip("docker-registry is not installed (Debian package docker-registry)")
    with run_registry(tmp_path_factory.mktemp("registry")) as registry:
        yield Pinned(
            registry,
            _index(registry, "windows/servercore", ("windows", "amd64", None)),
            _index(registry, "windows/nanoserver", ("windows", "amd64", None)),
            _index(registry, "vendor/base", ("linux", "amd64", None), ("linux", "arm64", "v8")),
        )


@dataclass(frozen=True)
class Upstream:
    root: Path
    commit: str
    library: Path
    pinned: Pinned


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, pinned: Pinned) -> Upstream:
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
    # .external-pins beside library/, as in official-images: the real digests pushed above
    pins = {
        "mcr.microsoft.com/windows/servercore___ltsc2022": pinned.servercore,
        "mcr.microsoft.com/windows/nanoserver___ltsc2022": pinned.nanoserver,
        "vendor/base___1": pinned.vendor,
        "vendor/gone___1": GONE_DIGEST,
    }
    for path, digest in pins.items():
        (root / ".external-pins" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / ".external-pins" / path).write_text(digest + "\n")
    return Upstream(served, commit, library, pinned)


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
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        server.host_port,
        *upstream.pinned.args,
    )
    assert (code, problems(document)) == (0, [])
    assert document["results"][0]["schema_version"] == "2.0"
    assert froms(document) == EXPECTED_FROMS
    # every context was read in the same requests: each source has its checksum and time
    for key, source in document["results"][0]["sources"].items():
        assert key == source["sourceId"] and source["reproducibleGitChecksum"]
        assert source["entries"][0]["SOURCE_DATE_EPOCH"] == 1577836800  # git_env's date
    # git checks (advertisement, ls-refs, one negotiation at most) + one tree fetch + one blob
    # fetch: every Dockerfile of the manifest is read with at most 3 requests; the history
    # (unpleasant commits): an advertisement and one blob:none fetch of commits and trees
    assert server.requests <= 8


def test_each_rule_at_its_line(upstream: Upstream, server: GitServer, tmp_path: Path) -> None:
    text = bad_manifest(server.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        server.host_port,
        *upstream.pinned.args,
    )
    assert code == 1
    assert problems(document) == [
        ("constraints-missing", 5, "Tags"),
        ("from-arch-unsupported", 10, "Architectures"),
        ("dockerfile-not-found", 14, "Directory"),
        ("dockerfile-unparseable", 17, "Directory"),
        ("from-not-official", 19, "Tags"),
        ("from-tag-unknown", 22, "Tags"),
        # CI's scripts of 2026-08-21: a Windows `latest` tag is no special case any more,
        # only an external image .external-pins does not pin (from-windows-latest retired)
        ("from-not-official", 25, "Tags"),
        ("dockerfile-not-found", 32, "File"),
        # and naughty-constraints.sh no longer tolerates `!aufs` on images FROM scratch
        ("constraints-extra", 36, "Constraints"),
    ]
    by_line = {p["line"]: p["message"] for p in document["results"][0]["problems"]}
    assert "windowsservercore-ltsc2022" in by_line[5] and "windows-amd64" in by_line[5]
    assert "debian:bookworm-slim" in by_line[10] and by_line[10].endswith("not built for arm64v8")
    assert "multi/Dockerfile" in by_line[10]
    assert "nowhere/Dockerfile" in by_line[14] and "has no 'nowhere'" in by_line[14]
    assert "arg/Dockerfile.nope" in by_line[32] and "has no 'Dockerfile.nope'" in by_line[32]
    assert "bad/Dockerfile:1" in by_line[17] and "$SUITE" in by_line[17]
    assert by_line[19] == (
        "vendor/Dockerfile [amd64] builds FROM someone/base:1, an external image that "
        ".external-pins does not pin (no .external-pins/someone/base___1)"
    )
    assert by_line[25] == (
        "winlatest/Dockerfile [windows-amd64] builds FROM "
        "mcr.microsoft.com/windows/nanoserver:latest, an external image that .external-pins "
        "does not pin (no .external-pins/mcr.microsoft.com/windows/nanoserver___latest)"
    )
    assert by_line[36] == (
        "Constraints !aufs, windowsservercore-ltsc2022 implied by no parent "
        "(FROM scratch; scratch/Dockerfile [amd64])"
    )


def naughty_manifest(url: str, commit: str) -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"  # 1
        f"GitRepo: {url}\n"  # 2
        f"GitCommit: {commit}\n"  # 3
        "\n"
        "Tags: winscratch\n"  # 5
        "Architectures: amd64, windows-amd64\n"  # 6
        "Directory: winscratch\n"  # 7
        "\n"
        "Tags: pinned\n"  # 9
        "Architectures: amd64, arm64v8, riscv64, s390x\n"  # 10
        "Directory: pinned\n"  # 11
        "\n"
        "Tags: gone\n"  # 13
        "Architectures: amd64, arm64v8\n"  # 14
        "Directory: gone\n"  # 15
        "\n"
        "Tags: rolling\n"  # 17
        "Architectures: amd64, riscv64\n"  # 18
        "Directory: rolling\n"  # 19
    )


def test_the_parent_rules_of_2026_at_their_lines(
    upstream: Upstream, server: GitServer, tmp_path: Path
) -> None:
    """Scratch on Windows, a pinned digest (pushed to a real registry) that serves some of the
    architectures, a pinned digest its registry does not have, riscv64 on an Ubuntu the
    library resolves to 26.04: the exact code, line and message of each."""
    pinned = upstream.pinned
    text = naughty_manifest(server.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        server.host_port,
        *pinned.args,
    )
    assert code == 1
    found = [
        (p["code"], p["line"], p["field"], p["message"]) for p in document["results"][0]["problems"]
    ]
    assert found == [
        (
            "from-scratch-on-windows",
            6,
            "Architectures",
            "winscratch/Dockerfile builds FROM scratch on windows-amd64: a Windows image cannot "
            "be built FROM scratch",
        ),
        (
            "from-arch-unsupported",
            10,
            "Architectures",
            "pinned/Dockerfile builds FROM ubuntu:noble, which is not built for s390x",
        ),
        (
            "from-arch-unsupported",
            10,
            "Architectures",
            f"pinned/Dockerfile builds FROM vendor/base:1, pinned to {pinned.vendor}, which "
            "serves amd64, arm64v8 but not riscv64, s390x",
        ),
        (
            "from-arch-unsupported",
            14,
            "Architectures",
            f"gone/Dockerfile builds FROM vendor/gone:1, pinned to {GONE_DIGEST}: docker.io/"
            f"vendor/gone (mirror {pinned.registry.url}) has no {GONE_DIGEST} (MANIFEST_UNKNOWN), "
            "so it serves none of amd64, arm64v8",
        ),
        (
            "from-ubuntu-riscv64",
            18,
            "Architectures",
            "rolling/Dockerfile builds FROM ubuntu:rolling (bashbrew list --uniq: ubuntu:26.04) "
            "on riscv64: DOI cannot support riscv64 on Ubuntu 25.10+ since it uses RVA23 and "
            "hardware does not exist yet",
        ),
    ]


def test_an_unreachable_registry_makes_it_unverified_naming_the_image(
    upstream: Upstream, server: GitServer, tmp_path: Path
) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    text = good_manifest(server.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        server.host_port,
        "--insecure-host",
        closed,
        "--registry-mirror",
        f"mcr.microsoft.com=http://{closed}",
    )
    result = document["results"][0]
    assert (code, result["status"]) == (3, "unverified")
    (only,) = result["problems"]
    assert (only["code"], only["severity"], only["line"], only["field"]) == (
        "registry-unreachable",
        "warning",
        13,
        "Tags",
    )
    assert only["message"].startswith(
        "mcr.microsoft.com/windows/servercore:ltsc2022 (pinned to "
        f"{upstream.pinned.servercore}) could not be checked for windows/servercore/Dockerfile "
        f"[windows-amd64]: Could not ask mcr.microsoft.com/windows/servercore (mirror "
        f"http://{closed}): "
    )


def test_a_mirror_serving_other_bytes_for_the_pinned_digest(
    upstream: Upstream, server: GitServer, tmp_path: Path
) -> None:
    pinned = upstream.pinned
    with run_proxy(pinned.registry.url) as proxy:
        path = f"/v2/windows/servercore/manifests/{pinned.servercore}"
        proxy.substitute[path] = b'{"schemaVersion": 2, "manifests": []}'
        text = good_manifest(server.repo_url("app.git"), upstream.commit)
        code, _, document = check(
            tmp_path,
            text,
            "--library",
            str(upstream.library),
            "--insecure-host",
            server.host_port,
            "--insecure-host",
            proxy.host_port,
            "--registry-mirror",
            f"mcr.microsoft.com={proxy.url}",
        )
    result = document["results"][0]
    assert (code, result["status"]) == (1, "invalid")
    lied = "sha256:" + hashlib.sha256(b'{"schemaVersion": 2, "manifests": []}').hexdigest()
    assert [(p["code"], p["line"], p["field"], p["message"]) for p in result["problems"]] == [
        (
            "pinned-digest-mismatch",
            13,
            "Tags",
            f"mcr.microsoft.com/windows/servercore:ltsc2022 is pinned to {pinned.servercore}, "
            f"but its registry mcr.microsoft.com/windows/servercore (mirror {proxy.url}) served a "
            f"manifest whose bytes hash to {lied}, not {pinned.servercore} "
            "(windows/servercore/Dockerfile [windows-amd64])",
        )
    ]


def test_a_command_line_mirror_wins_over_the_environments(
    upstream: Upstream, server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("MANIFEST_VALIDATION_REGISTRY_MIRRORS", f"mcr.microsoft.com=http://{closed}")
    text = good_manifest(server.repo_url("app.git"), upstream.commit)
    args = ("--library", str(upstream.library), "--insecure-host", server.host_port)
    code, _, document = check(tmp_path, text, *args, "--insecure-host", closed)
    assert (code, [p["code"] for p in document["results"][0]["problems"]]) == (
        3,
        ["registry-unreachable"],
    )
    code, _, document = check(tmp_path, text, *args, *upstream.pinned.args)
    assert (code, document["results"][0]["problems"]) == (0, [])


def test_a_mirror_that_is_not_host_equals_url_is_a_usage_error(
    upstream: Upstream, server: GitServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = good_manifest(server.repo_url("app.git"), upstream.commit)
    (tmp_path / "app").write_text(text)
    code = main(["check", "--verify-git", "--registry-mirror", "nonsense", str(tmp_path / "app")])
    assert code == 2
    assert "registry mirror 'nonsense' is not HOST=URL" in capsys.readouterr().err


def test_external_pins_given_apart_from_the_library(
    upstream: Upstream, server: GitServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --external-pins DIR without --library: external parents checked, official ones noted
    text = naughty_manifest(server.repo_url("app.git"), upstream.commit)
    code, _, document = check(
        tmp_path,
        text,
        "--external-pins",
        str(upstream.library.parent / ".external-pins"),
        "--insecure-host",
        server.host_port,
        *upstream.pinned.args,
    )
    codes = [(p["code"], p["line"]) for p in document["results"][0]["problems"]]
    assert codes == [
        ("parent-checks-skipped", None),
        ("from-scratch-on-windows", 6),
        ("from-arch-unsupported", 10),
        ("from-arch-unsupported", 14),
    ]
    assert code == 1
    assert main(["check", "--external-pins", str(tmp_path), str(tmp_path / "app")]) == 2
    assert "--external-pins needs --verify-git" in capsys.readouterr().err
    nowhere = str(tmp_path / "nowhere")
    assert main(["check", "--verify-git", "--external-pins", nowhere, str(tmp_path / "app")]) == 2
    assert "not a directory (--external-pins)" in capsys.readouterr().err


def test_without_library_a_note_and_still_valid(
    upstream: Upstream, server: GitServer, tmp_path: Path
) -> None:
    text = good_manifest(server.repo_url("app.git"), upstream.commit)
    code, out, _ = check(tmp_path, text, "--insecure-host", server.host_port, output="text")
    assert code == 0
    assert "parent-checks-skipped info:" in out
    assert "busybox:stable, debian:bookworm, debian:bookworm-slim, golang:1.22-bookworm" in out
    # no library, so no .external-pins beside it: the external parents get a note of their own
    assert (
        "external-parents-skipped info: external parents not checked (no .external-pins "
        "given): mcr.microsoft.com/windows/servercore:ltsc2022"
    ) in out
    assert out.rstrip().endswith(
        "1 manifest checked: 1 valid, 0 invalid (0 errors, 0 warnings, 2 notes)"
    )
    code, out, _ = check(tmp_path, text, "--insecure-host", server.host_port, output="github")
    assert code == 0
    assert "::notice file=" in out and "title=parent-checks-skipped::" in out
    assert "title=external-parents-skipped::" in out
    code, _, document = check(tmp_path, text, "--insecure-host", server.host_port)
    assert document["results"][0]["summary"] == {
        "entries": 4,
        "errors": 0,
        "warnings": 0,
        "notes": 2,
    }
    assert document["summary"]["notes"] == 2


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
        *upstream.pinned.args,
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
        *upstream.pinned.args,
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
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        srv.host_port,
        *upstream.pinned.args,
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
        tmp_path,
        text,
        "--library",
        str(upstream.library),
        "--insecure-host",
        server.host_port,
        *upstream.pinned.args,
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
                *upstream.pinned.args,
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
