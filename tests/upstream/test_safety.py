"""URL policy: refused URLs are never contacted, pinning, redirects and credentials."""

from __future__ import annotations

import base64
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gitserver import POLL_SECONDS, GitServer, GitServers
from manifest_validation.upstream import GitCheck, GitVerifier, Outcome, UrlPolicy
from manifest_validation.upstream.policy import ForbiddenUrl, is_public_address

from .conftest import MakeVerifier, Repos

COMMIT = "0" * 39 + "1"


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record (and refuse) every outgoing TCP connection attempt."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("connection attempted in a test that forbids it")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


FORBIDDEN = [
    "file:///srv/git/project.git",
    "/srv/git/project.git",
    "ssh://git@github.com/docker-library/golang.git",
    "git@github.com:docker-library/golang.git",
    "git://github.com/docker-library/golang.git",
    "ftp://github.com/docker-library/golang.git",
    "http://github.com/docker-library/golang.git",
    "https://127.0.0.1/project.git",
    "https://127.1.2.3:8443/project.git",
    "https://10.0.0.5/project.git",
    "https://192.168.1.1/project.git",
    "https://172.16.0.1/project.git",
    "https://100.64.0.1/project.git",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/project.git",
    "https://[fc00::1]/project.git",
    "https://[fe80::1]/project.git",
    "https://[ff02::1]/project.git",
    "https://224.0.0.1/project.git",
    "https://0.0.0.0/project.git",
    "https://[::]/project.git",
    "https://[::ffff:127.0.0.1]/project.git",
    "https://[::ffff:169.254.169.254]/project.git",
    "https://[64:ff9b::a00:1]/project.git",
    "https://[2002:7f00:1::]/project.git",
    "https://240.0.0.1/project.git",
    "https://localhost/project.git",
    "https://2130706433/project.git",
    "https://user:hunter2@github.com/docker-library/golang.git",
    "https://hunter2@github.com/docker-library/golang.git",
    "https://github.com/docker-library/golang.git?x=1",
    "https://github.com/docker-library/golang.git#frag",
    "https://github.com/../etc/passwd",
    "https://github.com",
    "https://git hub.com/x.git",
    "https://github.com:0/x.git",
    "https://exa_mple.com/x.git",
]


@pytest.mark.parametrize("url", FORBIDDEN)
def test_forbidden_urls_make_no_connection(url: str, connections: list[Any]) -> None:
    verifier = GitVerifier(UrlPolicy())
    check = GitCheck(url, "refs/heads/master", COMMIT)
    result = verifier.verify([check])[check]
    assert result.outcome is Outcome.URL_FORBIDDEN, result.detail
    assert connections == []
    assert verifier.stats.requests == 0
    assert "hunter2" not in result.detail


def test_plain_http_to_non_insecure_host_is_refused(
    server: GitServer, repos: Repos, connections: list[Any]
) -> None:
    server.reset_counters()
    verifier = GitVerifier(UrlPolicy(["127.0.0.1:1"]))  # another port only
    check = GitCheck(server.repo_url("project.git"), "refs/heads/master", repos.m[5])
    assert verifier.verify([check])[check].outcome is Outcome.URL_FORBIDDEN
    assert server.requests == 0 and connections == []


@pytest.mark.parametrize(
    "answers",
    [["10.1.2.3"], ["93.184.216.34", "127.0.0.1"], ["::ffff:10.0.0.1"], ["169.254.169.254"]],
)
def test_hostname_resolving_to_internal_address_is_refused(
    answers: list[str], connections: list[Any]
) -> None:
    policy = UrlPolicy(resolver=lambda host, port: answers)
    check = GitCheck("https://git.example.com/project.git", "refs/heads/master", COMMIT)
    result = GitVerifier(policy).verify([check])[check]
    assert result.outcome is Outcome.URL_FORBIDDEN
    assert "non-public" in result.detail
    assert connections == []


def test_dns_failure_is_unreachable_not_forbidden(connections: list[Any]) -> None:
    def fail(host: str, port: int) -> list[str]:
        from manifest_validation.upstream.policy import ResolutionFailed

        raise ResolutionFailed(f"could not resolve host {host}")

    check = GitCheck("https://git.example.com/project.git", "refs/heads/master", COMMIT)
    result = GitVerifier(UrlPolicy(resolver=fail)).verify([check])[check]
    assert result.outcome is Outcome.UNREACHABLE
    assert connections == []


def test_public_address_classification() -> None:
    assert is_public_address("140.82.112.3")
    assert is_public_address("2606:4700::6810:85e5")
    for address in ("127.0.0.1", "::1", "::ffff:192.168.0.1", "fd00::1", "198.18.0.1", "::"):
        assert not is_public_address(address), address


def test_insecure_hosts_entries() -> None:
    policy = UrlPolicy(["127.0.0.1:8080", "gitserver", "[::1]:9000"])
    assert policy.parse("http://127.0.0.1:8080/r.git").insecure
    with pytest.raises(ForbiddenUrl):
        policy.parse("http://127.0.0.1:8081/r.git")
    assert policy.parse("http://gitserver:1234/r.git").insecure
    assert policy.parse("https://gitserver/r.git").insecure
    assert policy.parse("http://[::1]:9000/r.git").host == "::1"
    from manifest_validation.settings import Settings

    hosts = Settings.from_env({"MANIFEST_VALIDATION_INSECURE_HOSTS": " a:1 , b ,"}).insecure_hosts
    env = UrlPolicy(hosts)
    assert env.parse("http://a:1/x").insecure and env.parse("http://b/x").insecure
    assert UrlPolicy(Settings.from_env({}).insecure_hosts).parse("https://github.com/x/y").path == (
        "/x/y"
    )


def test_connection_is_pinned_to_checked_address(
    server: GitServer, repos: Repos, make_verifier: MakeVerifier
) -> None:
    """The host name is resolved once by the policy; the HTTP layer never resolves it
    again (a rebinding DNS cannot switch addresses), and Host keeps the name."""
    port = server.host_port.rsplit(":", 1)[1]
    lookups: list[str] = []

    def resolver(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    policy = UrlPolicy([f"git.test:{port}"], resolver=resolver)
    verifier = make_verifier(policy=policy)
    server.reset_counters()
    url = f"http://git.test:{port}/project.git"
    checks = [GitCheck(url, "refs/heads/master", repos.m[1]), GitCheck(url, "light", repos.m[0])]
    assert all(r.outcome is Outcome.OK for r in verifier.verify(checks).values())
    assert lookups == ["git.test"]
    assert {h["Host"] for h in server.headers} == {f"git.test:{port}"}


def test_tls_pools_keep_hostname_for_sni_and_certificates() -> None:
    from manifest_validation.upstream.policy import RepoLocation
    from manifest_validation.upstream.transport import Transport

    transport = Transport(
        credentials=None, connect_timeout=1, read_timeout=1, retries=0, pool_size=2
    )
    location = RepoLocation("https", "github.com", 443, "/x/y.git", insecure=False)
    prefix = transport._base_for(location, "140.82.112.3")
    assert prefix == "https://140.82.112.3:443/"
    adapter = transport._session.get_adapter(prefix + "x/y.git/info/refs")
    pool_kw = adapter.poolmanager.connection_pool_kw  # type: ignore[attr-defined]
    assert pool_kw["server_hostname"] == "github.com"
    assert pool_kw["assert_hostname"] == "github.com"
    assert transport._session.trust_env is False


def test_credentials_go_only_to_their_host_and_never_into_details(
    repos: Repos,
    make_verifier: MakeVerifier,
    caplog: pytest.LogCaptureFixture,
    git_server: GitServers,
) -> None:
    one, two = git_server(repos.root), git_server(repos.root)
    verifier = make_verifier(one, two, credentials={one.host_port: "tok-hunter2"}, retries=0)
    checks = [
        GitCheck(one.repo_url("project.git"), "refs/heads/master", repos.m[0]),
        GitCheck(two.repo_url("project.git"), "refs/heads/master", repos.m[0]),
        GitCheck(one.repo_url("missing.git"), "refs/heads/master", repos.m[0]),
    ]
    with caplog.at_level(logging.DEBUG):
        results = verifier.verify(checks)
    expected = "Basic " + base64.b64encode(b"x-access-token:tok-hunter2").decode()
    assert {h.get("Authorization") for h in one.headers} == {expected}
    assert {h.get("Authorization") for h in two.headers} == {None}
    for result in results.values():
        assert "hunter2" not in result.detail
    assert "hunter2" not in caplog.text


class _Redirector(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        self.send_response(301)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[tuple[ThreadingHTTPServer, type[_Redirector]]]:
    handler = type("Handler", (_Redirector,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    yield httpd, handler
    httpd.shutdown()
    httpd.server_close()


def test_redirects_are_rechecked_by_policy(
    redirector: tuple[ThreadingHTTPServer, type[_Redirector]],
    server: GitServer,
    repos: Repos,
    make_verifier: MakeVerifier,
) -> None:
    httpd, handler = redirector
    here = f"127.0.0.1:{httpd.server_address[1]}"
    suffix = "/info/refs?service=git-upload-pack"
    check = GitCheck(f"http://{here}/moved.git", "refs/heads/master", repos.m[1])

    handler.target = "http://169.254.169.254/latest" + suffix  # metadata service
    verifier = make_verifier(policy=UrlPolicy([here, server.host_port]))
    assert verifier.verify([check])[check].outcome is Outcome.URL_FORBIDDEN

    handler.target = server.repo_url("project.git") + suffix  # allowed: followed
    server.reset_counters()
    result = make_verifier(policy=UrlPolicy([here, server.host_port])).verify([check])[check]
    assert result.outcome is Outcome.OK
    assert server.paths[0] == "/project.git/info/refs"

    handler.target = server.repo_url("project.git") + suffix  # target not insecure
    result = make_verifier(policy=UrlPolicy([here])).verify([check])[check]
    assert result.outcome is Outcome.URL_FORBIDDEN
