"""`manifest-validate diff` from the command line: files, directories, `--git` over a manifests
repository and `--verify-git` (`commit-not-descendant`), against real repositories served by
`git http-backend` on 127.0.0.1.

The upstream repository `app.git` has master a0 - a1 - a2, then master is force-pushed to
a0 - b1 (history rewritten: a1 and a2 stay in the repository, unreachable, as on a real server
until it collects garbage).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, GitServers, commit_all, run_git
from manifest_validation.cli.main import main
from manifest_validation.upstream import GitVerifier, HistoryChecker, RegistryClient, UrlPolicy

pytestmark = pytest.mark.slow  # a module-scoped world of real git servers


@dataclass(frozen=True)
class World:
    server: GitServer
    v0: GitServer
    a: list[str]  # a0, a1, a2: the history before the force push
    b1: str  # the rewritten tip (child of a0)
    manifests: list[str]  # commits of manifests.git
    app_url: str


def library_file(repo: str, commit: str, tags: str = "1.0, 1, latest") -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"
        f"GitRepo: {repo}\n\n"
        f"Tags: {tags}\n"
        "Architectures: amd64, arm64v8\n"
        f"GitCommit: {commit}\n"
        "Directory: 1\n\n"
        "Tags: 2.0-rc\n"
        f"GitCommit: {commit}\n"
        "Directory: 2\n"
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, module_git_server: GitServers) -> World:
    root = tmp_path_factory.mktemp("diffgit")
    served = root / "served"
    served.mkdir()
    app = root / "app"
    run_git("init", "-q", "-b", "master", app)
    a = []
    for number in range(3):
        (app / "f").write_text(f"a{number}\n")
        a.append(commit_all(app, f"a{number}"))
    bare = served / "app.git"
    run_git("clone", "-q", "--bare", "--no-local", app, bare)
    # rewrite history: master is reset to a0 and gets a new commit, force-pushed
    run_git("reset", "-q", "--hard", a[0], cwd=app)
    (app / "f").write_text("b1\n")
    b1 = commit_all(app, "b1")
    run_git("push", "-q", "--force", str(bare), "master:master", cwd=app)

    server, v0 = module_git_server(served), module_git_server(served, "v0")
    app_url = server.repo_url("app.git")
    work = root / "manifests"
    library = work / "library"
    library.mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)
    (library / "app").write_text(library_file(app_url, a[1]))
    (library / "old-image").write_text(library_file(app_url, a[0], "9"))
    (library / "same").write_text(library_file(app_url, a[0], "5"))
    commits = [commit_all(work, "c0")]
    # a fast-forward bump, `latest` moved to the 2.0 entry, arm64v8 dropped
    (library / "app").write_text(
        library_file(app_url, a[2], "1.0, 1")
        .replace("Tags: 2.0-rc\n", "Tags: 2.0-rc, latest\n")
        .replace("amd64, arm64v8", "amd64")
    )
    (library / "old-image").unlink()
    (library / "new-image").write_text(library_file(app_url, a[0], "7"))
    commits.append(commit_all(work, "c1"))
    # after the force push upstream: the manifest follows the rewritten master
    (library / "app").write_text(library_file(app_url, b1, "1.0, 1"))
    commits.append(commit_all(work, "c2"))
    run_git("clone", "-q", "--bare", "--no-local", work, served / "manifests.git")
    return World(server, v0, a, b1, commits, app_url)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, *args, "--format", "json")
    assert err == ""
    return code, json.loads(out)


def images(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {image["image"]: image for image in document["images"]}


def test_git_diff_reads_only_the_changed_files(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    url = world.server.repo_url("manifests.git")
    c0, c1, _ = world.manifests
    code, document = run_json(
        capsys, "--git", url, f"{c0}..{c1}", "--insecure-host", world.server.host_port
    )
    assert code == 0
    assert document["summary"] == {
        "images": 4,
        "added": 1,
        "removed": 1,
        "modified": 1,
        "unchanged": 1,
    }
    found = images(document)
    assert found["new-image"]["status"] == "added"
    assert found["old-image"]["status"] == "removed"
    app = found["app"]
    assert app["tags_moved"] == [
        {"tag": "latest", "shared": False, "from_entry": "1.0", "to_entry": "2.0-rc"}
    ]
    changed = {tuple(change["tags"]): change for change in app["changed"]}
    assert changed[("1.0", "1")]["architectures_removed"] == ["arm64v8"]
    assert changed[("1.0", "1")]["fields"] == [
        {"field": "GitCommit", "architecture": None, "old": world.a[1], "new": world.a[2]}
    ]


def test_git_diff_accepts_branch_names(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    url = world.server.repo_url("manifests.git")
    code, document = run_json(
        capsys,
        "--git",
        url,
        f"{world.manifests[1]}..master",
        "--insecure-host",
        world.server.host_port,
    )
    assert code == 0
    assert list(images(document)) == ["app"]


def test_fast_forward_is_a_descendant_and_rewritten_history_is_a_warning(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    url = world.server.repo_url("manifests.git")
    c0, c1, c2 = world.manifests
    host = ("--insecure-host", world.server.host_port)
    code, document = run_json(capsys, "--git", url, f"{c0}..{c1}", "--verify-git", *host)
    assert code == 0
    app = images(document)["app"]
    assert [c["ancestry"] for c in app["commits"]] == ["descendant"]
    assert app["problems"] == []

    code, document = run_json(capsys, "--git", url, f"{c1}..{c2}", "--verify-git", *host)
    assert code == 0  # a warning is reported, not a failure
    app = images(document)["app"]
    (commit,) = app["commits"]
    assert (commit["old"], commit["new"], commit["ancestry"]) == (
        world.a[2],
        world.b1,
        "not-descendant",
    )
    (found,) = app["problems"]
    assert found["code"] == "commit-not-descendant"
    assert found["severity"] == "warning"
    assert found["field"] == "GitCommit"
    assert found["line"] == 6  # the GitCommit line of the first entry in the new file


def test_markdown_of_a_rewritten_history(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    url = world.server.repo_url("manifests.git")
    _, c1, c2 = world.manifests
    code, out, _ = run(
        capsys,
        "--git",
        url,
        f"{c1}..{c2}",
        "--verify-git",
        "--format",
        "markdown",
        "--insecure-host",
        world.server.host_port,
    )
    assert code == 0
    assert "> **warning** `commit-not-descendant` (line 6):" in out


@pytest.mark.parametrize("protocol", ["v2", "v0"])
def test_descends_over_both_protocol_versions(world: World, protocol: str) -> None:
    server = world.server if protocol == "v2" else world.v0
    url = server.repo_url("app.git")
    a0, a1, a2 = world.a
    with GitVerifier(UrlPolicy([server.host_port]), read_timeout=5) as verifier:
        assert verifier.descends(url, a0, world.b1)[0] is True  # a fast-forward
        assert verifier.descends(url, world.b1, a0)[0] is False  # a downgrade
        assert verifier.descends(url, a2, world.b1)[0] is False  # rewritten history
        assert verifier.descends(url, a1, world.b1)[0] is False
        absent, detail = verifier.descends(url, "1" * 40, a0)
        assert absent is False and "no longer exists" in detail
        # the new commit is not served (it does not exist): nothing can be said
        unknown, detail = verifier.descends(url, a0, "2" * 40)
        assert unknown is None and "not served" in detail
        assert verifier.descends(url, a1, a1)[0] is True
        # a2 is no longer reachable from any ref: protocol v2 serves it anyway, v0 over
        # HTTP serves only reachable commits, so there the answer is "could not check"
        expected = True if protocol == "v2" else None
        assert verifier.descends(url, a0, a2)[0] is expected


def test_an_unreachable_repository_is_never_a_warning(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/app.git"
    (tmp_path / "old").write_text(library_file(url, world.a[2]))
    (tmp_path / "new").write_text(library_file(url, world.b1))
    code, document = run_json(
        capsys,
        str(tmp_path / "old"),
        str(tmp_path / "new"),
        "--verify-git",
        "--insecure-host",
        f"127.0.0.1:{port}",
    )
    assert code == 0
    image = images(document)["new"]
    (commit,) = image["commits"]
    assert commit["ancestry"] == "unknown"
    assert "could not check" in commit["detail"].lower()
    assert image["problems"] == []


def test_two_directories_and_usage_errors(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "app").write_text(library_file(world.app_url, world.a[1]))
    (new / "app").write_text(library_file(world.app_url, world.a[2]))
    (new / ".hidden").write_text("not a manifest")
    code, out, _ = run(capsys, str(old), str(new))
    assert code == 0
    assert out.splitlines()[0] == "app (modified)"
    assert out.splitlines()[-1] == "1 image changed: 1 modified, 0 added, 0 removed (0 unchanged)"

    assert run(capsys, str(old), str(new / "app"))[0] == 2  # a directory and a file
    code, _, err = run(capsys, str(old), str(tmp_path / "missing"))
    assert code == 2 and "no such file or directory" in err
    code, _, err = run(capsys, "--git", world.server.repo_url("manifests.git"), "c0")
    assert code == 2 and "BASE..HEAD" in err
    code, _, err = run(
        capsys,
        "--git",
        world.server.repo_url("manifests.git"),
        f"{'3' * 40}..master",
        "--insecure-host",
        world.server.host_port,
    )
    assert code == 2 and "does not exist" in err


# --- the webhook worker: the result message carries what the push changed ----------------------


class Recorded:
    """A results queue that keeps what is published."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def publish(self, messages: Any) -> None:
        self.messages.extend(messages)


def test_worker_result_message_carries_the_changes_of_the_push(world: World) -> None:
    from manifest_validation.checks.schema import result_validator
    from manifest_validation.repository import GitManifestSource
    from manifest_validation.results.messages import Trigger
    from manifest_validation.work.jobs import Action, Job
    from manifest_validation.work.worker import Worker

    policy = UrlPolicy([world.server.host_port])
    url = world.server.repo_url("manifests.git")
    c0, c1, c2 = world.manifests
    recorded = Recorded()
    with GitManifestSource(url, policy=policy) as source, GitVerifier(policy) as verifier:
        worker = Worker(lambda _: source, recorded, None, verifier)  # type: ignore[arg-type]
        for name, base, commit in (("app", c1, c2), ("new-image", c0, c1), ("same", c0, c1)):
            job = Job(Action.VALIDATE, url, commit, Trigger.PUSH, name, "delivery-1", base)
            assert worker.handle(job, final_attempt=False) == []
    app, new_image, same = recorded.messages
    for message in recorded.messages:
        assert [e.message for e in result_validator().iter_errors(message)] == []
    changes = app["changes"]
    assert changes["base"] == {"commit": c1, "sha256": changes["base"]["sha256"]}
    assert changes["status"] == "modified"
    assert [c["ancestry"] for c in changes["commits"]] == ["not-descendant"]
    assert [p["code"] for p in changes["problems"]] == ["commit-not-descendant"]
    # the rest of the story: `latest` is gone, arm64v8 is back in the first entry
    assert changes["tags_removed"] == ["latest"]
    first = changes["changed"][0]
    assert (first["tags"], first["architectures_added"]) == (["1.0", "1"], ["arm64v8"])
    assert new_image["changes"]["status"] == "added"
    assert new_image["changes"]["base"] == {"commit": c0}
    assert same["changes"]["status"] == "unchanged"


def test_push_jobs_carry_the_commit_before_the_push() -> None:
    from manifest_validation.api.webhook import plan_push
    from manifest_validation.work.jobs import Job

    before, after = "a" * 40, "b" * 40
    payload: dict[str, Any] = {
        "ref": "refs/heads/master",
        "before": before,
        "after": after,
        "repository": {"clone_url": "https://example.com/lib.git"},
        "commits": [{"modified": ["library/app"]}],
    }
    common = {"repository": "https://example.com/lib.git", "branch": "master", "delivery": "d"}
    (job,) = plan_push(payload, **common).jobs
    assert job.base == before
    assert Job.from_json(job.to_json()) == job
    forced = plan_push({**payload, "forced": True}, **common).jobs[0]
    assert forced.base == before  # a forced push is where a summary matters most
    created = plan_push({**payload, "created": True, "before": "0" * 40}, **common).jobs[0]
    assert created.base is None
    # jobs without a base keep their ids (queues in flight during an upgrade)
    assert Job(job.action, job.repository, job.commit, job.trigger, job.manifest).id != job.id


def test_text_of_verified_moves(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    url = world.server.repo_url("manifests.git")
    c0, c1, c2 = world.manifests
    host = ("--insecure-host", world.server.host_port)
    code, out, _ = run(capsys, "--git", url, f"{c0}..{c1}", "--verify-git", *host)
    assert code == 0
    assert (
        f"  GitCommit {world.a[1][:12]} -> {world.a[2][:12]} (1.0, 1, 2.0-rc, latest): descends"
        in out
    )
    code, out, _ = run(capsys, "--git", url, f"{c1}..{c2}", "--verify-git", *host)
    (line,) = [line for line in out.splitlines() if "commit-not-descendant" in line]
    assert line.startswith("  line 6: commit-not-descendant warning: GitCommit of 1.0, 1, 2.0-rc")
    assert "which does not descend from it (history rewritten, or a downgrade)" in line


def test_api_base_with_verify_git_checks_the_movedcommit_all(world: World) -> None:
    """What the API handler does with a `base` and `verify_git`: the changes carry the ancestry
    of each moved GitCommit, and a rewritten history is a warning there."""
    from manifest_validation.api.validations import answer
    from manifest_validation.checks.schema import result_validator
    from manifest_validation.libraryfile.library import Library

    base = library_file(world.app_url, world.a[2])
    body = {
        "manifests": [
            {"name": "app", "content": library_file(world.app_url, world.b1), "base": base},
            {"name": "ff", "content": library_file(world.app_url, world.a[2]), "base": None},
        ],
        "verify_git": True,
    }
    body["manifests"].append(
        {"name": "up", "content": base, "base": library_file(world.app_url, world.a[0])}
    )

    class Given:  # what the API's composition root would give it
        def __init__(self, verifier: GitVerifier) -> None:
            self.given = verifier

        def verifier(self) -> GitVerifier:
            return self.given

        def library(self) -> Library:
            return Library.unavailable("no library in this test")

        def registry(self) -> RegistryClient:
            return RegistryClient(UrlPolicy([]), transport=self.given.transport)

        def history(self) -> HistoryChecker:
            return HistoryChecker(
                UrlPolicy([world.server.host_port]), transport=self.given.transport
            )

        def queue(self) -> Any:
            raise AssertionError("nothing is published")

    with GitVerifier(UrlPolicy([world.server.host_port])) as verifier:
        done = answer("application/json", json.dumps(body).encode(), {}, Given(verifier))
    assert done.status == 200, done.body
    app, new, up = json.loads(done.body)["results"]
    for message in (app, new, up):
        assert [e.message for e in result_validator().iter_errors(message)] == []
    assert [c["ancestry"] for c in app["changes"]["commits"]] == ["not-descendant"]
    assert [p["code"] for p in app["changes"]["problems"]] == ["commit-not-descendant"]
    assert new["changes"]["status"] == "added" and new["changes"]["commits"] == []
    assert [c["ancestry"] for c in up["changes"]["commits"]] == ["descendant"]
    assert up["changes"]["problems"] == []
