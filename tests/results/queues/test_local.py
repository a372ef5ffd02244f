"""LocalResultQueue: the SQLite queue's ordering, de-duplication, durability and concurrency."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from manifest_validation.cli.serve import render_pending
from manifest_validation.results.queues import (
    LocalResultQueue,
    PublishError,
    QueuedResult,
    ResultQueue,
)
from paths import PROJECT

from .conftest import result


@pytest.fixture
def queue(tmp_path: Path) -> LocalResultQueue:
    return LocalResultQueue(tmp_path / "state")


def test_publish_then_pending_returns_what_was_published(queue: LocalResultQueue) -> None:
    assert isinstance(queue, ResultQueue)
    before = datetime.now(UTC)
    messages = [result("python"), result("golang", status="invalid")]

    queue.publish(messages)

    pending = queue.pending()
    assert [(p.id, p.manifest, p.status, p.body) for p in pending] == [
        (m["id"], m["manifest"], m["status"], m) for m in messages
    ]
    assert pending[0].sequence < pending[1].sequence
    for item in pending:
        assert item.enqueued_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= item.enqueued_at <= datetime.now(UTC)
    assert queue.count() == 2
    assert "results.sqlite3" in queue.describe()


def test_state_dir_is_created_with_parents_in_wal_mode(tmp_path: Path) -> None:
    queue = LocalResultQueue(tmp_path / "a" / "b" / "c")
    assert queue.path == tmp_path / "a" / "b" / "c" / "results.sqlite3"
    with sqlite3.connect(queue.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_same_id_is_queued_once_while_pending(queue: LocalResultQueue) -> None:
    first = result("python")
    queue.publish([first, dict(first)])
    queue.publish([{**first, "status": "changed"}])  # same id: the first body wins, as in SQS

    (only,) = queue.pending()
    assert only.body == first


def test_acknowledged_id_can_be_queued_again(queue: LocalResultQueue) -> None:
    message = result("python")
    queue.publish([message])
    (first,) = queue.pending()
    assert queue.acknowledge([first.sequence]) == 1

    queue.publish([message])

    (again,) = queue.pending()
    assert again.id == message["id"]
    assert again.sequence > first.sequence  # sequences are never reused


def test_pending_is_oldest_first_and_limited(queue: LocalResultQueue) -> None:
    messages = [result(f"image{n}", n=n) for n in range(7)]
    for message in messages:
        queue.publish([message])

    assert [p.id for p in queue.pending()] == [m["id"] for m in messages]
    assert [p.id for p in queue.pending(limit=3)] == [m["id"] for m in messages[:3]]
    assert queue.pending(limit=0) == []
    with pytest.raises(ValueError):
        queue.pending(limit=-1)


def test_acknowledge_and_purge(queue: LocalResultQueue) -> None:
    queue.publish([result(f"image{n}") for n in range(5)])
    sequences = [p.sequence for p in queue.pending()]

    assert queue.acknowledge(sequences[:2]) == 2
    assert queue.acknowledge(sequences[:2]) == 0  # acknowledging twice is harmless
    assert queue.acknowledge([]) == 0
    assert [p.sequence for p in queue.pending()] == sequences[2:]
    assert queue.purge() == 3
    assert queue.pending() == [] and queue.count() == 0


def test_messages_survive_reopening_the_directory(tmp_path: Path) -> None:
    messages = [result("python"), result("golang")]
    LocalResultQueue(tmp_path).publish(messages)

    reopened = LocalResultQueue(tmp_path)

    assert [p.body for p in reopened.pending()] == messages
    reopened.publish([messages[0]])  # dedup state is durable too
    assert reopened.count() == 2


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    LocalResultQueue(tmp_path)
    with sqlite3.connect(tmp_path / "results.sqlite3") as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(RuntimeError, match="newer version"):
        LocalResultQueue(tmp_path)


def test_invalid_messages_fail_and_valid_ones_are_stored(queue: LocalResultQueue) -> None:
    good = result("python")
    messages: list[Any] = [
        good,
        {"id": "no-manifest"},
        {"id": "abc", "manifest": "a/b"},
        {"id": "def", "manifest": "python", "when": datetime.now(UTC)},
    ]

    with pytest.raises(PublishError) as caught:
        queue.publish(messages)

    assert [(f.index, f.id, f.retryable) for f in caught.value.failures] == [
        (1, "no-manifest", False),
        (2, "abc", False),
        (3, "def", False),
    ]
    assert caught.value.published == (good["id"],)
    assert [p.id for p in queue.pending()] == [good["id"]]


def test_locked_database_fails_the_whole_call_as_retryable(tmp_path: Path) -> None:
    queue = LocalResultQueue(tmp_path, busy_timeout=0.05)
    holder = sqlite3.connect(tmp_path / "results.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past our busy timeout
    messages = [result("python"), result("golang")]
    try:
        with pytest.raises(PublishError) as caught:
            queue.publish(messages)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    error = caught.value
    assert [f.id for f in error.failures] == [m["id"] for m in messages]
    assert error.retryable and error.published == ()
    assert "locked" in error.failures[0].reason
    assert queue.pending() == []  # atomic: nothing half-stored
    queue.publish(messages)  # and the retry works once the lock is gone
    assert queue.count() == 2


@pytest.mark.slow
def test_concurrent_publishers_in_threads(queue: LocalResultQueue) -> None:
    # Overlapping ranges: every id is published by two threads at once.
    workers, per_worker = 8, 20
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(worker * 10, worker * 10 + per_worker):
                queue.publish([result(f"image{n % 5}", n=n)])
        except BaseException as error:  # surfaced below; a thread cannot fail the test itself
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    pending = queue.pending()
    expected = {result(f"image{n % 5}", n=n)["id"] for n in range(workers * 10 + 10)}
    assert {p.id for p in pending} == expected
    assert len(pending) == len(expected)
    sequences = [p.sequence for p in pending]
    assert sequences == sorted(set(sequences))


@pytest.mark.slow
def test_concurrent_publishers_in_processes(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(PROJECT)!r})
        from manifest_validation.results.queues import LocalResultQueue
        from tests.results.queues.conftest import result
        queue = LocalResultQueue({str(tmp_path)!r})
        start = int(sys.argv[1])
        for n in range(start, start + 60):
            queue.publish([result("python", n=n)])
        """
    )
    LocalResultQueue(tmp_path)  # create the schema first so both children only insert
    children = [
        subprocess.Popen([sys.executable, "-c", script, str(start)], stderr=subprocess.PIPE)
        for start in (0, 30)
    ]
    for child in children:
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr.decode()

    pending = LocalResultQueue(tmp_path).pending()
    assert len(pending) == 90
    assert {p.id for p in pending} == {result("python", n=n)["id"] for n in range(90)}


# -- rendering ------------------------------------------------------------------------------


def item(sequence: int, manifest: str, status: str | None) -> QueuedResult:
    body: dict[str, Any] = {"id": f"{sequence:02x}" + "f" * 62, "manifest": manifest}
    if status is not None:
        body["status"] = status
    return QueuedResult(
        sequence, body["id"], manifest, datetime(2024, 5, 1, 12, 0, sequence, tzinfo=UTC), body
    )


def test_render_text_aligns_columns_and_counts() -> None:
    items = [item(9, "python", "valid"), item(10, "golang", None)]
    text = render_pending(items, "text")
    assert text.splitlines() == [
        "9   2024-05-01T12:00:09Z  python  valid  09ffffffffff",
        "10  2024-05-01T12:00:10Z  golang  -      0affffffffff",
        "2 pending results",
    ]
    assert render_pending(items[:1], "text", total=5).splitlines()[-1] == "1 of 5 pending results"
    assert render_pending([], "text") == "0 pending results\n"


def test_render_json_lists_full_messages() -> None:
    document = json.loads(render_pending([item(3, "python", "invalid")], "json"))
    assert document == [
        {
            "sequence": 3,
            "id": "03" + "f" * 62,
            "manifest": "python",
            "status": "invalid",
            "enqueued_at": "2024-05-01T12:00:03.000000Z",
            "body": {"id": "03" + "f" * 62, "manifest": "python", "status": "invalid"},
        }
    ]
    assert json.loads(render_pending([], "json")) == []
    with pytest.raises(ValueError, match="format"):
        render_pending([], "yaml")


def test_render_round_trips_from_the_queue(queue: LocalResultQueue) -> None:
    queue.publish([result("python")])
    document = json.loads(render_pending(queue.pending(), "json"))
    assert document[0]["body"] == queue.pending()[0].body
