"""Result messages: every message validates against the result schema; ids are deterministic;
the build plan carries what the publisher needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from manifest_validation.checks.pipeline import validate
from manifest_validation.checks.schema import result_validator
from manifest_validation.cli.main import main
from manifest_validation.results.messages import Origin, Trigger, removed_message, result_message
from paths import PROJECT

EXAMPLE = PROJECT / "examples" / "library" / "hello-world"


def schema_errors(message: dict[str, Any]) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in result_validator().iter_errors(message)
    ]


def message_for(name: str, data: bytes, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("trigger", Trigger.CI)
    kwargs.setdefault("verify_git", False)
    return result_message(validate(name, data), Origin.of("http", data), **kwargs)


@pytest.mark.slow
def test_every_corpus_message_validates(corpus: list[tuple[str, bytes]]) -> None:
    for name, data in corpus:
        message = message_for(name, data)
        assert message["status"] == "valid"
        assert schema_errors(message) == [], name


def test_the_largest_build_plans_exceed_an_sqs_message(library_dir: Path) -> None:
    # php's plan is ~350 KiB of compact JSON, python's ~150 KiB: both are exercised by the
    # claim-check tests of the publishers
    data = (library_dir / "php").read_bytes()
    message = message_for("php", data)
    assert len(json.dumps(message, separators=(",", ":")).encode()) > 256 * 1024


def test_invalid_and_removed_messages_validate() -> None:
    invalid = message_for("img", b"Maintainers: nobody\n")
    assert invalid["status"] == "invalid"
    assert "build_plan" not in invalid
    assert schema_errors(invalid) == []
    origin = Origin.of(
        "git", b"", repository="https://e.com/oi.git", commit="a" * 40, path="library/img"
    )
    removed = removed_message("img", origin, trigger=Trigger.PUSH)
    assert removed["source"] == "https://e.com/oi.git@" + "a" * 40 + ":library/img"
    assert schema_errors(removed) == []


def test_schema_rejects_a_broken_message() -> None:
    message = message_for("hello-world", EXAMPLE.read_bytes())
    del message["build_plan"]
    assert schema_errors(message)
    message = message_for("hello-world", EXAMPLE.read_bytes())
    message["status"] = "invalid"  # invalid needs an error and no build plan
    assert schema_errors(message)


def test_id_depends_on_content_checks_and_outcome_only() -> None:
    data = EXAMPLE.read_bytes()
    first = message_for("hello-world", data, checked_at="2026-01-01T00:00:00Z")
    again = message_for("hello-world", data, trigger=Trigger.SCHEDULE)
    assert first["id"] == again["id"]
    assert first["checked_at"] != again["checked_at"]
    assert message_for("hello-world", data, verify_git=True)["id"] != first["id"]
    assert message_for("hello-world", data + b"\n")["id"] != first["id"]
    assert message_for("other-name", data)["id"] != first["id"]


def test_build_plan_matches_sources_json_names() -> None:
    message = message_for("hello-world", EXAMPLE.read_bytes())
    linux, windows = message["build_plan"]["sources"]
    assert linux["tags"] == ["hello-world:linux"]
    assert linux["sharedTags"] == ["hello-world:latest"]
    assert set(linux["arches"]) == {"amd64", "arm64v8", "s390x"}
    arm = linux["arches"]["arm64v8"]
    assert arm["Directory"] == "arm64v8"
    assert arm["platformString"] == "linux/arm64/v8"
    assert arm["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert arm["archTags"] == ["arm64v8/hello-world:linux", "arm64v8/hello-world:latest"]
    assert linux["entry"]["GitCommit"] == "3981a44a531e7c844d844e12cbbda232d10d5dfb"
    win = windows["arches"]["windows-amd64"]
    assert win["platformString"] == "windows/amd64"
    assert win["archTags"][0] == "winamd64/hello-world:nanoserver-ltsc2022"
    assert windows["constraints"] == ["nanoserver-ltsc2022"]
    assert linux["sourceId"] != windows["sourceId"]


def test_cli_json_results_are_result_messages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["check", "--format", "json", str(PROJECT / "examples") + "/library"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    for message in document["results"]:
        assert message["trigger"] == "cli"
        assert message["origin"]["kind"] == "file"
        assert message["source"] == message["origin"]["path"]
        assert schema_errors(message) == []
