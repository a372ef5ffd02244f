"""``diff`` attribute resolution, held to ``git check-attr`` in a work tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitserver import run_git
from manifest_validation.upstream.gitattributes import (
    UNSPECIFIED,
    AttributeFile,
    diff_attribute,
)

FILES = {
    "": b"""# root file
*.tar -diff
[attr]nodiff -diff
[attr]textish diff
forced.tar diff
/anchored.tar.txt binary
docs/**/*.tar.md nodiff
**/logs/*.tar.log -diff
unset.tar !diff
named.tar diff=python
"quoted name.tar" -diff
br[a-c]cket.tar.txt -diff
neg[!x].tar.txt -diff
q?.tar.txt -diff
trailing.tar/ -diff
macro.tar.txt textish
""",
    "keep": b"*.tar diff\nsub/*.tar -binary\n",
    "keep/sub": b"inner.tar binary\n",
    "docs": b"[attr]ignored -diff\nx.tar.txt ignored\n",
}

PATHS = [
    "a.tar",
    "forced.tar",
    "anchored.tar.txt",
    "sub/anchored.tar.txt",
    "docs/a/b/c.tar.md",
    "docs/c.tar.md",
    "x/logs/l.tar.log",
    "logs/l.tar.log",
    "unset.tar",
    "named.tar",
    "quoted name.tar",
    "brbcket.tar.txt",
    "brdcket.tar.txt",
    "negy.tar.txt",
    "negx.tar.txt",
    "q1.tar.txt",
    "q12.tar.txt",
    "trailing.tar",
    "macro.tar.txt",
    "keep/a.tar",
    "keep/sub/b.tar",
    "keep/sub/inner.tar",
    "docs/x.tar.txt",
    "other.txt",
]


def _git_value(work: Path, path: str) -> object:
    line = run_git("check-attr", "diff", "--", path, cwd=work)
    value = line.rsplit(": ", 1)[1]
    return {"set": True, "unset": False, "unspecified": None}.get(value, value)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("attrs")
    run_git("init", "-q", root)
    for directory, content in FILES.items():
        target = root / directory / ".gitattributes"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return root


@pytest.mark.parametrize("path", PATHS)
def test_diff_attribute_matches_git_check_attr(work: Path, path: str) -> None:
    parsed = {directory: AttributeFile.parse(content) for directory, content in FILES.items()}
    ours = diff_attribute(path, parsed)
    if ours is UNSPECIFIED:
        ours = None
    assert ours == _git_value(work, path)
