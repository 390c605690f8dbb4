"""``forbid_blocking_io``: a blocking network call on a running loop's thread fails; others pass."""

from __future__ import annotations

import asyncio
import socket

import pytest

from restmachine_orm_testing import BlockingCallError, forbid_blocking_io


@pytest.fixture
def server():
    """A listening socket: connects to it succeed (the backlog takes them), nothing answers."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        yield listening.getsockname()


def test_a_blocking_connect_on_the_loop_fails_naming_the_call_and_its_caller(server):
    async def connect_blocking():
        socket.create_connection(server, timeout=5).close()

    with pytest.raises(BlockingCallError) as caught, forbid_blocking_io():
        asyncio.run(connect_blocking())
    message = str(caught.value)
    assert "socket.getaddrinfo('127.0.0.1'" in message
    assert "socket.connect(('127.0.0.1'" in message and "on a blocking socket" in message
    assert "in connect_blocking" in message  # where it came from


def test_a_send_on_a_connection_opened_earlier_off_the_loop_fails(server):
    pooled = socket.create_connection(server, timeout=5)  # opened before: no connect on the loop

    async def send_on_the_loop():
        pooled.sendall(b"GET / HTTP/1.1\r\n\r\n")

    try:
        expected = r"socket\.sendall\(\) on a blocking socket"
        with pytest.raises(BlockingCallError, match=expected), forbid_blocking_io():
            asyncio.run(send_on_the_loop())
    finally:
        pooled.close()


def test_asyncios_own_connections_and_worker_threads_pass(server):
    async def talk():
        async def echo(reader, writer):
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        echo_server = await asyncio.start_server(echo, "127.0.0.1", 0)
        address = echo_server.sockets[0].getsockname()
        reader, writer = await asyncio.open_connection(*address[:2])
        writer.write(b"ping\n")
        assert await reader.readline() == b"ping\n"
        writer.close()
        await writer.wait_closed()
        # A sync-only backend's blocking call, served from a worker thread as the ORM does.
        await asyncio.to_thread(lambda: socket.create_connection(server, timeout=5).close())
        echo_server.close()
        await echo_server.wait_closed()

    with forbid_blocking_io():
        asyncio.run(talk())


def test_blocking_calls_with_no_loop_running_pass_and_the_sockets_are_given_back(server):
    before = socket.socket.sendall
    with forbid_blocking_io():
        assert socket.socket.sendall is not before
        with socket.create_connection(server, timeout=5) as sync_client:
            sync_client.sendall(b"x")
    assert socket.socket.sendall is before
    assert "sendall" not in vars(socket.socket)
