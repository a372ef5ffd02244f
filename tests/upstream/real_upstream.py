"""The real upstream slice beside the project (``../shared/upstream``): five upstream
repositories as git bundles and meta's ``sources.json`` entries for them, served with
the real ``git http-backend``.  Shared by the real-data tests and the benchmark."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitserver import run_git

__all__ = ["SHARED_NAME", "SHARED_UPSTREAM", "RealSource", "clone_bundles", "load_sources"]

SHARED_NAME = "../shared/upstream"  # relative to the project, for messages
SHARED_UPSTREAM = Path(__file__).resolve().parents[2].parent / "shared" / "upstream"
GITHUB = "https://github.com/"


@dataclass(frozen=True)
class RealSource:
    """One source of meta's ``sources.json``: its key and what bashbrew computed."""

    source_id: str
    checksum: str
    repo: str  # OWNER/NAME.git, as served locally
    commit: str
    directory: str
    file: str
    builder: str
    epoch: int


def load_sources(root: Path = SHARED_UPSTREAM) -> list[RealSource]:
    document: dict[str, Any] = json.loads((root / "sources.json").read_text())
    sources = []
    for key, source in document.items():
        entry = source["entry"]
        repo = entry["GitRepo"]
        assert repo.startswith(GITHUB), repo
        path = repo[len(GITHUB) :]
        sources.append(
            RealSource(
                source_id=key,
                checksum=source["reproducibleGitChecksum"],
                repo=path if path.endswith(".git") else path + ".git",
                commit=entry["GitCommit"],
                directory=entry["Directory"],
                file=entry["File"],
                builder=entry["Builder"],
                epoch=entry["SOURCE_DATE_EPOCH"],
            )
        )
    return sources


def clone_bundles(served: Path, root: Path = SHARED_UPSTREAM) -> list[str]:
    """Mirror every bundle into ``served/OWNER/NAME.git`` with filters allowed, as
    GitHub does; the served names."""
    names = []
    for bundle in sorted((root / "bundles").glob("*/*.bundle")):
        name = f"{bundle.parent.name}/{bundle.stem}.git"
        target = served / name
        target.parent.mkdir(parents=True, exist_ok=True)
        run_git("clone", "-q", "--mirror", bundle, target)
        run_git("--git-dir", target, "config", "uploadpack.allowFilter", "true")
        names.append(name)
    return names
