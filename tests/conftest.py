"""Shared fixtures: the real corpus beside the project (skipped, naming the absent path, when it
is not there), and git servers (`git http-backend` on 127.0.0.1, tests/gitserver.py).

The `shared` marker: a test that uses `library_dir` (or `corpus`, which uses it) gets it here;
others that read ../shared through `paths.beside` carry it themselves, and one that is skipped
for want of ../shared without carrying it fails, so `-m "not shared"` stays true.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from gitserver import GitServers
from paths import LIBRARY, NOT_BESIDE, beside, corpus_files

# Fixtures that need ../shared: every test that uses one (even indirectly) is marked `shared`.
SHARED_FIXTURES = {"library_dir"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.shared)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and call.excinfo is not None and NOT_BESIDE in str(call.excinfo.value):
        if item.get_closest_marker("shared") is None:
            report.outcome = "failed"
            report.longrepr = f"{item.nodeid} needs ../shared but is not marked `shared`"
        else:  # report the test that was skipped, not the line of paths.beside
            path, line = item.reportinfo()[:2]
            report.longrepr = (str(path), (line or 0) + 1, str(call.excinfo.value))
    return report


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
