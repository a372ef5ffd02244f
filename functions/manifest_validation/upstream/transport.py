"""HTTP transport: pinned connections, hard limits and retries.

Three concerns live here so the protocol code can stay about git:

* **Pinning.**  The policy resolves and checks the host's address once; every
  connection then goes to that address while the Host header, TLS SNI and certificate
  verification still use the host name.  Re-resolving in the HTTP library would open
  a DNS-rebinding hole between the check and the connection.
* **Limits.**  Each ``verify()`` run gets a :class:`RunLimits`: a deadline, a request
  budget and a maximum response size (bodies are streamed and abandoned at the cap).
  Exceeding any of them is an :class:`UpstreamUnavailable`: "could not verify".
* **Retries.**  Connection errors, timeouts, 5xx, 429 and truncated bodies are retried
  with exponential backoff and jitter.  Truncation is also detected by the caller's
  parser (a CGI server without Content-Length ends a truncated body with a plain EOF),
  which signals it by raising :class:`TruncatedResponse` from inside the retry loop.
* **Streams.**  :meth:`Transport.stream` hands the body to a reader that takes only
  what it needs (the head of one git object) and closes the connection then, under
  the same caps, counters, policy and retries as :meth:`Transport.request`.

Requests go through one ``requests.Session`` per verifier (``trust_env`` off, so no
proxy from the environment can bypass pinning) with one pooled adapter per pinned
origin, which keeps connections alive across requests and runs.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Self, TypeVar

import requests
from requests.adapters import HTTPAdapter

from .policy import RepoLocation

__all__ = [
    "LimitExceeded",
    "ResponseTooLarge",
    "RunLimits",
    "StreamBody",
    "TransferStats",
    "Transport",
    "TransportClient",
    "TruncatedResponse",
    "UpstreamUnavailable",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = "git/2.39-compatible manifest-validation"
_CHUNK = 64 * 1024


class UpstreamUnavailable(Exception):
    """Verification impossible for network or server reasons (never a manifest defect).

    ``str(exc)`` is a sentence for users; it must not contain credentials, so it is
    only ever built from the location's display URL and status codes.
    """


class LimitExceeded(UpstreamUnavailable):
    """A run-wide cap (time budget, request count, response size) was hit."""


class ResponseTooLarge(LimitExceeded):
    """A response went past its size cap (``limit`` bytes); the download was stopped.

    Told apart from the other caps so that a caller can retry a smaller question (e.g.
    fetch fewer objects at once), which would not help against time or request caps.
    """

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class TruncatedResponse(Exception):
    """Raised by response parsers when a body ended early; triggers a retry."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class TransferStats:
    """Counters for one verifier (all runs); read them for benchmarks and tests."""

    requests: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    retries: int = 0


class RunLimits:
    """Caps shared by every request of one ``verify()`` run (thread-safe)."""

    def __init__(self, *, budget_seconds: float, max_requests: int, max_response_bytes: int):
        self.deadline = time.monotonic() + budget_seconds
        self.max_requests = max_requests
        self.max_response_bytes = max_response_bytes
        self._requests = 0
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check_time(self) -> None:
        if self.remaining() <= 0:
            raise LimitExceeded("the time budget for verifying this manifest ran out")

    def take_request(self) -> None:
        self.check_time()
        with self._lock:
            if self._requests >= self.max_requests:
                raise LimitExceeded(
                    f"the cap of {self.max_requests} HTTP requests per manifest was reached"
                )
            self._requests += 1

    @property
    def requests_made(self) -> int:
        with self._lock:
            return self._requests


class _PinnedAdapter(HTTPAdapter):
    """Adapter whose pools connect to an IP literal but speak TLS for ``hostname``.

    The request URL carries the checked IP; ``server_hostname`` (SNI) and
    ``assert_hostname`` (certificate check) restore the real name, so certificate
    verification is exactly as strict as for a normal request.
    """

    def __init__(self, hostname: str, tls: bool, pool_size: int) -> None:
        self._hostname = hostname
        self._tls = tls
        super().__init__(pool_connections=1, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args: Any, **pool_kwargs: Any) -> None:
        if self._tls:
            pool_kwargs["server_hostname"] = self._hostname
            pool_kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **pool_kwargs)


def _authorization(secret: str) -> str:
    """Header value for a per-host credential.

    ``"user:password"`` becomes Basic auth, ``"Bearer X"`` is sent as is, and a bare
    token uses Basic with the ``x-access-token`` user (what GitHub and most forges
    accept for git over HTTPS).
    """
    if secret.lower().startswith("bearer "):
        return secret
    userpass = secret if ":" in secret else f"x-access-token:{secret}"
    return "Basic " + base64.b64encode(userpass.encode()).decode("ascii")


class Transport:
    """Pinned, capped, retrying HTTP for one verifier (shared by its threads)."""

    def __init__(
        self,
        *,
        credentials: Mapping[str, str] | None,
        connect_timeout: float,
        read_timeout: float,
        retries: int,
        pool_size: int,
        backoff_base: float = 0.1,
        backoff_max: float = 4.0,
    ) -> None:
        self._credentials = {k.lower(): v for k, v in (credentials or {}).items()}
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._retries = retries
        self._pool_size = pool_size
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies / netrc from the environment
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self._mounted: set[str] = set()
        self._lock = threading.Lock()
        self.stats = TransferStats()

    def close(self) -> None:
        self._session.close()

    def _base_for(self, location: RepoLocation, address: str) -> str:
        """URL prefix addressing the pinned IP; mounts its adapter on first use."""
        ip = f"[{address}]" if ":" in address else address
        prefix = f"{location.scheme}://{ip}:{location.port}/"
        with self._lock:
            if prefix not in self._mounted:
                adapter = _PinnedAdapter(location.host, location.scheme == "https", self._pool_size)
                self._session.mount(prefix, adapter)
                self._mounted.add(prefix)
        return prefix

    def _headers(
        self, location: RepoLocation, extra: Mapping[str, str], credentials: bool
    ) -> dict[str, str]:
        headers = {
            "Host": location.netloc,
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",  # byte caps then bound memory exactly
            "Pragma": "no-cache",
            **extra,
        }
        if not credentials:
            return headers
        secret = self._credentials.get(f"{location.host}:{location.port}")
        if secret is None:
            secret = self._credentials.get(location.host)
        if secret is not None:
            headers["Authorization"] = _authorization(secret)
        return headers

    def request(
        self,
        limits: RunLimits,
        location: RepoLocation,
        address: str,
        method: str,
        path_and_query: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        parse: Callable[[requests.Response, bytes], T],
        max_response_bytes: int | None = None,
        credentials: bool = True,
    ) -> T:
        """Send one logical request with retries; ``parse(response, body)`` runs inside
        the retry loop so a parser detecting truncation gets the request repeated.

        ``parse`` receives non-2xx responses too (for redirects); 5xx/429 are retried
        before it sees them.  ``max_response_bytes`` replaces the run's size cap for
        this request (a caller that knows how much one answer may take).  ``credentials``
        False sends none of the git host tokens (the registry client: a token for a git host
        is not for a registry of the same host, which gets its own bearer tokens).
        """
        cap = limits.max_response_bytes if max_response_bytes is None else max_response_bytes

        def attempt(response: requests.Response) -> T:
            return parse(response, self._read_all(limits, response, cap))

        return self._with_retries(
            limits, location, address, method, path_and_query, headers, body, attempt, credentials
        )

    def stream(
        self,
        limits: RunLimits,
        location: RepoLocation,
        address: str,
        method: str,
        path_and_query: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        consume: Callable[[requests.Response, StreamBody], T],
    ) -> T:
        """Like :meth:`request`, but ``consume(response, stream)`` reads the body itself,
        as far as it needs: when it returns, the connection is closed, unread.

        For answers whose first bytes are all we need (the head of one git object in a
        pack).  The byte cap, time budget and counters apply to every read; retries and
        the policy are those of :meth:`request` (``consume`` raising
        :class:`TruncatedResponse` repeats the request).  Closing costs the connection
        (it cannot go back to the pool with a body half read): the next request to that
        origin opens a new one.  Bytes the server had already sent into the network
        when we close are not counted here: at most about one TCP receive window.
        """

        def attempt(response: requests.Response) -> T:
            return consume(response, StreamBody(self, limits, response))

        return self._with_retries(
            limits, location, address, method, path_and_query, headers, body, attempt
        )

    def _with_retries(
        self,
        limits: RunLimits,
        location: RepoLocation,
        address: str,
        method: str,
        path_and_query: str,
        headers: Mapping[str, str],
        body: bytes | None,
        attempt_with: Callable[[requests.Response], T],
        credentials: bool = True,
    ) -> T:
        url = self._base_for(location, address) + location.path.lstrip("/") + path_and_query
        all_headers = self._headers(location, headers, credentials)
        attempt = 0
        while True:
            limits.take_request()
            try:
                response = self._send(limits, method, url, all_headers, body)
                try:
                    if response.status_code == 429 or response.status_code >= 500:
                        raise _Retryable(
                            f"{location.display} answered HTTP {response.status_code}",
                            _retry_after(response),
                        )
                    try:
                        return attempt_with(response)
                    except TruncatedResponse as exc:
                        raise _Retryable(f"{location.display} sent a truncated response") from exc
                finally:
                    response.close()
            except _Retryable as exc:
                reason = str(exc)
                retry_after = exc.retry_after
            except requests.exceptions.SSLError:
                # A certificate problem will not fix itself in a second: do not retry.
                raise UpstreamUnavailable(f"TLS connection to {location.display} failed") from None
            except requests.Timeout:
                reason, retry_after = f"{location.display} timed out", None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                reason, retry_after = _connection_reason(location, exc), None
            except requests.RequestException as exc:
                # Anything else (invalid response, TLS problems surfacing oddly) is final.
                raise UpstreamUnavailable(
                    f"request to {location.display} failed ({type(exc).__name__})"
                ) from None
            if attempt >= self._retries:
                raise UpstreamUnavailable(f"{reason} (after {attempt + 1} attempts)")
            attempt += 1
            with self._lock:
                self.stats.retries += 1
            delay = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
            delay *= random.uniform(0.5, 1.5)  # jitter: don't retry in lockstep
            if retry_after is not None:
                delay = max(delay, min(retry_after, self._backoff_max * 2))
            if delay >= limits.remaining():
                raise LimitExceeded(f"{reason}; no time budget left to retry")
            log.debug("retrying %s %s in %.2fs: %s", method, location.display, delay, reason)
            time.sleep(delay)

    def _send(
        self,
        limits: RunLimits,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> requests.Response:
        """Send the request; the response's body is left unread (streamed)."""
        remaining = limits.remaining()
        timeout = (
            max(0.01, min(self._connect_timeout, remaining)),
            max(0.01, min(self._read_timeout, remaining)),
        )
        request = requests.Request(method, url, headers=dict(headers), data=body)
        prepared = self._session.prepare_request(request)
        with self._lock:
            self.stats.requests += 1
            self.stats.bytes_sent += len(body or b"")
        return self._session.send(
            prepared, stream=True, timeout=timeout, allow_redirects=False, verify=True
        )

    def _read_all(self, limits: RunLimits, response: requests.Response, cap: int) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise ResponseTooLarge(_size_message(cap), cap)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            self._count_received(len(chunk))
            if size > cap:
                raise ResponseTooLarge(_size_message(cap), cap)
            limits.check_time()
            chunks.append(chunk)
        return b"".join(chunks)

    def _count_received(self, size: int) -> None:
        with self._lock:
            self.stats.bytes_received += size


class StreamBody:
    """A response body read on demand, under the run's byte cap and time budget.

    Reads go through ``requests`` in small pieces (so at most one piece more than asked
    for is pulled off the socket); network errors surface as ``requests`` exceptions,
    which the transport's retry loop handles.
    """

    _PIECE = 8 * 1024

    def __init__(self, transport: Transport, limits: RunLimits, response: requests.Response):
        self._transport = transport
        self._limits = limits
        self._pieces = response.iter_content(self._PIECE)
        self._buffer = bytearray()
        self._eof = False
        self.bytes_read = 0

    def _fill(self) -> bool:
        if self._eof:
            return False
        piece = next(self._pieces, b"")
        if not piece:
            self._eof = True
            return False
        self.bytes_read += len(piece)
        self._transport._count_received(len(piece))
        cap = self._limits.max_response_bytes
        if self.bytes_read > cap:
            raise ResponseTooLarge(_size_message(cap), cap)
        self._limits.check_time()
        self._buffer += piece
        return True

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; fewer only at the end of the body."""
        while len(self._buffer) < size and self._fill():
            pass
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def read_exactly(self, size: int) -> bytes:
        """Exactly ``size`` bytes; a body ending sooner is a :class:`TruncatedResponse`."""
        out = self.read(size)
        if len(out) < size:
            raise TruncatedResponse("response body ended early")
        return out


class TransportClient:
    """A client of the guarded HTTP session: with a `Transport` of its own (closed with the
    client) or one it shares with another client (that client closes it), and the session's
    counters either way."""

    _transport: Transport
    _own_transport: bool

    def _use_transport(self, shared: Transport | None, **own: Any) -> None:
        """`shared`, or a new `Transport(**own)` this client owns."""
        self._own_transport = shared is None
        self._transport = shared if shared is not None else Transport(**own)

    @property
    def stats(self) -> TransferStats:
        """HTTP requests, bytes and retries through this client's transport (all of its
        clients', when it is shared)."""
        return self._transport.stats

    def close(self) -> None:
        if self._own_transport:
            self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size_message(cap: int) -> str:
    return f"a response exceeded the cap of {cap} bytes"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _connection_reason(location: RepoLocation, exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"{location.display} closed the connection mid-response"
    return f"could not connect to {location.display}"
