"""The `manifest-validate` command line: a contract other checks depend on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from manifest_validation.cli.main import main
from manifest_validation.results.report import render_rules_markdown
from paths import PROJECT

VALID = (
    "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/r.git\n"
    "GitCommit: 0123456789abcdef0123456789abcdef01234567\n\nTags: 1.0, latest\n"
)
INVALID = VALID.replace("Tags: 1.0, latest", "Tags: 1.0, latest-1\nGitFetch: main")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def library(tmp_path: Path) -> Path:
    directory = tmp_path / "library"
    directory.mkdir()
    (directory / "good").write_text(VALID)
    (directory / "bad").write_text(INVALID)
    (directory / ".hidden").write_text("not a manifest")
    (directory / "nested").mkdir()
    return directory


def test_valid_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good").write_text(VALID)
    code, out, _ = run(capsys, "check", str(tmp_path / "good"))
    assert code == 0
    assert out.strip() == "1 manifest checked: 1 valid, 0 invalid (0 errors, 0 warnings)"


def test_directory_checks_regular_non_hidden_files_and_exits_1(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--format", "json", str(library))
    assert code == 1
    document = json.loads(out)
    results = {r["manifest"]: r for r in document["results"]}
    assert set(results) == {"good", "bad"}
    assert results["good"]["status"] == "valid"
    assert results["good"]["source"] == str(library / "good")
    bad = results["bad"]
    assert bad["status"] == "invalid"
    assert {(p["code"], p["line"], p["field"]) for p in bad["problems"]} == {
        ("latest-in-tag", 5, "Tags"),
        ("invalid-git-fetch", 6, "GitFetch"),
    }
    for found in bad["problems"]:
        assert set(found) >= {"code", "severity", "line", "field", "message", "hint"}
        assert found["severity"] in ("error", "warning")
    assert document["summary"]["invalid"] == 1


def test_text_format_is_file_line_code_message(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "check", str(library / "bad"))
    first = out.splitlines()[0]
    assert first.startswith(f"{library / 'bad'}:5: latest-in-tag error: ")
    assert out.splitlines()[-1] == "1 manifest checked: 0 valid, 1 invalid (2 errors, 0 warnings)"


def test_github_format_prints_annotations(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "check", "--format", "github", str(library / "bad"))
    lines = out.splitlines()
    assert lines[0].startswith(f"::error file={library / 'bad'},line=5,title=latest-in-tag::")
    assert "%0A" in lines[0]  # the hint, on its own line of the annotation
    assert len([line for line in lines if line.startswith("::error ")]) == 2


def test_missing_path_exits_2_but_reports_the_rest(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", str(library / "good"), str(library / "absent"))
    assert code == 2
    assert "absent: no such file or directory" in err
    assert "1 manifest checked" in out


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo"
    import os

    os.mkfifo(fifo)
    code, _, err = run(capsys, "check", str(fifo))
    assert code == 2
    assert "not a regular file" in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--format", "xml", "x"])
    assert exit_info.value.code == 2


def test_cat_prints_canonical_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "img").write_text(
        "# comment\n\n" + VALID.replace("Tags: 1.0, latest", "Tags: 1.0,\n latest")
    )
    code, out, _ = run(capsys, "cat", str(tmp_path / "img"))
    assert code == 0
    assert out == VALID.rstrip("\n") + "\n"


def test_cat_of_an_invalid_file_fails(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cat", str(library / "bad"))
    assert (code, out) == (1, "")
    assert "invalid-git-fetch" in err


def test_rules_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    from manifest_validation.problems.catalog import RULES

    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(RULES)
    _, out, _ = run(capsys, "rules", "--format", "json")
    assert {rule["code"] for rule in json.loads(out)} == set(RULES)


def test_docs_rule_catalog_is_up_to_date() -> None:
    assert (PROJECT / "docs" / "rules.md").read_text() == render_rules_markdown()


def test_bundled_examples_behave_as_the_readme_says(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", str(PROJECT / "examples" / "library"))[0] == 0
    code, out, _ = run(capsys, "check", "--format", "json", str(PROJECT / "examples" / "invalid"))
    assert code == 1
    assert json.loads(out)["summary"]["errors"] >= 5


def test_console_script_runs_as_a_module() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "manifest_validation",
            "check",
            str(PROJECT / "examples" / "library"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "valid" in completed.stdout


def test_the_variables_the_help_names_are_the_settings() -> None:
    import importlib

    from manifest_validation import settings

    cli_main = importlib.import_module("manifest_validation.cli.main")

    assert cli_main.INSECURE_HOSTS_VARIABLE == settings.INSECURE_HOSTS
    assert cli_main.REGISTRY_MIRRORS_VARIABLE == settings.REGISTRY_MIRRORS


def test_registry_mirrors_are_host_equals_url_in_the_environment() -> None:
    from manifest_validation.settings import Settings

    settings = Settings.from_env(
        {"MANIFEST_VALIDATION_REGISTRY_MIRRORS": " docker.io=http://127.0.0.1:5000 ,, "}
    )
    assert settings.registry_mirrors == ("docker.io=http://127.0.0.1:5000",)
    for wrong in ("docker.io", "docker.io=ftp://x", "=http://x"):
        with pytest.raises(ValueError, match="MANIFEST_VALIDATION_REGISTRY_MIRRORS holds"):
            Settings.from_env({"MANIFEST_VALIDATION_REGISTRY_MIRRORS": wrong})
