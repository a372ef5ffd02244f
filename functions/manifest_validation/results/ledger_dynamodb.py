"""The delivery ledger on DynamoDB (`results.ledger` says what it records and why).

One item per record in the stack's table (key `id`, TTL attribute `expiration`):

| attribute | type | meaning |
| --- | --- | --- |
| `id` | S | `run#<sha256>` or `job#<run key>` |
| `status` | S | `in_progress` or `done` |
| `owner` | S | the current holder (a random id per claim) |
| `in_progress_expiration` | N | the holder's lease ends (epoch milliseconds) |
| `expiration` | N | the record expires (epoch seconds; DynamoDB's TTL deletes it later) |
| `sent` | SS | run keys of jobs recorded as enqueued (while in progress) |
| `message` | B | the result being published, zlib-compressed (while in progress) |
| `delivery`, `pin`, `jobs` | S, S, N | a push's first delivery; a run's commit; a fan-out's size |

Every call is one item operation: a claim is a PutItem conditional on the record being absent
or expired (ReturnValuesOnConditionCheckFailure gives what blocked it, without a read), taking
over an abandoned record an UpdateItem conditional on its previous owner and lease; `add_sent`,
`complete` and `release` are UpdateItems; `done` is a BatchGetItem (consistent reads). The
calls are exactly PutItem, UpdateItem and BatchGetItem (no read of one item, no scan, no
delete): what the functions' roles are granted in template.yaml.

DynamoDB compares nothing with a clock: `now` is this function's, and an expired record is one
whose `expiration` has passed whether or not TTL deleted it yet.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any, NoReturn

from .ledger import Claim, ClaimState, LedgerUnavailable
from .outage import aws_error_reason, is_outage

IN_PROGRESS, DONE = "in_progress", "done"
LEASE = "in_progress_expiration"  # epoch milliseconds (Powertools' name, kept)
EXPIRATION = "expiration"  # the table's TTL attribute (template.yaml)
BATCH_GET = 100  # keys per BatchGetItem
CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoDbLedger:
    def __init__(
        self,
        table: str,
        *,
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self._client = client
        self._clock = clock

    def describe(self) -> str:
        return f"DynamoDB table {self.table}"

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # short timeouts: a webhook has 10 s to answer, and a slow store is an outage
            config = Config(connect_timeout=2, read_timeout=5)
            self._client = boto3.client("dynamodb", config=config)
        return self._client

    # -- claims ---------------------------------------------------------------------------------

    def claim(
        self,
        key: str,
        *,
        lease_seconds: float,
        ttl_seconds: float,
        message: bytes | None = None,
        delivery: str | None = None,
        pin: str | None = None,
    ) -> Claim:
        now = self._clock()
        owner = uuid.uuid4().hex
        item: dict[str, Any] = {
            "id": {"S": key},
            "status": {"S": IN_PROGRESS},
            "owner": {"S": owner},
            LEASE: {"N": str(int((now + lease_seconds) * 1000))},
            EXPIRATION: {"N": str(int(now + ttl_seconds))},
        }
        if message is not None:
            item["message"] = {"B": message}
        if delivery is not None:
            item["delivery"] = {"S": delivery}
        if pin is not None:
            item["pin"] = {"S": pin}
        blocked = self._call(
            "PutItem",
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(#id) OR #expiration < :now",
            ExpressionAttributeNames={"#id": "id", "#expiration": EXPIRATION},
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if blocked is None:
            return Claim(key, ClaimState.ACQUIRED, owner, frozenset(), message, delivery, pin)
        state = self._state(blocked, now)
        if state is not None:
            return _claim(key, state, blocked, "")
        return self._take_over(key, blocked, owner, now, lease_seconds, message, pin)

    def _take_over(
        self,
        key: str,
        old: Mapping[str, Any],
        owner: str,
        now: float,
        lease_seconds: float,
        message: bytes | None,
        pin: str | None,
    ) -> Claim:
        """The record's holder is gone (its lease is over): become its holder, keeping what it
        recorded, unless someone else did first."""
        sets = ["#owner = :owner", "#lease = :lease"]
        values: dict[str, Any] = {
            ":owner": {"S": owner},
            ":lease": {"N": str(int((now + lease_seconds) * 1000))},
            ":old_lease": old.get(LEASE, {"N": "0"}),
            ":in_progress": {"S": IN_PROGRESS},
        }
        if message is not None:
            sets.append("#message = if_not_exists(#message, :message)")
            values[":message"] = {"B": message}
        if pin is not None:
            sets.append("#pin = if_not_exists(#pin, :pin)")
            values[":pin"] = {"S": pin}
        names = {"#owner": "owner", "#lease": LEASE, "#status": "status"}
        names.update({"#message": "message"} if message is not None else {})
        names.update({"#pin": "pin"} if pin is not None else {})
        condition = "#status = :in_progress AND "
        if "owner" in old:
            condition += "#owner = :old_owner AND "
            values[":old_owner"] = old["owner"]
        condition += "#lease = :old_lease" if LEASE in old else "attribute_not_exists(#lease)"
        if LEASE not in old:
            del values[":old_lease"]
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key={"id": {"S": key}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:
            blocked = self._blocked_by("UpdateItem", error)
            if blocked is None:  # gone meanwhile (expired and deleted): a new claim next time
                return Claim(key, ClaimState.BUSY)
            return _claim(key, self._state(blocked, now) or ClaimState.BUSY, blocked, "")
        return _claim(key, ClaimState.RESUMED, answer.get("Attributes", {}), owner)

    # -- progress -------------------------------------------------------------------------------

    def add_sent(self, claim: Claim, run_keys: Collection[str]) -> None:
        if not run_keys:
            return
        self._call_plain(
            "UpdateItem",
            TableName=self.table,
            Key={"id": {"S": claim.key}},
            UpdateExpression="ADD #sent :sent",
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#sent": "sent", "#id": "id"},
            ExpressionAttributeValues={":sent": {"SS": sorted(set(run_keys))}},
            tolerate_condition=True,
        )

    def complete(self, claim: Claim, *, jobs: int | None = None) -> bool:
        sets = "SET #status = :done" + (", #jobs = :jobs" if jobs is not None else "")
        values: dict[str, Any] = {":done": {"S": DONE}, ":owner": {"S": claim.owner}}
        names = {"#status": "status", "#owner": "owner", "#lease": LEASE}
        names.update({"#sent": "sent", "#message": "message"})
        if jobs is not None:
            values[":jobs"] = {"N": str(jobs)}
            names["#jobs"] = "jobs"
        answer = self._call_plain(
            "UpdateItem",
            TableName=self.table,
            Key={"id": {"S": claim.key}},
            UpdateExpression=sets + " REMOVE #owner, #lease, #sent, #message",
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            tolerate_condition=True,
        )
        return answer is not None

    def release(self, claim: Claim) -> None:
        self._call_plain(
            "UpdateItem",
            TableName=self.table,
            Key={"id": {"S": claim.key}},
            UpdateExpression="SET #lease = :zero",
            ConditionExpression="#owner = :owner AND #status = :in_progress",
            ExpressionAttributeNames={"#lease": LEASE, "#owner": "owner", "#status": "status"},
            ExpressionAttributeValues={
                ":zero": {"N": "0"},
                ":owner": {"S": claim.owner},
                ":in_progress": {"S": IN_PROGRESS},
            },
            tolerate_condition=True,
        )

    def done(self, keys: Collection[str]) -> set[str]:
        now = self._clock()
        wanted = sorted(set(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"id": {"S": key}} for key in wanted[start : start + BATCH_GET]],
                    "ConsistentRead": True,
                    "ProjectionExpression": "#id, #status, #expiration",
                    "ExpressionAttributeNames": {
                        "#id": "id",
                        "#status": "status",
                        "#expiration": EXPIRATION,
                    },
                }
            }
            for _ in range(5):  # unprocessed keys (throttling) come back; a few rounds, then fail
                answer = self._call_plain("BatchGetItem", RequestItems=request) or {}
                for item in answer.get("Responses", {}).get(self.table, []):
                    if item.get("status", {}).get("S") == DONE and not self._expired(item, now):
                        found.add(item["id"]["S"])
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05)
            else:
                raise LedgerUnavailable("DynamoDB left keys unprocessed (throttled)")
        return found

    # -- helpers --------------------------------------------------------------------------------

    def _state(self, item: Mapping[str, Any], now: float) -> ClaimState | None:
        """DONE or BUSY for a record that blocks a claim; None for one a claim may take over."""
        if self._expired(item, now):
            return None
        if item.get("status", {}).get("S") == DONE:
            return ClaimState.DONE
        lease = int(item.get(LEASE, {}).get("N", "0"))
        return ClaimState.BUSY if lease > now * 1000 else None

    @staticmethod
    def _expired(item: Mapping[str, Any], now: float) -> bool:
        return int(item.get(EXPIRATION, {}).get("N", "0")) < now

    def _call(self, operation: str, **request: Any) -> Mapping[str, Any] | None:
        """A conditional write: None when it was made, else the item that failed its
        condition (ReturnValuesOnConditionCheckFailure)."""
        try:
            getattr(self.client, _method(operation))(**request)
        except Exception as error:
            blocked = self._blocked_by(operation, error)
            if blocked is None:
                raise LedgerUnavailable(f"{operation}: the record vanished meanwhile") from error
            return blocked
        return None

    def _call_plain(
        self, operation: str, *, tolerate_condition: bool = False, **request: Any
    ) -> dict[str, Any] | None:
        """A call whose failed condition (when tolerated) answers None."""
        try:
            answer: dict[str, Any] = getattr(self.client, _method(operation))(**request)
        except Exception as error:
            if tolerate_condition and _code(error) == CONDITION_FAILED:
                return None
            self._fail(operation, error)
        return answer

    def _blocked_by(self, operation: str, error: Exception) -> Mapping[str, Any] | None:
        """The item a failed condition returned (None if it returned none)."""
        if _code(error) != CONDITION_FAILED:
            self._fail(operation, error)
        item: Mapping[str, Any] | None = getattr(error, "response", {}).get("Item")
        return item

    def _fail(self, operation: str, error: Exception) -> NoReturn:
        """An outage is LedgerUnavailable; anything else (access denied, no such table, a bug)
        is raised as it is."""
        if not is_outage(error):
            raise error
        reason, _ = aws_error_reason(error)
        raise LedgerUnavailable(f"{self.table}: {operation}: {reason}") from error


def _claim(key: str, state: ClaimState, item: Mapping[str, Any], owner: str) -> Claim:
    message = item.get("message", {}).get("B")
    jobs = item.get("jobs", {}).get("N")
    return Claim(
        key,
        state,
        owner,
        frozenset(item.get("sent", {}).get("SS", [])),
        bytes(message) if message is not None and state is ClaimState.RESUMED else None,
        item.get("delivery", {}).get("S"),
        item.get("pin", {}).get("S"),
        int(jobs) if jobs is not None else None,
    )


def _code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code")) or None
    return None


def _method(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
