"""A small HTTP proxy between the code under test and moto: faults are injected at the HTTP
boundary, where AWS's own failures happen, and our code is never patched.

The functions reach AWS through `AWS_ENDPOINT_URL` = this proxy; the harness's own clients (the
poller, the results reader, setup) talk to moto directly, so a fault never hits the harness.

Each request is classified (service, operation, target queue/table/bucket) from what botocore
sends: `X-Amz-Target` for the JSON protocols (SQS, DynamoDB, SSM), the path for S3. A `Fault`
matches some of them and answers instead of moto: a service error in that protocol's own format,
a SendMessageBatch whose entries all failed (HTTP 200, SenderFault false), a pause until the test
releases the call, or a "crash": the invocation is taken as killed at that call, and every later
call of the code under test is refused until the harness has settled the invocation (nothing a
dead Lambda would do reaches AWS).

The proxy also emulates the 5-minute FIFO de-duplication window against the emulated clock
(`FifoDedupWindow`), because moto's own window differs from SQS's (tests/aws/test_harness.py
pins how).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .clock import Clock

# X-Amz-Target prefixes -> service
_TARGET_SERVICES = {
    "AmazonSQS": "sqs",
    "DynamoDB_20120810": "dynamodb",
    "AmazonSSM": "ssm",
    "secretsmanager": "secretsmanager",
}
_ERROR_NAMESPACES = {
    "sqs": "com.amazonaws.sqs",
    "dynamodb": "com.amazonaws.dynamodb.v20120810",
    "ssm": "com.amazonaws.ssm",
    "secretsmanager": "com.amazonaws.secretsmanager",
}


@dataclass
class Call:
    """One request of the code under test, as the proxy saw it."""

    number: int
    service: str
    operation: str
    target: str | None  # queue name, table name or bucket
    request: dict[str, Any] | None  # the JSON body (JSON protocols)
    status: int = 0
    injected: str | None = None  # the fault that answered, if one did


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


Action = Callable[[Call], Response | None]  # None: forward to moto


@dataclass
class Fault:
    """Matches calls by service, operation and target; lets the first `skip` matching calls
    through, then acts on the next `times` of them (None: every one until removed)."""

    name: str
    service: str
    action: Action
    operation: str | None = None
    target: str | None = None
    skip: int = 0
    times: int | None = None
    seen: int = 0
    acted: int = 0

    def matches(self, call: Call) -> bool:
        return (
            call.service == self.service
            and (self.operation is None or call.operation == self.operation)
            and (self.target is None or call.target == self.target)
        )

    def take(self) -> bool:
        """Count a matching call; whether this one is acted on."""
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times is not None and self.acted >= self.times:
            return False
        self.acted += 1
        return True


def service_error(call: Call, status: int = 500, code: str = "InternalError") -> Response:
    """The error AWS answers in the protocol of `call`'s service."""
    message = f"injected fault: {code}"
    if call.service == "s3":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            f"<Message>{message}</Message><RequestId>injected</RequestId></Error>"
        ).encode()
        return Response(status, {"Content-Type": "application/xml"}, body)
    namespace = _ERROR_NAMESPACES.get(call.service, "com.amazonaws")
    document = {"__type": f"{namespace}#{code}", "message": message}
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if call.service == "sqs":
        headers["x-amzn-query-error"] = f"{code};Receiver"
    return Response(status, headers, json.dumps(document).encode())


def refuse(status: int = 500, code: str = "InternalError") -> Action:
    return lambda call: service_error(call, status, code)


def fail_entries(code: str = "InternalError") -> Action:
    """A SendMessageBatch that SQS accepted as a request but whose every entry failed, not by the
    sender's fault (what a partial failure looks like for the entries it hits)."""

    def answer(call: Call) -> Response:
        entries = (call.request or {}).get("Entries", [])
        failed = [
            {"Id": e["Id"], "SenderFault": False, "Code": code, "Message": "injected fault"}
            for e in entries
        ]
        body = json.dumps({"Successful": [], "Failed": failed}).encode()
        return Response(200, {"Content-Type": "application/x-amz-json-1.0"}, body)

    return answer


@dataclass
class Gate:
    """Holds a call until the test opens it: `arrived` tells that a call is waiting."""

    arrived: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)
    timeout: float = 60.0

    def open(self) -> None:
        self.opened.set()


def pause(gate: Gate, then: Action | None = None) -> Action:
    """Hold the call at the gate; once it opens, answer with `then` (None: forward)."""

    def wait(call: Call) -> Response | None:
        gate.arrived.set()
        if not gate.opened.wait(gate.timeout):
            raise TimeoutError("the gate was never opened")
        return then(call) if then is not None else None

    return wait


class AwsProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname and parts.port
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.windows: dict[str, FifoDedupWindow] = {}
        self.crashed: str | None = None  # set by a crash fault until the harness clears it
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="aws-proxy", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults.clear()
            self.windows.clear()
            self.crashed = None

    # -- faults ---------------------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self.faults:
                self.faults.remove(fault)

    @contextmanager
    def injected(self, fault: Fault) -> Iterator[Fault]:
        self.inject(fault)
        try:
            yield fault
        finally:
            self.remove(fault)

    def crash_at(
        self, name: str, service: str, operation: str, target: str | None, *, after: int
    ) -> Fault:
        """The invocation dies at the matching call after `after` of them went through."""

        def crash(call: Call) -> Response:
            with self._lock:
                self.crashed = name
            return service_error(call, 500, "InternalError")

        return self.inject(Fault(name, service, crash, operation, target, skip=after, times=1))

    def take_crash(self) -> str | None:
        """The crash of the invocation that just ended, if any (and the blackout lifts)."""
        with self._lock:
            crashed, self.crashed = self.crashed, None
            return crashed

    def calls_to(
        self, service: str, operation: str | None = None, target: str | None = None
    ) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.service == service
                and (operation is None or c.operation == operation)
                and (target is None or c.target == target)
            ]

    # -- handling -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        call = self._classify(method, path, headers, body)
        with self._lock:
            call.number = len(self.calls) + 1
            self.calls.append(call)
            if self.crashed is not None:
                call.injected = f"after crash ({self.crashed})"
                answer: Response | None = service_error(call, 500, "InternalError")
            else:
                answer = None
                acting = [f for f in self.faults if f.matches(call) and f.take()]
        if answer is None and acting:
            fault = acting[0]
            call.injected = fault.name
            answer = fault.action(call)
        if answer is None:
            window = self.windows.get(call.target or "") if call.service == "sqs" else None
            if window is not None and call.operation in ("SendMessageBatch", "SendMessage"):
                answer = window.send(
                    call, headers, lambda b: self._forward(method, path, headers, b)
                )
            else:
                answer = self._forward(method, path, headers, body)
        call.status = answer.status
        return answer

    def _classify(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Call:
        lowered = {k.lower(): v for k, v in headers.items()}
        target_header = lowered.get("x-amz-target", "")
        if target_header:
            prefix, _, operation = target_header.partition(".")
            service = _TARGET_SERVICES.get(prefix, prefix)
            request: dict[str, Any] | None = json.loads(body) if body else {}
            target = None
            if request is not None and "QueueUrl" in request:
                target = str(request["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]
            elif request is not None and "TableName" in request:
                target = str(request["TableName"])
            return Call(0, service, operation, target, request)
        # S3 (REST, path-style against an IP endpoint): /bucket/key
        parts = urlsplit(path).path.lstrip("/").split("/", 1)
        bucket = parts[0] or None
        has_key = len(parts) > 1 and parts[1] != ""
        operation = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject"}.get(
            method, method
        )
        if not has_key:
            operation = f"{method}Bucket"
        return Call(0, "s3", operation, bucket, None)

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            sent = {
                k: v
                for k, v in headers.items()
                if k.lower() not in ("content-length", "connection", "transfer-encoding")
            }
            sent["Content-Length"] = str(len(body))
            sent["Connection"] = "close"
            connection.request(method, path, body=body, headers=sent)
            upstream = connection.getresponse()
            payload = upstream.read()
            relayed = {
                k: v
                for k, v in upstream.getheaders()
                if k.lower() not in ("content-length", "connection", "transfer-encoding")
            }
            return Response(upstream.status, relayed, payload)
        finally:
            connection.close()


def _make_handler(proxy: AwsProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = proxy.handle(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

    return Handler


@dataclass
class _Sent:
    opened: float  # emulated time the window for this id opened
    message_id: str
    sequence_number: str | None


@dataclass
class FifoDedupWindow:
    """SQS FIFO de-duplication on the emulated clock: a message whose deduplication id (within
    its scope) was sent less than `seconds` ago is accepted and not delivered, whether or not the
    first one was consumed since; after the window, the same id is a new message.

    moto keeps an id only while its message is in the queue (and on real time), so the proxy
    decides instead: within the window it answers for moto (accepted, not delivered), otherwise
    it forwards the entry under an id moto has never seen (a hash of queue, scope, id and window
    number), so moto's own de-duplication never acts. Bodies are never touched."""

    clock: Clock
    per_message_group: bool
    content_based: bool
    seconds: float = 300.0
    windows_opened: int = 0
    dropped: int = 0
    _sent: dict[tuple[str, str], _Sent] = field(default_factory=dict)
    _generation: dict[tuple[str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _key(self, entry: dict[str, Any]) -> tuple[str, str]:
        dedup = entry.get("MessageDeduplicationId")
        if dedup is None and self.content_based:
            dedup = hashlib.sha256(str(entry["MessageBody"]).encode()).hexdigest()
        group = str(entry.get("MessageGroupId", "")) if self.per_message_group else ""
        return group, str(dedup)

    def send(
        self, call: Call, headers: dict[str, str], forward: Callable[[bytes], Response]
    ) -> Response:
        request = dict(call.request or {})
        single = call.operation == "SendMessage"
        entries = [dict(request, Id="single")] if single else list(request.get("Entries", []))
        now = self.clock.now()
        dropped: list[dict[str, Any]] = []
        forwarded: list[tuple[dict[str, Any], tuple[str, str]]] = []
        with self._lock:
            for entry in entries:
                key = self._key(entry)
                known = self._sent.get(key)
                if known is not None and now - known.opened < self.seconds:
                    self.dropped += 1
                    dropped.append(
                        {
                            "Id": entry["Id"],
                            "MessageId": known.message_id,
                            "MD5OfMessageBody": hashlib.md5(
                                str(entry["MessageBody"]).encode(), usedforsecurity=False
                            ).hexdigest(),
                            **(
                                {"SequenceNumber": known.sequence_number}
                                if known.sequence_number
                                else {}
                            ),
                        }
                    )
                    continue
                generation = self._generation.get(key, -1) + 1
                self._generation[key] = generation
                sent = dict(entry)
                # an id moto has never seen: moto de-duplicates nothing itself
                unique = json.dumps([call.target, key[0], key[1], generation])
                sent["MessageDeduplicationId"] = hashlib.sha256(unique.encode()).hexdigest()
                forwarded.append((sent, key))
        successful: list[dict[str, Any]] = list(dropped)
        failed: list[dict[str, Any]] = []
        if forwarded:
            if single:
                ((sent, _),) = forwarded
                sent.pop("Id")
                body = json.dumps(sent).encode()
            else:
                body = json.dumps(dict(request, Entries=[s for s, _ in forwarded])).encode()
            answer = forward(body)
            if answer.status != 200:
                return answer
            document = json.loads(answer.body)
            if single:
                document = {"Successful": [dict(document, Id="single")]}
            keys = {s["Id"]: k for s, k in forwarded}
            with self._lock:
                for success in document.get("Successful", []):
                    key = keys[success["Id"]]
                    self.windows_opened += 1
                    self._sent[key] = _Sent(
                        now, success["MessageId"], success.get("SequenceNumber")
                    )
            successful += document.get("Successful", [])
            failed += document.get("Failed", [])
        if single:
            (only,) = successful or [{}]
            only = {k: v for k, v in only.items() if k != "Id"}
            return Response(
                200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(only).encode()
            )
        document = {"Successful": successful}
        if failed:
            document["Failed"] = failed
        return Response(
            200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(document).encode()
        )
