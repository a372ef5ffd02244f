"""Requests to the HTTP API as API Gateway hands them to the Lambda handler (through
doors.py), and what tests read from the answers and the results queue."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import doors
from manifest_validation.checks.schema import result_validator
from manifest_validation.handlers.local_server import http_api_event
from paths import PROJECT

HELLO = (PROJECT / "examples" / "library" / "hello-world").read_text()
BROKEN = (PROJECT / "examples" / "invalid" / "broken-db").read_text()
TOKEN = "t0ken-for-tests"
HELLO_ITEM = {"name": "hello-world", "content": HELLO}
BROKEN_ITEM = {"name": "db", "content": BROKEN}
REGION = "us-east-1"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    path: str,
    body: bytes | str = b"",
    *,
    content_type: str | None = "application/json",
    token: str | None = TOKEN,
    base64_body: bool = False,
) -> Answer:
    headers = [("Host", "api.example.com"), ("User-Agent", "pytest")]
    if content_type:
        headers.append(("Content-Type", content_type))
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    data = body.encode() if isinstance(body, str) else body
    event = http_api_event(method, path, headers, data)
    if base64_body and data:
        event["body"] = base64.b64encode(data).decode()
        event["isBase64Encoded"] = True
    response = doors.current().api(event)
    return Answer(response["statusCode"], response.get("headers") or {}, response.get("body", ""))


def validations(payload: Any, query: str = "", **kwargs: Any) -> Answer:
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return call("POST", "/v1/validations" + query, body, **kwargs)


def assert_schema_valid(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        errors = [e.message for e in result_validator().iter_errors(message)]
        assert errors == [], message["manifest"]


@dataclass
class Queue:
    sqs: Any
    s3: Any
    url: str
    bucket: str

    def received(self) -> list[dict[str, Any]]:
        out = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return out
            for message in batch:
                out.append(message)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
