"""The worker: SQS batches from the work queue, one job per record, partial batch failures.

A record that fails (a transient upstream failure before its last attempt, a publish failure)
is reported back and delivered again; after the queue's maximum receives it goes to the DLQ.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..work.jobs import Job
from .root import Services, default_services
from .tracing import capture_lambda_handler, capture_method

logger = Logger()
metrics = Metrics(namespace="ManifestValidation")
# report every failed record, also when all failed (the same retry, but visible per record)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer: dict[str, Any] = handle(event, context, services=default_services())
    return answer


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def handle(event: dict[str, Any], context: Any, *, services: Services) -> dict[str, Any]:
    """One SQS batch with the given services (tests pass theirs)."""
    record_handler = functools.partial(handle_record, services=services, context=context)
    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that dict
        event=event, record_handler=record_handler, processor=processor, context=context
    )


@capture_method
def handle_record(record: SQSRecord, *, services: Services, context: Any) -> None:
    job = Job.parse(record.body)  # InvalidJob: no retry can help; it ends in the DLQ
    attempt = int(record.attributes.approximate_receive_count or 1)
    logger.append_keys(job=job.id[:12], manifest=job.manifest, attempt=attempt)
    # the work queue's redrive maxReceiveCount: the attempt that publishes `unverified`
    final = attempt >= services.settings.work_queue_max_receives
    # the job run's claim lasts as long as this invocation may: no other attempt takes it over
    # before this one is certainly over
    lease = context.get_remaining_time_in_millis() / 1000
    services.worker().handle(job, final_attempt=final, lease_seconds=lease)
    metrics.add_metric(name="JobsDone", unit=MetricUnit.Count, value=1)
