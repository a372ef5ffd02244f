"""Single-value rules: the JSON form of a parsed manifest against
`schemas/library-manifest.schema.json`, every schema error turned into a problem with its line.

The schema is the one source of these rules. It is applied in two steps: a predicate compiled from
each small subschema says, exactly and cheaply, whether a value is valid; only a value it rejects is
handed to jsonschema, which says why (its errors carry the messages). jsonschema is imported the
first time a value is invalid, so checking valid manifests never pays for importing it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from ..libraryfile.architectures import SUPPORTED_ARCHITECTURES
from ..libraryfile.model import APPENDED_LIST_FIELDS, Entry, Manifest, arch_field_parts
from ..problems.catalog import problem
from ..problems.problem import Problem

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

SCHEMA_PACKAGE = "manifest_validation.schemas"
# where the package's schemas are when it is installed as files (as it always is but in a zip)
_SCHEMA_DIRECTORY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas")

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

# Messages of fields whose problems have the general code `invalid-value`.
_FIELD_MESSAGES = {
    "Directory": "{field} {value!r} is not a path on one line",
    "File": "{field} {value!r} is not a path on one line",
}

_SPANS_LINES_HINT = (
    "The value goes on past its line (a continuation or whitespace-only line follows), so "
    "bashbrew reads it with a newline in it. Put the whole value on the `{field}:` line and make "
    "the next line empty or a new field."
)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped with the package (also exposed at the top-level `schemas/`). Read as a
    file when the package is one (importlib.resources, which a zipped package needs, costs
    more to import than `check` of a file costs to run)."""
    try:
        with open(os.path.join(_SCHEMA_DIRECTORY, name), encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        from importlib import resources

        text = resources.files(SCHEMA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def registry() -> Registry[Any]:
    """Every shipped schema, by its `$id`, so schemas can `$ref` each other offline."""
    from importlib import resources

    from referencing import Registry, Resource

    resources_ = []
    for item in resources.files(SCHEMA_PACKAGE).iterdir():
        if item.name.endswith(".schema.json"):
            contents = load_schema(item.name)
            resources_.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources_)


@cache
def result_validator() -> Draft202012Validator:
    """Validator of result messages (`validation-result.schema.json`)."""
    from jsonschema import Draft202012Validator

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
    strings, items, minItems, minLength, required, not); None for anything else.

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
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
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
        names = frozenset(argument)
        return lambda value: not isinstance(value, dict) or value.keys() >= names
    if keyword == "items":
        each = fast_check(argument)
        if each is None:
            return None
        return lambda value: not isinstance(value, list) or all(each(item) for item in value)
    if keyword == "not":
        inner = fast_check(argument)
        if inner is None:
            return None
        return lambda value: not inner(value)
    return None


class _Check:
    """One subschema applied to one kind of value: the fast predicate first, jsonschema (built
    once, when first needed) for the values the predicate rejects."""

    MEMO_LIMIT = 50_000

    __slots__ = ("_memo", "_valid", "_validator", "fast", "schema")

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.fast = fast_check(schema)
        self._validator: Validator | None = None
        self._memo: dict[object, list[ValidationError]] = {}
        self._valid: set[str] = set()  # entries repeat the same strings (GitRepo, ...) often

    def validator(self) -> Validator:
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(self.schema)
        return self._validator

    def accepts_string(self, value: str) -> bool:
        """Whether the fast predicate accepts the string `value` (remembered when it does)."""
        if value in self._valid:
            return True
        if self.fast is None or not self.fast(value):
            return False
        if len(self._valid) >= self.MEMO_LIMIT:
            self._valid.clear()
        self._valid.add(value)
        return True

    def errors(self, value: Any) -> list[ValidationError]:
        if value.__class__ is str:
            if value in self._valid:
                return []
            if self.fast is not None and self.fast(value):
                if len(self._valid) >= self.MEMO_LIMIT:
                    self._valid.clear()
                self._valid.add(value)
                return []
        elif self.fast is not None and self.fast(value):
            return []
        if not isinstance(value, str):
            return list(self.validator().iter_errors(value))
        found = self._memo.get(value)  # many items of a hostile list repeat one invalid value
        if found is None:
            if len(self._memo) >= self.MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[value] = list(self.validator().iter_errors(value))
        return found


def _key_shape(schema: Any) -> tuple[frozenset[str], list[frozenset[str]]] | None:
    """For an object schema of only `type: object`, `required` and `not: {required}`: the
    names an object must have, and the sets of names it must not have all of (what the schema
    says of a dict, which depends on its keys alone); None for any other schema."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return None
    required: frozenset[str] = frozenset()
    forbidden: list[frozenset[str]] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS or keyword == "type":
            continue
        if keyword == "required" and all(isinstance(name, str) for name in argument):
            required = frozenset(argument)
        elif (
            keyword == "not"
            and isinstance(argument, dict)
            and set(argument) == {"required"}
            and all(isinstance(name, str) for name in argument["required"])
        ):
            forbidden.append(frozenset(argument["required"]))
        else:
            return None
    return required, forbidden


# Values remembered as valid are short: real values are, and a long one is rarely repeated (a
# memo of hostile values would only hold memory).
_MEMO_LONGEST = 256
_MEMO_LONGEST_LIST = 64


class _FieldChecks:
    """The subschemas of one field: those of the value as a whole and, for a list field, those
    of each item, so that a list of 40,000 items is 40,000 cheap item checks."""

    __slots__ = ("items", "whole")

    def __init__(self, subschemas: list[Any]) -> None:
        self.whole: list[_Check] = []
        self.items: list[_Check] = []
        for sub in subschemas:
            if isinstance(sub, dict) and isinstance(sub.get("items"), dict):
                self.whole.append(_Check({k: v for k, v in sub.items() if k != "items"}))
                self.items.append(_Check(sub["items"]))
            else:
                self.whole.append(_Check(sub))


class _ParagraphChecks:
    """An object schema (the global paragraph, an entry) split into the object's own keywords
    and one `_FieldChecks` per field name; `properties`, `patternProperties` apply to each field
    independently, which is what lets each value be checked on its own."""

    FIELD_CACHE_LIMIT = 10_000
    # field names whose valid values are remembered: real files use a few dozen (the fields,
    # and their ARCH-* forms for the architectures they build)
    ACCEPTED_NAMES_LIMIT = 500

    def __init__(self, schema: dict[str, Any]) -> None:
        self.properties: dict[str, Any] = dict(schema.get("properties", {}))
        self.patterns = [
            (re.compile(pattern), sub)
            for pattern, sub in schema.get("patternProperties", {}).items()
        ]
        self.closed = schema.get("additionalProperties") is False
        if "additionalProperties" in schema and not isinstance(
            schema["additionalProperties"], bool
        ):
            raise ValueError("only a boolean additionalProperties is supported")
        self.shape = _Check(
            {
                key: value
                for key, value in schema.items()
                if key not in ("properties", "patternProperties", "additionalProperties")
            }
        )
        # only the names a closed object allows, for jsonschema's own message about the others
        self.names_only = _Check(
            {
                "properties": dict.fromkeys(self.properties, True),
                "patternProperties": {pattern.pattern: True for pattern, _ in self.patterns},
                "additionalProperties": False,
            }
        )
        self.key_shape = _key_shape(self.shape.schema)
        self._fields: dict[str, _FieldChecks | None] = {}
        # keys with the same subschemas share their checks (`arch1-Directory`, `arch2-...`)
        self._shared: dict[tuple[int, ...], _FieldChecks] = {}
        # field name -> string values found valid (see `accepts`)
        self._accepted: dict[str, set[str]] = {}
        self._accepted_lists: dict[str, set[tuple[Any, ...]]] = {}  # lists, as tuples

    def subschemas(self, key: str) -> list[Any]:
        found = [self.properties[key]] if key in self.properties else []
        found += [sub for pattern, sub in self.patterns if pattern.search(key)]
        return found

    def field(self, key: str) -> _FieldChecks | None:
        """None for a name no property or pattern covers."""
        if key not in self._fields:
            if len(self._fields) >= self.FIELD_CACHE_LIMIT:  # a process serves many files
                self._fields.clear()
                self._accepted.clear()
                self._accepted_lists.clear()
            subschemas = self.subschemas(key)
            checks = None
            if subschemas:
                identity = tuple(id(sub) for sub in subschemas)
                checks = self._shared.get(identity)
                if checks is None:
                    checks = self._shared[identity] = _FieldChecks(subschemas)
            self._fields[key] = checks
        return self._fields[key]

    def accepts(
        self,
        values: dict[str, Any],
        checked: set[tuple[str, int]],
        prefixes: dict[str, list[Any]] | None = None,
        own_keys: frozenset[str] = frozenset(),
    ) -> bool:
        """Whether the paragraph `values` has no error at all: exactly when `iter_errors` would
        yield nothing, decided without building an error (False also for anything the fast
        predicates do not cover: `iter_errors` then says). Valid strings and short lists are
        remembered per field name, for every later paragraph and file: values repeat (an entry
        inherits the global ones, a file's next revision repeats most of them). `checked` and
        `prefixes` (here, for the names in `own_keys`) skip what `iter_errors` skips: a list
        already checked under the same name (every entry holds the inherited list itself), and
        the first items of an appended list that are an already checked list."""
        if values.__class__ is not dict:
            return False
        if self.key_shape is not None:
            required, forbidden = self.key_shape
            if not values.keys() >= required:
                return False
            if forbidden and any(values.keys() >= names for names in forbidden):
                return False
        elif self.shape.fast is None or not self.shape.fast(values):
            return False
        accepted = self._accepted
        for key, value in values.items():
            if value.__class__ is str:
                known = accepted.get(key)
                if known is not None and value in known:
                    continue
                if not self._accepts_value(key, value):
                    return False
                if len(value) > _MEMO_LONGEST:
                    continue
                if known is None:
                    if len(accepted) >= self.ACCEPTED_NAMES_LIMIT:
                        continue  # (made-up names do not each get a memo)
                    known = accepted[key] = set()
                elif len(known) >= _Check.MEMO_LIMIT:
                    known.clear()
                known.add(value)
            elif value.__class__ is list:
                token = (key, id(value))
                if token in checked:
                    continue
                if not self._accepts_list(key, value, checked, prefixes, own_keys):
                    return False
                checked.add(token)
            else:
                return False
        return True

    def _accepts_list(
        self,
        key: str,
        value: list[Any],
        checked: set[tuple[str, int]],
        prefixes: dict[str, list[Any]] | None,
        own_keys: frozenset[str],
    ) -> bool:
        prefix = prefixes.get(key) if prefixes is not None and key in own_keys else None
        if prefix is not None:
            prefix_token = (key, id(prefix))
            start = len(prefix) if prefix_token in checked else 0
            checked.add(prefix_token)  # (checked now, with the rest of this list)
            return self._accepts_value(key, value, start)
        if len(value) > _MEMO_LONGEST_LIST:
            return self._accepts_value(key, value)
        lists = self._accepted_lists.get(key)
        try:
            items = tuple(value)
            if lists is not None and items in lists:
                return True
        except TypeError:  # an unhashable item: not one a parser makes
            return False
        if not self._accepts_value(key, value):
            return False
        if lists is None:
            lists = self._accepted_lists[key] = set()  # (list fields are a known few)
        elif len(lists) >= _Check.MEMO_LIMIT:
            lists.clear()
        lists.add(items)
        return True

    def _accepts_value(self, key: str, value: Any, start: int = 0) -> bool:
        """Whether the fast predicates accept `value` under `key` (for a list, its items
        from `start` on)."""
        checks = self.field(key)
        if checks is None:
            return not self.closed
        for check in checks.whole:
            if check.fast is None or not check.fast(value):
                return False
        if checks.items and value.__class__ is list:
            for check in checks.items:
                if check.fast is None:
                    return False
                for index in range(start, len(value)):
                    item = value[index]
                    if item.__class__ is not str or not check.accepts_string(item):
                        return False
        return True

    def iter_errors(
        self,
        value: Any,
        path: list[Any],
        seen: set[tuple[str, int]] | None = None,
        prefixes: dict[str, list[Any]] | None = None,
    ) -> Iterator[tuple[list[Any], ValidationError]]:
        """Errors of one paragraph. With `seen`, a list object already checked under the same
        field name is skipped, and so are the first items of a list that `prefixes` says are
        that (already checked) list: see `ManifestValidator.iter_errors`."""
        for error in self.shape.errors(value):
            yield [*path, *error.absolute_path], error
        if not isinstance(value, dict):
            return
        uncovered = False
        for key, field_value in value.items():
            checks = self.field(key)
            if checks is None:
                uncovered = True
                continue
            start = 0
            if seen is not None and isinstance(field_value, list):
                if (key, id(field_value)) in seen:
                    continue
                seen.add((key, id(field_value)))
                prefix = prefixes.get(key) if prefixes else None
                if prefix is not None:
                    if (key, id(prefix)) in seen:
                        start = len(prefix)
                    seen.add((key, id(prefix)))  # checked now, with the rest of this list
            for check in checks.whole:
                for error in check.errors(field_value):
                    yield [*path, key, *error.absolute_path], error
            if checks.items and isinstance(field_value, list):
                for check in checks.items:
                    for index in range(start, len(field_value)):
                        for error in check.errors(field_value[index]):
                            yield [*path, key, index, *error.absolute_path], error
        if uncovered and self.closed:
            for error in self.names_only.validator().iter_errors(value):
                yield [*path, *error.absolute_path], error


class ManifestValidator:
    """Validates the JSON form of a manifest against the library manifest schema.

    The result is exactly that of validating `manifest_document(...)` as a whole with jsonschema
    (a test holds the two together); it is computed value by value. The document's own shape
    (`name`, `global`, `entries`) is checked directly, because the parser always builds it the
    same way; a document of any other shape is handed to jsonschema whole.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        definitions = schema.get("$defs", {})
        self._inline_cache: dict[str, Any] = {}
        self._definitions = definitions
        top = schema["properties"]
        if set(top) != {"name", "global", "entries"}:  # what iter_errors checks by hand
            raise ValueError("unexpected top-level shape of the library manifest schema")
        self.global_checks = _ParagraphChecks(self._inline(top["global"]))
        self.entry_checks = _ParagraphChecks(self._inline(top["entries"]["items"]))
        self.shared_fields = frozenset(
            key
            for key in self.global_checks.properties
            if self.global_checks.subschemas(key) == self.entry_checks.subschemas(key)
        )
        self._whole: Validator | None = None

    def _inline(self, node: Any) -> Any:
        """`node` with its local `$ref`s replaced by their targets (the schema has no cycles),
        so every subschema stands on its own and needs no registry."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and len(node) == 1 and ref.startswith("#/$defs/"):
                return self._inline(self._definitions[ref.removeprefix("#/$defs/")])
            return {key: self._inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._inline(value) for value in node]
        return node

    def _whole_document(self) -> Validator:
        if self._whole is None:
            from jsonschema import Draft202012Validator

            self._whole = Draft202012Validator(self.schema, registry=registry())
        return self._whole

    def iter_errors(
        self, document: Any, prefixes: list[dict[str, list[Any]]] | None = None
    ) -> Iterator[tuple[list[Any], ValidationError]]:
        """(absolute path, error) for every schema error of the document.

        With `prefixes` (one dict per entry: field -> the global list that the entry's list
        starts with), values that entries share are checked once: every entry that inherits a
        list holds the very same list object, and an appended list (Maintainers, Constraints)
        starts with it. Their errors are the same errors at the same lines, so once is enough,
        and a long inherited list costs its length, not its length times the entries.
        """
        if not (
            isinstance(document, dict)
            and set(document) == {"name", "global", "entries"}
            and isinstance(document["name"], str)
            and isinstance(document["entries"], list)
        ):
            for error in self._whole_document().iter_errors(document):
                yield list(error.absolute_path), error
            return
        seen: set[tuple[str, int]] | None = None
        global_seen: set[tuple[str, int]] | None = None
        if prefixes is not None:
            seen = set()
            # a global list counts as checked for the entries only where both paragraphs
            # apply the same subschemas to that field
            global_seen = set()
        yield from self.global_checks.iter_errors(document["global"], ["global"], global_seen)
        if seen is not None and global_seen is not None:
            seen.update(token for token in global_seen if token[0] in self.shared_fields)
        for index, entry in enumerate(document["entries"]):
            entry_prefixes = prefixes[index] if prefixes is not None else None
            yield from self.entry_checks.iter_errors(
                entry, ["entries", index], seen, entry_prefixes
            )

    def accepts(self, manifest: Manifest) -> bool:
        """Whether the manifest's document has no schema error: exactly when `iter_errors`
        of `manifest_document(manifest)` (with or without prefixes) yields nothing. Values
        are checked by the fast predicates only, each distinct one once, so a valid manifest
        costs about one set lookup per value (see `_ParagraphChecks.accepts`)."""
        own = manifest.global_entry.own_keys
        values = {key: value for key, value in manifest.global_entry.values.items() if key in own}
        global_checked: set[tuple[str, int]] = set()
        if manifest.name.__class__ is not str:
            return False
        if not self.global_checks.accepts(values, global_checked):
            return False
        # as iter_errors: a global list counts as checked for the entries where both
        # paragraphs apply the same subschemas to it, and appended lists start with it
        checked = {token for token in global_checked if token[0] in self.shared_fields}
        prefixes = _appended_lists(manifest)
        accepts = self.entry_checks.accepts
        return all(
            accepts(entry.values, checked, prefixes, entry.own_keys) for entry in manifest.entries
        )


@cache
def manifest_validator() -> ManifestValidator:
    return ManifestValidator(load_schema("library-manifest.schema.json"))


def schema_problems(manifest: Manifest) -> Iterator[Problem]:
    validator = manifest_validator()
    if validator.accepts(manifest):  # most are valid: no document, no errors to look for
        return
    document = manifest_document(manifest)
    for path, error in validator.iter_errors(document, _inherited_prefixes(manifest)):
        yield from _to_problems(manifest, path, error)


def _appended_lists(manifest: Manifest) -> dict[str, list[Any]]:
    """The global lists that an entry's own list of the same field is appended to."""
    own = manifest.global_entry.own_keys
    return {
        key: value
        for key in APPENDED_LIST_FIELDS
        if key in own and isinstance(value := manifest.global_entry.values.get(key), list) and value
    }


def _inherited_prefixes(manifest: Manifest) -> list[dict[str, list[Any]]]:
    """For each entry, the global lists its appended lists start with."""
    inherited = _appended_lists(manifest)
    return [
        {key: value for key, value in inherited.items() if key in entry.own_keys}
        for entry in manifest.entries
    ]


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
    template = _MESSAGES.get(code) or _FIELD_MESSAGES.get(parts[1] if parts else field)
    if template is None:
        message = f"{field}: {error.message}"
    else:
        message = template.format(field=field, value=error.instance)
    hint = None
    if isinstance(error.instance, str) and "\n" in error.instance:
        hint = _SPANS_LINES_HINT.format(field=field)
    elif code == "unsupported-architecture" and isinstance(error.instance, str):
        import difflib

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
