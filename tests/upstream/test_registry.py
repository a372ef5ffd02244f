"""The OCI distribution client against the real CNCF distribution registry.

Session fixtures start Debian's ``docker-registry`` on 127.0.0.1 (storage in a
temporary directory), once without auth and once with ``auth: token`` trusting a
token service of the test's own (a self-signed certificate, RS256 JWTs), and push
images through the registry's API.  The facts the client relies on are pinned in
raw HTTP first (``test_fact_*``), so a registry upgrade that changes one fails there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from manifest_validation.upstream import UrlPolicy
from manifest_validation.upstream.references import (
    InvalidReference,
    bashbrew_architecture,
    parse_reference,
    parse_registry_mirror,
    parse_registry_mirrors,
)
from manifest_validation.upstream.registry import ACCEPT, RegistryClient, RegistryStatus
from manifest_validation.upstream.transport import Transport
from manifest_validation.upstream.valuecache import MemoryValueCache

from .registry_server import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Registry,
    Signer,
    TokenService,
    digest_of,
    registry_binary,
    run_proxy,
    run_registry,
    run_token_service,
)

pytestmark = pytest.mark.skipif(
    registry_binary() is None,
    reason="docker-registry is not installed (Debian package docker-registry, the CNCF "
    "distribution registry): apt-get install docker-registry",
)

MISSING = "sha256:" + "0" * 64
ISSUER = "test-token-issuer"
SERVICE = "test-registry"


@dataclass(frozen=True)
class Images:
    index: str  # OCI index in library/multi: amd64, arm32v7, arm64v8, windows-amd64
    index_amd64: str  # its amd64 OCI manifest
    index_windows: str  # its windows/amd64 OCI manifest
    manifest_list: str  # Docker list in owner/listed: i386, ppc64le, s390x, arm32v5, arm64v8
    single: str  # Docker v2 manifest in owner/single: riscv64
    second_single: str  # another image in owner/single: s390x


def _push_all(registry: Registry) -> Images:
    amd64, amd64_size, _ = registry.push_image("library/multi", "linux", "amd64")
    arm7, arm7_size, _ = registry.push_image("library/multi", "linux", "arm", "v7")
    arm64, arm64_size, _ = registry.push_image("library/multi", "linux", "arm64", "v8")
    windows, windows_size, _ = registry.push_image(
        "library/multi", "windows", "amd64", os_version="10.0.20348.2227"
    )
    index, _ = registry.push_index(
        "library/multi",
        [
            (amd64, amd64_size, {"os": "linux", "architecture": "amd64"}),
            (arm7, arm7_size, {"os": "linux", "architecture": "arm", "variant": "v7"}),
            (arm64, arm64_size, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
            (
                windows,
                windows_size,
                {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2227"},
            ),
            # buildkit's attestation entry: a platform that is none
            (amd64, amd64_size, {"os": "unknown", "architecture": "unknown"}),
        ],
        tag="latest",
    )
    entries = []
    for platform in (
        {"os": "linux", "architecture": "386"},
        {"os": "linux", "architecture": "ppc64le"},
        {"os": "linux", "architecture": "s390x"},
        {"os": "linux", "architecture": "arm", "variant": "v5"},
        {"os": "linux", "architecture": "arm64"},  # no variant: arm64v8 all the same
        {"os": "darwin", "architecture": "arm64"},  # no bashbrew architecture
    ):
        digest, size, _ = registry.push_image(
            "owner/listed",
            platform["os"],
            platform["architecture"],
            platform.get("variant"),
            oci=False,
        )
        entries.append((digest, size, platform))
    manifest_list, _ = registry.push_index("owner/listed", entries, oci=False)
    single, _, _ = registry.push_image("owner/single", "linux", "riscv64", oci=False)
    second, _, _ = registry.push_image("owner/single", "linux", "s390x", oci=False)
    return Images(index, amd64, windows, manifest_list, single, second)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with run_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture(scope="session")
def images(registry: Registry) -> Images:
    return _push_all(registry)


@dataclass
class TokenSetup:
    registry: Registry
    tokens: TokenService
    images: Images


@pytest.fixture(scope="session")
def token_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenSetup]:
    work = tmp_path_factory.mktemp("token-registry")
    signer = Signer(work)
    with run_token_service(signer, ISSUER, SERVICE) as tokens:
        auth = {
            "realm": tokens.url,
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(signer.cert_path),
        }

        def token(scope: str) -> str:
            return signer.jwt(ISSUER, SERVICE, scope)

        with run_registry(work / "registry", auth=auth, token=token) as running:
            yield TokenSetup(running, tokens, _push_all(running))


def client_for(*host_ports: str, **options: object) -> RegistryClient:
    options.setdefault("budget_seconds", 20)
    options.setdefault("connect_timeout", 2)
    options.setdefault("read_timeout", 5)
    return RegistryClient(UrlPolicy(host_ports), **options)  # type: ignore[arg-type]


def local(registry: Registry, name: str, digest: str) -> str:
    return f"{registry.host_port}/{name}@{digest}"


# -- registry facts the client relies on ----------------------------------------------


def test_fact_v2_base_answers_with_the_api_version(registry: Registry) -> None:
    response = requests.get(f"{registry.url}/v2/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_fact_manifest_by_digest_has_its_media_type_and_digest(
    registry: Registry, images: Images
) -> None:
    for name, digest, media_type in (
        ("library/multi", images.index, OCI_INDEX),
        ("library/multi", images.index_amd64, OCI_MANIFEST),
        ("owner/listed", images.manifest_list, DOCKER_LIST),
        ("owner/single", images.single, DOCKER_MANIFEST),
    ):
        response = requests.get(
            f"{registry.url}/v2/{name}/manifests/{digest}", headers={"Accept": ACCEPT}, timeout=5
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"] == media_type
        assert response.headers["Docker-Content-Digest"] == digest
        assert digest_of(response.content) == digest  # the bytes as pushed


def test_fact_an_oci_index_is_unknown_to_a_client_that_does_not_accept_it(
    registry: Registry, images: Images
) -> None:
    """Why the client's Accept names every type: without it, an index by digest is
    404 MANIFEST_UNKNOWN, which would read as "not found"."""
    response = requests.get(
        f"{registry.url}/v2/library/multi/manifests/{images.index}",
        headers={"Accept": DOCKER_MANIFEST},
        timeout=5,
    )
    assert response.status_code == 404
    assert [e["code"] for e in response.json()["errors"]] == ["MANIFEST_UNKNOWN"]


def test_fact_unknown_digest_and_unknown_repository_are_404_manifest_unknown(
    registry: Registry, images: Images
) -> None:
    missing = requests.get(
        f"{registry.url}/v2/library/multi/manifests/{MISSING}", headers={"Accept": ACCEPT}
    )
    assert missing.status_code == 404
    assert [e["code"] for e in missing.json()["errors"]] == ["MANIFEST_UNKNOWN"]
    nobody = requests.get(
        f"{registry.url}/v2/nobody/nothing/manifests/{MISSING}", headers={"Accept": ACCEPT}
    )
    # distribution 2.8 does not tell an unknown repository apart here (others answer
    # NAME_UNKNOWN, which the client takes as "not found" too)
    assert nobody.status_code == 404
    assert [e["code"] for e in nobody.json()["errors"]] == ["MANIFEST_UNKNOWN"]


def test_fact_config_blob_is_served_by_digest(registry: Registry, images: Images) -> None:
    manifest = requests.get(
        f"{registry.url}/v2/owner/single/manifests/{images.single}", headers={"Accept": ACCEPT}
    ).json()
    config = manifest["config"]["digest"]
    blob = requests.get(f"{registry.url}/v2/owner/single/blobs/{config}", timeout=5)
    assert blob.status_code == 200
    assert digest_of(blob.content) == config
    assert json.loads(blob.content)["architecture"] == "riscv64"


def test_fact_token_auth_challenge(token_setup: TokenSetup) -> None:
    registry = token_setup.registry
    url = f"{registry.url}/v2/library/multi/manifests/{token_setup.images.index}"
    response = requests.get(url, headers={"Accept": ACCEPT}, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{token_setup.tokens.url}",service="{SERVICE}",'
        'scope="repository:library/multi:pull"'
    )
    assert [e["code"] for e in response.json()["errors"]] == ["UNAUTHORIZED"]
    token = registry.token("repository:library/multi:pull")  # type: ignore[misc]
    authorised = requests.get(
        url, headers={"Accept": ACCEPT, "Authorization": f"Bearer {token}"}, timeout=5
    )
    assert authorised.status_code == 200


# -- the client ---------------------------------------------------------------------------


def test_oci_index_platforms(registry: Registry, images: Images) -> None:
    with client_for(registry.host_port) as client:
        result = client.architectures(local(registry, "library/multi", images.index))
    assert result.status is RegistryStatus.FOUND, result.detail
    assert result.architectures == {"amd64", "arm32v7", "arm64v8", "windows-amd64"}
    assert result.media_type == OCI_INDEX
    assert result.other_platforms == ()  # the attestation entry is no platform


def test_docker_manifest_list_platforms(registry: Registry, images: Images) -> None:
    with client_for(registry.host_port) as client:
        result = client.architectures(local(registry, "owner/listed", images.manifest_list))
    assert result.status is RegistryStatus.FOUND, result.detail
    assert result.architectures == {"i386", "ppc64le", "s390x", "arm32v5", "arm64v8"}
    assert result.media_type == DOCKER_LIST
    assert result.other_platforms == ("darwin/arm64",)  # as the image spells it


def test_single_manifests_read_the_config_blob(registry: Registry, images: Images) -> None:
    with client_for(registry.host_port) as client:
        single = client.architectures(local(registry, "owner/single", images.single))
        windows = client.architectures(local(registry, "library/multi", images.index_windows))
        amd64 = client.architectures(local(registry, "library/multi", images.index_amd64))
        requests_made = client.stats.requests
    assert single.status is RegistryStatus.FOUND and single.architectures == {"riscv64"}
    assert single.media_type == DOCKER_MANIFEST
    assert windows.architectures == {"windows-amd64"}
    assert amd64.architectures == {"amd64"} and amd64.media_type == OCI_MANIFEST
    assert requests_made == 6  # manifest + config blob each


def test_missing_digest_and_repository_are_not_found(registry: Registry, images: Images) -> None:
    with client_for(registry.host_port) as client:
        missing = client.architectures(local(registry, "library/multi", MISSING))
        nobody = client.architectures(local(registry, "nobody/nothing", MISSING))
        again = client.architectures(local(registry, "library/multi", MISSING))
        assert client.stats.requests == 3  # "not found" is never cached
    assert missing.status is RegistryStatus.NOT_FOUND and missing.architectures == frozenset()
    assert "MANIFEST_UNKNOWN" in missing.detail
    assert nobody.status is RegistryStatus.NOT_FOUND and "MANIFEST_UNKNOWN" in nobody.detail
    assert again.status is RegistryStatus.NOT_FOUND
    assert missing.status.is_verdict and not RegistryStatus.UNREACHABLE.is_verdict


def test_answers_by_digest_are_cached(registry: Registry, images: Images) -> None:
    cache = MemoryValueCache()
    with client_for(registry.host_port, cache=cache) as client:
        first = client.architectures(local(registry, "library/multi", images.index))
        assert client.stats.requests == 1
        second = client.architectures(local(registry, "library/multi", images.index))
        assert client.stats.requests == 1
    assert first == second
    with client_for(registry.host_port, cache=cache) as other:  # a shared cache
        assert other.architectures(local(registry, "library/multi", images.index)) == first
        assert other.stats.requests == 0


def test_a_lying_mirror_is_a_digest_mismatch(registry: Registry, images: Images) -> None:
    """The one case a real registry never produces (it serves what hashes to the digest),
    so a proxy in front of it substitutes other bytes for one manifest."""
    with run_proxy(registry.url) as proxy:
        path = f"/v2/library/multi/manifests/{images.index}"
        proxy.substitute[path] = requests.get(
            f"{registry.url}/v2/owner/listed/manifests/{images.manifest_list}",
            headers={"Accept": ACCEPT},
        ).content
        cache = MemoryValueCache()
        with client_for(proxy.host_port, mirrors={"docker.io": proxy.url}, cache=cache) as client:
            result = client.architectures(f"multi@{images.index}")
            assert result.status is RegistryStatus.DIGEST_MISMATCH
            assert f"not {images.index}" in result.detail
            assert digest_of(proxy.substitute[path]) in result.detail
            assert result.architectures == frozenset()
            assert len(cache) == 0  # never cached


def test_docker_io_requests_go_to_the_mirror(registry: Registry, images: Images) -> None:
    with run_proxy(registry.url) as proxy:
        with client_for(proxy.host_port, mirrors={"docker.io": proxy.url}) as client:
            # one component on Docker Hub: library/
            result = client.architectures(f"multi@{images.index}")
            spelled = client.architectures(f"docker.io/owner/listed@{images.manifest_list}")
        assert result.architectures == {"amd64", "arm32v7", "arm64v8", "windows-amd64"}
        assert spelled.status is RegistryStatus.FOUND
        assert proxy.paths == [
            f"/v2/library/multi/manifests/{images.index}",
            f"/v2/owner/listed/manifests/{images.manifest_list}",
        ]
        assert proxy.headers[0]["Accept"] == ACCEPT
        assert "mirror" in result.detail or result.detail.startswith("The index")


def test_mirror_with_a_path_prefix(registry: Registry, images: Images) -> None:
    with run_proxy(registry.url) as proxy:
        # the proxy forwards /prefix/v2/... as is: the registry answers 404 without
        # an error body for that path, which is not a verdict
        with client_for(proxy.host_port, mirrors={"docker.io": proxy.url + "/prefix"}) as client:
            result = client.architectures(f"multi@{images.index}")
        assert proxy.paths == [f"/prefix/v2/library/multi/manifests/{images.index}"]
    assert result.status is RegistryStatus.UNREACHABLE
    assert "404" in result.detail


def test_redirected_blob_is_followed_through_the_policy(registry: Registry, images: Images) -> None:
    with run_proxy(registry.url) as proxy:
        proxy.redirect_blobs = True
        mirrors = {"docker.io": proxy.url}
        with client_for(proxy.host_port, registry.host_port, mirrors=mirrors) as client:
            followed = client.architectures(f"owner/single@{images.single}")
        with client_for(proxy.host_port, mirrors=mirrors) as client:
            refused = client.architectures(f"owner/single@{images.single}")
            assert client.stats.requests == 2  # the redirect target was never contacted
    assert followed.status is RegistryStatus.FOUND and followed.architectures == {"riscv64"}
    assert refused.status is RegistryStatus.UNREACHABLE
    assert "plain http is not allowed" in refused.detail


def test_5xx_is_retried_then_unreachable(registry: Registry, images: Images) -> None:
    with run_proxy(registry.url) as proxy:
        mirrors = {"docker.io": proxy.url}
        proxy.fail_next = 2
        with client_for(proxy.host_port, mirrors=mirrors, retries=3) as client:
            result = client.architectures(f"multi@{images.index}")
            assert client.stats.retries == 2
        assert result.status is RegistryStatus.FOUND
        proxy.fail_next = 100
        with client_for(proxy.host_port, mirrors=mirrors, retries=2) as client:
            failed = client.architectures(f"multi@{images.index}")
        assert failed.status is RegistryStatus.UNREACHABLE
        assert "503" in failed.detail and not failed.status.is_verdict


def test_refused_by_policy_is_unreachable_and_makes_no_request(
    registry: Registry, images: Images
) -> None:
    with client_for() as client:  # 127.0.0.1 is not an insecure host here
        result = client.architectures(local(registry, "library/multi", images.index))
        assert client.stats.requests == 0
    assert result.status is RegistryStatus.UNREACHABLE
    assert "URL refused" in result.detail


def test_connection_refused_is_unreachable(images: Images) -> None:
    from .registry_server import free_port

    port = free_port()
    with client_for(f"127.0.0.1:{port}", retries=1) as client:
        result = client.architectures(f"127.0.0.1:{port}/library/multi@{images.index}")
    assert result.status is RegistryStatus.UNREACHABLE
    assert "could not connect" in result.detail


# -- bearer tokens --------------------------------------------------------------------


def test_bearer_token_flow(token_setup: TokenSetup) -> None:
    registry, tokens, images = token_setup.registry, token_setup.tokens, token_setup.images
    realm = tokens.url.split("/token")[0].removeprefix("http://")
    tokens.requests.clear()
    with client_for(registry.host_port, realm) as client:
        first = client.architectures(local(registry, "library/multi", images.index))
        # 401, token, manifest
        assert client.stats.requests == 3
        assert tokens.requests == [
            {"scope": ["repository:library/multi:pull"], "service": [SERVICE]}
        ]
        # the token is reused for the next digest of the same repository
        single = client.architectures(local(registry, "library/multi", images.index_amd64))
        assert client.stats.requests == 5  # manifest + config blob
        assert len(tokens.requests) == 1
    assert first.status is RegistryStatus.FOUND, first.detail
    assert first.architectures == {"amd64", "arm32v7", "arm64v8", "windows-amd64"}
    assert single.architectures == {"amd64"}


@pytest.mark.parametrize("field", ["access_token", "both"])
def test_token_answer_spellings(token_setup: TokenSetup, field: str) -> None:
    registry, tokens, images = token_setup.registry, token_setup.tokens, token_setup.images
    realm = tokens.url.split("/token")[0].removeprefix("http://")
    tokens.answer_with = field
    try:
        with client_for(registry.host_port, realm) as client:
            result = client.architectures(local(registry, "owner/listed", images.manifest_list))
    finally:
        tokens.answer_with = "token"
    assert result.status is RegistryStatus.FOUND, result.detail


def test_token_realm_passes_the_policy(token_setup: TokenSetup) -> None:
    """The realm is a URL from the network like any other: the registry's own host
    being trusted does not make its realm trusted."""
    registry, tokens, images = token_setup.registry, token_setup.tokens, token_setup.images
    tokens.requests.clear()
    with client_for(registry.host_port) as client:
        result = client.architectures(local(registry, "library/multi", images.index))
        assert client.stats.requests == 1
    assert tokens.requests == []
    assert result.status is RegistryStatus.UNREACHABLE
    assert "plain http is not allowed" in result.detail


def test_git_host_tokens_never_reach_a_registry_on_that_host(token_setup: TokenSetup) -> None:
    """The registry client shares the verifier's transport, which holds the tokens of git hosts
    (MANIFEST_VALIDATION_GIT_TOKENS): a registry answering on a host that has one gets its own
    bearer token only, never the git token (which would also stand in for the bearer one)."""
    registry, tokens, images = token_setup.registry, token_setup.tokens, token_setup.images
    realm = tokens.url.split("/token")[0].removeprefix("http://")
    git_token = "Bearer git-host-secret"
    with run_proxy(registry.url) as proxy:
        transport = Transport(
            credentials={proxy.host_port: git_token, realm: git_token},
            connect_timeout=2,
            read_timeout=5,
            retries=1,
            pool_size=2,
        )
        try:
            policy = UrlPolicy([proxy.host_port, realm])
            with RegistryClient(policy, transport=transport, budget_seconds=20) as client:
                result = client.architectures(f"{proxy.host_port}/library/multi@{images.index}")
        finally:
            transport.close()
        sent = [headers.get("Authorization") for headers in proxy.headers]
    assert result.status is RegistryStatus.FOUND, result.detail
    assert git_token not in sent
    assert sent[0] is None  # asked anonymously first, then with the registry's own token
    assert all(value.startswith("Bearer ") for value in sent[1:] if value is not None)
    assert len(sent) >= 2 and sent[-1] is not None


# -- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "name", "tag"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", None),
        ("ubuntu:24.04", "docker.io", "library/ubuntu", "24.04"),
        ("tianon/buildkit:0.16", "docker.io", "tianon/buildkit", "0.16"),
        ("docker.io/library/ubuntu", "docker.io", "library/ubuntu", None),
        ("index.docker.io/ubuntu", "docker.io", "library/ubuntu", None),
        ("docker.io/ubuntu", "docker.io", "library/ubuntu", None),
        (
            "mcr.microsoft.com/windows/servercore:ltsc2022",
            "mcr.microsoft.com",
            "windows/servercore",
            "ltsc2022",
        ),
        ("registry.access.redhat.com/ubi9:latest", "registry.access.redhat.com", "ubi9", "latest"),
        ("localhost/foo", "localhost", "foo", None),
        ("localhost:5000/foo/bar:1", "localhost:5000", "foo/bar", "1"),
        ("127.0.0.1:5000/a", "127.0.0.1:5000", "a", None),
        ("redhat/ubi9-minimal:latest", "docker.io", "redhat/ubi9-minimal", "latest"),
        ("a__b/c.d-e:x", "docker.io", "a__b/c.d-e", "x"),
    ],
)
def test_reference_normalisation(text: str, registry: str, name: str, tag: str | None) -> None:
    ref = parse_reference(text + "@" + "sha256:" + "a" * 64)
    assert (ref.registry, ref.name, ref.tag, ref.digest) == (
        registry,
        name,
        tag,
        "sha256:" + "a" * 64,
    )


def test_docker_hub_api_host() -> None:
    assert parse_reference("ubuntu").api_host == "registry-1.docker.io"
    assert parse_reference("mcr.microsoft.com/windows").api_host == "mcr.microsoft.com"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Ubuntu",
        "UPPER/name",
        "a//b",
        "a/../b",
        "ubuntu@sha256:abc",
        "ubuntu@sha256:" + "A" * 64,
        "ubuntu@md5:" + "a" * 32,
        "ubuntu:" + "t" * 129,
        "ubuntu:-x",
        "ubuntu latest",
        "host:notaport/x",
        "-a/b",
    ],
)
def test_invalid_references(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse_reference(text)


def test_invalid_reference_and_missing_digest_are_results_without_requests() -> None:
    with client_for() as client:
        bad = client.architectures("Not A Reference")
        tagged = client.architectures("ubuntu:24.04")
        assert client.stats.requests == 0
    assert bad.status is RegistryStatus.INVALID_REFERENCE
    assert tagged.status is RegistryStatus.INVALID_REFERENCE and "digest" in tagged.detail


@pytest.mark.parametrize(
    ("platform", "arch"),
    [
        (("linux", "amd64", ""), "amd64"),
        (("linux", "x86_64", ""), "amd64"),
        (("linux", "amd64", "v3"), None),
        (("linux", "arm", "v5"), "arm32v5"),
        (("linux", "arm", "v6"), "arm32v6"),
        (("linux", "arm", "v7"), "arm32v7"),
        (("linux", "arm", ""), "arm32v7"),
        (("linux", "arm64", ""), "arm64v8"),
        (("linux", "arm64", "v8"), "arm64v8"),
        (("linux", "aarch64", ""), "arm64v8"),
        (("linux", "arm64", "v9"), None),
        (("linux", "386", ""), "i386"),
        (("linux", "mips64le", ""), "mips64le"),
        (("linux", "ppc64le", ""), "ppc64le"),
        (("linux", "riscv64", ""), "riscv64"),
        (("linux", "s390x", ""), "s390x"),
        (("windows", "amd64", ""), "windows-amd64"),
        (("windows", "arm64", ""), None),
        (("darwin", "amd64", ""), None),
    ],
)
def test_bashbrew_architecture(platform: tuple[str, str, str], arch: str | None) -> None:
    assert bashbrew_architecture(*platform) == arch


def test_mirror_parsing() -> None:
    assert parse_registry_mirror("docker.io=http://127.0.0.1:5000") == (
        "docker.io",
        "http://127.0.0.1:5000",
    )
    assert parse_registry_mirror("index.docker.io=https://mirror.example/") == (
        "docker.io",
        "https://mirror.example",
    )
    assert parse_registry_mirrors(
        " docker.io=https://m.example , mcr.microsoft.com=https://m2.example/mcr,"
    ) == {"docker.io": "https://m.example", "mcr.microsoft.com": "https://m2.example/mcr"}
    assert parse_registry_mirrors("") == {}
    from manifest_validation.settings import Settings

    items = Settings.from_env(
        {"MANIFEST_VALIDATION_REGISTRY_MIRRORS": "docker.io=https://m.example"}
    )
    assert parse_registry_mirrors(",".join(items.registry_mirrors)) == {
        "docker.io": "https://m.example"
    }
    for bad in (
        "docker.io",
        "=http://x",
        "docker.io=ftp://x",
        "docker.io=https://user:pw@x",
        "docker.io=https://x?q=1",
        "bad host=https://x",
    ):
        with pytest.raises(ValueError):
            parse_registry_mirror(bad)
    with pytest.raises(ValueError):
        parse_registry_mirrors("docker.io=https://a,index.docker.io=https://b")


def test_a_manifest_over_the_size_cap_is_unreachable(registry: Registry, images: Images) -> None:
    with run_proxy(registry.url) as proxy:
        proxy.substitute[f"/v2/library/multi/manifests/{images.index}"] = b" " * (5 * 1024 * 1024)
        with client_for(proxy.host_port, mirrors={"docker.io": proxy.url}, retries=0) as client:
            result = client.architectures(f"multi@{images.index}")
            assert client.stats.bytes_received <= 4 * 1024 * 1024 + 64 * 1024
    assert result.status is RegistryStatus.UNREACHABLE
    assert "cap of 4194304 bytes" in result.detail
