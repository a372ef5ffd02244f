"""Fixtures: one moto server (and proxy, and git server) for the whole run; a fresh stack per
test. Without moto's server extras the whole folder is skipped, naming what is missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("yaml", reason="PyYAML reads template.yaml (it comes with the dev extra)")

from .stack import Stack
from .world import LocalAws, MotoServerUnavailable, World, local_aws


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    try:
        with local_aws(tmp_path_factory.mktemp("aws")) as running:
            yield running
    except MotoServerUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture
def world(local: LocalAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    made = World.create(local, monkeypatch)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def stack(world: World) -> Stack:
    return world.stack
