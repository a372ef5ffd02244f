"""The publisher's document (sources/): grouping by build context, bashbrew's build order
across and inside images, parents and pins, provisional keys; pure, without the network.
The real thing is compared in tests/upstream/test_sources_real.py."""

from __future__ import annotations

import hashlib
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from manifest_validation.libraryfile.parse import parse
from manifest_validation.sources import ArchBuild, Image, build_document, provisional_key
from manifest_validation.sources.order import topological_passes
from manifest_validation.upstream.contexts import source_id

C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40
HEAD = "Maintainers: Jane Doe <jane@example.com> (@jane)\nGitRepo: https://example.com/r.git\n"


def image(name: str, text: str, builds: dict[int, dict[str, ArchBuild]] | None = None) -> Image:
    manifest = parse(name, HEAD + text)
    assert not [p for p in manifest.problems if p.severity.value == "error"], manifest.problems
    return Image(manifest, builds or {})


def built(froms: tuple[str, ...], checksum: str | None, epoch: int | None = 1) -> ArchBuild:
    return ArchBuild(froms, froms[-1] if froms else None, checksum, epoch)


def sum_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_one_source_per_entry_and_architecture_context() -> None:
    # hello-world's shape: one entry, each architecture its own Directory
    hello = image(
        "hello",
        f"\nTags: linux\nSharedTags: latest\nArchitectures: amd64, arm64v8\nGitCommit: {C1}\n"
        "amd64-Directory: amd64/hello\narm64v8-Directory: arm64v8/hello\n",
        {
            1: {
                "amd64": built(("scratch",), sum_of("a")),
                "arm64v8": built(("scratch",), sum_of("b")),
            }
        },
    )
    document = build_document([hello])
    amd, arm = document.sources.values()
    assert list(document.sources) == [
        source_id(sum_of("a"), "Dockerfile", ""),
        source_id(sum_of("b"), "Dockerfile", ""),
    ]
    assert amd["sourceId"] == next(iter(document.sources))
    assert amd["reproducibleGitChecksum"] == sum_of("a")
    assert amd["entries"] == [
        {
            "GitRepo": "https://example.com/r.git",
            "GitFetch": "refs/heads/master",
            "GitCommit": C1,
            "Directory": "amd64/hello",
            "File": "Dockerfile",
            "Builder": "",
            "SOURCE_DATE_EPOCH": 1,
        }
    ]
    assert list(amd["arches"]) == ["amd64"] and list(arm["arches"]) == ["arm64v8"]
    value = arm["arches"]["arm64v8"]
    assert list(value) == [
        "tags",
        "archTags",
        "froms",
        "lastStageFrom",
        "platformString",
        "platform",
        "parents",
    ]
    assert value["tags"] == ["hello:linux", "hello:latest"]
    assert value["archTags"] == ["arm64v8/hello:linux", "arm64v8/hello:latest"]
    assert value["platformString"] == "linux/arm64/v8"
    assert value["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert value["parents"] == {"scratch": {"sourceId": None, "pin": None}}
    assert document.keys == [list(document.sources)]


def test_entries_building_the_same_context_are_one_source_oldest_first() -> None:
    # two entries (other commits, other architectures lists) with the same context content,
    # File and Builder: one sourceId; the oldest commit's entry first; amd64 in both
    same = sum_of("same")
    older = image(
        "img",
        f"\nTags: new\nArchitectures: amd64, s390x\nGitCommit: {C1}\nDirectory: d\n"
        f"\nTags: old\nArchitectures: amd64\nGitCommit: {C2}\nDirectory: d\n",
        {
            1: {
                "amd64": built(("debian:12",), same, 200),
                "s390x": built(("debian:12",), same, 200),
            },
            2: {"amd64": built(("debian:12",), same, 100)},
        },
    )
    document = build_document([older])
    (source,) = document.sources.values()
    assert [entry["GitCommit"] for entry in source["entries"]] == [C2, C1]
    assert [entry["SOURCE_DATE_EPOCH"] for entry in source["entries"]] == [100, 200]
    assert list(source["arches"]) == ["amd64", "s390x"]
    assert source["arches"]["amd64"]["tags"] == ["img:new", "img:old"]
    assert source["arches"]["amd64"]["archTags"] == ["amd64/img:new", "amd64/img:old"]
    assert source["arches"]["s390x"]["tags"] == ["img:new"]
    assert document.conflicts == []


def test_a_source_shared_by_two_images_is_in_both_slices() -> None:
    same = sum_of("shared")
    first = image("one", f"\nTags: 1\nGitCommit: {C1}\n", {1: {"amd64": built(("a:1",), same)}})
    second = image("two", f"\nTags: 2\nGitCommit: {C1}\n", {1: {"amd64": built(("a:1",), same)}})
    document = build_document([first, second])
    (key,) = document.sources
    assert document.slice(0) == document.slice(1) == document.sources
    assert document.sources[key]["arches"]["amd64"]["tags"] == ["one:1", "two:2"]
    # the same entry object once: both images name the same build
    assert len(document.sources[key]["entries"]) == 1


def test_an_architecture_built_twice_with_other_values_is_a_conflict() -> None:
    # same context, but the Dockerfile lies outside it (File: ../Dockerfile) and differs
    same = sum_of("ctx")
    first = image("one", f"\nTags: 1\nGitCommit: {C1}\n", {1: {"amd64": built(("a:1",), same)}})
    second = image("two", f"\nTags: 2\nGitCommit: {C1}\n", {1: {"amd64": built(("b:2",), same)}})
    document = build_document([first, second])
    (source,) = document.sources.values()
    assert source["arches"]["amd64"]["froms"] == ["a:1"]
    assert len(document.conflicts) == 1 and "duplicate architecture" in document.conflicts[0]


def test_windows_namespace_and_platform() -> None:
    win = image(
        "img",
        f"\nTags: ltsc2022\nSharedTags: latest\nArchitectures: windows-amd64\nGitCommit: {C1}\n"
        "Constraints: windowsservercore-ltsc2022\n",
        {1: {"windows-amd64": built(("mcr.microsoft.com/windows/servercore:ltsc2022",), "f" * 64)}},
    )
    pins = {"mcr.microsoft.com/windows/servercore:ltsc2022": "sha256:" + "9" * 64}
    (source,) = build_document([win], pins).sources.values()
    value = source["arches"]["windows-amd64"]
    assert value["archTags"] == ["winamd64/img:ltsc2022", "winamd64/img:latest"]
    assert value["platformString"] == "windows/amd64"
    assert value["platform"] == {"architecture": "amd64", "os": "windows"}  # no os.version
    assert value["parents"] == {
        "mcr.microsoft.com/windows/servercore:ltsc2022": {
            "sourceId": None,
            "pin": "sha256:" + "9" * 64,
        }
    }


def test_oci_import_builds_from_scratch() -> None:
    # what the pipeline gives an oci-import entry (no Dockerfile is read): as bashbrew says
    img = image(
        "img",
        f"\nTags: 1\nGitCommit: {C1}\nBuilder: oci-import\nFile: index.json\n",
        {1: {"amd64": ArchBuild(("scratch",), "scratch", "e" * 64, 5)}},
    )
    (source,) = build_document([img]).sources.values()
    assert source["sourceId"] == source_id("e" * 64, "index.json", "oci-import")
    assert source["entries"][0]["Builder"] == "oci-import"
    value = source["arches"]["amd64"]
    assert (value["froms"], value["lastStageFrom"]) == (["scratch"], "scratch")


def test_build_order_across_images_and_parents() -> None:
    # caddy is given first but builds FROM golang: bashbrew's passes put golang first, the
    # others keep the order given; the parent's sourceId is golang's source for that arch
    caddy = image(
        "caddy",
        f"\nTags: 2\nArchitectures: amd64, arm64v8\nGitCommit: {C1}\n",
        {
            1: {
                "amd64": built(
                    ("golang:1.22-alpine", "alpine:3.20", "golang:1.22-alpine"), "c" * 64
                ),
                "arm64v8": built(("golang:1.22-alpine", "alpine:3.20"), "d" * 64),
            }
        },
    )
    golang = image(
        "golang",
        f"\nTags: 1.22-alpine\nArchitectures: amd64\nGitCommit: {C2}\n",
        {1: {"amd64": built(("alpine:3.20",), "a" * 64)}},
    )
    other = image("zzz", f"\nTags: 1\nGitCommit: {C3}\n", {1: {"amd64": built(("x:1",), "b" * 64)}})
    pins = {"library/alpine:3.20": "sha256:" + "1" * 64}  # `library/` stands for the bare name
    document = build_document([caddy, other, golang], pins)
    owners = [
        source["arches"][next(iter(source["arches"]))]["tags"][0]
        for source in document.sources.values()
    ]
    assert owners == ["zzz:1", "golang:1.22-alpine", "caddy:2", "caddy:2"]
    golang_id = source_id("a" * 64, "Dockerfile", "")
    amd = document.slice(0)[source_id("c" * 64, "Dockerfile", "")]["arches"]["amd64"]
    assert amd["froms"] == ["golang:1.22-alpine", "alpine:3.20", "golang:1.22-alpine"]
    assert amd["parents"] == {
        "golang:1.22-alpine": {"sourceId": golang_id, "pin": None},
        "alpine:3.20": {"sourceId": None, "pin": "sha256:" + "1" * 64},
    }
    arm = document.slice(0)[source_id("d" * 64, "Dockerfile", "")]["arches"]["arm64v8"]
    # golang builds no arm64v8 here: no source in the document for that architecture
    assert arm["parents"]["golang:1.22-alpine"] == {"sourceId": None, "pin": None}
    assert [len(keys) for keys in document.keys] == [2, 1, 1]


def test_build_order_inside_an_image() -> None:
    # nginx's shape: alpine FROM alpine-slim (written after it), perl and otel FROM alpine
    text = "".join(
        f"\nTags: {tag}\nGitCommit: {C1}\nDirectory: {tag}\n"
        for tag in ("debian", "alpine", "alpine-perl", "alpine-slim", "alpine-otel", "stable")
    )
    froms = {
        "debian": ("debian:12",),
        "alpine": ("nginx:alpine-slim",),
        "alpine-perl": ("nginx:alpine",),
        "alpine-slim": ("alpine:3.20",),
        "alpine-otel": ("nginx:alpine",),
        "stable": ("debian:12",),
    }
    manifest = parse("nginx", HEAD + text)
    builds = {
        entry.number: {"amd64": built(froms[entry.tags[0]], sum_of(entry.tags[0]))}
        for entry in manifest.entries
    }
    document = build_document([Image(manifest, builds)])
    order = [next(iter(s["arches"].values()))["tags"][0] for s in document.sources.values()]
    assert order == [
        "nginx:debian",
        "nginx:alpine-slim",
        "nginx:stable",
        "nginx:alpine",
        "nginx:alpine-perl",
        "nginx:alpine-otel",
    ]
    alpine = document.sources[source_id(sum_of("alpine"), "Dockerfile", "")]
    assert alpine["arches"]["amd64"]["parents"] == {
        "nginx:alpine-slim": {
            "sourceId": source_id(sum_of("alpine-slim"), "Dockerfile", ""),
            "pin": None,
        }
    }


def test_a_cycle_keeps_the_given_order_and_says_so() -> None:
    text = f"\nTags: a\nGitCommit: {C1}\nDirectory: a\n\nTags: b\nGitCommit: {C1}\nDirectory: b\n"
    manifest = parse("img", HEAD + text)
    first, second = manifest.entries
    builds = {
        first.number: {"amd64": built(("img:b",), sum_of("a"))},
        second.number: {"amd64": built(("img:a",), sum_of("b"))},
    }
    document = build_document([Image(manifest, builds)])
    assert len(document.sources) == 2
    assert any("Cycle detected" in conflict for conflict in document.conflicts)


def test_without_upstream_the_heavy_fields_are_null_and_keys_provisional() -> None:
    img = image(
        "img",
        f"\nTags: 1\nArchitectures: amd64, arm64v8\nGitCommit: {C1}\nDirectory: d\n"
        f"\nTags: 2\nGitCommit: {C1}\nDirectory: d\nFile: Dockerfile.slim\n",
    )
    document = build_document([img])
    key = provisional_key(C1, "d", "Dockerfile", "")
    assert list(document.sources) == [key, provisional_key(C1, "d", "Dockerfile.slim", "")]
    assert key.startswith("provisional:") and len(key) == len("provisional:") + 64
    source = document.sources[key]
    assert (source["sourceId"], source["reproducibleGitChecksum"]) == (None, None)
    assert source["entries"][0]["SOURCE_DATE_EPOCH"] is None
    assert list(source["arches"]) == ["amd64", "arm64v8"]  # one context: one source
    value = source["arches"]["amd64"]
    # what sources.sh writes without its heavy calculation; jq's `add` of no parents is null
    assert (value["froms"], value["lastStageFrom"], value["parents"]) == ([], None, None)


def _reference_topsort(count: int, edges: list[tuple[int, int]]) -> list[int] | None:
    """pault.ag/go/topsort as written: passes in the given order, a node taken when all its
    parents are marked (marks of the same pass count)."""
    inbound: list[list[int]] = [[] for _ in range(count)]
    for parent, child in edges:
        inbound[child].append(parent)
    marked = [False] * count
    out: list[int] = []
    while True:
        generation = []
        unpruned = False
        for node in range(count):
            if marked[node]:
                continue
            unpruned = True
            if all(marked[parent] for parent in inbound[node]):
                marked[node] = True
                generation.append(node)
        if unpruned and not generation:
            return None
        if not generation:
            return out
        out += generation


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12), st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=30))
def test_passes_equal_topsorts_own_loop(count: int, pairs: list[tuple[int, int]]) -> None:
    edges = [(a % count, b % count) for a, b in pairs if a % count != b % count]
    expected = _reference_topsort(count, edges)
    got = topological_passes(count, edges)
    if expected is None:
        assert got.cyclic and sorted(got.order) == list(range(count))
    else:
        assert (got.order, got.cyclic) == (expected, False)


def test_a_long_chain_given_backwards_sorts_in_linear_time() -> None:
    count = 50_000
    edges = [(node + 1, node) for node in range(count - 1)]  # each built FROM the next one
    assert topological_passes(count, edges).order == list(reversed(range(count)))


def test_thousands_of_entries_building_one_source_merge_in_linear_time() -> None:
    # 10,000 entries at as many commits, all the same context: one source whose entries,
    # tags and parents grow by one each (quadratic merging would take minutes here)
    count = 10_000
    text = "".join(f"\nTags: t{n}\nSharedTags: s\nGitCommit: {n:040x}\n" for n in range(count))
    manifest = parse("big", HEAD + text)
    builds = {
        entry.number: {"amd64": built(("big:t0",), "a" * 64, count - entry.number)}
        for entry in manifest.entries
    }
    started = time.monotonic()
    document = build_document([Image(manifest, builds)])
    assert time.monotonic() - started < 20
    (source,) = document.sources.values()
    assert len(source["entries"]) == count
    assert source["entries"][0]["GitCommit"] == f"{count - 1:040x}"  # the oldest first
    value = source["arches"]["amd64"]
    assert len(value["tags"]) == count + 1 and value["tags"][:2] == ["big:t0", "big:s"]
    assert value["parents"] == {"big:t0": {"sourceId": source["sourceId"], "pin": None}}
