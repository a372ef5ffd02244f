"""Where validation results are published: an SQS FIFO queue or a local SQLite queue.

Public API::

    queue = result_queue(settings.results_queue_url, bucket=..., state_dir=...)
    queue.publish([result, ...])      # all published, or PublishError naming the failures
    print(queue.describe())

Modules: :mod:`.base` (the :class:`ResultQueue` port, :class:`PublishError`), :mod:`.factory`
(which adapter a configuration asks for), :mod:`.sqs` (SQS FIFO with an S3 claim check; boto3 is
imported only when a client is created) and :mod:`.local` (durable SQLite queue).
"""

from .base import PublishError, PublishFailure, ResultQueue
from .factory import result_queue
from .local import LocalResultQueue, QueuedResult
from .sqs import ClaimCheckError, SqsResultQueue, read_claim_check

__all__ = [
    "ClaimCheckError",
    "LocalResultQueue",
    "PublishError",
    "PublishFailure",
    "QueuedResult",
    "ResultQueue",
    "SqsResultQueue",
    "read_claim_check",
    "result_queue",
]
