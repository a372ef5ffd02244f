"""Where the tests find the project and the real data beside it (`../shared`).

A test that needs a file under `../shared` asks `beside(path, what)` for it (or uses a fixture
that does, such as `library_dir`): without the file the test is skipped with a reason naming
the path that is absent, and it must carry the `shared` marker (tests/conftest.py checks).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT / "examples"
SHARED = PROJECT.parent / "shared"
LIBRARY = SHARED / "corpus" / "official-images" / "library"
DOCS_METADATA = SHARED / "corpus" / "docs-metadata"
GITHUB_WEBHOOKS = SHARED / "events" / "github-webhooks"
AWS_EVENTS = SHARED / "events" / "aws"

# In the reason `beside` skips with; tests/conftest.py recognises it.
NOT_BESIDE = "not beside the project"


def shown(path: Path) -> str:
    """`path` as the project sees it (`../shared/...`), not as this machine spells it."""
    return os.path.relpath(path, PROJECT)


def beside(path: Path, what: str) -> Path:
    """`path` under `../shared` if it is there; otherwise skip the test, saying which path."""
    if not path.exists():
        pytest.skip(f"{what}: {NOT_BESIDE} ({shown(path)} absent)")
    return path


def corpus_files() -> list[Path]:
    """The real library files, or none when the corpus is absent."""
    if not LIBRARY.is_dir():
        return []
    return sorted(path for path in LIBRARY.iterdir() if path.is_file())
