"""A network's latency on the loopback: an HTTP proxy holding every request 10 ms.

AWS answers a request in a few milliseconds over a network; a local server answers in a
fraction of one, on the same few cores as the client. Put between the two, this proxy makes
each request wait ``delay`` seconds before it reaches the server, as the way there would, so
that concurrency pays off as it does when deployed: many requests wait at once, and no core
is spent on the waiting.

It runs as a child process (``latency_proxy``), so that its own work shares neither the
interpreter lock nor the CPU clock of the process being measured; one asyncio loop serves
every connection, so it takes hundreds at once. Requests are HTTP/1.1 with a
``Content-Length`` body, which every client measured here sends; answers are relayed as they
come, byte for byte.

``python benchmarks/_latency_proxy.py UPSTREAM [DELAY]`` prints its endpoint on one line and
serves until its standard input closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

DELAY = 0.010  # seconds each request is held: a network round trip to a nearby region
BACKLOG = 512  # connections waiting to be accepted: more than any benchmark opens at once
CHUNK = 65536


@contextlib.contextmanager
def latency_proxy(upstream: str, delay: float = DELAY) -> Iterator[str]:
    """Run the proxy in front of ``upstream`` in a child process; yield its endpoint URL.

    Raises:
        RuntimeError: The proxy did not start (its error output is in the message).
    """
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), upstream, str(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        endpoint = child.stdout.readline().strip()
        if not endpoint:
            _, error = child.communicate(timeout=10)
            raise RuntimeError(f"the latency proxy did not start: {error.strip()}")
        yield endpoint
    finally:
        # Closing its input is how it is told to stop; a stuck child is ended by force.
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _content_length(head: bytes) -> int:
    """The body length a request head announces.

    Raises:
        ValueError: The request's body is chunked, which the proxy does not relay.
    """
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            raise ValueError("the latency proxy relays Content-Length bodies, not chunked ones")
    return length


async def _requests(
    client: asyncio.StreamReader, server: asyncio.StreamWriter, delay: float
) -> None:
    """Pass each request on to the server, ``delay`` seconds after it arrived whole."""
    while True:
        try:
            head = await client.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return  # the client closed its connection
        body = await client.readexactly(_content_length(head))
        await asyncio.sleep(delay)
        server.write(head + body)
        await server.drain()


async def _answers(server: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
    """Relay the server's answers as they come."""
    while data := await server.read(CHUNK):
        client.write(data)
        await client.drain()


async def _connection(
    upstream: tuple[str, int],
    delay: float,
    client_in: asyncio.StreamReader,
    client_out: asyncio.StreamWriter,
) -> None:
    server_in, server_out = await asyncio.open_connection(*upstream)
    relays = [
        asyncio.create_task(_requests(client_in, server_out, delay)),
        asyncio.create_task(_answers(server_in, client_out)),
    ]
    try:
        # Either side closing ends the connection for both.
        await asyncio.wait(relays, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for relay in relays:
            relay.cancel()
        await asyncio.gather(*relays, return_exceptions=True)
        for writer in (server_out, client_out):
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _serve(upstream_url: str, delay: float) -> None:
    address = urlsplit(upstream_url)
    upstream = (address.hostname or "127.0.0.1", address.port or 80)

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await _connection(upstream, delay, reader, writer)

    server = await asyncio.start_server(connected, "127.0.0.1", 0, backlog=BACKLOG)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    # Serve until the parent closes our standard input (or goes away).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else DELAY))
