"""The tarball-rewrite history check against real ``git http-backend``, held to
``naughty-commits.sh``'s logic run with the real git binary on the same repositories.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gitserver import GIT, GitServer, git_env, run_git, serve_git
from manifest_validation.upstream import UrlPolicy
from manifest_validation.upstream.history import (
    HistoryCheck,
    HistoryChecker,
    HistoryStatus,
    OffendingFile,
    matches_pathspec,
)
from manifest_validation.upstream.pktline import PktReader, encode
from manifest_validation.upstream.protocol import UpstreamRepo, objects_in_pack, v2_fetch_pack
from manifest_validation.upstream.transport import RunLimits, Transport
from manifest_validation.upstream.valuecache import MemoryValueCache

from .tar_repos import MIB, TarRepos, build_tars, oracle

REQUEST_TYPE = "application/x-git-upload-pack-request"


@pytest.fixture(scope="module")
def tars(tmp_path_factory: pytest.TempPathFactory) -> TarRepos:
    return build_tars(tmp_path_factory.mktemp("tars"))


@pytest.fixture(scope="module")
def v2(tars: TarRepos) -> Iterator[GitServer]:
    with serve_git(tars.root) as server:
        yield server


@pytest.fixture(
    scope="module",
    params=["v2", "v2-no-object-info", "v0", "v2-no-filter"],
)
def any_server(request: pytest.FixtureRequest, tars: TarRepos) -> Iterator[GitServer]:
    options: dict[str, object] = {
        "v2": {},
        "v2-no-object-info": {"hide_capabilities": ("object-info",)},
        "v0": {"protocol_v2": False},
        "v2-no-filter": {"allow_filter": False},
    }[request.param]
    with serve_git(tars.root, **options) as server:  # type: ignore[arg-type]
        yield server


def checker(server: GitServer, **options: object) -> HistoryChecker:
    options.setdefault("budget_seconds", 60)
    return HistoryChecker(UrlPolicy([server.host_port]), **options)  # type: ignore[arg-type]


def as_oracle(report_offending: tuple) -> dict[str, tuple[list[tuple[str, int]], str]]:  # type: ignore[type-arg]
    return {
        found.commit: ([(f.path, f.mib) for f in found.files], found.check.commit)
        for found in report_offending
    }


# -- git facts the design relies on ----------------------------------------------------


def test_fact_pathspec_without_magic_matches_any_path_containing_dot_tar(tars: TarRepos) -> None:
    listed = run_git("ls-files", "--", "**.tar**", cwd=tars.work).splitlines()
    every = run_git("ls-files", cwd=tars.work).splitlines()
    assert listed == [path for path in every if matches_pathspec(path)]
    assert "dir.tar/inner.bin" in listed and "text.tar.txt" in listed and "README" not in listed


def test_fact_blob_none_history_fetch_has_every_commit_and_tree_and_no_blob(
    v2: GitServer, tars: TarRepos
) -> None:
    body = encode("command=fetch\n") + b"0001" + encode("no-progress\n")
    body += encode(f"want {tars.c['main']}\n") + encode("filter blob:none\n")
    body += encode("done\n") + b"0000"
    response = requests.post(
        v2.repo_url("tars.git/git-upload-pack"),
        data=body,
        headers={"Git-Protocol": "version=2", "Content-Type": REQUEST_TYPE},
        timeout=30,
    )
    objects = objects_in_pack(v2_fetch_pack(PktReader(response.content)))
    kinds = {type(obj).__name__ for obj in objects.values()}
    assert kinds == {"Commit", "Tree"}
    history = run_git("rev-list", tars.c["main"], cwd=tars.work).split()
    assert {oid for oid, obj in objects.items() if type(obj).__name__ == "Commit"} == set(history)
    assert len(response.content) < 64 * 1024  # versus tens of MiB of tarballs


def test_fact_a_lone_deltified_blob_comes_whole(tmp_path: Path) -> None:
    """With no ``have`` and no ``thin-pack``, a one-object pack cannot hold a delta,
    even when the server stores the blob as one."""
    work = tmp_path / "w"
    run_git("init", "-q", "-b", "main", work)
    (work / "a.tar").write_bytes(b"\0" + bytes(range(256)) * 2000)
    run_git("add", "-A", cwd=work)
    run_git("commit", "-qm", "1", cwd=work)
    (work / "a.tar").write_bytes(b"\0" + bytes(range(256)) * 2000 + b"tail")
    run_git("add", "-A", cwd=work)
    run_git("commit", "-qm", "2", cwd=work)
    served = tmp_path / "served"
    run_git("clone", "-q", "--bare", "--no-local", work, served / "d.git")
    run_git("repack", "-adfq", "--window=50", "--depth=50", cwd=served / "d.git")
    deltas = subprocess.run(
        [
            GIT,
            "verify-pack",
            "-v",
            *map(str, (served / "d.git" / "objects" / "pack").glob("*.idx")),
        ],
        env=git_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stored_as_delta = [
        line.split()[0] for line in deltas.splitlines() if "blob" in line and len(line.split()) == 7
    ]
    assert len(stored_as_delta) == 1
    with serve_git(served) as server:
        for version2 in (True, False):
            headers = {"Content-Type": REQUEST_TYPE}
            if version2:
                headers["Git-Protocol"] = "version=2"
                body = encode("command=fetch\n") + b"0001" + encode("ofs-delta\n")
                body += encode(f"want {stored_as_delta[0]}\n") + encode("done\n") + b"0000"
            else:
                body = encode(f"want {stored_as_delta[0]} side-band-64k ofs-delta\n") + b"0000"
                body += encode("done\n")
            out = requests.post(
                server.repo_url("d.git/git-upload-pack"), data=body, headers=headers
            ).content
            pack_start = out.index(b"PACK")
            assert int.from_bytes(out[pack_start + 8 : pack_start + 12], "big") == 1
            assert (out[pack_start + 12] >> 4) & 7 == 3  # OBJ_BLOB, not OFS/REF_DELTA


def test_fact_object_info_answers_sizes(v2: GitServer, tars: TarRepos) -> None:
    big = run_git("rev-parse", f"{tars.c['big']}:big.tar", cwd=tars.work)
    body = encode("command=object-info\n") + b"0001" + encode("size\n")
    body += encode(f"oid {big}\n") + encode(f"oid {'1' * 40}\n") + b"0000"
    response = requests.post(
        v2.repo_url("tars.git/git-upload-pack"),
        data=body,
        headers={"Git-Protocol": "version=2", "Content-Type": REQUEST_TYPE},
    )
    # git 2.39 writes these lines without a trailing LF; a missing object has no size
    assert response.content == (
        b"0008size" + encode(f"{big} {3 * MIB}") + encode(f"{'1' * 40} ") + b"0000"
    )


def test_fact_numstat_binary_ignores_minus_text(tars: TarRepos) -> None:
    """``-text`` alone does not make a change binary for numstat."""
    numstat = run_git(
        "diff-tree", "--no-commit-id", "--numstat", "-r", tars.a["rewrite"], "--", "notext.tar.txt",
        cwd=tars.attrs_work,
    )  # fmt: skip
    assert not numstat.startswith("-")


def test_fact_a_bare_repository_reads_no_in_tree_gitattributes(tars: TarRepos) -> None:
    """Why ``gitattributes=False`` is CI's behaviour: the same commit, diffed in the
    bare cache, ignores the commit's ``forced-text.tar diff``."""
    args = (
        "diff-tree",
        "--no-commit-id",
        "--numstat",
        "-r",
        tars.a["rewrite"],
        "--",
        "forced-text.tar",
    )
    bare = tars.root / "attrs.git"
    assert run_git("--git-dir", bare, *args).startswith("-\t-\t")
    run_git("checkout", "-q", "--detach", "-f", tars.a["rewrite"], cwd=tars.attrs_work)
    assert not run_git(*args, cwd=tars.attrs_work).startswith("-")


# -- verdicts -------------------------------------------------------------------------------


def test_offending_commits_are_those_the_script_reports(
    any_server: GitServer, tars: TarRepos
) -> None:
    url = any_server.repo_url("tars.git")
    checks = [
        HistoryCheck(url, "refs/heads/main", tars.c["main"]),
        HistoryCheck(url, "refs/heads/other", tars.c["other"]),
    ]
    with checker(any_server) as history:
        report = history.check(checks)
    assert report.complete, report.outcomes
    tops = sorted(check.commit for check in checks)
    assert as_oracle(report.offending) == oracle(tars.root / "tars.git", tops)


def test_what_is_and_is_not_reported(v2: GitServer, tars: TarRepos) -> None:
    url = v2.repo_url("tars.git")
    c = tars.c
    with checker(v2) as history:
        report = history.check([HistoryCheck(url, "main", c["main"])])
    found = {o.commit: o for o in report.offending}
    assert found[c["big"]].files == (OffendingFile("big.tar", 3 * MIB),)  # exactly 3 MiB
    assert found[c["big"]].lines == ("modified binary file (larger than 2MB): big.tar (3MB)",)
    assert found[c["big"]].heading == f"commit {c['big']} (in history of {c['main']})"
    assert found[c["from_link"]].files == (OffendingFile("link.tar", 4 * MIB),)  # type change
    assert found[c["chmod"]].files == (OffendingFile("big.tar", 3 * MIB),)  # mode only
    assert found[c["dir"]].files == (OffendingFile("dir.tar/inner.bin", 4 * MIB),)
    assert found[c["side_rewrite"]].files == (OffendingFile("side.tar", 5 * MIB),)  # via merge
    assert found[c["main"]].heading == f"commit {c['main']}"
    for innocent in ("root", "under", "delete", "to_link", "text", "small", "rename"):
        assert c[innocent] not in found, innocent
    # the merge of a branch that put rev.tar back is TREESAME: its rewrite is never walked
    assert c["rev_rewrite"] not in found
    assert set(found) == {
        c[k] for k in ("big", "from_link", "chmod", "dir", "side_rewrite", "main")
    }


def test_one_commit_reached_from_two_gitcommits_is_reported_once(
    v2: GitServer, tars: TarRepos
) -> None:
    url = v2.repo_url("tars.git")
    c = tars.c
    checks = [HistoryCheck(url, "main", c["main"]), HistoryCheck(url, "other", c["other"])]
    with checker(v2) as history:
        report = history.check(checks)
    first = min(c["main"], c["other"])  # jq's unique sorts by GitCommit first
    holders = [o.check.commit for o in report.offending if o.commit == c["big"]]
    assert holders == [first]
    assert [o.commit for o in report.offending].count(c["big"]) == 1


def test_gitattributes_at_the_commit(v2: GitServer, tars: TarRepos) -> None:
    url = v2.repo_url("attrs.git")
    top = tars.a["rewrite"]
    with checker(v2, gitattributes=True) as history:
        report = history.check([HistoryCheck(url, "main", top)])
    assert report.complete
    expected = oracle(tars.root / "attrs.git", [top], work_tree=tars.attrs_work)
    assert as_oracle(report.offending) == expected
    files = {f.path for o in report.offending for f in o.files}
    # -diff from the root; a macro of the root file used in sub/; "binary" on text
    assert {"plain.tar", "sub/deep/data.tar.txt", "macro.tar.md"} <= files
    # "diff" set at the root (later line) and in keep/ (deeper file): text
    assert "forced-text.tar" not in files and "keep/a.tar" not in files
    assert "notext.tar.txt" not in files  # -text alone changes nothing


def test_gitattributes_off_is_the_bare_cache(v2: GitServer, tars: TarRepos) -> None:
    url = v2.repo_url("attrs.git")
    top = tars.a["rewrite"]
    with checker(v2) as history:
        report = history.check([HistoryCheck(url, "main", top)])
    assert as_oracle(report.offending) == oracle(tars.root / "attrs.git", [top])


def test_costs_and_cache(v2: GitServer, tars: TarRepos) -> None:
    url = v2.repo_url("tars.git")
    cache = MemoryValueCache()
    with checker(v2, cache=cache) as history:
        history.check([HistoryCheck(url, "main", tars.c["main"])])
        first = history.stats.requests
        received = history.stats.bytes_received
        history.check([HistoryCheck(url, "main", tars.c["main"])])
        assert history.stats.requests == first  # cached: no request at all
    # advertisement, history, object-info, then a head per large candidate (and old sides)
    assert first <= 3 + 2 * 12
    assert received < 512 * 1024  # the history's tarballs are tens of MiB
    with checker(v2, cache=cache) as other:  # a shared cache
        other.check([HistoryCheck(url, "main", tars.c["main"])])
        assert other.stats.requests == 0


def test_object_head_reads_a_few_kilobytes_of_a_large_blob(v2: GitServer, tars: TarRepos) -> None:
    blob = run_git("rev-parse", f"{tars.c['main']}:big.tar", cwd=tars.work)
    policy = UrlPolicy([v2.host_port])
    location, address = policy.check(v2.repo_url("tars.git"))
    transport = Transport(
        credentials=None, connect_timeout=2, read_timeout=10, retries=1, pool_size=1
    )
    limits = RunLimits(budget_seconds=30, max_requests=10, max_response_bytes=1024 * 1024)
    repo = UpstreamRepo(transport, limits, location, address, policy.check)
    _ = repo.advertisement
    before = transport.stats.bytes_received
    head = repo.object_head(blob, 8000)
    assert (head.type, head.size) == (3, 6 * MIB)
    assert head.head == run_git_bytes(tars.work, "cat-file", "blob", blob)[:8000]
    # what is read ends with the side-band packet in which the head inflates: git relays the
    # pack in packets of up to 65,520 bytes, fuller when the server is ahead of us (a loaded
    # machine), so two packets and a piece of the stream at most, not the 6 MiB blob
    assert transport.stats.bytes_received - before < 2 * 65_520 + 8 * 1024
    transport.close()


def run_git_bytes(cwd: Path, *args: str) -> bytes:
    return subprocess.run(
        [GIT, *args], cwd=cwd, env=git_env(), check=True, capture_output=True
    ).stdout


def test_missing_commit_forbidden_url_and_unreachable(tars: TarRepos) -> None:
    with serve_git(tars.root) as server:
        url = server.repo_url("tars.git")
        with checker(server) as history:
            missing = history.history(HistoryCheck(url, "main", "1" * 40))
            short = history.history(HistoryCheck(url, "main", "abc"))
        assert missing.status is HistoryStatus.COMMIT_MISSING  # type: ignore[union-attr]
        assert short.status is HistoryStatus.COMMIT_MISSING  # type: ignore[union-attr]
        with HistoryChecker(UrlPolicy()) as strict:
            refused = strict.check([HistoryCheck(url, "main", tars.c["main"])])
            assert strict.stats.requests == 0
        outcome = next(iter(refused.outcomes.values()))
        assert outcome.status is HistoryStatus.FORBIDDEN and not refused.complete
    with serve_git(tars.root, fail_every=1) as broken:
        url = broken.repo_url("tars.git")
        with checker(broken, retries=1) as history:
            report = history.check([HistoryCheck(url, "main", tars.c["main"])])
        outcome = next(iter(report.outcomes.values()))
        assert outcome.status is HistoryStatus.UNREACHABLE and "503" in outcome.detail
        assert report.offending == () and not report.complete


def _equal_dates_repo(root: Path) -> tuple[Path, list[str]]:
    """Every commit at the same second (git's queue keeps insertion order then), two
    branches rewriting tarballs, merged both ways."""
    from gitserver import commit_all

    from .tar_repos import binary

    work = root / "eq"
    run_git("init", "-q", "-b", "main", work)
    (work / "a.tar").write_bytes(binary(50, 3 * MIB))
    (work / "b.tar").write_bytes(binary(51, 3 * MIB))
    tops = [commit_all(work, "root")]
    run_git("checkout", "-q", "-b", "left", cwd=work)
    for seed in (52, 53):
        (work / "a.tar").write_bytes(binary(seed, 3 * MIB))
        tops.append(commit_all(work, f"left {seed}"))
    run_git("checkout", "-q", "main", cwd=work)
    for seed in (54, 55):
        (work / "b.tar").write_bytes(binary(seed, 4 * MIB))
        tops.append(commit_all(work, f"main {seed}"))
    run_git("merge", "-q", "--no-ff", "-m", "merge left", "left", cwd=work)
    tops.append(run_git("rev-parse", "HEAD", cwd=work))
    (work / "a.tar").write_bytes(binary(56, 5 * MIB))
    tops.append(commit_all(work, "after merge"))
    served = root / "served"
    run_git("clone", "-q", "--bare", "--no-local", work, served / "eq.git")
    return served, tops


def test_listed_order_is_git_logs_even_with_equal_dates(tmp_path: Path, tars: TarRepos) -> None:
    served, tops = _equal_dates_repo(tmp_path)
    for root, name, commits in (
        (served, "eq.git", tops),
        (tars.root, "tars.git", list(tars.c.values())),
    ):
        with serve_git(root) as server, checker(server) as history:
            url = server.repo_url(name)
            for top in dict.fromkeys(commits):
                listed = history.history(HistoryCheck(url, "main", top))
                expected = run_git(
                    "--git-dir", root / name, "log", "--diff-filter=DMT", "--format=%H", top,
                    "--", "**.tar**",
                ).split()  # fmt: skip
                assert list(listed.commits) == expected, top  # type: ignore[union-attr]
            report = history.check(HistoryCheck(url, "x", top) for top in commits)
            assert as_oracle(report.offending) == oracle(root / name, sorted(set(commits)))


def test_gitcommits_of_one_repository_share_one_advertisement_and_history(
    v2: GitServer, tars: TarRepos
) -> None:
    url = v2.repo_url("tars.git")
    c = tars.c
    with checker(v2) as alone:
        alone.check([HistoryCheck(url, "main", c["main"])])
        single = alone.stats.requests
    tops = [c["main"], c["big"], c["under"], c["dir"], c["side_add"]]  # ancestors of main
    v2.reset_counters()
    with checker(v2) as history:
        report = history.check(HistoryCheck(url, "main", top) for top in tops)
        several = history.stats.requests
    assert v2.paths.count("/tars.git/info/refs") == 1
    # a history fetch only for a GitCommit outside every history fetched before it
    # (and then with those as haves), perhaps an object-info for its new blobs; blob
    # heads are never asked twice
    ordered = sorted(tops)
    fetches = sum(
        not any(
            subprocess.run(
                [GIT, "merge-base", "--is-ancestor", top, earlier], cwd=tars.work, env=git_env()
            ).returncode
            == 0
            for earlier in ordered[:index]
        )
        for index, top in enumerate(ordered)
    )
    assert fetches >= 1
    assert several <= single + 2 * (fetches - 1)
    assert as_oracle(report.offending) == oracle(tars.root / "tars.git", sorted(tops))
