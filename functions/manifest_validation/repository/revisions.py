"""Revisions and ranges spelled as git spells them, resolved against a repository's refs and
commit graph.

Public API::

    rng = parse_range("master...pr")        # pure parsing: RevisionRange (no repository)
    base, head = resolve_range(source, "master...pr", warnings=notes)
    commit = resolve_commit(source.history(), "HEAD~2^2")
    bases = merge_bases(source.history(), a, b)   # git's order, best first

``source`` is anything with a ``history()`` method returning a :class:`RevisionStore`
(:class:`~.local_git.LocalGitManifestSource` over a local clone,
:class:`~.git.GitManifestSource` over smart HTTP); a store can also be passed directly.
Every failure is a :class:`~.base.SourceError` whose text is a sentence for the user
(:class:`~.base.SourceUnavailable` when the network failed and a retry may help).

Ranges (what ``git diff`` accepts, see ``git help revisions``):

* ``A..B``: compare ``A`` with ``B``;
* ``A...B``: compare the merge base of ``A`` and ``B`` with ``B`` -- what ``B`` changed since
  it forked from ``A`` (``git diff A...B``; CI's ``git diff FETCH_HEAD...HEAD``, and
  ``diff-pr.sh``'s ``HEAD...pull``);
* an empty side means ``HEAD`` (``A..``, ``..B``, ``A...``, ``...B``), as in git;
* a single revision is refused: git would compare it with the working tree, which a
  repository read from its object database does not have.

Revisions (each side of a range):

* a full object id (40 hex digits, 64 in a SHA-256 repository), upper or lower case;
* an abbreviated id of at least 4 hex digits.  As in git, a ref of that name wins over the
  abbreviation; among several objects starting with the digits, the only commit (or tag of
  a commit) is taken, and if none or several of them are, the abbreviation is ambiguous and
  refused with the number of candidates.  ``git describe`` output (``v1.2-3-gabc1234``) is
  read by its abbreviated id when no ref has that name;
* ``HEAD`` (``@`` is the same), and ``FETCH_HEAD``, ``ORIG_HEAD`` or any other
  ``$GIT_DIR/NAME`` file of upper-case letters and underscores, where that file exists;
* a ref name, with git's precedence when several refs match (``git help revisions``):
  ``$GIT_DIR/NAME`` (upper case and ``_`` only, or a full ``refs/...`` name),
  ``refs/NAME``, ``refs/tags/NAME``, ``refs/heads/NAME``, ``refs/remotes/NAME``,
  ``refs/remotes/NAME/HEAD``.  The first that exists wins; when more than one exists a
  warning says so, as git's ``refname 'NAME' is ambiguous`` does.  So ``master``,
  ``heads/master``, ``refs/heads/master``, ``origin/master`` and ``origin`` (its ``HEAD``)
  all work, and a tag ``v1`` wins over a branch ``v1``;
* suffixes, applied left to right and chained freely (``HEAD~2^2~1``): ``~N`` (the Nth
  first-parent ancestor; ``~`` is ``~1``), ``^N`` (the Nth parent; ``^`` is ``^1``, ``^0``
  the commit itself), ``^{commit}`` and ``^{}`` (peel annotated tags to their commit).
  Annotated tags are always peeled to the commit they tag, as ``git diff`` does.

Refused, each with a message saying why: reflog and upstream forms (``master@{1}``,
``@{upstream}``, ``@{-1}``), commit message searches (``:/text``, ``X^{/text}``), paths
(``X:path``), ``X^{tree}``/``X^{blob}`` (a range compares commits), and the range
shorthands ``X^!``, ``X^@``, ``X^-`` (write ``X^..X``).

Merge base of ``A...B``: git's ``git diff A...B`` takes the first commit ``git merge-base
--all A B`` lists and warns ``A...B: multiple merge bases, using X`` when there are several
(criss-cross merges); :func:`resolve_range` does the same (the warning goes to
``warnings``).  That list holds the best common ancestors (common ancestors that are not
ancestors of another common ancestor), newest committer date first; :func:`merge_bases`
computes it with git's own walk (a date-ordered walk from both commits, in the order git
discovers the candidates when dates are equal).  Git orders its walk by generation number
instead of date when the repository has a commit-graph file; for two merge bases with the
very same committer timestamp (to the second) git may then list them in another order than
we do.  With different timestamps -- the real-world case -- the choice is the same.

What resolution needs from a repository is the small :class:`RevisionStore` protocol: refs by
exact name, objects peeled to commits, a commit's parents and date, and (local only) the
object ids starting with some hex digits.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, cast, runtime_checkable

from .base import SourceError

__all__ = [
    "AbbreviationsUnsupported",
    "CommitInfo",
    "HistorySource",
    "MissingObject",
    "NotACommit",
    "Revision",
    "RevisionRange",
    "RevisionStore",
    "Step",
    "merge_bases",
    "parse_range",
    "parse_revision",
    "resolve_commit",
    "resolve_range",
]

# git's MINIMUM_ABBREV: shorter hex strings are only ever ref names.
MIN_ABBREV = 4
# Longer revisions are refused before anything is looked up (a name goes into one pkt-line).
MAX_REVISION_LENGTH = 1024
# git's limit for the number of ~N and ^N (it refuses larger numbers as unknown revisions).
MAX_STEP = 2**31 - 1
# A chain of tags pointing at tags longer than this is refused rather than followed.
MAX_TAG_DEPTH = 64


# -- what a repository must answer -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """What resolution needs of one commit: its parents in order and its committer date
    (seconds since the epoch; merge bases are ordered by it).  ``shallow``: a shallow
    clone's boundary, whose parents were not fetched (``parents`` is then empty, as git
    treats it)."""

    parents: tuple[str, ...]
    time: int
    shallow: bool = False


class MissingObject(SourceError):
    """The object does not exist in the repository (``oid`` says which)."""

    def __init__(self, oid: str, message: str | None = None) -> None:
        super().__init__(message or f"object {oid} does not exist")
        self.oid = oid


class AbbreviationsUnsupported(SourceError):
    """The store cannot look objects up by abbreviated id (a repository over HTTP)."""


class NotACommit(SourceError):
    """The object is not a commit and does not peel to one (``kind``: tree, blob, ...)."""

    def __init__(self, oid: str, kind: str) -> None:
        super().__init__(f"object {oid} is a {kind}, not a commit")
        self.oid = oid
        self.kind = kind


@runtime_checkable
class RevisionStore(Protocol):
    """The refs and commit graph of one repository, as resolution reads them."""

    @property
    def hex_length(self) -> int:
        """Digits of a full object id: 40 (SHA-1) or 64 (SHA-256)."""
        ...

    def describe(self) -> str:
        """The repository, for messages (never with credentials)."""
        ...

    def refs(self, names: Sequence[str]) -> dict[str, str]:
        """``{name: object id}`` for those exact, valid ref names that exist (``HEAD``,
        ``FETCH_HEAD`` or ``refs/...``), symbolic refs followed; the id is what the ref
        points at (a tag object for an annotated tag)."""
        ...

    def peel(self, oid: str) -> str:
        """The commit ``oid`` is or tags (through any chain of tags); :class:`MissingObject`
        or :class:`NotACommit` otherwise."""
        ...

    def commit(self, oid: str) -> CommitInfo:
        """Parents and date of the commit ``oid`` (a commit id, already peeled)."""
        ...

    def abbreviations(self, prefix: str) -> list[str]:
        """Every object id starting with the lower-case hex ``prefix``; a store that cannot
        enumerate objects raises :class:`SourceError` saying so."""
        ...

    def object_kind(self, oid: str) -> str:
        """``commit``, ``tag``, ``tree`` or ``blob`` (only asked of ids
        :meth:`abbreviations` returned)."""
        ...

    def prefetch(self, commits: Iterable[str]) -> None:
        """A hint: the history below these commits is about to be walked (a remote store
        fetches it in one go; a local one ignores it)."""
        ...


@runtime_checkable
class HistorySource(Protocol):
    """A manifest source with git history (a local clone, or a repository over HTTP)."""

    def history(self) -> RevisionStore: ...


# -- parsing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One suffix: ``~`` (``number`` first-parent steps), ``^`` (parent ``number``, 0 the
    commit itself) or ``peel`` (``^{commit}``/``^{}``)."""

    kind: Literal["~", "^", "peel"]
    number: int = 0


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision: ``base`` is a ref name, an object id or an abbreviation (``@`` is
    already ``HEAD``), followed by suffix ``steps``; ``text`` is what the user wrote."""

    text: str
    base: str
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class RevisionRange:
    """``old..new`` (``symmetric`` False) or ``old...new`` (True)."""

    text: str
    old: Revision
    new: Revision
    symmetric: bool


# Each suffix must end where the next begins (or at the end): "^x" is an error, not "^" + "x".
_SUFFIX = re.compile(r"~(\d*)(?=$|[~^])|\^\{([^}]*)\}|\^(\d*)(?=$|[~^])")
_PEEL_TYPES = {"", "commit"}
_OTHER_TYPES = {"tree", "blob", "tag", "object"}
_HEX = re.compile(r"[0-9a-fA-F]+")
_PSEUDO_REF = re.compile(r"[A-Z_]+")
_DESCRIBE = re.compile(r"-g([0-9a-fA-F]+)$")
_RANGE_HELP = (
    "give a range: BASE..HEAD compares BASE with HEAD, and BASE...HEAD compares HEAD "
    "with the commit where it forked from BASE (as git diff does)"
)


def parse_range(text: str) -> RevisionRange:
    """``A..B`` or ``A...B`` (an empty side is ``HEAD``); a single revision is refused.

    Pure: nothing is looked up, so every error here is about the spelling."""
    if not isinstance(text, str):
        raise TypeError("a range is a string")
    if not text:
        raise SourceError(f"no revision range given; {_RANGE_HELP}")
    if len(text) > 2 * MAX_REVISION_LENGTH + 3:
        raise SourceError(f"a revision range of {len(text):,} characters is too long")
    dots = text.find("..")
    if dots < 0:
        if text.endswith(("^!", "^@")) or "^-" in text:
            raise SourceError(
                f"{text!r} is not supported: write the range out, e.g. X^..X for what "
                "commit X changed"
            )
        raise SourceError(f"{text!r} is a single revision; {_RANGE_HELP}")
    symmetric = text.startswith("...", dots)
    old_text = text[:dots]
    new_text = text[dots + (3 if symmetric else 2) :]
    if ".." in new_text:
        raise SourceError(f"{text!r} holds more than one range: give one BASE..HEAD")
    if not old_text and not new_text:
        raise SourceError(f"{text!r} names no revision at all; {_RANGE_HELP}")
    # git reads an empty side as HEAD (A.. is A..HEAD).
    old = parse_revision(old_text or "HEAD")
    new = parse_revision(new_text or "HEAD")
    return RevisionRange(text, old, new, symmetric)


def parse_revision(text: str) -> Revision:
    """One revision: a name or id, then ``~N``, ``^N``, ``^{commit}`` suffixes."""
    if not text:
        raise SourceError("an empty revision names nothing")
    if len(text) > MAX_REVISION_LENGTH:
        raise SourceError(
            f"a revision of {len(text):,} characters is too long (at most {MAX_REVISION_LENGTH:,})"
        )
    cut = min((i for i in (text.find("~"), text.find("^")) if i >= 0), default=len(text))
    base, rest = text[:cut], text[cut:]
    _check_base(text, base)
    steps: list[Step] = []
    pos = 0
    while pos < len(rest):
        match = _SUFFIX.match(rest, pos)
        if match is None:
            raise SourceError(_bad_suffix(text, rest[pos:]))
        tilde, braces, caret = match.groups()
        if braces is not None:
            steps.append(_peel_step(text, braces))
        elif tilde is not None:
            steps.append(Step("~", _step_number(text, tilde)))
        else:
            assert caret is not None
            steps.append(Step("^", _step_number(text, caret)))
        pos = match.end()
    return Revision(text, "HEAD" if base == "@" else base, tuple(steps))


def _check_base(text: str, base: str) -> None:
    if not base:
        raise SourceError(f"{text!r} has nothing before its ~ or ^: name a commit first")
    if "@{" in base:
        raise SourceError(
            f"{text!r}: reflog and upstream forms (NAME@{{...}}) are not supported, they "
            "depend on the history of one clone; name the branch, tag or commit"
        )
    if base.startswith(":") or ":" in base:
        raise SourceError(
            f"{text!r} names a path or searches commit messages (NAME:path, :/text); "
            "give a branch, tag or commit"
        )
    if base.startswith("-"):
        raise SourceError(f"{text!r} is not a revision (it looks like an option)")
    if base != "@" and not _HEX.fullmatch(base) and not valid_ref_name(base):
        raise SourceError(f"{text!r} is not a valid revision: {base!r} cannot be a ref name")


def _peel_step(text: str, kind: str) -> Step:
    if kind in _PEEL_TYPES:
        return Step("peel")
    if kind.startswith("/"):
        raise SourceError(f"{text!r}: searching commit messages (^{{/text}}) is not supported")
    if kind in _OTHER_TYPES:
        raise SourceError(
            f"{text!r}: ^{{{kind}}} is not supported: a range compares commits (use ^{{commit}})"
        )
    raise SourceError(f"{text!r}: ^{{{kind}}} is not an object type git knows")


def _step_number(text: str, digits: str) -> int:
    if not digits:
        return 1
    number = int(digits)
    if number > MAX_STEP:
        raise SourceError(f"{text!r}: {digits} is too large a number of steps")
    return number


def _bad_suffix(text: str, rest: str) -> str:
    if rest.startswith(("^!", "^@", "^-")):
        return (
            f"{text!r}: {rest[:2]} is a range shorthand this tool does not take; write "
            "the range out, e.g. X^..X for what commit X changed"
        )
    return (
        f"{text!r} is not a valid revision: after a name come only ~N, ^N and ^{{commit}} "
        f"(found {rest!r})"
    )


def valid_ref_name(name: str) -> bool:
    """git's ``check-ref-format --allow-onelevel``: what a ref name may be.

    No component starts with ``.`` or ends with ``.lock``; no ``..``, ``@{``, ``//``,
    leading or trailing ``/``, trailing ``.``; no control characters, space, or any of
    ``~^:?*[\\``; not ``@`` alone.  Names must also be valid UTF-8 text here (they go into
    file paths and pkt-lines as UTF-8)."""
    if not name or name == "@" or name.endswith((".", "/")) or name.startswith("/"):
        return False
    if ".." in name or "@{" in name or "//" in name:
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c in " ~^:?*[\\" for c in name):
        return False
    if any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ref_candidates(name: str) -> list[str]:
    """The full ref names ``name`` may mean, in git's order of precedence."""
    if not valid_ref_name(name):
        return []
    candidates = []
    # $GIT_DIR/NAME: git reads a file there only for a full refs/ name or for names in
    # upper case and underscores (HEAD, FETCH_HEAD, ORIG_HEAD, ...).
    if name.startswith("refs/") or _PSEUDO_REF.fullmatch(name):
        candidates.append(name)
    candidates += [
        f"refs/{name}",
        f"refs/tags/{name}",
        f"refs/heads/{name}",
        f"refs/remotes/{name}",
        f"refs/remotes/{name}/HEAD",
    ]
    return candidates


# -- resolution --------------------------------------------------------------------------


def _store_of(source: HistorySource | RevisionStore) -> RevisionStore:
    # Looked up on the type: isinstance() with a Protocol would evaluate ``hex_length``,
    # a network request for a store over HTTP.
    history = getattr(type(source), "history", None)
    if callable(history):
        store: RevisionStore = history(source)
        return store
    if callable(getattr(type(source), "refs", None)) and hasattr(type(source), "hex_length"):
        return cast(RevisionStore, source)
    describe = getattr(source, "describe", None)
    where = describe() if callable(describe) else repr(source)
    raise SourceError(
        f"{where} has no git history: revision ranges need a git repository "
        "(a local clone, a bare repository or a URL)"
    )


def resolve_range(
    source: HistorySource | RevisionStore,
    text: str,
    *,
    warnings: list[str] | None = None,
) -> tuple[str, str]:
    """``(base commit, head commit)`` of ``A..B`` (``A``, ``B``) or ``A...B`` (the merge base
    of ``A`` and ``B``, and ``B``); notes git would print as warnings (several merge bases, an
    ambiguous ref name) are appended to ``warnings`` when given."""
    rng = parse_range(text)
    store = _store_of(source)
    old_base = _resolve_base(store, rng.old, warnings)
    new_base = _resolve_base(store, rng.new, warnings)
    # Both sides' history at once (one request over HTTP), before any walk needs it.
    store.prefetch([old_base, new_base])
    old = _apply_steps(store, rng.old, old_base)
    new = _apply_steps(store, rng.new, new_base)
    if not rng.symmetric:
        return old, new
    bases = merge_bases(store, old, new)
    left, right = rng.old.text, rng.new.text
    if not bases:
        raise SourceError(
            f"{left}...{right}: no merge base, the two histories have no commit in common "
            f"(compare them with {left}..{right} instead)"
        )
    if len(bases) > 1 and warnings is not None:
        # git diff's own words for the same situation
        warnings.append(f"{left}...{right}: multiple merge bases, using {bases[0]}")
    return bases[0], new


def resolve_commit(
    source: HistorySource | RevisionStore,
    revision: str | Revision,
    *,
    warnings: list[str] | None = None,
) -> str:
    """The commit one revision names (tags peeled); :class:`SourceError` otherwise."""
    store = _store_of(source)
    rev = parse_revision(revision) if isinstance(revision, str) else revision
    return _apply_steps(store, rev, _resolve_base(store, rev, warnings))


def _apply_steps(store: RevisionStore, rev: Revision, oid: str) -> str:
    """The commit reached from ``oid`` (what ``rev.base`` names) by ``rev.steps``."""
    done = rev.base
    for step in rev.steps:
        commit = _peel(store, oid, rev, done)
        if step.kind == "peel":
            oid, done = commit, done + "^{commit}"
        elif step.kind == "^":
            if step.number:
                info = _commit(store, commit, rev, done)
                if len(info.parents) < step.number:
                    raise SourceError(_too_few_parents(rev, done, commit, info, step.number))
                oid = info.parents[step.number - 1]
            else:
                oid = commit
            done += f"^{step.number}"
        else:
            for count in range(step.number):
                info = _commit(store, commit, rev, done)
                if not info.parents:
                    raise SourceError(_no_parent(rev, done, commit, info, step.number, count))
                commit = info.parents[0]
            oid = commit
            done += f"~{step.number}"
    return _peel(store, oid, rev, done)


def _resolve_base(store: RevisionStore, rev: Revision, warnings: list[str] | None) -> str:
    """git's order: a full id as it is; then refs; then describe output; then an
    abbreviated id (see the module docstring)."""
    name = rev.base
    where = store.describe()
    if len(name) == store.hex_length and _HEX.fullmatch(name):
        return name.lower()
    candidates = ref_candidates(name)
    found = store.refs(candidates) if candidates else {}
    matches = [full for full in candidates if full in found]
    if matches:
        if warnings is not None:
            _warn_ambiguous_ref(store, name, matches, warnings)
        return found[matches[0]]
    described = _DESCRIBE.search(name)
    if described and len(described.group(1)) >= MIN_ABBREV:
        oid = _abbreviated(store, described.group(1), rev, commits_only=True, quiet=True)
        if oid is not None:
            return oid
    if _HEX.fullmatch(name) and MIN_ABBREV <= len(name) < store.hex_length:
        oid = _abbreviated(store, name, rev, commits_only=False, quiet=False)
        assert oid is not None
        return oid
    if _HEX.fullmatch(name) and len(name) > store.hex_length:
        raise SourceError(
            f"unknown revision {rev.text!r}: {len(name)} hex digits is longer than an "
            f"object id of {where} ({store.hex_length})"
        )
    raise SourceError(
        f"unknown revision {rev.text!r}: no branch, tag or commit {name!r} in {where}"
    )


def _warn_ambiguous_ref(
    store: RevisionStore, name: str, matches: list[str], warnings: list[str]
) -> None:
    """git warns when a name it takes as a ref also means something else: another ref, or
    (as an abbreviation that alone names one object) an object id."""
    if len(matches) > 1:
        warnings.append(f"refname {name!r} is ambiguous ({', '.join(matches)}); using {matches[0]}")
        return
    if not (_HEX.fullmatch(name) and MIN_ABBREV <= len(name) < store.hex_length):
        return
    try:
        candidates = store.abbreviations(name.lower())
    except AbbreviationsUnsupported:
        return  # over HTTP there is no telling
    if len(candidates) == 1:
        warnings.append(
            f"refname {name!r} is ambiguous (it is also an abbreviated id of "
            f"{candidates[0]}); using {matches[0]}"
        )


def _abbreviated(
    store: RevisionStore, digits: str, rev: Revision, *, commits_only: bool, quiet: bool
) -> str | None:
    """git's disambiguation for a revision that must be a commit: one candidate is taken as
    it is; among several, the only commit (or, unless ``commits_only``, tag of a commit)."""
    prefix = digits.lower()
    try:
        candidates = sorted(set(store.abbreviations(prefix)))
    except AbbreviationsUnsupported as exc:
        raise SourceError(
            f"{rev.text!r} is not a branch or tag of {store.describe()}, and {exc}"
        ) from None
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        if quiet:
            return None
        raise SourceError(
            f"unknown revision {rev.text!r}: no object id in {store.describe()} starts "
            f"with {prefix}"
        )
    kinds = {oid: store.object_kind(oid) for oid in candidates}
    fitting = [oid for oid in candidates if _committish(store, oid, kinds[oid], commits_only)]
    if len(fitting) == 1:
        return fitting[0]
    if quiet:
        return None
    shown = ", ".join(f"{oid[:12]} ({kinds[oid]})" for oid in candidates[:6])
    more = f" and {len(candidates) - 6} more" if len(candidates) > 6 else ""
    commits = sum(1 for oid in candidates if kinds[oid] == "commit")
    raise SourceError(
        f"abbreviated id {prefix!r} ({rev.text!r}) is ambiguous: {len(candidates)} objects "
        f"in {store.describe()} start with it ({commits} of them commits): {shown}{more}; "
        "give more hex digits"
    )


def _committish(store: RevisionStore, oid: str, kind: str, commits_only: bool) -> bool:
    if kind == "commit":
        return True
    if kind != "tag" or commits_only:
        return False
    try:
        store.peel(oid)
    except (MissingObject, NotACommit):
        return False
    return True


def _peel(store: RevisionStore, oid: str, rev: Revision, done: str) -> str:
    try:
        return store.peel(oid)
    except NotACommit as exc:
        raise SourceError(
            f"{_label(rev, done)} is a {exc.kind} ({exc.oid}), not a commit: a range "
            "compares commits"
        ) from None
    except MissingObject as exc:
        raise SourceError(
            f"{_label(rev, done)} names {exc.oid}, which does not exist in {store.describe()}"
        ) from None


def _commit(store: RevisionStore, oid: str, rev: Revision, done: str) -> CommitInfo:
    try:
        return store.commit(oid)
    except MissingObject as exc:
        raise SourceError(
            f"{_label(rev, done)}: commit {exc.oid} is not in {store.describe()} "
            "(history missing, as in a shallow or partial clone)"
        ) from None


def _label(rev: Revision, done: str) -> str:
    return repr(rev.text) if done == rev.text or not rev.steps else f"{done!r} (in {rev.text!r})"


def _too_few_parents(rev: Revision, done: str, commit: str, info: CommitInfo, n: int) -> str:
    have = len(info.parents)
    count = "no parent" if not have else "1 parent" if have == 1 else f"{have} parents"
    extra = " (a shallow clone's boundary: its parents were not fetched)" if info.shallow else ""
    return (
        f"unknown revision {rev.text!r}: {_label(rev, done)} is commit {commit[:12]}, which "
        f"has {count}{extra}, so it has no parent {n}"
    )


def _no_parent(
    rev: Revision, done: str, commit: str, info: CommitInfo, wanted: int, walked: int
) -> str:
    why = (
        "is a shallow clone's boundary (its parents were not fetched)"
        if info.shallow
        else "is a root commit"
    )
    return (
        f"unknown revision {rev.text!r}: the first-parent history of {_label(rev, done)} "
        f"ends after {walked} of {wanted} steps: commit {commit[:12]} {why}"
    )


# -- merge bases -------------------------------------------------------------------------

_ONE, _TWO, _STALE = 1, 2, 4


def merge_bases(source: HistorySource | RevisionStore, one: str, two: str) -> list[str]:
    """The merge bases of two commits in the order ``git merge-base --all one two`` lists
    them (best common ancestors, newest committer date first); empty when the histories
    are unrelated.  ``git diff one...two`` uses the first."""
    store = _store_of(source)
    one, two = store.peel(one), store.peel(two)
    if one == two:
        return [one]
    store.prefetch([one, two])
    found, flags = _paint(store, one, [two])
    candidates = _by_date(store, [c for c in found if not flags[c] & _STALE])
    if len(candidates) < 2:
        return candidates
    # Drop candidates that are ancestors of another: paint each against the rest.
    redundant: set[str] = set()
    for candidate in candidates:
        if candidate in redundant:
            continue
        others = [c for c in candidates if c != candidate and c not in redundant]
        if not others:
            break
        _, marks = _paint(store, candidate, others)
        if marks[candidate] & _TWO:
            redundant.add(candidate)
        redundant.update(other for other in others if marks.get(other, 0) & _ONE)
    return [c for c in candidates if c not in redundant]


def _paint(store: RevisionStore, one: str, twos: Sequence[str]) -> tuple[list[str], dict[str, int]]:
    """Walk down from ``one`` and ``twos`` newest first, marking what each reaches; a
    commit both reach is a common ancestor (kept in the order found), and everything below
    it is marked stale.  Stops when only stale commits are left to walk.

    The walk is git's ``paint_down_to_common`` (commit-reach.c) as git runs it without a
    commit-graph: a queue ordered by committer date, first in first out among equal dates.
    """
    flags: dict[str, int] = {one: _ONE}
    queue: list[tuple[int, int, str]] = []
    order = itertools.count()

    def push(oid: str) -> None:
        heapq.heappush(queue, (-store.commit(oid).time, next(order), oid))

    push(one)
    for two in twos:
        flags[two] = flags.get(two, 0) | _TWO
        push(two)
    found: list[str] = []
    seen: set[str] = set()
    while any(not flags[oid] & _STALE for _, _, oid in queue):
        _, _, oid = heapq.heappop(queue)
        mark = flags[oid] & (_ONE | _TWO | _STALE)
        if mark == _ONE | _TWO:
            if oid not in seen:
                seen.add(oid)
                found.append(oid)
            mark |= _STALE
        for parent in store.commit(oid).parents:
            if flags.get(parent, 0) & mark == mark:
                continue
            flags[parent] = flags.get(parent, 0) | mark
            push(parent)
    return found, flags


def _by_date(store: RevisionStore, commits: list[str]) -> list[str]:
    """Newest committer date first; equal dates keep their order (git inserts by date,
    after the commits of the same date already listed)."""
    return sorted(commits, key=lambda oid: -store.commit(oid).time)
