"""Image references as Docker reads them, and OCI platforms as bashbrew names them: pure, no
network (the registry client, `registry`, asks about what these name).

* :func:`parse_reference` reads ``[host[:port]/]name[:tag][@digest]`` with Docker's grammar
  and normalises it: no host means Docker Hub (``docker.io``) and a one-component name there
  gets ``library/``; the first component is a host when it has a ``.`` or ``:`` or is
  ``localhost``.
* :func:`bashbrew_architecture` maps an OCI platform (``linux/arm/v7``) to bashbrew's name
  (``arm32v7``), after containerd's normalisation of the aliases images carry.
* :func:`parse_registry_mirror` reads one ``--registry-mirror HOST=URL``,
  :func:`parse_registry_mirrors` the environment form ``host=url,host2=url2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..libraryfile.architectures import PLATFORMS

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_API",
    "ImageReference",
    "InvalidReference",
    "bashbrew_architecture",
    "check_digest",
    "parse_reference",
    "parse_registry_mirror",
    "parse_registry_mirrors",
    "platform_text",
]

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}

# Docker's reference grammar (distribution/reference), written out from its spec.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"^{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*(?::[0-9]+)?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)$")
_HASHES = {"sha256": 64, "sha512": 128}
_MAX_NAME = 255


class InvalidReference(ValueError):
    """The text is not a Docker image reference (``str(exc)`` says why)."""


@dataclass(frozen=True)
class ImageReference:
    """A normalised reference: ``registry`` is Docker's domain (``docker.io`` for Docker
    Hub), ``name`` the repository path there (``library/ubuntu``)."""

    registry: str
    name: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """The host[:port] that serves the registry API (Docker Hub's is not docker.io)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    def __str__(self) -> str:
        text = f"{self.registry}/{self.name}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str) -> ImageReference:
    """Parse ``[host[:port]/]name[:tag][@digest]`` as Docker does (and normalise it)."""
    if not text or text != text.strip() or any(ord(ch) < 0x21 for ch in text):
        raise InvalidReference("an image reference has no spaces or control characters")
    remainder, _, digest = text.partition("@")
    if "@" in digest:
        raise InvalidReference("an image reference has at most one '@'")
    tag: str | None = None
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            raise InvalidReference(f"{tag!r} is not a valid tag")
    first, sep, rest = remainder.partition("/")
    if sep and (("." in first or ":" in first or first == "localhost") or first != first.lower()):
        domain, name = first, rest
        if not _DOMAIN.match(domain):
            raise InvalidReference(f"{domain!r} is not a valid registry host")
        if first != first.lower() and "." not in first and ":" not in first:
            # Docker takes an upper-case first component for a host too, then refuses it.
            raise InvalidReference(f"{domain!r} is not a valid registry host")
    else:
        domain, name = DOCKER_HUB, remainder
    domain = domain.lower()
    if domain in _DOCKER_HUB_ALIASES:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in name:
        name = f"library/{name}"
    if not _NAME.match(name):
        raise InvalidReference(f"{name!r} is not a valid repository name (lower case only)")
    if len(name) > _MAX_NAME:
        raise InvalidReference(f"repository name longer than {_MAX_NAME} characters")
    if digest:
        digest = check_digest(digest)
    return ImageReference(domain, name, tag, digest or None)


def check_digest(digest: str) -> str:
    match = _DIGEST.match(digest)
    if not match:
        raise InvalidReference(f"{digest!r} is not a valid digest")
    algorithm, hexpart = match["algorithm"], match["hex"]
    if algorithm not in _HASHES:
        raise InvalidReference(f"digest algorithm {algorithm!r} is not supported")
    if len(hexpart) != _HASHES[algorithm] or not re.fullmatch(r"[0-9a-f]+", hexpart):
        raise InvalidReference(
            f"a {algorithm} digest is {_HASHES[algorithm]} lower-case hex digits"
        )
    return digest


def parse_registry_mirror(value: str) -> tuple[str, str]:
    """One ``--registry-mirror HOST=URL``: the registry host (Docker Hub's aliases read
    as ``docker.io``) and the mirror's base URL (``http``/``https``, no query,
    credentials or fragment; a path prefix is kept).  Raises ``ValueError``.

    Whether the URL may be contacted (https, public address) is decided later by the
    URL policy, like every other URL.
    """
    host, sep, url = value.strip().partition("=")
    host, url = host.strip().lower(), url.strip()
    if not sep or not host or not url:
        raise ValueError(f"registry mirror {value!r} is not HOST=URL")
    if not _DOMAIN.match(host):
        raise ValueError(f"registry mirror host {host!r} is not a registry host name")
    if host in _DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"registry mirror URL {url!r} must be http(s)://host[:port][/path]")
    if parts.username or parts.password or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"registry mirror URL {url!r} must not hold credentials or a query")
    return host, url.rstrip("/")


def parse_registry_mirrors(text: str) -> dict[str, str]:
    """The environment form ``host=url,host2=url2`` (blank items ignored; a host given
    twice is an error, since which one wins would be a guess)."""
    mirrors: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        host, url = parse_registry_mirror(item)
        if host in mirrors:
            raise ValueError(f"registry mirror for {host} given twice")
        mirrors[host] = url
    return mirrors


# -- platforms ---------------------------------------------------------------------


def _normalise_platform(os_name: str, arch: str, variant: str) -> tuple[str, str, str]:
    """OCI platform spelling as containerd normalises it (the aliases images carry)."""
    os_name, arch, variant = os_name.lower(), arch.lower(), variant.lower()
    if arch in ("x86_64", "x86-64"):
        arch = "amd64"
    if arch == "amd64" and variant == "v1":
        variant = ""
    elif arch in ("i386", "i686"):
        arch = "386"
    elif arch == "aarch64":
        arch = "arm64"
    if arch == "arm64" and variant in ("", "8", "v8"):
        variant = "v8"
    elif arch == "armhf":
        arch, variant = "arm", "v7"
    elif arch == "armel":
        arch, variant = "arm", "v6"
    elif arch == "arm":
        if variant == "":
            variant = "v7"  # containerd's default for a bare "arm"
        elif variant in ("5", "6", "7", "8"):
            variant = "v" + variant
    return os_name, arch, variant


_BY_PLATFORM: dict[tuple[str, str, str], str] = {
    _normalise_platform(p.os, p.architecture, p.variant or ""): name
    for name, p in PLATFORMS.items()
}


def bashbrew_architecture(os_name: str, architecture: str, variant: str = "") -> str | None:
    """The bashbrew name of an OCI platform (``linux``, ``arm``, ``v7`` -> ``arm32v7``;
    ``windows``, ``amd64`` -> ``windows-amd64``), or ``None``.  ``os.version`` plays
    no part: any Windows build counts for windows-amd64, as in bashbrew."""
    return _BY_PLATFORM.get(_normalise_platform(os_name, architecture, variant))


def platform_text(os_name: str, arch: str, variant: str) -> str:
    return "/".join(part for part in (os_name, arch, variant) if part)
