"""Shared fixtures: the real corpus beside the project (skipped, naming the absent path, when it
is not there), and git servers (`git http-backend` on 127.0.0.1, tests/gitserver.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from gitserver import GitServers
from paths import LIBRARY, beside, corpus_files


@pytest.fixture(scope="session")
def library_dir() -> Path:
    return beside(LIBRARY, "the official-images corpus")


@pytest.fixture(scope="session")
def corpus(library_dir: Path) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in corpus_files()]


@pytest.fixture
def git_server() -> Iterator[GitServers]:
    """Git servers for one test."""
    with ExitStack() as servers:
        yield GitServers(servers)


@pytest.fixture(scope="module")
def module_git_server() -> Iterator[GitServers]:
    """Git servers for the fixtures of one module (its repositories, built once)."""
    with ExitStack() as servers:
        yield GitServers(servers)


@pytest.fixture(scope="session")
def session_git_server() -> Iterator[GitServers]:
    """Git servers for session fixtures (the shared repositories of upstream/ and repository/)."""
    with ExitStack() as servers:
        yield GitServers(servers)
