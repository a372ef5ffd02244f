"""`manifest-validate sources` against meta's real ``sources.json`` slice
(../shared/upstream): the five upstream repositories served by real ``git http-backend``,
the library files of official-images at the slice's commit (GitRepo pointed at the local
server) with their ``.external-pins``; every source compared with meta's, field by field,
keys and order included."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitserver import GitServer, serve_git
from manifest_validation.cli.main import main

from .real_upstream import (
    IMAGES,
    SHARED_NAME,
    SHARED_UPSTREAM,
    clone_bundles,
    local_library,
    meta_document,
)

# Reads the real data beside the project (../shared): skipped, naming the path, without it.
pytestmark = pytest.mark.shared

# what a per-architecture value holds, in sources.sh's order
ARCH_FIELDS = [
    "tags",
    "archTags",
    "froms",
    "lastStageFrom",
    "platformString",
    "platform",
    "parents",
]


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    if not (SHARED_UPSTREAM / "sources.json").is_file():
        pytest.skip(f"the real upstream slice is not beside the project ({SHARED_NAME} absent)")
    root = tmp_path_factory.mktemp("real-sources")
    clone_bundles(root)
    with serve_git(root) as server:
        yield server


@pytest.fixture(scope="module")
def library(real_server: GitServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local_library(tmp_path_factory.mktemp("official-images"), real_server.base_url)


def run_sources(
    capsys: pytest.CaptureFixture[str],
    server: GitServer,
    library: Path,
    images: list[str],
    *options: str,
) -> tuple[int, dict[str, Any], str]:
    code, text, err = run_text(capsys, server, library, images, *options)
    return code, json.loads(text), err


def run_text(
    capsys: pytest.CaptureFixture[str],
    server: GitServer,
    library: Path,
    images: list[str],
    *options: str,
) -> tuple[int, str, str]:
    argv = ["sources", "--format", "json", *options, "--insecure-host", server.host_port]
    argv += ["--library", str(library), *(str(library / image) for image in images)]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def differences(ours: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """Every field of every source that differs (empty: equal), and the fields compared."""
    found = []
    for key, expected in meta.items():
        got = ours.get(key)
        if got is None:
            found.append(f"{key}: missing")
            continue
        for name in ("sourceId", "reproducibleGitChecksum", "entries"):
            if got[name] != expected[name]:
                found.append(f"{key}.{name}: {got[name]!r} != {expected[name]!r}")
        if list(got["arches"]) != list(expected["arches"]):
            found.append(f"{key}.arches: {list(got['arches'])} != {list(expected['arches'])}")
        for arch, value in expected["arches"].items():
            for name in ARCH_FIELDS:
                mine = got["arches"].get(arch, {}).get(name)
                if mine != value[name]:
                    found.append(f"{key}.{arch}.{name}: {mine!r} != {value[name]!r}")
    found += [f"{key}: not in meta's slice" for key in ours if key not in meta]
    return found


def test_every_source_equals_metas_in_its_order(
    capsys: pytest.CaptureFixture[str], real_server: GitServer, library: Path
) -> None:
    # the five images in alphabetical order, as meta's own run gave them (its subset.txt)
    code, document, err = run_sources(capsys, real_server, library, list(IMAGES))
    meta = meta_document(real_server.base_url)
    assert code == 0, err
    # mariadb's ubi images build FROM redhat/ubi9-minimal, which official-images permits as
    # pinned in .external-pins, a review rule `check` does not know yet: sources.sh does not
    # review, so mariadb is in the document all the same, with a note
    assert all("review error" in line for line in err.splitlines()), err
    assert differences(document, meta) == []
    assert list(document) == list(meta)  # bashbrew's build order: caddy after golang
    # the same text, nested keys' order included (meta's 2-space JSON, `entries` for `entry`)
    assert json.dumps(document, indent=2) == json.dumps(meta, indent=2)
    pairs = sum(len(source["arches"]) for source in document.values())
    parents = sum(
        len(value["parents"] or {})
        for source in document.values()
        for value in source["arches"].values()
    )
    assert (len(document), pairs, parents) == (60, 225, 229)
    # the slice exercises what the README says: lastStageFrom is not the last FROM somewhere,
    # FROMs repeat, parents name sources of the slice, Windows parents are pinned
    values = [value for source in document.values() for value in source["arches"].values()]
    assert any(value["lastStageFrom"] != value["froms"][-1] for value in values)
    assert any(len(value["froms"]) > len(set(value["froms"])) for value in values)
    named = [p for v in values for p in (v["parents"] or {}).values() if p["sourceId"]]
    assert named and all(p["sourceId"] in document for p in named)
    assert sum(1 for v in values for p in (v["parents"] or {}).values() if p["pin"]) == 28


def test_the_order_given_is_the_order_bashbrew_sorts(
    capsys: pytest.CaptureFixture[str], real_server: GitServer, library: Path
) -> None:
    # `bashbrew cat --build-order` does not sort the files given by name: each pass keeps
    # their order, and only holds back caddy until golang (its parent) is out
    given = ["golang", "caddy", "nginx", "hello-world", "mariadb"]
    code, document, _ = run_sources(capsys, real_server, library, given)
    meta = meta_document(real_server.base_url)
    assert code == 0
    assert document == meta  # the same sources, every field
    image_of = {
        key: next(iter(source["arches"].values()))["tags"][0].split(":")[0]
        for key, source in meta.items()
    }
    expected = sorted(meta, key=lambda key: given.index(image_of[key]))  # stable: meta's order
    assert list(document) == expected
    # caddy given first: golang (its parent) first all the same
    code, document, _ = run_sources(capsys, real_server, library, ["caddy", "golang"])
    assert [image_of[key] for key in document] == ["golang"] * 16 + ["caddy"] * 6


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_text_is_jqs(
    capsys: pytest.CaptureFixture[str],
    real_server: GitServer,
    library: Path,
    tmp_path: Path,
) -> None:
    # what sources.sh's last `jq` prints (2 spaces), and `jq --tab`, byte for byte
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(meta_document(real_server.base_url)))
    for options in ((), ("--tab",)):
        jq = [shutil.which("jq") or "jq", *options, "."]
        expected = subprocess.run(jq, stdin=meta.open(), capture_output=True, check=True).stdout
        code, text, _ = run_text(capsys, real_server, library, list(IMAGES), *options)
        assert code == 0
        assert text.encode() == expected, options
