"""Property-based tests: no input makes the validator raise, and every result is well formed."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manifest_validation.checks.pipeline import ValidationResult, validate
from manifest_validation.checks.schema import result_validator
from manifest_validation.libraryfile.cat import canonical_text
from manifest_validation.libraryfile.parse import parse
from manifest_validation.problems.catalog import RULES
from manifest_validation.problems.problem import Severity
from manifest_validation.problems.status import Status
from manifest_validation.results.messages import Origin, Trigger, result_message
from paths import corpus_files
from samples import FIELDS

pytestmark = pytest.mark.slow  # hypothesis suites, hundreds of examples each

CORPUS = [path.read_text() for path in corpus_files()[:40]]


def assert_well_formed(result: ValidationResult, text_lines: int) -> None:
    assert result.status in (Status.VALID, Status.INVALID)
    if any(p.severity is Severity.ERROR for p in result.problems):
        assert result.status is Status.INVALID
    for found in result.problems:
        assert found.code in RULES
        assert found.message
        assert found.line is None or 1 <= found.line <= max(text_lines, 1)
    message = result_message(result, Origin.of("http", b"x"), trigger=Trigger.CI, verify_git=False)
    errors = [error.message for error in result_validator().iter_errors(message)]
    assert errors == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert_well_formed(validate("img", data), data.count(b"\n") + 1)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert_well_formed(validate("img", text), text.count("\n") + 1)


line = st.one_of(
    st.builds(
        lambda key, value: f"{key}: {value}",
        st.sampled_from(FIELDS),
        st.text(alphabet=st.sampled_from("ab0f,./-_ \t:#@<>()latest"), max_size=30),
    ),
    st.sampled_from(["", " ", "\t", " .", "# comment", "  continued", "garbage", ":", "\r"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(line, max_size=40))
def test_manifest_like_text_never_raises_and_cat_is_stable(lines: list[str]) -> None:
    text = "\n".join(lines)
    result = validate("img", text)
    assert_well_formed(result, len(lines))
    if result.status is Status.VALID:
        once = canonical_text(result.parsed)
        assert canonical_text(parse("img", once)) == once


MUTATIONS = ("delete", "duplicate", "swap", "insert", "truncate", "flip")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(CORPUS or [""]),
    st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 10_000)), max_size=8),
    st.text(max_size=20),
)
def test_mutated_corpus_files_never_raise(
    text: str, mutations: list[tuple[str, int]], insert: str
) -> None:
    lines = text.split("\n")
    for mutation, seed in mutations:
        if not lines:
            break
        rng = random.Random(seed)
        index = rng.randrange(len(lines))
        if mutation == "delete":
            del lines[index]
        elif mutation == "duplicate":
            lines.insert(index, lines[index])
        elif mutation == "swap":
            other = rng.randrange(len(lines))
            lines[index], lines[other] = lines[other], lines[index]
        elif mutation == "insert":
            lines.insert(index, insert)
        elif mutation == "truncate":
            lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
        else:
            position = rng.randrange(len(lines[index]) + 1)
            lines[index] = lines[index][:position] + insert + lines[index][position:]
    mutated = "\n".join(lines)
    line_count = mutated.count("\n") + 1
    assert_well_formed(validate("img", mutated), line_count)
    data = mutated.encode("utf-8", "surrogatepass")
    assert_well_formed(validate("img", data), line_count)


# --- manifests written every way a maintainer (or a slip of the editor) can write them ---------

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SCALARS = ("GitRepo", "GitFetch", "GitCommit", "Directory", "File", "Builder")


@st.composite
def field_text(draw: st.DrawFn, key: str, items: list[str]) -> str:
    """`key` with `items` (a list field's items, or a scalar's one value) laid out in one of
    the shapes continuation lines allow: one line, continued (space- or tab-led), the value on
    the next line, a lone `.` in between, or a whitespace-only line after it."""
    shape = draw(st.sampled_from(["one", "continued", "next-line", "dot", "trailing-blank"]))
    lead = draw(st.sampled_from([" ", "\t", "  "]))
    joined = ", ".join(items)
    if shape == "one" or (shape in ("continued", "dot") and len(items) < 2):
        return f"{key}: {joined}"
    if shape == "continued":
        return f"{key}: {items[0]},\n" + ",\n".join(lead + item for item in items[1:])
    if shape == "dot":
        return f"{key}: {items[0]},\n .\n" + ",\n".join(lead + item for item in items[1:])
    if shape == "next-line":
        return f"{key}:\n{lead}{joined}"
    return f"{key}: {joined}\n" + draw(st.sampled_from([" ", "\t", "   "]))


@st.composite
def manifest_text(draw: st.DrawFn) -> str:
    architectures = st.lists(
        st.sampled_from(["amd64", "arm64v8", "s390x", "windows-amd64", "x86_64"]),
        min_size=1,
        max_size=3,
        unique=True,
    )
    global_fields = [
        draw(field_text("Maintainers", ["Jane Doe (@jane)", "John Roe <j@example.com> (@john)"])),
        draw(field_text("GitRepo", ["https://example.com/r.git"])),
        draw(field_text("GitCommit", [COMMIT])),
    ]
    if draw(st.booleans()):
        global_fields.append(draw(field_text("Architectures", draw(architectures))))
    if draw(st.booleans()):
        global_fields.append(draw(field_text("SharedTags", ["shared", "s2"])))
    paragraphs = ["\n".join(global_fields)]
    for number in range(draw(st.integers(1, 3))):
        fields = [draw(field_text("Tags", [f"t{number}", f"t{number}-x"]))]
        if draw(st.booleans()):
            fields.append(draw(field_text("Architectures", draw(architectures))))
        if draw(st.booleans()):
            fields.append(draw(field_text("SharedTags", [f"s{number}", "shared"])))
        for key in draw(st.lists(st.sampled_from(SCALARS[1:]), max_size=2, unique=True)):
            value = {
                "GitFetch": "refs/heads/main",
                "GitCommit": COMMIT,
                "Directory": f"d{number}",
                "File": "Dockerfile",
                "Builder": "buildkit",
            }[key]
            fields.append(draw(field_text(key, [value])))
        draw(st.randoms()).shuffle(fields)
        paragraphs.append("\n".join(fields))
    separator = draw(st.sampled_from(["\n\n", "\n\n", "\n \n"]))  # sometimes a blank-looking glue
    text = separator.join(paragraphs) + draw(st.sampled_from(["\n", "", "\n  ", "\n\n"]))
    lines = text.split("\n")
    # comment lines anywhere, also between the lines of a continued value (bashbrew's comment
    # stripper removes them before the control reader sees the text)
    for _ in range(draw(st.integers(0, 3))):
        comment = draw(st.sampled_from(["# c", "  # c: x", "\t#", "\xa0# c"]))
        lines.insert(draw(st.integers(0, len(lines))), comment)
    # CRLF line ends, and Unicode whitespace that Go's TrimSpace trims at the ends of a value
    crlf = draw(st.sampled_from(["", "", "\r"]))
    ending = draw(st.sampled_from(["", "", "\xa0", "\u2028", "\u3000"]))
    return "\n".join((line + ending if line.strip() else line) + crlf for line in lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifest_text())
def test_values_that_span_lines_are_judged_as_bashbrew_sees_them(text: str) -> None:
    result = validate("img", text)
    assert_well_formed(result, text.count("\n") + 1)
    manifest = result.parsed
    for entry in manifest.entries:
        for key, value in entry.values.items():
            # a scalar value with a newline in it is never valid: bashbrew refuses a GitCommit or
            # GitFetch like that, and the others cannot be fetched or built
            if isinstance(value, str) and "\n" in value:
                assert result.status is Status.INVALID, (key, value)
    global_arches = manifest.global_entry.values.get("Architectures", [])
    if "Architectures" in manifest.global_entry.own_keys and "x86_64" in global_arches:
        assert result.status is Status.INVALID  # the global paragraph is checked on its own
    if result.status is Status.VALID:
        once = canonical_text(manifest)
        again = parse("img", once)
        assert canonical_text(again) == once
        assert validate("img", once).status is Status.VALID


def go_debian_paragraphs(text: str) -> list[dict[str, str]]:
    """Paragraph values by a literal reading of pault.ag/go/debian's control reader (after
    bashbrew's comment stripper): a second, independent reader as the oracle for ours."""
    go_space = (  # unicode.IsSpace
        "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
        "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    )
    paragraphs: list[dict[str, str]] = []
    values: dict[str, str] = {}
    last_key = ""
    for line in text.split("\n"):
        if line.lstrip(go_space).startswith("#"):
            continue
        if line in ("", "\r"):
            if values:
                paragraphs.append(values)
            values, last_key = {}, ""
            continue
        if line[0] in " \t":
            continued = line[1:].rstrip(go_space)
            if continued == ".":
                continued = ""
            value = values.get(last_key, "")
            if value == "":
                value = continued + "\n"
            else:
                if not value.endswith("\n"):
                    value += "\n"
                value += continued + "\n"
            if last_key:  # go-debian stores it under "", which nobody reads
                values[last_key] = value
            continue
        key, _, value = line.partition(":")
        last_key = key.strip(go_space)
        values.pop(last_key, None)  # a repeated key: the last one wins, in its new place
        values[last_key] = value.strip(go_space)
    if values:
        paragraphs.append(values)
    return paragraphs


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifest_text())
def test_paragraph_values_are_exactly_what_go_debian_reads(text: str) -> None:
    from manifest_validation.libraryfile.reader import read_paragraphs

    paragraphs, _ = read_paragraphs(text)
    ours = [{key: field.value for key, field in p.fields.items()} for p in paragraphs]
    assert ours == go_debian_paragraphs(text)
