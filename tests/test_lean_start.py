"""What each door loads at start-up, in a fresh interpreter: a command or a cold Lambda import
must not load the heavy libraries it does not use (these are behaviours, not timings; the
figures are printed by benchmarks/bench_corpus.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from manifest_validation.handlers.tracing import tracing_enabled
from paths import PROJECT

HELLO = PROJECT / "examples" / "library" / "hello-world"

# The X-Ray SDK (with botocore's client), Powertools' OpenAPI models (pydantic), the AWS SDK.
# Powertools itself imports the bare `botocore` package (to tag the SDK's user agent), so only
# botocore's session and client count.
LAMBDA_HEAVY = ("aws_xray_sdk", "pydantic", "boto3", "botocore.session", "botocore.client")
# The upstream client (only --verify-git needs it).
UPSTREAM = ("requests", "dulwich", "urllib3", "manifest_validation.upstream")


def local_environment(**extra: str) -> dict[str, str]:
    """This process's environment without anything that says "in Lambda"."""
    names = ("LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE")
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    return {**env, **extra}


def loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules loaded after running `code` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env=env if env is not None else local_environment(),
    )
    assert completed.returncode == 0, completed.stderr
    return set(json.loads(completed.stderr.strip().splitlines()[-1]))


def cli(*argv: str) -> str:
    return (
        "import sys\nfrom manifest_validation.cli import main\n"
        f"try:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass"
    )


@pytest.mark.slow
@pytest.mark.parametrize("handler", ["api", "worker", "revalidate"])
def test_cold_import_of_a_handler_loads_no_tracing_sdk_models_or_aws_sdk(handler: str) -> None:
    loaded = loaded_after(f"import manifest_validation.handlers.{handler}")
    assert f"manifest_validation.handlers.{handler}" in loaded
    assert sorted(loaded.intersection(LAMBDA_HEAVY)) == []
    # the upstream client comes with the first verifier (services.py), not with the import
    assert sorted(loaded.intersection(UPSTREAM)) == []


@pytest.mark.slow
def test_api_handler_cold_import_loads_no_validation_core() -> None:
    # the webhook, health and documentation routes do without it; the first validation
    # request loads it
    loaded = loaded_after("import manifest_validation.handlers.api")
    core = {
        "jsonschema",
        "manifest_validation.checks.pipeline",
        "manifest_validation.libraryfile.model",
        "manifest_validation.checks.schema",
        "manifest_validation.results.messages",
        "manifest_validation.results.report",
    }
    assert sorted(loaded.intersection(core)) == []


@pytest.mark.slow
def test_api_handler_loads_the_openapi_models_on_the_first_docs_request() -> None:
    code = (
        "from manifest_validation.handlers import api\n"
        "from manifest_validation.handlers.local_server import LocalContext, http_api_event\n"
        "assert api.handler(http_api_event('GET', '/v1/health', [], b''), LocalContext())"
        "['statusCode'] == 200\n"
        "import sys\nassert 'pydantic' not in sys.modules\n"
        "assert api.handler(http_api_event('GET', '/v1/openapi.json', [], b''), LocalContext())"
        "['statusCode'] == 200\n"
    )
    assert "pydantic" in loaded_after(code)


@pytest.mark.slow
def test_tracing_in_lambda_creates_the_tracer_with_the_xray_sdk() -> None:
    code = (
        "from manifest_validation.handlers import api, tracing\n"
        "from aws_lambda_powertools import Tracer\n"
        "assert isinstance(tracing.tracer, Tracer) and not tracing.tracer.disabled\n"
        "def plain(event, context):\n    return event\n"
        "assert tracing.capture_lambda_handler(plain) is not plain\n"
    )
    env = local_environment(LAMBDA_TASK_ROOT=str(PROJECT), AWS_REGION="us-east-1")
    assert "aws_xray_sdk.core" in loaded_after(code, env)
    disabled = local_environment(LAMBDA_TASK_ROOT=str(PROJECT), POWERTOOLS_TRACE_DISABLED="true")
    code = (
        "from manifest_validation.handlers import tracing\nassert tracing.tracer is None\n"
        "def plain(event, context):\n    return event\n"
        "assert tracing.capture_lambda_handler(plain) is plain\n"
    )
    assert "aws_xray_sdk" not in loaded_after(code, disabled)


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"LAMBDA_TASK_ROOT": "/var/task"},
        {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"},
        {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"},
        {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"},
        {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "0"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"},
        {"POWERTOOLS_TRACE_DISABLED": "false"},
    ],
)
def test_tracing_is_enabled_exactly_where_powertools_would_trace(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools import Tracer

    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_CHALICE_CLI_MODE", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    # Powertools' own decision (a private static method: this test keeps our copy in step)
    assert tracing_enabled() == (not Tracer._is_tracer_disabled())


@pytest.mark.slow
def test_help_loads_neither_the_core_nor_jsonschema_nor_the_upstream_client() -> None:
    loaded = loaded_after(cli("--help"))
    assert "argparse" in loaded
    heavy = {
        "jsonschema",
        "manifest_validation.checks.pipeline",
        "manifest_validation.problems.catalog",
        "manifest_validation.results.report",
        "dataclasses",
    }
    assert sorted(loaded.intersection({*heavy, *UPSTREAM})) == []


def test_the_check_formats_of_help_are_the_formats_the_report_writes() -> None:
    from manifest_validation.cli.main import CHECK_FORMATS
    from manifest_validation.results.report import FORMATS

    assert CHECK_FORMATS == FORMATS


@pytest.mark.slow
def test_rules_loads_neither_jsonschema_nor_the_upstream_client() -> None:
    loaded = loaded_after(cli("rules"))
    assert "manifest_validation.problems.catalog" in loaded
    assert sorted(loaded.intersection({"jsonschema", *UPSTREAM})) == []


@pytest.mark.slow
@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_check_without_verify_git_loads_no_upstream_client(output_format: str) -> None:
    loaded = loaded_after(cli("check", "--format", output_format, str(HELLO)))
    assert "manifest_validation.checks.pipeline" in loaded
    assert sorted(loaded.intersection(UPSTREAM)) == []


@pytest.mark.slow
def test_a_text_check_of_a_valid_file_loads_only_what_it_uses() -> None:
    # what it does not need costs it more than checking the file: jsonschema (only a rejected
    # value needs its messages), importlib.resources (the schemas are files), result messages
    # and what they need (hashlib, datetime), logging, difflib's suggestions
    loaded = loaded_after(cli("check", str(HELLO)))
    assert "manifest_validation.checks.pipeline" in loaded
    unused = {
        "jsonschema",
        "importlib.resources",
        "manifest_validation.results.messages",
        "hashlib",
        "datetime",
        "logging",
        "difflib",
    }
    assert sorted(loaded.intersection(unused)) == []


@pytest.mark.slow
def test_cat_loads_no_upstream_client() -> None:
    loaded = loaded_after(cli("cat", str(HELLO)))
    assert sorted(loaded.intersection(UPSTREAM)) == []
