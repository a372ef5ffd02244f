"""Which repository URLs we are willing to contact, and at which address.

The service is fed untrusted manifests, so a repository URL is attacker-controlled
input that makes us open connections: the classic server-side request forgery setup.
The policy therefore:

* accepts only ``https://host[:port]/path`` (plain ``http`` only for hosts listed in
  ``insecure_hosts``), never ``file:``, ``ssh:``, ``git:``, userinfo, query or fragment;
* resolves the host itself and refuses loopback, private, link-local (cloud metadata
  at 169.254.169.254), multicast, reserved, unspecified and otherwise non-global
  addresses, including IPv4 addresses smuggled inside IPv6 (mapped, 6to4, NAT64);
* hands the checked address to the transport, which connects to exactly that address
  (see :mod:`.transport`), so a second DNS answer cannot rebind us to an internal host.

``insecure_hosts`` exists for tests and private deployments: an entry ``HOST`` or
``HOST:PORT`` lifts both the https-only rule and the address check for that host only.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "ForbiddenUrl",
    "RepoLocation",
    "ResolutionFailed",
    "UrlPolicy",
    "is_public_address",
]


_DEFAULT_PORTS = {"https": 443, "http": 80}
# RFC 1123 host names; anything fancier (IDN, underscores, percent-escapes) is refused
# rather than guessed at, since every parser disagreeing with ours is an SSRF risk.
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Resolver = Callable[[str, int], list[str]]


class ForbiddenUrl(Exception):
    """The URL is refused by policy; ``str(exc)`` is a sentence safe to show users."""


class ResolutionFailed(Exception):
    """DNS gave no usable answer: the repository is unreachable, not forbidden."""


@dataclass(frozen=True)
class RepoLocation:
    """A policy-approved repository URL, split into the parts the transport needs."""

    scheme: str
    host: str  # lower-case name or IP literal without brackets
    port: int
    path: str  # no trailing slash, e.g. "/docker-library/golang.git"
    insecure: bool  # listed in insecure_hosts: plain http and private addresses allowed

    @property
    def netloc(self) -> str:
        """``host[:port]`` as it belongs in a Host header (default port omitted)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    @property
    def display(self) -> str:
        """The URL for humans (it cannot contain credentials: userinfo is refused)."""
        return f"{self.scheme}://{self.netloc}{self.path}"


def is_public_address(address: str) -> bool:
    """True when ``address`` is a globally routable unicast address.

    ``ipaddress`` flags cover the registries; on top of that we unwrap IPv6 forms that
    carry an IPv4 address (mapped ``::ffff:a.b.c.d``, 6to4, NAT64 ``64:ff9b::/96``),
    because a gateway would deliver those to the embedded IPv4 host.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionFailed(f"could not resolve host {host}") from exc
    return [str(info[4][0]) for info in infos]


def _parse_host_entry(entry: str) -> tuple[str, int | None]:
    """Split an ``insecure_hosts`` entry ``HOST``, ``HOST:PORT`` or ``[V6]:PORT``."""
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, int(port)
    return entry, None


class UrlPolicy:
    """Decides whether a repository URL may be contacted, and resolves it safely."""

    def __init__(self, insecure_hosts: Iterable[str] = (), *, resolver: Resolver | None = None):
        self._insecure: set[tuple[str, int | None]] = {
            _parse_host_entry(entry) for entry in insecure_hosts if entry.strip()
        }
        self._resolve = resolver or _system_resolver

    def _is_insecure_host(self, host: str, port: int) -> bool:
        return (host, port) in self._insecure or (host, None) in self._insecure

    def allows_plain_http(self, host: str, port: int) -> bool:
        """True when ``host:port`` is an insecure host (plain http and private addresses
        allowed there): how a registry named ``127.0.0.1:5000`` in an image reference,
        which has no scheme, is spoken to over http, as Docker's insecure registries."""
        return self._is_insecure_host(host.lower(), port)

    def parse(
        self, url: str, *, what: str = "repository URL", allow_root: bool = False
    ) -> RepoLocation:
        """Check everything that can be checked without the network.

        ``what`` names the URL in refusal messages (the registry client checks registry,
        mirror and token-realm URLs with the same rules); ``allow_root`` accepts an
        empty path (a registry mirror ``https://mirror.example``, a token realm at
        ``/``), which a git repository URL never has.
        """
        if any(ch.isspace() or ord(ch) < 0x20 or ch == "\\" for ch in url):
            raise ForbiddenUrl(f"{what} contains whitespace or control characters")
        try:
            parts = urlsplit(url)
            port_value = parts.port
        except ValueError as exc:
            raise ForbiddenUrl(f"{what} is malformed") from exc
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            shown = scheme or "scp-like or relative"
            raise ForbiddenUrl(f"{what} scheme {shown!r} is not allowed (only https)")
        if "@" in parts.netloc or parts.username is not None or parts.password is not None:
            raise ForbiddenUrl(f"{what} must not contain user information")
        if parts.query or parts.fragment or url.endswith(("?", "#")):
            raise ForbiddenUrl(f"{what} must not contain a query or fragment")
        host = (parts.hostname or "").lower()
        port = port_value if port_value is not None else _DEFAULT_PORTS[scheme]
        if not host:
            raise ForbiddenUrl(f"{what} has no host")
        if not (_is_ip_literal(host) or _HOSTNAME.match(host)):
            raise ForbiddenUrl(f"{what} host name is not a plain DNS name or IP address")
        if port == 0:
            raise ForbiddenUrl(f"{what} port 0 is not allowed")
        insecure = self._is_insecure_host(host, port)
        if scheme == "http" and not insecure:
            raise ForbiddenUrl(f"plain http is not allowed for {host} (only https)")
        path = parts.path.rstrip("/")
        if (not path and not allow_root) or ".." in path.split("/") or "%" in path:
            raise ForbiddenUrl(f"{what} path is empty or not canonical")
        location = RepoLocation(scheme, host, port, path, insecure)
        if _is_ip_literal(host) and not insecure and not is_public_address(host):
            raise ForbiddenUrl(f"{location.netloc} is not a public address")
        return location

    def resolve(self, location: RepoLocation) -> str:
        """Return the single address to connect to, after checking every DNS answer.

        All answers must be public: picking "the good one" out of a mixed answer would
        let an attacker who controls DNS aim us at an internal address on a retry.
        """
        if _is_ip_literal(location.host):
            return location.host
        addresses = self._resolve(location.host, location.port)
        if not addresses:
            raise ResolutionFailed(f"host {location.host} has no address")
        if not location.insecure:
            for address in addresses:
                if not is_public_address(address):
                    raise ForbiddenUrl(f"host {location.host} resolves to a non-public address")
        return addresses[0]

    def check(self, url: str) -> tuple[RepoLocation, str]:
        """``parse`` then ``resolve``: the location plus the address to pin."""
        location = self.parse(url)
        return location, self.resolve(location)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
