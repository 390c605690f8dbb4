"""The two transports over real HTTP: round trips on the DynamoDB server, faults, lifecycle.

The sync sender (urllib3) and the async one (aiohttp) carry the protocol's requests to the
test server (moto, or DynamoDB Local when RESTMACHINE_ORM_DYNAMODB_ENDPOINT says so). How
connections are kept, dropped and counted is watched on a small keep-alive HTTP server of
this module, which counts the connections it accepts and can hold answers back.
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import http.server
import ipaddress
import json
import os
import socket
import ssl
import sys
import threading
import time
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import make_client
from fault_proxy import FaultProxy

from restmachine_orm_dynamodb import DynamoDBError, _http_async
from restmachine_orm_dynamodb._flow import HttpRequest, TransportError, arun, run
from restmachine_orm_dynamodb._http_async import INSTALL, AiohttpSender
from restmachine_orm_dynamodb._http_settings import HttpSettings
from restmachine_orm_dynamodb._http_sync import BlockingSender
from restmachine_orm_dynamodb._protocol import Protocol
from restmachine_orm_dynamodb._retry_rules import RetryRules

TABLE = f"restmachine-orm-transport-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
ITEM = {
    "pk": {"S": "Thing#t1"},
    "sk": {"S": "Thing"},
    "blob": {"B": b"\x00\x01\xfe\xff"},
    "blobs": {"BS": [b"a", b"\x00"]},
    "n": {"N": "42"},
}
KEY = {"pk": ITEM["pk"], "sk": ITEM["sk"]}


def unordered(item: dict[str, Any]) -> dict[str, Any]:
    """An item with its binary set sorted: a set comes back in the server's order."""
    return {**item, "blobs": {"BS": sorted(item["blobs"]["BS"])}}


@pytest.fixture(scope="module")
def protocol(endpoint: str) -> Protocol:
    client = make_client(endpoint)
    try:
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=TABLE)
    except client.exceptions.ResourceInUseException:
        pass
    return Protocol.from_client(client)


@pytest.fixture
def sync_sender(protocol: Protocol) -> Iterator[BlockingSender]:
    sender = BlockingSender(protocol.http)
    yield sender
    sender.close()


def put_then_get(protocol: Protocol) -> list[Any]:
    """The flows of a round trip: write the item, then read it back consistently."""
    return [
        protocol.call("PutItem", {"TableName": TABLE, "Item": ITEM}),
        protocol.call("GetItem", {"TableName": TABLE, "Key": KEY, "ConsistentRead": True}),
    ]


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


# -- round trips ---------------------------------------------------------------------------


def test_a_put_and_a_consistent_get_go_round_trip_through_the_sync_sender(
    protocol, sync_sender, second_client
):
    _, read = (run(flow, sync_sender) for flow in put_then_get(protocol))
    assert unordered(read["Item"]) == unordered(ITEM)
    stored = second_client.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)["Item"]
    assert unordered(stored) == unordered(ITEM)


def test_a_put_and_a_consistent_get_go_round_trip_through_the_async_sender(protocol):
    sender = AiohttpSender(protocol.http)

    async def round_trip() -> list[Any]:
        try:
            return [await arun(flow, sender) for flow in put_then_get(protocol)]
        finally:
            await sender.aclose()

    assert unordered(asyncio.run(round_trip())[1]["Item"]) == unordered(ITEM)
    assert sender.sessions == 0


# -- no answer -----------------------------------------------------------------------------


def test_a_closed_port_is_a_transport_error_keeping_its_cause():
    settings = HttpSettings(closed_port(), connect_timeout=2, read_timeout=2)
    request = HttpRequest("GetItem", settings.endpoint + "/", {"Host": "x"}, b"{}")
    with pytest.raises(TransportError, match=f"no answer from {settings.endpoint} to GetItem"):
        BlockingSender(settings).send(request)
    sender = AiohttpSender(settings)

    async def send() -> None:
        try:
            await sender.send(request)
        finally:
            await sender.aclose()

    with pytest.raises(TransportError) as caught:
        asyncio.run(send())
    assert isinstance(caught.value.__cause__, OSError)


def test_a_closed_port_fails_the_request_after_the_configured_attempts(protocol):
    lost = Protocol(closed_port(), protocol._signer, rules=RetryRules(attempts=2))
    with pytest.raises(DynamoDBError, match="gave up after 2 attempts") as caught:
        run(lost.call("GetItem", {"TableName": TABLE, "Key": KEY}), BlockingSender(lost.http))
    assert isinstance(caught.value.__cause__, TransportError)


@pytest.mark.parametrize("mode", ["cut", "silence"])
def test_an_answer_lost_on_the_way_is_a_transport_error_for_both_senders(endpoint, protocol, mode):
    relay = FaultProxy(endpoint)
    try:
        settings = HttpSettings(relay.endpoint, connect_timeout=2, read_timeout=2)
        through = Protocol(relay.endpoint, protocol._signer, rules=RetryRules(attempts=1))
        get = {"TableName": TABLE, "Key": KEY, "ConsistentRead": True}
        relay.drop("GetItem", mode, times=2)
        with pytest.raises(DynamoDBError) as caught:
            run(through.call("GetItem", get), BlockingSender(settings))
        assert isinstance(caught.value.__cause__, TransportError)
        sender = AiohttpSender(settings)

        async def get_item() -> Any:
            try:
                return await arun(through.call("GetItem", get), sender)
            finally:
                await sender.aclose()

        with pytest.raises(DynamoDBError) as caught:
            asyncio.run(get_item())
        assert isinstance(caught.value.__cause__, TransportError)
        assert relay.dropped["GetItem"] == 2
    finally:
        relay.close()


# -- a keep-alive server that counts connections ---------------------------------------------


class CountingServer:
    """HTTP/1.1 on loopback: answers ``{}`` to every POST, counting the connections made.

    ``hang_up`` closes each connection after its answer without saying so (as a server
    timing out idle connections does); ``together`` holds every answer until that many
    requests are in, each on its own connection.
    """

    def __init__(
        self, *, hang_up: bool = False, together: int = 0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.connections = 0
        self.targets: list[str] = []  # the request-target of every request
        self.hang_up = hang_up
        self.barrier = threading.Barrier(together, timeout=5) if together else None
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                server.connections += 1

            def do_POST(self) -> None:
                server.targets.append(self.path)
                self.rfile.read(int(self.headers["Content-Length"]))
                status = 200
                if server.barrier is not None:
                    try:
                        server.barrier.wait()
                    except threading.BrokenBarrierError:
                        status = 503
                body = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amz-crc32", str(zlib.crc32(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = server.hang_up

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # 32 connections at once, none refused by the backlog

        self._server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        scheme = "https" if tls is not None else "http"
        self.endpoint = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def request(self) -> HttpRequest:
        return HttpRequest("GetItem", self.endpoint + "/", {"Content-Type": "x"}, b"{}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def counting() -> Iterator[type[CountingServer]]:
    servers: list[CountingServer] = []

    def start(**options: Any) -> CountingServer:
        servers.append(CountingServer(**options))
        return servers[-1]

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


def test_the_sync_sender_keeps_its_connection_alive_between_requests(counting):
    server = counting()
    sender = BlockingSender(HttpSettings(server.endpoint))
    for _ in range(5):
        assert sender.send(server.request()).status == 200
    assert server.connections == 1
    sender.close()
    assert sender.send(server.request()).status == 200  # closed: a new connection
    assert server.connections == 2
    sender.close()


def test_a_connection_the_server_dropped_while_idle_is_replaced_without_an_error(counting):
    server = counting(hang_up=True)
    sender = BlockingSender(HttpSettings(server.endpoint))
    for _ in range(3):
        assert sender.send(server.request()).status == 200
        time.sleep(0.05)  # the server's close reaches this side
    assert server.connections == 3
    sender.close()


def test_with_a_proxy_the_sync_sender_sends_through_it(counting):
    proxy = counting()
    endpoint = closed_port()  # only the proxy can answer
    sender = BlockingSender(HttpSettings(endpoint, proxy=proxy.endpoint))
    assert sender.send(HttpRequest("GetItem", endpoint + "/", {}, b"{}")).status == 200
    assert proxy.targets == [endpoint + "/"]  # a proxy's request-target is the whole URL
    sender.close()


def test_answers_come_back_with_lower_cased_header_names(counting):
    server = counting()
    sender = BlockingSender(HttpSettings(server.endpoint))
    answer = sender.send(server.request())
    assert "x-amz-crc32" in answer.headers and "content-length" in answer.headers
    assert all(name == name.lower() for name in answer.headers)
    sender.close()


def in_flight(server: CountingServer, sender: AiohttpSender, count: int) -> list[int]:
    async def send_together() -> list[int]:
        try:
            answers = await asyncio.gather(*(sender.send(server.request()) for _ in range(count)))
            return [answer.status for answer in answers]
        finally:
            await sender.aclose()

    return asyncio.run(send_together())


def test_32_requests_in_flight_on_one_loop_never_wait_for_a_connection(counting):
    server = counting(together=32)
    sender = AiohttpSender(HttpSettings(server.endpoint, max_pool_connections=10))
    assert in_flight(server, sender, 32) == [200] * 32  # all 32 were at the server at once
    assert server.connections == 32


def test_proof_with_16_connections_32_requests_in_flight_would_queue(counting, monkeypatch):
    monkeypatch.setattr(_http_async, "MIN_CONNECTIONS", 16)
    server = counting(together=32)
    sender = AiohttpSender(HttpSettings(server.endpoint, max_pool_connections=16))
    assert 503 in in_flight(server, sender, 32)  # the server gave up waiting for the rest


def self_signed(folder: Any) -> str:
    """A certificate for 127.0.0.1 and its key, signed by itself, in one PEM file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "restmachine-orm test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "localhost.pem"
    path.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def send_both_ways(settings: HttpSettings, request: HttpRequest) -> list[int | str]:
    """The status each sender gets for ``request``, or the name of the error's cause."""
    outcomes: list[int | str] = []
    sync_sender, async_sender = BlockingSender(settings), AiohttpSender(settings)

    async def send_async() -> int:
        try:
            return (await async_sender.send(request)).status
        finally:
            await async_sender.aclose()

    for send in (lambda: sync_sender.send(request).status, lambda: asyncio.run(send_async())):
        try:
            outcomes.append(send())
        except TransportError as error:
            outcomes.append(type(error.__cause__).__name__)
    sync_sender.close()
    return outcomes


def test_tls_is_checked_against_the_clients_ca_bundle_or_not_at_all_when_told(counting, tmp_path):
    certificate = self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate)
    server = counting(tls=tls)
    request = server.request()
    trusted = HttpSettings(server.endpoint, verify=certificate, connect_timeout=5)
    assert send_both_ways(trusted, request) == [200, 200]
    unchecked = HttpSettings(server.endpoint, verify=False, connect_timeout=5)
    assert send_both_ways(unchecked, request) == [200, 200]
    # botocore's own CA bundle does not know this certificate: both refuse the server.
    refused = send_both_ways(HttpSettings(server.endpoint, connect_timeout=5), request)
    assert refused == ["SSLCertVerificationError", "ClientConnectorCertificateError"]


# -- the async sender's lifecycle ------------------------------------------------------------


def test_each_loop_gets_its_own_session_closed_when_the_loop_shuts_down(counting):
    server = counting()
    sender = AiohttpSender(HttpSettings(server.endpoint))

    async def twice() -> int:
        for _ in range(2):
            await sender.send(server.request())
        return sender.sessions

    assert asyncio.run(twice()) == 1  # one session, its connection kept alive
    assert sender.sessions == 0  # asyncio.run shut the loop down: the session closed
    assert asyncio.run(twice()) == 1  # a new loop, a new session
    assert sender.sessions == 0
    assert server.connections == 2
    gc.collect()  # nothing left unclosed to warn about (warnings are errors here)


def test_aclose_closes_the_running_loops_session_and_a_later_request_opens_another(counting):
    server = counting()
    sender = AiohttpSender(HttpSettings(server.endpoint))

    async def scenario() -> None:
        await sender.aclose()  # nothing open yet: nothing to do
        await sender.send(server.request())
        assert sender.sessions == 1
        await sender.aclose()
        assert sender.sessions == 0
        await sender.send(server.request())
        await sender.aclose()

    asyncio.run(scenario())
    assert server.connections == 2
    gc.collect()


def test_a_loop_closed_without_shutting_down_strands_its_connections_and_a_new_loop_works(
    counting,
):
    server = counting()
    sender = AiohttpSender(HttpSettings(server.endpoint))
    abandoned = asyncio.new_event_loop()
    # Reports go to the warnings below only (a logged report would keep the session alive).
    abandoned.set_exception_handler(lambda loop, context: None)
    abandoned.run_until_complete(sender.send(server.request()))
    abandoned.close()  # no shutdown_asyncgens: nothing could close the session in time

    async def again() -> int:
        await sender.send(server.request())
        sessions = sender.sessions  # the stranded one is forgotten
        await sender.aclose()
        return sessions

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert asyncio.run(again()) == 1  # the stranded session is forgotten
        del abandoned
        reported: list[str] = []
        for _ in range(3):  # a warning's record keeps its object alive: collect, clear, again
            gc.collect()
            reported += [f"{w.category.__name__}: {w.message}" for w in caught]
            caught.clear()
    # asyncio and aiohttp report what the loop's owner left open.
    assert any(r.startswith("ResourceWarning: Unclosed connector") for r in reported), reported
    assert any(r.startswith("ResourceWarning: unclosed transport") for r in reported), reported
    assert sender.sessions == 0


def test_without_aiohttp_the_async_sender_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # as if it were not installed
    with pytest.raises(ImportError) as caught:
        AiohttpSender(HttpSettings("http://127.0.0.1:9"))
    assert INSTALL == 'pip install "restmachine-orm-dynamodb[async]"'
    assert INSTALL in str(caught.value)
    assert caught.value.name == "aiohttp"
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
