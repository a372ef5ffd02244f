"""A manifest that breaks each rule, at a known line, and a close one that passes: the cases of
test_rules.py, which test_schema.py also runs through both schema validators."""

from __future__ import annotations

from dataclasses import dataclass

C1 = "0123456789abcdef0123456789abcdef01234567"
C2 = "89abcdef0123456789abcdef0123456789abcdef"
C64 = "0123456789abcdef" * 4
HEAD = (
    "Maintainers: Jane Doe <jane@example.com> (@jane)\n"
    f"GitRepo: https://e.com/r.git\nGitCommit: {C1}\n"
)


@dataclass(frozen=True)
class Case:
    code: str
    bad: str | bytes
    line: int | None
    good: str | bytes
    name: str = "img"
    good_name: str = "img"


CASES = [
    Case(
        "invalid-encoding",
        b"Maintainers: A (@a)\n\nTags: \xff\n",
        3,
        "# caf\u00e9\n" + HEAD + "\nTags: a\n",
    ),
    Case("binary-content", b"\x00" + HEAD.encode(), 1, HEAD),
    Case("empty-manifest", "# nothing\n\n", None, HEAD),
    Case("bad-line", HEAD + "\nTags: a\nDirectory foo\n", 6, HEAD + "\nTags: a\nDirectory: foo\n"),
    Case("byte-order-mark", "\ufeff" + HEAD, 1, HEAD),
    Case(
        "whitespace-only-line",
        HEAD + "\nTags: a\n \t\nTags: b\n",
        6,
        HEAD + "\nTags: a\n\nTags: b\n",
    ),
    Case("orphan-continuation", HEAD + "\n more\nTags: a\n", 5, HEAD + "\nTags: a,\n more\n"),
    Case("unknown-field", HEAD + "\nTags: a\nGitComit: x\n", 6, HEAD + "\nTags: a\n"),
    Case("repeated-field", HEAD + "\nTags: a\nTags: b\n", 6, HEAD + "\nTags: a, b\n"),
    Case("empty-value", HEAD + "\nTags: a\nFile:\n", 6, HEAD + "\nTags: a\nFile: Dockerfile\n"),
    Case("empty-list-item", HEAD + "\nTags: a,\n  ,b\n", 6, HEAD + "\nTags: a,\n  b\n"),
    Case(
        "duplicate-item",
        HEAD + "\nTags: a\nArchitectures: amd64,\n  amd64\n",
        7,
        HEAD + "\nTags: a\nArchitectures: amd64\n",
    ),
    Case(
        "list-appended-to-global",
        HEAD + "\nTags: a\nMaintainers: John Roe (@john)\n",
        6,
        HEAD + "\nTags: a\n",
    ),
    Case("missing-field", "GitRepo: https://e.com/r.git\n", 1, HEAD),
    Case("global-tags", HEAD + "Tags: a\n", 4, HEAD + "\nTags: a\n"),
    Case(
        "invalid-maintainer",
        "Maintainers: Jane Doe (@jane),\n  Bob <bob@example.com>\n",
        2,
        "Maintainers: Jane Doe (@jane),\n  Bob <bob@example.com> (@bob)\n",
    ),
    Case(
        "invalid-tag",
        HEAD + "\nTags: a\nSharedTags: -bad\n",
        6,
        HEAD + "\nTags: a\nSharedTags: _ok\n",
    ),
    Case(
        "invalid-git-repo",
        HEAD + "\nTags: a\nGitRepo: https://e.com/ r.git\n",
        6,
        HEAD + "\nTags: a\nGitRepo: https://e.com/r.git\n",
    ),
    Case(
        "invalid-git-fetch",
        HEAD + "\nTags: a\nGitFetch: refs/pull/1/head\n",
        6,
        HEAD + "\nTags: a\nGitFetch: refs/tags/v1\n",
    ),
    Case(
        "invalid-git-commit",
        HEAD + "\nTags: a\narm64v8-GitCommit: abc123\nArchitectures: arm64v8\n",
        6,
        HEAD + f"\nTags: a\narm64v8-GitCommit: {C64}\nArchitectures: arm64v8\n",
    ),
    Case(
        "unsupported-architecture",
        HEAD + "\nTags: a\nArchitectures: amd64, aarch64\n",
        6,
        HEAD + "\nTags: a\nArchitectures: amd64, arm64v8\n",
    ),
    Case(
        "invalid-builder",
        HEAD + "\nTags: a\nBuilder: docker\n",
        6,
        HEAD + "\nTags: a\nBuilder: oci-import\n",
    ),
    Case(
        "invalid-value",
        HEAD + "\nTags: a\nDirectory: a\n b\n",
        6,
        HEAD + "\nTags: a\nDirectory: a/b\n",
    ),
    Case(
        "duplicate-tag",
        HEAD + "\nTags: a, b\n\nTags: c,\n  b\nDirectory: x\n",
        8,
        HEAD + "\nTags: a, b\n\nTags: c\nDirectory: x\n",
    ),
    Case(
        "shared-tag-conflict",
        HEAD + "\nTags: a\nSharedTags: s\n\nTags: s\nDirectory: x\n",
        8,
        HEAD + "\nTags: a\nSharedTags: s\n\n"
        "Tags: t\nSharedTags: s\nDirectory: x\nArchitectures: s390x\n",
    ),
    Case(
        "latest-in-tag",
        HEAD + "\nTags: a\nSharedTags: latest-alpine\n",
        6,
        HEAD + "\nTags: a\nSharedTags: latest\n",
    ),
    Case(
        "shared-tag-arch-overlap",
        HEAD + "\nTags: a\nSharedTags: s\nArchitectures: amd64, s390x\n\n"
        "Tags: b\nSharedTags: s\nArchitectures: s390x\nDirectory: b\n",
        10,
        HEAD + "\nTags: a\nSharedTags: s\nArchitectures: amd64, windows-amd64\n\n"
        "Tags: b\nSharedTags: s\nArchitectures: s390x, windows-amd64\nDirectory: b\n",
    ),
    Case(
        "manifest-too-complex",
        # 300 global shared tags on one line, inherited by 100 one-line entries: 30,100 items
        # for a 205-line file
        HEAD
        + "SharedTags: "
        + ", ".join(f"s{i}" for i in range(300))
        + "\n"
        + "".join(f"\nTags: t{i}\n" for i in range(100)),
        1,
        HEAD
        + "SharedTags: "
        + ", ".join(f"s{i}" for i in range(300))
        + "\n"
        + "".join(f"\nTags: t{i}\n" for i in range(50)),
    ),
    Case(
        "path-escapes-repository",
        HEAD + "\nTags: a\nDirectory: x/../../y\n",
        6,
        HEAD + "\nTags: a\nDirectory: x/../y\n",
    ),
    Case(
        "unused-arch-field",
        HEAD + "\nTags: a\ns390x-Directory: s\n",
        6,
        HEAD + "\nTags: a\nArchitectures: amd64, s390x\ns390x-Directory: s\n",
    ),
    Case(
        "unknown-arch-prefix",
        HEAD + "\nTags: a\narm64-GitFetch: refs/heads/x\n",
        6,
        HEAD + "\nTags: a\nArchitectures: arm64v8\narm64v8-GitFetch: refs/heads/x\n",
    ),
    Case("invalid-image-name", HEAD, None, HEAD, name="My_Image", good_name="my_image"),
    Case(
        "too-many-problems",
        HEAD + "\nTags: a\n" + "".join(f"X-Unknown-{i}: v\n" for i in range(201)),
        None,
        HEAD + "\nTags: a\n",
    ),
]
