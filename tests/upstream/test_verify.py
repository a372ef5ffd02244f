"""Verdicts against real repositories, identical across protocol v2/v0 and with or
without server-side filter support (each mode takes a different code path)."""

from __future__ import annotations

import pytest

from gitserver import GitServer
from manifest_validation.upstream import GitCheck, MemoryAnswerCache, Outcome

from .conftest import MakeVerifier, Repos

MODES = ["server", "server_v0", "server_nofilter", "server_v0_nofilter"]


@pytest.fixture(params=MODES)
def any_server(request: pytest.FixtureRequest) -> GitServer:
    server: GitServer = request.getfixturevalue(request.param)
    return server


def cases(repos: Repos) -> list[tuple[str, str, str, Outcome]]:
    """(repository, ref, commit, expected) covering every verdict path."""
    m, f, s = repos.m, repos.f, repos.s
    return [
        ("project.git", "refs/heads/master", m[5], Outcome.OK),  # tip, no negotiation
        ("project.git", "refs/heads/master", m[0], Outcome.OK),  # root commit
        ("project.git", "refs/heads/master", m[3], Outcome.OK),
        ("project.git", "refs/heads/feature", f[0], Outcome.OK),  # branch
        ("project.git", "refs/heads/feature", m[1], Outcome.OK),  # fork's history
        ("project.git", "refs/tags/v1.0", m[3], Outcome.OK),  # annotated tag, peeled
        ("project.git", "refs/tags/v1.0", m[1], Outcome.OK),
        ("project.git", "refs/tags/light", m[1], Outcome.OK),  # lightweight tag
        ("project.git", "refs/tags/light", m[0], Outcome.OK),
        ("project.git", "v1.0", m[3], Outcome.OK),  # short name, resolved like rev-parse
        ("project.git", "refs/heads/skewed", s[0], Outcome.OK),  # ancestor, `ready` lies
        ("project.git", "refs/heads/skewed", m[2], Outcome.OK),
        ("project.git", "refs/heads/master", f[1], Outcome.COMMIT_NOT_IN_REF),  # other branch
        ("project.git", "refs/heads/master", f[0], Outcome.COMMIT_NOT_IN_REF),  # topic fork
        ("project.git", "refs/heads/feature", m[4], Outcome.COMMIT_NOT_IN_REF),  # after fork
        ("project.git", "refs/tags/v1.0", m[5], Outcome.COMMIT_NOT_IN_REF),  # newer than tag
        ("project.git", "refs/heads/master", s[1], Outcome.COMMIT_NOT_IN_REF),  # descendant
        ("project.git", "refs/heads/master", repos.o1, Outcome.COMMIT_NOT_IN_REF),  # unrelated
        ("project.git", "refs/heads/master", repos.d1, Outcome.COMMIT_NOT_IN_REF),  # dangling
        ("project.git", "refs/heads/master", "1" * 40, Outcome.COMMIT_NOT_FOUND),
        ("project.git", "refs/heads/master", "a" * 64, Outcome.COMMIT_NOT_FOUND),  # sha256 len
        ("project.git", "refs/heads/master", "xyz", Outcome.COMMIT_NOT_FOUND),
        ("project.git", "refs/heads/maste", m[5], Outcome.REF_NOT_FOUND),  # prefix != name
        ("project.git", "refs/heads/nope", m[5], Outcome.REF_NOT_FOUND),
        ("project.git", "refs/tags/v1", m[3], Outcome.REF_NOT_FOUND),
        ("mainonly.git", "refs/heads/master", repos.main_c1, Outcome.REF_NOT_FOUND),
        ("mainonly.git", "refs/heads/main", repos.main_c1, Outcome.OK),
        ("missing.git", "refs/heads/master", m[5], Outcome.UNREACHABLE),  # 404 is no verdict
    ]


@pytest.mark.slow
def test_verdicts(any_server: GitServer, repos: Repos, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(any_server)
    table = cases(repos)
    checks = [GitCheck(any_server.repo_url(name), ref, commit) for name, ref, commit, _ in table]
    results = verifier.verify(checks)
    assert list(results) == checks
    got = {(c.repo.rsplit("/", 1)[1], c.ref, c.commit): r.outcome for c, r in results.items()}
    want = {(name, ref, commit): expected for name, ref, commit, expected in table}
    assert got == want
    for result in results.values():
        assert result.detail.endswith(".") and "\n" not in result.detail
        assert result.check.commit in result.detail or result.outcome in (
            Outcome.REF_NOT_FOUND,
            Outcome.UNREACHABLE,
        )


def test_request_economy(server: GitServer, repos: Repos, make_verifier: MakeVerifier) -> None:
    """One advertisement + one ls-refs per repository, one negotiation per unique
    (repository, tip, commit), none for tips, and cached answers cost nothing."""
    cache = MemoryAnswerCache()
    verifier = make_verifier(server, cache=cache)
    url = server.repo_url("project.git")
    checks = [
        GitCheck(url, "refs/heads/master", repos.m[5]),  # tip
        GitCheck(url, "refs/tags/v1.0", repos.m[5]),  # reverse round, then forward round
        GitCheck(url, "refs/heads/master", repos.m[2]),  # ancestor: one reverse round
        GitCheck(url, "master", repos.m[2]),  # same pair as above
        GitCheck(url, "refs/tags/light", repos.m[1]),  # tip of lightweight tag
    ]
    server.reset_counters()
    results = verifier.verify(checks)
    assert [r.outcome for r in results.values()] == [
        Outcome.OK,
        Outcome.COMMIT_NOT_IN_REF,
        Outcome.OK,
        Outcome.OK,
        Outcome.OK,
    ]
    paths = list(server.paths)
    assert paths.count("/project.git/info/refs") == 1
    # info/refs, ls-refs, then 2 rounds for the defect and 1 for the valid ancestor.
    assert len(paths) == 2 + 2 + 1
    first = len(paths)

    server.reset_counters()
    again = verifier.verify(checks)
    assert [r.outcome for r in again.values()] == [r.outcome for r in results.values()]
    # Refs move, so they are asked again; ancestry answers come from the cache.
    assert server.paths == ["/project.git/info/refs", "/project.git/git-upload-pack"]
    assert cache.hits >= 2
    assert verifier.stats.requests == first + 2


@pytest.mark.parametrize("kind", ["v2", "v0", "nofilter"])
def test_commits_of_one_tip_are_settled_together(
    kind: str,
    server: GitServer,
    server_v0: GitServer,
    server_nofilter: GitServer,
    repos: Repos,
    make_verifier: MakeVerifier,
) -> None:
    """Five ancestors, a missing commit and one on another branch against one tip: the
    batched reverse fetch is refused (a want is missing), the probe finds the missing
    one, the second batch proves the five ancestors; only the defect gets its own
    rounds. One by one this would take 5 + 2 + 2 rounds."""
    target = {"v2": server, "v0": server_v0, "nofilter": server_nofilter}[kind]
    url = target.repo_url("project.git")
    ancestors = [repos.m[0], repos.m[1], repos.m[2], repos.m[3], repos.m[4]]
    checks = [GitCheck(url, "refs/heads/master", commit) for commit in ancestors]
    checks.append(GitCheck(url, "refs/heads/master", "e" * 40))  # missing
    checks.append(GitCheck(url, "refs/heads/master", repos.f[1]))  # on the feature branch
    target.reset_counters()
    results = make_verifier(target).verify(checks)
    assert [r.outcome for r in results.values()] == [Outcome.OK] * 5 + [
        Outcome.COMMIT_NOT_FOUND,
        Outcome.COMMIT_NOT_IN_REF,
    ]
    posts = [p for p in target.paths if p.endswith("/git-upload-pack")]
    ls_refs = 0 if kind == "v0" else 1  # v0 lists refs in the info/refs answer
    # refused batch, probe, batch, then the defect's forward round (its existence is known)
    assert len(posts) == ls_refs + 3 + 1


def test_all_reachable_commits_of_a_tip_cost_one_round(
    server: GitServer, repos: Repos, make_verifier: MakeVerifier
) -> None:
    url = server.repo_url("project.git")
    checks = [GitCheck(url, "refs/heads/master", commit) for commit in repos.m[:5]]
    server.reset_counters()
    results = make_verifier(server).verify(checks)
    assert {r.outcome for r in results.values()} == {Outcome.OK}
    assert server.paths.count("/project.git/git-upload-pack") == 1 + 1  # ls-refs + one batch


def test_empty_input(make_verifier: MakeVerifier, server: GitServer) -> None:
    assert make_verifier(server).verify([]) == {}
