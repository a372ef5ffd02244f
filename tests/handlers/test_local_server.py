"""`manifest-validate serve`: the local server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import doors
from gitserver import POLL_SECONDS
from manifest_validation.api.webhook import signature_of
from manifest_validation.handlers.local_server import make_server
from paths import PROJECT

HELLO = (PROJECT / "examples" / "library" / "hello-world").read_text()
TOKEN = "local-token"
SECRET = "local-webhook-secret"
READ_TIMEOUT = 0.5


@pytest.fixture
def base_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    yield from serving(monkeypatch, tmp_path)


@pytest.fixture
def impatient_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A server with a read timeout short enough for tests."""
    yield from serving(monkeypatch, tmp_path, read_timeout=READ_TIMEOUT)


def serving(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **options: Any) -> Iterator[str]:
    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", TOKEN)
    monkeypatch.setenv("MANIFEST_VALIDATION_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    for name in ("API_TOKENS_PARAMETER", "API_TOKENS_SECRET", "RESULTS_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("WEBHOOK_SECRET_PARAMETER", "WEBHOOK_SECRET_SECRET", "IDEMPOTENCY_TABLE"):
        monkeypatch.delenv(name, raising=False)
    doors.forget()
    server = make_server("127.0.0.1", 0, **options)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    doors.forget()


def test_validations_over_http(base_url: str) -> None:
    with requests.Session() as session:  # keep-alive across requests
        for _ in range(3):
            response = session.post(
                f"{base_url}/v1/validations",
                json={"manifests": [{"name": "hello-world", "content": HELLO}]},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=10,
            )
            assert response.status_code == 200
            assert response.json()["results"][0]["status"] == "valid"


def test_github_format_and_auth_over_http(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/v1/validations?name=db&format=github",
        data=b"Maintainers: nobody\n",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.text.startswith("::error file=library/db,line=1,title=invalid-maintainer::")
    refused = requests.post(f"{base_url}/v1/validations", json={}, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert requests.get(f"{base_url}/v1/health", timeout=10).json()["status"] == "ok"
    assert requests.get(f"{base_url}/nope", timeout=10).status_code == 404


def test_oversized_and_unframed_bodies_are_refused_before_reading(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/v1/validations")
    connection.putheader("Content-Length", str(50 * 1024 * 1024))
    connection.putheader("Content-Type", "application/json")
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(
        "POST", "/v1/validations", body=iter([b"{}"]), headers={"Transfer-Encoding": "chunked"}
    )
    assert connection.getresponse().status == 411
    connection.close()


@pytest.mark.slow
def test_serve_command_and_results_command(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "MANIFEST_VALIDATION_API_TOKENS": TOKEN,
        "MANIFEST_VALIDATION_STATE_DIR": str(tmp_path / "state"),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "manifest_validation", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split()[2].removesuffix("/v1/")
        response = requests.post(
            f"{url}/v1/validations",
            json={"manifests": [{"name": "hello-world", "content": HELLO}], "publish": True},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    started = time.monotonic()
    listed = subprocess.run(
        [sys.executable, "-m", "manifest_validation", "results", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert time.monotonic() - started < 30
    (item,) = json.loads(listed.stdout)
    assert item["manifest"] == "hello-world"
    assert item["body"]["id"] == response.json()["results"][0]["id"]


# --- hostile clients -----------------------------------------------------------------------------


def raw_exchange(url: str, data: bytes, *, wait: float = 10) -> bytes:
    """Send `data` on a raw socket and read until the server closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


@pytest.mark.parametrize(
    ("request_bytes", "status", "says"),
    [
        (b"TRACE /v1/validations HTTP/1.1\r\nConnection: close\r\n\r\n", 404, b"Not found"),
        (b"FOO /v1/health HTTP/1.1\r\nConnection: close\r\n\r\n", 404, b"Not found"),
        (b"GET /v1/health HTTP/2.0\r\n\r\n", 400, b"Invalid HTTP version"),  # not a 505
        (b"GET /v1/health HTTP/x.y\r\n\r\n", 400, b"Bad request version"),
        (b"\x00\xff garbage\r\n\r\n", 400, b"Bad HTTP/0.9 request type"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, b"http_414"),
        (b"GET /v1/health HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431, b"http_431"),
        (
            b"POST /v1/validations HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}",
            400,
            b"conflicting Content-Length",
        ),
        (b"POST /v1/validations HTTP/1.1\r\nContent-Length: 1_0\r\n\r\n", 400, b"invalid"),
        (b"POST /v1/validations HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}", 400, b"invalid"),
    ],
    ids=[
        "unknown-method",
        "made-up-method",
        "http2",
        "bad-version",
        "garbage",
        "long-url",
        "long-header",
        "two-lengths",
        "underscore-length",
        "signed-length",
    ],
)
def test_malformed_http_gets_a_json_4xx_with_a_status_line(
    base_url: str, request_bytes: bytes, status: int, says: bytes
) -> None:
    answer = raw_exchange(base_url, request_bytes)  # TRACE, FOO: http.server's 501 before
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert json.loads(body)  # JSON, not http.server's HTML page
    assert says in body


@pytest.mark.slow
@pytest.mark.parametrize(
    "partial",
    [
        b"POST /v1/validations HTTP/1.1\r\nHost: x\r\nContent-Ty",  # headers half sent
        b"POST /v1/validations HTTP/1.1\r\nContent-Length: 100\r\n\r\n",  # no body
        b'POST /v1/validations HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"manifests"',
        b"GET /v1/hea",  # the request line half sent
    ],
    ids=["headers", "no-body", "half-body", "request-line"],
)
def test_a_request_that_does_not_arrive_in_time_gets_408_and_is_closed(
    impatient_url: str, partial: bytes
) -> None:
    answer = raw_exchange(impatient_url, partial)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"]["code"] == "http_408"


@pytest.mark.slow
def test_an_idle_connection_is_closed_without_an_answer(impatient_url: str) -> None:
    assert raw_exchange(impatient_url, b"") == b""


@pytest.mark.slow
def test_a_client_that_trickles_its_request_is_cut_off_at_the_read_timeout(
    impatient_url: str,
) -> None:
    # one byte every tenth of the timeout: every single read is quick, the request is not
    host, port = impatient_url.removeprefix("http://").split(":")
    request = b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        sent = 0
        try:
            for byte in request:
                connection.sendall(bytes([byte]))
                sent += 1
                time.sleep(READ_TIMEOUT / 10)
        except OSError:
            pass  # the server closed the connection under us: what this test wants
        received = b""
        with contextlib.suppress(OSError):
            while chunk := connection.recv(65536):
                received += chunk
    assert sent < len(request) or received.startswith(b"HTTP/1.1 408 ")
    assert not received.startswith(b"HTTP/1.1 200 ")


def test_a_complete_request_after_an_answered_one_keeps_the_connection(
    impatient_url: str,
) -> None:
    with requests.Session() as session:
        for _ in range(2):
            response = session.get(f"{impatient_url}/v1/health", timeout=10)
            assert response.status_code == 200
            time.sleep(READ_TIMEOUT / 4)


def test_health_answers_while_a_long_validation_runs(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from manifest_validation.checks import pipeline as core
    from manifest_validation.handlers import api

    # the API handler imports the core on its first validation request, from this module

    started, release = threading.Event(), threading.Event()
    real = core.validate_many

    def slow_validate_many(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(core, "validate_many", slow_validate_many)
    outcome: list[int] = []

    def validate() -> None:
        response = requests.post(
            f"{base_url}/v1/validations",
            json={"manifests": [{"name": "hello-world", "content": HELLO}]},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
        outcome.append(response.status_code)

    client = threading.Thread(target=validate)
    client.start()
    try:
        assert started.wait(30)
        health = requests.get(f"{base_url}/v1/health", timeout=10)
        assert health.status_code == 200
        assert health.json() == api.health()
        assert outcome == []  # the validation is still waiting
    finally:
        release.set()
        client.join(60)
    assert outcome == [200]


def signed_push(url: str, body: bytes, delivery: str = "d-1") -> requests.Response:
    return requests.post(
        f"{url}/v1/webhooks/github",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": signature_of(SECRET.encode(), body),
        },
        timeout=30,
    )


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32"),
        (b'{"manifests": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}", "nested deeper than 32"),
        (b'{"manifests": [], "verify_git": 1' + b"0" * 100_000 + b"}", "more than 40 digits"),
    ],
    ids=["deep", "deep-inside-manifests", "huge-integer"],
)
def test_json_beyond_the_limits_is_400_in_both_doors(
    base_url: str, body: bytes, limit: str
) -> None:
    validation = requests.post(
        f"{base_url}/v1/validations",
        data=body,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=30,
    )
    webhook = signed_push(base_url, body)
    for response in (validation, webhook):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "malformed_json"
        assert limit in error["message"]


@pytest.mark.slow
def test_a_40k_line_manifest_answers_with_a_bounded_result(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS", "0.5")
    content = (
        "Maintainers: Jane Doe <jane@example.com> (@jane),\n"
        + "\tbar,\n" * 40_000
        + "GitRepo: https://e.com/r.git\n\nTags: a\n"
        + "GitCommit: 0123456789abcdef0123456789abcdef01234567\n"
    )
    response = requests.post(
        f"{base_url}/v1/validations",
        json={"manifests": [{"name": "hostile", "content": content}]},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=120,
    )
    assert response.status_code == 200
    assert len(response.content) < 200_000  # the input is about 240 kB
    (result,) = response.json()["results"]
    assert result["status"] == "invalid"
    codes = {problem["code"] for problem in result["problems"]}
    assert codes & {"too-many-problems", "validation-budget-exceeded"}
    assert len(result["problems"]) <= 202


def test_serve_options_and_their_environment_variables() -> None:
    from manifest_validation.cli.main import build_parser
    from manifest_validation.settings import Settings

    def read_timeout_from_env(environ: dict[str, str]) -> float:
        return Settings.from_env(environ).read_timeout_seconds

    parser = build_parser()
    args = parser.parse_args(["serve", "--read-timeout", "2.5", "--text-budget", "1"])
    assert (args.read_timeout, args.text_budget) == (2.5, 1.0)
    assert parser.parse_args(["serve"]).read_timeout is None  # then the environment decides
    for bad in ("0", "-1", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--read-timeout", bad])
    served = subprocess.run(
        [sys.executable, "-m", "manifest_validation", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--read-timeout" in served.stdout and "--text-budget" in served.stdout
    assert read_timeout_from_env({}) == 15.0
    assert read_timeout_from_env({"MANIFEST_VALIDATION_READ_TIMEOUT_SECONDS": "3"}) == 3.0
    with pytest.raises(ValueError, match="MANIFEST_VALIDATION_READ_TIMEOUT_SECONDS"):
        read_timeout_from_env({"MANIFEST_VALIDATION_READ_TIMEOUT_SECONDS": "never"})


def test_the_listen_backlog_holds_64_connections_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """64 clients connecting at the same instant (before the server accepts any) all complete
    their handshake: none is dropped or reset because the accept queue overflowed."""
    from manifest_validation.handlers.local_server import BACKLOG

    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", TOKEN)
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    server = make_server("127.0.0.1", 0)  # listening, not accepting yet
    assert server.request_queue_size == BACKLOG >= 64
    clients: list[socket.socket] = []
    try:
        for _ in range(64):
            client = socket.socket()
            clients.append(client)
            client.settimeout(0.5)  # a dropped SYN would be sent again only after 1 s
            client.connect(server.server_address)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        # and each of them is then served
        request = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        for client in clients:
            client.settimeout(10)
            client.sendall(request)
        for client in clients:
            assert client.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        for client in clients:
            client.close()
        server.shutdown()
        server.server_close()
        doors.forget()
