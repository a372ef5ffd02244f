"""`manifest-validate`: the command line door to the core.

Exit codes of `check`: 0 every manifest valid (warnings allowed), 1 some manifest invalid,
2 usage error or unreadable path, 3 nothing invalid but something could not be verified upstream.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__

# report.FORMATS, written out: importing report would load the problem model and dataclasses
# for `--help` too (a test keeps the two equal).
CHECK_FORMATS = ("text", "json", "github")

# Each command imports what it needs when it runs (the core, jsonschema, the upstream client):
# `--help` and `rules` start without them, `check` without the upstream client.
if TYPE_CHECKING:
    from ..checks.docs.folder import DocsResult
    from ..checks.pipeline import ValidationResult
    from ..diff.model import ChangeSummary
    from ..libraryfile.library import Library
    from ..results.report import ReportWriter
    from ..upstream import GitVerifier

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNVERIFIED = 3

ENV_INSECURE_HOSTS = "MANIFEST_VALIDATION_INSECURE_HOSTS"
MANIFEST_BUDGET_SECONDS = 120.0

# A library file is a few hundred KiB at most (python's is ~40 KiB); refuse to read a huge file.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


class UnreadablePath(Exception):
    pass


def manifest_files(path: Path) -> Iterator[Path]:
    """A manifest file, or every regular, non-hidden file of a directory (sorted by name)."""
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if not child.name.startswith(".") and child.is_file():
                yield child
    elif path.is_file():
        yield path
    elif path.exists():
        raise UnreadablePath(f"{path}: not a regular file or directory")
    else:
        raise UnreadablePath(f"{path}: no such file or directory")


def read_manifest(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as error:
        raise UnreadablePath(f"{path}: {error.strerror or error}") from error
    if len(data) > MAX_MANIFEST_BYTES:
        raise UnreadablePath(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes")
    return data


def exit_code(statuses: Counter[str]) -> int:
    """The exit code of `check` from the number of results of each status."""
    if statuses["invalid"]:
        return EXIT_INVALID
    if statuses["unverified"]:
        return EXIT_UNVERIFIED
    return EXIT_VALID


def make_verifier(insecure_hosts: Sequence[str], *, manifests: int = 1) -> GitVerifier:
    """The upstream verifier of one CLI run. All manifests are verified in one call (one ref
    listing per repository), so the time budget is the per-manifest budget times their number."""
    from ..handlers.root import ENV_GIT_TOKENS, git_credentials
    from ..upstream import GitVerifier, UrlPolicy

    from_env = [h for h in os.environ.get(ENV_INSECURE_HOSTS, "").split(",") if h.strip()]
    return GitVerifier(
        UrlPolicy([*from_env, *insecure_hosts]),
        credentials=git_credentials(os.environ.get(ENV_GIT_TOKENS, "")),
        manifest_budget_seconds=MANIFEST_BUDGET_SECONDS * max(1, manifests),
    )


def read_library(directory: str) -> Library:
    """`--library DIR`: the other official images' library files, by file name."""
    from ..libraryfile.library import Library

    path = Path(directory)
    if not path.is_dir():
        raise UnreadablePath(f"{path}: not a directory (--library)")
    return Library({file.name: read_manifest(file) for file in manifest_files(path)})


def read_docs(paths: Sequence[Path]) -> tuple[list[tuple[str, dict[str, bytes], str]], list[str]]:
    """(name, files, path) of each docs folder, and the errors of those that could not be read."""
    from ..checks.docs.checkout import UnreadableDocs, read_docs_folder

    folders, unreadable = [], []
    for folder in paths:
        try:
            folders.append((folder.name, read_docs_folder(folder), str(folder)))
        except (UnreadableDocs, OSError) as error:
            unreadable.append(str(error))
    return folders, unreadable


def _each_once(folders: list[Path]) -> list[Path]:
    """A folder given both as a PATH and inside --docs DIR is checked once."""
    seen: set[Path] = set()
    unique = []
    for folder in folders:
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            unique.append(folder)
    return unique


def check_docs(
    args: argparse.Namespace, folders: list[Path], library_names: list[str]
) -> tuple[list[DocsResult], list[dict[str, Any]], list[str]]:
    """Docs folders (PATHs with a metadata.json, and those of --docs DIR): results, their
    messages (for --format json) and the errors of folders that could not be read. With library
    files given too, the two repositories are cross-checked."""
    if not folders and not args.docs:
        return [], [], []
    from ..checks.docs.checkout import UnreadableDocs, checkout_categories, docs_folders
    from ..checks.docs.folder import folder_digest_input, validate_folders
    from ..results.messages import Origin, Trigger, docs_result_message

    if args.docs:
        try:
            folders = [*folders, *docs_folders(Path(args.docs))]
        except (UnreadableDocs, OSError) as error:
            # no cross-check either: every library file would look undocumented
            return [], [], [str(error)]
    inputs, failed = read_docs(_each_once(folders))
    root = args.docs if args.docs else str(folders[0].parent)
    categories = None
    if args.docs and _docs_kind(Path(args.docs)) == "folder":
        root = str(Path(args.docs).parent)
    elif args.docs:
        categories = checkout_categories(Path(args.docs))
    results = validate_folders(
        inputs,
        library_names=library_names or None,
        docs_root=root if library_names else None,
        categories=categories,
    )
    files = {source: data for _, data, source in inputs}
    messages = [
        docs_result_message(
            result,
            Origin.of(
                "file", folder_digest_input(files.get(result.source, {})), path=result.source
            ),
            trigger=Trigger.CLI,
        )
        for result in results
    ]
    return results, messages, failed


def _docs_kind(path: Path) -> str | None:
    """ "folder" for one image's docs folder (a directory with a metadata.json or a
    README-short.txt), "checkout" for a directory of them (a docker-library/docs checkout,
    whose root has a metadata.json too), None for anything else: docs.is_docs_folder and
    docs.is_docs_checkout, without importing the docs checks for library files."""
    if not path.is_dir():
        return None
    try:
        children = [child for child in path.iterdir() if not child.name.startswith(".")]
    except OSError:
        return None
    if any(child.is_dir() and (child / "metadata.json").is_file() for child in children):
        return "checkout"
    if (path / "metadata.json").is_file() or (path / "README-short.txt").is_file():
        return "folder"
    return None


def readable_manifests(
    paths: Sequence[str], unreadable: list[str], folders: list[Path]
) -> Iterator[tuple[str, bytes, str]]:
    """(name, content, path) of every manifest of `paths`, read one at a time; each path or
    file that cannot be read is reported on stderr, added to `unreadable`, and skipped. A docs
    folder (a directory with a metadata.json or a README-short.txt) goes to `folders` instead,
    and so do the folders of a docs checkout."""
    for argument in paths:
        path = Path(argument)
        kind = _docs_kind(path)
        if kind == "folder":
            folders.append(path)
            continue
        if kind == "checkout":
            folders += sorted(
                child
                for child in path.iterdir()
                if child.is_dir() and not child.name.startswith(".")
            )
            continue
        try:
            files = list(manifest_files(path))
        except (UnreadablePath, OSError) as error:
            files = []
            unreadable.append(str(error))
            print(f"manifest-validate: error: {error}", file=sys.stderr)
        for file in files:
            try:
                data = read_manifest(file)
            except UnreadablePath as error:
                unreadable.append(str(error))
                print(f"manifest-validate: error: {error}", file=sys.stderr)
                continue
            yield file.name, data, str(file)


def command_check(args: argparse.Namespace) -> int:
    """Validate and write each manifest in turn (one in memory at a time), except with
    --verify-git: the upstream checks of all manifests run together (one ref listing per
    repository for the whole run), so those manifests are all read and validated first.
    Docs folders come after the manifests (they are cross-checked against their names)."""
    from ..checks.pipeline import validate, validate_many
    from ..results.report import ReportWriter

    if not args.paths and not args.docs:
        print("manifest-validate: error: give a PATH or --docs DIR", file=sys.stderr)
        return EXIT_USAGE
    library = None
    if args.library is not None:
        if not args.verify_git:
            print("manifest-validate: error: --library needs --verify-git", file=sys.stderr)
            return EXIT_USAGE
        try:
            library = read_library(args.library)
        except (UnreadablePath, OSError) as error:
            print(f"manifest-validate: error: {error}", file=sys.stderr)
            return EXIT_USAGE
    writer = ReportWriter(sys.stdout, args.format)
    unreadable: list[str] = []
    folders: list[Path] = []
    names: list[str] = []
    manifests = readable_manifests(args.paths, unreadable, folders)
    if args.verify_git:
        batch = list(manifests)
        with make_verifier(args.insecure_host, manifests=len(batch)) as verifier:
            results = validate_many(batch, verifier=verifier, library=library)
        for result, (name, data, _) in zip(results, batch, strict=True):
            names.append(name)
            _write(writer, result, data, args.verify_git)
    else:
        for name, data, path in manifests:
            names.append(name)
            _write(writer, validate(name, data, source=path), data, args.verify_git)
    docs_results, docs_messages, docs_unreadable = check_docs(args, folders, names)
    for message in docs_unreadable:
        print(f"manifest-validate: error: {message}", file=sys.stderr)
    unreadable += docs_unreadable
    for docs_result, docs_message in zip(docs_results, docs_messages, strict=True):
        writer.add(docs_result, docs_message)
    counts = writer.close()
    if unreadable:
        return EXIT_USAGE
    return exit_code(counts.statuses)


def _write(writer: ReportWriter, result: ValidationResult, data: bytes, verify_git: bool) -> None:
    message = None
    if writer.format == "json":
        from ..results.messages import Origin, Trigger, result_message

        origin = Origin.of("file", data, path=result.source)
        message = result_message(result, origin, trigger=Trigger.CLI, verify_git=verify_git)
    writer.add(result, message)


def _library_of(path: Path) -> dict[str, bytes]:
    """{image name: content} of a library file or of every manifest file of a directory."""
    return {file.name: read_manifest(file) for file in manifest_files(path)}


def command_diff(args: argparse.Namespace) -> int:
    """What a change does: exit 0 when computed (whatever it found: `commit-not-descendant`
    is a warning to read, not a failure), 1 when a file could not be read fully (NUL bytes,
    not UTF-8, a line that is not a field, ...: the comparison covers only what could be read,
    and the errors are in the output), 2 on a usage error or an unreadable input."""
    from ..diff.changes import diff_libraries
    from ..diff.render import render_diff
    from ..libraryfile.model import Manifest
    from ..libraryfile.parse import parse

    summary: ChangeSummary
    if args.git:
        from ..repository import SourceError

        repository, revisions = args.paths
        base, dots, head = revisions.partition("..")
        if not dots or not base or not head or head.startswith("."):
            print(f"manifest-validate: error: {revisions!r} is not BASE..HEAD", file=sys.stderr)
            return EXIT_USAGE
        try:
            summary = _changes_in_repository(repository, base, head, args.insecure_host)
        except SourceError as error:
            print(f"manifest-validate: error: {error}", file=sys.stderr)
            return EXIT_USAGE
    else:
        old_path, new_path = Path(args.paths[0]), Path(args.paths[1])
        missing = [str(path) for path in (old_path, new_path) if not path.exists()]
        if missing:
            print(
                f"manifest-validate: error: {missing[0]}: no such file or directory",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if old_path.is_dir() != new_path.is_dir():
            print(
                "manifest-validate: error: OLD and NEW must both be files or both directories",
                file=sys.stderr,
            )
            return EXIT_USAGE
        try:
            old_files, new_files = _library_of(old_path), _library_of(new_path)
        except (UnreadablePath, OSError) as error:
            print(f"manifest-validate: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        if not new_path.is_dir():  # two files: the same image, named after NEW
            old_files = {new_path.name: old_files[old_path.name]}
        old: dict[str, Manifest | None] = {n: parse(n, d) for n, d in old_files.items()}
        new: dict[str, Manifest | None] = {n: parse(n, d) for n, d in new_files.items()}
        summary = diff_libraries(old, new)
    if args.verify_git:
        from ..diff.git import verify_commit_moves

        with make_verifier(args.insecure_host) as verifier:
            verify_commit_moves(summary, verifier)
    print(render_diff(summary, args.format))
    return EXIT_INVALID if summary.has_errors else EXIT_VALID


def _changes_in_repository(
    repository: str, base: str, head: str, insecure_hosts: Sequence[str]
) -> ChangeSummary:
    from ..diff.git import changes_between_commits, resolve_revision
    from ..handlers.root import ENV_GIT_TOKENS, git_credentials
    from ..repository import GitManifestSource
    from ..upstream import UrlPolicy

    from_env = [h for h in os.environ.get(ENV_INSECURE_HOSTS, "").split(",") if h.strip()]
    with GitManifestSource(
        repository,
        policy=UrlPolicy([*from_env, *insecure_hosts]),
        credentials=git_credentials(os.environ.get(ENV_GIT_TOKENS, "")),
    ) as source:
        return changes_between_commits(
            source, resolve_revision(source, base), resolve_revision(source, head)
        )


def command_cat(args: argparse.Namespace) -> int:
    from ..libraryfile.cat import canonical_text

    path = Path(args.file)
    try:
        data = read_manifest(path)
    except UnreadablePath as error:
        print(f"manifest-validate: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    from ..checks.pipeline import validate
    from ..problems.catalog import refused_by_bashbrew
    from ..results.report import render

    result = validate(path.name, data, source=str(path))
    # Print exactly when bashbrew would: our own errors (a Directory with a newline in it, a
    # `latest-debian` tag, ...) go to stderr, but do not stop the canonical text.
    manifest = result.parsed
    if any(
        refused_by_bashbrew(
            found,
            unused_global=not manifest.uses_global(found.line, found.field),
            value=manifest.value_at(found.line, found.field),
        )
        for found in result.errors
    ):
        print(render([result], "text"), file=sys.stderr)
        return EXIT_INVALID
    if result.errors:
        print(render([result], "text"), file=sys.stderr)
    print(canonical_text(result.parsed))
    return EXIT_VALID


def command_rules(args: argparse.Namespace) -> int:
    from ..results.report import render_rules, render_rules_markdown

    if args.format == "markdown":
        sys.stdout.write(render_rules_markdown())
    else:
        print(render_rules(args.format))
    return EXIT_VALID


def command_serve(args: argparse.Namespace) -> int:
    from ..api.auth import token_source_from_env
    from ..handlers.local_server import make_server, read_timeout_from_env
    from ..handlers.root import ENV_TEXT_BUDGET
    from ..results.queues import ENV_QUEUE_URL, ENV_STATE_DIR

    if args.queue_url:
        os.environ[ENV_QUEUE_URL] = args.queue_url
    if args.state_dir:
        os.environ[ENV_STATE_DIR] = args.state_dir
    if args.insecure_host:
        os.environ[ENV_INSECURE_HOSTS] = ",".join(args.insecure_host)
    if not token_source_from_env()():
        print(
            "manifest-validate: warning: no API token configured "
            "(set MANIFEST_VALIDATION_API_TOKENS); every validation request will get 401",
            file=sys.stderr,
        )
    if args.text_budget is not None:
        os.environ[ENV_TEXT_BUDGET] = str(args.text_budget)
    server = make_server(
        args.host,
        args.port,
        read_timeout=args.read_timeout or read_timeout_from_env(),
    )
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"serving on http://{host}:{port}/v1/ (docs at /v1/docs); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_VALID


def command_results(args: argparse.Namespace) -> int:
    from ..results.queues import LocalResultQueue, default_state_dir, render_pending

    queue = LocalResultQueue(args.state_dir or default_state_dir())
    items = queue.pending(args.limit)
    sys.stdout.write(render_pending(items, args.format, total=queue.count()))
    if args.acknowledge and items:
        queue.acknowledge(item.sequence for item in items)
    return EXIT_VALID


def command_revalidate(args: argparse.Namespace) -> int:
    import time

    from ..handlers.root import services
    from ..repository import SourceError
    from ..results.messages import Trigger
    from ..results.queues import queue_from_env
    from ..work.revalidate import (
        Progress,
        RecordingResults,
        UnknownManifests,
        prefetch,
        revalidation_jobs,
        run_in_process,
        summary_table,
    )
    from ..work.worker import Worker

    if args.insecure_host:
        os.environ[ENV_INSECURE_HOSTS] = ",".join(args.insecure_host)
    repository = args.repository or str(Path(args.library).resolve())
    started = time.monotonic()
    try:
        source = services.source(repository)
        jobs = revalidation_jobs(
            source, repository, args.branch, only=args.manifest or None, trigger=Trigger.CLI
        )
        prefetch(source, jobs)
    except (SourceError, UnknownManifests) as error:
        print(f"manifest-validate: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    recording = RecordingResults(queue_from_env(state_dir=args.state_dir))
    verifier = None if args.no_verify_git else make_verifier(args.insecure_host)
    worker = Worker(services.source, recording, None, verifier)
    failures = run_in_process(
        jobs, worker, concurrency=args.concurrency, progress=Progress(len(jobs))
    )
    if args.docs:
        from ..work.revalidate import revalidate_docs

        names = sorted({job.manifest for job in jobs if job.manifest})
        docs_messages, docs_failures = revalidate_docs(args.docs, names, only=args.manifest or None)
        recording.publish(docs_messages)
        failures += docs_failures
    requests = verifier.stats.requests if verifier is not None else 0
    if verifier is not None:
        verifier.close()
    print(
        summary_table(
            recording,
            seconds=time.monotonic() - started,
            requests=requests,
            manifests=len(jobs),
        )
    )
    print(f"results: {recording.describe()}")
    for failure in failures:
        print(f"manifest-validate: error: {failure}", file=sys.stderr)
    if failures:
        return EXIT_USAGE
    if recording.statuses["invalid"]:
        return EXIT_INVALID
    if recording.statuses["unverified"]:
        return EXIT_UNVERIFIED
    return EXIT_VALID


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds in (0, 3600)")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manifest-validate",
        description="Validate Docker Official Images library definition files.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="validate library files (and docs folders) and report every problem",
        description="Validate library files (a file, or every regular non-hidden file of a "
        "directory; the file name is the image name) and docs folders (a directory with a "
        "metadata.json or a README-short.txt; every subdirectory of a docs checkout, given as "
        "a PATH or as --docs DIR). Exit 0 valid, 1 invalid, 2 usage "
        "error or unreadable path, 3 unverified.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH")
    check.add_argument(
        "--docs",
        metavar="DIR",
        help="also check the docs folders of DIR (a docker-library/docs checkout: every "
        "non-hidden subdirectory; its root metadata.json gives the categories), cross-checked "
        "against the library files given",
    )
    check.add_argument("--format", choices=CHECK_FORMATS, default="text")
    check.add_argument(
        "--verify-git",
        action="store_true",
        help="also check upstream that every GitFetch ref exists and contains its GitCommit, "
        "and read each entry's Dockerfile to check what it builds FROM "
        "(over https; exit 3 when a repository could not be reached)",
    )
    check.add_argument(
        "--library",
        metavar="DIR",
        help="with --verify-git: the library files the parents are checked against (the "
        "checked files take precedence over DIR's copies); without it, parents that are "
        "other official images are not checked (one note per manifest says so)",
    )
    check.add_argument(
        "--insecure-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="allow plain http and private addresses for exactly this host (repeatable; also "
        f"${ENV_INSECURE_HOSTS}, comma-separated)",
    )
    check.set_defaults(handler=command_check)

    diff = commands.add_parser(
        "diff",
        help="what a change does: tags, entries, architectures and build fields, per image",
        description="Compare two library files, two directories of them, or (with --git) the "
        "library of a manifests repository at two commits, on the parsed model. Exit 0 "
        "when the comparison was made (changes and warnings are output, not failures), 1 "
        "when a file could not be read fully (the errors are output; only what could be "
        "read is compared), 2 on a usage error or an unreadable input.",
    )
    diff.add_argument(
        "paths",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="two files or two directories; with --git: REPO BASE..HEAD (commit ids or "
        "branch names)",
    )
    diff.add_argument(
        "--git",
        action="store_true",
        help="OLD is a manifests repository URL (smart HTTP), NEW is BASE..HEAD",
    )
    diff.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    diff.add_argument(
        "--verify-git",
        action="store_true",
        help="check upstream that every moved GitCommit descends from the old one "
        "(commit-not-descendant warning otherwise)",
    )
    diff.add_argument("--insecure-host", action="append", default=[], metavar="HOST[:PORT]")
    diff.set_defaults(handler=command_diff)

    cat = commands.add_parser(
        "cat", help="print the canonical text of a library file, as `bashbrew cat` does"
    )
    cat.add_argument("file", metavar="FILE")
    cat.set_defaults(handler=command_cat)

    serve = commands.add_parser(
        "serve",
        help="serve the HTTP API locally (the same handler as on AWS Lambda)",
        description="Serve POST /v1/validations, GET /v1/health and the docs at /v1/docs. "
        "Tokens come from MANIFEST_VALIDATION_API_TOKENS (comma-separated); results go to "
        "the embedded queue unless --queue-url is given.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--queue-url", help="publish to this SQS FIFO queue instead")
    serve.add_argument("--state-dir", help="directory of the embedded queue")
    serve.add_argument("--insecure-host", action="append", default=[], metavar="HOST[:PORT]")
    serve.add_argument(
        "--read-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="close a connection whose request (line, headers, body) has not arrived after "
        "this long, with 408 (default 15, or MANIFEST_VALIDATION_READ_TIMEOUT_SECONDS)",
    )
    serve.add_argument(
        "--text-budget",
        type=_positive_seconds,
        metavar="SECONDS",
        help="time budget of the text checks of one request; a manifest over it gets "
        "validation-budget-exceeded (default 5, or MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS)",
    )
    serve.set_defaults(handler=command_serve)

    results = commands.add_parser(
        "results", help="print the results waiting in the embedded queue (oldest first)"
    )
    results.add_argument("--format", choices=("text", "json"), default="text")
    results.add_argument("--limit", type=int, default=None)
    results.add_argument("--state-dir", help="directory of the embedded queue")
    results.add_argument(
        "--acknowledge", action="store_true", help="remove the printed results from the queue"
    )
    results.set_defaults(handler=command_results)

    revalidate = commands.add_parser(
        "revalidate",
        help="re-validate every manifest of a manifests repository (or directory) here",
        description="Resolve the branch tip, list library/, validate every manifest with "
        "upstream verification (and, with --docs, every docs folder), and put the results on "
        "the embedded queue (or the SQS queue of RESULTS_QUEUE_URL). Exit 0 all valid, 1 some "
        "invalid, 2 errors, 3 unverified.",
    )
    where = revalidate.add_mutually_exclusive_group(required=True)
    where.add_argument("--repository", metavar="URL", help="manifests repository (https)")
    where.add_argument("--library", metavar="DIR", help="a checkout or a directory of files")
    revalidate.add_argument("--branch", default="master")
    revalidate.add_argument(
        "--docs",
        metavar="DIR",
        help="also check the docs folders of DIR (a docker-library/docs checkout), "
        "cross-checked against the manifests; their results go to the same queue",
    )
    revalidate.add_argument(
        "--manifest", action="append", default=[], metavar="NAME", help="only these (repeatable)"
    )
    revalidate.add_argument("--no-verify-git", action="store_true")
    revalidate.add_argument("--concurrency", type=int, default=8)
    revalidate.add_argument("--state-dir", help="directory of the embedded queue")
    revalidate.add_argument("--insecure-host", action="append", default=[], metavar="HOST[:PORT]")
    revalidate.set_defaults(handler=command_revalidate)

    rules = commands.add_parser("rules", help="list every rule: code, severity, summary")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.set_defaults(handler=command_rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code
