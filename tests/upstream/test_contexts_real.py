"""Every source of meta's real ``sources.json`` slice (../shared/upstream): the
checksum, SOURCE_DATE_EPOCH and sourceId that bashbrew computed from full clones,
here from the objects of one GitVerifier.read per server (Dockerfiles read in the
same call), with the five upstream repositories served by real ``git http-backend``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitserver import GitServer, serve_git
from manifest_validation.upstream import (
    ContextRequest,
    ContextStatus,
    FileRequest,
    FileStatus,
    source_id,
)

from .conftest import MakeVerifier
from .real_upstream import (
    SHARED_NAME,
    SHARED_UPSTREAM,
    RealSource,
    clone_bundles,
    load_sources,
)

# Reads the real data beside the project (../shared): skipped, naming the path, without it.
pytestmark = pytest.mark.shared

SERVER_KINDS = {"v2": {}, "v0-nofilter": {"protocol_v2": False, "allow_filter": False}}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SHARED_UPSTREAM / "sources.json").is_file():
        pytest.skip(f"the real upstream slice is not beside the project ({SHARED_NAME} absent)")
    root = tmp_path_factory.mktemp("real-upstream")
    clone_bundles(root)
    return root


@pytest.fixture(scope="module", params=sorted(SERVER_KINDS))
def real_server(request: pytest.FixtureRequest, served: Path) -> Iterator[GitServer]:
    with serve_git(served, **SERVER_KINDS[request.param]) as server:
        yield server


def test_the_slice_is_what_the_readme_says() -> None:
    if not (SHARED_UPSTREAM / "sources.json").is_file():
        pytest.skip(f"the real upstream slice is not beside the project ({SHARED_NAME} absent)")
    sources = load_sources()
    assert len(sources) == 60
    # (hello-world's default GitCommit is overridden for every architecture it builds)
    assert len({(s.repo, s.commit) for s in sources}) == 11
    assert Counter(s.repo for s in sources) == {
        "docker-library/golang.git": 16,
        "nginxinc/docker-nginx.git": 14,
        "docker-library/hello-world.git": 12,
        "MariaDB/mariadb-docker.git": 12,
        "caddyserver/caddy-docker.git": 6,
    }


def test_every_real_source_checksum_epoch_and_id(
    real_server: GitServer, make_verifier: MakeVerifier
) -> None:
    sources = load_sources()
    verifier = make_verifier(real_server)
    contexts: dict[RealSource, ContextRequest] = {}
    files: dict[RealSource, FileRequest] = {}
    for source in sources:
        url = real_server.repo_url(source.repo)
        contexts[source] = ContextRequest(url, source.commit, source.directory)
        path = source.file if source.directory == "." else f"{source.directory}/{source.file}"
        files[source] = FileRequest(url, source.commit, path)
    real_server.reset_counters()
    reading = verifier.read(files=files.values(), contexts=contexts.values())
    wrong = []
    for source in sources:
        result = reading.contexts[contexts[source]]
        assert result.status is ContextStatus.OK, (source, result.detail)
        got = (
            result.checksum,
            result.source_date_epoch,
            source_id(result.checksum or "", source.file, source.builder),
        )
        if got != (source.checksum, source.epoch, source.source_id):
            wrong.append((source, got))
        dockerfile = reading.files[files[source]]
        assert dockerfile.status is FileStatus.FOUND and b"FROM " in (dockerfile.content or b"")
    assert wrong == []
    # Per repository (and its set of commits): advertisement, trees, blobs at most.
    per_repo = Counter("/".join(path.split("/")[1:3]) for path in real_server.paths)
    assert set(per_repo) == {s.repo for s in sources}
    assert max(per_repo.values()) <= 3, per_repo
