"""The FROM parser, one case per syntax point (the semantics of bashbrew's pkg/dockerfile and of
the Dockerfile reference), plus hostile input."""

from __future__ import annotations

import pytest

from manifest_validation.checks.dockerfile import (
    MAX_DOCKERFILE_BYTES,
    latest_tagged,
    parse_dockerfile,
)

# (name, Dockerfile, parents, stage names)
CASES: list[tuple[str, str, list[str], list[str]]] = [
    ("scratch", "FROM scratch", ["scratch"], []),
    ("untagged means latest", "from bash", ["bash:latest"], []),
    ("instructions are case-insensitive", "fRoM bash:5", ["bash:5"], []),
    ("registry port is not a tag", "FROM localhost:5000/x", ["localhost:5000/x:latest"], []),
    ("digest kept", "FROM debian@sha256:" + "a" * 64, ["debian@sha256:" + "a" * 64], []),
    (
        "--platform is not the image",
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build",
        ["golang:1.22"],
        ["build"],
    ),
    (
        "comments, blank lines and continuations",
        "FROM scratch\n\n# foo\n\nFROM bash\nRUN echo \\\n# inside\n\n  hello \\\n  world\n",
        ["scratch", "bash:latest"],
        [],
    ),
    ("continued FROM", "FROM \\\n  debian:\\\n  bookworm", ["debian:bookworm"], []),
    (
        "multi-stage: a later FROM of a stage is not a parent",
        "FROM bash:latest AS foo\nFROM busybox:uclibc\nFROM bash:5 AS bar\nFROM foo AS foo2\n"
        "FROM scratch\nCOPY --from=foo / /\nCOPY --from=bar / /\nCOPY --from=foo2 / /\n"
        "COPY --chown=1234:5678 /foo /bar\n",
        ["bash:latest", "busybox:uclibc", "bash:5", "scratch"],
        ["foo", "bar", "foo2"],
    ),
    (
        "stage names are case-insensitive",
        "FROM alpine:3.20 AS Builder\nFROM scratch\nCOPY --from=builder / /",
        ["alpine:3.20", "scratch"],
        ["Builder"],
    ),
    (
        "COPY --from an image is a parent",
        "FROM debian:bookworm-slim\nCOPY --from=golang:1.22 /usr/local/go /usr/local/go\n",
        ["debian:bookworm-slim", "golang:1.22"],
        [],
    ),
    (
        "COPY --from a stage number",
        "FROM bash:latest\nFROM scratch\nCOPY --from=0 /foo /foo\nCOPY --from=7 /x /x\n",
        ["bash:latest", "scratch", "7:latest"],
        [],
    ),
    (
        "flags after the first argument are not flags",
        "FROM scratch\nCOPY a --from=busybox /b\n",
        ["scratch"],
        [],
    ),
    (
        "RUN --mount from an image is a parent, from a stage is not",
        "FROM busybox:uclibc AS bb\nRUN --network=none true\n"
        "RUN --mount=type=tmpfs,dst=/foo touch /foo/bar\nFROM scratch\n"
        "RUN --mount=type=bind,from=bb,target=/tmp true\n"
        "RUN --mount=type=bind,from=alpine:3.20,target=/a true\n",
        ["busybox:uclibc", "scratch", "alpine:3.20"],
        ["bb"],
    ),
    (
        "RUN --mount: bind is the default type, other types and stage numbers are not parents",
        "FROM bash:5\nFROM scratch\nRUN --mount=from=busybox,target=/b true\n"
        "RUN --mount=type=cache,from=golang:1.22,target=/c true\n"
        "RUN --mount=type=bind,from=0,target=/d true\n",
        ["bash:5", "scratch", "busybox:latest"],
        [],
    ),
    (
        "ARG before FROM: ${VAR}, $VAR, ${VAR:-default}",
        "ARG BASE=debian\nARG SUITE\nARG VARIANT=slim\n"
        "FROM ${BASE}:${SUITE:-bookworm}-$VARIANT\nFROM $BASE\n",
        ["debian:bookworm-slim", "debian:latest"],
        [],
    ),
    (
        "ARG values use earlier ARGs, quotes removed, several per line",
        'ARG MAJOR=3 MINOR="20"\nARG TAG=${MAJOR}.${MINOR}\nFROM alpine:$TAG\n',
        ["alpine:3.20"],
        [],
    ),
    (
        "${VAR:+alt} and ${VAR-default}",
        "ARG SET=x\nARG EMPTY=\nFROM a:${SET:+yes}-${EMPTY-no}-${EMPTY:-dflt}-${UNSET-u}\n",
        ["a:yes--dflt-u"],
        [],
    ),
    (
        "the word of an operator that does not use it needs no value",
        "ARG SET=x\nARG EMPTY\nFROM a:${SET:-$NONE}${EMPTY:+-$EMPTY}${SET:+-$SET}\n",
        ["a:x-x"],
        [],
    ),
    (
        "nested defaults",
        "FROM a:${X:-${Y:-${Z:-1}}}",
        ["a:1"],
        [],
    ),
    (
        "ARG after the first FROM does not reach FROM",
        "ARG V=1\nFROM a:$V\nARG V=2\nFROM b:$V\n",
        ["a:1", "b:1"],
        [],
    ),
    (
        "escape directive: backtick continues, backslash is a character",
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS base\n"
        "RUN dir c:\\\nFROM base\n",
        ["mcr.microsoft.com/windows/servercore:ltsc2022"],
        ["base"],
    ),
    (
        "a directive after a comment is a comment",
        "# hello\n# escape=`\nFROM a `\nFROM b\n",
        ["a:latest", "b:latest"],
        [],
    ),
    (
        "CRLF line ends and a byte order mark",
        "\ufeffFROM debian:bookworm\r\nRUN true \\\r\n  false\r\n",
        ["debian:bookworm"],
        [],
    ),
    (
        "the same parent twice is listed once",
        "FROM debian:bookworm AS a\nFROM debian:bookworm AS b\nCOPY --from=debian:bookworm / /",
        ["debian:bookworm"],
        ["a", "b"],
    ),
]


@pytest.mark.parametrize(
    ("text", "parents", "names"),
    [pytest.param(text, parents, names, id=name) for name, text, parents, names in CASES],
)
def test_parents_and_stages(text: str, parents: list[str], names: list[str]) -> None:
    parsed = parse_dockerfile(text)
    assert parsed.errors == ()
    assert list(parsed.parents) == parents
    assert list(parsed.stage_names) == names


def test_bytes_and_text_agree() -> None:
    text = "ARG X=1\nFROM a:$X AS s\nFROM s\n"
    assert parse_dockerfile(text.encode()) == parse_dockerfile(text)


def test_final_parent_resolves_stages() -> None:
    parsed = parse_dockerfile("FROM golang:1.22 AS build\nFROM debian:bookworm AS run\nFROM run\n")
    assert parsed.final_parent == "debian:bookworm"
    assert parse_dockerfile("FROM golang AS b\nFROM scratch\nCOPY --from=b / /").final_parent == (
        "scratch"
    )


# (name, Dockerfile, line of the error, words in its message)
ERRORS: list[tuple[str, str, int, list[str]]] = [
    ("no FROM", "# nothing\nRUN true\n", 1, ["no FROM"]),
    ("empty file", "", 1, ["no FROM"]),
    ("unset variable", "FROM debian:$SUITE", 1, ["$SUITE"]),
    ("declared without a default", "ARG SUITE\nRUN x\nFROM debian:${SUITE}", 3, ["$SUITE"]),
    ("required variable", "FROM debian:${SUITE:?required}", 1, ["$SUITE"]),
    ("unclosed brace", "FROM debian:${SUITE", 1, ["missing"]),
    ("unset in COPY --from", "FROM scratch\nCOPY --from=$IMG / /", 2, ["COPY --from", "$IMG"]),
    ("FROM without image", "FROM --platform=linux/amd64", 1, ["no image"]),
    ("bad escape", "# escape=x\nFROM a", 1, ["escape"]),
]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [pytest.param(text, line, words, id=name) for name, text, line, words in ERRORS],
)
def test_errors(text: str, line: int, words: list[str]) -> None:
    errors = parse_dockerfile(text).errors
    assert errors, "expected an error"
    assert errors[0].line == line
    for word in words:
        assert word in errors[0].message


def test_unresolved_stage_still_counts_as_a_stage() -> None:
    parsed = parse_dockerfile("FROM a:$X AS build\nFROM build\nCOPY --from=1 / /\n")
    assert parsed.parents == ()
    assert len(parsed.stages) == 2
    assert len(parsed.errors) == 1


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("debian", "debian:latest"),
        ("debian:bookworm", "debian:bookworm"),
        ("scratch", "scratch"),
        ("registry:5000/a/b", "registry:5000/a/b:latest"),
        ("a/b@sha256:00", "a/b@sha256:00"),
    ],
)
def test_latest_tagged(image: str, expected: str) -> None:
    assert latest_tagged(image) == expected


def test_too_large_is_refused() -> None:
    parsed = parse_dockerfile(b"#" * (MAX_DOCKERFILE_BYTES + 1))
    assert parsed.parents == ()
    assert "larger than" in parsed.errors[0].message


@pytest.mark.slow
def test_hostile_input_stays_linear() -> None:
    # a continuation of 100k lines, a FROM of 300k words, deep nesting, 500k dollars
    deep = parse_dockerfile("FROM a\nRUN x \\\n" + "y \\\n" * 100_000 + "z\n")
    assert deep.parents == ("a:latest",)
    wide = parse_dockerfile("FROM " + "a " * 300_000)
    assert wide.parents == ("a:latest",)
    nested = parse_dockerfile("FROM a:" + "${X:-" * 50 + "1" + "}" * 50)
    assert nested.errors and "deeply" in nested.errors[0].message
    dollars = parse_dockerfile("FROM a:" + "$" * 500_000)
    assert dollars.parents == ("a:" + "$" * 500_000,)


def test_values_doubling_per_arg_are_capped() -> None:
    lines = ["ARG A0=xxxxxxxx"] + [f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, 40)]
    parsed = parse_dockerfile("\n".join(lines) + "\nFROM a:$A39\n")
    assert parsed.parents == ()
    assert "$A39" in parsed.errors[0].message


# bashbrew's own `froms` and `lastStageFrom` (what the publisher's sources.json carries):
# (name, Dockerfile, froms, last stage's FROM)
BASHBREW: list[tuple[str, str, list[str], str]] = [
    (
        # golang's Dockerfiles: the build stage, the final stage, a COPY from the build stage
        "every use, with repetitions",
        "FROM buildpack-deps:bookworm-scm AS build\nRUN make\n"
        "FROM buildpack-deps:bookworm-scm\nCOPY --from=build /usr/local/go /usr/local/go\n",
        ["buildpack-deps:bookworm-scm"] * 3,
        "buildpack-deps:bookworm-scm",
    ),
    (
        "a last stage FROM a stage name is that stage's image",
        "FROM alpine:3.20 AS builder\nRUN make\nFROM builder\n",
        ["alpine:3.20", "alpine:3.20"],
        "alpine:3.20",
    ),
    (
        "a COPY --from after the last FROM comes after it in froms",
        "FROM golang:1.22 AS build\nFROM debian:bookworm-slim\nCOPY --from=busybox:1 / /\n",
        ["golang:1.22", "debian:bookworm-slim", "busybox:1"],
        "debian:bookworm-slim",
    ),
    (
        "stage names are case-sensitive",
        "FROM alpine:3.20 AS Build\nFROM scratch\nCOPY --from=build / /\n",
        ["alpine:3.20", "scratch", "build:latest"],
        "scratch",
    ),
    (
        "stage numbers as Go's Atoi reads them, below the stages so far",
        "FROM a:1\nFROM b:2\nCOPY --from=0 / /\nCOPY --from=+1 / /\nCOPY --from=2 / /\n",
        ["a:1", "b:2", "a:1", "b:2", "2:latest"],
        "b:2",
    ),
    (
        "only an explicit type=bind mount counts",
        "FROM a:1\nRUN --mount=type=bind,from=b:2,target=/b --mount=from=c:3 --mount=type=cache,"
        "from=d:4 true\n",
        ["a:1", "b:2"],
        "a:1",
    ),
    (
        "any colon is a tag (a registry port too)",
        "FROM localhost:5000/x\nFROM debian\n",
        ["localhost:5000/x", "debian:latest"],
        "debian:latest",
    ),
    (
        "--platform is not the image",
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM scratch\nCOPY --from=build / /",
        ["golang:1.22", "scratch", "golang:1.22"],
        "scratch",
    ),
    (
        # bashbrew knows no escape directive: in a backtick-escaped file a line ending in a
        # backslash still continues, and swallows the COPY after it
        "an escape directive is a comment to bashbrew",
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR C:\\\n"
        "COPY --from=golang:1.22 C:/go C:/go\n",
        ["mcr.microsoft.com/windows/servercore:ltsc2022"],
        "mcr.microsoft.com/windows/servercore:ltsc2022",
    ),
    (
        "a continued line keeps its leading blanks",
        "FROM debian:\\\n  bookworm",
        ["debian:"],
        "debian:",
    ),
    (
        "ARG defaults are substituted into FROM (bashbrew refuses a `$` there)",
        "ARG SUITE=bookworm\nFROM debian:$SUITE\n",
        ["debian:bookworm"],
        "debian:bookworm",
    ),
    ("a backslash at the end of the file", "FROM scratch \\", ["scratch"], "scratch"),
]


@pytest.mark.parametrize(
    ("text", "froms", "last"),
    [pytest.param(text, froms, last, id=name) for name, text, froms, last in BASHBREW],
)
def test_bashbrew_froms_and_last_stage_from(text: str, froms: list[str], last: str) -> None:
    parsed = parse_dockerfile(text)
    assert list(parsed.froms) == froms
    assert parsed.last_stage_from == last


def test_the_docker_reading_is_unchanged_beside_bashbrews() -> None:
    # the parents the rules check still follow Docker: a backtick-escaped file keeps its COPY
    text = BASHBREW[8][1]
    assert parse_dockerfile(text).parents == (
        "mcr.microsoft.com/windows/servercore:ltsc2022",
        "golang:1.22",
    )


def test_no_from_has_no_last_stage() -> None:
    parsed = parse_dockerfile("RUN true\n")
    assert (parsed.froms, parsed.last_stage_from) == ((), None)
