"""What the publisher's document is made of: each library file with what its entries build.

`ArchBuild` is what reading upstream found for one entry and architecture (the Dockerfile's
FROMs as bashbrew lists them, the build context's checksum and commit time); everything else
in `sources.json` comes from the library file itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..libraryfile.model import Manifest


@dataclass(frozen=True, slots=True)
class ArchBuild:
    """One entry building one architecture, as far as it could be read upstream (None: not
    read, or it could not be: no verifier, a network failure, a context over the bound).

    `froms` and `last_stage_from` are bashbrew's `ArchDockerFroms` and `ArchLastStageFrom`
    (the `oci-import` builder: `scratch`); `checksum` its `ArchGitChecksum` (the
    `reproducibleGitChecksum`) and `source_date_epoch` its `ArchGitTime`."""

    froms: tuple[str, ...] | None = None
    last_stage_from: str | None = None
    checksum: str | None = None
    source_date_epoch: int | None = None


# entry number (`Entry.number`) -> architecture -> what it builds
Builds = Mapping[int, Mapping[str, ArchBuild]]


@dataclass(frozen=True, slots=True)
class Image:
    """One library file in the document: its parsed model and what its entries build."""

    manifest: Manifest
    builds: Builds = field(default_factory=dict)

    def build(self, number: int, architecture: str) -> ArchBuild:
        return self.builds.get(number, {}).get(architecture) or ArchBuild()
