"""Parsing revisions and ranges, before any repository is looked at: what each spelling means,
and the sentence each refusal gives."""

from __future__ import annotations

import pytest

from manifest_validation.repository import SourceError, parse_range
from manifest_validation.repository.revisions import (
    Revision,
    Step,
    parse_revision,
    ref_candidates,
    valid_ref_name,
)


@pytest.mark.parametrize(
    ("text", "base", "steps"),
    [
        ("HEAD", "HEAD", ()),
        ("@", "HEAD", ()),
        ("@~2", "HEAD", (Step("~", 2),)),
        ("master~", "master", (Step("~", 1),)),
        ("master^", "master", (Step("^", 1),)),
        ("master^0", "master", (Step("^", 0),)),
        ("master~0", "master", (Step("~", 0),)),
        ("HEAD~2^2~1", "HEAD", (Step("~", 2), Step("^", 2), Step("~", 1))),
        ("HEAD^^~~", "HEAD", (Step("^", 1), Step("^", 1), Step("~", 1), Step("~", 1))),
        ("v1^{commit}~3", "v1", (Step("peel"), Step("~", 3))),
        ("v1^{}", "v1", (Step("peel"),)),
        ("origin/master", "origin/master", ()),
        ("refs/remotes/origin/HEAD", "refs/remotes/origin/HEAD", ()),
        ("ABCDEF0", "ABCDEF0", ()),
        ("v1.2-3-gabc1234", "v1.2-3-gabc1234", ()),
        ("feature/é", "feature/é", ()),
    ],
)
def test_revisions(text: str, base: str, steps: tuple[Step, ...]) -> None:
    assert parse_revision(text) == Revision(text, base, steps)


def test_ranges() -> None:
    rng = parse_range("master...pr~1")
    assert (rng.old.text, rng.new.text, rng.symmetric) == ("master", "pr~1", True)
    rng = parse_range("A..B")
    assert (rng.old.base, rng.new.base, rng.symmetric) == ("A", "B", False)
    # an empty side is HEAD, as in git
    assert parse_range("A..").new.base == "HEAD"
    assert parse_range("..B").old.base == "HEAD"
    assert parse_range("...B").symmetric
    assert parse_range("A...").new.text == "HEAD"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no revision range given; give a range: BASE..HEAD compares BASE with HEAD"),
        ("master", "'master' is a single revision; give a range"),
        ("..", "'..' names no revision at all"),
        ("...", "'...' names no revision at all"),
        ("a..b..c", "'a..b..c' holds more than one range"),
        ("a...b...c", "holds more than one range"),
        ("HEAD^!", "'HEAD^!' is not supported: write the range out, e.g. X^..X"),
        ("HEAD^-1", "'HEAD^-1' is not supported"),
        ("A..HEAD^@", "'HEAD^@': ^@ is a range shorthand this tool does not take"),
        ("HEAD@{1}..HEAD", "'HEAD@{1}': reflog and upstream forms (NAME@{...}) are not supported"),
        ("@{u}..HEAD", "reflog and upstream forms"),
        ("@{-1}..HEAD", "reflog and upstream forms"),
        (":/fix..HEAD", "':/fix' names a path or searches commit messages"),
        ("HEAD:library..HEAD", "names a path"),
        ("HEAD^{/fix}..HEAD", "searching commit messages (^{/text}) is not supported"),
        ("HEAD^{tree}..HEAD", "^{tree} is not supported: a range compares commits"),
        ("HEAD^{blob}..HEAD", "^{blob} is not supported"),
        ("HEAD^{nope}..HEAD", "^{nope} is not an object type git knows"),
        ("HEAD^x..HEAD", "after a name come only ~N, ^N and ^{commit} (found '^x')"),
        ("HEAD~-1..HEAD", "(found '~-1')"),
        ("~1..HEAD", "'~1' has nothing before its ~ or ^"),
        ("-x..HEAD", "it looks like an option"),
        ("a b..HEAD", "'a b' is not a valid revision: 'a b' cannot be a ref name"),
        ("a/.b..HEAD", "cannot be a ref name"),
        ("a.lock..HEAD", "cannot be a ref name"),
        ("a//b..HEAD", "cannot be a ref name"),
        ("a\x00b..HEAD", "cannot be a ref name"),
        ("HEAD~99999999999..HEAD", "99999999999 is too large a number of steps"),
        ("a" * 1025 + "..HEAD", "a revision of 1,025 characters is too long (at most 1,024)"),
        ("a" * 3000 + "..HEAD", "a revision range of 3,006 characters is too long"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_range(text)
    assert message in str(caught.value)


def test_ref_names_follow_check_ref_format() -> None:
    assert valid_ref_name("feature/x-1.2")
    assert valid_ref_name("HEAD")
    bad = ["", "@", "a..b", "a@{b", "/a", "a/", "a.", "a//b", ".a", "a/.b", "a.lock", "a b"]
    bad += ["a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a\x7fb", "\udcff"]
    for name in bad:
        assert not valid_ref_name(name), name


def test_ref_candidates_in_gits_order() -> None:
    assert ref_candidates("master") == [
        "refs/master",
        "refs/tags/master",
        "refs/heads/master",
        "refs/remotes/master",
        "refs/remotes/master/HEAD",
    ]
    # $GIT_DIR/NAME only for upper case and underscores, or a full refs/ name
    assert ref_candidates("FETCH_HEAD")[0] == "FETCH_HEAD"
    assert ref_candidates("refs/heads/x")[:2] == ["refs/heads/x", "refs/refs/heads/x"]
    assert ref_candidates("Head")[0] == "refs/Head"
    assert ref_candidates("a b") == []
