"""GitManifestSource against real git http-backend, in every protocol/filter mode."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gitserver import GitServer, GitServers, run_git
from manifest_validation.repository import (
    GitManifestSource,
    ManifestSource,
    SourceError,
    SourceUnavailable,
)
from manifest_validation.repository import git as git_module
from manifest_validation.upstream import UrlPolicy
from manifest_validation.upstream.pktline import NotOurRef

from .conftest import DEBIAN, EXEC, HELLO, PYTHON_V1, PYTHON_V2, Corpus, MakeSource, Manifests

C1_LISTING = ["debian", "exec", "hello-world", "python"]
C2_LISTING = ["exec", "hello-world", "python"]
NOT_MANIFESTS = ["sub", "sub/x", "link", ".foo", "submod", "nope", "../README.md", ""]


def test_is_a_manifest_source(server_v2: GitServer, make_source: MakeSource) -> None:
    source = make_source(server_v2)
    assert isinstance(source, ManifestSource)
    assert source.describe() == server_v2.repo_url("manifests.git")


# -- resolve -----------------------------------------------------------------------------


def test_resolve_short_and_full_names(
    server: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    source = make_source(server)
    assert source.resolve("master") == manifests.c2
    assert source.resolve("refs/heads/master") == manifests.c2
    assert source.resolve("HEAD") == manifests.c2
    assert source.resolve("refs/tags/v1") == manifests.c1  # annotated tag: peeled


@pytest.mark.parametrize("branch", ["main", "maste", "refs/heads/maste", "v1", "refs/heads"])
def test_resolve_missing_branch_is_permanent(
    server: GitServer, make_source: MakeSource, branch: str
) -> None:
    # ls-refs' ref-prefix is a plain string prefix: "maste" must not match "master".
    with pytest.raises(SourceError) as info:
        make_source(server).resolve(branch)
    assert not isinstance(info.value, SourceUnavailable)


@pytest.mark.parametrize("branch", ["", "master\n0000", "a b", "../x", "x..y", "ref^{}"])
def test_resolve_refuses_bad_names_without_a_request(
    server_v2: GitServer, make_source: MakeSource, branch: str
) -> None:
    source = make_source(server_v2)
    before = source.stats.requests
    with pytest.raises(SourceError):
        source.resolve(branch)
    assert source.stats.requests == before


@pytest.mark.slow
def test_resolve_sees_new_commits(
    tmp_path: Path, manifests: Manifests, git_server: GitServers
) -> None:
    """resolve re-reads the refs every time (a v0 advertisement carries them, so the
    cached one must not be reused), while listings of old commits stay cached."""
    served = tmp_path / "served"
    original = manifests.root / "manifests.git"
    run_git("clone", "-q", "--bare", "--no-local", original, served / "manifests.git")
    git_dir = served / "manifests.git"
    for mode in ("v2", "v0"):
        run_git("--git-dir", git_dir, "update-ref", "refs/heads/master", manifests.c2)
        srv = git_server(served, mode)
        source = GitManifestSource(srv.repo_url("manifests.git"), policy=UrlPolicy([srv.host_port]))
        assert source.resolve("master") == manifests.c2
        assert source.list_manifests(manifests.c2) == C2_LISTING
        run_git("--git-dir", git_dir, "update-ref", "refs/heads/master", manifests.c1)
        assert source.resolve("master") == manifests.c1
        before = source.stats.requests
        assert source.list_manifests(manifests.c2) == C2_LISTING
        assert source.stats.requests == before
        source.close()


# -- list and read -------------------------------------------------------------------------


def test_list_at_each_commit(
    server: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    source = make_source(server)
    assert source.list_manifests(manifests.c1) == C1_LISTING
    assert source.list_manifests(manifests.c2) == C2_LISTING
    assert source.list_manifests(manifests.c1.upper()) == C1_LISTING


def test_read_exact_bytes_and_omits_the_rest(
    server: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    source = make_source(server)
    wanted = [*C1_LISTING, *NOT_MANIFESTS]
    assert source.read(manifests.c1, wanted) == {
        "debian": DEBIAN,
        "exec": EXEC,
        "hello-world": HELLO,
        "python": PYTHON_V1,
    }
    # At c2 python changed and debian was deleted.
    assert source.read(manifests.c2, wanted) == {
        "exec": EXEC,
        "hello-world": HELLO,
        "python": PYTHON_V2,
    }
    assert source.read(manifests.c2, ["debian"]) == {}
    assert source.read(manifests.c2, []) == {}


def test_read_without_listing_first_and_duplicates(
    server: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    source = make_source(server)
    assert source.read(manifests.c1, ["python", "python", "debian"]) == {
        "python": PYTHON_V1,
        "debian": DEBIAN,
    }


def test_read_refuses_a_bare_string(server_v2: GitServer, make_source: MakeSource) -> None:
    with pytest.raises(TypeError):
        make_source(server_v2).read("0" * 40, "python")


def test_listing_and_blobs_are_cached(
    server_v2: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    source = make_source(server_v2)
    source.read(manifests.c1, ["python", "hello-world"])
    before = source.stats.requests
    assert source.list_manifests(manifests.c1) == C1_LISTING
    assert source.read(manifests.c1, ["python"]) == {"python": PYTHON_V1}
    # hello-world is unchanged at c2: only the new listing is fetched, not its blob.
    assert source.read(manifests.c2, ["hello-world"]) == {"hello-world": HELLO}
    assert source.stats.requests == before + 1


def test_request_counts_v2(
    server_v2: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    source = make_source(server_v2)
    server_v2.reset_counters()
    commit = source.resolve("master")
    assert server_v2.requests == 2  # advertisement + ls-refs
    source.read(commit, source.list_manifests(commit))
    assert server_v2.requests == 4  # + trees fetch + one blobs fetch
    assert server_v2.paths[1:] == ["/manifests.git/git-upload-pack"] * 3


def test_blobs_fall_back_to_a_full_snapshot_when_wants_are_refused(
    server_v2: GitServer,
    manifests: Manifests,
    make_source: MakeSource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server serving only ref tips refuses blob wants ("not our ref"); the source
    then fetches the whole depth-1 snapshot of the commit instead."""
    original = git_module._Repo.fetch_objects

    def refuse_blobs(
        self: git_module._Repo, wants: list[str], *, shallow: bool, omit_blobs: bool
    ) -> object:
        if not shallow:
            raise NotOurRef("upload-pack: not our ref (simulated)")
        return original(self, wants, shallow=shallow, omit_blobs=omit_blobs)

    monkeypatch.setattr(git_module._Repo, "fetch_objects", refuse_blobs)
    source = make_source(server_v2)
    assert source.read(manifests.c1, ["python", "debian"]) == {
        "python": PYTHON_V1,
        "debian": DEBIAN,
    }


# -- missing commits ---------------------------------------------------------------------------


def test_unknown_commit_is_permanent(server: GitServer, make_source: MakeSource) -> None:
    source = make_source(server)
    for call in (
        lambda: source.list_manifests("1" * 40),
        lambda: source.read("1" * 40, ["python"]),
    ):
        with pytest.raises(SourceError) as info:
            call()
        assert not isinstance(info.value, SourceUnavailable)


def test_non_commit_object_is_permanent(
    server_v2: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    tree = run_git("--git-dir", manifests.root / "manifests.git", "rev-parse", "master^{tree}")
    with pytest.raises(SourceError) as info:
        make_source(server_v2).list_manifests(tree)
    assert not isinstance(info.value, SourceUnavailable)


@pytest.mark.parametrize("commit", ["master", "abc", "g" * 40, "1" * 41, "1" * 64])
def test_malformed_commit_ids_are_refused(
    server_v2: GitServer, make_source: MakeSource, commit: str
) -> None:
    # 64 hex digits are a well-formed id, but not in this sha1 repository.
    with pytest.raises(SourceError):
        make_source(server_v2).list_manifests(commit)


# -- policy and failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "{base}/manifests.git",  # plain http, host not trusted
        "https://127.0.0.1/manifests.git",  # loopback is not public
        "https://169.254.169.254/latest",  # cloud metadata
        "https://user:pw@example.com/manifests.git",  # credentials in the URL
        "file:///etc/passwd",
    ],
)
def test_forbidden_url_is_refused_before_any_request(server_v2: GitServer, url: str) -> None:
    server_v2.reset_counters()
    with pytest.raises(SourceError) as info:
        GitManifestSource(url.format(base=server_v2.base_url), policy=UrlPolicy())
    assert not isinstance(info.value, SourceUnavailable)
    assert "pw" not in str(info.value)
    assert server_v2.requests == 0


def test_closed_port_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections refused
        source = GitManifestSource(
            f"http://127.0.0.1:{port}/manifests.git",
            policy=UrlPolicy([f"127.0.0.1:{port}"]),
            retries=1,
            connect_timeout=1,
        )
        with pytest.raises(SourceUnavailable):
            source.resolve("master")
        with pytest.raises(SourceUnavailable):
            source.list_manifests("1" * 40)
        source.close()


@pytest.mark.slow
def test_transient_503s_are_retried(
    manifests: Manifests, make_source: MakeSource, git_server: GitServers
) -> None:
    source = make_source(git_server(manifests.root, fail_every=3))
    commit = source.resolve("master")
    assert commit == manifests.c2
    assert source.read(commit, [*C2_LISTING, "debian"]) == {
        "exec": EXEC,
        "hello-world": HELLO,
        "python": PYTHON_V2,
    }
    assert source.read(manifests.c1, ["debian"]) == {"debian": DEBIAN}
    assert source.stats.retries >= 1


@pytest.mark.slow
def test_truncated_responses_are_retried(
    manifests: Manifests, make_source: MakeSource, git_server: GitServers
) -> None:
    source = make_source(git_server(manifests.root, drop_every=2))
    assert source.read(manifests.c1, ["python"]) == {"python": PYTHON_V1}
    assert source.stats.retries >= 1


@pytest.mark.slow
def test_persistent_5xx_is_transient(
    manifests: Manifests, make_source: MakeSource, git_server: GitServers
) -> None:
    source = make_source(git_server(manifests.root, fail_every=1), retries=1)
    with pytest.raises(SourceUnavailable):
        source.resolve("master")


def test_response_size_cap_is_permanent(
    server_v2: GitServer, manifests: Manifests, make_source: MakeSource
) -> None:
    """A response over max_response_bytes will be as large next time: not transient."""
    source = make_source(server_v2, max_response_bytes=1024)
    with pytest.raises(SourceError) as info:
        source.read(manifests.c1, ["python"])  # the python blob alone is ~9 KB
    assert not isinstance(info.value, SourceUnavailable)
    assert "max_response_bytes" in str(info.value)


def test_credentials_are_sent_to_the_repository_host_only(
    server_v2: GitServer, make_source: MakeSource
) -> None:
    source = make_source(server_v2, credentials="user:secret")
    server_v2.reset_counters()
    source.resolve("master")
    assert all(h.get("Authorization", "").startswith("Basic ") for h in server_v2.headers)
    assert "secret" not in source.describe()


# -- the real library ------------------------------------------------------------------------------


@pytest.mark.slow
def test_reads_the_real_library_cheaply(
    corpus_repo: Corpus, make_source: MakeSource, git_server: GitServers
) -> None:
    srv = git_server(corpus_repo.root)
    source = make_source(srv, "official.git")
    commit = source.resolve("master")
    names = source.list_manifests(commit)
    files = source.read(commit, names)
    requests, sent = srv.requests, srv.bytes_sent
    srv.reset_counters()
    run_git("clone", "-q", "--bare", srv.repo_url("official.git"), corpus_repo.root / "clone")
    full_clone = srv.bytes_sent
    assert commit == corpus_repo.tip
    assert len(names) == len(corpus_repo.files) == 144
    assert files == corpus_repo.files
    assert requests <= 6
    assert sent * 4 < full_clone
    print(f"\n144 files: {requests} requests, {sent} bytes; full clone {full_clone} bytes")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["v2-nofilter", "v0", "v0-nofilter"])
def test_real_library_in_other_modes(
    corpus_repo: Corpus, make_source: MakeSource, mode: str, git_server: GitServers
) -> None:
    srv = git_server(corpus_repo.root, mode)
    source = make_source(srv, "official.git")
    commit = source.resolve("refs/heads/master")
    assert source.read(commit, source.list_manifests(commit)) == corpus_repo.files
    assert srv.requests <= 6
