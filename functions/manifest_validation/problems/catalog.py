"""The rule catalog: every problem code we can report, with a stable code, a severity, a one-line
summary, why it matters and how to fix it (in the manner of ruff's rule catalog).

Codes are a public contract (CI annotations, the results queue): never rename one; retire it.
A retired rule stays in the catalog (and in docs/rules.md) with what replaced it, and is never
raised again: `problem` refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .problem import Problem, Severity

E = Severity.ERROR
W = Severity.WARNING
N = Severity.INFO  # a note


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    summary: str
    why: str
    fix: str
    # which stage reports it: "format", "schema", "rules", "limits", "upstream", "builds" or "docs"
    source: str
    # bashbrew itself refuses the file for this (where the value is one bashbrew checks): such a
    # manifest fails on the publishing side too, and `cat` prints nothing for it, as bashbrew
    bashbrew: bool = False
    # a retired rule: when and why, and which codes report its cases now (empty: in use)
    retired: str = ""


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
        bashbrew=True,
    ),
    Rule(
        "bad-line",
        E,
        "A line is not `Field: value`, a continuation, a comment or blank.",
        "bashbrew stops with `Bad line` on it.",
        "Add the missing `:`, indent the line to continue the previous field, or start it "
        "with `#`.",
        "format",
        bashbrew=True,
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
        bashbrew=True,
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
        bashbrew=True,
    ),
    Rule(
        "global-tags",
        E,
        "The global paragraph sets Tags.",
        "Tags name one entry's image; bashbrew refuses them in the global paragraph.",
        "Move the Tags into an entry (a paragraph after the first).",
        "schema",
        bashbrew=True,
    ),
    Rule(
        "invalid-maintainer",
        E,
        "A maintainer is not `Name <email> (@handle)` or `Name (@handle)`.",
        "bashbrew refuses other forms; the GitHub handle is how reviewers reach a maintainer.",
        "Write it as `Full Name <email-or-url> (@github-handle)`.",
        "schema",
        bashbrew=True,
    ),
    Rule(
        "invalid-tag",
        E,
        "A tag or shared tag is not a valid Docker tag.",
        "Docker tags match `^\\w[\\w.-]{0,127}$` (ASCII); bashbrew refuses others.",
        "Use letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_`, at most "
        "128 characters.",
        "schema",
        bashbrew=True,
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
        bashbrew=True,
    ),
    Rule(
        "invalid-git-commit",
        E,
        "GitCommit is not a full 40- or 64-hex commit id.",
        "Builds must be reproducible: a commit id, not a tag, a branch or an abbreviation.",
        "Use the full commit id (`git rev-parse HEAD`), lower case.",
        "schema",
        bashbrew=True,
    ),
    Rule(
        "unsupported-architecture",
        E,
        "An architecture is not one Docker Official Images builds.",
        "bashbrew only knows amd64, arm32v5, arm32v6, arm32v7, arm64v8, i386, mips64le, "
        "ppc64le, riscv64, s390x and windows-amd64.",
        "Use one of the supported architecture names.",
        "schema",
        bashbrew=True,
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
        bashbrew=True,
    ),
    Rule(
        "shared-tag-conflict",
        E,
        "A tag equals another entry's shared tag.",
        "A shared tag names a manifest list over several entries; a plain tag of the same name "
        "would make it ambiguous. bashbrew refuses it.",
        "Rename the tag or the shared tag.",
        "rules",
        bashbrew=True,
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
        "manifest-too-complex",
        E,
        "Entries inherit so many list values that the rules across entries were not run.",
        "Every entry copies the global SharedTags and Architectures; thousands of global values "
        "times thousands of entries is a model far larger than the file, and checking it would "
        "cost minutes. No real library file comes near the limit.",
        "Set SharedTags (and Architectures) in the entries that need them, not globally.",
        "limits",
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
    # --- docs folders (docker-library/docs: <image>/metadata.json, README-short.txt, ...) ---------
    Rule(
        "docs-missing-file",
        E,
        "A required file of the image's docs folder is missing.",
        "metadata.json and README-short.txt (the Docker Hub short description) belong to every "
        "image; the docs CI (check-required-files.sh) also requires content.md, github-repo, "
        "license.md and maintainer.md of every image but scratch.",
        "Add the file to the docs folder (see an existing image's folder for its form).",
        "docs",
    ),
    Rule(
        "docs-empty-file",
        E,
        "A required file of the docs folder is empty (or only whitespace).",
        "The docs CI refuses empty required files (`[ -s FILE ]`); a file of blank lines "
        "passes it but documents nothing.",
        "Write the file's content.",
        "docs",
    ),
    Rule(
        "docs-invalid-encoding",
        E,
        "A text file of the docs folder is not valid UTF-8.",
        "The docs are rendered to Docker Hub as UTF-8 text.",
        "Re-save the file as UTF-8.",
        "docs",
    ),
    Rule(
        "docs-invalid-json",
        E,
        "metadata.json is not valid JSON.",
        "The docs CI (metadata.sh) cannot read the file; Docker Hub gets no categories.",
        "Correct the JSON at the line and column given.",
        "docs",
    ),
    Rule(
        "docs-invalid-metadata",
        E,
        "metadata.json does not have the shape of schemas/docs-metadata.schema.json.",
        "metadata.sh needs an object with `hub.categories`, an array of category names; "
        "anything else fails the docs CI.",
        'Write it as `{"hub": {"categories": [...]}}` (an empty array is allowed).',
        "docs",
    ),
    Rule(
        "docs-unknown-category",
        E,
        "A category in metadata.json is not one of the docs repository's canonical categories.",
        "metadata.sh refuses categories missing from the root metadata.json: Docker Hub only "
        "knows those.",
        "Use one of the canonical categories (see the suggestion).",
        "docs",
    ),
    Rule(
        "docs-too-many-categories",
        E,
        "metadata.json lists more than 3 categories.",
        "metadata.sh allows at most 3 categories per image.",
        "Keep the (at most) 3 categories that describe the image best.",
        "docs",
    ),
    Rule(
        "docs-duplicate-category",
        E,
        "A category is listed twice in metadata.json.",
        "metadata.sh's canonical form de-duplicates categories, so the file fails its format "
        "check.",
        "Remove the repeated category.",
        "docs",
    ),
    Rule(
        "docs-unknown-key",
        W,
        "metadata.json has a key the docs repository does not use; it is ignored.",
        "Only `hub.categories` is read (metadata.sh does not refuse other keys, but a "
        "misspelled key is silently ignored).",
        "Remove the key, or correct its spelling.",
        "docs",
    ),
    Rule(
        "docs-not-canonical",
        W,
        "metadata.json is not in canonical form (`jq --sort-keys`, 2-space indent, "
        "categories sorted and unique, final newline).",
        "metadata.sh fails on any difference from the canonical text.",
        "Replace the file with the canonical text given in the hint (or run `./metadata.sh "
        "--write IMAGE` in docker-library/docs).",
        "docs",
    ),
    Rule(
        "docs-short-description-too-long",
        E,
        "README-short.txt is longer than 100 characters.",
        "It becomes the Docker Hub short description, limited to 100 characters; the docs CI "
        "(check-short.sh) refuses longer ones.",
        "Shorten the description to at most 100 characters.",
        "docs",
    ),
    Rule(
        "docs-short-description-lines",
        E,
        "README-short.txt has more than one line.",
        "The Docker Hub short description is one line; the docs CI (check-short.sh) refuses more.",
        "Put the description on one line (a final newline is fine).",
        "docs",
    ),
    Rule(
        "docs-invalid-github-repo",
        E,
        "github-repo is not one https:// URL.",
        "The generated README links to it as the image's source repository and issue tracker.",
        "Write the repository's URL on one line, e.g. `https://github.com/docker-library/python`.",
        "docs",
    ),
    Rule(
        "docs-invalid-logo",
        W,
        "logo.png is not a PNG image, or logo.svg is not an SVG document.",
        "The logo is shown on Docker Hub; a file of another type shows nothing.",
        "Replace the file with a PNG (logo.png) or SVG (logo.svg) image.",
        "docs",
    ),
    Rule(
        "missing-docs-folder",
        E,
        "An image has a library file but no docs folder.",
        "Every Official Image needs its documentation in docker-library/docs: without it the "
        "Docker Hub page is empty.",
        "Add the image's folder to docker-library/docs (or check the docs directory given).",
        "docs",
    ),
    Rule(
        "missing-library-file",
        E,
        "A docs folder has no library file (scratch is exempt).",
        "Docs for an image that is not built document nothing; usually the image was renamed "
        "or the library file is missing from the check.",
        "Add the library file, or rename or remove the docs folder.",
        "docs",
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
        "commit-not-descendant",
        W,
        "The new GitCommit does not descend from the old one on the same GitRepo and GitFetch.",
        "A GitCommit normally moves forward along its branch; one that does not means the "
        "branch's history was rewritten (force-pushed) or the image goes back to an older "
        "commit, both worth a reviewer's look (reported by `diff --verify-git` and for pushes "
        "and API requests with a base).",
        "Make sure the downgrade or the rewritten history is intended, and say why in the "
        "pull request.",
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
    Rule(
        "unpleasant-commit",
        E,
        "A commit in GitCommit's history modifies a binary file whose path holds `.tar`, "
        "of 3 MiB or more.",
        "Every such rewrite keeps another copy of a large tarball in the repository's history, "
        "which every clone and fetch of it downloads forever; official-images CI refuses it "
        "(naughty-commits.sh, `Unpleasant commits detected`: `larger than 2MB` in whole MiB).",
        "Keep large tarballs out of the repository (download them in the Dockerfile and verify "
        "a checksum), or build from a repository or branch whose history does not rewrite them.",
        "upstream",
    ),
    # --- what each entry builds (verify_git: the Dockerfiles at GitCommit) -----------------------
    Rule(
        "dockerfile-not-found",
        E,
        "The Directory or File of an entry does not exist at its GitCommit.",
        "The build starts from this Dockerfile (Directory + File, architecture-specific values "
        "first); without it nothing can be built.",
        "Commit the Dockerfile, or point Directory/File (or GitCommit) at where it is.",
        "builds",
    ),
    Rule(
        "context-submodule",
        E,
        "The build context (Directory at GitCommit) holds a submodule.",
        "bashbrew archives the context from the commit's tree and cannot read a submodule "
        "(a gitlink has no content in the repository): the publisher cannot compute its "
        "reproducibleGitChecksum, and the image cannot be built.",
        "Vendor the submodule's files into the repository, or move the build's Directory "
        "away from it.",
        "builds",
    ),
    Rule(
        "context-unsupported",
        E,
        "The build context holds an entry bashbrew cannot archive (a file mode git no longer "
        "writes, an empty symbolic link, a name tar cannot encode).",
        "bashbrew writes the context as a tar stream of regular files, executables, "
        "directories and symbolic links only; anything else stops it, so the image cannot be "
        "built.",
        "Re-add the file with a normal mode (`git add --chmod=-x`/`+x`), give the link a "
        "target, or rename the file; the message names the path.",
        "builds",
    ),
    Rule(
        "context-too-large",
        W,
        "The build context is larger than this service reads (64 MiB by default).",
        "Not a defect of the manifest: its reproducibleGitChecksum (and the source's "
        "sourceId) are left out of the result, and the Dockerfile is still checked.",
        "Nothing to fix in the manifest; a smaller context (a .dockerignore does not "
        "help: the whole Directory is the context) builds faster too.",
        "builds",
    ),
    Rule(
        "dockerfile-unparseable",
        E,
        "The Dockerfile has no FROM, or a FROM whose image still holds an unset variable.",
        "The parents decide the build order and which architectures can be built; a FROM "
        "that only resolves with a --build-arg cannot be built by the official builders, "
        "which pass none.",
        "Give every ARG used in FROM a default before the first FROM, or write the image out.",
        "builds",
    ),
    Rule(
        "from-not-official",
        E,
        "A parent is neither an official image nor an external image pinned in the manifests "
        "repository's `.external-pins`.",
        "Official images build only on other official images, so every layer is reviewed and "
        "rebuilt when its parent changes; official-images CI (naughty-from.sh) permits an "
        "external parent (a name with `/`) only where `.external-pins/<image>___<tag>` pins it "
        "to a digest, and only on the architectures that digest serves.",
        "Build FROM an official image (e.g. `debian:bookworm-slim`), or ask the official-images "
        "maintainers to pin the external image in `.external-pins`.",
        "builds",
    ),
    Rule(
        "from-tag-unknown",
        E,
        "A parent names an official image with a tag that is in none of its Tags or SharedTags.",
        "A tag that the library does not define is not built nor kept up to date; the build "
        "fails when the tag disappears or uses a stale image.",
        "Use one of the parent image's current tags.",
        "builds",
    ),
    Rule(
        "from-arch-unsupported",
        E,
        "A parent is not built for an architecture this entry builds (an official image's tag, "
        "or the digest an external image is pinned to).",
        "The build of that architecture has no parent image to start from and fails; for a "
        "pinned external image, its registry says which architectures the pinned digest serves "
        "(a digest the registry does not have serves none).",
        "Remove the architecture from Architectures, or pick a parent that builds it.",
        "builds",
    ),
    Rule(
        "from-scratch-on-windows",
        E,
        "A Windows architecture builds FROM scratch.",
        "There is no empty Windows image: a Windows container starts from a Windows base "
        "image, and official-images CI (naughty-from.sh) refuses `scratch` on `windows-*`.",
        "Build FROM a pinned Windows base (e.g. `mcr.microsoft.com/windows/servercore:ltsc2022`),"
        " or remove the Windows architecture.",
        "builds",
    ),
    Rule(
        "from-ubuntu-riscv64",
        E,
        "riscv64 builds FROM an `ubuntu` tag that is not Ubuntu 22.04, 24.04 or 25.04.",
        "Ubuntu 25.10 and newer require the RVA23 RISC-V profile, for which Docker Official "
        "Images have no build hardware; official-images CI (naughty-from.sh) permits riscv64 "
        "only on `ubuntu` tags that `bashbrew list --uniq` resolves to 22.04, 24.04, 25.04, "
        "jammy*, noble* or plucky*.",
        "Remove riscv64 from Architectures, or build riscv64 FROM `ubuntu:24.04`.",
        "builds",
    ),
    Rule(
        "pinned-digest-mismatch",
        E,
        "The registry served bytes for an external parent's pinned digest that do not hash to it.",
        "A digest names exact bytes; content that does not match it cannot be trusted to be "
        "the image `.external-pins` pins (a broken registry or mirror, or tampering).",
        "Check the registry (or the registry mirror) serving the image; validate again.",
        "builds",
    ),
    Rule(
        "registry-unreachable",
        W,
        "The registry of a pinned external parent could not be asked which architectures its "
        "digest serves.",
        "Not a defect of the manifest: the result is `unverified`, never `invalid`.",
        "Check again later; behind a firewall, give the registry a mirror with "
        "`--registry-mirror HOST=URL`.",
        "builds",
    ),
    Rule(
        "from-windows-latest",
        E,
        "A parent is a retired Windows `latest` tag (servercore or nanoserver).",
        "Microsoft removed the `latest` tags of its Windows base images: they no longer "
        "exist, and a Windows image must match the host's OS version anyway.",
        "Use a versioned tag, e.g. `mcr.microsoft.com/windows/servercore:ltsc2022`.",
        "builds",
        retired="gone with the permitted-parent wildcards of the old naughty-from.sh "
        "(official-images CI of 2026-08-21 has neither): a Microsoft base is an external image "
        "like any other, permitted only where `.external-pins` pins it, and no `latest` tag is "
        "pinned, so such a parent is reported as `from-not-official`.",
    ),
    Rule(
        "constraints-missing",
        E,
        "The entry lacks Constraints that its parents imply.",
        "Constraints choose the build hosts: a Windows image must build on a host of its base's "
        "OS version, and an image inherits its parent's constraints (naughty-constraints.sh).",
        "Add the missing values to Constraints (e.g. `windowsservercore-ltsc2022`).",
        "builds",
    ),
    Rule(
        "constraints-extra",
        E,
        "The entry has Constraints that none of its parents imply.",
        "An extra constraint sends the build to hosts it does not need (or to none at all); "
        "official-images CI (naughty-constraints.sh) compares Constraints with what the "
        "parents of each architecture imply, `!aufs` on an image FROM scratch included.",
        "Remove the values from Constraints, or build FROM the parent that needs them.",
        "builds",
    ),
    Rule(
        "windows-parent-unknown",
        E,
        "A parent's name contains `microsoft` but it is neither Windows servercore nor "
        "nanoserver, so no constraint can be derived from it.",
        "official-images CI (naughty-constraints.sh) derives the Constraints of a Microsoft "
        "parent from its name and stops with `unknown Windows image` for any other, failing "
        "the pull request.",
        "Build FROM `mcr.microsoft.com/windows/servercore` or `.../nanoserver` with a "
        "versioned tag.",
        "builds",
    ),
    Rule(
        "parent-checks-skipped",
        N,
        "Parents that are other official images were not checked: no library was available.",
        "Whether a parent's tag exists and builds each architecture is read from the other "
        "library files at the same revision.",
        "Pass `--library DIR` (a directory of library files) to `check --verify-git`.",
        "builds",
    ),
    Rule(
        "external-parents-skipped",
        N,
        "External parents (names with `/`) were not checked: no `.external-pins` was available.",
        "Whether an external parent is permitted, and on which architectures, is read from the "
        "manifests repository's `.external-pins` at the same revision as its library, and from "
        "the registry of each pinned digest.",
        "Pass `--external-pins DIR`, or `--library DIR` of an official-images checkout (whose "
        "`.external-pins` is beside `library/`).",
        "builds",
    ),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


# The global paragraph's values bashbrew checks there, on their own; the others only in the
# entries that inherit them.
GLOBALLY_CHECKED = frozenset({"Maintainers", "Tags", "Architectures"})


# bashbrew's GitFetchRegex as Go applies it: `[^*?:]` also takes newlines and spaces, and `$`
# is the end of the text. Ours is stricter (no whitespace), so a GitFetch may fail ours only.
BASHBREW_GIT_FETCH = re.compile(r"refs/(heads|tags)/[^*?:]+")


def refused_by_bashbrew(
    found: Problem, *, unused_global: bool = False, value: str | None = None
) -> bool:
    """Whether bashbrew itself would refuse the manifest for this problem.

    bashbrew checks the values of the fields it knows; an `ARCH-*` value and the items of
    Constraints it takes as they are (we check them all the same). `unused_global`: the problem
    is about a global value no entry inherits, which bashbrew checks only for GLOBALLY_CHECKED.
    `value`: the value the problem is about, where known (a GitFetch bashbrew's own regexp
    takes is refused by ours only).
    """
    rule = RULES.get(found.code)
    if rule is None or not rule.bashbrew:
        return False
    if found.field is not None and "-" in found.field:  # an ARCH-* field
        return False
    if unused_global and found.field not in GLOBALLY_CHECKED:
        return False
    if found.code == "invalid-git-fetch" and value is not None:
        return BASHBREW_GIT_FETCH.fullmatch(value) is None
    return not (found.code == "empty-list-item" and found.field == "Constraints")


# Errors after which the publisher's sources.sh cannot make a manifest's sources: what bashbrew
# cannot read upstream (a ref, a commit, a Dockerfile, a build context it cannot archive).
# Review rules (parents, constraints, our own rules of the text) do not stop it.
_STOPS_SOURCES = frozenset(
    {"dockerfile-not-found", "dockerfile-unparseable", "context-submodule", "context-unsupported"}
)


def stops_sources(found: Problem, *, unused_global: bool = False, value: str | None = None) -> bool:
    """Whether this problem keeps the manifest out of the publisher's sources.json: bashbrew
    refuses the file, it could not be read whole or checked in time, or sources.sh fails on
    what it builds (upstream: a missing ref or commit, a Dockerfile, a context)."""
    if found.severity is not Severity.ERROR:
        return False
    rule = RULES.get(found.code)
    if rule is None or found.code in _STOPS_SOURCES:
        return True
    if rule.source in ("format", "limits", "upstream"):
        return True
    return refused_by_bashbrew(found, unused_global=unused_global, value=value)


def problem(
    code: str,
    message: str,
    *,
    line: int | None = None,
    field: str | None = None,
    hint: str | None = None,
    file: str | None = None,
) -> Problem:
    """A problem of a catalogued rule; its severity and default hint come from the catalog."""
    rule = RULES[code]
    if rule.retired:
        raise ValueError(f"{code} is retired: {rule.retired}")
    return Problem(
        code=code,
        severity=rule.severity,
        message=message,
        line=line,
        field=field,
        hint=hint if hint is not None else rule.fix,
        file=file,
    )
