"""Which bashbrew architectures a pinned external image serves (OCI distribution API).

Official-images CI accepts an external parent (``FROM owner/image:tag``,
``FROM mcr.microsoft.com/windows/servercore:ltsc2022``) on an architecture only when
``.external-pins/<image>___<tag>`` holds a digest and that digest serves the
architecture (``bashbrew remote arches --json image@digest``).  This module answers
the second half without Docker or bashbrew (the references and platforms it reads are
`references`'s)::

    client = RegistryClient(UrlPolicy(insecure_hosts), mirrors=parse_registry_mirrors(text))
    result = client.architectures("mcr.microsoft.com/windows/servercore@sha256:...")
    if result.status is RegistryStatus.FOUND:
        "windows-amd64" in result.architectures

Outcomes (:class:`RegistryStatus`), for the rule that uses them:

* ``FOUND``: ``architectures`` is the set of bashbrew names the digest serves (an
  index or manifest list: every entry's platform; a single image: its config's).
* ``NOT_FOUND``: the registry answered that the digest (or the repository) does not
  exist: that parent serves no architecture.  A verdict.
* ``DIGEST_MISMATCH``: the bytes served for the digest do not hash to it (a broken or
  lying registry or mirror).  An error of its own, never silently accepted, never
  cached.
* ``INVALID_REFERENCE``: the text is not an image reference with a digest, as
  Docker parses them.  A fact about the pin, decided without the network.
* ``UNREACHABLE``: network failure, 5xx after retries, a refusal by the URL policy,
  access denied, a cap hit, an answer we cannot read.  Never a verdict: the caller
  makes the manifest *unverified*.

How a request goes (the OCI distribution spec, and what Docker Hub, MCR and the Red
Hat registry do):

1. The reference is normalised as Docker does: no registry host means Docker Hub
   (``docker.io``, API at ``registry-1.docker.io``) and a one-component name there
   gets ``library/``; the first component is a host when it has a ``.`` or ``:`` or
   is ``localhost``.
2. ``GET /v2/<name>/manifests/<digest>`` with an ``Accept`` naming the OCI index, the
   Docker manifest list, the OCI manifest and the Docker v2 manifest (a registry
   answers an OCI index by digest with 404 ``MANIFEST_UNKNOWN`` to a client that does
   not accept it: pinned in tests/upstream/test_registry.py).
3. A ``401`` with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` is an
   anonymous token flow: ``GET realm?service=...&scope=...`` answers JSON with
   ``token`` (or ``access_token``), sent back as ``Authorization: Bearer``.  Tokens
   are reused per (registry, scope) until ``expires_in``.  A registry that needs no
   auth (MCR, registry.access.redhat.com) answers 200 at once.
4. The manifest bytes must hash to the digest.  An index's entries are mapped through
   :func:`bashbrew_architecture`; a single image's platform is read from its config
   blob (``GET /v2/<name>/blobs/<config digest>``, also hash-checked).

Everything goes through the same guarded :class:`~.transport.Transport` as git:
each URL (registry, mirror, token realm, redirect target) passes the
:class:`~.policy.UrlPolicy` (https only and public addresses unless the host is an
``--insecure-host``), connections are pinned to the checked address, bodies are
capped (4 MiB, the distribution registry's own manifest limit), each lookup has a
time budget and a request budget, and 5xx/429/connection errors are retried.  A
token is only ever sent to the registry origin it was asked for, never along a
redirect to another origin (Docker Hub sends blobs from a CDN).

Mirrors: ``mirrors={"docker.io": "http://127.0.0.1:5000"}`` sends every request for
that registry to the mirror (a pull-through cache or a copy), at
``<mirror URL>/v2/<name>/...``, instead of the registry itself; there is no fallback
to the registry (a deployment that sets a mirror usually cannot, or must not, reach
the registry).  :func:`parse_registry_mirror` reads one ``--registry-mirror
HOST=URL``, :func:`parse_registry_mirrors` the environment form ``host=url,host2=url2``
(`settings.REGISTRY_MIRRORS` names the variable; the settings read it).

Answers by digest are immutable, so ``FOUND`` answers are cached (a
:class:`~.valuecache.ValueCache`, keyed by registry, name and digest; not by mirror:
the digest names the same bytes wherever they come from).  ``NOT_FOUND`` is not
cached: the image may be pushed a minute later.

Not handled: schema 1 manifests (``...manifest.v1+prettyjws``; they predate pinning by
digest: UNREACHABLE with a message saying so); an index entry that is itself an index
(no platform of its own, skipped, as are entries without a platform and buildkit's
``unknown/unknown`` attestation entries); credentials (anonymous pulls only).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from .pktline import ServerError
from .policy import ForbiddenUrl, RepoLocation, ResolutionFailed, UrlPolicy
from .references import (
    DOCKER_HUB,
    DOCKER_HUB_API,
    ImageReference,
    InvalidReference,
    bashbrew_architecture,
    check_digest,
    parse_reference,
    parse_registry_mirror,
    platform_text,
)
from .transport import RunLimits, Transport, TransportClient, UpstreamUnavailable
from .valuecache import MemoryValueCache, ValueCache

__all__ = ["ACCEPT", "ArchitecturesResult", "RegistryClient", "RegistryStatus"]


OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
_IMAGE_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
USER_AGENT = "manifest-validation (OCI distribution client)"

# RFC 7235 token68 plus what registries put in tokens: nothing that could end a header.
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]+$")
_REDIRECT_CODES = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 3
_MANIFEST_CAP = 4 * 1024 * 1024
_TOKEN_DEFAULT_SECONDS = 60.0


class RegistryStatus(StrEnum):
    """Outcome of one lookup; see the module docstring for which ones are verdicts."""

    FOUND = "found"
    NOT_FOUND = "not-found"
    DIGEST_MISMATCH = "digest-mismatch"
    INVALID_REFERENCE = "invalid-reference"
    UNREACHABLE = "unreachable"

    @property
    def is_verdict(self) -> bool:
        """True when the answer is a fact about the image (FOUND, NOT_FOUND)."""
        return self in (RegistryStatus.FOUND, RegistryStatus.NOT_FOUND)


@dataclass(frozen=True)
class ArchitecturesResult:
    """What one digest serves.

    ``architectures``: bashbrew names (FOUND only; empty otherwise).
    ``other_platforms``: ``os/arch[/variant]`` of entries that are no bashbrew
    architecture (``windows/arm64``, ``linux/amd64/v3``), for messages.
    ``media_type``: the manifest's, when one was read.  ``detail``: one sentence.
    """

    reference: str
    status: RegistryStatus
    architectures: frozenset[str] = frozenset()
    detail: str = ""
    media_type: str | None = None
    other_platforms: tuple[str, ...] = ()


# -- the client --------------------------------------------------------------------


class _NotFound(Exception):
    """The registry said the manifest or repository does not exist."""


class _Mismatch(Exception):
    """The served bytes do not hash to the digest asked for."""


@dataclass
class _Token:
    value: str
    expires: float


@dataclass
class _Endpoint:
    """Where one registry's API lives for this client (the registry or its mirror)."""

    base: str  # scheme://host[:port][/prefix], no trailing slash
    via_mirror: bool
    tokens: dict[str, _Token] = field(default_factory=dict)


class RegistryClient(TransportClient):
    """Anonymous, read-only OCI distribution client answering "which architectures".

    Thread-safe; keep one per process (connections, tokens and answers are reused).
    ``transport``: share a :class:`~.transport.Transport` (and so its counters and
    connection pools) with a git verifier; one is made otherwise.
    """

    def __init__(
        self,
        policy: UrlPolicy | None = None,
        *,
        cache: ValueCache | None = None,
        mirrors: Mapping[str, str] | None = None,
        transport: Transport | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 20,
        budget_seconds: float = 60,
        max_requests: int = 20,
        max_response_bytes: int = _MANIFEST_CAP,
        retries: int = 3,
        max_workers: int = 4,
    ) -> None:
        self.policy = policy if policy is not None else UrlPolicy()
        self.cache: ValueCache = cache if cache is not None else MemoryValueCache()
        self.mirrors = {
            parse_registry_mirror(f"{host}={url}")[0]: url.rstrip("/")
            for host, url in (mirrors or {}).items()
        }
        self._use_transport(
            transport,
            credentials=None,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            pool_size=max_workers,
        )
        self.budget_seconds = budget_seconds
        self.max_requests = max_requests
        self.max_response_bytes = max_response_bytes
        self.max_workers = max(1, max_workers)
        self._endpoints: dict[str, _Endpoint] = {}
        self._lock = threading.Lock()

    # -- public API ----------------------------------------------------------------

    def architectures_many(self, references: Iterable[str]) -> dict[str, ArchitecturesResult]:
        """:meth:`architectures` for each distinct reference, a few at a time."""
        unique = list(dict.fromkeys(references))
        with cf.ThreadPoolExecutor(self.max_workers, thread_name_prefix="oci") as pool:
            return dict(zip(unique, pool.map(self.architectures, unique), strict=True))

    def architectures(self, reference: str | ImageReference) -> ArchitecturesResult:
        """The bashbrew architectures ``image@digest`` serves; never raises for network
        or registry trouble (that is ``UNREACHABLE``)."""
        shown = str(reference)
        try:
            ref = reference if isinstance(reference, ImageReference) else parse_reference(shown)
        except InvalidReference as exc:
            return ArchitecturesResult(shown, RegistryStatus.INVALID_REFERENCE, detail=f"{exc}.")
        if ref.digest is None:
            return ArchitecturesResult(
                shown,
                RegistryStatus.INVALID_REFERENCE,
                detail="The reference has no digest; only a digest names fixed content.",
            )
        key = f"oci-arches\n{ref.registry}\n{ref.name}\n{ref.digest}"
        cached = self.cache.get(key)
        if cached is not None:
            return _from_json(shown, cached)
        endpoint = self._endpoint(ref.registry)
        where = f"{ref.registry}/{ref.name}" + (
            f" (mirror {endpoint.base})" if endpoint.via_mirror else ""
        )
        limits = RunLimits(
            budget_seconds=self.budget_seconds,
            max_requests=self.max_requests,
            max_response_bytes=self.max_response_bytes,
        )
        try:
            result = self._lookup(limits, endpoint, ref, shown)
        except _NotFound as exc:
            return ArchitecturesResult(
                shown,
                RegistryStatus.NOT_FOUND,
                detail=f"{where} has no {ref.digest} ({exc}).",
            )
        except _Mismatch as exc:
            return ArchitecturesResult(
                shown, RegistryStatus.DIGEST_MISMATCH, detail=f"{where} served {exc}."
            )
        except ForbiddenUrl as exc:
            return _unreachable(shown, where, f"URL refused: {exc}")
        except (UpstreamUnavailable, ResolutionFailed, ServerError) as exc:
            return _unreachable(shown, where, str(exc))
        if result.status is RegistryStatus.FOUND:
            self.cache.put(key, _to_json(result))
        return result

    # -- one lookup ----------------------------------------------------------------

    def _endpoint(self, registry: str) -> _Endpoint:
        with self._lock:
            endpoint = self._endpoints.get(registry)
            if endpoint is None:
                mirror = self.mirrors.get(registry)
                base = mirror if mirror is not None else self._registry_base(registry)
                endpoint = _Endpoint(base, mirror is not None)
                self._endpoints[registry] = endpoint
            return endpoint

    def _registry_base(self, registry: str) -> str:
        """https, unless the policy lists the registry as an insecure host (a registry
        reference has no scheme: this is Docker's ``--insecure-registry``)."""
        host = _api_host(registry)
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        if self.policy.allows_plain_http(name, int(port) if port else 80):
            return f"http://{host}"
        return f"https://{host}"

    def _lookup(
        self, limits: RunLimits, endpoint: _Endpoint, ref: ImageReference, shown: str
    ) -> ArchitecturesResult:
        assert ref.digest is not None
        response, body = self._get(
            limits, endpoint, ref.name, f"/manifests/{ref.digest}", {"Accept": ACCEPT}
        )
        _verify_digest(ref.digest, body, "manifest")
        document = _json_object(body, "manifest")
        media_type = _media_type(response, document)
        if media_type in _SCHEMA1 or document.get("schemaVersion") == 1:
            raise UpstreamUnavailable(
                "the digest names a schema 1 manifest, which this client does not read"
            )
        if media_type in _INDEX_TYPES or (media_type is None and "manifests" in document):
            return self._from_index(shown, document, media_type or OCI_INDEX)
        if media_type in _IMAGE_TYPES or (media_type is None and "config" in document):
            config = document.get("config")
            digest = config.get("digest") if isinstance(config, dict) else None
            if not isinstance(digest, str):
                raise UpstreamUnavailable("the image manifest names no config blob")
            try:
                digest = check_digest(digest)
            except InvalidReference as exc:
                raise UpstreamUnavailable(f"the image manifest's config digest: {exc}") from None
            try:
                _, blob = self._get(limits, endpoint, ref.name, f"/blobs/{digest}", {})
            except _NotFound:
                # The manifest exists, so the image does: a missing config is the
                # registry's inconsistency, not an answer about the image.
                raise UpstreamUnavailable(f"the config blob {digest} is missing") from None
            _verify_digest(digest, blob, "config blob")
            image = _json_object(blob, "config blob")
            return self._from_platforms(
                shown, [_platform_of(image)], media_type or OCI_MANIFEST, "image"
            )
        raise UpstreamUnavailable(f"the digest names a {media_type or 'unknown'} document")

    def _from_index(
        self, shown: str, document: dict[str, Any], media_type: str
    ) -> ArchitecturesResult:
        entries = document.get("manifests")
        if not isinstance(entries, list):
            raise UpstreamUnavailable("the index has no list of manifests")
        platforms: list[tuple[str, str, str]] = []
        for entry in entries:
            platform = entry.get("platform") if isinstance(entry, dict) else None
            if not isinstance(platform, dict):
                continue  # nested index or artefact: no platform of its own
            found = _platform_of(platform)
            if found[:2] == ("unknown", "unknown"):
                continue  # buildkit's attestation manifests
            platforms.append(found)
        return self._from_platforms(shown, platforms, media_type, "index")

    @staticmethod
    def _from_platforms(
        shown: str, platforms: list[tuple[str, str, str]], media_type: str, kind: str
    ) -> ArchitecturesResult:
        arches: set[str] = set()
        others: list[str] = []
        for os_name, arch, variant in platforms:
            name = bashbrew_architecture(os_name, arch, variant)
            if name is None:
                others.append(platform_text(os_name, arch, variant))
            else:
                arches.add(name)
        listed = ", ".join(sorted(arches)) or "no bashbrew architecture"
        return ArchitecturesResult(
            shown,
            RegistryStatus.FOUND,
            frozenset(arches),
            detail=f"The {kind} serves {listed}.",
            media_type=media_type,
            other_platforms=tuple(sorted(set(others))),
        )

    # -- HTTP with auth and redirects --------------------------------------------

    def _get(
        self,
        limits: RunLimits,
        endpoint: _Endpoint,
        name: str,
        suffix: str,
        headers: Mapping[str, str],
    ) -> tuple[requests.Response, bytes]:
        """GET ``<base>/v2/<name><suffix>``: a 2xx response and its body.

        One token round on a Bearer challenge; redirects followed through the policy;
        404 with a registry error code is :class:`_NotFound`; anything else that is not
        2xx is :class:`UpstreamUnavailable`.
        """
        url = f"{endpoint.base}/v2/{name}{suffix}"
        scope = f"repository:{name}:pull"
        authorised = False
        for _ in range(_MAX_REDIRECTS + 1):
            extra = {"User-Agent": USER_AGENT, **headers}
            same_origin = _origin(url) == _origin(endpoint.base)
            token = self._token(endpoint, scope) if same_origin else None
            if token is not None:
                extra["Authorization"] = f"Bearer {token}"
            response, body = self._fetch(limits, url, extra, "registry URL")
            status = response.status_code
            if status == 401 and same_origin and not authorised:
                challenge = response.headers.get("WWW-Authenticate", "")
                self._authenticate(limits, endpoint, challenge, scope)
                authorised = True
                continue
            if status in _REDIRECT_CODES and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if 200 <= status < 300:
                return response, body
            if status == 404:
                codes = _error_codes(body)
                known = codes & {"MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN"}
                if known:
                    raise _NotFound(", ".join(sorted(known)))
                raise UpstreamUnavailable(
                    f"{_origin(url)} answered HTTP 404 without a registry error code"
                )
            if status in (401, 403):
                raise UpstreamUnavailable(
                    f"{_origin(url)} answered HTTP {status} (private image or access denied)"
                )
            raise UpstreamUnavailable(f"{_origin(url)} answered HTTP {status}")
        raise UpstreamUnavailable(f"{endpoint.base} redirected too many times")

    def _fetch(
        self, limits: RunLimits, url: str, headers: Mapping[str, str], what: str
    ) -> tuple[requests.Response, bytes]:
        location, address, query = self._check(url, what)

        def keep(response: requests.Response, body: bytes) -> tuple[requests.Response, bytes]:
            return response, body

        return self._transport.request(
            limits,
            location,
            address,
            "GET",
            query,
            headers=headers,
            parse=keep,
            credentials=False,  # the git hosts' tokens are not the registries'
        )

    def _check(self, url: str, what: str) -> tuple[RepoLocation, str, str]:
        """Policy-check ``url``; its query (a redirect's signature, a realm's own
        parameters) is carried apart, since the policy judges where a request goes and
        a query changes nothing about that."""
        base, _, query = url.partition("?")
        base = base.partition("#")[0]
        location = self.policy.parse(base, what=what, allow_root=True)
        return location, self.policy.resolve(location), f"?{query}" if query else ""

    def _token(self, endpoint: _Endpoint, scope: str) -> str | None:
        with self._lock:
            token = endpoint.tokens.get(scope)
            if token is None or token.expires <= time.monotonic():
                return None
            return token.value

    def _authenticate(
        self, limits: RunLimits, endpoint: _Endpoint, challenge: str, scope: str
    ) -> None:
        scheme, params = _parse_challenge(challenge)
        if scheme != "bearer":
            raise UpstreamUnavailable(
                f"{endpoint.base} wants {scheme or 'unknown'} authentication; "
                "only anonymous bearer tokens are supported"
            )
        realm = params.get("realm")
        if not realm:
            raise UpstreamUnavailable(f"{endpoint.base} sent a bearer challenge without a realm")
        query = {"scope": params.get("scope") or scope}
        if params.get("service"):
            query["service"] = params["service"]
        separator = "&" if "?" in realm else "?"
        url = f"{realm}{separator}{urlencode(sorted(query.items()))}"
        response, body = self._fetch(
            limits, url, {"User-Agent": USER_AGENT, "Accept": "application/json"}, "token realm"
        )
        if response.status_code != 200:
            raise UpstreamUnavailable(
                f"the token service {_origin(url)} answered HTTP {response.status_code}"
            )
        try:
            answer = json.loads(body)
        except ValueError:
            raise UpstreamUnavailable("the token service answered no JSON") from None
        value = (
            answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
        )
        if not isinstance(value, str) or not _SAFE_TOKEN.match(value):
            raise UpstreamUnavailable("the token service answered no usable token")
        lifetime = answer.get("expires_in")
        seconds = (
            float(lifetime)
            if isinstance(lifetime, int | float) and not isinstance(lifetime, bool)
            else _TOKEN_DEFAULT_SECONDS
        )
        # Renew a little early: a token expiring in flight costs a wasted round.
        expires = time.monotonic() + max(0.0, min(seconds, 3600.0) - 5)
        with self._lock:
            endpoint.tokens[query["scope"]] = _Token(value, expires)
            if query["scope"] != scope:
                endpoint.tokens[scope] = _Token(value, expires)


def _api_host(registry: str) -> str:
    return DOCKER_HUB_API if registry == DOCKER_HUB else registry


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="...",service="...",scope="a:b:pull,push"``: the scheme (lower
    case) and its parameters; quoted values may hold commas and escaped quotes."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    pattern = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')
    position = 0
    while position < len(rest):
        match = pattern.match(rest, position)
        if not match or match.end() == position:
            break
        value = match[2] if match[2] is not None else match[3] or ""
        params[match[1].lower()] = re.sub(r"\\(.)", r"\1", value)
        position = match.end()
    return scheme.lower(), params


def _verify_digest(digest: str, body: bytes, what: str) -> None:
    algorithm, _, expected = digest.partition(":")
    actual = hashlib.new(algorithm, body).hexdigest()
    if actual != expected:
        raise _Mismatch(f"a {what} whose bytes hash to {algorithm}:{actual}, not {digest}")


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise UpstreamUnavailable(f"the {what} is not JSON") from None
    if not isinstance(document, dict):
        raise UpstreamUnavailable(f"the {what} is not a JSON object")
    return document


def _media_type(response: requests.Response, document: dict[str, Any]) -> str | None:
    declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if declared in _INDEX_TYPES + _IMAGE_TYPES + _SCHEMA1:
        return declared
    inner = document.get("mediaType")
    return inner if isinstance(inner, str) else None


def _platform_of(document: Mapping[str, Any]) -> tuple[str, str, str]:
    def text(key: str) -> str:
        value = document.get(key)
        return value if isinstance(value, str) else ""

    return text("os"), text("architecture"), text("variant")


def _error_codes(body: bytes) -> set[str]:
    try:
        document = json.loads(body)
    except ValueError:
        return set()
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return set()
    return {e["code"] for e in errors if isinstance(e, dict) and isinstance(e.get("code"), str)}


def _unreachable(shown: str, where: str, reason: str) -> ArchitecturesResult:
    text = f"Could not ask {where}: {reason}".rstrip(".") + "."
    return ArchitecturesResult(shown, RegistryStatus.UNREACHABLE, detail=text)


def _to_json(result: ArchitecturesResult) -> str:
    return json.dumps(
        {
            "architectures": sorted(result.architectures),
            "detail": result.detail,
            "media_type": result.media_type,
            "other_platforms": list(result.other_platforms),
        }
    )


def _from_json(shown: str, text: str) -> ArchitecturesResult:
    data = json.loads(text)
    return ArchitecturesResult(
        shown,
        RegistryStatus.FOUND,
        frozenset(data["architectures"]),
        detail=data["detail"],
        media_type=data["media_type"],
        other_platforms=tuple(data["other_platforms"]),
    )
