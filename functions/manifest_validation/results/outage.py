"""Outages of what the functions depend on (DynamoDB, SQS, S3, SSM), told apart from our own bugs:
a door answers an outage with 503 and Retry-After, a worker lets the job come back later; only
a bug is a 500.

An outage is an error that retrying later may cure: a refused or throttled request, a service's
5xx, a connection that failed or timed out, or one of our own errors that say so
(`DependencyUnavailable`, a retryable `PublishError`), also when it is the cause of another
error (Powertools wraps an SSM failure in its own). An AWS error that no retry can help (access
denied, no such table, a malformed request) is a configuration or code bug, and stays one.

botocore is imported only when an error has to be classified, so that importing this module stays
free for the command line.
"""

from __future__ import annotations

from collections.abc import Mapping

# Error codes after which the same request may later succeed (SQS, S3, DynamoDB, SSM, KMS).
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestThrottled",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "KmsThrottled",
        "KMSThrottlingException",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionInProgressException",
    }
)


class DependencyUnavailable(Exception):
    """A dependency could not be reached, or refused for now: retrying later may succeed."""


def aws_error_reason(error: BaseException) -> tuple[str, bool]:
    """A reason without request details, and whether retrying later may help."""
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        details = response.get("Error", {})
        code = str(details.get("Code", "unknown"))
        message = str(details.get("Message", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        retryable = code in TRANSIENT_CODES or (isinstance(status, int) and status >= 500)
        return (f"{code}: {message}" if message else code), retryable
    # BotoCoreError without a response: connection errors, timeouts, missing credentials.
    return f"{type(error).__name__}: {error}", True


def is_outage(error: BaseException) -> bool:
    """Whether `error`, or an error that caused it, is an outage of a dependency."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _outage_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _outage_itself(error: BaseException) -> bool:
    from .queues.base import PublishError

    if isinstance(error, DependencyUnavailable):
        return True
    if isinstance(error, PublishError):
        return error.retryable
    if type(error).__module__.startswith("botocore") or type(error).__module__.startswith(
        "urllib3"
    ):
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            return aws_error_reason(error)[1]
        if isinstance(error, BotoCoreError):
            from botocore.exceptions import NoCredentialsError, ParamValidationError

            # a request the code built wrong, or a role without credentials: no retry helps
            return not isinstance(error, ParamValidationError | NoCredentialsError)
        return True  # urllib3's connection errors under botocore
    return isinstance(error, ConnectionError | TimeoutError)
