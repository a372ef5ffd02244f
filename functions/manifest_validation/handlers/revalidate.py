"""Scheduled re-validation (EventBridge Scheduler, or a manual invocation naming a subset):
resolve the branch tip, list every manifest, enqueue one job each on the work queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..results.ledger import RUN_TTL_SECONDS, ClaimState, run_record
from ..results.origin import Trigger
from ..work.fanout import RunInProgress, claim_run, fan_out
from ..work.revalidate import revalidation_jobs, schedule_request, schedule_run
from .root import Services, default_services, remaining_seconds
from .tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics(namespace="ManifestValidation")


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer: dict[str, Any] = handle(event, context, services=default_services())
    return answer


@logger.inject_lambda_context
@capture_lambda_handler
@metrics.log_metrics
def handle(event: dict[str, Any], context: Any, *, services: Services) -> dict[str, Any]:
    """One scheduled (or manual) re-validation with the given services (tests pass theirs).

    The run is the event's id (the scheduler's execution id; for a manual invocation Lambda's
    request id), which every retry of the invocation shares: the run's record in the delivery
    ledger pins the commit its first attempt resolved and the jobs that went out, so a retry
    enqueues exactly the rest, at the same commit, and a run that completed enqueues nothing."""
    manifests, branch = schedule_request(event)
    event_id = str(event.get("id") or context.aws_request_id)
    run = schedule_run(event_id)
    source = services.source(services.repository)
    branch = branch or services.branch
    ledger = services.ledger()
    claim = claim_run(
        ledger,
        run_record(run),
        lease_seconds=remaining_seconds(context, 120.0),
        ttl_seconds=RUN_TTL_SECONDS,
        pin=source.resolve(branch),
    )
    if claim.state is ClaimState.DONE:
        logger.info("re-validation done before", extra={"jobs": claim.jobs, "commit": claim.pin})
        return {"enqueued": 0, "commit": claim.pin, "duplicate": True}
    if claim.state is ClaimState.BUSY:  # the invocation fails; Lambda retries it
        raise RunInProgress(f"re-validation {event_id} is being enqueued by another attempt")
    try:
        jobs = revalidation_jobs(
            source,
            services.repository,
            branch,
            only=manifests,
            trigger=Trigger.SCHEDULE,
            origin_event=event_id,
            run=run,
            commit=claim.pin,
        )
    except BaseException:
        ledger.release(claim)
        raise
    # EnqueueError when some jobs could not be enqueued: the invocation fails, Lambda retries
    # it (asynchronous invocation) and the retry enqueues the rest; a run that keeps failing
    # lands in the revalidate DLQ, whose alarm tells a person
    done = fan_out(ledger, claim, jobs, services.work_queue(), done=services.finished)
    metrics.add_metric(name="JobsEnqueued", unit=MetricUnit.Count, value=done.enqueued)
    logger.info(
        "re-validation enqueued",
        extra={"jobs": len(jobs), "enqueued": done.enqueued, "commit": claim.pin},
    )
    answer: dict[str, Any] = {"enqueued": done.enqueued, "commit": claim.pin}
    if done.skipped:
        answer["already_enqueued"] = done.skipped
    return answer
