"""The build checks through every door that verifies git: the HTTP API (parents against the
manifests repository at its branch head), the worker (against the manifests at the job's
commit) and the re-validation run (the whole library it already holds). Real git on
127.0.0.1 for the manifests repository and the upstream repository."""

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
from gitserver import GitServer, GitServers, commit_all, run_git
from manifest_validation.checks.schema import result_validator
from manifest_validation.handlers.local_server import http_api_event
from manifest_validation.repository import GitManifestSource
from manifest_validation.repository.libraries import LibraryCache
from manifest_validation.results.messages import Trigger
from manifest_validation.upstream import GitVerifier, UrlPolicy
from manifest_validation.work.jobs import Action, Job
from manifest_validation.work.worker import Worker

TOKEN = "t0ken-for-tests"

pytestmark = pytest.mark.slow  # a module-scoped world of real git servers, through every door


@dataclass(frozen=True)
class World:
    server: GitServer
    manifests_url: str
    manifests_commit: str
    app_url: str
    app_commit: str
    library: Path  # a checkout of the manifests repository's library/


def image(app_url: str, commit: str, tags: str, directory: str, arches: str = "amd64") -> str:
    return (
        f"Maintainers: Jane Doe (@jane)\nGitRepo: {app_url}\nGitCommit: {commit}\n\n"
        f"Tags: {tags}\nArchitectures: {arches}\nDirectory: {directory}\n"
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, module_git_server: GitServers) -> World:
    root = tmp_path_factory.mktemp("doors")
    served = root / "served"
    served.mkdir()
    app = root / "app"
    run_git("init", "-q", "-b", "master", app)
    for path, text in {
        "base/Dockerfile": "FROM scratch\nADD rootfs.tar /\n",
        "child/Dockerfile": "FROM base:1 AS build\nRUN make\nFROM base:1\nCOPY --from=build / /\n",
        "orphan/Dockerfile": "FROM base:2\n",
    }.items():
        (app / path).parent.mkdir(parents=True, exist_ok=True)
        (app / path).write_text(text)
    app_commit = commit_all(app, "images")
    run_git("clone", "-q", "--bare", "--no-local", app, served / "app.git")
    server = module_git_server(served)
    app_url = server.repo_url("app.git")
    work = root / "official-images"
    run_git("init", "-q", "-b", "master", work)
    library = work / "library"
    library.mkdir()
    (library / "base").write_text(image(app_url, app_commit, "1", "base", "amd64, arm64v8"))
    (library / "child").write_text(image(app_url, app_commit, "1", "child", "amd64, arm64v8"))
    (library / "orphan").write_text(image(app_url, app_commit, "1", "orphan"))
    commit = commit_all(work, "library")
    run_git("clone", "-q", "--bare", "--no-local", work, served / "official-images.git")
    return World(
        server,
        server.repo_url("official-images.git"),
        commit,
        app_url,
        app_commit,
        library,
    )


class Collected:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, messages: Any) -> None:
        for message in messages:
            errors = [e.message for e in result_validator().iter_errors(message)]
            assert errors == [], message["manifest"]
            self.messages.append(dict(message))


class CountingSource:
    """A real manifest source that counts the listings asked of it."""

    def __init__(self, inner: GitManifestSource) -> None:
        self.inner = inner
        self.listings = 0

    def resolve(self, branch: str) -> str:
        return self.inner.resolve(branch)

    def list_manifests(self, commit: str) -> list[str]:
        self.listings += 1
        return self.inner.list_manifests(commit)

    def read(self, commit: str, names: Any) -> dict[str, bytes]:
        return self.inner.read(commit, names)

    def read_pins(self, commit: str) -> dict[str, bytes] | None:
        return self.inner.read_pins(commit)

    def describe(self) -> str:
        return self.inner.describe()


def problems(message: dict[str, Any]) -> list[tuple[str, int | None]]:
    return [(p["code"], p["line"]) for p in message["problems"]]


def test_worker_checks_parents_against_the_manifests_at_the_job_commit(world: World) -> None:
    policy = UrlPolicy([world.server.host_port])
    source = CountingSource(GitManifestSource(world.manifests_url, policy=policy))
    collected = Collected()
    libraries = LibraryCache()
    with GitVerifier(policy) as verifier:
        worker = Worker(lambda _url: source, collected, None, verifier, libraries)  # type: ignore[arg-type]
        for name in ("child", "orphan"):
            job = Job(
                Action.VALIDATE, world.manifests_url, world.manifests_commit, Trigger.PUSH, name
            )
            worker.handle(job, final_attempt=True)
    child, orphan = collected.messages
    assert (child["manifest"], child["status"], problems(child)) == ("child", "valid", [])
    ((key, built),) = child["sources"].items()
    assert key == built["sourceId"] and built["reproducibleGitChecksum"] is not None
    # bashbrew's froms: both FROMs and the COPY --from the build stage (base:1 too)
    assert built["arches"]["arm64v8"]["froms"] == ["base:1"] * 3
    # base is not among the manifests of the job: its sourceId is not known here
    assert built["arches"]["arm64v8"]["parents"] == {"base:1": {"sourceId": None, "pin": None}}
    assert (orphan["status"], problems(orphan)) == ("invalid", [("from-tag-unknown", 5)])
    assert "base:2" in orphan["problems"][0]["message"]
    # the library was listed and read once for both jobs
    assert source.listings == 1


@pytest.fixture
def api_environment(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    for name in ("API_TOKENS_PARAMETER", "API_TOKENS_SECRET", "RESULTS_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", TOKEN)
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("MANIFESTS_REPOSITORY", world.manifests_url)
    monkeypatch.setenv("MANIFEST_VALIDATION_INSECURE_HOSTS", world.server.host_port)
    doors.rebuild()
    yield
    doors.forget()


def validations(manifests: list[dict[str, str]], query: str = "") -> Any:
    body = json.dumps({"manifests": manifests, "verify_git": True}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Authorization", f"Bearer {TOKEN}"),
    ]
    event = http_api_event("POST", "/v1/validations" + query, headers, body)
    response = doors.current().api(event)
    assert response["statusCode"] == 200, response
    return json.loads(response["body"]) if not query else response["body"]


@pytest.mark.usefixtures("api_environment")
def test_http_door_checks_parents_against_the_branch_head(world: World) -> None:
    new = image(world.app_url, world.app_commit, "2", "child", "amd64, arm64v8")
    orphan = image(world.app_url, world.app_commit, "2", "orphan")
    document = validations(
        [{"name": "grandchild", "content": new}, {"name": "x", "content": orphan}]
    )
    grandchild, x = document["results"]
    assert (grandchild["status"], problems(grandchild)) == ("valid", [])
    ((key, source),) = grandchild["sources"].items()
    assert key == source["sourceId"] and source["entries"][0]["SOURCE_DATE_EPOCH"]
    assert source["arches"]["amd64"]["froms"] == ["base:1"] * 3
    assert problems(x) == [("from-tag-unknown", 5)]
    # a pull request that adds base:2 is checked against its own base
    base = image(world.app_url, world.app_commit, "1, 2", "base", "amd64, arm64v8")
    document = validations([{"name": "x", "content": orphan}, {"name": "base", "content": base}])
    assert [r["status"] for r in document["results"]] == ["valid", "valid"]


@pytest.mark.usefixtures("api_environment")
def test_http_door_says_so_when_the_library_cannot_be_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MANIFESTS_REPOSITORY", world.server.repo_url("nothing-here.git"))
    doors.forget()
    new = image(world.app_url, world.app_commit, "2", "child")
    (result,) = validations([{"name": "grandchild", "content": new}])["results"]
    assert result["status"] == "valid"
    (note,) = result["problems"]
    assert (note["code"], note["severity"]) == ("parent-checks-skipped", "info")
    assert "could not be read" in note["message"] and "base:1" in note["message"]
    annotations = validations([{"name": "grandchild", "content": new}], "?format=github")
    assert "::notice " in annotations and "title=parent-checks-skipped" in annotations


def test_revalidate_holds_the_whole_library(world: World, tmp_path: Path) -> None:
    from manifest_validation.cli.main import main
    from manifest_validation.results.queues import LocalResultQueue

    out = io.StringIO()
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            [
                "revalidate",
                "--library",
                str(world.library),
                "--insecure-host",
                world.server.host_port,
                "--state-dir",
                str(tmp_path / "state"),
            ]
        )
    assert code == 1, out.getvalue() + err.getvalue()  # orphan builds FROM base:2
    assert "from-tag-unknown" in out.getvalue()
    pending = LocalResultQueue(tmp_path / "state").pending()
    assert sorted((item.manifest, item.status) for item in pending) == [
        ("base", "valid"),
        ("child", "valid"),
        ("orphan", "invalid"),
    ]
