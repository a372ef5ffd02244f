"""`.external-pins/`: official-images' own naming (`list.sh`, `file.sh`, `tag.sh`) both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from manifest_validation.libraryfile.pins import ExternalPins, pin_path, pinned_reference
from paths import SHARED, beside

DIGEST = "sha256:" + "ab" * 32


def test_names_both_ways_as_the_scripts_convert_them() -> None:
    # only the first ':' becomes '___' (file.sh: ${img/:/___}), and back (tag.sh: ${rel/___/:})
    assert pin_path("mcr.microsoft.com/windows/servercore:ltsc2022") == (
        "mcr.microsoft.com/windows/servercore___ltsc2022"
    )
    assert pinned_reference("redhat/ubi9-minimal___latest") == "redhat/ubi9-minimal:latest"
    assert pin_path("redhat/ubi9") is None  # file.sh refuses a reference without a tag
    for script in ("list.sh", "file.sh", "tag.sh", "update.sh"):
        assert pinned_reference(script) is None


def test_pins_of_files_keep_digests_and_report_what_is_not_one(tmp_path: Path) -> None:
    pins = ExternalPins.of_files(
        {
            "redhat/ubi9___latest": f"{DIGEST}\n".encode(),
            "tianon/buildkit___0.16": b"latest\n",
            "list.sh": b"#!/usr/bin/env bash\n",
        }
    )
    assert pins.digests == {"redhat/ubi9:latest": DIGEST}
    assert pins.pin("redhat/ubi9:latest") == DIGEST and pins.pin("redhat/ubi8:latest") is None
    assert pins.invalid == (("tianon/buildkit___0.16", "not a digest: 'latest'"),)
    missing = ExternalPins.from_directory(tmp_path / "nowhere")
    assert not missing.available and "is not a directory" in missing.reason


@pytest.mark.shared
def test_the_real_pins_read_as_list_sh_lists_them() -> None:
    directory = beside(SHARED / "corpus" / "official-images" / ".external-pins", "the pins")
    pins = ExternalPins.from_directory(directory)
    listed = sorted(
        path.relative_to(directory).as_posix().replace("___", ":", 1)
        for path in directory.rglob("*___*")
        if path.is_file()
    )
    assert sorted(pins.digests) == listed and pins.invalid == ()
    assert "redhat/ubi9-minimal:latest" in pins.digests
