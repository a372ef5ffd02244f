"""Fixtures: real bare repositories built with git, served by real git http-backend.

Everything binds 127.0.0.1; nothing here may reach the internet.  The repositories
are built once per session with fixed dates and identities, so object ids are
stable, and shared read-only by all tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, GitServers, run_git
from manifest_validation.upstream import GitVerifier, UrlPolicy


@dataclass(frozen=True)
class Repos:
    """Names and commit ids of the served fixture repositories.

    ``project.git`` (default branch master)::

        m1 - m2 - m3 - m4 - m5 - m6          master; v1.0 (annotated) -> m4; light -> m2
                    \\              \\
                     f1 - f2        s1 - s2 - s3   skewed: s1 dated 2030, s2/s3 dated 2001
        o1                                  other: unrelated root
        d1 (child of m6, no ref: dangling)

    ``mainonly.git`` has only ``main`` (c1).
    """

    root: Path
    m: tuple[str, ...]
    f: tuple[str, ...]
    s: tuple[str, ...]
    o1: str
    d1: str
    tag_object: str
    main_c1: str


def _build(root: Path) -> Repos:
    work = root / "work"
    served = root / "served"
    served.mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)

    def commit(message: str, date: str) -> str:
        (work / "file.txt").write_text(message + "\n")
        run_git("add", "-A", cwd=work)
        run_git("commit", "-qm", message, cwd=work, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        return run_git("rev-parse", "HEAD", cwd=work)

    m = [commit(f"m{i}", f"2020-01-0{i}T00:00:00Z") for i in range(1, 7)]
    run_git("tag", "-a", "v1.0", "-m", "release", m[3], cwd=work)
    run_git("tag", "light", m[1], cwd=work)
    run_git("checkout", "-q", "-b", "feature", m[2], cwd=work)
    f = [commit(f"f{i}", f"2020-02-0{i}T00:00:00Z") for i in range(1, 3)]
    run_git("checkout", "-q", "-b", "skewed", m[5], cwd=work)
    s = [commit("s1", "2030-01-01T00:00:00Z")]
    s += [commit(f"s{i}", f"2001-01-0{i}T00:00:00Z") for i in range(2, 4)]
    run_git("checkout", "-q", "--orphan", "other", cwd=work)
    o1 = commit("o1", "2020-03-01T00:00:00Z")
    run_git("checkout", "-q", "master", cwd=work)
    bare = served / "project.git"
    # A bare clone copies every local branch and tag of ``work`` as is.
    run_git("clone", "-q", "--bare", "--no-local", work, bare)
    d1 = run_git("--git-dir", bare, "commit-tree", f"{m[5]}^{{tree}}", "-p", m[5], "-m", "dangling")
    tag_object = run_git("--git-dir", bare, "rev-parse", "refs/tags/v1.0")

    work2 = root / "work2"
    run_git("init", "-q", "-b", "main", work2)
    (work2 / "a.txt").write_text("a\n")
    run_git("add", "-A", cwd=work2)
    run_git("commit", "-qm", "c1", cwd=work2)
    main_c1 = run_git("rev-parse", "HEAD", cwd=work2)
    run_git("clone", "-q", "--bare", "--no-local", work2, served / "mainonly.git")
    return Repos(served, tuple(m), tuple(f), tuple(s), o1, d1, tag_object, main_c1)


@pytest.fixture(scope="session")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Repos:
    return _build(tmp_path_factory.mktemp("gitrepos"))


@pytest.fixture(scope="session")
def server(repos: Repos, session_git_server: GitServers) -> GitServer:
    """Protocol v2 with filters allowed: the modern default."""
    return session_git_server(repos.root)


@pytest.fixture(scope="session")
def server_v0(repos: Repos, session_git_server: GitServers) -> GitServer:
    return session_git_server(repos.root, "v0")


@pytest.fixture(scope="session")
def server_nofilter(repos: Repos, session_git_server: GitServers) -> GitServer:
    return session_git_server(repos.root, "v2-nofilter")


@pytest.fixture(scope="session")
def server_v0_nofilter(repos: Repos, session_git_server: GitServers) -> GitServer:
    return session_git_server(repos.root, "v0-nofilter")


MakeVerifier = Callable[..., GitVerifier]


@pytest.fixture
def make_verifier() -> Iterator[MakeVerifier]:
    """Build verifiers trusting the given servers, with test-friendly timings."""
    made: list[GitVerifier] = []

    def make(*servers: GitServer, **options: Any) -> GitVerifier:
        options.setdefault("connect_timeout", 2)
        options.setdefault("read_timeout", 5)
        options.setdefault("manifest_budget_seconds", 30)
        policy = options.pop("policy", None) or UrlPolicy([s.host_port for s in servers])
        verifier = GitVerifier(policy, **options)
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        verifier.close()
