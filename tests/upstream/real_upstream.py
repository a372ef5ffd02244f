"""The real upstream slice beside the project (``../shared/upstream``): five upstream
repositories as git bundles and meta's ``sources.json`` entries for them, served with
the real ``git http-backend``.  Shared by the real-data tests and the benchmark."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitserver import run_git

__all__ = [
    "IMAGES",
    "SHARED_NAME",
    "SHARED_UPSTREAM",
    "RealSource",
    "clone_bundles",
    "load_sources",
    "local_library",
    "meta_document",
]

# the five images of the slice, and their repositories (as OWNER/NAME)
IMAGES = ("caddy", "golang", "hello-world", "mariadb", "nginx")
REPOSITORIES = (
    "caddyserver/caddy-docker",
    "docker-library/golang",
    "docker-library/hello-world",
    "MariaDB/mariadb-docker",
    "nginxinc/docker-nginx",
)

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


def _rewrite(base_url: str) -> tuple[re.Pattern[str], str]:
    names = "|".join(re.escape(name) for name in REPOSITORIES)
    pattern = re.compile(
        rf"^((?:[^\s:]+-)?GitRepo:[ \t]*){re.escape(GITHUB)}({names})(?:\.git)?[ \t]*$", re.M
    )
    return pattern, rf"\g<1>{base_url}/\g<2>.git"


def local_url(url: str, base_url: str) -> str:
    """A GitRepo of the slice as the local server serves it."""
    for name in REPOSITORIES:
        for form in (f"{GITHUB}{name}.git", f"{GITHUB}{name}"):
            if url == form:
                return f"{base_url}/{name}.git"
    return url


def local_library(target: Path, base_url: str, root: Path = SHARED_UPSTREAM) -> Path:
    """A copy of official-images at the slice's commit under ``target``: every library file,
    the GitRepo lines of the five repositories pointed at ``base_url`` (every other byte
    unchanged), and ``.external-pins`` beside ``library/``; the library directory."""
    pattern, replacement = _rewrite(base_url)
    library = target / "library"
    library.mkdir(parents=True)
    for file in sorted((root / "official-images" / "library").iterdir()):
        text = file.read_bytes().decode("utf-8")
        (library / file.name).write_bytes(pattern.sub(replacement, text).encode("utf-8"))
    shutil.copytree(root / "official-images" / ".external-pins", target / ".external-pins")
    return library


def meta_document(base_url: str, root: Path = SHARED_UPSTREAM) -> dict[str, Any]:
    """meta's slice in the newest format: its single ``entry`` as ``entries: [entry]``
    (the README: no two entries of the slice build the same context), GitRepo served
    locally; keys and order otherwise as meta wrote them."""
    document: dict[str, Any] = json.loads((root / "sources.json").read_text())
    out: dict[str, Any] = {}
    for key, source in document.items():
        entry = dict(source["entry"])
        entry["GitRepo"] = local_url(entry["GitRepo"], base_url)
        out[key] = {
            "sourceId": source["sourceId"],
            "reproducibleGitChecksum": source["reproducibleGitChecksum"],
            "entries": [entry],
            "arches": source["arches"],
        }
    return out
