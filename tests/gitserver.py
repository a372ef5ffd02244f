"""Serve bare git repositories over smart HTTP with the real ``git http-backend``.

Tests of the upstream verifier must talk to a real git server rather than to a
hand-written imitation of the protocol: the interesting behaviour (what ``ready``
means, how a missing ``want`` is reported, which capabilities are advertised) is
defined by git's implementation, not by our reading of the docs.  This module runs
``git http-backend`` as a CGI program behind a small threaded ``http.server`` bound
to 127.0.0.1, plus a few fault-injection knobs (delays, 503s, dropped connections)
so the verifier's error handling can be exercised against the genuine article.

Usage::

    with serve_git(root_dir, fail_every=3) as server:
        url = server.repo_url("project.git")   # http://127.0.0.1:PORT/project.git
        ...
        assert server.requests == 4

The CGI output is buffered and re-sent with a ``Content-Length`` over HTTP/1.1 so
clients can use keep-alive, which mirrors how real hosting services behave.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "MODES",
    "POLL_SECONDS",
    "GitServer",
    "GitServers",
    "commit_all",
    "git_env",
    "run_git",
    "serve_git",
]

GIT = shutil.which("git") or "/usr/bin/git"
# How often the serving thread looks for a shutdown request: `shutdown()` waits up to this long
# (socketserver's default, 0.5 s, would add half a second to every server a test stops).
POLL_SECONDS = 0.02
# What a server speaks, by the names the tests give it: protocol v2 or v0 (v0 when the
# client's Git-Protocol header is hidden), with or without uploadpack.allowFilter.
MODES: dict[str, dict[str, bool]] = {
    "v2": {"protocol_v2": True, "allow_filter": True},
    "v2-nofilter": {"protocol_v2": True, "allow_filter": False},
    "v0": {"protocol_v2": False, "allow_filter": True},
    "v0-nofilter": {"protocol_v2": False, "allow_filter": False},
}


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for deterministic git commands independent of the user's config.

    Global and system config are ignored so a developer's ``init.defaultBranch`` or
    signing settings cannot change what the tests build; dates and identity are fixed
    so object ids are reproducible between runs.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("GITSERVER_HOME", "/nonexistent"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.invalid",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.invalid",
        "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z",
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
    }
    if extra:
        env.update(extra)
    return env


def run_git(*args: str | os.PathLike[str], cwd: Path | str | None = None, **env: str) -> str:
    """Run git with :func:`git_env` and return stripped stdout (raises on failure)."""
    result = subprocess.run(
        [GIT, *map(str, args)],
        cwd=cwd,
        env=git_env(env),
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def commit_all(work: Path, message: str, **env: str) -> str:
    """Commit everything in the work tree `work`; the new commit's id."""
    run_git("add", "-A", cwd=work, **env)
    run_git("commit", "-qm", message, cwd=work, **env)
    return run_git("rev-parse", "HEAD", cwd=work)


@dataclass
class GitServer:
    """A running server; counters are updated live by the handler threads."""

    base_url: str
    root: Path
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    # What the clients' kernels acknowledged (Linux TCP_INFO tcpi_bytes_acked, per
    # connection at its end): the bytes that really crossed the network, headers
    # included, also when a client hangs up mid-response (bytes_sent then counts
    # nothing of that response).  0 where TCP_INFO is not available.
    bytes_acked: int = 0
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # per request, in order
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def repo_url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    @property
    def host_port(self) -> str:
        """``127.0.0.1:PORT``, the form ``UrlPolicy(insecure_hosts=...)`` expects."""
        return urlsplit(self.base_url).netloc

    def reset_counters(self) -> None:
        with self._lock:
            self.requests = 0
            self.bytes_sent = 0
            self.bytes_received = 0
            self.bytes_acked = 0
            self.paths.clear()
            self.headers.clear()

    def _count(self, path: str, headers: dict[str, str]) -> int:
        with self._lock:
            self.requests += 1
            self.paths.append(path)
            self.headers.append(headers)
            return self.requests

    def _add_bytes(self, sent: int = 0, received: int = 0) -> None:
        with self._lock:
            self.bytes_sent += sent
            self.bytes_received += received


@dataclass(frozen=True)
class _Options:
    delay: float
    fail_every: int
    drop_every: int
    protocol_v2: bool
    allow_filter: bool
    refuse_blob_wants: bool = False
    fail_when_body_has: bytes = b""
    hide_capabilities: tuple[str, ...] = ()


def _make_handler(server: GitServer, opts: _Options) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep pytest output clean

        def finish(self) -> None:
            acked = _bytes_acked(self.connection)
            with server._lock:
                server.bytes_acked += acked
            with suppress(OSError):
                super().finish()

        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = self._read_chunked()  # git streams bodies above http.postBuffer
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
            self._serve(body)

        def _read_chunked(self) -> bytes:
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()

        def _serve(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            number = server._count(parts.path, dict(self.headers.items()))
            server._add_bytes(received=len(body))
            if opts.delay:
                time.sleep(opts.delay)
            if opts.fail_every and number % opts.fail_every == 0:
                self._send(503, {"Content-Type": "text/plain"}, b"injected failure\n")
                return
            if opts.fail_when_body_has and opts.fail_when_body_has in body:
                self._send(503, {"Content-Type": "text/plain"}, b"injected failure\n")
                return
            if opts.refuse_blob_wants and parts.path.endswith("/git-upload-pack"):
                body = self._hide_wanted_blobs(parts.path, body)
            status, headers, payload = self._run_backend(parts.path, parts.query, body)
            if opts.hide_capabilities and parts.path.endswith("/info/refs"):
                payload = _without_capabilities(payload, opts.hide_capabilities)
            if opts.drop_every and number % opts.drop_every == 0 and len(payload) > 1:
                # Promise the full length, deliver half, then vanish: a truncated response.
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                half = payload[: len(payload) // 2]
                self.wfile.write(half)
                self.wfile.flush()
                server._add_bytes(sent=len(half))
                self.close_connection = True
                with suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(status, headers, payload)

        def _hide_wanted_blobs(self, path: str, body: bytes) -> bytes:
            """Replace each ``want <blob id>`` by an id the repository lacks (same
            length, so the pkt-line framing stays valid): git then refuses it with its
            own ``not our ref`` error, as a server that serves no blobs by id would."""
            git_dir = server.root / path.strip("/").removesuffix("/git-upload-pack")

            def hide(match: re.Match[bytes]) -> bytes:
                oid = match.group(1).decode()
                kind = subprocess.run(
                    [GIT, "--git-dir", str(git_dir), "cat-file", "-t", oid],
                    env=git_env(),
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip()
                return b"want " + (b"0" * len(oid) if kind == "blob" else match.group(1))

            return re.sub(rb"want ([0-9a-f]{40}(?:[0-9a-f]{24})?)", hide, body)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            server._add_bytes(sent=len(payload))

        def _run_backend(
            self, path: str, query: str, body: bytes
        ) -> tuple[int, dict[str, str], bytes]:
            env = git_env(
                {
                    "GIT_PROJECT_ROOT": str(server.root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_ADDR": self.client_address[0],
                    "SERVER_PROTOCOL": "HTTP/1.1",
                    "GATEWAY_INTERFACE": "CGI/1.1",
                    # Server-side config through the environment, so the served
                    # repositories need no special setup for filter support.
                    "GIT_CONFIG_COUNT": "1",
                    "GIT_CONFIG_KEY_0": "uploadpack.allowFilter",
                    "GIT_CONFIG_VALUE_0": "true" if opts.allow_filter else "false",
                }
            )
            # As a CGI server must, pass request headers as HTTP_* (git gzips larger
            # request bodies and http-backend needs HTTP_CONTENT_ENCODING to inflate).
            for key, value in self.headers.items():
                name = "HTTP_" + key.upper().replace("-", "_")
                if name not in ("HTTP_GIT_PROTOCOL", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    env[name] = value
            git_protocol = self.headers.get("Git-Protocol")
            if git_protocol and opts.protocol_v2:
                env["GIT_PROTOCOL"] = git_protocol
            proc = subprocess.run(
                [GIT, "http-backend"], input=body, env=env, capture_output=True, check=False
            )
            head, sep, payload = proc.stdout.partition(b"\r\n\r\n")
            if not sep:
                head, sep, payload = proc.stdout.partition(b"\n\n")
            status = 200
            headers: dict[str, str] = {}
            for line in head.decode("latin-1").splitlines():
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.strip().split()[0])
                elif key:
                    headers[key.strip()] = value.strip()
            return status, headers, payload

    return Handler


def _bytes_acked(connection: socket.socket) -> int:
    """``tcpi_bytes_acked`` of a TCP socket (struct tcp_info: offset 120 on Linux)."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None:
        return 0
    try:
        info = connection.getsockopt(socket.IPPROTO_TCP, option, 256)
    except OSError:
        return 0
    return int.from_bytes(info[120:128], "little") if len(info) >= 128 else 0


def _without_capabilities(payload: bytes, hidden: tuple[str, ...]) -> bytes:
    """A v2 capability advertisement without the ``hidden`` capabilities (as a server
    that does not offer them, e.g. GitHub and ``object-info``)."""
    out = bytearray()
    offset = 0
    while offset + 4 <= len(payload):
        length = int(payload[offset : offset + 4], 16)
        size = max(length, 4)
        line = payload[offset + 4 : offset + size].rstrip(b"\n").decode("latin-1")
        if line.split("=", 1)[0] not in hidden:
            out += payload[offset : offset + size]
        offset += size
    return bytes(out + payload[offset:])


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out and hang up are expected in fault-injection tests.
        pass


@contextmanager
def serve_git(
    root_dir: Path | str,
    *,
    delay: float = 0.0,
    fail_every: int = 0,
    drop_every: int = 0,
    protocol_v2: bool = True,
    allow_filter: bool = True,
    refuse_blob_wants: bool = False,
    fail_when_body_has: bytes = b"",
    hide_capabilities: tuple[str, ...] = (),
) -> Iterator[GitServer]:
    """Serve every bare repository under ``root_dir`` at ``http://127.0.0.1:PORT/``.

    ``delay`` sleeps before each response; ``fail_every=N`` answers every Nth request
    with 503; ``drop_every=N`` sends only half of every Nth response and closes the
    connection; ``protocol_v2=False`` hides the client's ``Git-Protocol`` header so
    git falls back to protocol v0; ``allow_filter=False`` sets
    ``uploadpack.allowFilter=false``; ``refuse_blob_wants=True`` makes git refuse
    every blob wanted by id (git itself serves them; some servers do not);
    ``fail_when_body_has=b"deepen"`` answers 503 to every request whose body holds
    those bytes, retries too (e.g. only the shallow fetches that read files);
    ``hide_capabilities=("object-info",)`` drops those lines from the v2 capability
    advertisement, as a server that does not offer them.  Counters
    on the yielded :class:`GitServer` include every request, injected failures too.
    """
    state = GitServer(base_url="", root=Path(root_dir).resolve())
    opts = _Options(
        delay,
        fail_every,
        drop_every,
        protocol_v2,
        allow_filter,
        refuse_blob_wants,
        fail_when_body_has,
        hide_capabilities,
    )
    httpd = _QuietServer(("127.0.0.1", 0), _make_handler(state, opts))
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, args=(POLL_SECONDS,), name="gitserver", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class GitServers:
    """Starts git servers on demand, each stopped when the given ExitStack closes (the fixtures
    of tests/conftest.py close it when their scope ends).

    Called with a directory, it serves every bare repository under it, over protocol v2 with
    filters allowed; `mode` picks another of MODES ("v2-nofilter", "v0", "v0-nofilter"), and
    the fault knobs of :func:`serve_git` (`delay`, `fail_every`, `drop_every`,
    `refuse_blob_wants`, `fail_when_body_has`) pass through. Each call starts a new server.
    """

    def __init__(self, servers: ExitStack) -> None:
        self._servers = servers

    def __call__(self, root: Path, mode: str = "v2", **faults: Any) -> GitServer:
        return self._servers.enter_context(serve_git(root, **MODES[mode], **faults))
