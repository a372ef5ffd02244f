"""`diff` on real library files, changed the way maintainers change them.

Every changed copy is made programmatically from the real file (paragraphs edited by their tags),
so the tests follow the corpus when it is refreshed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from manifest_validation.diff.changes import diff_libraries, diff_manifests, pair_entries
from manifest_validation.diff.model import ChangeSummary, FieldChange, TagMove
from manifest_validation.diff.render import render_diff
from manifest_validation.libraryfile.model import Manifest
from manifest_validation.libraryfile.parse import parse


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def entry_index(parts: list[str], tag: str) -> int:
    """The paragraph whose Tags list `tag`."""
    for index, part in enumerate(parts):
        match = re.search(r"^Tags:(.*)$", part, re.M)
        if match and tag in [t.strip() for t in match.group(1).split(",")]:
            return index
    raise AssertionError(f"no entry with tag {tag}")


def set_field(part: str, key: str, value: str) -> str:
    pattern = re.compile(rf"^{re.escape(key)}:.*$", re.M)
    assert pattern.search(part), f"{key} not in paragraph"
    return pattern.sub(f"{key}: {value}", part, count=1)


def field_of(part: str, key: str) -> str:
    match = re.search(rf"^{re.escape(key)}:(.*)$", part, re.M)
    assert match, key
    return match.group(1).strip()


def items(part: str, key: str) -> list[str]:
    return [item.strip() for item in field_of(part, key).split(",")]


@pytest.fixture(scope="module")
def python_text(library_dir: Path) -> str:
    return (library_dir / "python").read_text()


@pytest.fixture(scope="module")
def debian_text(library_dir: Path) -> str:
    return (library_dir / "debian").read_text()


def changes_of(name: str, old: str, new: str) -> ChangeSummary:
    return diff_libraries({name: parse(name, old)}, {name: parse(name, new)})


@pytest.mark.slow
def test_every_real_file_is_unchanged_against_itself_and_a_reformatted_copy(
    corpus: list[tuple[str, bytes]],
) -> None:
    for name, data in corpus:
        text = data.decode()
        # comments and blank lines between paragraphs are not changes of the model
        reformatted = "# a new comment\n" + text.replace("\n\n", "\n\n# reviewed\n\n", 3)
        summary = changes_of(name, text, reformatted)
        assert summary.counts() == {
            "images": 1,
            "added": 0,
            "removed": 0,
            "modified": 0,
            "unchanged": 1,
        }, name
        assert summary.to_json()["images"] == []


def test_a_tag_moved_between_entries(python_text: str) -> None:
    parts = paragraphs(python_text)
    source = entry_index(parts, "3.15-rc-slim")
    target = entry_index(parts, "3.15-rc-slim-bookworm")
    tags = items(parts[source], "Tags")
    parts[source] = set_field(
        parts[source], "Tags", ", ".join(t for t in tags if t != "3.15-rc-slim")
    )
    parts[target] = set_field(
        parts[target], "Tags", field_of(parts[target], "Tags") + ", 3.15-rc-slim"
    )
    (image,) = changes_of("python", python_text, "\n\n".join(parts)).changed

    assert image.status == "modified"
    assert image.tags_moved == [TagMove("3.15-rc-slim", tags[0], "3.15.0rc1-slim-bookworm")]
    assert image.tags_added == image.tags_removed == []
    assert image.entries_added == image.entries_removed == []
    # the moved tag now builds the bookworm variant: its architectures and Directory changed
    (moved,) = [change for change in image.changed if "3.15-rc-slim" in change.tags]
    assert moved.tags == ("3.15-rc-slim",)
    assert FieldChange("Directory", "3.15-rc/slim-trixie", "3.15-rc/slim-bookworm") in moved.fields
    assert "s390x" in moved.architectures_removed


def test_an_architecture_dropped(python_text: str) -> None:
    parts = paragraphs(python_text)
    index = entry_index(parts, "3.15-rc-trixie")
    arches = items(parts[index], "Architectures")
    assert "s390x" in arches
    parts[index] = set_field(
        parts[index], "Architectures", ", ".join(a for a in arches if a != "s390x")
    )
    (image,) = changes_of("python", python_text, "\n\n".join(parts)).changed

    tag_changes = [change for change in image.changed if not change.shared]
    assert [
        (c.tags, c.architectures_removed, c.architectures_added, c.fields) for c in tag_changes
    ] == [(tuple(items(parts[index], "Tags")), ("s390x",), (), ())]
    # the entry's shared tags lose s390x too (no other entry carrying them builds it)
    shared = [change for change in image.changed if change.shared]
    assert [(set(c.tags), c.architectures_removed) for c in shared] == [
        (set(items(parts[index], "SharedTags")), ("s390x",))
    ]
    assert image.tags_moved == image.tags_added == image.tags_removed == []


def test_a_commit_bumped_for_one_entry_and_all_its_tags(python_text: str) -> None:
    parts = paragraphs(python_text)
    index = entry_index(parts, "3.15-rc-bookworm")
    old = field_of(parts[index], "GitCommit")
    new = "0123456789abcdef0123456789abcdef01234567"
    parts[index] = set_field(parts[index], "GitCommit", new)
    new_text = "\n\n".join(parts)
    (image,) = changes_of("python", python_text, new_text).changed

    (change,) = image.changed
    assert change.tags == tuple(items(parts[index], "Tags"))
    assert change.fields == (FieldChange("GitCommit", old, new),)
    (move,) = image.commit_moves
    assert (move.repo, move.fetch, move.old, move.new) == (
        "https://github.com/docker-library/python.git",
        "refs/heads/master",
        old,
        new,
    )
    line = new_text.splitlines().index(f"GitCommit: {new}") + 1
    assert move.line == line


def test_an_entry_removed(python_text: str) -> None:
    parts = paragraphs(python_text)
    index = entry_index(parts, "3.15-rc-alpine3.24")
    removed_tags = items(parts[index], "Tags")
    del parts[index]
    (image,) = changes_of("python", python_text, "\n\n".join(parts)).changed

    (entry,) = image.entries_removed
    assert list(entry.tags) == removed_tags
    assert image.tags_removed == removed_tags
    assert image.entries_added == [] and image.tags_moved == [] and image.changed == []


def test_architecture_specific_commit_bumps_are_reported_per_architecture(
    debian_text: str,
) -> None:
    old = field_of(debian_text, "arm64v8-GitCommit")
    new_text = set_field(debian_text, "arm64v8-GitCommit", "f" * 40)
    (image,) = changes_of("debian", debian_text, new_text).changed
    debian = parse("debian", debian_text)
    arm_tags = [
        tag for e in debian.merged_entries() if "arm64v8" in e.architectures for tag in e.tags
    ]
    assert {tag for change in image.changed for tag in change.tags} == set(arm_tags)
    assert {change.fields for change in image.changed} == {
        (FieldChange("GitCommit", old, "f" * 40, "arm64v8"),)
    }
    (move,) = image.commit_moves
    assert move.architectures == ("arm64v8",)
    assert move.fetch == "refs/heads/dist-arm64v8"
    assert set(move.tags) == set(arm_tags)


def test_a_debian_release_bump_changes_every_architecture(debian_text: str) -> None:
    """The usual debian update: every architecture's commit moves (to different commits)."""
    new_text = debian_text
    for number, arch in enumerate(("amd64", "arm64v8", "i386")):
        new_text = set_field(new_text, f"{arch}-GitCommit", f"{number:040x}")
    (image,) = changes_of("debian", debian_text, new_text).changed
    changed_arches = {f.architecture for change in image.changed for f in change.fields}
    assert changed_arches == {"amd64", "arm64v8", "i386"}
    assert len(image.commit_moves) == 3


def test_images_added_and_removed(python_text: str, debian_text: str) -> None:
    old = {"python": parse("python", python_text)}
    new: dict[str, Manifest | None] = {"debian": parse("debian", debian_text)}
    summary = diff_libraries(old, new)
    assert [(i.name, i.status) for i in summary.changed] == [
        ("debian", "added"),
        ("python", "removed"),
    ]
    added, removed = summary.changed
    assert len(added.entries_added) == len(parse("debian", debian_text).merged_entries())
    assert removed.tags_removed[0] == paragraphs(python_text)[2].split("\n")[0].split()[1].rstrip(
        ","
    )


def test_entry_identity_prefers_the_largest_tag_overlap() -> None:
    # (entries with identical build artifacts are merged first, so each has its Directory)
    head = "Maintainers: A (@a)\nGitRepo: https://example.com/r.git\nGitCommit: " + "a" * 40
    old = parse(
        "x", f"{head}\n\nTags: 1.1, 1, latest\nDirectory: 1\n\nTags: 2.0-rc\nDirectory: 2\n"
    )
    # `latest` moved to the new 2.0 entry, which also took over 2.0-rc's tag
    new = parse(
        "x", f"{head}\n\nTags: 1.2, 1\nDirectory: 1\n\nTags: 2.0, 2.0-rc, latest\nDirectory: 2\n"
    )
    assert pair_entries(old.merged_entries(), new.merged_entries()) == {0: 0, 1: 1}
    image = diff_manifests("x", old, new)
    assert image.tags_added == ["1.2", "2.0"]
    assert image.tags_removed == ["1.1"]
    assert image.tags_moved == [TagMove("latest", "1.1", "2.0")]


def test_maintainers_and_shared_tags_changes() -> None:
    head = "GitRepo: https://example.com/r.git\nGitCommit: " + "a" * 40
    old = parse("x", f"Maintainers: A (@a)\n{head}\n\nTags: 1\nSharedTags: one\n")
    new = parse("x", f"Maintainers: B (@b)\n{head}\n\nTags: 1\nSharedTags: uno\n")
    image = diff_manifests("x", old, new)
    assert (image.maintainers_added, image.maintainers_removed) == (["B (@b)"], ["A (@a)"])
    assert (image.shared_tags_added, image.shared_tags_removed) == (["uno"], ["one"])


# --- output formats --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bumped(python_text: str) -> ChangeSummary:
    parts = paragraphs(python_text)
    index = entry_index(parts, "3.15-rc-bookworm")
    parts[index] = set_field(parts[index], "GitCommit", "0123456789abcdef0123456789abcdef01234567")
    gone = entry_index(parts, "3.15-rc-alpine3.24")
    del parts[gone]
    return changes_of("python", python_text, "\n\n".join(parts))


def test_text_format(bumped: ChangeSummary, python_text: str) -> None:
    text = render_diff(bumped, "text")
    old = field_of(
        paragraphs(python_text)[entry_index(paragraphs(python_text), "3.15-rc-bookworm")],
        "GitCommit",
    )
    assert text.splitlines()[0] == "python (modified)"
    assert f"GitCommit {old[:12]} -> 0123456789ab" in text
    assert "  entry removed: 3.15.0rc1-alpine3.24, 3.15-rc-alpine3.24" in text
    assert text.splitlines()[-1] == "1 image changed: 1 modified, 0 added, 0 removed (0 unchanged)"


def test_json_format(bumped: ChangeSummary) -> None:
    document = json.loads(render_diff(bumped, "json"))
    assert document["summary"]["modified"] == 1
    (image,) = document["images"]
    assert image["image"] == "python"
    assert image["entries_removed"][0]["tags"][0] == "3.15.0rc1-alpine3.24"
    (changed,) = image["changed"]
    assert changed["fields"][0]["field"] == "GitCommit"
    assert changed["fields"][0]["new"] == "0123456789abcdef0123456789abcdef01234567"
    assert image["commits"][0]["ancestry"] == "not-checked"


def test_markdown_format(bumped: ChangeSummary) -> None:
    markdown = render_diff(bumped, "markdown")
    lines = markdown.splitlines()
    assert lines[0] == "## Library changes"
    assert "### `python` (modified)" in lines
    assert any(line.startswith("- **entry removed:** `3.15.0rc1-alpine3.24`") for line in lines)
    (row,) = [line for line in lines if line.startswith("| `3.15.0rc1-bookworm`")]
    assert "GitCommit `" in row and "→ `0123456789ab`" in row
    assert (
        "https://github.com/docker-library/python/compare/" in row
        and "...0123456789abcdef0123456789abcdef01234567)" in row
    )


def test_markdown_cannot_be_broken_by_a_value() -> None:
    head = "Maintainers: A (@a)\nGitRepo: https://example.com/r.git\nGitCommit: " + "a" * 40
    old = parse("x", f"{head}\n\nTags: 1\nDirectory: a\n")
    new = parse("x", f"{head}\n\nTags: 1\nDirectory: a|b`c\n")
    markdown = render_diff(diff_libraries({"x": old}, {"x": new}), "markdown")
    (row,) = [line for line in markdown.splitlines() if line.startswith("| `1`")]
    assert "`a\\|b'c`" in row
    assert row.count("|") - row.count("\\|") == 3


def test_markdown_stays_under_githubs_comment_limit(corpus: list[tuple[str, bytes]]) -> None:
    """Every image of the corpus removed: far too much for one comment."""
    summary = diff_libraries({name: parse(name, data) for name, data in corpus}, {})
    markdown = render_diff(summary, "markdown")
    assert len(markdown) < 65536
    shown = [line for line in markdown.splitlines() if line.startswith("### ")]
    (note,) = [line for line in markdown.splitlines() if line.startswith("Not shown")]
    assert len(shown) + note.count("`") // 2 == len(corpus)
    assert len(shown) > 0


# --- from the command line: what a new user meets ----------------------------------------------


def run_diff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from manifest_validation.cli.main import main

    code = main(["diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_identical_files_are_no_change(
    library_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = str(library_dir / "python")
    code, out, err = run_diff(capsys, python, python)
    assert (code, out.strip(), err) == (
        0,
        "0 images changed: 0 modified, 0 added, 0 removed (1 unchanged)",
        "",
    )
    code, out, _ = run_diff(capsys, python, python, "--format", "markdown")
    assert (code, out.splitlines()[-1]) == (0, "No image changed.")


def test_a_file_that_does_not_read_cleanly_is_reported_with_exit_1(
    python_text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old" / "python", tmp_path / "new" / "python"
    old.parent.mkdir()
    new.parent.mkdir()
    old.write_text(python_text)
    # a line that is not a field (a paste gone wrong) in the entry of 3.15-rc-bookworm
    parts = paragraphs(python_text)
    index = entry_index(parts, "3.15-rc-bookworm")
    parts[index] = parts[index].replace("\nGitCommit:", "\nthis line is no field\nGitCommit:", 1)
    new_text = "\n\n".join(parts)
    new.write_text(new_text)
    line = new_text.splitlines().index("this line is no field") + 1

    code, out, _ = run_diff(capsys, str(old), str(new), "--format", "json")
    assert code == 1
    (image,) = json.loads(out)["images"]
    assert [(p["code"], p["severity"], p["line"]) for p in image["problems"]] == [
        ("bad-line", "error", line)
    ]
    assert image["problems"][0]["message"].startswith("the new file: ")
    # the other way round: the old side's line is in the message (lines are the new text's)
    code, out, _ = run_diff(capsys, str(new), str(old))
    assert code == 1
    assert f"  bad-line error: the old file, line {line}: " in out
    # a binary file on both sides: nothing could be read, and it says so
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"Tags: 1\n\0\xff")
    code, out, _ = run_diff(capsys, str(garbage), str(garbage))
    assert code == 1
    assert out.splitlines()[0] == "garbage (unchanged)"
    assert "binary-content error: the old file" in out
    assert "binary-content error: the new file" in out
    code, out, _ = run_diff(capsys, str(garbage), str(old), "--format", "markdown")
    assert code == 1
    assert "> **error** `binary-content`: the old file" in out


def test_bad_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").write_text("Maintainers: A (@a)\n")
    code, _, err = run_diff(capsys, str(tmp_path / "a"), str(tmp_path / "nowhere"))
    assert (code, err.strip()) == (
        2,
        f"manifest-validate: error: {tmp_path / 'nowhere'}: no such file or directory",
    )
    code, _, err = run_diff(capsys, str(tmp_path), str(tmp_path / "a"))
    assert (code, "both be files or both directories" in err) == (2, True)


def test_pairing_by_shared_tags_ignores_tags_shared_by_very_many_entries() -> None:
    """A shared tag on a few entries pairs them when all their Tags changed; one on more than
    MAX_SHARED_TAG_FANOUT entries says nothing about identity (and would make pairing
    quadratic), so it is left out of the score."""
    from manifest_validation.diff.changes import MAX_SHARED_TAG_FANOUT

    head = "Maintainers: A (@a)\nGitRepo: https://example.com/r.git\nGitCommit: " + "a" * 40

    def library(count: int, prefix: str) -> Manifest:
        entries = [
            f"Tags: {prefix}{i}\nSharedTags: s, only{i}\nDirectory: d{i}\n" for i in range(count)
        ]
        return parse("x", "\n\n".join([head, *entries]))

    few = 3
    assert pair_entries(library(few, "a").merged_entries(), library(few, "b").merged_entries()) == {
        i: i for i in range(few)
    }  # paired by `only{i}` (and `s`)
    many = MAX_SHARED_TAG_FANOUT + 1
    old, new = library(many, "a").entries, library(many, "b").entries
    # `s` is left out, `only{i}` still pairs each entry with its own
    assert pair_entries(old, new) == {i: i for i in range(many)}
    crowded = [
        parse(
            "x",
            f"{head}\n\n"
            + "\n\n".join(f"Tags: {p}{i}\nSharedTags: s\nDirectory: d{i}\n" for i in range(many)),
        ).entries
        for p in ("a", "b")
    ]
    assert pair_entries(*crowded) == {}
    image = diff_manifests(
        "x",
        parse("x", f"{head}\n\nTags: a0\nSharedTags: s\nDirectory: d0\n"),
        parse("x", f"{head}\n\nTags: b0\nSharedTags: s\nDirectory: d0\n"),
    )
    assert (len(image.entries_added), len(image.entries_removed)) == (0, 0)
