"""Repositories with rewritten tarballs, built with git, and ``naughty-commits.sh``'s
logic run through the real git binary on them (the oracle the history check is held to).
"""

from __future__ import annotations

import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitserver import GIT, commit_all, git_env, run_git

MIB = 1024 * 1024
PATHSPEC = "**.tar**"


def binary(seed: int, size: int) -> bytes:
    """Incompressible bytes with a NUL up front (git's binary test looks at 8000)."""
    return b"\0" + random.Random(seed).randbytes(size - 1)


def text(seed: int, size: int) -> bytes:
    """Text with no NUL at all, however large."""
    line = f"line of text {seed}\n".encode()
    return (line * (size // len(line) + 1))[:size]


class Builder:
    """A work tree whose commits get distinct, increasing dates (git log's order)."""

    def __init__(self, work: Path, branch: str = "main") -> None:
        self.work = work
        self.tick = 0
        run_git("init", "-q", "-b", branch, work)

    def write(self, path: str, data: bytes) -> None:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(data)

    def symlink(self, path: str, to: str) -> None:
        target = self.work / path
        if target.exists() or target.is_symlink():
            target.unlink()
        os.symlink(to, target)

    def remove(self, path: str) -> None:
        (self.work / path).unlink()

    def date(self) -> str:
        self.tick += 1
        return f"2021-01-01T00:{self.tick // 60:02d}:{self.tick % 60:02d}Z"

    def commit(self, message: str) -> str:
        date = self.date()
        return commit_all(self.work, message, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)

    def git(self, *args: str) -> str:
        date = self.date()
        return run_git(*args, cwd=self.work, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)


@dataclass(frozen=True)
class TarRepos:
    """``tars.git`` (see :func:`build_tars`) and ``attrs.git`` (.gitattributes cases)."""

    root: Path
    work: Path  # non-bare clone of tars.git's source, for oracles
    attrs_work: Path
    c: dict[str, str]  # named commits of tars.git
    a: dict[str, str]  # named commits of attrs.git


def build_tars(root: Path) -> TarRepos:
    served = root / "served"
    served.mkdir(parents=True)
    b = Builder(root / "tars")
    c: dict[str, str] = {}
    b.write("README", b"readme\n")
    b.write("big.tar", binary(1, 3 * MIB))
    b.write("under.tar.gz", binary(2, 3 * MIB))
    b.write("text.tar.txt", text(3, 4 * MIB))
    b.write("del.tar", binary(4, 4 * MIB))
    b.write("type.tar", binary(5, 4 * MIB))
    b.write("small.tar", binary(6, 1 * MIB))
    b.write("moved/old.tar", binary(7, 4 * MIB))
    b.write("rev.tar", binary(8, 4 * MIB))
    b.write("dir.tar/inner.bin", binary(9, 4 * MIB))
    b.symlink("link.tar", "README")
    c["root"] = b.commit("root: adds only")
    b.write("big.tar", binary(11, 3 * MIB))  # exactly 3 MiB: 3 // 1 > 2
    c["big"] = b.commit("rewrite big.tar at exactly 3 MiB")
    b.write("under.tar.gz", binary(12, 3 * MIB - 1))  # 2 MiB and change: not > 2
    c["under"] = b.commit("rewrite under.tar.gz just under 3 MiB")
    b.remove("del.tar")
    c["delete"] = b.commit("delete del.tar")
    b.symlink("type.tar", "README")
    c["to_link"] = b.commit("type.tar becomes a symlink")
    b.remove("link.tar")
    b.write("link.tar", binary(13, 4 * MIB))
    c["from_link"] = b.commit("link.tar becomes a large binary file")
    b.write("text.tar.txt", text(14, 5 * MIB))
    c["text"] = b.commit("rewrite a large text file named .tar.txt")
    b.write("small.tar", binary(15, 1 * MIB + 5))
    c["small"] = b.commit("rewrite a binary under the threshold")
    (b.work / "big.tar").chmod(0o755)
    c["chmod"] = b.commit("big.tar made executable: a mode change only")
    b.git("mv", "moved/old.tar", "moved/new.tar")
    c["rename"] = b.commit("exact rename of a tarball")
    b.write("dir.tar/inner.bin", binary(16, 4 * MIB))
    c["dir"] = b.commit("rewrite a file inside a directory named .tar")
    c["fork"] = c["dir"]
    # side branch whose tarball change reaches main through a merge
    b.git("checkout", "-q", "-b", "side")
    b.write("side.tar", binary(17, 5 * MIB))
    c["side_add"] = b.commit("side: add side.tar")
    b.write("side.tar", binary(18, 5 * MIB))
    c["side_rewrite"] = b.commit("side: rewrite side.tar")
    # a branch that rewrites rev.tar and puts it back: TREESAME overall
    b.git("checkout", "-q", "-b", "revert", c["fork"])
    b.write("rev.tar", binary(19, 4 * MIB))
    c["rev_rewrite"] = b.commit("revert branch: rewrite rev.tar")
    b.write("rev.tar", binary(8, 4 * MIB))
    c["rev_restore"] = b.commit("revert branch: restore rev.tar")
    b.git("checkout", "-q", "main")
    b.write("README", b"readme 2\n")
    c["main_after_fork"] = b.commit("main: a change outside the pathspec")
    b.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    c["merge_side"] = b.git("rev-parse", "HEAD")
    b.git("merge", "-q", "--no-ff", "-m", "merge revert", "revert")
    c["merge_revert"] = b.git("rev-parse", "HEAD")
    b.write("big.tar", binary(20, 6 * MIB))
    c["main"] = b.commit("rewrite big.tar at 6 MiB")
    # a second GitCommit on another branch whose history shares c["big"]
    b.git("checkout", "-q", "-b", "other", c["under"])
    b.write("other.tar", binary(21, 4 * MIB))
    c["other_add"] = b.commit("other: add other.tar")
    b.write("other.tar", binary(22, 4 * MIB))
    c["other"] = b.commit("other: rewrite other.tar")
    b.git("checkout", "-q", "main")
    run_git("clone", "-q", "--bare", "--no-local", b.work, served / "tars.git")

    a = Builder(root / "attrs")
    commits_a: dict[str, str] = {}
    a.write(".gitattributes", b"# root\n*.tar -diff\n[attr]nodiff -diff\n")
    a.write("plain.tar", binary(30, 4 * MIB))
    a.write("forced-text.tar", binary(31, 4 * MIB))
    a.write("keep/a.tar", binary(32, 4 * MIB))
    a.write("keep/.gitattributes", b"*.tar diff\n")
    a.write("sub/deep/data.tar.txt", text(33, 4 * MIB))
    a.write("sub/.gitattributes", b"deep/*.txt nodiff\n")
    a.write("macro.tar.md", text(34, 4 * MIB))
    a.write("notext.tar.txt", text(35, 4 * MIB))
    commits_a["root"] = a.commit("root")
    a.write(".gitattributes", b"# root\n*.tar -diff\nforced-text.tar diff\n[attr]nodiff -diff\n"
            b"macro.tar.md binary\nnotext.tar.txt -text\n")  # fmt: skip
    commits_a["attrs"] = a.commit("attributes change")
    for index, path in enumerate(
        [
            "plain.tar",
            "forced-text.tar",
            "keep/a.tar",
            "sub/deep/data.tar.txt",
            "macro.tar.md",
            "notext.tar.txt",
        ]
    ):
        maker = text if path.endswith((".txt", ".md")) else binary
        a.write(path, maker(40 + index, 4 * MIB))
    commits_a["rewrite"] = a.commit("rewrite everything")
    run_git("clone", "-q", "--bare", "--no-local", a.work, served / "attrs.git")
    return TarRepos(served, b.work, a.work, c, commits_a)


# -- the oracle: naughty-commits.sh's loop, with the real git ------------------------


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        [GIT, "--git-dir", str(git_dir), *args],
        env=git_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def oracle(
    git_dir: Path, tops: list[str], *, work_tree: Path | None = None
) -> dict[str, tuple[list[tuple[str, int]], str]]:
    """{naughty commit: ([(file, MiB)], top commit)} as the script computes them, in a
    bare repository (CI's cache); with ``work_tree``, each listed commit is checked out
    there first, so git reads that commit's ``.gitattributes``."""
    seen: set[str] = set()
    naughty: dict[str, tuple[list[tuple[str, int]], str]] = {}
    for top in tops:
        listed = _git(
            git_dir, "log", "--diff-filter=DMT", "--format=format:%H", top, "--", PATHSPEC
        )
        for commit in listed.split():
            if commit in seen:
                break
            seen.add(commit)
            if work_tree is not None:
                subprocess.run(
                    [GIT, "checkout", "-q", "--detach", "-f", commit],
                    cwd=work_tree,
                    env=git_env(),
                    check=True,
                )
                numstat = subprocess.run(
                    [GIT, "diff-tree", "--no-commit-id", "-r", "--numstat",
                     "--diff-filter=DMT", commit, "--", PATHSPEC],
                    cwd=work_tree, env=git_env(), check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
            else:
                numstat = _git(
                git_dir, "diff-tree", "--no-commit-id", "-r", "--numstat", "--diff-filter=DMT",
                commit, "--", PATHSPEC,
            )  # fmt: skip
            binary_files = [
                line.split("\t", 2)[2] for line in numstat.splitlines() if line.startswith("-")
            ]
            reasons = []
            for path in binary_files:
                listing = _git(git_dir, "ls-tree", "-r", "--long", commit, "--", path).split()
                size = int(listing[3]) if len(listing) > 3 and listing[3].isdigit() else 0
                if size // 1024 // 1024 > 2:
                    reasons.append((path, size // 1024 // 1024))
            if reasons:
                naughty[commit] = (reasons, top)
    return naughty
