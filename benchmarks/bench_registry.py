"""Benchmark: resolving pinned digests to bashbrew architectures against a local registry.

Starts Debian's ``docker-registry`` (the CNCF distribution registry) on 127.0.0.1
twice, without auth and with ``auth: token`` (a local token service signing JWTs,
as in tests/upstream/test_registry.py), pushes N images there, each in a repository
of its own (as ``.external-pins`` are: one image per pin), alternating a 4-platform
OCI index, a Docker manifest list and a single-platform manifest, and resolves every
``image@digest`` with :class:`RegistryClient`: cold, then again (cached).

Printed per run, next to its target: requests, bytes received, seconds.  Target
requests, cold: one per index or list, two per single manifest (its config blob), plus
with token auth one 401 and one token request per repository.  Cached: none.  Then the
pipeline's lookup (``checks.parents.registry_lookup``) as a call of ``check`` uses it:
every pinned reference asked by each of 30 manifests, with a fresh client: the cold
requests once, whatever the number of manifests.  Time target: at most 50 ms per digest
cold on the loopback (without tokens), 1 ms cached.

Run: ``python benchmarks/bench_registry.py [--images 30]`` (under a minute, most of it
pushing the images).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from manifest_validation.upstream import UrlPolicy
from manifest_validation.upstream.registry import RegistryClient, RegistryStatus
from upstream.registry_server import (
    Registry,
    Signer,
    registry_binary,
    run_registry,
    run_token_service,
)

PLATFORMS = [
    {"os": "linux", "architecture": "amd64"},
    {"os": "linux", "architecture": "arm", "variant": "v7"},
    {"os": "linux", "architecture": "arm64", "variant": "v8"},
    {"os": "windows", "architecture": "amd64"},
]


def push(registry: Registry, count: int) -> list[str]:
    references = []
    for number in range(count):
        name = f"pins/image{number}"
        kind = number % 3
        if kind == 2:
            digest, _, _ = registry.push_image(name, "linux", "s390x", oci=False)
        else:
            entries = []
            for platform in PLATFORMS:
                child, size, _ = registry.push_image(
                    name,
                    platform["os"],
                    platform["architecture"],
                    platform.get("variant"),
                    oci=kind == 0,
                )
                entries.append((child, size, platform))
            digest, _ = registry.push_index(name, entries, oci=kind == 0)
        references.append(f"{registry.host_port}/{name}@{digest}")
    return references


def resolve(client: RegistryClient, references: list[str]) -> tuple[int, int, float]:
    before = client.stats.requests, client.stats.bytes_received
    started = time.perf_counter()
    results = client.architectures_many(references)
    elapsed = time.perf_counter() - started
    bad = [r for r in results.values() if r.status is not RegistryStatus.FOUND]
    assert not bad, bad[0].detail
    return (
        client.stats.requests - before[0],
        client.stats.bytes_received - before[1],
        elapsed,
    )


def pipeline(
    client: RegistryClient, references: list[str], manifests: int
) -> tuple[int, int, float]:
    """What one `check` of `manifests` manifests asks, each naming every reference."""
    from manifest_validation.checks.parents import registry_lookup

    lookup = registry_lookup(client)
    before = client.stats.requests, client.stats.bytes_received
    started = time.perf_counter()
    for _ in range(manifests):
        answers = lookup(references)
        assert all(a.status is RegistryStatus.FOUND for a in answers.values())
    return (
        client.stats.requests - before[0],
        client.stats.bytes_received - before[1],
        time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=30)
    args = parser.parse_args()
    if registry_binary() is None:
        sys.exit("docker-registry is not installed (apt-get install docker-registry)")
    rows: list[tuple[str, tuple[int, int, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with run_registry(work / "plain") as registry:
            references = push(registry, args.images)
            with RegistryClient(UrlPolicy([registry.host_port])) as client:
                rows.append(("no auth, cold", resolve(client, references)))
                rows.append(("no auth, cached", resolve(client, references)))
            with RegistryClient(UrlPolicy([registry.host_port])) as client:
                rows.append(("pipeline, 30 manifests", pipeline(client, references, 30)))
        signer = Signer(work)
        with run_token_service(signer, "bench-issuer", "bench-registry") as tokens:
            auth = {
                "realm": tokens.url,
                "service": "bench-registry",
                "issuer": "bench-issuer",
                "rootcertbundle": str(signer.cert_path),
            }

            def token(scope: str) -> str:
                return signer.jwt("bench-issuer", "bench-registry", scope)

            with run_registry(work / "token", auth=auth, token=token) as registry:
                references = push(registry, args.images)
                realm = tokens.url.removeprefix("http://").split("/")[0]
                with RegistryClient(UrlPolicy([registry.host_port, realm])) as client:
                    rows.append(("bearer tokens, cold", resolve(client, references)))
                    rows.append(("bearer tokens, cached", resolve(client, references)))
    singles = len(range(2, args.images, 3))
    expected = args.images + singles
    # (requests, ms per digest) each row must stay within; None: no time target
    targets: dict[str, tuple[int, float | None]] = {
        "no auth, cold": (expected, 50.0),
        "no auth, cached": (0, 1.0),
        "pipeline, 30 manifests": (expected, None),
        "bearer tokens, cold": (expected + 2 * args.images, None),
        "bearer tokens, cached": (0, 1.0),
    }
    print(f"{args.images} pinned digests ({singles} single-platform manifests)\n")
    print(
        f"{'':24} {'requests':>8} {'target':>6} {'bytes':>10} {'seconds':>8} "
        f"{'ms/digest':>10} {'target':>7}  verdict"
    )
    for name, (requests, received, seconds) in rows:
        want_requests, want_ms = targets[name]
        per_digest = 1000 * seconds / args.images
        meets = requests <= want_requests and (want_ms is None or per_digest <= want_ms)
        shown_ms = f"<={want_ms:g}" if want_ms is not None else "-"
        print(
            f"{name:24} {requests:>8} {want_requests:>6} {received:>10} {seconds:>8.3f} "
            f"{per_digest:>10.2f} {shown_ms:>7}  {'meets' if meets else 'MISSES'}"
        )


if __name__ == "__main__":
    main()
