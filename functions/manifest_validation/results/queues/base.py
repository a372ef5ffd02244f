"""The results-queue port: what publishing validation results means, independent of transport.

A result is a JSON object with a string ``id`` (a deterministic sha256 hex: the same id is the
same result, so it doubles as the de-duplication key) and a ``manifest`` (the image name, which
is also the ordering group). Both implementations share :func:`prepare` so that a message the
local queue accepts is one SQS would accept too; otherwise a developer could publish happily
offline and only discover in production that an id or name is unusable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "PreparedMessage",
    "PublishError",
    "PublishFailure",
    "ResultQueue",
    "encode_body",
    "prepare",
]

# SQS's rule for MessageDeduplicationId and MessageGroupId: 1-128 characters, each alphanumeric
# or ASCII punctuation (i.e. printable ASCII without the space).
_DEDUP_ID = re.compile(r"[!-~]{1,128}")
# The manifest becomes the FIFO group id *and* a path segment of the claim-check S3 key, so it
# is held to the library-file naming rule: no "/", no leading dot, nothing that could make the
# key ambiguous or climb out of the prefix.
_MANIFEST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True, slots=True)
class PublishFailure:
    """One message that was not published.

    ``index`` is the message's position in the sequence given to ``publish`` so that callers
    can retry exactly the failed ones even when ``id`` is missing or malformed (then ``id`` is
    ``None``). ``retryable`` says whether publishing the same message again may succeed.
    """

    index: int
    id: str | None
    reason: str
    retryable: bool


class PublishError(Exception):
    """Some messages were not published; every other message of the call was.

    Partial success is reported precisely: :attr:`failures` lists each failed message (with its
    index and reason) and :attr:`published` the ids that did reach the queue, so a caller can
    retry ``[messages[f.index] for f in error.failures]`` without re-sending the rest (re-sending
    would be harmless anyway thanks to de-duplication, but wasteful).
    """

    def __init__(self, failures: Sequence[PublishFailure], *, published: Sequence[str] = ()):
        if not failures:
            raise ValueError("PublishError needs at least one failure")
        self.failures: tuple[PublishFailure, ...] = tuple(failures)
        self.published: tuple[str, ...] = tuple(published)
        super().__init__(self._summary())

    @property
    def failed_ids(self) -> tuple[str | None, ...]:
        return tuple(failure.id for failure in self.failures)

    @property
    def retryable(self) -> bool:
        """True when every failure is worth retrying as is."""
        return all(failure.retryable for failure in self.failures)

    def _summary(self) -> str:
        total = len(self.failures) + len(self.published)
        details = "; ".join(
            f"{failure.id or f'message #{failure.index}'}: {failure.reason}"
            for failure in self.failures
        )
        return f"{len(self.failures)} of {total} result(s) not published: {details}"


@runtime_checkable
class ResultQueue(Protocol):
    """Where validation results go.

    ``publish`` either publishes every message or raises :class:`PublishError`; it never drops
    or truncates a message silently. Publishing a message whose ``id`` was already published is
    a no-op within the implementation's de-duplication scope (see each implementation).
    """

    def publish(self, messages: Sequence[Mapping[str, Any]]) -> None: ...

    def describe(self) -> str:
        """Where messages go, for humans and logs; never contains credentials."""
        ...


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A validated message and its canonical encoding."""

    index: int
    id: str
    manifest: str
    message: Mapping[str, Any]
    body: bytes


def encode_body(message: Mapping[str, Any]) -> bytes:
    """Canonical compact JSON, UTF-8.

    Sorted keys make the bytes (and so the claim-check sha256) reproducible for the same result.
    ASCII escapes because SQS rejects some valid Unicode in bodies (U+FFFE, U+FFFF) and a lone
    surrogate could not be encoded at all; escaped, any string survives. ``allow_nan=False``
    because NaN/Infinity are not JSON and other consumers would reject them.
    """
    return json.dumps(
        message, ensure_ascii=True, separators=(",", ":"), sort_keys=True, allow_nan=False
    ).encode("ascii")


def prepare(
    messages: Sequence[Mapping[str, Any]],
) -> tuple[list[PreparedMessage], list[PublishFailure]]:
    """Validate and encode messages, dropping repeats of an id within the call.

    Returns the publishable messages (first occurrence of each id, in order) and a permanent
    failure for each message that can never be published as it is.
    """
    prepared: list[PreparedMessage] = []
    failures: list[PublishFailure] = []
    seen: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            failures.append(PublishFailure(index, None, "message is not a JSON object", False))
            continue
        raw_id = message.get("id")
        message_id = raw_id if isinstance(raw_id, str) else None
        reason = _invalid_reason(message)
        if reason is not None:
            failures.append(PublishFailure(index, message_id, reason, False))
            continue
        assert message_id is not None  # _invalid_reason checked it
        if message_id in seen:
            # Same id = same result; the first occurrence represents it (as FIFO dedup would).
            continue
        try:
            body = encode_body(message)
        except (TypeError, ValueError) as error:
            failures.append(
                PublishFailure(index, message_id, f"not JSON-serialisable: {error}", False)
            )
            continue
        seen.add(message_id)
        prepared.append(PreparedMessage(index, message_id, message["manifest"], message, body))
    return prepared, failures


def _invalid_reason(message: Mapping[str, Any]) -> str | None:
    message_id = message.get("id")
    if not isinstance(message_id, str):
        return 'missing string "id"'
    if not _DEDUP_ID.fullmatch(message_id):
        return '"id" must be 1-128 printable ASCII characters without spaces'
    manifest = message.get("manifest")
    if not isinstance(manifest, str):
        return 'missing string "manifest"'
    if not _MANIFEST.fullmatch(manifest):
        return f'"manifest" {manifest[:40]!r} is not a valid image name'
    return None
