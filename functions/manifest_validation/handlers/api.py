"""The HTTP API (API Gateway HTTP API, payload v2): `POST /v1/validations` for CI, health, and
the OpenAPI document with Swagger UI. `manifest-validate serve` runs this very handler locally.

Every cold start imports this module, so it loads what the API routes need and no more: the
documentation (Powertools' OpenAPI models and validation, built on pydantic) is made on the
first request for it (`documentation()`), and the X-Ray SDK only where tracing is on
(`tracing.py`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import __version__
from ..api.auth import is_authorized
from ..api.validations import Answer, ApiError, answer, body_bytes, parse_json
from ..api.webhook import plan_push, verify_signature
from ..results.outage import is_outage
from ..work.fanout import RunInProgress
from ..work.jobs import EnqueueError
from .root import Services, default_services
from .tracing import capture_lambda_handler

logger = Logger()
metrics = Metrics(namespace="ManifestValidation")
# The documented routes: `app` serves them, `documentation()` describes them. A new route goes
# here (`@routes.get/post`), so that the OpenAPI document lists it.
routes = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
app = APIGatewayHttpResolver()

TITLE = "manifest-validation"
BEARER_DESCRIPTION = "A token from the service's token parameter."
DOCUMENTATION_PATHS = frozenset({"/v1/docs", "/v1/openapi.json"})

# The request's JSON Schema, the contract `api.validations.parse_request` enforces (a test holds
# the two together); read from its file, without jsonschema, at every cold start.
_REQUEST_SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "schemas" / "validation-request.schema.json").read_text()
)
_ERROR: OpenAPIResponse = {"description": "Refused; the body names the code, message and field."}
_LATER: OpenAPIResponse = {
    "description": "A dependency is unavailable (or the same push is being enqueued by another "
    "delivery): nothing was lost; send the same request again after Retry-After seconds."
}


def _json(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(status, "application/json", json.dumps(body), headers=headers)


@app.exception_handler(ApiError)  # type: ignore[untyped-decorator]  # untyped in Powertools
def refused(error: ApiError) -> Response[str]:
    logger.info("refused request", extra={"status": error.status, "code": error.code})
    return _json(error.status, error.body(), headers=error.headers() or None)


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def internal_error(error: Exception) -> Response[str]:
    """An outage of a dependency (DynamoDB, SQS, S3, SSM: `results.outage`) is a 503 with
    Retry-After: nothing was lost, the same request later does the work. Anything else is our
    own bug (nothing a client sends may end here): logged with its request id; the answer
    carries the id for a bug report, and nothing of the exception."""
    if isinstance(error, ServiceError):  # Powertools' own HTTP errors keep their answers
        raise error
    request_id = (app.current_event.get("requestContext") or {}).get("requestId", "unknown")
    if is_outage(error):
        logger.warning("dependency unavailable", extra={"request_id": request_id}, exc_info=error)
        message = (
            "a service this API depends on is unavailable; nothing was lost: send the same "
            f"request again later (request id {request_id})"
        )
        return _retry_later("dependency_unavailable", message)
    logger.exception("internal error", extra={"request_id": request_id})
    message = f"internal error; quote request id {request_id} when reporting it"
    return _json(500, ApiError(500, "internal_error", message).body())


@routes.get("/v1/health", summary="Liveness and version")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@routes.post(
    "/v1/validations",
    summary="Validate library files",
    description="JSON with up to 50 manifests and docs folders, or one manifest as text/plain "
    "with ?name=. "
    "Answers 200 with a result per manifest (also when manifests are invalid); "
    "?format=github answers with GitHub Actions annotations, ?format=markdown with the "
    "review page (problems and, for manifests sent with a base, what each change does).",
    security=[{"bearer": []}],
    responses={
        200: {"description": "Results (JSON), annotations (?format=github) or Markdown."},
        400: _ERROR,
        401: _ERROR,
        413: _ERROR,
        415: _ERROR,
        503: _LATER,
    },
    openapi_extensions={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _REQUEST_SCHEMA},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
def create_validation() -> Response[str]:
    event, services = app.current_event, _services()
    started = time.perf_counter()
    if not is_authorized(event.headers.get("authorization"), services.tokens()):
        logger.info("refused: missing or unknown bearer token")
        return _json(
            401,
            ApiError(401, "unauthorized", "a valid bearer token is required").body(),
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        body = body_bytes(event.body, bool(event.is_base64_encoded))
    except ApiError as error:
        return _json(error.status, error.body())
    done: Answer = answer(
        event.headers.get("content-type"),
        body,
        event.query_string_parameters or {},
        services,
        text_budget_seconds=services.settings.text_budget_seconds,
    )
    if done.status == 200:
        _record([item.result for item in done.checked], time.perf_counter() - started)
    else:
        logger.info("refused request", extra={"status": done.status})
    return Response(done.status, done.content_type, done.body, headers=done.headers or None)


@routes.post(
    "/v1/webhooks/github",
    summary="GitHub push webhook",
    description="Signed with X-Hub-Signature-256. A push to the manifests repository's branch "
    "enqueues one job per changed library file (or every manifest when the payload cannot "
    "list everything), each once however often the push is delivered, and answers 202 once "
    "they are queued; other events are acknowledged and ignored. 503 (with Retry-After) when "
    "a dependency is unavailable or another delivery of the push is at work: deliver it again.",
    responses={
        200: {"description": "ping"},
        202: {"description": "accepted, duplicate (the same push seen before) or ignored"},
        400: _ERROR,
        401: _ERROR,
        503: _LATER,
    },
)
def github_webhook() -> Response[str]:
    event, services = app.current_event, _services()
    body = body_bytes(event.body, bool(event.is_base64_encoded))
    signature = event.headers.get("x-hub-signature-256")
    if not verify_signature(services.webhook_secret(), body, signature):
        logger.warning("webhook refused: missing or wrong signature")
        return _json(401, ApiError(401, "bad_signature", "missing or wrong signature").body())
    kind = event.headers.get("x-github-event", "")
    delivery = event.headers.get("x-github-delivery") or hashlib.sha256(body).hexdigest()
    logger.append_keys(github_delivery=delivery, github_event=kind)
    if kind == "ping":
        return _json(200, {"status": "pong"})
    if kind != "push":
        logger.info("webhook ignored: not a push")
        return _json(202, {"status": "ignored", "reason": f"{kind or 'unknown'} event"})
    payload = parse_json(body)  # an ApiError becomes its answer (refused below)
    if not isinstance(payload, dict):
        return _json(400, ApiError(400, "invalid_request", "not a push payload", "body").body())
    plan = plan_push(
        payload, repository=services.repository, branch=services.branch, delivery=delivery
    )
    if plan.ignored:
        logger.info("webhook ignored", extra={"reason": plan.ignored})
        return _json(202, {"status": "ignored", "reason": plan.ignored})
    assert plan.key is not None  # every plan that is not ignored has one
    try:
        enqueued = services.enqueue_once(plan.key, delivery, plan.jobs, app.lambda_context)
    except RunInProgress as error:
        # not 202: GitHub never retries a 2xx, and the other attempt may yet fail
        logger.info("webhook: the push is being enqueued by another delivery")
        return _retry_later("in_progress", f"{error}; deliver it again later")
    except EnqueueError as error:
        logger.error(
            "enqueueing jobs failed", extra={"failed": len(error.failed), "sent": len(error.sent)}
        )
        return _retry_later("enqueue_failed", f"{error}; a redelivery enqueues the rest")
    metrics.add_metric(name="JobsEnqueued", unit=MetricUnit.Count, value=enqueued.jobs)
    answer: dict[str, Any] = {
        "status": "accepted" if enqueued.duplicate_of is None else "duplicate",
        "delivery": delivery,
        "jobs": enqueued.jobs,
        "full_revalidation": plan.full,
    }
    if enqueued.duplicate_of is not None:  # a redelivery, or the same push replayed
        answer["duplicate_of"] = enqueued.duplicate_of
    if enqueued.skipped:  # an earlier attempt of this push enqueued these
        answer["already_enqueued"] = enqueued.skipped
    logger.info(f"webhook {answer['status']}", extra={"jobs": enqueued.jobs, "full": plan.full})
    return _json(202, answer)


def _retry_later(code: str, message: str) -> Response[str]:
    """503 with Retry-After: a dependency (or another attempt) is not ready; nothing is lost,
    the same request later does the rest."""
    error = ApiError(503, code, message)
    return _json(503, error.body(), headers=error.headers())


def _record(results: list[Any], seconds: float) -> None:
    errors = sum(len(result.errors) for result in results)
    warnings = sum(len(result.warnings) for result in results)
    metrics.add_metric(name="ManifestsChecked", unit=MetricUnit.Count, value=len(results))
    metrics.add_metric(name="ProblemsError", unit=MetricUnit.Count, value=errors)
    metrics.add_metric(name="ProblemsWarning", unit=MetricUnit.Count, value=warnings)
    metrics.add_metric(name="ValidationLatency", unit=MetricUnit.Milliseconds, value=seconds * 1e3)
    logger.info(
        "validated",
        extra={
            "manifests": len(results),
            "statuses": [result.status.value for result in results],
            "errors": errors,
            "warnings": warnings,
            "milliseconds": round(seconds * 1e3, 1),
        },
    )


app.include_router(routes)


@functools.cache
def documentation() -> APIGatewayHttpResolver:
    """The resolver of `/v1/docs` (Swagger UI) and `/v1/openapi.json`, made on their first request.

    It has the same routes as `app`, with Powertools' request validation on, as the API was
    first documented (so the document also declares Powertools' 422 validation error).
    """
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme

    docs = APIGatewayHttpResolver(enable_validation=True)
    docs.include_router(routes)
    routes.api_resolver = app  # the routes keep answering through `app`
    security: dict[str, SecurityScheme] = {"bearer": HTTPBearer(description=BEARER_DESCRIPTION)}
    docs.enable_swagger(
        path="/v1/docs", title=TITLE, version=__version__, security_schemes=security
    )

    @docs.get("/v1/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        schema = docs.get_openapi_json_schema(
            title=TITLE, version=__version__, security_schemes=security
        )
        return Response(200, "application/json", schema)

    return docs


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer: dict[str, Any] = handle(event, context, services=default_services())
    return answer


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)  # clear_state: keys appended for one request (the webhook's delivery) end with it
@capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handle(event: dict[str, Any], context: Any, *, services: Services) -> dict[str, Any]:
    """One event, answered with the given services (the local server and tests pass theirs;
    the Lambda entry point above passes the container's)."""
    if APIGatewayProxyEventV2(event).path in DOCUMENTATION_PATHS:
        return documentation().resolve(event, context)
    # the routes find the services here; the resolver clears its context after each event
    app.append_context(services=services)  # type: ignore[no-untyped-call]
    return app.resolve(event, context)


def _services() -> Services:
    services: Services = app.context["services"]
    return services
