"""Fixtures: manifests repositories built with real git, served by real git http-backend.

Everything binds 127.0.0.1; nothing here may reach the internet.  Repositories are
built once per session with fixed dates and identities (see ``gitserver.run_git``),
so object ids are stable, and are shared read-only by the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitserver import MODES, GitServer, GitServers, run_git
from manifest_validation.repository import GitManifestSource
from manifest_validation.upstream import UrlPolicy

HELLO = b"Maintainers: Someone <someone@example.invalid> (@someone)\nGitRepo: https://x\n"
# Multi-KB and varied, so packs hold real zlib streams and deltas between versions.
PYTHON_V1 = b"".join(b"Tags: 3.%d, 3.%d-slim\nGitCommit: %040x\n\n" % (i, i, i) for i in range(200))
PYTHON_V2 = PYTHON_V1.replace(b"3.150,", b"3.150-updated,") + b"Tags: latest\n"
DEBIAN = b"Tags: bookworm\n"
EXEC = b"#!/bin/sh\n# executable but a regular file: still a manifest\n"


@dataclass(frozen=True)
class Manifests:
    """``manifests.git`` (branch master; tag v1 annotated -> c1)::

    c1: library/{hello-world, python, debian, exec (755), sub/x, link -> hello-world,
        .foo, submod (gitlink)}, README.md, test/data
    c2: python modified, debian deleted                          <- master
    """

    root: Path
    c1: str
    c2: str


@dataclass(frozen=True)
class Corpus:
    """``official.git``: three commits, master's tip holding the 144 real files; older
    commits hold other versions, and a large incompressible ``test/`` file, so a full
    clone costs much more than the current library."""

    root: Path
    tip: str
    files: dict[str, bytes]


def _noise(size: int, seed: bytes) -> bytes:
    """Deterministic incompressible bytes (a SHA-256 chain)."""
    out = bytearray()
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def _commit(work: Path, message: str, date: str) -> str:
    run_git("add", "-A", cwd=work)
    run_git("commit", "-qm", message, cwd=work, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return run_git("rev-parse", "HEAD", cwd=work)


def _build_manifests(root: Path) -> Manifests:
    work = root / "work"
    lib = work / "library"
    (lib / "sub").mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)
    (lib / "hello-world").write_bytes(HELLO)
    (lib / "python").write_bytes(PYTHON_V1)
    (lib / "debian").write_bytes(DEBIAN)
    (lib / "exec").write_bytes(EXEC)
    (lib / "exec").chmod(0o755)
    (lib / "sub" / "x").write_bytes(b"in a subdirectory\n")
    (lib / "link").symlink_to("hello-world")
    (lib / ".foo").write_bytes(b"hidden\n")
    (work / "README.md").write_bytes(b"# manifests\n")
    (work / "test").mkdir()
    (work / "test" / "data").write_bytes(_noise(20_000, b"test"))
    run_git("add", "-A", cwd=work)
    # A submodule entry without a .gitmodules: enough for a 160000 tree entry.
    run_git("update-index", "--add", "--cacheinfo", f"160000,{'ab' * 20},library/submod", cwd=work)
    c1 = _commit(work, "c1", "2020-01-01T00:00:00Z")
    run_git("tag", "-a", "v1", "-m", "first", cwd=work)
    (lib / "python").write_bytes(PYTHON_V2)
    (lib / "debian").unlink()
    c2 = _commit(work, "c2", "2020-01-02T00:00:00Z")
    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "manifests.git")
    return Manifests(served, c1, c2)


def _build_corpus(root: Path, library: Path) -> Corpus:
    files = {path.name: path.read_bytes() for path in sorted(library.iterdir()) if path.is_file()}
    work = root / "work"
    lib = work / "library"
    lib.mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)
    (work / "test").mkdir()
    for round_number in (1, 2):
        for name, content in files.items():
            (lib / name).write_bytes(content + b"\n# old revision %d\n" % round_number)
        (work / "test" / f"blob{round_number}").write_bytes(_noise(1 << 20, b"%d" % round_number))
        _commit(work, f"old {round_number}", f"2020-01-0{round_number}T00:00:00Z")
    for name, content in files.items():
        (lib / name).write_bytes(content)
    tip = _commit(work, "current", "2020-01-03T00:00:00Z")
    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "official.git")
    return Corpus(served, tip, files)


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Manifests:
    return _build_manifests(tmp_path_factory.mktemp("manifests"))


@pytest.fixture(scope="session")
def corpus_repo(tmp_path_factory: pytest.TempPathFactory, library_dir: Path) -> Corpus:
    return _build_corpus(tmp_path_factory.mktemp("corpus"), library_dir)


@pytest.fixture(scope="session", params=sorted(MODES))
def server(
    request: pytest.FixtureRequest, manifests: Manifests, session_git_server: GitServers
) -> GitServer:
    """``manifests.git`` under each protocol/filter combination."""
    return session_git_server(manifests.root, request.param)


@pytest.fixture(scope="session")
def server_v2(manifests: Manifests, session_git_server: GitServers) -> GitServer:
    return session_git_server(manifests.root)


MakeSource = Callable[..., GitManifestSource]


@pytest.fixture
def make_source() -> Iterator[MakeSource]:
    """Sources trusting the given server (plain http to 127.0.0.1), test timings."""
    made: list[GitManifestSource] = []

    def make(server: GitServer, repo: str = "manifests.git", **options: Any) -> GitManifestSource:
        options.setdefault("connect_timeout", 2)
        options.setdefault("read_timeout", 10)
        options.setdefault("operation_budget_seconds", 30)
        options.setdefault("policy", UrlPolicy([server.host_port]))
        source = GitManifestSource(server.repo_url(repo), **options)
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()
