"""The worker: SQS batches from the work queue, one job per record, partial batch failures.

A record that fails (a transient upstream failure before its last attempt, a publish failure)
is reported back and delivered again; after the queue's maximum receives it goes to the DLQ.

Progress is visible record by record: a record whose job is done is deleted from the work queue
at once (the event source mapping would delete it only when the invocation ends, so a timeout
or a crash later in the batch brought every record back, done or not); and no job but the
first is started with less than `JOB_RESERVE_SECONDS` of the invocation left: it and the rest
are reported as batch item failures without being started. A timeout therefore re-runs only the
job that was running; the ledger (`results.once`) makes that re-run publish nothing if its
result was out.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..work.jobs import Job
from ..work.worker import RetryLater, Worker
from .root import Services, default_services
from .tracing import capture_lambda_handler, capture_method

logger = Logger()
metrics = Metrics(namespace="ManifestValidation")
# What one job may take: reading the manifest, the text checks (5 s), upstream verification
# (20 s), publishing; with less left than this a job is not started.
JOB_RESERVE_SECONDS = 60.0


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer: dict[str, Any] = handle(event, context, services=default_services())
    return answer


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def handle(event: dict[str, Any], context: Any, *, services: Services) -> dict[str, Any]:
    """One SQS batch with the given services (tests pass theirs): the records that failed or
    were not started, as Lambda's partial batch response."""
    records = [SQSRecord(raw) for raw in event.get("Records") or []]
    worker = services.worker()
    failures: list[str] = []
    for position, record in enumerate(records):
        left = context.get_remaining_time_in_millis() / 1000
        # (the first job starts whatever is left: a function timeout below the reserve is a
        # misconfiguration, and a batch that never started would end in the DLQ for nothing)
        if position and left < JOB_RESERVE_SECONDS:
            unstarted = [r.message_id for r in records[position:]]
            logger.warning(
                "jobs not started: the invocation ends soon",
                extra={"unstarted": len(unstarted), "seconds_left": round(left, 1)},
            )
            metrics.add_metric(name="JobsDeferred", unit=MetricUnit.Count, value=len(unstarted))
            failures += unstarted
            break
        try:
            handle_record(record, services=services, worker=worker, lease_seconds=left)
        except RetryLater as error:
            logger.info("job comes back later", extra={"reason": str(error)})
            failures.append(record.message_id)
            continue
        except Exception:  # reported; after the last receive the record goes to the DLQ
            logger.exception("job failed")
            failures.append(record.message_id)
            continue
        finally:
            logger.remove_keys(["job", "manifest", "attempt"])
        acknowledge(record, services)
    return {"batchItemFailures": [{"itemIdentifier": message} for message in failures]}


@capture_method
def handle_record(
    record: SQSRecord, *, services: Services, worker: Worker, lease_seconds: float
) -> None:
    job = Job.parse(record.body)  # InvalidJob: no retry can help; it ends in the DLQ
    attempt = int(record.attributes.approximate_receive_count or 1)
    logger.append_keys(job=job.id[:12], manifest=job.manifest, attempt=attempt)
    # the work queue's redrive maxReceiveCount: the attempt that publishes `unverified`
    final = attempt >= services.settings.work_queue_max_receives
    # the job run's claim lasts as long as this invocation may: no other attempt takes it over
    # before this one is certainly over
    worker.handle(job, final_attempt=final, lease_seconds=lease_seconds)
    metrics.add_metric(name="JobsDone", unit=MetricUnit.Count, value=1)


def acknowledge(record: SQSRecord, services: Services) -> None:
    """Delete a done record from the work queue now; if that fails, the event source mapping
    deletes it when the invocation ends (and a re-run would publish nothing)."""
    queue = services.sqs_work_queue()
    if queue is None or not record.event_source_arn.endswith(f":{queue.name}"):
        return
    try:
        queue.delete(record.receipt_handle)
    except Exception as error:  # never fail a done job over its deletion
        logger.warning("a done record was not deleted now", extra={"error": str(error)})
