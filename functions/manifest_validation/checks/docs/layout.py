"""What an image's folder in docker-library/docs holds: its files, which are required, and
their limits (as that repository's CI has them).
"""

from __future__ import annotations

METADATA = "metadata.json"


SHORT_DESCRIPTION = "README-short.txt"


GITHUB_REPO = "github-repo"


REQUIRED_FOR_EVERY_IMAGE = (METADATA, SHORT_DESCRIPTION)


# check-required-files.sh: every image folder but scratch (which has no source, license, ...)
REQUIRED_UNLESS_EXEMPT = ("content.md", GITHUB_REPO, "license.md", "maintainer.md")


EXEMPT_IMAGES = frozenset({"scratch"})


LOGOS = ("logo.png", "logo.svg")


# The files we read: the rest of a docs folder (README.md, tag-details.md, variant-*.md, ...)
# is generated or free-form and not checked.
CHECKED_FILES = (*REQUIRED_FOR_EVERY_IMAGE, *REQUIRED_UNLESS_EXEMPT, *LOGOS)


TEXT_FILES = (*REQUIRED_FOR_EVERY_IMAGE, *REQUIRED_UNLESS_EXEMPT)


MAX_SHORT_DESCRIPTION = 100


MAX_CATEGORIES = 3  # also in the schema (maxItems)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
