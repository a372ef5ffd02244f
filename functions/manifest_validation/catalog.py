"""The rule catalog: every problem code we can report, with a stable code, a severity, a one-line
summary, why it matters and how to fix it (in the manner of ruff's rule catalog).

Codes are a public contract (CI annotations, the results queue): never rename one; retire it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .problems import Problem, Severity

E = Severity.ERROR
W = Severity.WARNING


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    summary: str
    why: str
    fix: str
    source: str  # "format", "schema", "rules", "limits" or "upstream": which stage reports it


_RULES = (
    # --- reading the file -----------------------------------------------------------------------
    Rule(
        "invalid-encoding",
        E,
        "The file is not valid UTF-8.",
        "bashbrew and every tool after it read library files as UTF-8 text.",
        "Re-save the file as UTF-8.",
        "format",
    ),
    Rule(
        "binary-content",
        E,
        "The file contains NUL bytes: it is binary, not a library file.",
        "A library file is text; a NUL byte means a wrong file was committed.",
        "Replace the file with the text library definition.",
        "format",
    ),
    Rule(
        "empty-manifest",
        E,
        "The file has no fields at all.",
        "bashbrew refuses an empty (or comments-only) file.",
        "Add a global paragraph with Maintainers and at least one entry.",
        "format",
    ),
    Rule(
        "bad-line",
        E,
        "A line is not `Field: value`, a continuation, a comment or blank.",
        "bashbrew stops with `Bad line` on it.",
        "Add the missing `:`, indent the line to continue the previous field, or start it "
        "with `#`.",
        "format",
    ),
    Rule(
        "byte-order-mark",
        W,
        "The file starts with a UTF-8 byte order mark.",
        "bashbrew does not strip it: the first field name then includes the mark and is "
        "ignored, so Maintainers look missing.",
        "Save the file as UTF-8 without BOM.",
        "format",
    ),
    Rule(
        "whitespace-only-line",
        W,
        "A line holds only spaces or tabs.",
        "Such a line is a continuation, not a paragraph break: between two entries it merges "
        "them silently (later fields win, the first entry's tags vanish).",
        "Make the line truly empty.",
        "format",
    ),
    Rule(
        "orphan-continuation",
        W,
        "An indented line has no field before it and is dropped.",
        "bashbrew silently ignores a continuation line that starts a paragraph.",
        "Remove the indentation or attach the line to a field.",
        "format",
    ),
    Rule(
        "unknown-field",
        W,
        "A field name that bashbrew does not know; it is ignored.",
        "bashbrew silently ignores unknown fields (field names are case-sensitive), so a typo "
        "drops the value without a word.",
        "Use one of the known field names (see the suggestion).",
        "format",
    ),
    Rule(
        "repeated-field",
        W,
        "A field appears twice in one paragraph; the last value wins.",
        "bashbrew keeps only the last value without a word; the earlier one is lost.",
        "Keep one occurrence; merge list values with commas.",
        "format",
    ),
    Rule(
        "empty-value",
        W,
        "A field has an empty value; the default applies.",
        "An empty Directory, File or Builder silently means the default; usually a mistake.",
        "Give the field a value or remove it.",
        "format",
    ),
    Rule(
        "empty-list-item",
        E,
        "A list field has an empty item (`,,`, a trailing comma, or no value at all).",
        "bashbrew rejects empty items: an empty tag, maintainer or architecture is invalid.",
        "Remove the extra comma, or give the field a value.",
        "format",
    ),
    Rule(
        "duplicate-item",
        W,
        "An item is repeated in SharedTags or Architectures and is dropped.",
        "bashbrew de-duplicates these lists silently; the repetition is a leftover.",
        "Remove the repeated item.",
        "format",
    ),
    Rule(
        "list-appended-to-global",
        W,
        "An entry's Maintainers or Constraints are appended to "
        "the global ones, not replacing them.",
        "bashbrew appends these two list fields to the global paragraph's values, unlike every "
        "other field, which the entry replaces.",
        "Set the field only where it applies to every entry, or only in the entries.",
        "format",
    ),
    # --- single values (JSON Schema) -------------------------------------------------------------
    Rule(
        "missing-field",
        E,
        "A required field is missing.",
        "bashbrew needs Maintainers in the global paragraph, and Tags, GitRepo, GitFetch and "
        "GitCommit (after inheritance) in every entry.",
        "Add the field to the entry, or to the global paragraph to share it.",
        "schema",
    ),
    Rule(
        "global-tags",
        E,
        "The global paragraph sets Tags.",
        "Tags name one entry's image; bashbrew refuses them in the global paragraph.",
        "Move the Tags into an entry (a paragraph after the first).",
        "schema",
    ),
    Rule(
        "invalid-maintainer",
        E,
        "A maintainer is not `Name <email> (@handle)` or `Name (@handle)`.",
        "bashbrew refuses other forms; the GitHub handle is how reviewers reach a maintainer.",
        "Write it as `Full Name <email-or-url> (@github-handle)`.",
        "schema",
    ),
    Rule(
        "invalid-tag",
        E,
        "A tag or shared tag is not a valid Docker tag.",
        "Docker tags match `^\\w[\\w.-]{0,127}$` (ASCII); bashbrew refuses others.",
        "Use letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_`, at most "
        "128 characters.",
        "schema",
    ),
    Rule(
        "invalid-git-repo",
        E,
        "GitRepo is not a single URL.",
        "A GitRepo with whitespace (for example a continued line) cannot be cloned.",
        "Put the repository URL on one line, e.g. `https://github.com/owner/repo.git`.",
        "schema",
    ),
    Rule(
        "invalid-git-fetch",
        E,
        "GitFetch is not `refs/heads/...` or `refs/tags/...`.",
        "bashbrew fetches exactly this ref; anything else is refused.",
        "Write the full ref, e.g. `refs/heads/main` or `refs/tags/v1.2.3`.",
        "schema",
    ),
    Rule(
        "invalid-git-commit",
        E,
        "GitCommit is not a full 40- or 64-hex commit id.",
        "Builds must be reproducible: a commit id, not a tag, a branch or an abbreviation.",
        "Use the full commit id (`git rev-parse HEAD`), lower case.",
        "schema",
    ),
    Rule(
        "unsupported-architecture",
        E,
        "An architecture is not one Docker Official Images builds.",
        "bashbrew only knows amd64, arm32v5, arm32v6, arm32v7, arm64v8, i386, mips64le, "
        "ppc64le, riscv64, s390x and windows-amd64.",
        "Use one of the supported architecture names.",
        "schema",
    ),
    Rule(
        "invalid-builder",
        E,
        "Builder is not buildkit, classic or oci-import.",
        "The build infrastructure knows only these builders.",
        "Use `buildkit`, `classic` or `oci-import`, or remove the field.",
        "schema",
    ),
    Rule(
        "invalid-value",
        E,
        "A value does not match the library file schema.",
        "The schema describes every value bashbrew and the build infrastructure accept.",
        "Correct the value as the message says.",
        "schema",
    ),
    # --- rules across values ---------------------------------------------------------------------
    Rule(
        "duplicate-tag",
        E,
        "A tag is used twice (in one entry or across entries).",
        "A tag must name exactly one image; bashbrew refuses duplicates.",
        "Remove the repeated tag, or rename one of them.",
        "rules",
    ),
    Rule(
        "shared-tag-conflict",
        E,
        "A tag equals another entry's shared tag.",
        "A shared tag names a manifest list over several entries; a plain tag of the same name "
        "would make it ambiguous. bashbrew refuses it.",
        "Rename the tag or the shared tag.",
        "rules",
    ),
    Rule(
        "latest-in-tag",
        E,
        "A tag contains `latest` but is not exactly `latest`.",
        "official-images review (naughty.sh) refuses tags like `latest-alpine`: `latest` must "
        "only ever mean the default image.",
        "Drop `latest` from the tag, e.g. `alpine` instead of `latest-alpine`.",
        "rules",
    ),
    Rule(
        "shared-tag-arch-overlap",
        E,
        "Entries sharing a SharedTag build the same non-Windows architecture.",
        "A shared tag becomes one manifest list: two images for the same platform cannot both "
        "be in it (Windows images differ by OS version and may share).",
        "Give the overlapping entries different SharedTags or disjoint Architectures.",
        "rules",
    ),
    Rule(
        "path-escapes-repository",
        E,
        "Directory or File is absolute or leaves the repository.",
        "The build context must be inside the repository at GitCommit.",
        "Use a relative path inside the repository, without leading `/` or `..`.",
        "rules",
    ),
    Rule(
        "unused-arch-field",
        W,
        "An architecture-specific field names an architecture the entry does not build.",
        "The value is never used; usually the architecture was removed from Architectures "
        "and the field left behind, or the prefix is misspelled.",
        "Remove the field, or add the architecture to Architectures.",
        "rules",
    ),
    Rule(
        "unknown-arch-prefix",
        W,
        "An architecture-specific field has a prefix that is not a supported architecture.",
        "bashbrew accepts any prefix without a word; a misspelled one is never used.",
        "Use a supported architecture name as the prefix, e.g. `arm64v8-GitCommit`.",
        "rules",
    ),
    Rule(
        "invalid-image-name",
        E,
        "The file name is not a valid image repository name.",
        "The file name becomes the image name `library/<name>`, which must be lower case "
        "letters and digits, separated by `.`, `_`, `__` or dashes.",
        "Rename the file, e.g. `my-image`.",
        "rules",
    ),
    # --- limits of one validation (a public service bounds its work per request) ----------------
    Rule(
        "too-many-problems",
        E,
        "The manifest has more problems than are reported for one file.",
        "At most 200 problems are reported per manifest so that results stay small enough to "
        "read, annotate and queue; a file with that many is not a library file in review.",
        "Fix the problems reported (errors are reported first), then validate again to see the "
        "rest.",
        "limits",
    ),
    Rule(
        "validation-budget-exceeded",
        E,
        "The checks did not finish within the time budget of one validation.",
        "Each request gets a bounded amount of work; a manifest that needs more is not checked "
        "to the end, so it cannot be called valid. The problems found until then are reported.",
        "Split the file or remove what makes it unusually large; real library files are "
        "checked in milliseconds.",
        "limits",
    ),
    # --- upstream git (verify_git) ---------------------------------------------------------------
    Rule(
        "git-ref-not-found",
        E,
        "The GitFetch ref does not exist in GitRepo.",
        "bashbrew cannot fetch the commit without the ref: the build fails.",
        "Push the branch or tag, or point GitFetch at an existing one (the default is "
        "refs/heads/master).",
        "upstream",
    ),
    Rule(
        "git-commit-not-found",
        E,
        "GitCommit does not exist in GitRepo.",
        "The commit was never pushed, or it was force-pushed away.",
        "Push the commit, or use a commit that exists upstream.",
        "upstream",
    ),
    Rule(
        "git-commit-not-in-ref",
        E,
        "GitCommit is not reachable from the GitFetch ref.",
        "bashbrew fetches the ref and checks the commit out; a commit on another branch is "
        "not fetched, and one that is not an ancestor can disappear.",
        "Set GitFetch to the branch or tag that contains the commit.",
        "upstream",
    ),
    Rule(
        "git-url-forbidden",
        E,
        "GitRepo is refused by policy; no connection was made.",
        "Only public https:// repositories are fetched (no file:, ssh:, git:, plain http or "
        "private addresses).",
        "Use the repository's public https:// URL.",
        "upstream",
    ),
    Rule(
        "git-repo-unreachable",
        W,
        "The upstream repository could not be checked (network failure, timeout or server error).",
        "Not a defect of the manifest: the result is `unverified`, never `invalid`.",
        "Check again later; if it persists, check that GitRepo is reachable.",
        "upstream",
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def problem(
    code: str,
    message: str,
    *,
    line: int | None = None,
    field: str | None = None,
    hint: str | None = None,
) -> Problem:
    """A problem of a catalogued rule; its severity and default hint come from the catalog."""
    rule = RULES[code]
    return Problem(
        code=code,
        severity=rule.severity,
        message=message,
        line=line,
        field=field,
        hint=hint if hint is not None else rule.fix,
    )
