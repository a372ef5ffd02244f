"""`manifest-validate`: the command line door. This module only parses: each command lives in
a module of its own (check, diff, review, sources, serve, revalidate), imported when it runs,
so `--help` and `rules` start without the core, and `check` without the upstream client.

Exit codes of `check`: 0 every manifest valid (warnings allowed), 1 some manifest invalid,
2 usage error or unreadable path, 3 nothing invalid but something could not be verified upstream.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import __version__
from .common import EXIT_BROKEN_PIPE, EXIT_USAGE, error, positive_seconds

# report.FORMATS, written out: importing report would load the problem model and dataclasses
# for `--help` too (a test keeps the two equal).
CHECK_FORMATS = ("text", "json", "github")
# What the `aws` extra brings: `serve` (the Lambda handler) and the SQS queues need it.
AWS_EXTRA_MODULES = frozenset({"aws_lambda_powertools", "boto3", "botocore", "pydantic"})
# settings.INSECURE_HOSTS and REGISTRY_MIRRORS, written out for the same reason (a test keeps
# them equal)
INSECURE_HOSTS_VARIABLE = "MANIFEST_VALIDATION_INSECURE_HOSTS"
REGISTRY_MIRRORS_VARIABLE = "MANIFEST_VALIDATION_REGISTRY_MIRRORS"

if TYPE_CHECKING:  # what add_subparsers returns (a private class of argparse's)
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

GIT_HELP = (
    "OLD is a manifests repository: a URL (git smart HTTP), a local clone, worktree or bare "
    "repository; NEW is a git range of it"
)
RANGE_HELP = (
    "with --git: A..B, or A...B (from the merge base of A and B, as `git diff A...B`); each "
    "side any revision git takes (a branch, origin/master, a tag, HEAD~1, an abbreviated id)"
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (`only`, a command's name) of that command alone: it is
    all one run of it needs, and each subparser costs a `check` of a file more than the file."""
    parser = argparse.ArgumentParser(
        prog="manifest-validate",
        description="Validate Docker Official Images library definition files.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(commands)
    return parser


def _check_command(commands: Commands) -> None:
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
        "--external-pins",
        metavar="DIR",
        help="with --verify-git: the manifests repository's .external-pins, which external "
        "parents (names with /) may be built FROM (default: .external-pins beside --library "
        "DIR, as in an official-images checkout; without any, external parents are not "
        "checked and a note says so)",
    )
    check.add_argument(
        "--registry-mirror",
        action="append",
        default=[],
        metavar="HOST=URL",
        help="ask URL instead of registry HOST which architectures a pinned digest serves "
        f"(repeatable; also ${REGISTRY_MIRRORS_VARIABLE}, comma-separated)",
    )
    check.add_argument(
        "--insecure-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="allow plain http and private addresses for exactly this host, git repository or "
        f"registry (repeatable; also ${INSECURE_HOSTS_VARIABLE}, comma-separated)",
    )
    check.add_argument(
        "--sources",
        action="store_true",
        help="with --format json: each valid result also carries `sources`, its slice of "
        "the publisher's sources.json (with --verify-git: checksums, FROMs, parents)",
    )
    check.set_defaults(command="check:command_check")


def _sources_command(commands: Commands) -> None:
    sources = commands.add_parser(
        "sources",
        help="print the publisher's sources.json for library files (as meta-scripts makes it)",
        description="Print docker-library/meta-scripts' sources.json for the library files "
        "given: one source per build context (keyed by sourceId), in bashbrew's build order, "
        "with each architecture's tags, FROMs, parents and pins. The Dockerfiles and build "
        "contexts are read upstream over git's smart HTTP. Exit 0, 1 when a file is invalid "
        "(left out, its problems on stderr), 2 usage error, 3 when a repository could not be "
        "reached (its fields are null).",
    )
    sources.add_argument("paths", nargs="*", metavar="PATH")
    sources.add_argument(
        "--library",
        metavar="DIR",
        help="the library files parents are checked against (its .external-pins beside it "
        "gives the pins)",
    )
    sources.add_argument(
        "--external-pins",
        metavar="DIR",
        help="the .external-pins directory (default: .external-pins beside --library)",
    )
    sources.add_argument("--format", choices=("json",), default="json")
    sources.add_argument(
        "--tab", action="store_true", help="indent with tabs, as `jq --tab` (default: as jq)"
    )
    sources.add_argument("--insecure-host", action="append", default=[], metavar="HOST[:PORT]")
    sources.set_defaults(command="sources:command_sources")


def _diff_command(commands: Commands) -> None:
    diff = commands.add_parser(
        "diff",
        help="what a change does: tags, entries, architectures and build fields, per image",
        description="Compare two library files, two directories of them (/dev/null on one "
        "side: a new or removed image), or (with --git) the library of a manifests "
        "repository at two commits, on the parsed model. Exit 0 when the comparison was "
        "made (changes and warnings are output, not failures), 1 when a file could not be "
        "read fully (the errors are output; only what could be read is compared), 2 on a "
        "usage error or an unreadable input.",
    )
    # two positionals, not one of nargs=2: argparse's help cannot print a tuple metavar
    diff.add_argument(
        "old", metavar="OLD", help="a file or a directory; with --git: the repository"
    )
    diff.add_argument("new", metavar="NEW", help=f"a file or a directory; {RANGE_HELP}")
    diff.add_argument("--git", action="store_true", help=GIT_HELP)
    diff.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    diff.add_argument(
        "--verify-git",
        action="store_true",
        help="check upstream that every moved GitCommit descends from the old one "
        "(commit-not-descendant warning otherwise)",
    )
    diff.add_argument("--insecure-host", action="append", default=[], metavar="HOST[:PORT]")
    diff.set_defaults(command="diff:command_diff")


def _review_command(commands: Commands) -> None:
    review = commands.add_parser(
        "review",
        help="one page for a reviewer: every changed manifest checked, with what it changes, "
        "per image",
        description="Check every library file a change adds or modifies (the new side, "
        "compared with the old: what each change does comes with its problems), report the "
        "removed ones, and with --docs check the changed images' docs folders; one page, "
        "per image. The change is OLD NEW (two files, two directories, /dev/null for a new "
        "or removed image) or, with --git, a range of a manifests repository. Exit 1 when "
        "a changed manifest or docs folder is invalid, 3 when nothing is invalid but "
        "upstream could not be reached, 2 on a usage error or an unreadable input, else 0.",
    )
    review.add_argument("old", metavar="OLD", help="a file or a directory; with --git: REPO")
    review.add_argument("new", metavar="NEW", help=f"a file or a directory; {RANGE_HELP}")
    review.add_argument("--git", action="store_true", help=GIT_HELP)
    review.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="markdown: for a pull-request comment or a job summary (within GitHub's size limit)",
    )
    review.add_argument(
        "--docs",
        metavar="DIR",
        help="also check the docs folders of the changed images in DIR (a docker-library/docs "
        "checkout), cross-checked against them (a new image needs one)",
    )
    review.add_argument(
        "--verify-git",
        action="store_true",
        help="also check upstream (GitFetch, GitCommit, what the Dockerfiles build FROM, "
        "whether moved commits descend from the old ones); the parents are checked against "
        "the new library (the head of the range, a directory NEW) unless --library is given",
    )
    review.add_argument("--library", metavar="DIR", help="with --verify-git: see check")
    review.add_argument("--insecure-host", action="append", default=[], metavar="HOST[:PORT]")
    review.set_defaults(command="review:command_review")


def _cat_command(commands: Commands) -> None:
    cat = commands.add_parser(
        "cat", help="print the canonical text of a library file, as `bashbrew cat` does"
    )
    cat.add_argument("file", metavar="FILE")
    cat.set_defaults(command="check:command_cat")


def _serve_command(commands: Commands) -> None:
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
    serve.add_argument("--registry-mirror", action="append", default=[], metavar="HOST=URL")
    serve.add_argument(
        "--read-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="close a connection whose request (line, headers, body) has not arrived after "
        "this long, with 408 (default 15, or MANIFEST_VALIDATION_READ_TIMEOUT_SECONDS)",
    )
    serve.add_argument(
        "--text-budget",
        type=positive_seconds,
        metavar="SECONDS",
        help="time budget of the text checks of one request; a manifest over it gets "
        "validation-budget-exceeded (default 5, or MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS)",
    )
    serve.set_defaults(command="serve:command_serve")


def _results_command(commands: Commands) -> None:
    results = commands.add_parser(
        "results", help="print the results waiting in the embedded queue (oldest first)"
    )
    results.add_argument("--format", choices=("text", "json"), default="text")
    results.add_argument("--limit", type=int, default=None)
    results.add_argument("--state-dir", help="directory of the embedded queue")
    results.add_argument(
        "--acknowledge", action="store_true", help="remove the printed results from the queue"
    )
    results.set_defaults(command="serve:command_results")


def _revalidate_command(commands: Commands) -> None:
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
    revalidate.add_argument("--registry-mirror", action="append", default=[], metavar="HOST=URL")
    revalidate.set_defaults(command="revalidate:command_revalidate")


def _rules_command(commands: Commands) -> None:
    rules = commands.add_parser(
        "rules",
        help="list every rule: code, severity, summary (or explain the CODEs given)",
        description="Without CODE: every rule, one line each. With CODEs: each rule's summary, "
        "why and fix. Exit 2 for a code that is not a rule.",
    )
    rules.add_argument("codes", nargs="*", metavar="CODE")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.set_defaults(command="check:command_rules")


COMMANDS: dict[str, Callable[[Commands], None]] = {
    "check": _check_command,
    "sources": _sources_command,
    "diff": _diff_command,
    "review": _review_command,
    "cat": _cat_command,
    "serve": _serve_command,
    "results": _results_command,
    "revalidate": _revalidate_command,
    "rules": _rules_command,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    only = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(only).parse_args(argv)
    module, _, function = args.command.partition(":")
    command = getattr(importlib.import_module(f".{module}", __package__), function)
    try:
        code: int = command(args)
        sys.stdout.flush()
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] not in AWS_EXTRA_MODULES:
            raise
        error(
            f"this needs {missing.name}, which comes with the aws extra: "
            "pip install 'manifest-validation[aws]'"
        )
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (`... | head`): end quietly, as a tool killed by SIGPIPE does;
        # what is still buffered for stdout goes nowhere instead of failing again at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code
