"""Rule codes are a public contract (CI annotations, the results queue): every code the package
can report is in the catalog, and every code of the catalog is reported somewhere.

The codes are read from the source with `ast`: each call of `problems.catalog.problem` (the one
maker of a Problem) with a string literal for its code, and the few calls whose code comes
through a variable, followed to where it is set (FLOWS). A new call of the second kind fails
the test until FLOWS says where its codes come from.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import manifest_validation
from manifest_validation.problems.catalog import RULES
from manifest_validation.upstream import Outcome

PACKAGE = Path(manifest_validation.__file__).parent


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), str(path))


def calls(tree: ast.AST, name: str) -> Iterator[ast.Call]:
    """Calls of `name(...)` or `something.name(...)`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if (isinstance(function, ast.Name) and function.id == name) or (
                isinstance(function, ast.Attribute) and function.attr == name
            ):
                yield node


def code_argument(call: ast.Call) -> ast.expr:
    if call.args:
        return call.args[0]
    return next(keyword.value for keyword in call.keywords if keyword.arg == "code")


def literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def tree_of(module: str) -> ast.Module:
    return ast.parse((PACKAGE / module).read_text())


def schema_codes() -> set[str]:
    """checks/schema.py: `code = _CODE_BY_FIELD.get(field, "invalid-value")`."""
    tree = tree_of("checks/schema.py")
    codes: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "_CODE_BY_FIELD"
            for target in node.targets
        ):
            assert isinstance(node.value, ast.Dict)
            for value in node.value.values:
                code = literal(value)
                assert code is not None, ast.unparse(value)
                codes.add(code)
    for call in calls(tree, "get"):
        if (
            isinstance(call.func, ast.Attribute)
            and ast.unparse(call.func.value) == "_CODE_BY_FIELD"
        ):
            default = literal(call.args[1])
            assert default is not None
            codes.add(default)
    return codes


def builds_codes() -> set[str]:
    """checks/builds.py and parents.py: the codes given to `collector.add(code, ...)` (also
    through `self.collector`), reported in groups by build_problems.py."""
    found = set()
    adds = [*calls(tree_of("checks/builds.py"), "add"), *calls(tree_of("checks/parents.py"), "add")]
    for call in adds:
        if isinstance(call.func, ast.Attribute) and ast.unparse(call.func.value) in (
            "collector",
            "self.collector",
        ):
            code = literal(call.args[0])
            assert code is not None, ast.unparse(call)
            found.add(code)
    return found


def context_codes() -> set[str]:
    """checks/contexts.py: `code = _CODES.get(result.status)`, the table's values."""
    for node in ast.walk(tree_of("checks/contexts.py")):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "_CODES" for target in node.targets
        ):
            assert isinstance(node.value, ast.Dict)
            codes = {literal(value) for value in node.value.values}
            assert None not in codes
            return {code for code in codes if code is not None}
    raise AssertionError("checks/contexts.py has no _CODES table")


def git_codes() -> set[str]:
    """checks/git.py: the upstream outcome's value, for every outcome but OK (not a problem)."""
    return {outcome.value for outcome in Outcome if outcome is not Outcome.OK}


# (module, the code argument as written) -> the codes that reach it
FLOWS = {
    ("checks/schema.py", "code"): schema_codes,
    ("checks/build_problems.py", "code"): builds_codes,
    ("checks/contexts.py", "code"): context_codes,
    ("checks/git.py", "outcome.outcome.value"): git_codes,
}


def raised_codes() -> tuple[set[str], set[tuple[str, str]]]:
    """The codes the package reports, and where a code comes through a variable."""
    codes: set[str] = set()
    through_variables: set[tuple[str, str]] = set()
    for module, tree in modules():
        for call in calls(tree, "problem"):
            argument = code_argument(call)
            code = literal(argument)
            if code is not None:
                codes.add(code)
            else:
                through_variables.add((module, ast.unparse(argument)))
    for place in through_variables & set(FLOWS):
        codes |= FLOWS[place]()
    return codes, through_variables


def test_every_code_that_comes_through_a_variable_is_followed() -> None:
    _, through_variables = raised_codes()
    assert through_variables == set(FLOWS)


def test_problems_are_made_only_by_the_catalog() -> None:
    makers = [
        (module, call.lineno)
        for module, tree in modules()
        for call in calls(tree, "Problem")
        if module != "problems/catalog.py"
    ]
    assert makers == []
    renamed = [
        (module, alias.asname)
        for module, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name == "problem" and alias.asname not in (None, "problem")
    ]
    assert renamed == []  # `problem` is called by that name everywhere, so calls() finds it


def test_every_reported_code_is_in_the_catalog() -> None:
    codes, _ = raised_codes()
    assert sorted(codes - set(RULES)) == []


def test_every_code_of_the_catalog_is_reported_somewhere() -> None:
    # a retired code stays in the catalog (and its docs) but is never raised
    codes, _ = raised_codes()
    live = {code for code, rule in RULES.items() if not rule.retired}
    assert sorted(live - codes) == []
    assert sorted(codes & (set(RULES) - live)) == []


def test_the_followed_codes_are_found() -> None:
    # so that a change of shape in those modules cannot empty a flow unnoticed
    assert {"invalid-value", "invalid-tag", "invalid-git-commit"} <= schema_codes()
    assert {"dockerfile-not-found", "from-tag-unknown", "constraints-extra"} <= builds_codes()
    assert {"context-submodule", "context-too-large"} <= context_codes()
    assert git_codes() == {
        "git-ref-not-found",
        "git-commit-not-found",
        "git-commit-not-in-ref",
        "git-url-forbidden",
        "git-repo-unreachable",
    }
