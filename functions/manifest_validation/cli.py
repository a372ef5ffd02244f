"""`manifest-validate`: the command line door to the core.

Exit codes of `check`: 0 every manifest valid (warnings allowed), 1 some manifest invalid,
2 usage error or unreadable path, 3 nothing invalid but something could not be verified upstream.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .report import FORMATS, render, render_rules, render_rules_markdown
from .validate import Status, ValidationResult, validate, validate_many

if TYPE_CHECKING:
    from .upstream import GitVerifier

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNVERIFIED = 3

ENV_INSECURE_HOSTS = "MANIFEST_VALIDATION_INSECURE_HOSTS"
ENV_GIT_TOKENS = "MANIFEST_VALIDATION_GIT_TOKENS"

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


def exit_code(results: Sequence[ValidationResult]) -> int:
    statuses = {result.status for result in results}
    if Status.INVALID in statuses:
        return EXIT_INVALID
    if Status.UNVERIFIED in statuses:
        return EXIT_UNVERIFIED
    return EXIT_VALID


def git_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """Tokens per git host from `MANIFEST_VALIDATION_GIT_TOKENS` (`host=token,host2=token2`)."""
    credentials = {}
    for item in environ.get(ENV_GIT_TOKENS, "").split(","):
        host, equals, token = item.strip().partition("=")
        if equals and host and token:
            credentials[host.lower()] = token
    return credentials


def make_verifier(insecure_hosts: Sequence[str]) -> GitVerifier:
    from .upstream import GitVerifier, UrlPolicy

    from_env = [h for h in os.environ.get(ENV_INSECURE_HOSTS, "").split(",") if h.strip()]
    policy = UrlPolicy([*from_env, *insecure_hosts])
    return GitVerifier(policy, credentials=git_credentials(os.environ))


def command_check(args: argparse.Namespace) -> int:
    manifests: list[tuple[str, bytes | str, str | None]] = []
    unreadable: list[str] = []
    for argument in args.paths:
        try:
            for file in manifest_files(Path(argument)):
                manifests.append((file.name, read_manifest(file), str(file)))
        except (UnreadablePath, OSError) as error:
            unreadable.append(str(error))
    if args.verify_git:
        with make_verifier(args.insecure_host) as verifier:
            results = validate_many(manifests, verifier=verifier)
    else:
        results = validate_many(manifests)
    messages = []
    if args.format == "json":
        from .results import Origin, Trigger, result_message

        messages = [
            result_message(
                result,
                Origin.of("file", data, path=source),
                trigger=Trigger.CLI,
                verify_git=args.verify_git,
            )
            for result, (_, data, source) in zip(results, manifests, strict=True)
        ]
    print(render(results, args.format, messages))
    for message in unreadable:
        print(f"manifest-validate: error: {message}", file=sys.stderr)
    if unreadable:
        return EXIT_USAGE
    return exit_code(results)


def command_cat(args: argparse.Namespace) -> int:
    from .manifest import canonical_text

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
    if args.format == "markdown":
        sys.stdout.write(render_rules_markdown())
    else:
        print(render_rules(args.format))
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
