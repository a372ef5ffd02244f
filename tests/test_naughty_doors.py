"""Today's review rules through every door that verifies git: the worker (the external pins of
the manifests repository at the job's commit), the HTTP API (at its branch head), the
re-validation run (a checkout: `.external-pins` beside `library/`); each with the registry
client and the history checker the composition root builds from the settings. Real git
(`git http-backend`) and a real registry (Debian's `docker-registry`) on 127.0.0.1, the registry
behind a counting proxy standing in as the mirror of docker.io."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import doors
from gitserver import GitServer, commit_all, run_git, serve_git
from manifest_validation.checks.schema import result_validator
from manifest_validation.handlers.local_server import http_api_event
from manifest_validation.results.messages import Trigger
from manifest_validation.results.queues import LocalResultQueue
from manifest_validation.work.jobs import Action, Job
from upstream.registry_server import Proxy, registry_binary, run_proxy, run_registry
from upstream.tar_repos import MIB, binary

TOKEN = "t0ken-for-tests"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        registry_binary() is None,
        reason="docker-registry is not installed (Debian package docker-registry)",
    ),
]


@dataclass(frozen=True)
class World:
    server: GitServer
    proxy: Proxy  # the registry's mirror for docker.io, counting requests
    digest: str  # vendor/base:1's pinned index: amd64 only
    manifests_url: str
    pinned_commit: str  # official-images with .external-pins/vendor/base___1
    unpinned_commit: str  # the next commit: that pin removed, another one kept
    no_pins_commit: str  # the next: no .external-pins at all
    checkout: Path  # a work tree of official-images at pinned_commit
    library: dict[str, str]  # library files at pinned_commit
    clean: str  # app commits: no tarball rewritten in the history
    tarred: str  # a 3 MiB tarball rewritten in the history


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("naughty-doors")
    served = root / "served"
    served.mkdir()
    app = root / "app"
    run_git("init", "-q", "-b", "master", app)
    (app / "pinned").mkdir()
    (app / "pinned" / "Dockerfile").write_text("FROM vendor/base:1\nRUN make\n")
    (app / "scratch").mkdir()
    (app / "scratch" / "Dockerfile").write_text("FROM scratch\nADD rootfs.tar.gz /\n")
    clean = commit_all(app, "images")
    (app / "scratch" / "rootfs.tar.gz").write_bytes(binary(1, 3 * MIB))
    commit_all(app, "add the rootfs")
    (app / "scratch" / "rootfs.tar.gz").write_bytes(binary(2, 3 * MIB))
    tarred = commit_all(app, "rewrite the rootfs")
    run_git("clone", "-q", "--bare", "--no-local", app, served / "app.git")
    with (
        run_registry(root / "registry") as registry,
        run_proxy(registry.url) as proxy,
        serve_git(served) as server,
    ):
        image, size, _ = registry.push_image("vendor/base", "linux", "amd64")
        digest, _ = registry.push_index(
            "vendor/base", [(image, size, {"os": "linux", "architecture": "amd64"})]
        )
        app_url = server.repo_url("app.git")
        head = f"Maintainers: Jane Doe (@jane)\nGitRepo: {app_url}\n"
        library = {
            "vendored": head + f"GitCommit: {clean}\n\n"  # 2, 3
            "Tags: 1\nArchitectures: amd64, arm64v8\nDirectory: pinned\n",  # 5, 6, 7
            "tarred": head + f"GitCommit: {tarred}\n\n"  # 2, 3
            "Tags: 1\nArchitectures: amd64\nDirectory: scratch\n",  # 5, 6, 7
        }
        work = root / "official-images"
        run_git("init", "-q", "-b", "master", work)
        (work / "library").mkdir()
        for name, text in library.items():
            (work / "library" / name).write_text(text)
        pin = work / ".external-pins" / "vendor" / "base___1"
        pin.parent.mkdir(parents=True)
        pin.write_text(digest + "\n")
        other = work / ".external-pins" / "other" / "image___2"
        other.parent.mkdir(parents=True)
        other.write_text(digest + "\n")
        pinned_commit = commit_all(work, "library and pins")
        checkout = root / "checkout"
        run_git("clone", "-q", "--no-local", work, checkout)
        pin.unlink()
        unpinned_commit = commit_all(work, "vendor/base unpinned")
        other.unlink()
        no_pins_commit = commit_all(work, "no pins at all")
        run_git("clone", "-q", "--bare", "--no-local", work, served / "official-images.git")
        # the branch head is the pinned commit (the unpinned one stays reachable by id)
        run_git(
            "--git-dir",
            served / "official-images.git",
            "update-ref",
            "refs/heads/master",
            pinned_commit,
        )
        yield World(
            server,
            proxy,
            digest,
            server.repo_url("official-images.git"),
            pinned_commit,
            unpinned_commit,
            no_pins_commit,
            checkout,
            library,
            clean,
            tarred,
        )


@pytest.fixture
def environment(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The doors' settings, as a deployment sets them: the manifests repository, the hosts
    allowed plain http, the registry mirror."""
    for name in ("API_TOKENS_PARAMETER", "API_TOKENS_SECRET", "RESULTS_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", TOKEN)
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("MANIFESTS_REPOSITORY", world.manifests_url)
    monkeypatch.setenv(
        "MANIFEST_VALIDATION_INSECURE_HOSTS", f"{world.server.host_port},{world.proxy.host_port}"
    )
    monkeypatch.setenv("MANIFEST_VALIDATION_REGISTRY_MIRRORS", f"docker.io={world.proxy.url}")
    doors.rebuild()
    yield tmp_path / "state"
    doors.forget()


def problems(message: dict[str, Any]) -> list[tuple[str, int | None, str | None, str]]:
    assert [e.message for e in result_validator().iter_errors(message)] == []
    return [(p["code"], p["line"], p["field"], p["message"]) for p in message["problems"]]


def expected(world: World, name: str) -> list[tuple[str, int | None, str | None, str]]:
    if name == "vendored":
        return [
            (
                "from-arch-unsupported",
                6,
                "Architectures",
                f"pinned/Dockerfile builds FROM vendor/base:1, pinned to {world.digest}, which "
                "serves amd64 but not arm64v8",
            )
        ]
    return [
        (
            "unpleasant-commit",
            3,
            "GitCommit",
            f"commit {world.tarred}: modified binary file (larger than 2MB): "
            "scratch/rootfs.tar.gz (3MB)",
        )
    ]


def manifest_gets(proxy: Proxy, digest: str) -> int:
    return sum(path.endswith(f"/manifests/{digest}") for path in proxy.paths)


@pytest.mark.usefixtures("environment")
def test_worker_reads_the_pins_at_the_job_commit(world: World, environment: Path) -> None:
    worker = doors.current().services.worker()
    for name in ("vendored", "tarred"):
        job = Job(Action.VALIDATE, world.manifests_url, world.pinned_commit, Trigger.PUSH, name)
        worker.handle(job, final_attempt=True)
    pending = [item.body for item in LocalResultQueue(environment).pending()]
    assert [message["manifest"] for message in pending] == ["vendored", "tarred"]
    for message in pending:
        assert problems(message) == expected(world, message["manifest"])
    # one commit later the pin is gone: the same parent is an unpinned external image
    job = Job(Action.VALIDATE, world.manifests_url, world.unpinned_commit, Trigger.PUSH, "vendored")
    worker.handle(job, final_attempt=True)
    vendored = LocalResultQueue(environment).pending()[-1].body
    assert problems(vendored) == [
        (
            "from-not-official",
            5,
            "Tags",
            "pinned/Dockerfile [amd64, arm64v8] builds FROM vendor/base:1, an external image "
            "that .external-pins does not pin (no .external-pins/vendor/base___1)",
        )
    ]
    # and then .external-pins is gone: that revision has no pins, so its external parents are
    # not checked (and a note says so)
    job = Job(Action.VALIDATE, world.manifests_url, world.no_pins_commit, Trigger.PUSH, "vendored")
    worker.handle(job, final_attempt=True)
    vendored = LocalResultQueue(environment).pending()[-1].body
    assert vendored["status"] == "valid"
    assert problems(vendored) == [
        (
            "external-parents-skipped",
            None,
            None,
            "external parents not checked (no .external-pins beside the library of "
            f"{world.manifests_url} at {world.no_pins_commit[:12]}): vendor/base:1",
        )
    ]


def validations(manifests: list[dict[str, str]]) -> Any:
    body = json.dumps({"manifests": manifests, "verify_git": True}).encode()
    headers = [("Content-Type", "application/json"), ("Authorization", f"Bearer {TOKEN}")]
    response = doors.current().api(http_api_event("POST", "/v1/validations", headers, body))
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


@pytest.mark.usefixtures("environment")
def test_http_door_at_the_branch_head_and_answers_kept_for_the_process(world: World) -> None:
    before = manifest_gets(world.proxy, world.digest)
    for _ in range(2):
        document = validations(
            [{"name": name, "content": text} for name, text in world.library.items()]
        )
        for message in document["results"]:
            assert message["status"] == "invalid"
            assert problems(message) == expected(world, message["manifest"])
    # the digest's answer is kept by the composition root's registry client
    assert manifest_gets(world.proxy, world.digest) - before == 1


def test_revalidate_reads_the_pins_beside_the_library(world: World, tmp_path: Path) -> None:
    from manifest_validation.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                "revalidate",
                "--library",
                str(world.checkout),
                "--insecure-host",
                world.server.host_port,
                "--insecure-host",
                world.proxy.host_port,
                "--registry-mirror",
                f"docker.io={world.proxy.url}",
                "--state-dir",
                str(tmp_path / "state"),
            ]
        )
    assert code == 1, out.getvalue() + err.getvalue()
    pending = {item.manifest: item.body for item in LocalResultQueue(tmp_path / "state").pending()}
    assert sorted(pending) == ["tarred", "vendored"]
    for name, message in pending.items():
        assert problems(message) == expected(world, name)
