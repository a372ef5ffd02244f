"""The one pipeline behind every door: what a door received in, results and messages out.

The CLI (`check`, `revalidate`), the HTTP API and the worker each translate what they got
(files, a request, a job) into `ManifestInput`s and `DocsInput`s, call `check` once, and
translate the `Checked` items back out (print, answer, publish). Everything between is here:
validate (with upstream checks, parents and histories when a verifier is given), compare with a
base, build the result message, check docs folders and cross-check them against the manifests. A
capability added here reaches every door.

Without a verifier, manifests are checked one at a time as the iterable yields them, so a door
that reads files lazily keeps one in memory. With a verifier they are all read first: their
upstream checks run together (one ref listing per repository, one read per Dockerfile).

Every valid (or unverified) manifest carries `sources` in its message: its slice of the
publisher's `sources.json` (see `sources/`) over the manifests of the call the publisher would
have (`in_document`: review errors keep none out), so parents among them have their
`sourceId`. Without a verifier the heavy fields are null and each manifest's document is its
own (nothing else in it could name a parent's `sourceId`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .results.origin import Origin, Trigger

# The checks are imported by the functions that run them: the doors that only build inputs
# (the HTTP API's request parsing, at every cold start) do without them.
if TYPE_CHECKING:
    from .checks.docs.folder import DocsResult
    from .checks.pipeline import ValidationResult
    from .libraryfile.library import Library
    from .sources import Document
    from .upstream import GitVerifier, HistoryChecker, RegistryClient


@dataclass(frozen=True, slots=True)
class Base:
    """What a manifest replaces: its text (None: the manifest is new) and how the base is
    named in the result's `changes` (`{"commit": ..., "sha256": ...}`, as known)."""

    text: bytes | str | None
    origin: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ManifestInput:
    name: str  # the image name
    content: bytes | str
    path: str  # where it is shown (the result's `source`)
    # where its text came from (the message's `origin`); None: `Options.origin_kind` at `path`
    origin: Origin | None = None
    base: Base | None = None  # compare with it: the message gets `changes`


@dataclass(frozen=True, slots=True)
class RemovedInput:
    """A manifest a change deletes: its image name, the text it had (`base.text`, None when
    unknown) and where it was (`path`; `origin`: as for ManifestInput, of no content)."""

    name: str
    base: Base
    path: str
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class DocsInput:
    name: str  # the image name (the folder's name)
    files: Mapping[str, bytes]
    path: str  # where it is shown


@dataclass(frozen=True, slots=True)
class DocsContext:
    """How docs folders are checked. `library_names`: the library files to cross-check them
    against (None: the manifests of the same call, when there are any); `root`: where a
    missing folder would be (shown in its result); `categories`: the docs checkout's canonical
    categories (None: the schema's list)."""

    library_names: Sequence[str] | None = None
    root: str | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Options:
    trigger: Trigger
    verifier: GitVerifier | None = None  # upstream checks and Dockerfiles (None: text only)
    # the other official images parents are checked against, and the external pins of the
    # same revision (`Library.pins`)
    library: Library | None = None
    # with the verifier: which architectures pinned external parents serve, and unpleasant
    # commits in GitCommits' histories (None: not checked)
    registry: RegistryClient | None = None
    history: HistoryChecker | None = None
    text_budget_seconds: float | None = None  # for the text checks of the whole call
    messages: bool = True  # build result messages (a text report needs none)
    origin_kind: str = "file"  # of origins the inputs do not give ("file" or "http")
    # a comparison with a base that would cost too much: refuse the call, or leave it out
    too_complex_base: Literal["refuse", "omit"] = "refuse"
    checked_at: str | None = None
    sources: bool = True  # messages carry `sources` (the CLI's JSON only when asked)
    # `.external-pins` of the manifests repository (`image:tag` -> digest) for the parents'
    # `pin`; None: no pins known (every `pin` is null)
    pins: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    result: ValidationResult | DocsResult
    message: dict[str, Any] | None


class BaseTooComplex(ValueError):
    """Comparing manifest number `index` of the call with its base would cost too much."""

    def __init__(self, index: int, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.index = index
        self.name = name
        self.reason = reason


def check(
    manifests: Iterable[ManifestInput],
    docs: Sequence[DocsInput] | None = None,
    *,
    options: Options,
    docs_context: DocsContext | None = None,
) -> Iterator[Checked]:
    """Check manifests, then docs folders (None: no docs checks at all; a list, even an
    empty one, is cross-checked against the manifests' names or `docs_context.library_names`);
    yield each result with its message as soon as it is done. Raises BaseTooComplex (with
    `too_complex_base="refuse"`) before anything of that manifest is yielded."""
    deadline = None
    if options.text_budget_seconds is not None:
        deadline = time.monotonic() + options.text_budget_seconds
    names: list[str] = []
    wanted = options.messages and options.sources
    for item, result, sources in _validated(manifests, options, deadline, sources=wanted):
        names.append(item.name)
        yield Checked(result, _manifest_message(len(names) - 1, item, result, options, sources))
    if docs is not None:
        yield from check_docs(docs, options=options, context=docs_context, checked=names)


@dataclass(frozen=True, slots=True)
class SourcesRun:
    """`sources_document`'s answer: every manifest's result (in the order given), and the
    document of those the publisher would have (`in_document`)."""

    results: list[tuple[ManifestInput, ValidationResult]]
    document: Document


def sources_document(manifests: Iterable[ManifestInput], *, options: Options) -> SourcesRun:
    """The publisher's `sources.json` for `manifests` (all validated together, with the
    verifier of `options` for the heavy fields), and each manifest's result."""
    results = _validate_all(list(manifests), options, None)
    return SourcesRun(results, _document([result for _, result in results], options))


def _validated(
    manifests: Iterable[ManifestInput],
    options: Options,
    deadline: float | None,
    *,
    sources: bool,
) -> Iterator[tuple[ManifestInput, ValidationResult, dict[str, Any] | None]]:
    """Each manifest with its result and (when `sources`) its slice of the document."""
    from .checks.pipeline import validate_many

    if options.verifier is None:
        for item in manifests:  # one at a time: the caller may be reading them lazily
            (result,) = validate_many([(item.name, item.content, item.path)], deadline=deadline)
            yield item, result, _document([result], options).slice(0) if sources else None
        return
    results = _validate_all(list(manifests), options, deadline)
    document = _document([result for _, result in results], options) if sources else None
    for index, (item, result) in enumerate(results):
        yield item, result, document.slice(index) if document is not None else None


def _validate_all(
    batch: list[ManifestInput], options: Options, deadline: float | None
) -> list[tuple[ManifestInput, ValidationResult]]:
    from .checks.pipeline import validate_many

    results = validate_many(
        [(item.name, item.content, item.path) for item in batch],
        verifier=options.verifier,
        library=options.library,
        registry=options.registry,
        history=options.history,
        deadline=deadline,
    )
    return list(zip(batch, results, strict=True))


def in_document(result: ValidationResult) -> bool:
    """Whether the publisher would have this manifest's sources: no error of it stops
    sources.sh (review rules do not: a parent's sourceId is the same with or without them).
    Only valid and unverified results carry their slice in their message."""
    from .problems.catalog import stops_sources

    manifest = result.parsed
    return not any(
        stops_sources(
            found,
            unused_global=not manifest.uses_global(found.line, found.field),
            value=manifest.value_at(found.line, found.field),
        )
        for found in result.errors
    )


def _document(results: Sequence[ValidationResult], options: Options) -> Document:
    """The document of the results the publisher would have (`in_document`); its slices
    are indexed like `results` (empty for the others)."""
    from .sources import Document, Image, build_document

    kept = [index for index, result in enumerate(results) if in_document(result)]
    built = build_document(
        [Image(results[index].parsed, results[index].builds) for index in kept], options.pins
    )
    keys: list[list[str]] = [[] for _ in results]
    for position, index in enumerate(kept):
        keys[index] = built.keys[position]
    return Document(built.sources, keys, built.conflicts)


def _manifest_message(
    index: int,
    item: ManifestInput,
    result: ValidationResult,
    options: Options,
    sources: dict[str, Any] | None,
) -> dict[str, Any] | None:
    if not options.messages:
        return None
    from .results.messages import result_message

    changes = None
    if item.base is not None:
        changes = _changes(index, item, result, options)
    origin = item.origin or Origin.of(options.origin_kind, item.content, path=item.path)
    return result_message(
        result,
        origin,
        trigger=options.trigger,
        verify_git=options.verifier is not None,
        checked_at=options.checked_at,
        changes=changes,
        sources=sources,
        with_sources=options.sources,
    )


def _changes(
    index: int, item: ManifestInput, result: ValidationResult, options: Options
) -> dict[str, Any] | None:
    from .diff.git import ComparisonTooLarge, manifest_changes

    assert item.base is not None
    try:
        return manifest_changes(
            result.parsed,
            item.base.text,
            base_origin=dict(item.base.origin),
            verifier=options.verifier,
        )
    except ComparisonTooLarge as error:
        if options.too_complex_base == "refuse":
            raise BaseTooComplex(index, item.name, str(error)) from error
        import logging  # (only here: a text check does without the logging module)

        logging.getLogger(__name__).warning("no changes for %s: %s", item.name, error)
        return None


def removed(items: Iterable[RemovedInput], *, options: Options) -> Iterator[dict[str, Any]]:
    """The result messages of manifests a change deletes (there is nothing to check): status
    `removed`, with `changes` (the entries and tags that go away) when the text is known."""
    from .diff.git import removal_changes
    from .results.messages import removed_message

    for item in items:
        origin = item.origin or Origin.of(options.origin_kind, b"", path=item.path)
        message = removed_message(
            item.name, origin, trigger=options.trigger, checked_at=options.checked_at
        )
        if item.base.text is not None:
            message["changes"] = removal_changes(
                item.name, item.base.text, base_origin=dict(item.base.origin)
            )
        yield message


def check_docs(
    docs: Sequence[DocsInput],
    *,
    options: Options,
    context: DocsContext | None = None,
    checked: Sequence[str] = (),
) -> Iterator[Checked]:
    """Docs folders, cross-checked against `context.library_names`, else against the names of
    the manifests `checked` in the same call (when there are any)."""
    from .checks.docs.folder import folder_digest_input, validate_folders
    from .results.messages import docs_result_message

    context = context or DocsContext()
    names = context.library_names if context.library_names is not None else (checked or None)
    results = validate_folders(
        [(folder.name, folder.files, folder.path) for folder in docs],
        library_names=names,
        docs_root=context.root if names else None,
        categories=context.categories,
    )
    for result in results:
        message = None
        if options.messages:
            origin = Origin.of(
                options.origin_kind, folder_digest_input(result.files), path=result.source
            )
            message = docs_result_message(
                result, origin, trigger=options.trigger, checked_at=options.checked_at
            )
        yield Checked(result, message)
