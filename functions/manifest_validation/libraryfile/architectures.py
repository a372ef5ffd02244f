"""The architectures Docker Official Images build, and the OCI platform each one means."""

from __future__ import annotations

from typing import NamedTuple


class Platform(NamedTuple):
    os: str
    architecture: str
    variant: str | None


# bashbrew's architecture names (bashbrew/architecture/oci-platform.go) and their OCI platforms.
PLATFORMS: dict[str, Platform] = {
    "amd64": Platform("linux", "amd64", None),
    "arm32v5": Platform("linux", "arm", "v5"),
    "arm32v6": Platform("linux", "arm", "v6"),
    "arm32v7": Platform("linux", "arm", "v7"),
    "arm64v8": Platform("linux", "arm64", "v8"),
    "i386": Platform("linux", "386", None),
    "mips64le": Platform("linux", "mips64le", None),
    "ppc64le": Platform("linux", "ppc64le", None),
    "riscv64": Platform("linux", "riscv64", None),
    "s390x": Platform("linux", "s390x", None),
    "windows-amd64": Platform("windows", "amd64", None),
}

SUPPORTED_ARCHITECTURES: tuple[str, ...] = tuple(PLATFORMS)

# The Docker Hub namespace each architecture's images are pushed to (`amd64/python:3.12`).
NAMESPACES: dict[str, str] = {arch: arch for arch in PLATFORMS} | {"windows-amd64": "winamd64"}


def platform_string(platform: Platform) -> str:
    """`os/architecture[/variant]`, as `docker build --platform` spells it."""
    parts = [platform.os, platform.architecture]
    if platform.variant:
        parts.append(platform.variant)
    return "/".join(parts)


def is_windows(architecture: str) -> bool:
    return architecture.startswith("windows-")
