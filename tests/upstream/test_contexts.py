"""Build contexts through GitVerifier.read against real ``git http-backend``: the
checksum equal to an independent oracle (the git CLI walks the tree, ``tarfile``
lays out the headers: ``tar_oracle.py``), SOURCE_DATE_EPOCH equal to git's own dates,
every status, the byte bound, the requests shared with Dockerfile reads, caching, and
network trouble that is UNREACHABLE, never a verdict."""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitserver import GIT, GitServer, git_env, serve_git
from manifest_validation.upstream import (
    ContextRequest,
    ContextResult,
    ContextStatus,
    FileRequest,
    FileStatus,
    GitVerifier,
    UrlPolicy,
    source_id,
)

from .conftest import MakeVerifier
from .context_repos import BIG_SIZE, LONG_FILE, PAX_NAME, ContextRepos, build_context_repos
from .tar_oracle import header

SERVER_KINDS = {
    "v2": {},
    "v0": {"protocol_v2": False},
    "v2-nofilter": {"allow_filter": False},
    "v0-nofilter": {"protocol_v2": False, "allow_filter": False},
}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ContextRepos:
    return build_context_repos(tmp_path_factory)


@pytest.fixture(scope="module", params=sorted(SERVER_KINDS))
def any_server(request: pytest.FixtureRequest, ctx: ContextRepos) -> Iterator[GitServer]:
    with serve_git(ctx.root, **SERVER_KINDS[request.param]) as server:
        yield server


@pytest.fixture(scope="module")
def server(ctx: ContextRepos) -> Iterator[GitServer]:
    with serve_git(ctx.root) as srv:
        yield srv


# -- the oracle ------------------------------------------------------------------------------


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(
        [GIT, "--git-dir", str(git_dir), *args], env=git_env(), check=True, capture_output=True
    ).stdout


def oracle_stream(git_dir: Path, commit: str, directory: str) -> tuple[bytes, int, int]:
    """(tar stream, size, entries) of the context as bashbrew describes it, from the
    git CLI's view of the tree and ``tarfile``'s headers: each directory's entries
    sorted by name as bytes, depth first, the context's root left out, no end blocks."""
    spec = f"{commit}^{{tree}}" if directory == "." else f"{commit}:{directory}"
    stream: list[bytes] = []
    size = entries = 0

    def walk(tree: str, prefix: bytes) -> None:
        nonlocal size, entries
        listing = [line for line in _git(git_dir, "ls-tree", "-z", tree).split(b"\0") if line]
        children = []
        for line in listing:
            meta, name = line.split(b"\t", 1)
            mode, _kind, oid = meta.split()
            children.append((name, mode, oid.decode()))
        for name, mode, oid in sorted(children):
            path = prefix + name
            entries += 1
            if mode == b"040000":
                stream.append(header(path + b"/", b"5", 0o775))
                walk(oid, path + b"/")
                continue
            data = _git(git_dir, "cat-file", "blob", oid)
            size += len(data)
            if mode == b"120000":
                stream.append(header(path, b"2", 0o777, 0, data))
                continue
            assert mode in (b"100644", b"100755"), mode
            perm = 0o775 if mode == b"100755" else 0o664
            stream.append(header(path, b"0", perm, len(data)) + data + b"\0" * (-len(data) % 512))

    walk(_git(git_dir, "rev-parse", spec).decode().strip(), b"")
    return b"".join(stream), size, entries


def expected(git_dir: Path, commit: str, directory: str) -> tuple[str, int, int]:
    """(checksum, size, entries) by the oracle."""
    stream, size, entries = oracle_stream(git_dir, commit, directory)
    return hashlib.sha256(stream).hexdigest(), size, entries


def git_epoch(git_dir: Path, commit: str) -> int:
    author, committer = _git(git_dir, "show", "-s", "--format=%at %ct", commit).split()
    return max(int(author), int(committer))


def context(server: GitServer, commit: str, directory: str, **kw: int) -> ContextRequest:
    return ContextRequest(server.repo_url("contexts.git"), commit, directory, **kw)


def assert_ok(result: ContextResult, ctx: ContextRepos, commit: str, directory: str) -> None:
    checksum, size, entries = expected(ctx.git_dir, commit, directory)
    assert result.status is ContextStatus.OK, result.detail
    assert (result.checksum, result.size, result.entries) == (checksum, size, entries)
    assert result.source_date_epoch == git_epoch(ctx.git_dir, commit)


# -- checksums -----------------------------------------------------------------------------


def test_a_context_of_every_entry_kind_equals_the_oracle_on_every_server(
    any_server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(any_server)
    wanted = [context(any_server, ctx.c1, d) for d in ("app", "app/sub", "app/only", "big")]
    any_server.reset_counters()
    results = verifier.read_contexts(wanted)
    for request in wanted:
        assert_ok(results[request], ctx, ctx.c1, request.directory)
    # advertisement, trees, blobs; without filters the trees fetch is a snapshot
    # that holds the blobs too.
    filters = any_server.paths.count("/contexts.git/git-upload-pack") == 2
    assert any_server.requests == (3 if filters else 2)


def test_the_oracle_stream_holds_what_the_fixture_promises(ctx: ContextRepos) -> None:
    """The oracle's stream for app/, read back by ``tarfile``: the ustar prefix split,
    PAX names (long, not ASCII) and link, symbolic links, the executable bit, and
    bashbrew's order (by name as bytes: ``sub`` before ``sub-x``, where git's tree
    order, comparing ``sub/``, puts it after ``sub.txt``)."""
    stream, _size, _entries = oracle_stream(ctx.git_dir, ctx.c1, "app")
    with tarfile.open(fileobj=io.BytesIO(stream + b"\0" * 1024), mode="r:") as archive:
        members = {m.name: m for m in archive.getmembers()}
    names = list(members)
    assert names.index("sub") < names.index("sub-x") < names.index("sub.txt")
    assert names.index("Zebra") < names.index("caf\u00e9.txt") < names.index("dirlink")
    assert names[0] == ".dockerignore"
    assert f"{LONG_FILE}" in members and PAX_NAME in members and "caf\u00e9.txt" in members
    assert "only" in members and "only/sub" in members and members["only"].isdir()
    assert members["run.sh"].mode == 0o775 and members["Dockerfile"].mode == 0o664
    assert members["longlink"].issym() and members["longlink"].linkname == "t" * 120
    assert members["link"].linkname == "Dockerfile" and members["dirlink"].linkname == "sub"
    assert members["sub"].mode == 0o775 and members["link"].mode == 0o777
    assert b"PaxHeaders.0/" + PAX_NAME.encode()[:80] in stream


def test_source_date_epoch_is_the_later_of_author_and_committer(
    server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    first, second = context(server, ctx.c1, "app"), context(server, ctx.c2, "app")
    results = verifier.read_contexts([first, second])
    assert results[first].source_date_epoch == 1614834367  # authored 2021-03-04T05:06:07Z
    assert results[second].source_date_epoch == 1643767322  # committed 2022-02-02T02:02:02Z
    assert results[first].source_date_epoch == git_epoch(ctx.git_dir, ctx.c1)
    assert results[second].source_date_epoch == git_epoch(ctx.git_dir, ctx.c2)


def test_source_id_is_metas() -> None:
    checksum = "6393efb3d30af37fccc3bc890c2d545f183078dd22f8c89e9435225895f7bfd5"
    text = checksum.encode() + b"\nDockerfile\nbuildkit\n"
    assert source_id(checksum, "Dockerfile", "buildkit") == hashlib.sha256(text).hexdigest()
    assert source_id(checksum, "Dockerfile", "") != source_id(checksum, "Dockerfile", "buildkit")


# -- statuses ----------------------------------------------------------------------------------

PROBLEMS = [
    # directory, status, path, reason in the detail
    ("nope", ContextStatus.DIRECTORY_MISSING, "nope", "the top directory has no 'nope'"),
    ("app/nope", ContextStatus.DIRECTORY_MISSING, "app/nope", "app has no 'nope'"),
    ("README.md", ContextStatus.DIRECTORY_MISSING, "README.md", "README.md is a file, not a"),
    ("README.md/x", ContextStatus.DIRECTORY_MISSING, "README.md", "README.md is a file, not a"),
    ("app/link", ContextStatus.DIRECTORY_MISSING, "app/Dockerfile", "app/Dockerfile is a file"),
    ("tofile", ContextStatus.DIRECTORY_MISSING, "README.md", "README.md is a file"),
    ("latest/sub", ContextStatus.DIRECTORY_MISSING, "latest", "latest is a symbolic link, not"),
    ("../app", ContextStatus.DIRECTORY_MISSING, "../app", "not a directory path inside"),
    ("/app", ContextStatus.DIRECTORY_MISSING, "/app", "not a directory path inside"),
    ("app//sub", ContextStatus.DIRECTORY_MISSING, "app//sub", "not a directory path inside"),
    ("withsub", ContextStatus.SUBMODULE, "withsub/vendor/mod", "withsub/vendor/mod is a submo"),
    ("withsub/vendor/mod", ContextStatus.SUBMODULE, "withsub/vendor/mod", "is a submodule"),
    ("legacy", ContextStatus.UNSUPPORTED, "legacy/f", "legacy/f has git mode 100664"),
    ("emptylink", ContextStatus.UNSUPPORTED, "emptylink/l", "l: an empty symbolic link"),
    ("emptylink/l", ContextStatus.UNSUPPORTED, "emptylink/l", "is an empty symbolic link"),
    ("loop1", ContextStatus.UNSUPPORTED, "loop1", "more than 40 symbolic links lead to"),
    ("escape", ContextStatus.UNSUPPORTED, "escape", "a symbolic link out of the repository"),
    # the whole repository: its first problem in walk order that the trees show
    (".", ContextStatus.UNSUPPORTED, "legacy/f", "legacy/f has git mode 100664"),
]


def test_every_status_in_one_call_on_every_server(
    any_server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(any_server)
    problems = {context(any_server, ctx.c1, d): (s, p, why) for d, s, p, why in PROBLEMS}
    followed = [context(any_server, ctx.c1, d) for d in ("latest", "nested/up", "app/dirlink")]
    a_tree = _git(ctx.git_dir, "rev-parse", f"{ctx.c1}^{{tree}}").decode().strip()
    missing = [
        context(any_server, "1" * 40, "app"),
        context(any_server, "abc", "app"),
        context(any_server, a_tree, "app"),  # an object, but not a commit
    ]
    results = verifier.read_contexts([*problems, *followed, *missing])
    for request, (status, path, why) in problems.items():
        result = results[request]
        assert (result.status, result.path) == (status, path), (request.directory, result)
        assert why in result.detail, (request.directory, result.detail)
        assert result.checksum is None
        if request.directory not in ("../app", "/app", "app//sub"):
            assert result.source_date_epoch == git_epoch(ctx.git_dir, ctx.c1)
    # Directory symbolic links are followed as bashbrew does: the context is the target.
    app, _size, _entries = expected(ctx.git_dir, ctx.c1, "app")
    sub, _size, _entries = expected(ctx.git_dir, ctx.c1, "app/sub")
    assert [results[r].checksum for r in followed] == [app, app, sub]
    assert "(via app)" in results[followed[0]].detail
    for request in missing:
        assert results[request].status is ContextStatus.COMMIT_MISSING, results[request]
        assert results[request].checksum is None
    assert "names a tree" in results[missing[2]].detail


def test_a_forbidden_url_is_never_contacted(make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(policy=UrlPolicy())
    request = ContextRequest("http://127.0.0.1:9/x.git", "1" * 40, ".")
    result = verifier.read_contexts([request])[request]
    assert result.status is ContextStatus.FORBIDDEN
    assert verifier.stats.requests == 0


# -- sharing and requests -------------------------------------------------------------------


def test_dockerfiles_and_contexts_of_two_commits_take_three_requests(
    server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    files = [
        FileRequest(server.repo_url("contexts.git"), commit, f"{d}/Dockerfile")
        for commit in (ctx.c1, ctx.c2)
        for d in ("app", "big", "withsub")
    ]
    contexts = [context(server, commit, d) for commit in (ctx.c1, ctx.c2) for d in ("app", "big")]
    contexts.append(context(server, ctx.c1, "withsub"))
    server.reset_counters()
    reading = verifier.read(files=files, contexts=contexts)
    assert server.paths == ["/contexts.git/info/refs"] + ["/contexts.git/git-upload-pack"] * 2
    for request in files:
        assert reading.files[request].status is FileStatus.FOUND
        assert reading.files[request].content == _git(
            ctx.git_dir, "show", f"{request.commit}:{request.path}"
        )
    for request in contexts[:-1]:
        assert_ok(reading.contexts[request], ctx, request.commit, request.directory)
    assert reading.contexts[contexts[-1]].status is ContextStatus.SUBMODULE
    assert list(reading.contexts) == contexts  # every request, in order


def test_cached_contexts_cost_nothing_and_a_known_tree_needs_no_blobs(
    server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    first = context(server, ctx.c1, "app")
    checksum = verifier.read_contexts([first])[first].checksum
    server.reset_counters()
    assert verifier.read_contexts([first])[first].checksum == checksum
    assert server.requests == 0
    # app/ is the same tree at c2: the trees fetch shows it, no blob is fetched again
    second = context(server, ctx.c2, "app")
    result = verifier.read_contexts([second])[second]
    assert result.checksum == checksum and result.source_date_epoch == 1643767322
    assert server.paths == ["/contexts.git/git-upload-pack"]


def test_a_symbolic_link_directory_costs_one_request_per_link(
    server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    request = context(server, ctx.c1, "latest")
    server.reset_counters()
    result = verifier.read_contexts([request])[request]
    assert_ok(result, ctx, ctx.c1, "app")
    assert server.requests == 4  # advertisement, trees, the link's text, the blobs


# -- the byte bound ------------------------------------------------------------------------------


def test_too_large_with_its_size_when_read_with_dockerfiles(
    server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    big = context(server, ctx.c1, "big", max_bytes=100_000)
    app = context(server, ctx.c1, "app")
    dockerfile = FileRequest(server.repo_url("contexts.git"), ctx.c1, "big/Dockerfile")
    server.reset_counters()
    reading = verifier.read(files=[dockerfile], contexts=[big, app])
    result = reading.contexts[big]
    _checksum, size, entries = expected(ctx.git_dir, ctx.c1, "big")
    assert size > BIG_SIZE
    assert (result.status, result.size, result.entries, result.checksum) == (
        ContextStatus.TOO_LARGE,
        size,
        entries,
        None,
    )
    assert f"holds {size} bytes, more than the bound of 100000 bytes" in result.detail
    assert result.source_date_epoch == git_epoch(ctx.git_dir, ctx.c1)
    assert_ok(reading.contexts[app], ctx, ctx.c1, "app")
    assert reading.files[dockerfile].status is FileStatus.FOUND
    assert server.requests == 3
    # the same context under a bound it fits: known size, the blobs cached
    roomy = context(server, ctx.c1, "big", max_bytes=size)
    assert_ok(verifier.read_contexts([roomy])[roomy], ctx, ctx.c1, "big")


def test_a_context_alone_stops_downloading_at_its_bound(
    server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(server)
    big = context(server, ctx.c2, "big", max_bytes=100_000)
    result = verifier.read_contexts([big])[big]
    assert result.status is ContextStatus.TOO_LARGE and result.size is None
    assert "more than the bound of 100000 bytes" in result.detail
    assert verifier.stats.bytes_received < BIG_SIZE // 2  # the blob never came


def test_past_the_response_cap_each_context_is_fetched_alone(
    server: GitServer, ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    """Two 300 KB blobs under a 250 KB response cap: the shared blob fetch is stopped,
    then the files' blobs come alone and each context alone under its own bound."""
    verifier = make_verifier(server, max_response_bytes=250_000)
    dockerfile = FileRequest(server.repo_url("contexts.git"), ctx.c1, "app/Dockerfile")
    app = context(server, ctx.c1, "app")
    roomy = context(server, ctx.c1, "big", max_bytes=1_000_000)
    tight = context(server, ctx.c2, "big", max_bytes=100_000)
    server.reset_counters()
    reading = verifier.read(files=[dockerfile], contexts=[app, roomy, tight])
    assert reading.files[dockerfile].status is FileStatus.FOUND
    assert_ok(reading.contexts[app], ctx, ctx.c1, "app")
    assert_ok(reading.contexts[roomy], ctx, ctx.c1, "big")
    assert reading.contexts[tight].status is ContextStatus.TOO_LARGE
    # advertisement, trees, the stopped blob fetch, the file's, one per context (3)
    assert server.requests == 7


# -- the network is never a verdict -------------------------------------------------------------


def test_a_failing_server_is_unreachable_never_missing(
    ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    with serve_git(ctx.root, fail_when_body_has=b"deepen") as failing:
        verifier = make_verifier(failing, retries=1)
        requests = [context(failing, ctx.c1, "app"), context(failing, "1" * 40, "app")]
        results = verifier.read_contexts(requests)
    for request in requests:
        assert results[request].status is ContextStatus.UNREACHABLE, results[request]
        assert "Could not read the build context" in results[request].detail


def test_blobs_that_fail_leave_an_unreachable_context_with_its_epoch(
    ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    # The blob fetch has no "deepen" and no "filter": fail everything past the trees.
    with serve_git(ctx.root, fail_every=3) as flaky:
        verifier = make_verifier(flaky, retries=0)
        request = context(flaky, ctx.c1, "app")
        result = verifier.read_contexts([request])[request]
    assert result.status is ContextStatus.UNREACHABLE
    assert result.source_date_epoch == git_epoch(ctx.git_dir, ctx.c1)


def test_a_closed_port_is_unreachable(ctx: ContextRepos) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    verifier = GitVerifier(
        UrlPolicy([f"127.0.0.1:{port}"]), connect_timeout=1, read_timeout=1, retries=0
    )
    with verifier:
        request = ContextRequest(f"http://127.0.0.1:{port}/contexts.git", ctx.c1, "app")
        result = verifier.read_contexts([request])[request]
    assert result.status is ContextStatus.UNREACHABLE


# -- fallbacks and hostile shapes -------------------------------------------------------------


def test_a_server_refusing_blob_wants_gets_the_snapshot_instead(
    ctx: ContextRepos, make_verifier: MakeVerifier
) -> None:
    with serve_git(ctx.root, refuse_blob_wants=True) as refusing:
        verifier = make_verifier(refusing)
        app = context(refusing, ctx.c1, "app")
        result = verifier.read_contexts([app])[app]
        assert_ok(result, ctx, ctx.c1, "app")
        # advertisement, trees, the refused blob fetch, the depth-1 snapshot
        assert refusing.requests == 4
        # A snapshot past the response cap says nothing about the context's size.
        capped = make_verifier(refusing, max_response_bytes=250_000)
        big = context(refusing, ctx.c1, "big", max_bytes=100_000)
        result = capped.read_contexts([big])[big]
        assert result.status is ContextStatus.UNREACHABLE, result
        assert "snapshot instead is too large" in result.detail


def _tree_object(entries: list[tuple[bytes, bytes, str]]) -> bytes:
    return b"".join(mode + b" " + name + b"\0" + bytes.fromhex(oid) for mode, name, oid in entries)


def test_a_context_nested_deeper_than_python_recurses(
    tmp_path: Path, make_verifier: MakeVerifier
) -> None:
    """1,100 nested directories (git 2.39 has no depth limit; Python recurses 1,000
    deep): walked with a stack, checked against the oracle (whose recursion gets the
    room it needs)."""
    import sys

    git_dir = tmp_path / "served" / "deep.git"
    subprocess.run([GIT, "init", "-q", "--bare", str(git_dir)], env=git_env(), check=True)
    blob = _git(git_dir, "hash-object", "-w", "--stdin").decode().strip()  # empty file
    layers = tmp_path / "layers"
    layers.mkdir()
    child = (b"100644", b"leaf", blob)
    paths = []
    for depth in range(1100):
        raw = _tree_object([child])
        path = layers / f"{depth}"
        path.write_bytes(raw)
        paths.append(str(path))
        oid = hashlib.sha1(b"tree %d\0" % len(raw) + raw).hexdigest()
        child = (b"40000", b"d", oid)
    written = subprocess.run(
        [GIT, "--git-dir", str(git_dir), "hash-object", "-t", "tree", "-w", "--stdin-paths"],
        input="\n".join(paths).encode(),
        env=git_env(),
        check=True,
        capture_output=True,
    ).stdout.split()
    assert written[-1].decode() == child[2]
    commit = (
        subprocess.run(
            [GIT, "--git-dir", str(git_dir), "commit-tree", child[2], "-m", "deep"],
            env=git_env(),
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        want, _size, entries = expected(git_dir, commit, ".")
    finally:
        sys.setrecursionlimit(limit)
    with serve_git(tmp_path / "served") as deep:
        verifier = make_verifier(deep)
        request = ContextRequest(deep.repo_url("deep.git"), commit, ".")
        result = verifier.read_contexts([request])[request]
    assert result.status is ContextStatus.OK, result.detail
    assert (result.checksum, result.entries) == (
        want,
        entries,
    ) and entries == 1100  # 1,099 directories and the leaf
