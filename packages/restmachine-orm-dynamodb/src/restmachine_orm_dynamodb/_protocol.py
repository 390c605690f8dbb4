"""``Protocol``: one DynamoDB operation as a flow, from request body to answer or error.

DynamoDB's JSON protocol: ``POST /`` with ``X-Amz-Target: DynamoDB_20120810.<Operation>``,
the parameters as compact JSON (``_wire``), signed with SigV4 (``_sigv4``). The answer's
CRC32 (``x-amz-crc32``) is checked, its JSON decoded; an error answer's code is the end of
its ``__type``. Transient failures are retried as botocore's standard mode does
(``_retry_rules``), yielding a ``Pause`` before each retry. Sans-IO: it yields the
``HttpRequest`` and is sent the ``HttpResponse`` (or has a ``TransportError`` thrown in),
so one copy serves the sync and the async runner (``_flow``).
"""

from __future__ import annotations

import platform
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._faults import Faults
from ._flow import Flow, HttpRequest, HttpResponse, Pause, TransportError
from ._http_settings import HttpSettings
from ._observe import CAPACITY_OPERATIONS, Exchange, Watch, current_scope, table_of
from ._retry_rules import RetryQuota, RetryRules, retryable
from ._sigv4 import Signer
from ._version import __version__
from ._wire import decode, encode
from .errors import DynamoDBError, TransactionsUnsupportedError

__all__ = [
    "WRITES",
    "AnswerLost",
    "CorruptAnswer",
    "ErrorAnswer",
    "Interceptor",
    "Protocol",
    "Refusal",
    "error_code",
]

#: Called before each attempt with (operation, request body): may change the body, or
#: return an answer that is then read as if the server had sent it.
Interceptor = Callable[[str, dict[str, Any]], HttpResponse | None]

_TARGET = "DynamoDB_20120810."
_UNSUPPORTED = frozenset({"UnknownOperationException", "UnrecognizedClientException"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """What ``Protocol.call`` returns for an error code the caller said it expects.

    Attributes:
        answer: DynamoDB's error answer: its own keys (``CancellationReasons``, ``Item``,
            ``message``...) and ``{"Error": {"Code": ..., "Message": ...}}``.
    """

    answer: Mapping[str, Any]


class AnswerLost(DynamoDBError):
    """A write failed after one of its answers was lost: it may have been applied."""


#: Operations that write.
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
#: Writes that leave no mark of their own on the items to recognise later (a delete
#: removes the item; a transaction's marks are its ``ClientRequestToken``, which not
#: every server honours): once an answer was lost, a refusal tells nothing sure.
_UNMARKED_WRITES = frozenset({"DeleteItem", "TransactWriteItems"})


def _lost() -> TransportError:
    return TransportError("the answer was lost (an injected fault)")


def error_code(answer: Mapping[str, Any]) -> str:
    """The DynamoDB error code of an error answer (``""`` when there is none)."""
    code: str = answer.get("Error", {}).get("Code", "")
    return code


class ErrorAnswer(Exception):
    """DynamoDB answered with an error (kept as the ``__cause__`` of the ``DynamoDBError``).

    Attributes:
        status: The HTTP status.
        code: DynamoDB's error code, e.g. ``"ValidationException"`` (``""`` if none came).
        message: DynamoDB's explanation.
        answer: The error answer (as ``Refusal.answer`` holds it).
    """

    def __init__(self, status: int, code: str, message: str, answer: Mapping[str, Any]) -> None:
        """Keep what the answer said; the text is ``"<code>: <message>"``."""
        super().__init__(f"{code or f'HTTP {status}'}: {message}")
        self.status, self.code, self.message, self.answer = status, code, message, answer


class CorruptAnswer(Exception):
    """The answer's body does not match the CRC32 the server sent with it."""


def _error_answer(response: HttpResponse) -> ErrorAnswer:
    """Read an error answer: JSON with ``__type`` and ``message``, or whatever came."""
    try:
        document = decode(response.body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        text = response.body[:200].decode("utf-8", "replace")
        document = {"message": " ".join(text.split())}
    kind = document.get("__type") or response.headers.get("x-amzn-errortype", "").split(":")[0]
    code = str(kind).rsplit("#", 1)[-1]
    message = str(document.get("message") or document.get("Message") or "")
    answer = {**document, "Error": {"Code": code, "Message": message}}
    return ErrorAnswer(response.status, code, message, answer)


def _host(url: str) -> str:
    """The ``Host`` header of ``url``: its host, and its port unless the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    if parts.port and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def user_agent(config: Any = None) -> str:
    """The ``User-Agent``: this package, botocore and Python, plus the config's extras."""
    import botocore

    agent = (
        f"restmachine-orm-dynamodb/{__version__} botocore/{botocore.__version__} "
        f"lang/python#{platform.python_version()}"
    )
    appid = getattr(config, "user_agent_appid", None)
    extra = getattr(config, "user_agent_extra", None)
    return agent + (f" app/{appid}" if appid else "") + (f" {extra}" if extra else "")


class Protocol:
    """Sends DynamoDB operations to one endpoint: builds, signs, checks, decodes, retries.

    Attributes:
        endpoint: The endpoint URL (named in error messages).
        http: How the senders connect to it.
        rules: How many tries a request gets, and the waits between.
        interceptors: Called before each attempt with ``(operation, body)``: one may change
            the body, or return an ``HttpResponse`` that is read as the server's answer
            (nothing is sent then). For fault injection.
        faults: What acts out a test's injected faults before each attempt (``None``: none).
        quota: The retry budget this protocol's requests share (botocore's per-client one).
        watch: What observes each request (logs, consumed capacity, spans).
    """

    def __init__(
        self,
        endpoint: str,
        signer: Signer,
        *,
        rules: RetryRules | None = None,
        http: HttpSettings | None = None,
        agent: str | None = None,
    ) -> None:
        """Talk to ``endpoint``, signing with ``signer``; nothing is sent yet."""
        self.endpoint = endpoint
        self.http = http or HttpSettings(endpoint)
        self.rules = rules or RetryRules()
        self.interceptors: list[Interceptor] = []
        self.faults: Faults | None = None
        self._signer = signer
        self._url = endpoint.rstrip("/") + "/"
        self._host = _host(self._url)
        self._agent = agent or user_agent()
        self.quota = RetryQuota()
        self.watch = Watch()

    @classmethod
    def from_client(cls, client: Any) -> Protocol:
        """The protocol a boto3 DynamoDB client speaks: its credentials, region, endpoint, config.

        The config gives the retries, and the ``http`` settings (timeouts, proxies, pool).

        Raises:
            BotocoreInternalsChanged: This botocore keeps a client's credentials elsewhere.
        """
        from ._botocore import client_credentials

        meta = client.meta
        credentials = client_credentials(client)
        signer = Signer(credentials, meta.region_name, meta.service_model.signing_name)
        return cls(
            meta.endpoint_url,
            signer,
            rules=RetryRules.from_config(meta.config.retries),
            http=HttpSettings.from_client(client),
            agent=user_agent(meta.config),
        )

    def __repr__(self) -> str:
        return f"Protocol(endpoint={self.endpoint!r}, region={self._signer.region!r})"

    def call(
        self,
        operation: str,
        body: dict[str, Any],
        *,
        refusal: str = "",
        resend: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Flow[Any]:
        """Send one operation, e.g. ``call("GetItem", {...})``, and return DynamoDB's answer.

        Args:
            operation: The DynamoDB operation.
            body: Its parameters, ``TableName`` (or ``RequestItems``...) included.
            refusal: An error code the caller handles itself: when DynamoDB answers with
                it, the flow returns a ``Refusal`` instead of raising.
            resend: Makes, from the body, the one to send instead once an answer was lost
                (the first may have been applied): a write's guard against applying twice
                (see ``_once``). Called only then.

        Raises:
            DynamoDBError: The request failed, for good or after its last try (its
                ``__cause__`` is the last ``ErrorAnswer``, ``TransportError`` or
                ``CorruptAnswer``).
            TransactionsUnsupportedError: ``TransactWriteItems`` is unknown to the server.
        """
        watch = self.watch
        if watch.watching():
            return self._watched(operation, body, refusal, watch, resend)
        return self._attempts(operation, body, refusal, None, resend)

    def _watched(
        self,
        operation: str,
        body: dict[str, Any],
        refusal: str,
        watch: Watch,
        resend: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> Flow[Any]:
        """``call`` with its watch told of the request: start, outcome, consumed capacity."""
        exchange = watch.start(operation, body, self.endpoint)
        if operation in CAPACITY_OPERATIONS and watch.asks_capacity():
            body = {**body, "ReturnConsumedCapacity": "TOTAL"}
            exchange.asked = True
        try:
            answer = yield from self._attempts(operation, body, refusal, exchange, resend)
        except BaseException as failure:
            watch.finish(exchange, None, failure)
            raise
        watch.finish(exchange, answer, None)
        return answer

    def _attempts(
        self,
        operation: str,
        body: dict[str, Any],
        refusal: str,
        exchange: Exchange | None,
        resend: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> Flow[Any]:
        """Send the request until it succeeds, is refused, or runs out of tries."""
        rules, quota, faults = self.rules, self.quota, self.faults
        attempt, taken, lost = 0, 1, False
        while True:
            attempt += 1
            if lost and resend is not None:
                body, resend = resend(body), None
            if exchange is not None:  # what the last attempt got is what gets reported
                exchange.attempts, exchange.status, exchange.error = attempt, 0, ""
            act = None if faults is None else faults.act(operation, body, attempt)
            response = None if act is None else act.answer
            if act is not None and act.delay:
                yield Pause(act.delay)
            if response is None and self.interceptors:
                response = self._intercepted(operation, body)
            failure: Exception | None = None
            kind = ""
            if response is None:
                problem = yield from self._signer.ready()
                if problem is not None:
                    raise DynamoDBError(f"{operation} on {self._where(body)} failed: {problem}")
                sent = body if act is None or act.body is None else act.body
                payload = encode(sent)
                headers = self._signer.sign(self._url, self._host, _TARGET + operation, payload)
                headers["User-Agent"] = self._agent
                headers["Accept-Encoding"] = "identity"  # aiohttp would ask for gzip
                try:
                    response = yield HttpRequest(operation, self._url, headers, payload)
                except TransportError as unanswered:
                    failure, kind = unanswered, "transient"
                    lost = lost or not unanswered.unsent
                if act is not None and act.lose and response is not None:
                    response, failure, kind, lost = None, _lost(), "transient", True
            if response is not None:
                if exchange is not None:
                    exchange.status = response.status
                crc = response.headers.get("x-amz-crc32")
                if crc is not None and not _crc_matches(crc, response.body):
                    # An answer came, damaged: the request may have been applied.
                    failure, kind, lost = _corrupt(crc, response.body), "transient", True
                elif response.status < 300:
                    answer = self._decoded(operation, body, response)
                    if act is not None and act.leftovers is not None:
                        answer = act.leftovers(answer)
                    if quota.capacity < quota.maximum:
                        quota.give_back(taken)
                    return answer
                else:
                    error = _error_answer(response)
                    if exchange is not None:
                        exchange.error = error.code
                    if refusal and error.code == refusal:
                        if lost and operation in _UNMARKED_WRITES:
                            # Its own landed write may be what refuses it now.
                            raise AnswerLost(
                                f"{operation} on {self._where(body)} was refused after an "
                                f"earlier answer was lost: {error}"
                            ) from error
                        # An answer the caller expects: the service is up, as after a
                        # success (a retried write refused as already landed is one).
                        if quota.capacity < quota.maximum:
                            quota.give_back(taken)
                        return Refusal(error.answer)
                    failure, kind = error, retryable(response.status, error.code) or ""
                    if kind == "":
                        raise self._failure(operation, body, error, attempt, lost=lost) from error
            assert failure is not None
            if attempt >= rules.attempts:
                raise self._failure(operation, body, failure, attempt, lost=lost) from failure
            cost = 1 if rules.legacy else quota.take(kind)  # legacy mode has no quota
            if cost is None:
                raise self._failure(
                    operation, body, failure, attempt, quota=True, lost=lost
                ) from failure
            taken = cost
            after = None if response is None else response.headers.get("x-amz-retry-after")
            yield Pause(rules.wait(attempt, kind, after))

    def _intercepted(self, operation: str, body: dict[str, Any]) -> HttpResponse | None:
        for interceptor in self.interceptors:
            response = interceptor(operation, body)
            if response is not None:
                return response
        return None

    def _decoded(self, operation: str, body: Mapping[str, Any], response: HttpResponse) -> Any:
        try:
            return decode(response.body)
        except ValueError as error:
            raise DynamoDBError(
                f"{operation} on {self._where(body)} failed: the answer is not JSON: {error}"
            ) from error

    def _where(self, body: Mapping[str, Any]) -> str:
        table = table_of(body)
        return f"{self.endpoint}" if table is None else f"table {table!r} at {self.endpoint}"

    def _failure(
        self,
        operation: str,
        body: Mapping[str, Any],
        error: Exception,
        attempts: int,
        *,
        quota: bool = False,
        lost: bool = False,
    ) -> DynamoDBError:
        """The ``DynamoDBError`` telling what failed, where, and why.

        A write that failed after an answer was lost is an ``AnswerLost``: it may have
        been applied, which the backend tells its caller (``WriteOutcomeUnknownError``).
        """
        where = self._where(body)
        if (
            operation == "TransactWriteItems"
            and isinstance(error, ErrorAnswer)
            and error.code in _UNSUPPORTED
        ):
            return TransactionsUnsupportedError(
                f"{where} does not support TransactWriteItems, which create_many and models "
                "with unique fields need to write rows only where none exists and to claim "
                "unique values atomically (dynalite lacks it; use DynamoDB, DynamoDB Local "
                "or moto)"
            )
        tries = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        if quota:  # botocore's standard mode stops retrying too while its budget is spent
            tries = f" (gave up after {attempts} attempts: the client's retry budget is spent)"
        # The ORM operation, when the backend marked it (anything watching, or faults).
        scope = current_scope()
        of = "" if scope is None else f"{scope.operation} of {scope.model}: "
        if lost and operation in WRITES:
            return AnswerLost(
                f"{of}{operation} on {where} failed: {error}{tries}; an answer was lost"
            )
        return DynamoDBError(f"{of}{operation} on {where} failed: {error}{tries}")


def _crc_matches(crc: str, body: bytes) -> bool:
    try:
        return int(crc) == zlib.crc32(body)
    except ValueError:
        return False


def _corrupt(crc: str, body: bytes) -> CorruptAnswer:
    return CorruptAnswer(
        f"the answer was damaged on the way: its CRC32 is {zlib.crc32(body)}, the server "
        f"sent x-amz-crc32 {crc[:20]!r}"
    )
