"""A manifests repository with a history worth resolving revisions in, built with real git, and
its copies in every layout a reviewer may hold: working clone, worktree, clone with remote
branches, packed (``git gc``), bare, ``--shared`` (alternates), shallow, partial.

History of ``work`` (dates increase by one hour per commit unless noted)::

    c0 - c1 - c2 ------ m - c3 - c4          master (HEAD); c3 and c4 also ORIG_HEAD / tip
           \\          /
            f1 ---- f2 - f3                   feature (merged at f2, then f3)
    c0 - x1 - x2 (merges y1)                  x   } criss-cross: x2 and y2 have two merge
    c0 - y1 - y2 (merges x1)                  y   } bases, x1 and y1 (y1 newer)
    c0 - p1 - p2 (merges q1)                  p   } the same with every date equal
    c0 - q1 - q2 (merges p1)                  q   }
    lonely                                    an orphan branch (no library, no shared history)

Refs: tags ``light`` (lightweight, c1), ``v1`` (annotated, c2), ``outer`` (annotated tag of
``v1``), ``treetag`` (annotated, c0's tree), ``blobtag`` (lightweight, a blob); a branch ``v1``
too (c0: ``v1`` is then ambiguous, the tag wins); a branch named after the first 7 digits of c3's
id, pointing at c1 (a ref wins over an abbreviation).  Loose objects made to collide: a second
commit whose id starts with c3's first 4 hex digits (``c3[:4]`` is ambiguous between two
commits) and a blob starting like c4 (``c4[:4]`` is still c4: the only commit among them).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from gitserver import GIT, git_env, run_git

EPOCH = 1_600_000_000  # 2020-09-13, an arbitrary fixed start


def manifest(tags: str, commit: str, arches: str = "amd64, arm64v8") -> str:
    return (
        "Maintainers: Jane Doe (@jane)\n"
        "GitRepo: https://github.com/docker-library/example.git\n\n"
        f"Tags: {tags}\n"
        f"Architectures: {arches}\n"
        f"GitCommit: {commit}\n"
        "Directory: 1\n"
    )


@dataclass
class World:
    root: Path
    ids: dict[str, str] = field(default_factory=dict)  # c0, f1, m, x2, ... -> commit id
    crafted_commit: str = ""  # starts with ids["c3"][:4]
    crafted_blob: str = ""  # starts with ids["c4"][:4]
    hex_branch: str = ""  # a branch named ids["c3"][:7]

    def path(self, name: str) -> Path:
        return self.root / name


class _Clock:
    def __init__(self) -> None:
        self.now = EPOCH

    def tick(self) -> dict[str, str]:
        self.now += 3600
        date = f"@{self.now} +0000"
        return {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}


def _commit(work: Path, message: str, env: dict[str, str]) -> str:
    run_git("add", "-A", cwd=work, **env)
    run_git("commit", "-qm", message, cwd=work, **env)
    return run_git("rev-parse", "HEAD", cwd=work)


def _merge(work: Path, other: str, message: str, env: dict[str, str]) -> str:
    run_git("merge", "-q", "--no-ff", "-m", message, other, cwd=work, **env)
    return run_git("rev-parse", "HEAD", cwd=work)


def _write(work: Path, name: str, text: str) -> None:
    (work / "library" / name).write_text(text)


def _git_object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).hexdigest()


def _store(work: Path, kind: str, body: bytes) -> str:
    result = subprocess.run(
        [GIT, "hash-object", "-t", kind, "-w", "--stdin"],
        cwd=work,
        env=git_env(),
        input=body,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode().strip()


def _collide(work: Path, kind: str, target: str, make: object) -> str:
    """Write an object of ``kind`` whose id shares its first 4 hex digits with ``target``
    (searched in Python: about 65,000 hashes, then one object written by git)."""
    assert callable(make)
    for number in range(2_000_000):
        body: bytes = make(number)
        oid = _git_object_id(kind, body)
        if oid[:4] == target[:4] and oid != target:
            written = _store(work, kind, body)
            assert written == oid
            return oid
    raise AssertionError("no collision found")


def build_world(root: Path) -> World:
    world = World(root)
    ids = world.ids
    clock = _Clock()
    work = root / "work"
    (work / "library" / "sub").mkdir(parents=True)
    run_git("init", "-q", "-b", "master", work)
    _write(work, "alpine", manifest("3.18, latest", "a" * 40))
    _write(work, "debian", manifest("bookworm, latest", "b" * 40))
    _write(work, "python", manifest("3.12, latest", "c" * 40))
    _write(work, ".hidden", "not a manifest\n")
    (work / "library" / "sub" / "x").write_text("in a subdirectory\n")
    (work / "library" / "link").symlink_to("alpine")
    (work / "README.md").write_text("# manifests\n")
    run_git("add", "-A", cwd=work)
    # a submodule entry (gitlink) in the library: never a manifest
    run_git("update-index", "--add", "--cacheinfo", f"160000,{'ab' * 20},library/submod", cwd=work)
    ids["c0"] = _commit(work, "c0", clock.tick())
    _write(work, "python", manifest("3.12, latest", "d" * 40))
    (work / "library" / "debian").unlink()
    _write(work, "golang", manifest("1.22, latest", "e" * 40))
    ids["c1"] = _commit(work, "c1", clock.tick())
    run_git("tag", "light", cwd=work)

    run_git("checkout", "-q", "-b", "feature", cwd=work)
    _write(work, "alpine", manifest("3.19, latest", "a" * 40))
    ids["f1"] = _commit(work, "f1", clock.tick())
    run_git("checkout", "-q", "master", cwd=work)
    _write(work, "python", manifest("3.13, 3, latest", "f" * 40))
    ids["c2"] = _commit(work, "c2", clock.tick())
    run_git("tag", "-a", "v1", "-m", "version 1", cwd=work, **clock.tick())
    run_git("tag", "-a", "outer", "-m", "a tag of a tag", "v1", cwd=work, **clock.tick())
    run_git("tag", "-a", "treetag", "-m", "a tag of a tree", f"{ids['c0']}^{{tree}}", cwd=work)
    run_git("tag", "blobtag", f"{ids['c0']}:library/alpine", cwd=work)
    run_git("branch", "v1", ids["c0"], cwd=work)  # a branch named like the tag

    run_git("checkout", "-q", "feature", cwd=work)
    _write(work, "busybox", manifest("1.36, latest", "1" * 40))
    ids["f2"] = _commit(work, "f2", clock.tick())
    run_git("checkout", "-q", "master", cwd=work)
    ids["m"] = _merge(work, "feature", "merge feature", clock.tick())
    _write(work, "golang", manifest("1.22, 1, latest", "2" * 40))
    ids["c3"] = _commit(work, "c3", clock.tick())
    _write(work, "alpine", manifest("3.19, latest", "3" * 40, arches="amd64"))
    ids["c4"] = _commit(work, "c4", clock.tick())
    run_git("checkout", "-q", "feature", cwd=work)
    _write(work, "debian", manifest("trixie", "4" * 40))
    ids["f3"] = _commit(work, "f3", clock.tick())

    # criss-cross merges, with increasing dates (x/y) and with one date for all (p/q)
    for left, right, same_date in (("x", "y", False), ("p", "q", True)):
        fixed = clock.tick()
        dates = [fixed] * 4 if same_date else [clock.tick() for _ in range(4)]
        for branch, date in zip((left, right), dates, strict=False):
            run_git("checkout", "-q", "-b", branch, ids["c0"], cwd=work)
            _write(work, f"only-{branch}", manifest(branch, "5" * 40))
            ids[f"{branch}1"] = _commit(work, f"{branch}1", date)
        run_git("checkout", "-q", left, cwd=work)
        ids[f"{left}2"] = _merge(work, ids[f"{right}1"], f"{left}2", dates[2])
        run_git("checkout", "-q", right, cwd=work)
        ids[f"{right}2"] = _merge(work, ids[f"{left}1"], f"{right}2", dates[3])

    run_git("checkout", "-q", "--orphan", "lonely", cwd=work)
    run_git("rm", "-rq", "--cached", ".", cwd=work)
    for path in ("library", "README.md"):
        target = work / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    (work / "other.txt").write_text("unrelated history\n")
    ids["lonely"] = _commit(work, "lonely", clock.tick())
    (work / "other.txt").unlink()
    run_git("checkout", "-q", "-f", "master", cwd=work)

    world.hex_branch = ids["c3"][:7]
    run_git("branch", world.hex_branch, ids["c1"], cwd=work)
    tree = run_git("rev-parse", f"{ids['c0']}^{{tree}}", cwd=work)

    def commit_body(number: int) -> bytes:
        stamp = f"{EPOCH} +0000"
        return (
            f"tree {tree}\nparent {ids['c0']}\n"
            f"author Test Author <author@example.invalid> {stamp}\n"
            f"committer Test Committer <committer@example.invalid> {stamp}\n\n"
            f"collide {number}\n"
        ).encode()

    world.crafted_commit = _collide(work, "commit", ids["c3"], commit_body)
    world.crafted_blob = _collide(work, "blob", ids["c4"], lambda n: b"blob collide %d\n" % n)

    # ORIG_HEAD (c3) from a reset there and back; FETCH_HEAD (x) from a fetch of itself
    run_git("reset", "-q", "--hard", ids["c3"], cwd=work)
    run_git("reset", "-q", "--hard", ids["c4"], cwd=work)
    run_git("fetch", "-q", ".", "x", cwd=work)

    # a worktree on feature, with a FETCH_HEAD of its own (y)
    run_git("worktree", "add", "-q", root / "wt", "feature", cwd=work)
    run_git("fetch", "-q", ".", "y", cwd=root / "wt")

    # a clone: remote-tracking branches, origin/HEAD, a local branch shadowing a remote name
    run_git("clone", "-q", "--no-local", work, root / "clone")
    run_git("branch", "-q", "feature", "origin/x", cwd=root / "clone")
    run_git("fetch", "-q", "origin", "y", cwd=root / "clone")

    # packed: every ref in packed-refs, every reachable object in a pack (and a commit-graph)
    shutil.copytree(work, root / "packed", symlinks=True)
    run_git("gc", "-q", cwd=root / "packed")
    run_git("pack-refs", "--all", cwd=root / "packed")

    served = root / "served"
    served.mkdir()
    run_git("clone", "-q", "--bare", "--no-local", work, served / "bare.git")
    run_git("pack-refs", "--all", cwd=served / "bare.git")

    run_git("clone", "-q", "--shared", work, root / "shared")  # objects/info/alternates
    run_git("clone", "-q", "--depth", "2", f"file://{work}", root / "shallow")
    run_git(
        "clone",
        "-q",
        "--bare",
        "--filter=blob:none",
        "--upload-pack=git -c uploadpack.allowFilter=true upload-pack",
        f"file://{served / 'bare.git'}",
        root / "partial.git",
    )
    return world


def rev_parse(repo: Path, revision: str) -> tuple[str | None, str]:
    """git's answer for a revision as a range side (a commit): the id or None, and stderr."""
    result = subprocess.run(
        [GIT, "rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}"],
        cwd=repo,
        env=git_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    oid = result.stdout.strip() if result.returncode == 0 else None
    return oid, result.stderr


def git_out(repo: Path, *args: str) -> tuple[int, str, str]:
    result = subprocess.run(
        [GIT, *args], cwd=repo, env=git_env(), capture_output=True, text=True, check=False
    )
    return result.returncode, result.stdout.strip(), result.stderr.strip()
