"""A real repository of build contexts for the checksum tests (built once per session).

``contexts.git`` (branch master)::

    c1  app/        a context with every kind of entry bashbrew archives: files, an
                    executable, symbolic links (to a file, to a directory, one with a
                    120-byte target), a directory holding only a directory, names that
                    need the ustar prefix, PAX (150 bytes; not ASCII), and names whose
                    byte order differs from git's tree order (sub, sub-x, sub.txt)
        withsub/    a context with a submodule (gitlink) at withsub/vendor/mod
        big/        a context of 300,000 random bytes (for the byte bound)
        README.md   a file (a Directory that is a file)
        latest      -> app (a Directory that is a symbolic link: bashbrew follows it)
        nested/up   -> ../app (relative to its own directory)
        loop1/loop2 -> each other; escape -> ../outside; tofile -> README.md
        emptylink/l a symbolic link with an empty target
        legacy/f    a file of the legacy mode 100664 (written with git mktree)
    c2  big/blob.bin changed, app/ unchanged (the same tree as in c1); git's index
        rewrites legacy/f as 100644 on the way

Dates: c1 authored 2021-03-04 but committed 2020-06-01 (SOURCE_DATE_EPOCH is the
later, the author's); c2 authored 2020-01-01, committed 2022-02-02.
"""

from __future__ import annotations

import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitserver import GIT, git_env, run_git

__all__ = ["ContextRepos", "build_context_repos"]

C1_AUTHOR, C1_COMMITTER = "2021-03-04T05:06:07Z", "2020-06-01T00:00:00Z"
C2_AUTHOR, C2_COMMITTER = "2020-01-01T00:00:00Z", "2022-02-02T02:02:02Z"
LONG_DIR = "long/" + "a" * 60 + "/" + "b" * 60
LONG_FILE = LONG_DIR + "/" + "c" * 60 + ".txt"
PAX_NAME = "f" * 150
BIG_SIZE = 300_000


@dataclass(frozen=True)
class ContextRepos:
    root: Path
    c1: str
    c2: str

    @property
    def git_dir(self) -> Path:
        return self.root / "contexts.git"


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def _git_bytes(git_dir: Path, *args: str, data: bytes = b"") -> str:
    return (
        subprocess.run(
            [GIT, "--git-dir", str(git_dir), *args],
            input=data,
            env=git_env(),
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )


def _build(root: Path) -> ContextRepos:
    served = root / "served"
    served.mkdir(parents=True)
    work = root / "work"
    run_git("init", "-q", "-b", "master", work)
    app = work / "app"
    _write(app / "Dockerfile", b"FROM scratch\nCOPY . /\n")
    _write(app / ".dockerignore", b"*.md\n")
    _write(app / "run.sh", b"#!/bin/sh\nexec app\n", 0o755)
    _write(app / "sub" / "nested" / "file.txt", b"nested\n")
    _write(app / "sub-x", b"dash\n")
    _write(app / "sub.txt", b"dot\n")
    _write(app / "only" / "sub" / "deeper" / "x.txt", b"deep\n")
    _write(app / LONG_FILE, b"long name\n")
    _write(app / PAX_NAME, b"pax name\n")
    _write(app / "caf\u00e9.txt", "caf\u00e9\n".encode())
    _write(app / "Zebra", b"capital first\n")
    os.symlink("Dockerfile", app / "link")
    os.symlink("sub", app / "dirlink")
    os.symlink("t" * 120, app / "longlink")
    _write(work / "withsub" / "Dockerfile", b"FROM scratch\n")
    rng = random.Random(20240620)
    _write(work / "big" / "Dockerfile", b"FROM scratch\nCOPY blob.bin /\n")
    _write(work / "big" / "blob.bin", rng.randbytes(BIG_SIZE))
    _write(work / "README.md", b"# contexts\n")
    os.symlink("app", work / "latest")
    (work / "nested").mkdir()
    os.symlink("../app", work / "nested" / "up")
    os.symlink("loop2", work / "loop1")
    os.symlink("loop1", work / "loop2")
    os.symlink("../outside", work / "escape")
    os.symlink("README.md", work / "tofile")
    run_git("add", "-A", cwd=work)
    # A submodule entry (gitlink) without .gitmodules: only the mode matters.
    run_git("update-index", "--add", "--cacheinfo", f"160000,{'cd' * 20},withsub/vendor/mod",
            cwd=work)  # fmt: skip
    empty = run_git("hash-object", "-w", "--stdin", cwd=work)  # an empty blob
    run_git("update-index", "--add", "--cacheinfo", f"120000,{empty},emptylink/l", cwd=work)
    run_git("commit", "-qm", "c0", cwd=work)
    # legacy/: a tree git's index would normalise; mktree keeps the mode as written.
    git_dir = work / ".git"
    blob = _git_bytes(git_dir, "hash-object", "-w", "--stdin", data=b"legacy\n")
    legacy = _git_bytes(git_dir, "mktree", data=f"100664 blob {blob}\tf\n".encode())
    top = _git_bytes(git_dir, "ls-tree", "HEAD") + f"\n040000 tree {legacy}\tlegacy\n"
    tree = _git_bytes(git_dir, "mktree", data=top.encode())
    c1 = subprocess.run(
        [GIT, "--git-dir", str(git_dir), "commit-tree", tree, "-p", "HEAD", "-m", "c1"],
        env=git_env({"GIT_AUTHOR_DATE": C1_AUTHOR, "GIT_COMMITTER_DATE": C1_COMMITTER}),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    run_git("reset", "-q", "--soft", c1, cwd=work)
    run_git("read-tree", c1, cwd=work)
    _write(work / "big" / "blob.bin", rng.randbytes(BIG_SIZE))
    run_git("add", "big/blob.bin", cwd=work)
    run_git("commit", "-qm", "c2", cwd=work,
            GIT_AUTHOR_DATE=C2_AUTHOR, GIT_COMMITTER_DATE=C2_COMMITTER)  # fmt: skip
    c2 = run_git("rev-parse", "HEAD", cwd=work)
    bare = served / "contexts.git"
    run_git("clone", "-q", "--bare", "--no-local", work, bare)
    raw = subprocess.run(
        [GIT, "--git-dir", str(bare), "cat-file", "tree", f"{c1}:legacy"],
        env=git_env(),
        check=True,
        capture_output=True,
    ).stdout
    assert raw.startswith(b"100664 f\x00")  # (git's own listings print it as 100644)
    return ContextRepos(served, c1, c2)


_built: dict[str, ContextRepos] = {}


def build_context_repos(factory: pytest.TempPathFactory) -> ContextRepos:
    """Build the repository once per session, whichever test module asks first."""
    if "repos" not in _built:
        _built["repos"] = _build(factory.mktemp("contexts"))
    return _built["repos"]
