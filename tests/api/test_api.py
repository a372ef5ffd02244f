"""The HTTP API through the real Lambda handler with API Gateway HTTP API (v2) events; AWS is
moto (SQS, S3, SSM, Secrets Manager)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import doors
from manifest_validation.handlers import api
from manifest_validation.handlers.local_server import http_api_event
from paths import AWS_EVENTS, beside

from .client import (
    BROKEN,
    BROKEN_ITEM,
    HELLO,
    HELLO_ITEM,
    REGION,
    TOKEN,
    Answer,
    Queue,
    assert_schema_valid,
    call,
    validations,
)

SAMPLE_EVENT = AWS_EVENTS / "apiGatewayProxyV2Event.json"

pytestmark = pytest.mark.usefixtures("api_environment")


@pytest.mark.shared
def test_our_events_have_the_shape_of_a_real_api_gateway_v2_event() -> None:
    real = json.loads(beside(SAMPLE_EVENT, "the AWS event samples").read_text())
    ours = http_api_event("POST", "/my/path?a=1", [("X", "y")], b"{}")
    assert set(real) - {"cookies", "pathParameters", "stageVariables"} <= set(ours)
    assert set(real["requestContext"]) <= set(ours["requestContext"])
    assert set(real["requestContext"]["http"]) == set(ours["requestContext"]["http"])
    # and the handler accepts the real sample itself (an unknown route: 404, not a crash)
    response = doors.current().api(real)
    assert response["statusCode"] == 404


def test_health_needs_no_token() -> None:
    answer = call("GET", "/v1/health", token=None, content_type=None)
    assert (answer.status, answer.json()["status"]) == (200, "ok")


def test_openapi_document_and_swagger_ui() -> None:
    document = call("GET", "/v1/openapi.json", token=None, content_type=None).json()
    operation = document["paths"]["/v1/validations"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert {"200", "400", "401", "413", "415"} <= set(operation["responses"])
    assert "bearer" in document["components"]["securitySchemes"]
    docs = call("GET", "/v1/docs", token=None, content_type=None)
    assert docs.status == 200
    assert "swagger" in docs.body.lower()


def test_openapi_document_lists_exactly_the_routes_the_api_serves() -> None:
    # the document is made by a second resolver on first request (api.documentation()); a route
    # registered on `app` instead of `routes` would be served but missing from the document
    document = call("GET", "/v1/openapi.json", token=None, content_type=None).json()
    paths = document["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    served = {(r.method, r.openapi_path) for r in api.app._static_routes + api.app._dynamic_routes}
    assert documented == served
    assert "HTTPValidationError" in document["components"]["schemas"]  # as first documented


def test_valid_and_invalid_manifests_answer_200_with_results() -> None:
    answer = validations({"manifests": [HELLO_ITEM, BROKEN_ITEM]})
    assert answer.status == 200
    document = answer.json()
    statuses = {r["manifest"]: r["status"] for r in document["results"]}
    assert statuses == {"hello-world": "valid", "db": "invalid"}
    assert document["summary"]["invalid"] == 1
    assert document["published"] is False
    db = next(r for r in document["results"] if r["manifest"] == "db")
    assert ("invalid-git-commit", 6) in {(p["code"], p["line"]) for p in db["problems"]}
    assert all(r["trigger"] == "ci" for r in document["results"])
    assert_schema_valid(document["results"])


def test_text_plain_single_manifest_and_github_annotations() -> None:
    answer = validations(BROKEN, "?name=broken-db&format=github", content_type="text/plain")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    first = answer.body.splitlines()[0]
    assert first.startswith("::error file=library/broken-db,line=2,title=invalid-maintainer::")


def test_base64_encoded_body_is_decoded() -> None:
    answer = validations({"manifests": [HELLO_ITEM]}, base64_body=True)
    assert answer.status == 200
    assert answer.json()["results"][0]["status"] == "valid"


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, 401), ("wrong", 401), ("", 401), (TOKEN, 200), ("old-token", 200)],
)
def test_bearer_tokens_with_rotation(token: str | None, expected: int) -> None:
    answer = validations({"manifests": [HELLO_ITEM]}, token=token)
    assert answer.status == expected
    if expected == 401:
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert answer.json()["error"]["code"] == "unauthorized"


def test_no_configured_token_refuses_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANIFEST_VALIDATION_API_TOKENS", "")
    doors.forget()
    answer = validations({"manifests": [{"name": "a", "content": HELLO}]}, token="")
    assert answer.status == 401


@pytest.mark.slow
def test_tokens_from_ssm_secure_string(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/mv/tokens", Value="ssm-token-1,ssm-token-2", Type="SecureString"
        )
        monkeypatch.setenv("API_TOKENS_PARAMETER", "/mv/tokens")
        doors.forget()
        body = {"manifests": [HELLO_ITEM]}
        assert validations(body, token="ssm-token-2").status == 200
        assert validations(body, token=TOKEN).status == 401  # the environment is not used


@pytest.mark.slow
def test_tokens_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="mv-tokens", SecretString="secret-token\nnext-token"
        )
        monkeypatch.setenv("API_TOKENS_SECRET", "mv-tokens")
        doors.forget()
        body = {"manifests": [HELLO_ITEM]}
        assert validations(body, token="next-token").status == 200
        assert validations(body, token="nope").status == 401


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ("{not json", "body", "malformed_json"),
        ("[]", "body", "invalid_request"),
        ({}, "manifests", "invalid_manifests"),
        ({"manifests": []}, "manifests", "invalid_manifests"),
        ({"manifests": [{"content": "x"}]}, "manifests[0].name", "invalid_name"),
        ({"manifests": [{"name": "Py Thon", "content": "x"}]}, "manifests[0].name", "invalid_name"),
        ({"manifests": [{"name": "../etc", "content": "x"}]}, "manifests[0].name", "invalid_name"),
        ({"manifests": [{"name": "a"}]}, "manifests[0].content", "invalid_content"),
        (
            {"manifests": [{"name": "a", "content": "x"}, {"name": "a", "content": "y"}]},
            "manifests[1].name",
            "duplicate_name",
        ),
        ({"manifests": [{"name": "a", "content": "x"}], "verify_git": "yes"}, "verify_git", None),
        ({"manifests": [{"name": "a", "content": "x"}], "publsh": True}, "publsh", None),
    ],
)
def test_malformed_requests_answer_400_naming_the_field(
    payload: Any, field: str, code: str | None
) -> None:
    answer = validations(payload)
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["field"] == field
    if code:
        assert error["code"] == code


def test_deeply_nested_json_is_a_400_not_a_crash() -> None:
    answer = validations(b"[" * 100_000 + b"]" * 100_000)
    assert (answer.status, answer.json()["error"]["code"]) == (400, "malformed_json")


def test_text_plain_needs_a_name() -> None:
    answer = validations(HELLO, content_type="text/plain")
    assert (answer.status, answer.json()["error"]["field"]) == (400, "name")


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data", None])
def test_other_content_types_answer_415(content_type: str | None) -> None:
    answer = validations("<x/>", content_type=content_type)
    assert answer.status == 415


def test_size_limits_answer_413() -> None:
    big = "# " + "x" * (1024 * 1024) + "\n"
    assert validations({"manifests": [{"name": "a", "content": big}]}).status == 413
    many = {"manifests": [{"name": f"img{i}", "content": HELLO} for i in range(51)]}
    answer = validations(many)
    assert (answer.status, answer.json()["error"]["code"]) == (413, "too_many_manifests")
    fifty = {"manifests": [{"name": f"img{i}", "content": HELLO} for i in range(50)]}
    assert validations(fifty).status == 200


@pytest.mark.slow
def test_publish_puts_each_result_on_the_fifo_queue(sqs_queue: Queue) -> None:
    answer = validations(
        {
            "manifests": [HELLO_ITEM, BROKEN_ITEM],
            "publish": True,
        }
    )
    assert answer.status == 200
    assert answer.json()["published"] is True
    messages = sqs_queue.received()
    bodies = [json.loads(m["Body"]) for m in messages]
    assert sorted(b["manifest"] for b in bodies) == ["db", "hello-world"]
    for message, body in zip(messages, bodies, strict=True):
        assert message["Attributes"]["MessageGroupId"] == body["manifest"]
        assert message["Attributes"]["MessageDeduplicationId"] == body["id"]
    assert_schema_valid(bodies)


@pytest.mark.slow
def test_publish_off_publishes_nothing(sqs_queue: Queue) -> None:
    assert validations({"manifests": [HELLO_ITEM]}).status == 200
    assert sqs_queue.received() == []


@pytest.mark.slow
def test_large_result_goes_through_the_claim_check(sqs_queue: Queue, library_dir: Path) -> None:
    from manifest_validation.results.queues import read_claim_check

    php = (library_dir / "php").read_text()
    answer = validations({"manifests": [{"name": "php", "content": php}], "publish": True})
    assert answer.status == 200
    (message,) = sqs_queue.received()
    pointer = json.loads(message["Body"])
    assert "claim_check" in pointer
    assert len(message["Body"]) < 4096
    stored = read_claim_check(pointer, sqs_queue.s3)
    assert stored == answer.json()["results"][0]
    assert_schema_valid([stored])


@pytest.mark.slow
def test_publish_failure_is_an_error_the_caller_sees(
    sqs_queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_QUEUE_URL", sqs_queue.url.replace("results.fifo", "missing.fifo"))
    doors.forget()
    answer = validations({"manifests": [HELLO_ITEM], "publish": True})
    assert answer.status == 503
    assert answer.json()["error"]["code"] == "publish_failed"


def test_every_503_says_when_to_try_again(
    sqs_queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_QUEUE_URL", sqs_queue.url.replace("results.fifo", "missing.fifo"))
    doors.forget()
    answer = validations({"manifests": [HELLO_ITEM], "publish": True})
    assert (answer.status, answer.headers.get("Retry-After")) == (503, "30")


@pytest.mark.parametrize("door", ["validations", "webhook"])
@pytest.mark.parametrize("outage", ["connection", "throttled", "service error", "wrapped"])
def test_a_dependency_outage_is_a_503_with_retry_after_never_a_500(
    door: str, outage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSM (the tokens, the webhook secret) stands for any dependency: a connection that fails,
    a throttled or failing service, also under another library's error (Powertools wraps)."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    def error() -> Exception:
        if outage == "connection":
            return EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com")
        if outage in ("throttled", "wrapped"):
            code, status = "ThrottlingException", 400
        else:
            code, status = "InternalServerError", 500
        response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(response, "GetParameter")

    def down() -> Any:
        if outage == "wrapped":
            try:
                raise error()
            except ClientError as cause:
                raise RuntimeError("GetParameterError: throttled") from cause
        raise error()

    services = doors.current().services
    monkeypatch.setattr(services, "tokens" if door == "validations" else "webhook_secret", down)
    answer = validations({"manifests": [HELLO_ITEM]}) if door == "validations" else webhook(b"{}")
    assert (answer.status, answer.headers.get("Retry-After")) == (503, "30")
    error_body = answer.json()["error"]
    assert error_body["code"] == "dependency_unavailable"
    assert "Throttling" not in answer.body and "ssm" not in answer.body


def test_a_misconfiguration_is_not_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Access denied or a missing parameter is no outage: no retry helps, it is ours to fix."""
    from botocore.exceptions import ClientError

    def denied() -> Any:
        response: Any = {
            "Error": {"Code": "AccessDeniedException"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        raise ClientError(response, "GetParameter")

    monkeypatch.setattr(doors.current().services, "tokens", denied)
    assert validations({"manifests": [HELLO_ITEM]}).status == 500


def test_publish_without_queue_url_uses_the_embedded_queue(tmp_path: Path) -> None:
    from manifest_validation.results.queues import LocalResultQueue

    answer = validations({"manifests": [HELLO_ITEM], "publish": True})
    assert answer.status == 200
    pending = LocalResultQueue(tmp_path / "state").pending()
    assert [item.manifest for item in pending] == ["hello-world"]
    assert pending[0].body == answer.json()["results"][0]


def test_tokens_never_reach_the_logs(capsys: pytest.CaptureFixture[str]) -> None:
    validations({"manifests": [HELLO_ITEM]})
    validations({"manifests": [HELLO_ITEM]}, token="wrong-secret")
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
    assert "wrong-secret" not in captured.out + captured.err
    assert "ManifestsChecked" in captured.out  # metrics (EMF) are emitted


# --- hostile input: bounded work, never a 500 --------------------------------------------------

WEBHOOK_SECRET = "webhook-secret"


def webhook(body: bytes, *, kind: str = "push", base64_body: bool = False) -> Answer:
    from manifest_validation.api.webhook import signature_of

    headers = [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", kind),
        ("X-GitHub-Delivery", "d-1"),
        ("X-Hub-Signature-256", signature_of(WEBHOOK_SECRET.encode(), body)),
    ]
    event = http_api_event("POST", "/v1/webhooks/github", headers, body)
    if base64_body:
        event["body"], event["isBase64Encoded"] = "not base64!", True
    response = doors.current().api(event)
    return Answer(response["statusCode"], response.get("headers") or {}, response.get("body", ""))


@pytest.fixture
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBHOOK_SECRET_PARAMETER", "WEBHOOK_SECRET_SECRET", "IDEMPOTENCY_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANIFEST_VALIDATION_WEBHOOK_SECRET", WEBHOOK_SECRET)
    doors.forget()


HOSTILE_JSON = [
    ("[" * 100_000 + "]" * 100_000, "nested deeper than 32"),
    ('{"manifests": [' + "{" * 100_000 + "]}", "nested deeper than 32"),
    ('{"manifests": [], "verify_git": 1' + "0" * 100_000 + "}", "more than 40 digits"),
    ('{"manifests": [], "verify_git": 1.' + "5" * 1000 + "}", "longer than 40 characters"),
    ('{"manifests": [], "publish": NaN}', "NaN is not a JSON value"),
    ('{"manifests": [{"name": "x", "content": "\\ud800"}]}', "unpaired surrogate"),
]


@pytest.mark.parametrize(("body", "limit"), HOSTILE_JSON)
@pytest.mark.usefixtures("webhook_secret")
def test_json_beyond_the_limits_answers_400_in_both_doors(body: str, limit: str) -> None:
    for answer in (validations(body), webhook(body.encode())):
        assert answer.status == 400
        error = answer.json()["error"]
        assert (error["code"], error["field"]) == ("malformed_json", "body")
        assert limit in error["message"]


@pytest.mark.usefixtures("webhook_secret")
def test_a_webhook_body_that_is_not_base64_is_400_not_500() -> None:
    answer = webhook(b"{}", base64_body=True)
    assert answer.status in (400, 401)  # the signature of the decoded body cannot match
    answer = validations({"manifests": [HELLO_ITEM]}, base64_body=True)
    assert answer.status == 200


def test_our_own_bug_is_a_500_that_tells_nothing_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import logging

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(api.logger.registered_formatter)
    api.logger.addHandler(handler)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("secret internal detail")

    import manifest_validation.checks.pipeline

    # the handler imports the core on its first validation request, from this module
    monkeypatch.setattr(manifest_validation.checks.pipeline, "validate_many", broken)
    headers = [("Content-Type", "application/json"), ("Authorization", f"Bearer {TOKEN}")]
    event = http_api_event(
        "POST",
        "/v1/validations",
        headers,
        json.dumps({"manifests": [HELLO_ITEM]}).encode(),
        request_id="req-1234",
    )
    try:
        response = doors.current().api(event)
    finally:
        api.logger.removeHandler(handler)
    assert response["statusCode"] == 500
    error = json.loads(response["body"])["error"]
    assert error["code"] == "internal_error"
    assert "req-1234" in error["message"]
    for internal in ("KeyError", "secret internal detail", "Traceback", ".py", "broken"):
        assert internal not in response["body"]
    (logged,) = [json.loads(line) for line in log.getvalue().splitlines()]
    assert (logged["level"], logged["request_id"]) == ("ERROR", "req-1234")
    assert "secret internal detail" in logged["exception"]  # for us, in the log


@pytest.mark.slow
def test_a_40k_line_manifest_gets_a_bounded_result_within_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS", "0.2")
    content = (
        "Maintainers: Jane Doe <jane@example.com> (@jane),\n"
        + "\tbar,\n" * 40_000
        + "GitRepo: https://e.com/r.git\n\nTags: a\n"
        + "GitCommit: 0123456789abcdef0123456789abcdef01234567\n"
    )
    answer = validations({"manifests": [{"name": "hostile", "content": content}, HELLO_ITEM]})
    assert answer.status == 200
    assert len(answer.body) < 200_000
    hostile, hello = answer.json()["results"]
    assert hostile["status"] == "invalid"
    assert len(hostile["problems"]) <= 202
    codes = {problem["code"] for problem in hostile["problems"]}
    assert codes & {"too-many-problems", "validation-budget-exceeded"}
    # the manifest after it is either checked in full or reported as not checked: never valid
    # by default
    assert hello["status"] == "valid" or [p["code"] for p in hello["problems"]] == [
        "validation-budget-exceeded"
    ]
    assert_schema_valid([hostile, hello])


def test_a_bad_budget_setting_is_a_configuration_error() -> None:
    from manifest_validation.settings import Settings

    def text_budget_seconds(environ: dict[str, str]) -> float:
        return Settings.from_env(environ).text_budget_seconds

    assert text_budget_seconds({}) == 5.0
    assert text_budget_seconds({"MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS": "0.25"}) == 0.25
    for bad in ("soon", "0", "-1", "nan"):
        with pytest.raises(ValueError, match="MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS"):
            text_budget_seconds({"MANIFEST_VALIDATION_TEXT_BUDGET_SECONDS": bad})


MAX_EXAMPLES = int(os.environ.get("HOSTILE_MAX_EXAMPLES", "150"))  # more, to search harder
# any code point, lone surrogates too (JSON can escape them: "\ud800"), which st.text() never
# draws (whatever its alphabet)
ANY_TEXT = st.lists(st.characters(exclude_categories=()) | st.just("\ud800"), max_size=20).map(
    "".join
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
# Mostly well-formed requests with a hostile value somewhere: a request that fails its first
# check never reaches validation, so most draws must get past the shape checks to mean much.
NAME = st.sampled_from(["a", "hello-world", "db"])
CONTENT = st.sampled_from([HELLO, BROKEN])
HOSTILE_CONTENT = st.one_of(
    CONTENT,
    st.tuples(CONTENT, ANY_TEXT).map("".join),
    st.tuples(ANY_TEXT, CONTENT).map("".join),
    st.text(),
    JSON_VALUES,
)
MANIFEST_LIKE = st.fixed_dictionaries(
    {"name": st.one_of(NAME, NAME, JSON_VALUES), "content": HOSTILE_CONTENT},
    optional={
        "path": st.one_of(ANY_TEXT.filter(bool), JSON_VALUES),
        "base": st.one_of(st.none(), HOSTILE_CONTENT),
    },
)
REQUEST_LIKE = st.fixed_dictionaries(
    {
        "manifests": st.one_of(
            st.lists(st.one_of(MANIFEST_LIKE, MANIFEST_LIKE, JSON_VALUES), max_size=3),
            JSON_VALUES,
        )
    },
    optional={"verify_git": st.just(False) | JSON_VALUES, "publish": JSON_VALUES},
)


@pytest.mark.slow
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES | REQUEST_LIKE)
def test_no_json_value_gets_a_5xx(value: Any) -> None:
    doors.rebuild(tokens=lambda: [TOKEN])  # the environment fixture is function-scoped
    body = json.dumps(value)
    answer = validations(body)
    assert answer.status < 500, answer.body
    assert answer.json()


WELL_FORMED_REQUESTS = st.lists(
    st.fixed_dictionaries(
        {"name": NAME, "content": HOSTILE_CONTENT.filter(lambda value: isinstance(value, str))},
        optional={"path": ANY_TEXT.filter(bool), "base": st.one_of(st.none(), CONTENT, ANY_TEXT)},
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda item: item["name"],
).map(lambda manifests: {"manifests": manifests})


@pytest.mark.slow
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WELL_FORMED_REQUESTS, st.sampled_from(["", "?format=github"]))
def test_well_formed_requests_with_any_text_get_no_5xx(request: Any, query: str) -> None:
    """Past the shape checks: any text (lone surrogates too) in content, path and base."""
    doors.rebuild(tokens=lambda: [TOKEN])
    answer = validations(json.dumps(request), query)
    assert answer.status < 500, answer.body
    if answer.status == 200 and not query:
        assert len(answer.json()["results"]) == len(request["manifests"])


@pytest.mark.slow
@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["application/json", "text/plain", None]))
def test_no_bytes_get_a_5xx(body: bytes, content_type: str | None) -> None:
    doors.rebuild(tokens=lambda: [TOKEN])
    for query in ("", "?name=img&format=github"):
        answer = validations(body, query, content_type=content_type)
        assert answer.status < 500, answer.body


PUSH_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "repository": JSON_VALUES
        | st.fixed_dictionaries({"clone_url": st.just("https://github.com/o/r.git") | JSON_VALUES}),
        "ref": st.just("refs/heads/master") | JSON_VALUES,
        "before": JSON_VALUES,
        "after": st.just("a" * 40) | JSON_VALUES,
        "created": JSON_VALUES,
        "forced": JSON_VALUES,
        "deleted": JSON_VALUES,
        "commits": st.lists(
            st.fixed_dictionaries(
                {}, optional={"added": JSON_VALUES, "modified": JSON_VALUES, "removed": JSON_VALUES}
            )
            | JSON_VALUES,
            max_size=3,
        )
        | JSON_VALUES,
    },
)


@pytest.mark.slow
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES | PUSH_LIKE)
def test_no_signed_json_value_gets_a_5xx_from_the_webhook(value: Any) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("WEBHOOK_SECRET_PARAMETER", "WEBHOOK_SECRET_SECRET", "IDEMPOTENCY_TABLE"):
            patch.delenv(name, raising=False)
        patch.delenv("WORK_QUEUE_URL", raising=False)
        patch.setenv("MANIFEST_VALIDATION_WEBHOOK_SECRET", WEBHOOK_SECRET)
        patch.setenv("MANIFESTS_REPOSITORY", "https://github.com/o/r.git")
        enqueued: list[Any] = []
        doors.rebuild(work_queue=RecordingQueue(enqueued))
        answer = webhook(json.dumps(value).encode())
    assert answer.status < 500, answer.body
    if answer.status == 202 and answer.json()["status"] == "accepted":
        assert enqueued


@dataclass
class RecordingQueue:
    jobs: list[Any]

    def enqueue(self, jobs: Any, on_sent: Any = None) -> None:
        self.jobs.extend(jobs)
        if on_sent is not None:
            on_sent(jobs)


def test_an_answer_too_large_for_lambda_is_413_not_a_failed_invocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from manifest_validation.api import validations as http_api

    one = validations({"manifests": [HELLO_ITEM]})
    monkeypatch.setattr(http_api, "MAX_RESPONSE_BYTES", len(json.dumps(one.body)) + 100)
    assert validations({"manifests": [HELLO_ITEM]}).status == 200
    answer = validations({"manifests": [HELLO_ITEM, {"name": "other", "content": HELLO}]})
    assert answer.status == 413
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("response_too_large", "manifests")
    assert "send fewer manifests" in error["message"]
