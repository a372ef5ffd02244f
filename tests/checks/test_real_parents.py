"""Today's review rules on real data: the five images of ../shared/upstream (their upstream
repositories as bundles, the official-images library and `.external-pins` of the same 2024
commit) checked with `check --verify-git`, and the riscv64 rule against today's corpus library.

Nothing leaves 127.0.0.1: the bundles are served by the real `git http-backend`, and every
registry the pins name has a mirror on a local port nobody listens on, so each pinned parent
is unverified (a warning), never a verdict.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, serve_git
from manifest_validation.checks.parents import riscv64_ubuntu
from manifest_validation.checks.schema import result_validator
from manifest_validation.cli.main import main
from manifest_validation.libraryfile.library import Library
from manifest_validation.libraryfile.pins import ExternalPins
from paths import LIBRARY, beside
from upstream.real_upstream import SHARED_UPSTREAM, clone_bundles
from upstream.registry_server import free_port

IMAGES = ("caddy", "golang", "hello-world", "mariadb", "nginx")
GITHUB = re.compile(r"^((?:[a-z0-9]+-)*GitRepo: )https://github\.com/([^/\s]+/[^/\s]+?)(?:\.git)?$")


pytestmark = [pytest.mark.shared, pytest.mark.slow]  # real data, real servers


@dataclass(frozen=True)
class Real:
    server: GitServer
    checkout: Path  # library/ (GitRepos of the five pointed at the server) and .external-pins
    closed: str  # host:port of the registry mirror nobody answers


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    official = SHARED_UPSTREAM / "official-images"
    beside(official / "library" / "mariadb", "the real upstream slice")
    root = tmp_path_factory.mktemp("real-parents")
    served = root / "served"
    served.mkdir()
    names = clone_bundles(served)
    with serve_git(served) as server:
        checkout = root / "official-images"
        (checkout / "library").mkdir(parents=True)
        for file in sorted((official / "library").iterdir()):
            lines = file.read_text().split("\n")
            for number, line in enumerate(lines):
                match = GITHUB.match(line)
                if match and f"{match[2]}.git" in names:  # every other byte unchanged
                    lines[number] = f"{match[1]}{server.repo_url(match[2] + '.git')}"
            (checkout / "library" / file.name).write_text("\n".join(lines))
        shutil.copytree(official / ".external-pins", checkout / ".external-pins")
        yield Real(server, checkout, f"127.0.0.1:{free_port()}")


def check(real: Real, *images: str) -> tuple[int, dict[str, Any]]:
    library = real.checkout / "library"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "check",
                "--format",
                "json",
                "--verify-git",
                "--library",
                str(library),
                "--insecure-host",
                real.server.host_port,
                "--insecure-host",
                real.closed,
                # every registry of the 2024 pins: Docker Hub (redhat/*, tianon/*, docker/*)
                # and MCR, on a port nobody listens on
                "--registry-mirror",
                f"docker.io=http://{real.closed}",
                "--registry-mirror",
                f"mcr.microsoft.com=http://{real.closed}",
                *(str(library / image) for image in images),
            ]
        )
    document = json.loads(out.getvalue())
    for message in document["results"]:
        assert [e.message for e in result_validator().iter_errors(message)] == []
    return code, document


def test_mariadb_is_free_of_parent_errors_with_its_ubi_parent_pinned(real: Real) -> None:
    # with the old wildcards these were 4 from-not-official errors (one per ubi entry):
    # redhat/ubi9-minimal:latest is pinned in the .external-pins of the same commit
    code, document = check(real, "mariadb")
    (result,) = document["results"]
    assert (code, result["status"]) == (3, "unverified")
    assert [p for p in result["problems"] if p["severity"] == "error"] == []
    (warning,) = result["problems"]
    digest = (real.checkout / ".external-pins/redhat/ubi9-minimal___latest").read_text().strip()
    assert (warning["code"], warning["line"], warning["field"]) == (
        "registry-unreachable",
        9,  # the Tags line of the first ubi entry
        "Tags",
    )
    assert warning["message"].startswith(
        f"redhat/ubi9-minimal:latest (pinned to {digest}) could not be checked for "
        "11.5-ubi/Dockerfile, 11.4-ubi/Dockerfile, 10.11-ubi/Dockerfile, 10.6-ubi/Dockerfile "
        "[amd64, arm64v8, ppc64le, s390x]: Could not ask docker.io/redhat/ubi9-minimal "
        f"(mirror http://{real.closed}): "
    )


def test_the_five_images_have_no_error_they_did_not_have(real: Real) -> None:
    code, document = check(real, *IMAGES)
    by_name = {result["manifest"]: result for result in document["results"]}
    assert sorted(by_name) == sorted(IMAGES)
    errors = {
        name: [(p["code"], p["line"], p["message"]) for p in result["problems"]]
        for name, result in by_name.items()
        if any(p["severity"] == "error" for p in result["problems"])
    }
    assert errors == {}
    assert code == 3
    # only what the registries could not answer is left open: Windows bases for three images,
    # ubi for mariadb; nginx builds on official images only
    statuses = {name: result["status"] for name, result in by_name.items()}
    assert statuses == {
        "caddy": "unverified",
        "golang": "unverified",
        "hello-world": "unverified",
        "mariadb": "unverified",
        "nginx": "valid",
    }
    unchecked = {
        name: sorted(p["message"].split(" ", 1)[0] for p in result["problems"])
        for name, result in by_name.items()
    }
    assert unchecked == {
        "caddy": [
            "mcr.microsoft.com/windows/servercore:1809",
            "mcr.microsoft.com/windows/servercore:ltsc2022",
        ],
        "golang": [
            "mcr.microsoft.com/windows/nanoserver:1809",
            "mcr.microsoft.com/windows/nanoserver:ltsc2022",
            "mcr.microsoft.com/windows/servercore:1809",
            "mcr.microsoft.com/windows/servercore:ltsc2022",
        ],
        "hello-world": [
            "mcr.microsoft.com/windows/nanoserver:1809",
            "mcr.microsoft.com/windows/nanoserver:ltsc2022",
        ],
        "mariadb": ["redhat/ubi9-minimal:latest"],
        "nginx": [],
    }


# --- riscv64 on Ubuntu against today's library (the corpus) ------------------------------------


def test_riscv64_on_ubuntu_against_todays_library() -> None:
    beside(LIBRARY / "ubuntu", "the official-images corpus")
    library = Library({"ubuntu": (LIBRARY / "ubuntu").read_bytes()})
    permitted = [
        tag
        for tag in ("22.04", "jammy", "24.04", "noble")
        if not riscv64_ubuntu(f"ubuntu:{tag}", library)
    ]
    assert permitted == ["22.04", "jammy", "24.04", "noble"]
    # 26.04 is `latest` and `rolling` today: "catch when latest changes"
    for tag in ("latest", "rolling", "26.04", "devel"):
        assert riscv64_ubuntu(f"ubuntu:{tag}", library) is not None, tag


def test_todays_pins_and_the_corpus_text_checks() -> None:
    pins_dir = beside(LIBRARY.parent / ".external-pins", "the official-images corpus")
    # `check` without network on today's library: no error (the parent rules need Dockerfiles)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check", "--format", "json", str(LIBRARY)])
    document = json.loads(out.getvalue())
    assert (code, document["summary"]["errors"]) == (0, 0)
    pins = ExternalPins.from_directory(pins_dir)
    assert pins.invalid == ()
    assert pins.pin("redhat/ubi9-minimal:latest") is not None
