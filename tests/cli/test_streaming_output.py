"""`check` writes each result as it is validated: the output must be exactly the rendering of
the whole list (`report.render`), with the right summary and exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifest_validation.checks.pipeline import ValidationResult, validate
from manifest_validation.cli.files import MAX_MANIFEST_BYTES
from manifest_validation.cli.main import main
from manifest_validation.results import messages as results_module
from manifest_validation.results.messages import Origin, Trigger, result_message
from manifest_validation.results.report import FORMATS, ReportWriter, _indented, render
from paths import PROJECT

INVALID_EXAMPLES = PROJECT / "examples" / "invalid"
CHECKED_AT = "2026-01-02T03:04:05Z"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # the JSON messages carry the time of the check; both renderings must see the same one
    monkeypatch.setattr(results_module, "now_rfc3339", lambda: CHECKED_AT)


def files_of(*directories: Path) -> list[Path]:
    return [
        path
        for directory in directories
        for path in sorted(directory.iterdir())
        if path.is_file() and not path.name.startswith(".")
    ]


def whole_rendering(files: list[Path], output_format: str) -> str:
    """What `check` printed before it streamed: every result, then one rendering."""
    found: list[ValidationResult] = []
    messages = []
    for path in files:
        data = path.read_bytes()
        result = validate(path.name, data, source=str(path))
        found.append(result)
        origin = Origin.of("file", data, path=str(path))
        # `check --format json` leaves `sources` out unless asked (--sources)
        message = result_message(
            result, origin, trigger=Trigger.CLI, verify_git=False, with_sources=False
        )
        messages.append(message)
    return render(found, output_format, messages) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("output_format", FORMATS)
def test_streamed_output_of_the_corpus_equals_the_whole_rendering(
    library_dir: Path, output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = files_of(library_dir, INVALID_EXAMPLES)
    code = main(["check", "--format", output_format, str(library_dir), str(INVALID_EXAMPLES)])
    out = capsys.readouterr().out
    assert out == whole_rendering(files, output_format)
    assert code == 1  # examples/invalid holds an invalid manifest
    if output_format == "json":
        summary = json.loads(out)["summary"]
        assert summary["manifests"] == len(files)
        assert summary["invalid"] == 1
        assert summary["valid"] == len(files) - 1


@pytest.mark.parametrize("output_format", FORMATS)
def test_streamed_output_of_the_examples_equals_the_whole_rendering(
    output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same without the corpus beside the project: valid files, warnings, errors and hints
    directories = [PROJECT / "examples" / "library", INVALID_EXAMPLES]
    code = main(["check", "--format", output_format, *map(str, directories)])
    out = capsys.readouterr().out
    assert out == whole_rendering(files_of(*directories), output_format)
    assert code == 1


@pytest.mark.parametrize("output_format", FORMATS)
def test_summary_and_exit_code_of_valid_files(
    output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--format", output_format, str(PROJECT / "examples" / "library")])
    out = capsys.readouterr().out
    assert code == 0
    count = len(files_of(PROJECT / "examples" / "library"))
    if output_format == "json":
        assert json.loads(out)["summary"]["valid"] == count
    else:
        assert out.splitlines()[-1].startswith(f"{count} manifests checked: {count} valid, 0 inv")


@pytest.mark.parametrize("output_format", FORMATS)
def test_unreadable_paths_among_readable_ones_exit_2_with_the_others_reported(
    tmp_path: Path, output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    hello = (PROJECT / "examples" / "library" / "hello-world").read_text()
    (library / "a-first").write_text(hello)
    # a file of the directory that cannot be read must not hide the files after it
    (library / "b-huge").write_bytes(b"#" * (MAX_MANIFEST_BYTES + 1))
    (library / "c-last").write_text(hello)
    broken = INVALID_EXAMPLES / "broken-db"
    absent = tmp_path / "absent"
    code = main(["check", "--format", output_format, str(library), str(absent), str(broken)])
    captured = capsys.readouterr()
    assert code == 2
    assert f"{library / 'b-huge'}: larger than {MAX_MANIFEST_BYTES} bytes" in captured.err
    assert f"{absent}: no such file or directory" in captured.err
    readable = [library / "a-first", library / "c-last", broken]
    assert captured.out == whole_rendering(readable, output_format)


def test_json_document_with_no_readable_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--format", "json", str(tmp_path / "absent")])
    out = capsys.readouterr().out
    assert code == 2
    assert out == whole_rendering([], "json")
    assert json.loads(out) == {
        "results": [],
        "summary": {
            "manifests": 0,
            "valid": 0,
            "invalid": 0,
            "unverified": 0,
            "errors": 0,
            "warnings": 0,
            "notes": 0,
        },
    }


def test_the_json_writer_needs_the_result_messages(tmp_path: Path) -> None:
    with (tmp_path / "out").open("w") as out:
        writer = ReportWriter(out, "json")
        result = validate("hello-world", (PROJECT / "examples/library/hello-world").read_text())
        with pytest.raises(ValueError, match="result message"):
            writer.add(result)
    with pytest.raises(ValueError, match="unknown output format"):
        ReportWriter(out, "xml")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.text() | st.integers() | st.booleans() | st.none() | st.floats(), inner
        )
    ),
    max_leaves=30,
)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(json_values, st.sampled_from(["", "  ", "    "]))
def test_the_streamed_json_pieces_are_exactly_what_json_dumps_writes(
    value: object, prefix: str
) -> None:
    expected = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + prefix)
    assert _indented(value, prefix) == expected


def test_the_streamed_json_pieces_refuse_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError):
        _indented({"a": object()}, "")
    with pytest.raises(TypeError):
        _indented({(1, 2): 3}, "")
