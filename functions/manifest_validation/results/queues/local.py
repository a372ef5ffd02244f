"""An embedded, durable results queue in SQLite, for running without AWS.

Semantics, chosen to be the local counterpart of the SQS FIFO queue:

* **Order** — messages get a strictly increasing ``sequence`` (``AUTOINCREMENT``, so a number is
  never reused after acknowledge/purge: acknowledging a stale sequence cannot remove a newer
  message). :meth:`LocalResultQueue.pending` returns them oldest first.
* **De-duplication** — on ``id``, for as long as the message is pending. SQS forgets an id after
  5 minutes; here there is no clock: a second publish of an id is a no-op until the first is
  acknowledged (or purged), after which the same result can be queued again. That mirrors the
  purpose of FIFO dedup (a retried publish must not produce a second copy) without making a
  result unpublishable forever. The first body wins, as in SQS; same id means same result.
* **Atomicity** — one ``publish`` is one transaction: every valid message is stored or none is.
* **Once per job run** — :meth:`LocalResultQueue.publish_once` records the job run (its run key)
  in the ``published`` table and stores its result in the same transaction: either both happen
  or neither, so a job run's result is published once, whatever is retried (see
  ``results.once``). Those rows are forgotten after ``JOB_TTL_SECONDS``, like the ledger's.
* **Durability and concurrency** — WAL mode with ``synchronous=FULL`` (a committed publish
  survives a crash or power loss); every operation opens its own connection, so one
  instance is safe to share between threads, and the busy timeout makes concurrent writers
  (threads or processes) wait for each other instead of failing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..ledger import JOB_TTL_SECONDS
from .base import PublishError, PublishFailure, prepare

__all__ = ["DATABASE_NAME", "LocalResultQueue", "QueuedResult"]

DATABASE_NAME = "results.sqlite3"
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    manifest    TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    enqueued_at TEXT    NOT NULL
)
"""
# The job runs whose result was published (added without a version bump: older readers ignore it).
_LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS published (
    run_key      TEXT PRIMARY KEY,
    result_id    TEXT NOT NULL,
    published_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class QueuedResult:
    """A message waiting in the local queue."""

    sequence: int
    id: str
    manifest: str
    enqueued_at: datetime
    body: dict[str, Any]

    @property
    def status(self) -> str | None:
        status = self.body.get("status")
        return status if isinstance(status, str) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "id": self.id,
            "manifest": self.manifest,
            "status": self.status,
            "enqueued_at": _timestamp(self.enqueued_at),
            "body": self.body,
        }


class LocalResultQueue:
    """A :class:`~manifest_validation.queues.base.ResultQueue` in ``state_dir/results.sqlite3``."""

    def __init__(self, state_dir: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / DATABASE_NAME
        self.busy_timeout = busy_timeout
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            # journal_mode=WAL is persistent in the file; readers then never block the writer.
            connection.execute("PRAGMA journal_mode=WAL")
            with _transaction(connection):
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if version > _SCHEMA_VERSION:
                    raise RuntimeError(
                        f"{self.path} was written by a newer version (schema {version})"
                    )
                connection.execute(_SCHEMA)
                connection.execute(_LEDGER_SCHEMA)
                connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def describe(self) -> str:
        return f"local SQLite queue at {self.path}"

    def publish(self, messages: Sequence[Mapping[str, Any]]) -> None:
        prepared, failures = prepare(messages)
        published: list[str] = []
        if prepared:
            enqueued_at = _timestamp(datetime.now(UTC))
            rows = [
                (item.id, item.manifest, item.body.decode("ascii"), enqueued_at)
                for item in prepared
            ]
            try:
                with self._connect() as connection, _transaction(connection):
                    connection.executemany(
                        "INSERT INTO results (id, manifest, body, enqueued_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                        rows,
                    )
            except sqlite3.Error as error:
                # The transaction rolled back: none of the valid messages was stored.
                # "database is locked" or a full disk may clear up; call it retryable.
                failures.extend(
                    PublishFailure(item.index, item.id, f"SQLite: {error}", True)
                    for item in prepared
                )
            else:
                published = [item.id for item in prepared]
        if failures:
            failures.sort(key=lambda failure: failure.index)
            raise PublishError(failures, published=published)

    def publish_once(
        self, run_key: str, message: Mapping[str, Any], *, lease_seconds: float = 0.0
    ) -> bool:
        """Publish `message` as the result of job run `run_key` unless one was; True when this
        call published. The run's row and the result go in in one transaction. (No lease: the
        transaction is the claim.)"""
        prepared, failures = prepare([message])
        if failures:
            raise PublishError(failures)
        (item,) = prepared
        now = datetime.now(UTC)
        forgotten = _timestamp(now - timedelta(seconds=JOB_TTL_SECONDS))
        try:
            with self._connect() as connection, _transaction(connection):
                connection.execute("DELETE FROM published WHERE published_at < ?", (forgotten,))
                inserted = connection.execute(
                    "INSERT INTO published (run_key, result_id, published_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (run_key) DO NOTHING",
                    (run_key, item.id, _timestamp(now)),
                ).rowcount
                if inserted:
                    connection.execute(
                        "INSERT INTO results (id, manifest, body, enqueued_at)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                        (item.id, item.manifest, item.body.decode("ascii"), _timestamp(now)),
                    )
        except sqlite3.Error as error:
            raise PublishError([PublishFailure(0, item.id, f"SQLite: {error}", True)]) from error
        return bool(inserted)

    def published(self, run_keys: Collection[str]) -> set[str]:
        """Those of `run_keys` whose result was published (within JOB_TTL_SECONDS)."""
        keys = list(run_keys)
        found: set[str] = set()
        with self._connect() as connection:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT run_key FROM published WHERE run_key IN ({marks})", chunk
                ).fetchall()
                found.update(row[0] for row in rows)
        return found

    def pending(self, limit: int | None = None) -> list[QueuedResult]:
        """Waiting messages, oldest first (at most ``limit`` of them)."""
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT sequence, id, manifest, enqueued_at, body FROM results"
                " ORDER BY sequence LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [
            QueuedResult(sequence, id_, manifest, datetime.fromisoformat(at), json.loads(body))
            for sequence, id_, manifest, at, body in rows
        ]

    def count(self) -> int:
        """How many messages are waiting (for "showing N of M")."""
        with self._connect() as connection:
            return int(connection.execute("SELECT count(*) FROM results").fetchone()[0])

    def acknowledge(self, sequences: Iterable[int]) -> int:
        """Remove consumed messages by sequence; returns how many were removed.

        Unknown sequences are ignored, so acknowledging twice is harmless.
        """
        numbers = [(int(sequence),) for sequence in sequences]
        with self._connect() as connection, _transaction(connection):
            before = connection.total_changes
            connection.executemany("DELETE FROM results WHERE sequence = ?", numbers)
            return connection.total_changes - before

    def purge(self) -> int:
        """Remove every waiting message; returns how many were removed."""
        with self._connect() as connection, _transaction(connection):
            return connection.execute("DELETE FROM results").rowcount

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: sqlite3 connections must not be shared across threads
        # without care, and opening one is cheap next to an fsync. isolation_level=None hands
        # transaction control to _transaction.
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            # Not left to the compile-time default: FULL is what makes a commit crash-durable.
            connection.execute("PRAGMA synchronous=FULL")
            yield connection
        finally:
            connection.close()


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout instead
    # of both reading and then failing to upgrade (which SQLite resolves with SQLITE_BUSY).
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
