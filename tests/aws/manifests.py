"""A manifests repository (`library/*` files, real commits) served by `git http-backend`, and one
upstream repository the manifests build from, as the worker reads them in AWS: over git smart
HTTP (tests/gitserver.py)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitserver import GitServer, commit_all, run_git

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Upstream:
    url: str
    commit: str


def make_upstream(server: GitServer) -> Upstream:
    """A bare repository with one commit holding a Dockerfile, served as `app.git`."""
    root = server.root
    work = root.parent / "app-work"
    if not (root / "app.git").exists():
        run_git("init", "-q", "-b", "master", work)
        (work / "Dockerfile").write_text("FROM scratch\n")
        commit_all(work, "app")
        run_git("clone", "-q", "--bare", "--no-local", work, root / "app.git")
    commit = run_git("rev-parse", "HEAD", cwd=root / "app.git")
    return Upstream(server.repo_url("app.git"), commit)


def manifest_text(upstream: Upstream, tags: str = "1.0, latest") -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"
        f"GitRepo: {upstream.url}\n\n"
        f"Tags: {tags}\n"
        f"GitCommit: {upstream.commit}\n"
    )


@dataclass
class ManifestsRepo:
    """A bare repository on the git server plus a working tree that pushes to it."""

    server: GitServer
    upstream: Upstream
    name: str
    work: Path
    branch: str = "master"
    history: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, server: GitServer, upstream: Upstream) -> ManifestsRepo:
        name = f"official-images-{next(_numbers)}.git"
        bare = server.root / name
        run_git("init", "-q", "--bare", "-b", "master", bare)
        work = server.root.parent / f"{name}-work"
        run_git("clone", "-q", bare, work)
        run_git("checkout", "-q", "-b", "master", cwd=work)
        (work / "library").mkdir()
        (work / "README.md").write_text("manifests\n")
        return cls(server, upstream, name, work)

    @property
    def url(self) -> str:
        return self.server.repo_url(self.name)

    @property
    def head(self) -> str:
        return self.history[-1]

    def write(self, name: str, text: str | None = None) -> None:
        (self.work / "library" / name).write_text(text or manifest_text(self.upstream))

    def remove(self, name: str) -> None:
        (self.work / "library" / name).unlink()

    def commit(self, message: str, *, push: bool = True) -> str:
        sha = commit_all(self.work, message)
        self.history.append(sha)
        if push:
            self.push()
        return sha

    def push(self, *, force: bool = False) -> None:
        args = ["push", "-q", "origin", f"HEAD:refs/heads/{self.branch}"]
        if force:
            args.insert(2, "--force")
        run_git(*args, cwd=self.work)

    def rewind(self, commit: str) -> None:
        """Move the working branch back to `commit` (its files too), for a forced push."""
        run_git("reset", "-q", "--hard", commit, cwd=self.work)
        self.history.append(commit)

    def names_at(self, commit: str) -> list[str]:
        listing = run_git("ls-tree", "--name-only", f"{commit}:library", cwd=self.work)
        return sorted(listing.split())

    def push_commits(self, before: str, after: str) -> list[dict[str, Any]]:
        """The `commits` of a push payload from before to after, with the files each one
        added, removed and modified, as GitHub lists them."""
        shas = run_git("rev-list", "--reverse", f"{before}..{after}", cwd=self.work).split()
        commits = []
        for sha in shas:
            changes: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
            status = run_git(
                "diff-tree", "--no-commit-id", "--name-status", "-r", "--root", sha, cwd=self.work
            )
            for line in status.splitlines():
                kind, _, path = line.partition("\t")
                bucket = {"A": "added", "D": "removed"}.get(kind[:1], "modified")
                changes[bucket].append(path)
            message = run_git("log", "-1", "--format=%s", sha, cwd=self.work)
            commits.append({"id": sha, "message": message, "distinct": True, **changes})
        return commits
