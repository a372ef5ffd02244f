"""Scheduled re-validation (EventBridge Scheduler, or a manual invocation naming a subset):
resolve the branch tip, list every manifest, enqueue one job each on the work queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..results.origin import Trigger
from ..work.revalidate import revalidation_jobs, schedule_request
from .root import Services, default_services
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
    """One scheduled (or manual) re-validation with the given services (tests pass theirs)."""
    manifests, branch = schedule_request(event)
    jobs = revalidation_jobs(
        services.source(services.repository),
        services.repository,
        branch or services.branch,
        only=manifests,
        trigger=Trigger.SCHEDULE,
        origin_event=str(event.get("id") or context.aws_request_id),
    )
    # raises EnqueueError when some jobs could not be enqueued: the invocation fails, Lambda
    # retries it (asynchronous invocation), and a run that keeps failing lands in the
    # revalidate DLQ, whose alarm tells a person (jobs enqueued twice give the same results)
    services.work_queue().enqueue(jobs)
    metrics.add_metric(name="JobsEnqueued", unit=MetricUnit.Count, value=len(jobs))
    commit = jobs[0].commit if jobs else None
    logger.info("re-validation enqueued", extra={"jobs": len(jobs), "commit": commit})
    return {"enqueued": len(jobs), "commit": commit}
