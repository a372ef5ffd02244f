"""Where validation results are published: an SQS FIFO queue or a local SQLite queue.

Public API::

    queue = queue_from_env()          # SQS when RESULTS_QUEUE_URL is set, else local SQLite
    queue.publish([result, ...])      # all published, or PublishError naming the failures
    print(queue.describe())

Modules: :mod:`.base` (the :class:`ResultQueue` port, :class:`PublishError`, the factory),
:mod:`.sqs` (SQS FIFO with an S3 claim check; boto3 is imported only when a client is created)
and :mod:`.local` (durable SQLite queue, plus :func:`render_pending` for the CLI).
"""

from .base import (
    ENV_QUEUE_URL,
    ENV_RESULTS_BUCKET,
    ENV_STATE_DIR,
    PublishError,
    PublishFailure,
    ResultQueue,
    default_state_dir,
    queue_from_env,
)
from .local import LocalResultQueue, QueuedResult, render_pending
from .sqs import ClaimCheckError, SqsResultQueue, read_claim_check

__all__ = [
    "ENV_QUEUE_URL",
    "ENV_RESULTS_BUCKET",
    "ENV_STATE_DIR",
    "ClaimCheckError",
    "LocalResultQueue",
    "PublishError",
    "PublishFailure",
    "QueuedResult",
    "ResultQueue",
    "SqsResultQueue",
    "default_state_dir",
    "queue_from_env",
    "read_claim_check",
    "render_pending",
]
