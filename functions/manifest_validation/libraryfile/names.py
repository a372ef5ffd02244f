"""The names every layer agrees on, defined once: what an image name is, what a commit id is,
and which fields say what an entry builds."""

from __future__ import annotations

import re

# An image name as official-images has them: a library file's name, a docs folder's name, the
# `manifest` of a result, a job, a webhook path `library/NAME` (the API request schema's `name`
# pattern is this one too; a test keeps them equal).
IMAGE_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
MAX_IMAGE_NAME = 255

# A full commit id, SHA-1 or SHA-256, lower-case (as GitCommit must be written).
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

# The scalar fields of an entry that together say what it builds (each may be given per
# architecture as `ARCH-Field`): bashbrew's build artifacts, the publisher's `entries` keys.
BUILD_FIELDS = ("GitRepo", "GitFetch", "GitCommit", "Directory", "File", "Builder")


def is_image_name(name: str) -> bool:
    return len(name) <= MAX_IMAGE_NAME and IMAGE_NAME.fullmatch(name) is not None
