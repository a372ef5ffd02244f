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
from typing import TYPE_CHECKING

from . import __version__
from .report import FORMATS

# Each command imports what it needs when it runs (the core, jsonschema, the upstream client):
# `--help` and `rules` start without them, `check` without the upstream client.
if TYPE_CHECKING:
    from .report import ReportWriter
    from .upstream import GitVerifier
    from .validate import ValidationResult

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
    from .services import ENV_GIT_TOKENS, git_credentials
    from .upstream import GitVerifier, UrlPolicy

    from_env = [h for h in os.environ.get(ENV_INSECURE_HOSTS, "").split(",") if h.strip()]
    return GitVerifier(
        UrlPolicy([*from_env, *insecure_hosts]),
        credentials=git_credentials(os.environ.get(ENV_GIT_TOKENS, "")),
        manifest_budget_seconds=MANIFEST_BUDGET_SECONDS * max(1, manifests),
    )


def readable_manifests(
    paths: Sequence[str], unreadable: list[str]
) -> Iterator[tuple[str, bytes, str]]:
    """(name, content, path) of every manifest of `paths`, read one at a time; each path or
    file that cannot be read is reported on stderr, added to `unreadable`, and skipped."""
    for argument in paths:
        try:
            files = list(manifest_files(Path(argument)))
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
    repository for the whole run), so those manifests are all read and validated first."""
    from .report import ReportWriter
    from .validate import validate, validate_many

    writer = ReportWriter(sys.stdout, args.format)
    unreadable: list[str] = []
    manifests = readable_manifests(args.paths, unreadable)
    if args.verify_git:
        batch = list(manifests)
        with make_verifier(args.insecure_host, manifests=len(batch)) as verifier:
            results = validate_many(batch, verifier=verifier)
        for result, (_, data, _) in zip(results, batch, strict=True):
            _write(writer, result, data, args.verify_git)
    else:
        for name, data, path in manifests:
            _write(writer, validate(name, data, source=path), data, args.verify_git)
    counts = writer.close()
    if unreadable:
        return EXIT_USAGE
    return exit_code(counts.statuses)


def _write(writer: ReportWriter, result: ValidationResult, data: bytes, verify_git: bool) -> None:
    message = None
    if writer.format == "json":
        from .results import Origin, Trigger, result_message

        origin = Origin.of("file", data, path=result.source)
        message = result_message(result, origin, trigger=Trigger.CLI, verify_git=verify_git)
    writer.add(result, message)


def command_cat(args: argparse.Namespace) -> int:
    from .manifest import canonical_text
    from .report import render
    from .validate import validate

    path = Path(args.file)
    try:
        data = read_manifest(path)
    except UnreadablePath as error:
        print(f"manifest-validate: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = validate(path.name, data, source=str(path))
    if result.errors:
        print(render([result], "text"), file=sys.stderr)
        return EXIT_INVALID
    print(canonical_text(result.parsed))
    return EXIT_VALID


def command_rules(args: argparse.Namespace) -> int:
    from .report import render_rules, render_rules_markdown

    if args.format == "markdown":
        sys.stdout.write(render_rules_markdown())
    else:
        print(render_rules(args.format))
    return EXIT_VALID


def command_serve(args: argparse.Namespace) -> int:
    from .auth import token_source_from_env
    from .queues import ENV_QUEUE_URL, ENV_STATE_DIR
    from .server import make_server

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
    server = make_server(args.host, args.port)
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
    from .queues import LocalResultQueue, default_state_dir, render_pending

    queue = LocalResultQueue(args.state_dir or default_state_dir())
    items = queue.pending(args.limit)
    sys.stdout.write(render_pending(items, args.format, total=queue.count()))
    if args.acknowledge and items:
        queue.acknowledge(item.sequence for item in items)
    return EXIT_VALID


def command_revalidate(args: argparse.Namespace) -> int:
    import time

    from .queues import queue_from_env
    from .results import Trigger
    from .revalidate import (
        Progress,
        RecordingResults,
        UnknownManifests,
        prefetch,
        revalidation_jobs,
        run_in_process,
        summary_table,
    )
    from .services import services
    from .sources import SourceError
    from .worker import Worker

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manifest-validate",
        description="Validate Docker Official Images library definition files.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="validate library files and report every problem",
        description="Validate library files (a file, or every regular non-hidden file of a "
        "directory; the file name is the image name). Exit 0 valid, 1 invalid, 2 usage "
        "error or unreadable path, 3 unverified.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument(
        "--verify-git",
        action="store_true",
        help="also check upstream that every GitFetch ref exists and contains its GitCommit "
        "(over https; exit 3 when a repository could not be reached)",
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
        "upstream verification, and put the results on the embedded queue (or the SQS queue "
        "of RESULTS_QUEUE_URL). Exit 0 all valid, 1 some invalid, 2 errors, 3 unverified.",
    )
    where = revalidate.add_mutually_exclusive_group(required=True)
    where.add_argument("--repository", metavar="URL", help="manifests repository (https)")
    where.add_argument("--library", metavar="DIR", help="a checkout or a directory of files")
    revalidate.add_argument("--branch", default="master")
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
