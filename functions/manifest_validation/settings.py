"""Every setting that comes from the environment, read in one place, once.

The doors (the Lambda handlers, `manifest-validate serve`, the CLI) call `Settings.from_env()`
when they start and hand the values on as arguments; nothing else in the package reads
`os.environ`. A value that cannot be parsed is a configuration error, raised here with the
variable's name rather than guessed around. Command-line options override settings with
`dataclasses.replace`, never by writing the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_REPOSITORY = "https://github.com/docker-library/official-images.git"
DEFAULT_BRANCH = "master"
DEFAULT_TEXT_BUDGET_SECONDS = 5.0
DEFAULT_READ_TIMEOUT_SECONDS = 15.0
DEFAULT_WORK_QUEUE_MAX_RECEIVES = 5

# The variables, by what they configure (README's configuration table lists them too).
API_TOKENS = "MANIFEST_VALIDATION_API_TOKENS"
API_TOKENS_PARAMETER = "API_TOKENS_PARAMETER"
API_TOKENS_SECRET = "API_TOKENS_SECRET"
WEBHOOK_SECRET = "MANIFEST_VALIDATION_WEBHOOK_SECRET"
WEBHOOK_SECRET_PARAMETER = "WEBHOOK_SECRET_PARAMETER"
WEBHOOK_SECRET_SECRET = "WEBHOOK_SECRET_SECRET"
MANIFESTS_REPOSITORY = "MANIFESTS_REPOSITORY"
MANIFESTS_BRANCH = "MANIFESTS_BRANCH"
RESULTS_QUEUE_URL = "RESULTS_QUEUE_URL"
RESULTS_BUCKET = "RESULTS_BUCKET"
STATE_DIR = "MANIFEST_VALIDATION_STATE_DIR"
WORK_QUEUE_URL = "WORK_QUEUE_URL"
WORK_QUEUE_MAX_RECEIVES = "WORK_QUEUE_MAX_RECEIVES"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
INSECURE_HOSTS = "MANIFEST_VALIDATION_INSECURE_HOSTS"
GIT_TOKENS = "MANIFEST_VALIDATION_GIT_TOKENS"
REGISTRY_MIRRORS = "MANIFEST_VALIDATION_REGISTRY_MIRRORS"
TEXT_BUDGET = "MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS"
READ_TIMEOUT = "MANIFEST_VALIDATION_READ_TIMEOUT_SECONDS"
NO_COLOR = "NO_COLOR"  # https://no-color.org: any non-empty value turns colours off


@dataclass(frozen=True, slots=True)
class SecretSetting:
    """Where a secret comes from: an SSM parameter's name, else a Secrets Manager secret's
    name, else the value itself (local use)."""

    parameter: str | None = None
    secret: str | None = None
    value: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    repository: str = DEFAULT_REPOSITORY
    branch: str = DEFAULT_BRANCH
    api_tokens: SecretSetting = field(default_factory=SecretSetting)
    webhook_secret: SecretSetting = field(default_factory=SecretSetting)
    results_queue_url: str | None = None  # None: the embedded queue in state_dir
    results_bucket: str | None = None
    state_dir: Path = field(default_factory=lambda: state_dir({}))
    work_queue_url: str | None = None  # None: jobs run in this process
    work_queue_max_receives: int = DEFAULT_WORK_QUEUE_MAX_RECEIVES
    idempotency_table: str | None = None  # None: pushes remembered in memory
    insecure_hosts: tuple[str, ...] = ()
    git_tokens: Mapping[str, str] = field(default_factory=dict)
    # `HOST=URL` items: a registry host's requests go to that mirror (upstream.registry parses)
    registry_mirrors: tuple[str, ...] = ()
    text_budget_seconds: float = DEFAULT_TEXT_BUDGET_SECONDS
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    no_color: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            return env.get(name, "").strip() or None

        return cls(
            repository=text(MANIFESTS_REPOSITORY) or DEFAULT_REPOSITORY,
            branch=text(MANIFESTS_BRANCH) or DEFAULT_BRANCH,
            api_tokens=SecretSetting(
                text(API_TOKENS_PARAMETER), text(API_TOKENS_SECRET), env.get(API_TOKENS, "")
            ),
            webhook_secret=SecretSetting(
                text(WEBHOOK_SECRET_PARAMETER),
                text(WEBHOOK_SECRET_SECRET),
                env.get(WEBHOOK_SECRET, ""),
            ),
            results_queue_url=text(RESULTS_QUEUE_URL),
            results_bucket=text(RESULTS_BUCKET),
            state_dir=state_dir(env),
            work_queue_url=text(WORK_QUEUE_URL),
            work_queue_max_receives=_count(
                env, WORK_QUEUE_MAX_RECEIVES, DEFAULT_WORK_QUEUE_MAX_RECEIVES
            ),
            idempotency_table=text(IDEMPOTENCY_TABLE),
            insecure_hosts=host_list(env.get(INSECURE_HOSTS, "")),
            git_tokens=git_credentials(env.get(GIT_TOKENS, "")),
            registry_mirrors=mirror_list(env.get(REGISTRY_MIRRORS, "")),
            text_budget_seconds=_seconds(
                env, TEXT_BUDGET, DEFAULT_TEXT_BUDGET_SECONDS, maximum=3600
            ),
            read_timeout_seconds=_seconds(env, READ_TIMEOUT, DEFAULT_READ_TIMEOUT_SECONDS),
            no_color=bool(env.get(NO_COLOR)),
        )


def state_dir(env: Mapping[str, str]) -> Path:
    """`$MANIFEST_VALIDATION_STATE_DIR`, else the XDG state directory for this tool."""
    explicit = env.get(STATE_DIR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_STATE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "manifest-validation"
    home = env.get("HOME")
    base = Path(home) if home else Path.home()
    return base / ".local" / "state" / "manifest-validation"


def host_list(value: str) -> tuple[str, ...]:
    """`host[:port],...` (empty items ignored)."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def mirror_list(value: str) -> tuple[str, ...]:
    """`host=url,...` (empty items ignored): each item must be `HOST=http(s)://...`;
    `upstream.references.parse_registry_mirror` reads the rest when the registry client is
    made."""
    items = host_list(value)
    for item in items:
        host, equals, url = item.partition("=")
        if not (equals and host.strip() and url.strip().startswith(("http://", "https://"))):
            raise ValueError(
                f"{REGISTRY_MIRRORS} holds {item!r}, which is not HOST=URL with an http(s) URL"
            )
    return items


def git_credentials(value: str) -> dict[str, str]:
    """Tokens per git host from `host=token,host2=token2`."""
    credentials = {}
    for item in value.split(","):
        host, equals, token = item.strip().partition("=")
        if equals and host and token:
            credentials[host.lower()] = token
    return credentials


def _seconds(
    env: Mapping[str, str], name: str, default: float, *, maximum: float | None = None
) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not (seconds > 0 and (maximum is None or seconds < maximum)):
        within = f"in (0, {maximum:g})" if maximum is not None else "above 0"
        raise ValueError(f"{name} must be a number of seconds {within}, not {value!r}")
    return seconds


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    return int(value)
