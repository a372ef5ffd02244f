"""Shared fixtures: the real corpus beside the project (skipped, naming the absent path, when it
is not there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paths import LIBRARY, beside, corpus_files


@pytest.fixture(scope="session")
def library_dir() -> Path:
    return beside(LIBRARY, "the official-images corpus")


@pytest.fixture(scope="session")
def corpus(library_dir: Path) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in corpus_files()]
