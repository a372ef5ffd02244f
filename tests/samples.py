"""Inputs that tests in more than one module share."""

from __future__ import annotations

# Manifest field names, per-architecture variants too (property tests and schema agreement).
FIELDS = [
    "Maintainers",
    "Tags",
    "SharedTags",
    "Architectures",
    "GitRepo",
    "GitFetch",
    "GitCommit",
    "Directory",
    "File",
    "Builder",
    "Constraints",
    "arm64v8-GitCommit",
    "amd64-Directory",
]

# A docs folder (docker-library/docs) with every file a folder holds, all of them fine.
PYTHON_METADATA = (
    b'{\n  "hub": {\n    "categories": [\n      "languages-and-frameworks"\n    ]\n  }\n}\n'
)
FOLDER = {
    "metadata.json": PYTHON_METADATA,
    "README-short.txt": b"Python is an interpreted, interactive, object-oriented, open-source "
    b"programming language.\n",
    "content.md": b"# What is Python?\n\nPython is a programming language.\n",
    "github-repo": b"https://github.com/docker-library/python\n",
    "license.md": b"View [license information](https://docs.python.org/3/license.html).\n",
    "maintainer.md": b"[the Docker Community](https://github.com/docker-library/python)\n",
    "logo.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 16,
}

# A commit id of the right shape.
C1 = "0123456789abcdef0123456789abcdef01234567"


def continued_maintainers(lines: int) -> str:
    """The issue's hostile case: a Maintainers field continued by `\\tbar,` lines."""
    return (
        "Maintainers: Jane Doe <jane@example.com> (@jane),\n"
        + "\tbar,\n" * (lines - 1)
        + f"\tbar\nGitRepo: https://e.com/r.git\n\nTags: a\nGitCommit: {C1}\n"
    )
