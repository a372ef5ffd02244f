"""`manifest-validate serve`: the local server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from manifest_validation.server import make_server
from manifest_validation.services import services

PROJECT = Path(__file__).resolve().parents[1]
HELLO = (PROJECT / "examples" / "library" / "hello-world").read_text()
TOKEN = "local-token"


@pytest.fixture
def base_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", TOKEN)
    monkeypatch.setenv("MANIFEST_VALIDATION_STATE_DIR", str(tmp_path / "state"))
    for name in ("API_TOKENS_PARAMETER", "API_TOKENS_SECRET", "RESULTS_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    services.reset()
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    services.reset()


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
