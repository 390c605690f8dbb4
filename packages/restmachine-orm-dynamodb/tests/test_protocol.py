"""The protocol layer, driven by hand (sans-IO): what it sends, signs, reads, retries, refuses.

Each test steps a ``Protocol.call`` flow itself, answering its requests with canned HTTP
answers (as DynamoDB words them) or a ``TransportError``, and noting its pauses: no server,
no clock. The transports themselves are tested against a real server in test_transport.py.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import botocore
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, RefreshableCredentials

from restmachine_orm_dynamodb import DynamoDBError, TransactionsUnsupportedError, __version__
from restmachine_orm_dynamodb._flow import (
    Blocking,
    Flow,
    HttpRequest,
    HttpResponse,
    Pause,
    TransportError,
    arun,
)
from restmachine_orm_dynamodb._http_settings import HttpSettings
from restmachine_orm_dynamodb._http_sync import BlockingSender
from restmachine_orm_dynamodb._protocol import (
    AnswerLost,
    CorruptAnswer,
    ErrorAnswer,
    Protocol,
    Refusal,
    error_code,
)
from restmachine_orm_dynamodb._retry_rules import RetryQuota, RetryRules
from restmachine_orm_dynamodb._sigv4 import Signer

ENDPOINT = "http://127.0.0.1:8000"
ACCESS_KEY = "AKIDRESTMACHINETEST"
SECRET_KEY = "sEcReT/kEy+oF/tHe/TeSt0123456789abcdefg"
TOKEN = "ToKeN//session+token/of/the/test=="
KEY = {"pk": {"S": "User#u1"}, "sk": {"S": "User"}}
GET = {"TableName": "things", "Key": KEY, "ConsistentRead": True}


def protocol(
    *, token: str | None = None, rules: RetryRules | None = None, endpoint: str = ENDPOINT
) -> Protocol:
    signer = Signer(Credentials(ACCESS_KEY, SECRET_KEY, token), "eu-west-1")
    return Protocol(endpoint, signer, rules=rules)


def answer(payload: Any, status: int = 200, **headers: str) -> HttpResponse:
    """An answer as DynamoDB sends it: JSON, with the CRC32 of its body."""
    body = json.dumps(payload).encode()
    return HttpResponse(status, {"x-amz-crc32": str(zlib.crc32(body)), **headers}, body)


def failure(code: str, message: str = "injected", status: int = 400, **extra: Any) -> HttpResponse:
    """An error answer: ``__type`` names the error, ``message`` explains it."""
    return answer(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra},
        status,
    )


@dataclass
class Exchange:
    """Drives a flow by hand: each request gets the next answer; pauses are noted, not slept."""

    answers: Iterable[HttpResponse | BaseException] = ()
    requests: list[HttpRequest] = field(default_factory=list)
    pauses: list[float] = field(default_factory=list)
    blocking: int = 0

    def __post_init__(self) -> None:
        self._answers = iter(self.answers)  # later drives go on where the last one stopped

    def drive(self, flow: Flow[Any]) -> Any:
        answers = self._answers
        outcome: Any = None
        thrown: BaseException | None = None
        try:
            while True:
                step = flow.send(outcome) if thrown is None else flow.throw(thrown)
                outcome, thrown = None, None
                if isinstance(step, HttpRequest):
                    self.requests.append(step)
                    reply = next(answers)
                    if isinstance(reply, BaseException):
                        thrown = reply
                    else:
                        outcome = reply
                elif isinstance(step, Pause):
                    self.pauses.append(step.seconds)
                elif isinstance(step, Blocking):
                    self.blocking += 1
                    outcome = step.function()
                else:  # pragma: no cover
                    raise AssertionError(f"not a step: {step!r}")
        except StopIteration as end:
            return end.value


# -- the request ---------------------------------------------------------------------------


def test_a_request_is_dynamodb_json_posted_to_the_endpoint_with_the_target_and_an_agent():
    exchange = Exchange([answer({"Item": KEY})])
    assert exchange.drive(protocol().call("GetItem", dict(GET))) == {"Item": KEY}
    (request,) = exchange.requests
    assert (request.method, request.url, request.operation) == ("POST", ENDPOINT + "/", "GetItem")
    assert request.body == json.dumps(GET, separators=(",", ":")).encode()
    headers = request.headers
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert headers["Host"] == "127.0.0.1:8000"
    assert headers["Accept-Encoding"] == "identity"
    assert headers["User-Agent"].startswith(f"restmachine-orm-dynamodb/{__version__} botocore/")


def test_binary_values_go_out_as_base64_and_come_back_as_bytes_only_where_values_are():
    item = {
        **KEY,
        "blob": {"B": b"\x00\xffbinary"},
        "blobs": {"BS": [b"\x01", bytearray(b"\x02")]},
        "B": {"M": {"B": {"S": "an attribute named B"}, "BS": {"L": []}}},
    }
    stored = {
        **KEY,
        "blob": {"B": base64.b64encode(b"\x00\xffbinary").decode()},
        "blobs": {"BS": ["AQ==", "Ag=="]},
        "B": {"M": {"B": {"S": "an attribute named B"}, "BS": {"L": []}}},
    }
    exchange = Exchange([answer({}), answer({"Item": stored, "Responses": {"BS": []}})])
    exchange.drive(protocol().call("PutItem", {"TableName": "things", "Item": item}))
    assert json.loads(exchange.requests[0].body)["Item"] == stored
    got = exchange.drive(protocol().call("GetItem", dict(GET)))
    assert got["Item"]["blob"] == {"B": b"\x00\xffbinary"}
    assert got["Item"]["blobs"] == {"BS": [b"\x01", b"\x02"]}
    # A name chosen by the user is not a value, whatever it is called.
    assert got["Item"]["B"] == {"M": {"B": {"S": "an attribute named B"}, "BS": {"L": []}}}
    assert got["Responses"] == {"BS": []}


def test_a_value_json_cannot_carry_is_refused_naming_its_type():
    with pytest.raises(TypeError, match="cannot hold a complex"):
        Exchange().drive(protocol().call("PutItem", {"Item": {"x": {"N": 1j}}}))


# -- the signature -------------------------------------------------------------------------


def botocore_signed(url: str, target: str, body: bytes, token: str | None) -> dict[str, str]:
    """What botocore's own ``SigV4Auth.add_auth`` makes of the same request, now."""
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, token).get_frozen_credentials()
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
    request = AWSRequest("POST", url, headers, body)
    SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("token", [None, TOKEN], ids=["static", "session-token"])
@pytest.mark.parametrize(
    "endpoint",
    [ENDPOINT, "https://dynamodb.eu-west-1.amazonaws.com", "http://[::1]:8000/some/./path/"],
    ids=["port", "https", "ipv6-and-path"],
)
def test_the_signature_is_the_one_botocore_makes_of_the_same_request_at_the_same_time(
    token, endpoint
):
    body = {**GET, "Key": {"pk": {"S": "Ünïcode  with  spaces"}, "sk": {"B": b"\x00"}}}
    ours = Exchange([answer({})])
    ours.drive(protocol(token=token, endpoint=endpoint).call("GetItem", body))
    (request,) = ours.requests
    theirs = botocore_signed(request.url, "DynamoDB_20120810.GetItem", request.body, token)
    # Signed again at the very second botocore signed: the same time, to the second.
    date = theirs["X-Amz-Date"]
    again = Exchange([answer({})])
    signer = Signer(Credentials(ACCESS_KEY, SECRET_KEY, token), "eu-west-1", clock=lambda: date)
    again.drive(Protocol(endpoint, signer).call("GetItem", body))
    signed = again.requests[0].headers
    for name, value in theirs.items():
        assert signed[name] == value, name
    if token is None:
        assert "X-Amz-Security-Token" not in signed


def test_proof_the_signature_comparison_notices_a_body_signed_other_than_sent():
    theirs = botocore_signed(ENDPOINT + "/", "DynamoDB_20120810.GetItem", b'{"a":1}', None)
    date = theirs["X-Amz-Date"]
    signer = Signer(Credentials(ACCESS_KEY, SECRET_KEY), "eu-west-1", clock=lambda: date)
    exchange = Exchange([answer({})])
    exchange.drive(Protocol(ENDPOINT, signer).call("GetItem", {"a": 2}))
    assert exchange.requests[0].headers["X-Amz-Date"] == date
    assert exchange.requests[0].headers["Authorization"] != theirs["Authorization"]


# -- answers: checksum, errors, refusals ---------------------------------------------------


def test_a_damaged_answer_is_sent_again_and_a_good_one_accepted():
    good = answer({"Item": KEY})
    damaged = HttpResponse(200, good.headers, good.body.replace(b"User#u1", b"User#u2"))
    exchange = Exchange([damaged, damaged, good])
    assert exchange.drive(protocol().call("GetItem", dict(GET))) == {"Item": KEY}
    assert len(exchange.requests) == 3
    assert len(exchange.pauses) == 2


def test_proof_a_damaged_answer_would_read_as_another_item_without_the_checksum():
    good = answer({"Item": KEY})
    damaged = good.body.replace(b"User#u1", b"User#u2")
    assert json.loads(damaged)["Item"]["pk"] == {"S": "User#u2"}  # valid, and wrong
    assert zlib.crc32(damaged) != int(good.headers["x-amz-crc32"])


def test_an_answer_damaged_every_time_fails_after_the_configured_attempts():
    good = answer({"Item": KEY})
    damaged = HttpResponse(200, good.headers, good.body[:-1] + b" ")
    exchange = Exchange([damaged] * 3)
    rules = RetryRules.from_config({"mode": "standard", "max_attempts": 2})
    with pytest.raises(DynamoDBError) as caught:
        exchange.drive(protocol(rules=rules).call("GetItem", dict(GET)))
    assert len(exchange.requests) == 3
    assert isinstance(caught.value.__cause__, CorruptAnswer)
    assert str(caught.value).startswith(f"GetItem on table 'things' at {ENDPOINT} failed: ")
    assert "CRC32" in str(caught.value) and "gave up after 3 attempts" in str(caught.value)


def test_an_error_is_named_by_operation_table_endpoint_code_and_message():
    exchange = Exchange([failure("ValidationException", "One or more parameter values")])
    with pytest.raises(DynamoDBError) as caught:
        exchange.drive(protocol().call("PutItem", {"TableName": "things", "Item": {}}))
    assert type(caught.value) is DynamoDBError
    assert str(caught.value) == (
        f"PutItem on table 'things' at {ENDPOINT} failed: "
        "ValidationException: One or more parameter values"
    )
    cause = caught.value.__cause__
    assert isinstance(cause, ErrorAnswer)
    assert (cause.status, cause.code, cause.message) == (
        400,
        "ValidationException",
        "One or more parameter values",
    )
    assert len(exchange.requests) == 1  # not worth another try


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"RequestItems": {"batched": {"Keys": [KEY]}}}, "table 'batched' at "),
        ({"TransactItems": [{"Put": {"TableName": "moved", "Item": KEY}}]}, "table 'moved' at "),
        ({}, ""),
    ],
    ids=["batch", "transaction", "no-table"],
)
def test_the_table_named_is_the_one_the_request_is_about(body, where):
    exchange = Exchange([failure("ValidationException", "no")])
    with pytest.raises(DynamoDBError, match=rf"^Op on {where}{ENDPOINT} failed: Valid"):
        exchange.drive(protocol().call("Op", body))


def test_an_error_code_without_type_comes_from_the_header_and_a_non_json_body_is_shown():
    odd = HttpResponse(400, {"x-amzn-errortype": "AccessDeniedException:http://x/"}, b"{}")
    with pytest.raises(DynamoDBError, match=r"failed: AccessDeniedException: $"):
        Exchange([odd]).drive(protocol().call("GetItem", dict(GET)))
    html = HttpResponse(403, {}, b"<html>\n  Forbidden  by   proxy</html>")
    with pytest.raises(DynamoDBError, match=r"failed: HTTP 403: <html> Forbidden by proxy</html>$"):
        Exchange([html]).drive(protocol().call("GetItem", dict(GET)))


def test_an_answer_that_is_not_json_is_an_error_saying_so():
    with pytest.raises(DynamoDBError, match="the answer is not JSON"):
        Exchange([HttpResponse(200, {}, b"<html>")]).drive(protocol().call("GetItem", dict(GET)))


@pytest.mark.parametrize("code", ["UnknownOperationException", "UnrecognizedClientException"])
def test_a_server_without_transactions_is_named_as_such(code):
    body = {"TransactItems": [{"Put": {"TableName": "things", "Item": KEY}}]}
    with pytest.raises(TransactionsUnsupportedError) as caught:
        Exchange([failure(code, "")]).drive(protocol().call("TransactWriteItems", body))
    assert str(caught.value).startswith(
        f"table 'things' at {ENDPOINT} does not support TransactWriteItems, which create_many"
    )
    with pytest.raises(DynamoDBError) as other:  # the same code on another operation
        Exchange([failure(code, "")]).drive(protocol().call("PutItem", {"TableName": "t"}))
    assert type(other.value) is DynamoDBError


def test_an_expected_error_comes_back_as_a_refusal_holding_the_whole_answer():
    reasons = [{"Code": "ConditionalCheckFailed", "Item": {"b": {"B": "AA=="}}}, {"Code": "None"}]
    cancelled = failure("TransactionCanceledException", "cancelled", CancellationReasons=reasons)
    exchange = Exchange([cancelled])
    refusal = exchange.drive(
        protocol().call("TransactWriteItems", {}, refusal="TransactionCanceledException")
    )
    assert type(refusal) is Refusal
    assert error_code(refusal.answer) == "TransactionCanceledException"
    assert refusal.answer["Error"] == {
        "Code": "TransactionCanceledException",
        "Message": "cancelled",
    }
    assert refusal.answer["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Item": {"b": {"B": b"\x00"}}},
        {"Code": "None"},
    ]
    with pytest.raises(DynamoDBError, match="TransactionCanceledException"):  # not expected
        Exchange([cancelled]).drive(protocol().call("TransactWriteItems", {}))


# -- retries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"],
)
def test_throttling_is_retried_with_the_configured_attempts_and_capped_jittered_waits(code):
    rules = RetryRules.from_config({"mode": "standard", "max_attempts": 3})  # 3 retries
    assert rules.attempts == 4
    exchange = Exchange([failure(code)] * 3 + [answer({"Item": KEY})])
    assert exchange.drive(protocol(rules=rules).call("GetItem", dict(GET))) == {"Item": KEY}
    assert len(exchange.requests) == 4
    assert len(exchange.pauses) == 3
    for retry, pause in enumerate(exchange.pauses, start=1):
        assert 0 <= pause <= min(2 ** (retry - 1), 20)  # 1 s scale after throttling

    exchange = Exchange([failure(code)] * 4)
    with pytest.raises(DynamoDBError) as caught:
        exchange.drive(protocol(rules=rules).call("GetItem", dict(GET)))
    assert len(exchange.requests) == 4
    assert f"failed: {code}: injected (gave up after 4 attempts)" in str(caught.value)
    assert isinstance(caught.value.__cause__, ErrorAnswer)


@pytest.mark.parametrize(
    "reply",
    [
        TransportError("connection reset"),
        failure("InternalServerError", status=500),
        HttpResponse(503, {}, b"Service Unavailable"),
        failure("SomethingNew", status=429),
        failure("ReplicatedWriteConflictException", status=409),
    ],
    ids=["no-answer", "500", "503-not-json", "429", "modeled-retryable"],
)
def test_transient_failures_are_retried_after_short_waits(reply):
    exchange = Exchange([reply, reply, answer({})])
    assert exchange.drive(protocol().call("GetItem", dict(GET))) == {}
    assert len(exchange.requests) == 3
    scale = 1.0 if isinstance(reply, HttpResponse) and reply.status == 429 else 0.025
    assert all(0 <= p <= scale * 2**i for i, p in enumerate(exchange.pauses))


def test_no_answer_after_the_last_attempt_is_a_backend_error_keeping_the_transport_error():
    lost = TransportError("no answer from the endpoint: ConnectionRefusedError")
    exchange = Exchange([lost] * 4)
    with pytest.raises(DynamoDBError) as caught:
        exchange.drive(protocol().call("GetItem", dict(GET)))
    assert caught.value.__cause__ is lost
    assert str(caught.value) == (
        f"GetItem on table 'things' at {ENDPOINT} failed: no answer from the endpoint: "
        "ConnectionRefusedError (gave up after 4 attempts)"
    )


def test_attempts_follow_botocore_config_semantics():
    assert RetryRules.from_config(None).attempts == 4  # botocore's standard mode, DynamoDB
    assert RetryRules.from_config({"max_attempts": 5}).attempts == 6  # 5 retries
    assert RetryRules.from_config({"total_max_attempts": 2, "max_attempts": 9}).attempts == 2
    assert RetryRules.from_config({"max_attempts": 0}).attempts == 1
    legacy = RetryRules.from_config({"mode": "legacy"})
    assert (legacy.attempts, legacy.legacy) == (10, True)
    assert [legacy.wait(i, "throttling") for i in (1, 2, 3)] == [0.05, 0.1, 0.2]


def test_a_retry_after_header_lengthens_the_wait_by_at_most_five_seconds():
    rules = RetryRules()
    assert rules.wait(1, "transient", "3000") == 3.0
    assert 5.0 <= rules.wait(1, "transient", "60000") <= 5.025
    assert rules.wait(1, "transient", "junk") <= 0.025
    throttled = failure("Throttling")
    slow_down = HttpResponse(
        400, {**throttled.headers, "x-amz-retry-after": "1500"}, throttled.body
    )
    exchange = Exchange([slow_down, answer({})])
    exchange.drive(protocol().call("GetItem", dict(GET)))
    assert 1.5 <= exchange.pauses[0] <= 2.5


def test_a_spent_retry_budget_makes_failures_final_until_successes_refill_it():
    shared = protocol()
    shared.quota = RetryQuota(capacity=20)
    exchange = Exchange([failure("InternalServerError", status=500)] * 2)
    with pytest.raises(DynamoDBError, match="the client's retry budget is spent"):
        exchange.drive(shared.call("GetItem", dict(GET)))
    assert len(exchange.requests) == 2  # one retry took 14 of 20 units; the next needs 14
    assert shared.quota.capacity == 6
    Exchange([answer({})] * 8).drive(shared.call("GetItem", dict(GET)))
    assert shared.quota.capacity == 7  # a success without retry gives back 1
    retried = Exchange([failure("Throttling"), answer({})])
    retried.drive(shared.call("GetItem", dict(GET)))
    assert shared.quota.capacity == 7  # took 5 for the throttling retry, gave the 5 back


# -- interceptors --------------------------------------------------------------------------


def test_interceptors_see_every_attempt_may_change_the_body_or_answer_for_the_server():
    shared = protocol()
    seen: list[tuple[str, dict[str, Any]]] = []

    def note(operation: str, body: dict[str, Any]) -> None:
        seen.append((operation, json.loads(json.dumps(body))))
        body["ReturnConsumedCapacity"] = "TOTAL"

    throttled = [failure("ThrottlingException")]

    def throttle_once(operation: str, body: dict[str, Any]) -> HttpResponse | None:
        return throttled.pop() if throttled else None

    shared.interceptors += [note, throttle_once]
    exchange = Exchange([answer({"Item": KEY})])
    assert exchange.drive(shared.call("GetItem", dict(GET))) == {"Item": KEY}
    assert [operation for operation, _ in seen] == ["GetItem", "GetItem"]  # both attempts
    assert len(exchange.requests) == 1  # the throttling answer never left this process
    assert len(exchange.pauses) == 1  # and it was retried as the server's would be
    assert json.loads(exchange.requests[0].body)["ReturnConsumedCapacity"] == "TOTAL"


# -- credentials ---------------------------------------------------------------------------


def refreshable(expires_in: float, refreshed: list[int]) -> RefreshableCredentials:
    def expiry(seconds: float) -> str:
        now = datetime.datetime.now(datetime.timezone.utc)
        return (now + datetime.timedelta(seconds=seconds)).isoformat()

    def fetch() -> dict[str, str]:
        refreshed.append(threading.get_ident())
        return {
            "access_key": f"AKIDREFRESHED{len(refreshed)}",
            "secret_key": SECRET_KEY,
            "token": TOKEN,
            "expiry_time": expiry(3600),
        }

    metadata = {"access_key": "AKIDOLD", "secret_key": SECRET_KEY, "token": TOKEN}
    return RefreshableCredentials.create_from_metadata(
        {**metadata, "expiry_time": expiry(expires_in)}, fetch, "test"
    )


def test_expiring_credentials_are_refreshed_in_a_blocking_step_then_reused_without_one():
    refreshed: list[int] = []
    shared = Protocol(ENDPOINT, Signer(refreshable(300, refreshed), "eu-west-1"))
    first = Exchange([answer({})])
    first.drive(shared.call("GetItem", dict(GET)))
    assert first.blocking == 1 and len(refreshed) == 1  # 5 minutes left: refreshed
    assert "Credential=AKIDREFRESHED1/" in first.requests[0].headers["Authorization"]
    later = Exchange([answer({})] * 3)
    for _ in range(3):
        later.drive(shared.call("GetItem", dict(GET)))
    assert later.blocking == 0 and len(refreshed) == 1  # an hour left: no I/O, no thread


def test_static_credentials_need_no_blocking_step_at_all():
    exchange = Exchange([answer({})])
    exchange.drive(protocol().call("GetItem", dict(GET)))
    assert exchange.blocking == 0


def test_the_async_runner_refreshes_credentials_in_a_worker_thread_not_on_the_loop():
    refreshed: list[int] = []
    shared = Protocol(ENDPOINT, Signer(refreshable(60, refreshed), "eu-west-1"))

    class Canned:
        async def send(self, request: HttpRequest) -> HttpResponse:
            return answer({})

    async def call() -> int:
        await arun(shared.call("GetItem", dict(GET)), Canned())
        return threading.get_ident()

    loop_thread = asyncio.run(call())
    assert len(refreshed) == 1 and refreshed[0] != loop_thread


def test_failing_or_missing_credentials_are_backend_errors_naming_the_request():
    def fail() -> dict[str, str]:
        raise botocore.exceptions.CredentialRetrievalError(provider="sso", error_msg="expired")

    broken = RefreshableCredentials.create_from_metadata(
        {"access_key": "a", "secret_key": "s", "token": "t", "expiry_time": "2000-01-01T00:00:00Z"},
        fail,
        "sso",
    )
    for source, why in [
        (broken, "reading AWS credentials failed: CredentialRetrievalError"),
        (None, "no AWS credentials were found"),
    ]:
        exchange = Exchange()
        with pytest.raises(DynamoDBError, match=f"GetItem on table 'things' at .* failed: {why}"):
            exchange.drive(Protocol(ENDPOINT, Signer(source, "eu-west-1")).call("GetItem", GET))
        assert exchange.requests == []


# -- secrets -------------------------------------------------------------------------------


def test_no_text_the_layer_shows_holds_a_secret():
    shared = protocol(token=TOKEN)
    sent = Exchange([answer({})])
    sent.drive(shared.call("GetItem", dict(GET)))
    headers = sent.requests[0].headers
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    secrets = [SECRET_KEY, TOKEN, signature, headers["Authorization"], "Authorization", "pa55"]

    texts = [repr(shared), str(shared), repr(shared._signer), repr(sent.requests[0])]
    settings = HttpSettings(
        ENDPOINT, proxy="http://user:pa55@proxy:3128", proxy_headers={"a": "pa55"}
    )
    texts += [repr(settings), repr(BlockingSender(settings))]
    failures = [
        [failure("ValidationException")],
        [TransportError("reset")] * 4,
        [HttpResponse(200, {"x-amz-crc32": "1"}, b"{}")] * 4,
        [HttpResponse(200, {}, b"not json")],
    ]
    for replies in failures:
        with pytest.raises(DynamoDBError) as caught:
            Exchange(replies).drive(shared.call("GetItem", dict(GET)))
        error: BaseException | None = caught.value
        while error is not None:
            texts += [str(error), repr(error)]
            error = error.__cause__
    refusal = Exchange([failure("ConditionalCheckFailedException")]).drive(
        shared.call("PutItem", {}, refusal="ConditionalCheckFailedException")
    )
    texts.append(repr(refusal))
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)


def test_proof_the_secret_check_would_see_a_secret_in_the_headers():
    sent = Exchange([answer({})])
    sent.drive(protocol(token=TOKEN).call("GetItem", dict(GET)))
    assert TOKEN in str(dict(sent.requests[0].headers))  # they hold it; nothing shows them


# -- answers lost: the guarded resend, and what a loss makes unknowable --------------------

PUT = {"TableName": "things", "Item": KEY, "ConditionExpression": "attribute_not_exists(pk)"}
CHECK_FAILED = "ConditionalCheckFailedException"


def guard(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}


def sent_bodies(exchange: Exchange) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in exchange.requests]


def test_the_guarded_body_is_sent_only_after_an_answer_was_lost():
    exchange = Exchange([failure("ThrottlingException"), TransportError("reset"), answer({})])
    exchange.drive(protocol().call("PutItem", dict(PUT), refusal=CHECK_FAILED, resend=guard))
    first, throttled_retry, after_loss = sent_bodies(exchange)
    assert "ReturnValuesOnConditionCheckFailure" not in first
    assert "ReturnValuesOnConditionCheckFailure" not in throttled_retry
    assert after_loss["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_a_refused_connection_is_no_lost_answer():
    unsent = TransportError("connection refused", unsent=True)
    exchange = Exchange([unsent, answer({})])
    exchange.drive(protocol().call("PutItem", dict(PUT), refusal=CHECK_FAILED, resend=guard))
    assert all("ReturnValuesOnConditionCheckFailure" not in b for b in sent_bodies(exchange))
    exchange = Exchange([unsent] * 4)
    with pytest.raises(DynamoDBError) as caught:
        exchange.drive(protocol().call("DeleteItem", {"TableName": "things", "Key": KEY}))
    assert type(caught.value) is DynamoDBError


@pytest.mark.parametrize(
    "loss",
    [TransportError("reset"), HttpResponse(200, {"x-amz-crc32": "1"}, b"{}")],
    ids=["no-answer", "damaged-answer"],
)
def test_a_delete_refused_after_a_lost_answer_may_have_been_applied(loss):
    delete = {"TableName": "things", "Key": KEY, "ConditionExpression": "attribute_exists(pk)"}
    exchange = Exchange([loss, failure(CHECK_FAILED)])
    with pytest.raises(AnswerLost) as caught:
        exchange.drive(protocol().call("DeleteItem", delete, refusal=CHECK_FAILED))
    assert "was refused after an earlier answer was lost" in str(caught.value)
    # Without the loss, the same refusal is the caller's to read.
    refused = Exchange([failure(CHECK_FAILED)]).drive(
        protocol().call("DeleteItem", delete, refusal=CHECK_FAILED)
    )
    assert type(refused) is Refusal


def test_a_write_failing_for_good_after_a_lost_answer_may_have_been_applied():
    exchange = Exchange(
        [TransportError("reset")] + [failure("InternalServerError", status=500)] * 3
    )
    with pytest.raises(AnswerLost):
        exchange.drive(protocol().call("UpdateItem", {"TableName": "things", "Key": KEY}))
    # A read failing the same way is no lost write.
    exchange = Exchange(
        [TransportError("reset")] + [failure("InternalServerError", status=500)] * 3
    )
    with pytest.raises(DynamoDBError) as caught:
        exchange.drive(protocol().call("GetItem", dict(GET)))
    assert type(caught.value) is DynamoDBError


def test_an_expected_refusal_gives_back_the_retry_budget_as_a_success_does():
    shared = protocol()
    exchange = Exchange([TransportError("reset"), failure(CHECK_FAILED)])
    assert (
        type(exchange.drive(shared.call("PutItem", dict(PUT), refusal=CHECK_FAILED, resend=guard)))
        is Refusal
    )
    assert shared.quota.capacity == shared.quota.maximum
