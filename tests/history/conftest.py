"""Fixtures: the repository world of `world.py`, built once per session, and git http-backend
serving its bare copy on 127.0.0.1 (nothing here reaches the internet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitserver import GitServer, serve_git

from .world import World, build_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("history"))


@pytest.fixture(scope="session")
def server(world: World) -> Iterator[GitServer]:
    with serve_git(world.path("served")) as srv:
        yield srv
