"""The environment is read in one place: settings.py (every setting, once), plus the tracing
switch in handlers/tracing.py, which follows Powertools' own rule. Nothing else in the package
looks at os.environ, os.getenv or an `environ` of its own."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import manifest_validation

PACKAGE = Path(manifest_validation.__file__).parent
ALLOWED = {"settings.py", "handlers/tracing.py"}
OS_NAMES = {"environ", "environb", "getenv", "getenvb"}


def environment_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, what) of each place that reads the environment."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in OS_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            yield node.lineno, ast.unparse(node)  # os.environ, os.getenv, ...
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in OS_NAMES:
                    yield node.lineno, f"from os import {alias.name}"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "environ"
        ):
            yield node.lineno, ast.unparse(node)  # environ.get, environ[...]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "environ":
            yield node.lineno, ast.unparse(node)


def readers() -> dict[str, list[tuple[int, str]]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        reads = list(environment_reads(ast.parse(path.read_text(), str(path))))
        if reads:
            found[path.relative_to(PACKAGE).as_posix()] = reads
    return found


def test_only_settings_and_the_tracing_switch_read_the_environment() -> None:
    found = readers()
    assert {module: reads for module, reads in found.items() if module not in ALLOWED} == {}
    # and the search sees a read where there is one
    assert {"settings.py", "handlers/tracing.py"} <= set(found)


def test_every_kind_of_read_is_seen() -> None:
    source = (
        "import os\nfrom os import getenv\n"
        "a = os.environ['A']\nb = os.getenv('B')\nc = environ.get('C')\nd = environ['D']\n"
    )
    kinds = sorted(what for _, what in environment_reads(ast.parse(source)))
    assert kinds == sorted(
        ["from os import getenv", "os.environ", "os.getenv", "environ.get", "environ['D']"]
    )
