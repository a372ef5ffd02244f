"""What a plain `pip install manifest-validation` (no extras) gives: the command line runs with
the declared dependencies alone, and the AWS stack (Powertools, pydantic, X-Ray, boto3) is an
extra for the Lambda side."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT / "examples"
AWS_STACK = {"aws_lambda_powertools", "pydantic", "aws_xray_sdk", "boto3", "botocore"}


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` need, with what they need in turn (extras not followed: a
    plain install does not get them)."""
    wanted, seen = list(names), set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in importlib.metadata.requires(name) or []:
            if "extra ==" not in requirement:
                wanted.append(_name(requirement))
    return seen


def _modules_loaded_by(script: str) -> set[str]:
    """Top-level modules a fresh interpreter has loaded after running `script`."""
    code = f"{script}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


CLI_RUN = f"""
import contextlib, io
from manifest_validation.cli.main import main
for args in (
    ["check", {str(EXAMPLES / "library")!r}],
    ["check", "--format", "json", {str(EXAMPLES / "invalid")!r}],
    ["check", "--format", "github", "--docs", {str(EXAMPLES / "docs")!r},
     {str(EXAMPLES / "library")!r}],
    ["diff", {str(EXAMPLES / "library")!r}, {str(EXAMPLES / "invalid")!r}],
    ["cat", {str(EXAMPLES / "library" / "hello-world")!r}],
    ["rules"],
):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(args)
"""


def test_the_command_line_loads_nothing_a_plain_install_lacks() -> None:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {_name(requirement) for requirement in project["project"]["dependencies"]}
    assert not declared & {"aws-lambda-powertools", "boto3", "pydantic"}
    allowed = _closure(declared)
    providers = importlib.metadata.packages_distributions()
    # what the interpreter and the declared dependencies load by themselves (site hooks, a
    # dependency's optional imports that succeed where the module happens to be installed)
    baseline = _modules_loaded_by("import jsonschema, referencing, requests, dulwich")
    loaded = _modules_loaded_by(CLI_RUN)
    assert not loaded & AWS_STACK, sorted(loaded & AWS_STACK)
    third_party = {
        module: {_name(dist) for dist in providers[module]}
        for module in loaded
        if module in providers and module not in sys.stdlib_module_names | baseline
    }
    outside = {
        module: dists
        for module, dists in third_party.items()
        if not dists & allowed and "manifest-validation" not in dists
    }
    assert outside == {}, f"loaded, but not installed by a plain install: {outside}"


def test_the_aws_extra_brings_what_the_handlers_import() -> None:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = {
        _name(requirement) for requirement in project["project"]["optional-dependencies"]["aws"]
    }
    loaded = _modules_loaded_by(
        "import manifest_validation.handlers.api, manifest_validation.handlers.worker\n"
        "import manifest_validation.handlers.revalidate"
    )
    assert "aws_lambda_powertools" in loaded
    assert {"aws-lambda-powertools", "boto3"} <= extra


def test_serve_without_the_aws_extra_says_what_to_install() -> None:
    # None in sys.modules makes `import aws_lambda_powertools` fail as if it were not installed
    code = (
        "import sys\nsys.modules['aws_lambda_powertools'] = None\n"
        "from manifest_validation.cli.main import main\n"
        "sys.exit(main(['serve', '--port', '0']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'manifest-validation[aws]'" in done.stderr
    assert "Traceback" not in done.stderr
