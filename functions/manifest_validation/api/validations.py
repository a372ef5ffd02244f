"""`POST /v1/validations`: what a request may contain and what the answer holds, independent of
the web framework (the Lambda handler and the local server both go through here).

A request is JSON `{"manifests": [{"name", "content", "path"?, "base"?}], "verify_git": bool,
"publish": bool}` (`base`: the text the manifest replaces, or null for a new file; the answer then
carries what the change does as each result's `changes`), or one manifest as `text/plain` with
`?name=`. `content` and `base` are the file's text, or `{"base64": "..."}`: its bytes exactly, so
that a file that is not UTF-8 reaches the checks (`invalid-encoding`) instead of being refused or
mended on the way. Every refusal is an `ApiError` with the HTTP status, a stable code, a message
and the offending field.

Docs folders (docker-library/docs) come as `"docs": [{"name", "files": {"metadata.json": "...",
...}, "path"?}]` beside or instead of `manifests` (a file's content is its UTF-8 text, or
`{"base64": "..."}` for a logo); manifests and docs folders count together against the limit.
When both are given, they are cross-checked (a library file without docs folder, a docs folder
without library file).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..application import Base, DocsInput, ManifestInput
from ..libraryfile.names import is_image_name
from ..results.origin import Origin
from . import json_limits

# The validation core (checks, messages, report) is imported by `answer` when it runs: the API
# handler's cold import, and its webhook and documentation routes, do without it.
if TYPE_CHECKING:
    from ..application import Checked
    from ..libraryfile.library import Library
    from ..results.queues import ResultQueue
    from ..upstream import GitVerifier, HistoryChecker, RegistryClient

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Lambda refuses a response over 6 MB (an error API Gateway turns into a 500), counted on the
# body as a JSON string inside the response object: a results document grows about 16-fold on
# real files (the build plans), so a request within MAX_BODY_BYTES can ask for too much.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAX_MANIFESTS = 50
FORMATS = ("json", "github", "markdown")
MAX_DOCS_FILES = 32  # a docs folder holds a dozen files; we check nine of them
DOCS_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


# Seconds a 503 asks the client to wait before the same request: past the lease of an attempt
# that died (the API function's 29 s timeout), so that a retry can take its place.
RETRY_AFTER_SECONDS = 30


class ApiError(Exception):
    """A request we refuse, with the status and a body that names the problem."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}

    def headers(self) -> dict[str, str]:
        """A 503 (a dependency, or another attempt, not ready: nothing lost) says when to
        send the same request again."""
        return {"Retry-After": str(RETRY_AFTER_SECONDS)} if self.status == 503 else {}


@dataclass(frozen=True, slots=True)
class ValidationRequest:
    manifests: list[ManifestInput]
    verify_git: bool = False
    publish: bool = False
    output_format: str = "json"
    extra: dict[str, Any] = field(default_factory=dict)
    docs: list[DocsInput] = field(default_factory=list)


def body_bytes(body: str | None, is_base64_encoded: bool) -> bytes:
    """The raw request body of an API Gateway event."""
    if body is None:
        return b""
    if is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ApiError(400, "malformed_body", "the body is not valid base64", "body") from error
    return body.encode("utf-8")


def parse_json(body: bytes) -> Any:
    """A JSON request body, for both doors: within the depth and number limits of json_limits
    (400 `malformed_json`, naming the limit), never an exception of another kind."""
    try:
        return json_limits.loads(body)
    except json_limits.JsonRefused as error:
        raise ApiError(400, "malformed_json", str(error), "body") from error


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _unicode(text: str, where: str) -> str:
    """`text` if it is Unicode text: JSON's `\\ud800` escapes can make a string that is not
    (a lone UTF-16 surrogate), which no UTF-8 file, digest or answer could hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ApiError(
            400,
            "invalid_content",
            f"not Unicode text: a lone surrogate (\\u{ord(text[error.start]):04x}) at "
            f"character {error.start}",
            where,
        ) from error
    return text


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise ApiError(400, "invalid_name", "a manifest name is required (a string)", where)
    if not is_image_name(name):
        raise ApiError(
            400,
            "invalid_name",
            f"{name[:80]!r} is not a valid image name (lower-case letters and digits, "
            "separated by '.', '_', '__' or '-')",
            where,
        )
    return name


def parse_request(
    content_type: str | None,
    body: bytes,
    query: Mapping[str, str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_manifests: int = MAX_MANIFESTS,
) -> ValidationRequest:
    """Parse and check a request; raises ApiError (400, 413, 415) on anything we refuse."""
    if len(body) > max_body_bytes:
        raise ApiError(
            413, "body_too_large", f"the body is larger than {max_body_bytes} bytes", None
        )
    output_format = query.get("format", "json")
    if output_format not in FORMATS:
        raise ApiError(400, "invalid_format", "format must be json, github or markdown", "format")
    media_type = _media_type(content_type)
    if media_type == "text/plain":
        name = _check_name(query.get("name"), "name")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ApiError(400, "invalid_encoding", "the body is not UTF-8", "body") from error
        return ValidationRequest(
            [ManifestInput(name, text, f"library/{name}")],
            verify_git=_flag(query.get("verify_git"), "verify_git"),
            publish=_flag(query.get("publish"), "publish"),
            output_format=output_format,
        )
    if media_type != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            "send application/json or text/plain (one manifest, with ?name=)",
            "Content-Type",
        )
    document = parse_json(body)
    if not isinstance(document, dict):
        raise ApiError(400, "invalid_request", "the body must be a JSON object", "body")
    known = {"manifests", "docs", "verify_git", "publish"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ApiError(400, "unknown_field", _unknown_field(unknown[0], known), unknown[0])
    docs = _docs(document["docs"], max_manifests) if "docs" in document else []
    items = document.get("manifests", [] if docs else None)
    # given, `manifests` is a non-empty list even beside docs, as `docs` is (the schema's minItems)
    if not isinstance(items, list) or (not items and "manifests" in document):
        raise ApiError(
            400, "invalid_manifests", "manifests (or docs) must be a non-empty list", "manifests"
        )
    if len(items) + len(docs) > max_manifests:
        raise ApiError(
            413,
            "too_many_manifests",
            f"at most {max_manifests} manifests and docs folders per request",
            "manifests" if items else "docs",
        )
    manifests = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"manifests[{index}]"
        name = _named_item(
            item, where, {"name", "content", "path", "base"}, "invalid_manifest", "manifest", seen
        )
        content = _text_or_bytes(item.get("content"), f"{where}.content", "content")
        path = _path(item, where, f"library/{name}")
        manifests.append(ManifestInput(name, content, path, base=_base(item, where)))
    return ValidationRequest(
        manifests,
        docs=docs,
        verify_git=_bool(document, "verify_git"),
        publish=_bool(document, "publish"),
        output_format=output_format,
    )


def _base(item: Mapping[str, Any], where: str) -> Base | None:
    """What a manifest replaces, when the request says (`base`: its text, or null for a new
    file): the result then carries `changes`."""
    if "base" not in item:
        return None
    text = item["base"]
    if text is None:
        return Base(None)
    if not isinstance(text, str | dict):
        raise ApiError(400, "invalid_base", "base must be a string or null", f"{where}.base")
    data = _text_or_bytes(text, f"{where}.base", "base", code="invalid_base")
    return Base(data, {"sha256": Origin.of("http", data).sha256})


def _text_or_bytes(
    value: Any, where: str, what: str, *, code: str = "invalid_content"
) -> str | bytes:
    """A file sent as its text (a string) or as its bytes (`{"base64": "..."}`)."""
    if isinstance(value, str):
        return _unicode(value, where)
    if isinstance(value, dict) and set(value) == {"base64"}:
        encoded = value["base64"]
        try:
            if not isinstance(encoded, str):
                raise ValueError(encoded)
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ApiError(400, code, f"{what}: base64 is not valid base64", where) from error
    raise ApiError(400, code, f'{what} must be a string or {{"base64": "..."}}', where)


def _docs(items: Any, max_folders: int) -> list[DocsInput]:
    """The `docs` of a request: [{"name", "files": {file: text or {"base64"}}, "path"?}]."""
    if not isinstance(items, list) or not items:
        raise ApiError(400, "invalid_docs", "docs must be a non-empty list", "docs")
    if len(items) > max_folders:
        raise ApiError(413, "too_many_manifests", f"at most {max_folders} docs folders", "docs")
    folders = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"docs[{index}]"
        name = _named_item(
            item, where, {"name", "files", "path"}, "invalid_docs", "docs folder", seen
        )
        path = _path(item, where, name)
        folders.append(DocsInput(name, _docs_files(item.get("files"), f"{where}.files"), path))
    return folders


def _named_item(
    item: Any, where: str, allowed: set[str], code: str, kind: str, seen: set[str]
) -> str:
    """The name of one item of `manifests` or `docs`: an object with only `allowed` fields
    and a valid name not `seen` before (added to it)."""
    if not isinstance(item, dict):
        raise ApiError(400, code, f"each {kind} must be an object", where)
    extra = sorted(set(item) - allowed)
    if extra:
        message = _unknown_field(extra[0], allowed)
        raise ApiError(400, "unknown_field", message, f"{where}.{extra[0]}")
    name = _check_name(item.get("name"), f"{where}.name")
    if name in seen:
        raise ApiError(400, "duplicate_name", f"{kind} {name!r} appears twice", f"{where}.name")
    seen.add(name)
    return name


def _unknown_field(name: str, known: set[str]) -> str:
    """`unknown field 'verify-git'; did you mean 'verify_git'?`, as for a manifest's fields."""
    import difflib

    close = difflib.get_close_matches(name[:80].lower(), sorted(known), n=1, cutoff=0.6)
    return f"unknown field {name[:80]!r}" + (f"; did you mean {close[0]!r}?" if close else "")


def _path(item: dict[str, Any], where: str, default: str) -> str:
    """An item's `path` (shown in annotations), `default` when absent."""
    path = item.get("path", default)
    if not isinstance(path, str) or not path or len(path) > 1024:
        raise ApiError(400, "invalid_path", "path must be a non-empty string", f"{where}.path")
    return _unicode(path, f"{where}.path")


def _docs_files(files: Any, where: str) -> dict[str, bytes]:
    if not isinstance(files, dict):
        raise ApiError(400, "invalid_files", "files must be an object: file name -> content", where)
    if len(files) > MAX_DOCS_FILES:
        raise ApiError(413, "too_many_files", f"at most {MAX_DOCS_FILES} files per folder", where)
    out = {}
    for file, content in files.items():
        at = f"{where}.{file}"
        if not DOCS_FILE_NAME.fullmatch(file):
            raise ApiError(
                400, "invalid_file_name", f"{file[:80]!r} is not a file name of a docs folder", at
            )
        if isinstance(content, str):
            out[file] = _unicode(content, at).encode("utf-8")
        elif isinstance(content, dict) and set(content) == {"base64"}:
            encoded = content["base64"]
            try:
                if not isinstance(encoded, str):
                    raise ValueError(encoded)
                out[file] = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as error:
                raise ApiError(400, "invalid_content", "base64 is not valid base64", at) from error
        else:
            raise ApiError(400, "invalid_content", 'a file is its text, or {"base64": "..."}', at)
    return out


def _bool(document: Mapping[str, Any], key: str) -> bool:
    value = document.get(key, False)
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_flag", f"{key} must be true or false", key)
    return value


def _flag(value: str | None, key: str) -> bool:
    if value is None or value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise ApiError(400, "invalid_flag", f"{key} must be true or false", key)


class ValidationServices(Protocol):
    """What answering a validation request needs of the composition root."""

    def verifier(self) -> GitVerifier: ...
    def library(self) -> Library: ...
    def registry(self) -> RegistryClient: ...
    def history(self) -> HistoryChecker: ...
    def queue(self) -> ResultQueue: ...


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: str
    checked: list[Checked] = field(default_factory=list)  # for the handler's metrics
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def refusal(cls, error: ApiError) -> Answer:
        return cls(
            error.status, "application/json", json.dumps(error.body()), headers=error.headers()
        )


def answer(
    content_type: str | None,
    body: bytes,
    query: Mapping[str, str],
    services: ValidationServices,
    *,
    text_budget_seconds: float | None = None,
) -> Answer:
    """The answer to `POST /v1/validations`: the request parsed, its manifests and docs
    folders checked through the application layer (upstream too with `verify_git`: parents
    against the manifests repository's branch head), the results published when asked, the
    answer rendered. Every refusal is an answer too (its status and code), never an
    exception."""
    from ..application import BaseTooComplex, Options, check
    from ..results.origin import Trigger

    try:
        request = parse_request(content_type, body, query)
        verify = request.verify_git
        options = Options(
            Trigger.CI,
            verifier=services.verifier() if verify else None,
            library=services.library() if verify else None,
            registry=services.registry() if verify else None,
            history=services.history() if verify else None,
            text_budget_seconds=text_budget_seconds,
            origin_kind="http",
        )
        try:
            checked = list(check(request.manifests, request.docs or None, options=options))
        except BaseTooComplex as error:
            raise ApiError(
                413,
                "base_too_complex",
                f"{error}: send it without base",
                f"manifests[{error.index}].base",
            ) from error
        messages = [item.message for item in checked if item.message is not None]
        if request.publish:
            _publish(services.queue(), messages)
        media_type, text = response_body(request, checked)
    except ApiError as error:
        return Answer.refusal(error)
    return Answer(200, media_type, text, checked)


def _publish(queue: ResultQueue, messages: list[dict[str, Any]]) -> None:
    from ..results.queues import PublishError

    try:
        queue.publish(messages)
    except PublishError as error:
        log.error("publishing results failed", extra={"failed": error.failed_ids})
        raise ApiError(503, "publish_failed", f"results were not all published: {error}") from error


def response_body(request: ValidationRequest, checked: Sequence[Checked]) -> tuple[str, str]:
    """(content type, body) of a 200 answer; ApiError 413 when it would be too large to send."""
    from ..results.report import json_document, render_github

    results = [item.result for item in checked]
    if request.output_format == "github":
        content_type, body = "text/plain; charset=utf-8", render_github(results) + "\n"
    elif request.output_format == "markdown":
        from ..results.review import render_review_markdown, review_document

        # the reviewer's page (as `manifest-validate review`): problems and, for manifests
        # sent with a base, what each change does
        content_type = "text/markdown; charset=utf-8"
        body = render_review_markdown(review_document(checked))
    else:
        messages = [item.message for item in checked if item.message is not None]
        document = json_document(results, messages)
        document["published"] = request.publish
        content_type, body = "application/json", json.dumps(document, ensure_ascii=False)
    size = len(json.dumps(body))  # as it travels in the Lambda response: escaped
    if size > MAX_RESPONSE_BYTES:
        raise ApiError(
            413,
            "response_too_large",
            f"the answer would be {size} bytes, more than the {MAX_RESPONSE_BYTES} it may have: "
            "send fewer manifests per request"
            + (" (the results were published)" if request.publish else ""),
            "manifests",
        )
    return content_type, body
