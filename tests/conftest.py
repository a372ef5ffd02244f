"""Shared fixtures: the real corpus beside the project (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
LIBRARY = SHARED / "corpus" / "official-images" / "library"
EVENTS = SHARED / "events"


def corpus_files() -> list[Path]:
    if not LIBRARY.is_dir():
        return []
    return sorted(path for path in LIBRARY.iterdir() if path.is_file())


@pytest.fixture(scope="session")
def library_dir() -> Path:
    if not LIBRARY.is_dir():
        pytest.skip(f"the official-images corpus is not beside the project ({LIBRARY.name} absent)")
    return LIBRARY


@pytest.fixture(scope="session")
def corpus(library_dir: Path) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in corpus_files()]
