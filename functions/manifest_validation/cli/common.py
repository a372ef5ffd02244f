"""What every command shares: exit codes, error lines, the run's settings and verifier.

Kept light: `--help` imports this module, and nothing of the core.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..handlers.root import Services
    from ..settings import Settings
    from ..upstream import GitVerifier

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNVERIFIED = 3
EXIT_BROKEN_PIPE = 128 + 13  # as a shell reports a process ended by SIGPIPE

# One manifest's upstream checks may take this long (all manifests of a run: times their number).
MANIFEST_BUDGET_SECONDS = 120.0


def error(message: object) -> None:
    """An error line on stderr, in the form every command uses."""
    print(f"manifest-validate: error: {message}", file=sys.stderr)


def warning(message: object) -> None:
    """A warning line on stderr: the command goes on (e.g. what git would warn about)."""
    print(f"manifest-validate: warning: {message}", file=sys.stderr)


def note(message: object) -> None:
    """A note on stderr: what the command made of its arguments."""
    print(f"manifest-validate: {message}", file=sys.stderr)


def exit_code(statuses: Counter[str]) -> int:
    """The exit code of a run from the number of results of each status."""
    if statuses["invalid"]:
        return EXIT_INVALID
    if statuses["unverified"]:
        return EXIT_UNVERIFIED
    return EXIT_VALID


def settings_of(args: argparse.Namespace) -> Settings:
    """The environment's settings, with the command's options over them (`--insecure-host`
    and `--registry-mirror` add to the environment's; `--state-dir` replaces its directory)."""
    from dataclasses import replace
    from pathlib import Path

    from ..settings import Settings

    settings = Settings.from_env()
    hosts = [*settings.insecure_hosts, *getattr(args, "insecure_host", [])]
    settings = replace(settings, insecure_hosts=tuple(dict.fromkeys(hosts)))
    mirrors = [*settings.registry_mirrors, *getattr(args, "registry_mirror", [])]
    settings = replace(settings, registry_mirrors=tuple(dict.fromkeys(mirrors)))
    if getattr(args, "state_dir", None):
        settings = replace(settings, state_dir=Path(args.state_dir))
    return settings


def wants_colour(args: argparse.Namespace) -> bool:
    """Colours for people at a terminal, unless NO_COLOR says otherwise."""
    return sys.stdout.isatty() and not settings_of(args).no_color


def make_verifier(
    settings: Settings,
    *,
    manifests: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> GitVerifier:
    """The upstream verifier of one run. All manifests are verified in one call (one ref
    listing per repository), so the time budget is the per-manifest budget times their number.
    `progress` is told what the checks are doing (see `progress.upstream_progress`)."""
    from ..upstream import GitVerifier, UrlPolicy

    return GitVerifier(
        UrlPolicy(settings.insecure_hosts),
        credentials=dict(settings.git_tokens),
        manifest_budget_seconds=MANIFEST_BUDGET_SECONDS * max(1, manifests),
        progress=progress,
    )


def make_services(settings: Settings, verifier: GitVerifier) -> Services:
    """The composition root of one run: the registry client and the history checker are
    built from the settings, through `verifier`'s transport, with the per-manifest budget of
    a command line run."""
    from ..handlers.root import Services

    return Services(settings, verifier=verifier, budget_seconds=MANIFEST_BUDGET_SECONDS)


def positive_seconds(value: str) -> float:
    """An argparse type: a number of seconds in (0, 3600)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds in (0, 3600)")
    return seconds


__all__ = [
    "EXIT_INVALID",
    "EXIT_UNVERIFIED",
    "EXIT_USAGE",
    "EXIT_VALID",
    "error",
    "exit_code",
    "make_services",
    "make_verifier",
    "positive_seconds",
    "settings_of",
    "warning",
]
