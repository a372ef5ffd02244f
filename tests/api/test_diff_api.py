"""`POST /v1/validations` with a `base` per manifest: each result carries `changes`, what the change
does (through the real Lambda handler, as in test_api)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .client import assert_schema_valid, validations

pytestmark = pytest.mark.usefixtures("api_environment")  # tokens, state dir, AWS


def test_a_base_per_manifest_gives_its_changes(library_dir: Path) -> None:
    base = (library_dir / "python").read_text()
    old_commit = re.search(r"^GitCommit: (\S+)", base, re.M)
    assert old_commit
    content = base.replace(old_commit.group(1), "0123456789abcdef0123456789abcdef01234567", 1)
    hello = (library_dir / "hello-world").read_text()
    answer = validations(
        {
            "manifests": [
                {"name": "python", "content": content, "base": base},
                {"name": "hello-world", "content": hello, "base": None},
                {"name": "busybox", "content": (library_dir / "busybox").read_text()},
            ]
        }
    )
    assert answer.status == 200
    results = {result["manifest"]: result for result in answer.json()["results"]}
    assert_schema_valid(list(results.values()))
    python = results["python"]["changes"]
    assert python["status"] == "modified"
    (changed,) = python["changed"]
    assert changed["fields"] == [
        {
            "field": "GitCommit",
            "architecture": None,
            "old": old_commit.group(1),
            "new": "0123456789abcdef0123456789abcdef01234567",
        }
    ]
    assert python["commits"][0]["ancestry"] == "not-checked"  # verify_git was off
    assert set(python["base"]) == {"sha256"}
    assert results["hello-world"]["changes"]["status"] == "added"
    assert results["hello-world"]["changes"]["base"] == {}
    assert "changes" not in results["busybox"]


def test_the_changes_are_part_of_the_result_id(library_dir: Path) -> None:
    content = (library_dir / "hello-world").read_text()
    plain = validations({"manifests": [{"name": "hello-world", "content": content}]})
    same = validations(
        {"manifests": [{"name": "hello-world", "content": content, "base": content}]}
    )
    new = validations({"manifests": [{"name": "hello-world", "content": content, "base": None}]})
    ids = {answer.json()["results"][0]["id"] for answer in (plain, same, new)}
    assert len(ids) == 3
    assert same.json()["results"][0]["changes"]["status"] == "unchanged"


def test_a_base_that_is_not_text_is_refused() -> None:
    answer = validations({"manifests": [{"name": "x", "content": "Tags: 1\n", "base": 3}]})
    assert answer.status == 400
    assert answer.json()["error"] == {
        "code": "invalid_base",
        "message": "base must be a string or null",
        "field": "manifests[0].base",
    }


def hostile_entries(count: int, tag: str = "same") -> str:
    """`count` entries that all claim one tag: every old entry pairs with every new one."""
    head = "Maintainers: J (@j)\nGitRepo: https://e.com/r.git\n"
    commit = "0123456789abcdef0123456789abcdef01234567"
    return head + "".join(
        f"\nTags: {tag}\nGitCommit: {commit}\nDirectory: d{index}\n" for index in range(count)
    )


@pytest.mark.slow
def test_a_base_too_costly_to_compare_is_refused_before_the_work() -> None:
    import time

    # 2,000 x 2,000 entries sharing a tag took minutes to pair; now a refusal naming the bound
    content, base = hostile_entries(2_000), hostile_entries(2_000).replace("d1", "e1")
    started = time.monotonic()
    answer = validations({"manifests": [{"name": "x", "content": content, "base": base}]})
    assert time.monotonic() - started < 30  # (under load; it took minutes before)
    assert answer.status == 413
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("base_too_complex", "manifests[0].base")
    assert "4,000,000 entries (at most 100,000)" in error["message"]
    # a base that inherits a huge model: refused by the rules' bound on list items
    inherited = "Maintainers: J (@j)\nGitRepo: https://e.com/r.git\nGitCommit: " + "0" * 39 + "1\n"
    inherited += "SharedTags: " + ", ".join(f"s{i}" for i in range(2_000)) + "\n"
    inherited += "".join(f"\nTags: t{i}\n" for i in range(2_000))
    answer = validations(
        {"manifests": [{"name": "x", "content": content[:200], "base": inherited}]}
    )
    assert answer.status == 413
    assert "the entries of the base inherit list values" in answer.json()["error"]["message"]
    # within the bounds, the same shape is compared
    small = hostile_entries(20)
    answer = validations({"manifests": [{"name": "x", "content": small, "base": small}]})
    assert answer.status == 200
    assert answer.json()["results"][0]["changes"]["status"] == "unchanged"


def test_a_base_that_does_not_read_cleanly_says_so_in_the_changes(library_dir: Path) -> None:
    content = (library_dir / "hello-world").read_text()
    base = content.replace("\nGitCommit:", "\nnot a field\nGitCommit:", 1)
    answer = validations({"manifests": [{"name": "hello-world", "content": content, "base": base}]})
    assert answer.status == 200
    (result,) = answer.json()["results"]
    assert_schema_valid([result])
    line = base.splitlines().index("not a field") + 1
    (found,) = result["changes"]["problems"]
    assert (found["code"], found["severity"], found["line"]) == ("bad-line", "error", None)
    assert found["message"].startswith(f"the old file, line {line}: ")
    # the new text's own errors are the result's problems, not repeated in its changes
    answer = validations({"manifests": [{"name": "hello-world", "content": base, "base": content}]})
    (result,) = answer.json()["results"]
    assert "bad-line" in [p["code"] for p in result["problems"]]
    assert result["changes"]["problems"] == []
