"""Single-value rules: the JSON form of a parsed manifest against
`schemas/library-manifest.schema.json`, every schema error turned into a problem with its line."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from .architectures import SUPPORTED_ARCHITECTURES
from .catalog import problem
from .manifest import Entry, Manifest, arch_field_parts
from .problems import Problem

SCHEMA_PACKAGE = "manifest_validation.schemas"

# Which problem code a schema error on a field stands for; anything else is `invalid-value`.
_CODE_BY_FIELD = {
    "Maintainers": "invalid-maintainer",
    "Tags": "invalid-tag",
    "SharedTags": "invalid-tag",
    "Architectures": "unsupported-architecture",
    "GitRepo": "invalid-git-repo",
    "GitFetch": "invalid-git-fetch",
    "GitCommit": "invalid-git-commit",
    "Builder": "invalid-builder",
}

_MESSAGES = {
    "invalid-maintainer": "invalid maintainer {value!r} (expected `Full Name <email-or-url> "
    "(@github-handle)` or `Full Name (@github-handle)`)",
    "invalid-tag": "invalid tag {value!r} in {field}",
    "unsupported-architecture": "unsupported architecture {value!r}",
    "invalid-git-repo": "{field} {value!r} is not a single URL",
    "invalid-git-fetch": "invalid {field} {value!r} (must be refs/heads/... or refs/tags/...)",
    "invalid-git-commit": "invalid {field} {value!r} (must be a full 40- or 64-hex commit id, "
    "not a tag, branch or abbreviation)",
    "invalid-builder": "invalid {field} {value!r} (must be buildkit, classic or oci-import)",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped with the package (also exposed at the top-level `schemas/`)."""
    text = resources.files(SCHEMA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def registry() -> Registry[Any]:
    """Every shipped schema, by its `$id`, so schemas can `$ref` each other offline."""
    resources_ = []
    for item in resources.files(SCHEMA_PACKAGE).iterdir():
        if item.name.endswith(".schema.json"):
            contents = load_schema(item.name)
            resources_.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources_)


@cache
def result_validator() -> Draft202012Validator:
    """Validator of result messages (`validation-result.schema.json`)."""
    schema = load_schema("validation-result.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry())


def manifest_document(manifest: Manifest) -> dict[str, Any]:
    """The JSON form of a parsed manifest: the global paragraph's own values and every entry."""
    own = manifest.global_entry.own_keys
    return {
        "name": manifest.name,
        "global": {key: value for key, value in manifest.global_entry.values.items() if key in own},
        "entries": [entry.values for entry in manifest.entries],
    }


FastCheck = Callable[[Any], bool]
_SIMPLE_TYPES: dict[str, type] = {"string": str, "array": list, "object": dict}
_ANNOTATIONS = frozenset({"description", "title", "$comment"})


def fast_check(schema: Any) -> FastCheck | None:
    """A predicate that says exactly whether `schema` accepts an instance, for the small subset
    of JSON Schema our per-value subschemas use (type string/array/object, pattern, enum of
    strings, items, minItems, minLength, required); None for anything else.

    It only decides *that* a value is valid, cheaply; any value it rejects is validated again by
    jsonschema, which remains the one source of error messages.
    """
    if schema is True:
        return _accept
    if not isinstance(schema, dict):
        return None
    checks: list[FastCheck] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        check = _keyword_check(keyword, argument)
        if check is None:
            return None
        checks.append(check)
    return lambda value: all(check(value) for check in checks)


def _accept(value: Any) -> bool:
    return True


def _keyword_check(keyword: str, argument: Any) -> FastCheck | None:
    if keyword == "type" and argument in _SIMPLE_TYPES:
        expected = _SIMPLE_TYPES[argument]
        return lambda value: isinstance(value, expected)
    if keyword == "pattern" and isinstance(argument, str):
        search = re.compile(argument).search
        return lambda value: not isinstance(value, str) or search(value) is not None
    if keyword == "enum" and all(isinstance(item, str) for item in argument):
        allowed = frozenset(argument)
        return lambda value: isinstance(value, str) and value in allowed
    if keyword == "minItems" and isinstance(argument, int):
        least: int = argument
        return lambda value: not isinstance(value, list) or len(value) >= least
    if keyword == "minLength" and isinstance(argument, int):
        shortest: int = argument
        return lambda value: not isinstance(value, str) or len(value) >= shortest
    if keyword == "required" and all(isinstance(item, str) for item in argument):
        names = tuple(argument)
        return lambda value: not isinstance(value, dict) or all(name in value for name in names)
    if keyword == "items":
        each = fast_check(argument)
        if each is None:
            return None
        return lambda value: not isinstance(value, list) or all(each(item) for item in value)
    return None


class ManifestValidator:
    """Validates the JSON form of a manifest against the library manifest schema.

    The result is exactly that of validating `manifest_document(...)` as a whole; it is computed
    faster. Entries of one image share most values and every entry is an object whose
    `properties`/`patternProperties` apply to each value independently, so each distinct
    (field, value) pair is validated once against its subschema, and each entry object once
    against the entry schema without its per-property subschemas. (`additionalProperties` is
    dropped there: the parser only ever puts known fields into an entry; unknown fields are
    reported by the parser.) That keeps the whole 144-file corpus well under a second.
    """

    MEMO_LIMIT = 200_000

    def __init__(self, schema: dict[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        self.document = Draft202012Validator(schema, registry=registry())
        self.resolver = registry().resolver(base_uri=schema["$id"])
        resolver = self.resolver
        entry_items = schema["properties"]["entries"]["items"]
        entry = (
            resolver.lookup(entry_items["$ref"]).contents if "$ref" in entry_items else entry_items
        )
        self.field_schemas: dict[str, Any] = dict(entry.get("properties", {}))
        self.pattern_schemas = [
            (re.compile(pattern), sub)
            for pattern, sub in entry.get("patternProperties", {}).items()
        ]
        shape = {
            key: value
            for key, value in entry.items()
            if key not in ("properties", "patternProperties", "additionalProperties")
        }
        self.shape = self.document.evolve(schema=shape)
        self.shape_check = fast_check(shape)
        self.global_part = self.document.evolve(
            schema={**schema, "properties": {**schema["properties"], "entries": True}}
        )
        self._field_validators: dict[str, list[tuple[FastCheck | None, Validator]]] = {}
        self._memo: dict[tuple[str, object], list[ValidationError]] = {}

    def _validators_for(self, key: str) -> list[tuple[FastCheck | None, Validator]]:
        found = self._field_validators.get(key)
        if found is None:
            subschemas = [self.field_schemas[key]] if key in self.field_schemas else []
            subschemas += [sub for pattern, sub in self.pattern_schemas if pattern.search(key)]
            inlined = [self._inline(sub) for sub in subschemas]
            found = [(fast_check(sub), self.document.evolve(schema=sub)) for sub in inlined]
            self._field_validators[key] = found
        return found

    def _inline(self, node: Any) -> Any:
        """`node` with its local `$ref`s replaced by their targets (the schema has no cycles),
        so the hot path does not resolve references again for every value."""
        if isinstance(node, dict):
            if set(node) == {"$ref"} and node["$ref"].startswith("#/"):
                return self._inline(self.resolver.lookup(node["$ref"]).contents)
            return {key: self._inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._inline(value) for value in node]
        return node

    def _value_errors(self, key: str, value: Any) -> list[ValidationError]:
        memo_key = (key, tuple(value) if isinstance(value, list) else value)
        errors = self._memo.get(memo_key)
        if errors is None:
            if len(self._memo) > self.MEMO_LIMIT:
                self._memo.clear()
            errors = [
                error
                for check, validator in self._validators_for(key)
                if check is None or not check(value)
                for error in validator.iter_errors(value)
            ]
            self._memo[memo_key] = errors
        return errors

    def iter_errors(self, document: dict[str, Any]) -> Iterator[tuple[list[Any], ValidationError]]:
        """(absolute path, error) for every schema error of the document."""
        for error in self.global_part.iter_errors(document):
            yield list(error.absolute_path), error
        for index, entry in enumerate(document.get("entries", [])):
            base: list[Any] = ["entries", index]
            if self.shape_check is None or not self.shape_check(entry):
                for error in self.shape.iter_errors(entry):
                    yield base + list(error.absolute_path), error
            for key, value in entry.items():
                for error in self._value_errors(key, value):
                    yield [*base, key, *error.absolute_path], error


@cache
def manifest_validator() -> ManifestValidator:
    return ManifestValidator(load_schema("library-manifest.schema.json"))


def schema_problems(manifest: Manifest) -> Iterator[Problem]:
    document = manifest_document(manifest)
    for path, error in manifest_validator().iter_errors(document):
        yield from _to_problems(manifest, path, error)


def _to_problems(manifest: Manifest, path: list[Any], error: ValidationError) -> Iterator[Problem]:
    if not path or path[0] == "name":
        yield problem("invalid-value", error.message)
        return
    entry = manifest.global_entry if path[0] == "global" else manifest.entries[int(path[1])]
    rest = path[1:] if path[0] == "global" else path[2:]

    if not rest:  # an error about the paragraph as a whole
        if error.validator == "required":
            instance = error.instance if isinstance(error.instance, dict) else {}
            required = error.validator_value if isinstance(error.validator_value, list) else []
            for missing in required:
                if missing not in instance:
                    yield _missing(entry, missing)
        elif error.validator == "not":
            yield problem(
                "global-tags",
                "Tags are not permitted in the global paragraph",
                line=entry.line_of("Tags"),
                field="Tags",
            )
        else:
            yield problem("invalid-value", error.message, line=entry.first_line)
        return

    field = str(rest[0])
    item = int(rest[1]) if len(rest) > 1 else None
    line = entry.line_of(field, item)
    if error.validator == "minItems":
        yield problem("missing-field", f"{field} has no items", line=line, field=field)
        return
    parts = arch_field_parts(field)
    code = _CODE_BY_FIELD.get(parts[1] if parts else field, "invalid-value")
    template = _MESSAGES.get(code)
    if template is None:
        message = f"{field}: {error.message}"
    else:
        message = template.format(field=field, value=error.instance)
    hint = None
    if code == "unsupported-architecture" and isinstance(error.instance, str):
        close = difflib.get_close_matches(error.instance, SUPPORTED_ARCHITECTURES, n=1)
        if close:
            hint = f"Did you mean {close[0]}? Supported: {', '.join(SUPPORTED_ARCHITECTURES)}."
    yield problem(code, message, line=line, field=field, hint=hint)


def _missing(entry: Entry, field: str) -> Problem:
    where = "the global paragraph" if entry.number == 0 else "this entry"
    hint = None
    if field in ("GitRepo", "GitCommit", "GitFetch"):
        hint = f"Add {field} to this entry, or to the global paragraph to share it."
    return problem(
        "missing-field",
        f"{where} has no {field}",
        line=entry.first_line,
        field=field,
        hint=hint,
    )
