"""The local server: the same API on one machine, no Docker, no AWS.

Each HTTP request becomes an API Gateway HTTP API (payload v2) event and goes to the very same
Lambda handler, so what works here works behind API Gateway.

Like a Lambda container, the handler takes one event at a time (the Powertools resolver, logger
and metrics keep per-invocation state on module objects): connections are served in threads, and
events wait for the handler in turn. `GET /v1/health` needs none of that state, so it is answered
at once, also while a long validation runs. A request must arrive whole (request line, headers and
body) within the read timeout, or the connection is closed (with 408 when part of it came).
"""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from .root import Services

# API Gateway refuses bodies over 10 MB before they reach the function; do the same here, and
# never read a body of unknown length.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")
_DIGITS = re.compile(r"[0-9]{1,19}")
# Connections the listening socket holds before they are accepted: twice the 64 concurrent
# clients `serve` is measured with (benchmarks/bench_delivery.py); Linux caps it at somaxconn.
BACKLOG = 128

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# Routes answered without the handler's lock: path -> a function returning the JSON document.
LockFree = Mapping[str, Callable[[], Any]]


class RequestReader(io.RawIOBase):
    """The socket, read against one deadline per request (a per-read timeout alone would let a
    client that sends a byte now and then hold the connection for ever)."""

    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self.connection = connection
        self.deadline = time.monotonic()
        self.received = 0  # bytes of the current request so far
        self.timed_out = False

    def start(self, seconds: float) -> None:
        """A new request: it has `seconds` from now to arrive."""
        self.deadline = time.monotonic() + seconds
        self.received = 0
        self.timed_out = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            raise TimeoutError("the request did not arrive within the read timeout")
        self.connection.settimeout(remaining)
        try:
            count = self.connection.recv_into(buffer)
        except TimeoutError:
            self.timed_out = True
            raise
        self.received += count
        return count


@dataclass
class LocalContext:
    """What a Lambda handler reads from its context object."""

    function_name: str = "manifest-validation-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:local:000000000000:function:manifest-validation-local"
    )
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def http_api_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2 event for one HTTP request."""
    url = urlsplit(target)
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    content_type = merged.get("content-type", "")
    is_text = not body or content_type.startswith(TEXT_TYPES)
    try:
        text = body.decode("utf-8") if is_text else None
    except UnicodeDecodeError:
        text = None
    now = datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": merged.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = text if text is not None else base64.b64encode(body).decode("ascii")
    return event


def _response_parts(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    status = int(response.get("statusCode", 500))
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ",".join(str(v) for v in values)
    raw = response.get("body") or ""
    payload = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode()
    return status, headers, payload


class RequestHandler(BaseHTTPRequestHandler):
    """One connection: requests read with a deadline, each turned into an API Gateway event and
    answered by the server's handler (its `LocalServer` holds the handler and the settings)."""

    server: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "manifest-validation"
    # headers and body leave in one write (flushed after each request): no Nagle stall
    wbufsize = 64 * 1024

    def setup(self) -> None:
        super().setup()
        # the socket timeout for writes; reads use the deadline (RequestReader)
        self.connection.settimeout(self.server.read_timeout)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile.close()  # socketserver's reader: replaced by one with a deadline
        self.reader = RequestReader(self.connection)
        self.rfile = io.BufferedReader(self.reader)
        self.answered = False

    def handle_one_request(self) -> None:
        self.reader.start(self.server.read_timeout)
        self.answered = False
        self.command, self.requestline = "", ""  # until a request line is parsed
        super().handle_one_request()  # closes the connection on a timeout
        if self.reader.timed_out:
            self.close_connection = True
            if self.reader.received and not self.answered:
                self.request_version = "HTTP/1.1"  # may be unparsed: answer in any case
                self._error(408, "the request did not arrive within the read timeout")

    def send_response(self, code: int, message: str | None = None) -> None:
        self.answered = True
        self.connection.settimeout(self.server.read_timeout)  # reads may have left a short timeout
        super().send_response(code, message)

    def __getattr__(self, name: str) -> Any:
        # Every method goes to the handler, which answers 404 for a route it does not have
        # (as API Gateway does), never http.server's 501 for a method it has no do_ for.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, 414, 431) as JSON like every
        other answer, and with a status line even when the request's version was not
        parsed. A request line of HTTP/2 is the client's mistake, not our failure: 400,
        not 505 (no request a client can send is answered with a 5xx)."""
        if code >= 500:
            code = 400
        if self.request_version in ("", "HTTP/0.9"):  # not parsed (or unusable)
            self.request_version = "HTTP/1.1"
        self._error(code, message or HTTPStatus(code).phrase)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _error(self, status: int, message: str) -> None:
        error = {"code": f"http_{status}", "message": message, "field": None}
        body = json.dumps({"error": error}).encode()
        self.close_connection = True
        self._reply(status, {"Content-Type": "application/json"}, body)

    def _handle(self) -> None:
        if self.headers.get("Transfer-Encoding"):
            self._error(411, "send a Content-Length")
            return
        # digits only (int() would take "+5", " 5 " and "1_0"), and one length: two that
        # differ make the body's end ambiguous (request smuggling behind a proxy)
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if len(lengths) > 1:
            self._error(400, "conflicting Content-Length headers")
            return
        text = lengths.pop() if lengths else "0"
        if not _DIGITS.fullmatch(text):
            self._error(400, "invalid Content-Length")
            return
        length = int(text)
        if length > MAX_REQUEST_BYTES:
            self._error(413, "request body too large")
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client closed the connection mid-body
            self.close_connection = True
            return
        at_once = self.server.lock_free.get(urlsplit(self.path).path)
        if at_once is not None and self.command == "GET":
            document = json.dumps(at_once()).encode()
            self._reply(200, {"Content-Type": "application/json"}, document)
            return
        event = http_api_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            source_ip=self.client_address[0],
        )
        try:
            with self.server.one_at_a_time:
                response = self.server.handler(event, LocalContext())
        except Exception:  # the handler's bug must not kill the server
            self.log_error("handler failed:\n%s", _traceback())
            self._error(500, "internal error")
            return
        self._reply(*_response_parts(response))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def _traceback() -> str:
    import traceback

    return traceback.format_exc()


class LocalServer(ThreadingHTTPServer):
    """Serves the API handler: connections in threads, events one at a time, as a Lambda
    container takes them (the Powertools resolver keeps the current event on the app object).

    The listen backlog holds `BACKLOG` connections not yet accepted: socketserver's default of 5
    overflows when a few dozen clients connect at once (the kernel then drops or resets their
    handshakes: a second's delay, or a connection reset, for a client that did nothing wrong)."""

    daemon_threads = True
    request_queue_size = BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        handler: Handler,
        *,
        read_timeout: float,
        lock_free: LockFree | None = None,
    ) -> None:
        self.handler = handler
        self.read_timeout = read_timeout
        self.lock_free = dict(lock_free or {})
        self.one_at_a_time = threading.Lock()
        super().__init__(address, RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up mid-response is not the server's error
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(
    host: str,
    port: int,
    services: Services | None = None,
    *,
    handler: Handler | None = None,
    read_timeout: float | None = None,
) -> LocalServer:
    """The API on `host:port`: the api handler with `services` (by default made from the
    environment), or another `handler`."""
    lock_free: dict[str, Callable[[], Any]] = {}
    if services is None:
        from ..settings import Settings
        from .root import Services

        services = Services(Settings.from_env())
    if handler is None:
        from .api import handle, health

        def with_services(event: dict[str, Any], context: Any) -> dict[str, Any]:
            answer: dict[str, Any] = handle(event, context, services=services)
            return answer

        handler = with_services
        lock_free["/v1/health"] = health
    if read_timeout is None:
        read_timeout = services.settings.read_timeout_seconds
    return LocalServer((host, port), handler, read_timeout=read_timeout, lock_free=lock_free)
