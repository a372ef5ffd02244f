"""Result messages: every message validates against the result schema; ids are deterministic;
`sources` is the publisher's sources.json (its light form without upstream verification)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from manifest_validation.checks.pipeline import validate
from manifest_validation.checks.schema import result_validator
from manifest_validation.cli.main import main
from manifest_validation.results.messages import Origin, Trigger, removed_message, result_message
from manifest_validation.sources import provisional_key
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


def test_the_largest_sources_exceed_an_sqs_message(library_dir: Path) -> None:
    # php's sources are far more than 256 KiB of compact JSON: the claim-check tests of the
    # publishers exercise such messages
    data = (library_dir / "php").read_bytes()
    message = message_for("php", data)
    assert len(json.dumps(message, separators=(",", ":")).encode()) > 256 * 1024


def test_invalid_and_removed_messages_validate() -> None:
    invalid = message_for("img", b"Maintainers: nobody\n")
    assert invalid["status"] == "invalid"
    assert "sources" not in invalid
    assert schema_errors(invalid) == []
    origin = Origin.of(
        "git", b"", repository="https://e.com/oi.git", commit="a" * 40, path="library/img"
    )
    removed = removed_message("img", origin, trigger=Trigger.PUSH)
    assert removed["source"] == "https://e.com/oi.git@" + "a" * 40 + ":library/img"
    assert schema_errors(removed) == []


def test_schema_rejects_a_broken_message() -> None:
    message = message_for("hello-world", EXAMPLE.read_bytes())
    source = next(iter(message["sources"].values()))
    del source["entries"][0]["SOURCE_DATE_EPOCH"]
    assert schema_errors(message)
    message = message_for("hello-world", EXAMPLE.read_bytes())
    message["sources"]["not-a-source-id"] = next(iter(message["sources"].values()))
    assert schema_errors(message)
    message = message_for("hello-world", EXAMPLE.read_bytes())
    message["status"] = "invalid"  # invalid needs an error and no sources
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


def test_sources_without_verification_are_sources_sh_light_form() -> None:
    message = message_for("hello-world", EXAMPLE.read_bytes())
    sources = message["sources"]
    # one source per build context: each Linux architecture has its own Directory
    assert [list(source["arches"]) for source in sources.values()] == [
        ["amd64"],
        ["arm64v8"],
        ["s390x"],
        ["windows-amd64"],
    ]
    commit = "3981a44a531e7c844d844e12cbbda232d10d5dfb"
    assert list(sources)[1] == provisional_key(commit, "arm64v8", "Dockerfile", "")
    arm64 = sources[list(sources)[1]]
    assert (arm64["sourceId"], arm64["reproducibleGitChecksum"]) == (None, None)
    assert arm64["entries"] == [
        {
            "GitRepo": "https://github.com/example/hello-world.git",
            "GitFetch": "refs/heads/master",
            "GitCommit": commit,
            "Directory": "arm64v8",
            "File": "Dockerfile",
            "Builder": "",
            "SOURCE_DATE_EPOCH": None,
        }
    ]
    arm = arm64["arches"]["arm64v8"]
    assert arm["tags"] == ["hello-world:linux", "hello-world:latest"]
    assert arm["archTags"] == ["arm64v8/hello-world:linux", "arm64v8/hello-world:latest"]
    assert arm["platformString"] == "linux/arm64/v8"
    assert arm["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert (arm["froms"], arm["lastStageFrom"], arm["parents"]) == ([], None, None)
    win = sources[list(sources)[3]]["arches"]["windows-amd64"]
    assert win["tags"] == [
        "hello-world:nanoserver-ltsc2022",
        "hello-world:nanoserver",
        "hello-world:latest",
    ]
    assert win["platformString"] == "windows/amd64"
    assert win["archTags"][0] == "winamd64/hello-world:nanoserver-ltsc2022"
    assert win["platform"] == {"architecture": "amd64", "os": "windows"}


def test_sources_are_part_of_the_id_and_can_be_left_out() -> None:
    data = EXAMPLE.read_bytes()
    result = validate("hello-world", data)
    origin = Origin.of("http", data)
    full = result_message(result, origin, trigger=Trigger.CI, verify_git=False)
    bare = result_message(result, origin, trigger=Trigger.CI, verify_git=False, with_sources=False)
    assert "sources" not in bare and schema_errors(bare) == []
    other = result_message(result, origin, trigger=Trigger.CI, verify_git=False, sources={})
    assert len({full["id"], bare["id"], other["id"]}) == 3


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
