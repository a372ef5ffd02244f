"""What the parent rules transcribe from official-images' CI scripts, held to the scripts
themselves (`../shared/reference/official-images/`, 2026-08-21): the riscv64 patterns and
message of naughty-from.sh, the Windows bases of naughty-constraints.sh. A newer copy of a
script that changes them fails here, naming what to update."""

from __future__ import annotations

import re

import pytest

from manifest_validation.checks.build_problems import RISCV64_UBUNTU_MESSAGE
from manifest_validation.checks.parents import (
    RISCV64_UBUNTU_PERMITTED,
    WINDOWS_CONSTRAINT_PREFIXES,
)
from paths import SHARED, beside

pytestmark = pytest.mark.shared

SCRIPTS = SHARED / "reference" / "official-images"


def script(name: str) -> str:
    return beside(SCRIPTS / name, "official-images' CI scripts").read_text()


def test_riscv64_ubuntu_patterns_and_message_are_naughty_froms() -> None:
    text = script("naughty-from.sh")
    # the `case "$normalized"` arm that lets a parent through on riscv64
    arm = re.search(r'case "\$normalized" in\s*\n\s*(ubuntu:[^)]*)\)', text)
    assert arm is not None, "naughty-from.sh has no riscv64 case on $normalized"
    patterns = tuple(part.strip() for part in arm[1].split("|"))
    assert patterns == RISCV64_UBUNTU_PERMITTED
    messages = set(re.findall(r"message='(DOI cannot support riscv64[^']*)'", text))
    assert messages == {RISCV64_UBUNTU_MESSAGE}


def test_windows_constraints_are_naughty_constraints() -> None:
    text = script("naughty-constraints.sh")
    body = text[text.index("_windows_constraint() {") : text.index("_expected_constraints() {")]
    arms = re.findall(r"^\s*([a-z./| ]+)\) constraint='([a-z]+)' ;;$", body, re.MULTILINE)
    assert arms, "naughty-constraints.sh has no _windows_constraint arms"
    transcribed = {
        repository.strip(): constraint
        for repositories, constraint in arms
        for repository in repositories.split("|")
    }
    assert transcribed == WINDOWS_CONSTRAINT_PREFIXES
