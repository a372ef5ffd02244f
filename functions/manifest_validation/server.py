"""The local server: the same API on one machine, no Docker, no AWS.

Each HTTP request becomes an API Gateway HTTP API (payload v2) event and goes to the very same
Lambda handler, so what works here works behind API Gateway.
"""

from __future__ import annotations

import base64
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# API Gateway refuses bodies over 10 MB before they reach the function; do the same here, and
# never read a body of unknown length.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


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


def make_request_handler(handler: Handler) -> type[BaseHTTPRequestHandler]:
    # A Lambda container handles one event at a time, and the Powertools resolver keeps the
    # current event on the app object: connections are served in threads, events one by one.
    one_at_a_time = threading.Lock()

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "manifest-validation"
        # headers and body leave in one write (flushed after each request): no Nagle stall
        wbufsize = 64 * 1024

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

        def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _error(self, status: int, message: str) -> None:
            body = f'{{"error": {{"code": "http_{status}", "message": "{message}"}}}}'.encode()
            self.close_connection = True
            self._reply(status, {"Content-Type": "application/json"}, body)

        def _handle(self) -> None:
            if self.headers.get("Transfer-Encoding"):
                self._error(411, "send a Content-Length")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                self._error(400, "invalid Content-Length")
                return
            if length < 0:
                self._error(400, "invalid Content-Length")
                return
            if length > MAX_REQUEST_BYTES:
                self._error(413, "request body too large")
                return
            body = self.rfile.read(length) if length else b""
            event = http_api_event(
                self.command,
                self.path,
                list(self.headers.items()),
                body,
                source_ip=self.client_address[0],
            )
            try:
                with one_at_a_time:
                    response = handler(event, LocalContext())
            except Exception:  # the handler's bug must not kill the server
                self.log_error("handler failed:\n%s", _traceback())
                self._error(500, "internal error")
                return
            self._reply(*_response_parts(response))

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    return RequestHandler


def _traceback() -> str:
    import traceback

    return traceback.format_exc()


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up mid-response is not the server's error
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(host: str, port: int, handler: Handler | None = None) -> LocalServer:
    if handler is None:
        from .handlers.api import handler as api_handler

        handler = api_handler
    return LocalServer((host, port), make_request_handler(handler))
