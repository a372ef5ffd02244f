"""Bearer tokens for the HTTP API.

Tokens live in an SSM SecureString parameter or a Secrets Manager secret (comma- or
newline-separated, so a new token can be added before the old one is removed: rotation), fetched
with Powertools parameters and cached for a few minutes (handlers/root.py); locally they come
from an environment variable (settings.py). No token is ever logged. With no token configured
every request is refused.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence

TokenSource = Callable[[], Sequence[str]]


def split_tokens(value: str) -> list[str]:
    return [token.strip() for token in value.replace("\n", ",").split(",") if token.strip()]


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
