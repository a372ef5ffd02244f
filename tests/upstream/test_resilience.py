"""Network trouble must yield correct verdicts after retries, or "could not verify";
never a false manifest defect, and always within bounded time."""

from __future__ import annotations

import socket
import time

import pytest

from gitserver import GitServer, GitServers
from manifest_validation.upstream import GitCheck, MemoryAnswerCache, Outcome

from .conftest import MakeVerifier, Repos


def mixed_checks(server: GitServer, repos: Repos) -> dict[GitCheck, Outcome]:
    url = server.repo_url("project.git")
    return {
        GitCheck(url, "refs/heads/master", repos.m[5]): Outcome.OK,
        GitCheck(url, "refs/heads/master", repos.m[0]): Outcome.OK,
        GitCheck(url, "refs/heads/skewed", repos.s[0]): Outcome.OK,
        GitCheck(url, "refs/tags/v1.0", repos.m[2]): Outcome.OK,
        GitCheck(url, "refs/heads/master", repos.f[1]): Outcome.COMMIT_NOT_IN_REF,
        GitCheck(url, "refs/heads/master", "2" * 40): Outcome.COMMIT_NOT_FOUND,
        GitCheck(url, "refs/heads/nope", repos.m[0]): Outcome.REF_NOT_FOUND,
    }


def outcomes(results: dict[GitCheck, object]) -> dict[GitCheck, Outcome]:
    return {check: result.outcome for check, result in results.items()}  # type: ignore[attr-defined]


def test_closed_port_is_unreachable(make_verifier: MakeVerifier, repos: Repos) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from manifest_validation.upstream import UrlPolicy

    verifier = make_verifier(policy=UrlPolicy([f"127.0.0.1:{port}"]), retries=2)
    check = GitCheck(f"http://127.0.0.1:{port}/project.git", "refs/heads/master", repos.m[0])
    started = time.monotonic()
    result = verifier.verify([check])[check]
    assert result.outcome is Outcome.UNREACHABLE
    assert "could not connect" in result.detail
    assert time.monotonic() - started < 5
    assert verifier.stats.retries == 2


@pytest.mark.slow
@pytest.mark.parametrize("fault", [{"fail_every": 2}, {"drop_every": 2}, {"drop_every": 3}])
def test_transient_faults_are_retried_to_the_right_verdict(
    fault: dict[str, int], repos: Repos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(repos.root, **fault)
    expected = mixed_checks(server, repos)
    # One worker: the server counts requests globally, so with concurrency an
    # unlucky interleaving could hand one request's every retry a failure.
    verifier = make_verifier(server, retries=3, max_workers=1)
    assert outcomes(verifier.verify(expected)) == expected
    assert verifier.stats.retries > 0


@pytest.mark.parametrize("fault", [{"fail_every": 1}, {"drop_every": 1}])
def test_persistent_faults_are_unreachable_never_defects(
    fault: dict[str, int], repos: Repos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(repos.root, **fault)
    checks = mixed_checks(server, repos)
    verifier = make_verifier(server, retries=2)
    results = verifier.verify(checks)
    assert {r.outcome for r in results.values()} == {Outcome.UNREACHABLE}
    assert server.requests == 3  # 1 + 2 retries of the advertisement, then give up


def test_failure_after_refs_never_becomes_a_defect(
    repos: Repos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    """Refs succeed (requests 1-2) but no negotiation may run: tips are still OK,
    refs still checked, everything needing the network says "could not verify"."""
    server = git_server(repos.root)
    checks = mixed_checks(server, repos)
    verifier = make_verifier(server, retries=1, max_requests=2)
    got = outcomes(verifier.verify(checks))
    for check, outcome in got.items():
        if check.commit == repos.m[5] or check.ref == "refs/heads/nope":
            assert outcome is checks[check]
        else:
            assert outcome is Outcome.UNREACHABLE


@pytest.mark.slow
def test_slow_server_times_out_within_bounds(
    repos: Repos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(repos.root, delay=3)
    verifier = make_verifier(server, read_timeout=0.3, retries=1)
    check = GitCheck(server.repo_url("project.git"), "refs/heads/master", repos.m[0])
    started = time.monotonic()
    result = verifier.verify([check])[check]
    assert result.outcome is Outcome.UNREACHABLE
    assert "timed out" in result.detail
    assert time.monotonic() - started < 2.5


@pytest.mark.slow
def test_manifest_budget_bounds_the_whole_run(
    repos: Repos, make_verifier: MakeVerifier, git_server: GitServers
) -> None:
    server = git_server(repos.root, delay=0.4)
    verifier = make_verifier(server, manifest_budget_seconds=1.0, read_timeout=5)
    checks = mixed_checks(server, repos)
    started = time.monotonic()
    results = verifier.verify(checks)
    elapsed = time.monotonic() - started
    assert elapsed < 1.8
    got = {r.outcome for r in results.values()}
    assert Outcome.UNREACHABLE in got
    assert not got & {Outcome.COMMIT_NOT_FOUND, Outcome.COMMIT_NOT_IN_REF}
    assert any("budget" in r.detail for r in results.values())


def test_max_requests_cap(server: GitServer, repos: Repos, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(server, max_requests=3, max_workers=1)
    checks = mixed_checks(server, repos)
    results = verifier.verify(checks)
    assert verifier.stats.requests == 3
    capped = [r for r in results.values() if r.outcome is Outcome.UNREACHABLE]
    assert capped and all("cap of 3 HTTP requests" in r.detail for r in capped)
    for check, result in results.items():
        assert result.outcome in (checks[check], Outcome.UNREACHABLE)


def test_response_size_cap_without_filter_is_could_not_verify(
    server_nofilter: GitServer, repos: Repos, make_verifier: MakeVerifier
) -> None:
    """Without ``filter`` packs carry trees and blobs.  A reachable commit still costs
    an empty pack; a suspected defect needs real packs, and past the cap the answer is
    "could not verify", never "not in ref"."""
    verifier = make_verifier(server_nofilter, max_response_bytes=300, retries=0)
    url = server_nofilter.repo_url("project.git")
    ok = GitCheck(url, "refs/heads/master", repos.m[0])
    capped = [
        GitCheck(url, "refs/heads/master", repos.o1),
        GitCheck(url, "refs/heads/master", repos.f[1]),
    ]
    results = verifier.verify([ok, *capped])
    assert results[ok].outcome is Outcome.OK
    for check in capped:
        assert results[check].outcome is Outcome.UNREACHABLE
        assert "cap of 300 bytes" in results[check].detail


def test_cache_hit_avoids_negotiation_even_for_other_verifiers(
    server: GitServer, repos: Repos, make_verifier: MakeVerifier
) -> None:
    cache = MemoryAnswerCache()
    checks = mixed_checks(server, repos)
    first = make_verifier(server, cache=cache)
    assert outcomes(first.verify(checks)) == checks
    second = make_verifier(server, cache=cache)
    server.reset_counters()
    assert outcomes(second.verify(checks)) == checks
    # Advertisement + ls-refs, plus only the two rounds for the missing commit (a
    # "not found" is never cached: it could be pushed any minute).
    assert second.stats.requests == 4
    assert server.paths.count("/project.git/git-upload-pack") == 3
