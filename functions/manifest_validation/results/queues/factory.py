"""Which results queue a configuration asks for: SQS FIFO (with the S3 claim-check bucket) when a
queue URL is given, else the embedded SQLite queue in the state directory.

The adapters are imported here, when one is made, so that importing the port (`base`) stays
cheap and boto3 is loaded only once an SQS queue is actually constructed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .local import LocalResultQueue
    from .sqs import SqsResultQueue


def result_queue(
    queue_url: str | None,
    *,
    bucket: str | None = None,
    state_dir: str | os.PathLike[str],
) -> SqsResultQueue | LocalResultQueue:
    if queue_url and queue_url.strip():
        from .sqs import SqsResultQueue

        return SqsResultQueue(queue_url.strip(), bucket=(bucket or "").strip() or None)
    from .local import LocalResultQueue

    return LocalResultQueue(Path(state_dir))
