"""A real CNCF distribution registry (Debian's ``docker-registry``) on 127.0.0.1, and
what the tests need around it: pushing images through its API, a token service that
signs JWTs the registry trusts, and a small proxy that can lie or fail.

Why the real registry: the client's behaviour is defined by what registries answer
(status codes, error codes, headers, media types, the bearer challenge), so the tests
talk to an implementation of the spec rather than to our reading of it.

Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

REGISTRY_BINARY = "docker-registry"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def registry_binary() -> str | None:
    return shutil.which(REGISTRY_BINARY) or (
        "/usr/bin/docker-registry" if os.path.exists("/usr/bin/docker-registry") else None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registry:
    """A running registry: ``url`` is ``http://127.0.0.1:PORT``."""

    url: str
    process: subprocess.Popen[bytes]
    token: Callable[[str], str] | None = None  # scope -> bearer token (token auth only)
    _tokens: dict[str, str] = field(default_factory=dict)  # per repository, for pushes

    @property
    def host_port(self) -> str:
        return urlsplit(self.url).netloc

    def _auth(self, name: str) -> dict[str, str]:
        if self.token is None:
            return {}
        if name not in self._tokens:
            self._tokens[name] = self.token(f"repository:{name}:pull,push")
        return {"Authorization": f"Bearer {self._tokens[name]}"}

    def push_blob(self, name: str, data: bytes) -> str:
        """Monolithic upload as the spec describes it: POST for a session, PUT with
        ``digest=``."""
        digest = digest_of(data)
        start = requests.post(f"{self.url}/v2/{name}/blobs/uploads/", headers=self._auth(name))
        assert start.status_code == 202, start.text
        location = start.headers["Location"]
        target = location if location.startswith("http") else self.url + location
        separator = "&" if "?" in target else "?"
        done = requests.put(
            f"{target}{separator}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream", **self._auth(name)},
        )
        assert done.status_code == 201, done.text
        return digest

    def push_manifest(self, name: str, reference: str, body: bytes, media_type: str) -> str:
        response = requests.put(
            f"{self.url}/v2/{name}/manifests/{reference}",
            data=body,
            headers={"Content-Type": media_type, **self._auth(name)},
        )
        assert response.status_code == 201, response.text
        assert response.headers["Docker-Content-Digest"] == digest_of(body)
        return digest_of(body)

    def push_image(
        self,
        name: str,
        os_name: str,
        architecture: str,
        variant: str | None = None,
        *,
        oci: bool = True,
        os_version: str | None = None,
    ) -> tuple[str, int, bytes]:
        """One single-platform image (a small random layer, a config naming the
        platform); its manifest's digest, size and bytes."""
        layer = os.urandom(512)
        layer_digest = self.push_blob(name, layer)
        config: dict[str, object] = {
            "architecture": architecture,
            "os": os_name,
            "rootfs": {"type": "layers", "diff_ids": [digest_of(layer)]},
            "config": {},
        }
        if variant:
            config["variant"] = variant
        if os_version:
            config["os.version"] = os_version
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_digest = self.push_blob(name, config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER if oci else DOCKER_LAYER,
                    "digest": layer_digest,
                    "size": len(layer),
                }
            ],
        }
        body = json.dumps(manifest, indent=3).encode()
        media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        digest = self.push_manifest(name, digest_of(body), body, media_type)
        return digest, len(body), body

    def push_index(
        self,
        name: str,
        entries: list[tuple[str, int, dict[str, str]]],
        *,
        oci: bool = True,
        child_type: str | None = None,
        tag: str | None = None,
    ) -> tuple[str, bytes]:
        """An index (or Docker manifest list) of ``(digest, size, platform)``."""
        media_type = OCI_INDEX if oci else DOCKER_LIST
        child = child_type or (OCI_MANIFEST if oci else DOCKER_MANIFEST)
        document = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": [
                {"mediaType": child, "digest": digest, "size": size, "platform": platform}
                for digest, size, platform in entries
            ],
        }
        body = json.dumps(document, indent=2).encode()
        digest = self.push_manifest(name, tag or digest_of(body), body, media_type)
        return digest, body


def _config_yaml(root: Path, port: int, auth: dict[str, str] | None) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: error",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: not-a-secret-only-for-tests",
    ]
    if auth:
        lines += ["auth:", "  token:"] + [f"    {key}: {value}" for key, value in auth.items()]
    return "\n".join(lines) + "\n"


@contextmanager
def run_registry(
    work: Path, *, auth: dict[str, str] | None = None, token: Callable[[str], str] | None = None
) -> Iterator[Registry]:
    """Start ``docker-registry serve`` with storage under ``work``; wait for ``/v2/``."""
    binary = registry_binary()
    assert binary is not None
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = work / "config.yml"
    config.write_text(_config_yaml(work / "storage", port, auth))
    log = open(work / "registry.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{url}/v2/", timeout=1).status_code in (200, 401):
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "docker-registry did not start: " + (work / "registry.log").read_text()[-2000:]
                )
            time.sleep(0.05)
        yield Registry(url, process, token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# -- a token service the registry trusts --------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Signer:
    """An RSA key and a self-signed certificate (the registry's ``rootcertbundle``).

    ``cryptography`` when importable, else the ``openssl`` command line.
    """

    def __init__(self, work: Path) -> None:
        self.key_path = work / "token.key"
        self.cert_path = work / "token.crt"
        try:
            self._make_with_cryptography()
        except ImportError:
            subprocess.run(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=test-token-issuer",
                    "-keyout", str(self.key_path), "-out", str(self.cert_path),
                ],
                check=True,
                capture_output=True,
            )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert_path), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self.cert_der_b64 = base64.b64encode(der).decode("ascii")

    def _make_with_cryptography(self) -> None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-token-issuer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def sign(self, payload: bytes) -> bytes:
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding, rsa
        except ImportError:
            with tempfile.NamedTemporaryFile() as data:
                data.write(payload)
                data.flush()
                return subprocess.run(
                    ["openssl", "dgst", "-sha256", "-sign", str(self.key_path), data.name],
                    check=True,
                    capture_output=True,
                ).stdout
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(payload, padding.PKCS1v15(), hashes.SHA256())

    def jwt(self, issuer: str, service: str, scope: str, lifetime: int = 300) -> str:
        """A registry token: RS256, the certificate in ``x5c`` (distribution verifies
        the chain against its ``rootcertbundle``), the scope's actions in ``access``."""
        access = []
        for item in scope.split(" "):
            parts = item.split(":")
            if len(parts) >= 3:
                access.append(
                    {
                        "type": parts[0],
                        "name": ":".join(parts[1:-1]),
                        "actions": parts[-1].split(","),
                    }
                )
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.cert_der_b64]}
        claims = {
            "iss": issuer,
            "sub": "",
            "aud": service,
            "exp": now + lifetime,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        return signing_input + "." + _b64url(self.sign(signing_input.encode()))


@dataclass
class TokenService:
    url: str
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    answer_with: str = "token"  # "token", "access_token" or "both"


@contextmanager
def run_token_service(signer: Signer, issuer: str, service: str) -> Iterator[TokenService]:
    """``GET /token?service=..&scope=..`` -> ``{"token": JWT, "expires_in": 300}``."""
    state = TokenService(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            state.requests.append(query)
            if query.get("service") != [service]:
                self._reply(400, b'{"details":"wrong service"}')
                return
            token = signer.jwt(issuer, service, " ".join(query.get("scope", [])))
            answer: dict[str, object] = {"expires_in": 300}
            if state.answer_with in ("token", "both"):
                answer["token"] = token
            if state.answer_with in ("access_token", "both"):
                answer["access_token"] = token
            self._reply(200, json.dumps(answer).encode())

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# -- a proxy in front of the registry, for what a real registry never does -----------


@dataclass
class Proxy:
    """Forwards GETs to ``upstream``.  ``substitute[path] = bytes`` answers that path
    with other bytes (a lying mirror); ``fail_next`` answers that many requests with
    503 first; ``redirect_blobs`` sends blob GETs to the upstream by a 307."""

    url: str
    upstream: str
    substitute: dict[str, bytes] = field(default_factory=dict)
    fail_next: int = 0
    redirect_blobs: bool = False
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def host_port(self) -> str:
        return urlsplit(self.url).netloc


@contextmanager
def run_proxy(upstream: str) -> Iterator[Proxy]:
    state = Proxy(url="", upstream=upstream)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with lock:
                state.paths.append(self.path)
                state.headers.append(dict(self.headers.items()))
                failing = state.fail_next > 0
                if failing:
                    state.fail_next -= 1
            if failing:
                self._reply(503, {"Content-Type": "text/plain"}, b"injected\n")
                return
            if state.redirect_blobs and "/blobs/" in self.path:
                self._reply(307, {"Location": upstream + self.path}, b"")
                return
            forwarded = {
                key: value
                for key, value in self.headers.items()
                if key.lower() in ("accept", "authorization")
            }
            answer = requests.get(upstream + self.path, headers=forwarded, timeout=10)
            body = state.substitute.get(urlsplit(self.path).path, answer.content)
            keep = {
                key: value
                for key, value in answer.headers.items()
                if key.lower() in ("content-type", "docker-content-digest", "www-authenticate")
            }
            self._reply(answer.status_code, keep, body)

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
