"""The composite action (`action.yml`) and the workflow recipes of docs/github-actions.md, run as
a runner would run them: each `run:` script of the action, read from action.yml, in bash (GitHub's
`bash --noprofile --norc -eo pipefail`) with its `env:` evaluated from the inputs, in a local clone
holding a real two-commit pull request (checked out as `actions/checkout` does for
`pull_request`: GitHub's merge commit), with `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT` pointing
at files; the upstream repository the manifests name is served by `git http-backend` on
127.0.0.1, so `verify-git` checks real commits and Dockerfiles.

The install step runs pip for real, offline: pip reads no configuration and no index
(`PIP_CONFIG_FILE`, `PIP_NO_INDEX`), installs the action's checkout (a copy of this project's
tracked files) without its dependencies and without build isolation, and finds those, and
setuptools, on `PYTHONPATH` (this interpreter's site-packages). Everything else is the action's
own script.

The service recipe runs against `manifest-validate serve`'s handler on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import doors
from gitserver import commit_all, git_env, run_git, serve_git
from manifest_validation.cli.main import build_parser

PROJECT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((PROJECT / "action.yml").read_text())
PAGE = (PROJECT / "docs" / "github-actions.md").read_text()
YAML_BLOCKS = re.findall(r"^```yaml\n(.*?)^```", PAGE, re.MULTILINE | re.DOTALL)
RUNNER_RECIPE = yaml.safe_load(YAML_BLOCKS[0])
SERVICE_RECIPE = yaml.safe_load(YAML_BLOCKS[1])
EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def _setuptools_builds_wheels() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1)  # bdist_wheel built in: no `wheel` package needed


def evaluate(text: str, context: Mapping[str, str], default: str | None = None) -> str:
    """`${{ name.path }}` expressions of a step, from `context` (the only kind the action may
    use: anything else fails the test); a name not in it is `default`, or fails the test."""

    def value(match: re.Match[str]) -> str:
        if default is not None:
            return context.get(match[1], default)
        return context[match[1]]

    result = EXPRESSION.sub(value, text)
    assert "${{" not in result, f"an expression the runner emulation does not know: {text}"
    return result


@dataclass
class Run:
    code: int  # of the last step run
    stdout: str
    stderr: str
    outputs: dict[str, str]  # the action's outputs
    summary: str  # what the steps appended to $GITHUB_STEP_SUMMARY


@dataclass(frozen=True)
class Runner:
    """A runner with the action checked out (`action_path`) and, once its install step ran,
    manifest-validation installed under `temp` (RUNNER_TEMP)."""

    action_path: Path
    temp: Path

    def env(self, tmp: Path, **extra: str) -> dict[str, str]:
        site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        return git_env(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "HOME": str(tmp),
                "GITHUB_ACTION_PATH": str(self.action_path),
                "RUNNER_TEMP": str(self.temp),
                "PIP_CONFIG_FILE": os.devnull,
                "PIP_NO_INDEX": "1",
                "PIP_NO_DEPS": "1",
                "PIP_NO_BUILD_ISOLATION": "0",
                "PYTHONPATH": os.pathsep.join(sorted(site)),
                **extra,
            }
        )


def run_action(
    runner: Runner,
    workspace: Path,
    tmp: Path,
    with_: Mapping[str, Any],
    event: Mapping[str, str],
    *,
    steps: slice = slice(None),
    **env: str,
) -> Run:
    """The action's `steps` (all of them by default) in `workspace`, as a runner runs a
    composite action: inputs from `with_` over the defaults, `event` for their expressions."""
    summary, output = tmp / "step-summary.md", tmp / "github-output"
    summary.write_text("")
    context = {
        f"inputs.{name}": str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()
    }
    for name, value in with_.items():
        assert name in ACTION["inputs"], f"the recipe gives an input the action lacks: {name}"
        context[f"inputs.{name}"] = str(value).lower() if isinstance(value, bool) else str(value)
    context = {name: evaluate(value, event) for name, value in context.items()}
    base_env = runner.env(
        tmp,
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(output),
        **env,
    )
    stdout, stderr, code = "", "", 0
    step_outputs: dict[str, str] = {}
    for number, step in enumerate(ACTION["runs"]["steps"][steps]):
        assert step["shell"] == "bash"
        script = tmp / f"step-{number}.sh"
        script.write_text(step["run"])
        step_env = {name: evaluate(str(value), context) for name, value in step["env"].items()}
        output.write_text("")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env={**base_env, **step_env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        stdout, stderr, code = stdout + done.stdout, stderr + done.stderr, done.returncode
        if "id" in step:
            for line in output.read_text().splitlines():
                key, _, value = line.partition("=")
                step_outputs[f"steps.{step['id']}.outputs.{key}"] = value
        if code != 0:
            break
    outputs = {
        name: evaluate(spec["value"], step_outputs, default="")
        for name, spec in ACTION["outputs"].items()
    }
    return Run(code, stdout, stderr, outputs, summary.read_text())


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The action checked out (this project's tracked files) and its install step run once,
    for real: a virtual environment of this Python, and pip installing the checkout."""
    if not _setuptools_builds_wheels():
        pytest.skip("installing the action offline needs setuptools>=70.1 (the test extra has it)")
    tmp = tmp_path_factory.mktemp("runner")
    action_path = tmp / "action"
    for name in filter(None, run_git("ls-files", "-z", cwd=PROJECT).split("\0")):
        source, target = PROJECT / name, action_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)
    temp = tmp / "runner-temp"
    temp.mkdir()
    installed = Runner(action_path, temp)
    event = {"github.event.pull_request.base.sha": ""}
    run = run_action(installed, tmp, tmp, {}, event, steps=slice(0, 1))
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "manifest-validate 0.1.0"
    return installed


def library_file(repo: str, commit: str, tags: str) -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"
        f"GitRepo: {repo}\n\n"
        f"Tags: {tags}\n"
        "Architectures: amd64\n"
        f"GitCommit: {commit}\n"
        "Directory: 1\n"
    )


@dataclass(frozen=True)
class PullRequest:
    workspace: Path  # the clone, at GitHub's merge commit
    base_sha: str  # github.event.pull_request.base.sha
    host: str  # the upstream server's host:port
    tmp: Path


@pytest.fixture
def pull_request(tmp_path: Path) -> Iterator[PullRequest]:
    """Upstream `app.git` (u1 - u2, a Dockerfile in 1/); the manifests repository: master c0
    (app at u1, other at u1), the pull request p1 (app moves to u2) - p2 (app gets the tag
    `latest-app`: an error), master moves on meanwhile (m1: `other` gets a tag); the workspace
    is a clone checked out at the merge of the pull request into master."""
    served = tmp_path / "served"
    upstream = tmp_path / "upstream"
    (upstream / "1").mkdir(parents=True)
    run_git("init", "-q", "-b", "master", upstream)
    (upstream / "1" / "Dockerfile").write_text("FROM scratch\nCOPY hello /\n")
    u1 = commit_all(upstream, "u1")
    (upstream / "1" / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")
    u2 = commit_all(upstream, "u2")
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", upstream, served / "app.git")
    with serve_git(served) as server:
        repo = server.repo_url("app.git")
        origin = tmp_path / "origin"
        library = origin / "library"
        library.mkdir(parents=True)
        run_git("init", "-q", "-b", "master", origin)
        (library / "app").write_text(library_file(repo, u1, "1.0, 1"))
        (library / "other").write_text(library_file(repo, u1, "5"))
        commit_all(origin, "c0")
        run_git("checkout", "-q", "-b", "pr", cwd=origin)
        (library / "app").write_text(library_file(repo, u2, "1.0, 1"))
        commit_all(origin, "p1")
        (library / "app").write_text(library_file(repo, u2, "1.0, 1, latest-app"))
        commit_all(origin, "p2")
        run_git("checkout", "-q", "master", cwd=origin)
        (library / "other").write_text(library_file(repo, u1, "5, 5.0"))
        base_sha = commit_all(origin, "m1")
        workspace = tmp_path / "workspace"
        run_git("clone", "-q", "--no-local", origin, workspace)
        run_git("checkout", "-q", "--detach", cwd=workspace)
        run_git("merge", "-q", "--no-ff", "-m", "Merge pr into master", "origin/pr", cwd=workspace)
        yield PullRequest(workspace, base_sha, server.host_port, tmp_path)


def test_the_runner_recipe_is_a_pull_request_workflow_without_secrets() -> None:
    assert set(RUNNER_RECIPE[True]) == {"pull_request"}  # YAML 1.1 reads `on` as True
    assert RUNNER_RECIPE["permissions"] == {"contents": "read"}
    assert "secrets." not in YAML_BLOCKS[0] and "pull_request_target" not in YAML_BLOCKS[0]
    (job,) = RUNNER_RECIPE["jobs"].values()
    uses = [step["uses"] for step in job["steps"] if "uses" in step]
    assert all(PINNED.match(ref) for ref in uses), uses
    checkout = job["steps"][0]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    ours = job["steps"][-1]
    assert ours["uses"].split("@")[0].endswith("/manifest-validation")
    assert set(ours["with"]) <= set(ACTION["inputs"])


def test_every_uses_of_the_recipes_is_pinned_by_commit() -> None:
    for block in YAML_BLOCKS:
        for ref in re.findall(r"uses:\s*(\S+)", block):
            assert PINNED.match(ref), ref


def test_the_action_reads_inputs_through_the_environment_only() -> None:
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step["run"], step["name"]


def test_the_action_annotates_the_pull_request_and_writes_the_review(
    runner: Runner, pull_request: PullRequest
) -> None:
    (job,) = RUNNER_RECIPE["jobs"].values()
    recipe_inputs = job["steps"][-1]["with"]
    assert recipe_inputs == {"verify-git": True}
    run = run_action(
        runner,
        pull_request.workspace,
        pull_request.tmp,
        recipe_inputs,
        {"github.event.pull_request.base.sha": pull_request.base_sha},
        steps=slice(1, None),  # the install step ran once for the module (`runner`)
        MANIFEST_VALIDATION_INSECURE_HOSTS=pull_request.host,
    )
    # installed from the action's checkout, into a virtual environment of its own
    venv_python = runner.temp / "manifest-validation" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import manifest_validation; print(manifest_validation.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": os.pathsep.join({sysconfig.get_paths()["purelib"]})},
    ).stdout
    assert where.startswith(str(runner.temp / "manifest-validation"))

    assert run.code == 1, run.stderr
    lines = run.stdout.splitlines()
    assert "Checking 1 path(s): library/app" in lines
    annotations = [line for line in lines if line.startswith("::")]
    assert annotations == [
        "::error file=library/app,line=4,title=latest-in-tag::Tags 'latest-app' contains "
        "'latest' but is not 'latest'%0ADrop `latest` from the tag, e.g. `alpine` instead of "
        "`latest-alpine`."
    ]
    assert "1 manifest checked: 0 valid, 1 invalid, 0 unverified" in lines
    assert run.outputs == {
        "invalid": "true",
        "exit-code": "1",
        "summary": str(runner.temp / "manifest-validation-review.md"),
    }
    # the reviewer summary: the pull request's change only (not master's `other`)
    summary = run.summary.splitlines()
    assert summary[:8] == [
        "## Review of the changes",
        "",
        "1 image changed: 1 modified, 0 added, 0 removed (1 unchanged); 1 checked: 0 valid, "
        "1 invalid (1 error, 0 warnings)",
        "",
        "| image | change | result | problems |",
        "| --- | --- | --- | --- |",
        "| `app` | modified | ❌ invalid | 1 error |",
        "",
    ]
    assert "- **tags added:** `latest-app`" in summary
    assert "Maintainers: @jane" in summary
    assert Path(run.outputs["summary"]).read_text().rstrip("\n") == run.summary.rstrip("\n")


def test_a_clean_pull_request_passes_with_a_text_summary(
    runner: Runner, pull_request: PullRequest
) -> None:
    workspace = pull_request.workspace
    app = workspace / "library" / "app"
    app.write_text(app.read_text().replace(", latest-app", ""))
    commit_all(workspace, "fix the tag")
    run = run_action(
        runner,
        workspace,
        pull_request.tmp,
        {"summary-format": "text", "base": "origin/master"},
        {"github.event.pull_request.base.sha": ""},
        steps=slice(1, None),
    )
    assert run.code == 0, run.stderr
    assert [line for line in run.stdout.splitlines() if line.startswith("::")] == []
    assert run.outputs["invalid"] == "false" and run.outputs["exit-code"] == "0"
    assert run.summary.splitlines()[:2] == [
        "~~~~~~~~ text",
        "app (modified): valid, 0 errors, 0 warnings",
    ]
    assert run.summary.splitlines()[-1] == "~~~~~~~~"


def test_the_paths_input_chooses_what_is_annotated(
    runner: Runner, pull_request: PullRequest
) -> None:
    event = {"github.event.pull_request.base.sha": pull_request.base_sha}
    run = run_action(
        runner,
        pull_request.workspace,
        pull_request.tmp,
        {"paths": "library/other\n  library/app", "summary-format": "none"},
        event,
        steps=slice(1, None),
    )
    assert run.code == 1
    assert "Checking 2 path(s): library/other library/app" in run.stdout.splitlines()
    assert "2 manifests checked: 1 valid, 1 invalid, 0 unverified" in run.stdout.splitlines()
    assert run.summary == "" and run.outputs["summary"] == ""
    run = run_action(
        runner,
        pull_request.workspace,
        pull_request.tmp,
        {"paths": "library/other"},
        event,
        steps=slice(1, None),
    )
    assert (run.code, run.outputs["exit-code"]) == (0, "0")
    assert "| `app` | modified | ❌ invalid | 1 error |" in run.summary  # still the whole range


def test_without_history_the_action_says_what_to_do(
    runner: Runner, pull_request: PullRequest, tmp_path: Path
) -> None:
    shallow = tmp_path / "shallow"
    run_git("clone", "-q", "--depth", "1", f"file://{pull_request.workspace}", shallow)
    run = run_action(
        runner,
        shallow,
        pull_request.tmp,
        {},
        {"github.event.pull_request.base.sha": pull_request.base_sha},
        steps=slice(1, None),
    )
    assert run.code == 2
    assert "fetch-depth: 0" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("::error title=manifest-validation::")


def test_a_docs_repository_gets_its_changed_folders_checked(runner: Runner, tmp_path: Path) -> None:
    workspace = tmp_path / "docs"
    shutil.copytree(PROJECT / "examples" / "docs", workspace)
    run_git("init", "-q", "-b", "master", workspace)
    (workspace / "metadata.json").write_text('{"hub": {"categories": ["databases"]}}\n')
    base = commit_all(workspace, "c0")
    (workspace / "hello-world" / "README-short.txt").write_text("x" * 120 + "\n")
    commit_all(workspace, "p1")
    event = {"github.event.pull_request.base.sha": base}
    run = run_action(runner, workspace, tmp_path, {}, event, steps=slice(1, None))
    assert run.code == 1
    titles = re.findall(r"^::error file=([^,]+),line=\d+,title=([\w-]+)", run.stdout, re.M)
    assert sorted(titles) == [
        ("hello-world/README-short.txt", "docs-short-description-too-long"),
        ("hello-world/metadata.json", "docs-unknown-category"),
    ]
    assert "| `hello-world` | docs | ❌ invalid | 2 errors |" in run.summary.splitlines()


def test_the_pre_commit_hook_checks_library_files() -> None:
    (hook,) = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "manifest-validate-check"
    assert hook["language"] == "python"
    build_parser().parse_args([*hook["entry"].split()[1:], "library/python"])
    files = re.compile(hook["files"])
    assert [
        path
        for path in (
            "library/python",
            "official-images/library/debian",
            "library/.hidden",
            "library/sub/file",
            "README.md",
            "libraryx/python",
        )
        if files.search(path)
    ] == ["library/python", "official-images/library/debian"]


# -- the service recipe ----------------------------------------------------------------------

TOKEN = "recipe-token"


@pytest.fixture
def api_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pull_request: PullRequest
) -> Iterator[str]:
    """The API on 127.0.0.1, allowed to verify the pull request's upstream (plain http)."""
    from manifest_validation.handlers.local_server import make_server

    monkeypatch.setenv("MANIFEST_VALIDATION_INSECURE_HOSTS", pull_request.host)
    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", TOKEN)
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    for name in ("API_TOKENS_PARAMETER", "API_TOKENS_SECRET", "RESULTS_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    doors.forget()
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    doors.forget()


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("curl")), reason="needs jq and curl")
def test_the_service_recipe_sends_the_bytes_and_the_base(
    pull_request: PullRequest, api_url: str
) -> None:
    (job,) = SERVICE_RECIPE["jobs"].values()
    assert set(SERVICE_RECIPE[True]) == {"pull_request"}
    assert SERVICE_RECIPE["permissions"] == {"contents": "read"}
    step = job["steps"][-1]
    workspace = pull_request.workspace
    # a new file in Latin-1, not UTF-8: `jq -Rs` would have sent U+FFFD instead
    latin1 = (workspace / "library" / "app").read_bytes().replace(b"Jane Doe", b"Ren\xe9 Doe")
    (workspace / "library" / "latin").write_bytes(latin1)
    commit_all(workspace, "a Latin-1 file")
    summary = pull_request.tmp / "service-summary.md"
    env = git_env(
        {
            "API_URL": api_url,
            "TOKEN": TOKEN,
            "BASE_REF": "master",
            "GITHUB_STEP_SUMMARY": str(summary),
            "HOME": str(pull_request.tmp),
        }
    )
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Validating 2 file(s): library/app library/latin"
    titles = re.findall(r"^::error file=([^,]+),line=(\d+),title=([\w-]+)", done.stdout, re.M)
    assert ("library/latin", "1", "invalid-encoding") in titles
    assert ("library/app", "4", "latest-in-tag") in titles
    page = summary.read_text().splitlines()
    assert "| `app` | modified | ❌ invalid | 1 error |" in page  # the base was sent
    assert "| `latin` | added | ❌ invalid | 1 error |" in page
    assert "- **tags added:** `latest-app`" in page
