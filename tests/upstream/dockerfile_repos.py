"""A real repository of Dockerfiles for the file-reading tests (built once per session).

``docker.git`` (branch master)::

    c1: 3.12/bookworm/{Dockerfile, docker-entrypoint.sh (755)}, 3.12/slim/Dockerfile,
        3.11/alpine/{Dockerfile, Dockerfile.windows}, windows/Dockerfile (bytes that
        are not UTF-8, CRLF), README.md, latest -> 3.12/bookworm (symlink),
        Dockerfile -> 3.12/bookworm/Dockerfile (symlink), vendor/lib (submodule)
    c2: 3.12/bookworm/Dockerfile changed, 3.11 deleted, 3.13/trixie/Dockerfile added

``other.git`` has one commit (o1) with ``Dockerfile`` at the top.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitserver import GIT, commit_all, git_env, run_git

__all__ = ["DockerRepos", "build_docker_repos", "git_show"]


@dataclass(frozen=True)
class DockerRepos:
    root: Path
    c1: str
    c2: str
    o1: str
    c1_tree: str  # the root tree of c1: an object that exists but is not a commit


def git_show(git_dir: Path, commit: str, path: str) -> bytes:
    """The bytes ``git show commit:path`` prints (what bashbrew's git cache reads)."""
    return subprocess.run(
        [GIT, "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
        env=git_env(),
        check=True,
        capture_output=True,
    ).stdout


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def _build(root: Path) -> DockerRepos:
    served = root / "served"
    served.mkdir(parents=True)
    work = root / "work"
    run_git("init", "-q", "-b", "master", work)
    _write(work / "3.12/bookworm/Dockerfile", b"FROM buildpack-deps:bookworm\nRUN make\n" * 40)
    _write(work / "3.12/bookworm/docker-entrypoint.sh", b'#!/bin/sh\nexec "$@"\n', 0o755)
    _write(work / "3.12/slim/Dockerfile", b"FROM debian:bookworm-slim\n")
    _write(work / "3.11/alpine/Dockerfile", b"ARG V=3.20\nFROM alpine:${V}\n")
    _write(work / "3.11/alpine/Dockerfile.windows", b"FROM mcr.microsoft.com/windows/nanoserver\n")
    _write(work / "windows/Dockerfile", b"# \xe9\xff not UTF-8\r\nFROM scratch\r\n")
    _write(work / "README.md", b"# images\n")
    os.symlink("3.12/bookworm", work / "latest")
    os.symlink("3.12/bookworm/Dockerfile", work / "Dockerfile")
    run_git("add", "-A", cwd=work)
    # A submodule entry (gitlink) without any .gitmodules: all that matters is the mode.
    run_git("update-index", "--add", "--cacheinfo", f"160000,{'ab' * 20},vendor/lib", cwd=work)
    run_git("commit", "-qm", "c1", cwd=work)
    c1 = run_git("rev-parse", "HEAD", cwd=work)
    c1_tree = run_git("rev-parse", "HEAD^{tree}", cwd=work)
    _write(work / "3.12/bookworm/Dockerfile", b"FROM buildpack-deps:bookworm\nRUN make install\n")
    run_git("rm", "-rq", "3.11", cwd=work)
    _write(work / "3.13/trixie/Dockerfile", b"FROM buildpack-deps:trixie\n")
    c2 = commit_all(work, "c2", GIT_COMMITTER_DATE="2020-01-02T00:00:00Z")
    run_git("clone", "-q", "--bare", "--no-local", work, served / "docker.git")

    other = root / "other"
    run_git("init", "-q", "-b", "main", other)
    _write(other / "Dockerfile", b"FROM scratch\nCOPY hello /\n")
    o1 = commit_all(other, "o1")
    run_git("clone", "-q", "--bare", "--no-local", other, served / "other.git")
    return DockerRepos(served, c1, c2, o1, c1_tree)


_built: dict[str, DockerRepos] = {}


def build_docker_repos(factory: pytest.TempPathFactory) -> DockerRepos:
    """Build the repositories once per session, whichever test module asks first."""
    if "repos" not in _built:
        _built["repos"] = _build(factory.mktemp("dockerfiles"))
    return _built["repos"]
