"""Bearer tokens for the HTTP API.

Tokens live in an SSM SecureString parameter or a Secrets Manager secret (comma- or
newline-separated, so a new token can be added before the old one is removed: rotation), fetched
with Powertools parameters and cached for a few minutes; locally they come from an environment
variable. No token is ever logged. With no token configured every request is refused.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping, Sequence

ENV_TOKENS = "MANIFEST_VALIDATION_API_TOKENS"
ENV_TOKENS_PARAMETER = "API_TOKENS_PARAMETER"
ENV_TOKENS_SECRET = "API_TOKENS_SECRET"
CACHE_SECONDS = 300

TokenSource = Callable[[], Sequence[str]]


def split_tokens(value: str) -> list[str]:
    return [token.strip() for token in value.replace("\n", ",").split(",") if token.strip()]


def value_source(
    parameter_env: str,
    secret_env: str,
    plain_env: str,
    environ: Mapping[str, str] | None = None,
) -> Callable[[], str]:
    """Where a secret value comes from: the SSM parameter named by `parameter_env`, else the
    Secrets Manager secret named by `secret_env`, else the variable `plain_env` itself."""
    env = os.environ if environ is None else environ
    parameter = env.get(parameter_env)
    secret = env.get(secret_env)
    if parameter:

        def from_ssm() -> str:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_parameter(parameter, decrypt=True, max_age=CACHE_SECONDS))

        return from_ssm
    if secret:

        def from_secrets_manager() -> str:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(secret, max_age=CACHE_SECONDS))

        return from_secrets_manager
    value = env.get(plain_env, "")
    return lambda: value


def token_source_from_env(environ: Mapping[str, str] | None = None) -> TokenSource:
    """The API tokens: SSM parameter, Secrets Manager secret, or the environment."""
    raw = value_source(ENV_TOKENS_PARAMETER, ENV_TOKENS_SECRET, ENV_TOKENS, environ)
    return lambda: split_tokens(raw())


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_authorized(authorization: str | None, tokens: Sequence[str]) -> bool:
    """Compare against every token in constant time (no early exit reveals which matched)."""
    presented = bearer_token(authorization)
    if presented is None:
        return False
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(presented.encode(), token.encode())
    return matched
