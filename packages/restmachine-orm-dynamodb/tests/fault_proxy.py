"""A small HTTP proxy in front of the DynamoDB server that can cut answers off or slow them.

Requests always reach the server; what the proxy can do is lose the answer on the way
back, after the server applied the request, as a flaky network or a crashed load balancer
would: close the connection after the head and half the body of the answer (``"cut"``), or
before its first byte (``"silence"``). It can also hold answers back for a while (``slow``),
as a distant server would, so that a test can act while a request is in flight. Faults are
chosen per DynamoDB operation (the request's ``X-Amz-Target``).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import urlsplit


def _read_message(reader: BinaryIO) -> bytes | None:
    """One HTTP/1.1 message (head and Content-Length body), or None at end of stream."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = reader.read(length) if length else b""
    return head + body


def _target(request: bytes) -> str:
    for line in request.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-amz-target":
            return value.strip().decode().rsplit(".", 1)[-1]
    return ""


@dataclass
class FaultProxy:
    """Relays HTTP to ``upstream``; answers of chosen operations are cut off mid-way.

    Attributes:
        upstream: The real server's endpoint URL.
        drops: Operation name to the modes of its next answers to cut off, in order.
        forwarded: How many requests of each operation reached the server.
        dropped: How many answers of each operation were cut off.
        delays: Operation name to the seconds its answers are held back.
    """

    upstream: str
    drops: dict[str, list[str]] = field(default_factory=dict)
    forwarded: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    delays: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._relay(self.rfile, self.wfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def drop(self, operation: str, mode: str = "cut", times: int = 1) -> None:
        """Lose the next ``times`` answers to ``operation`` requests (``"cut"``, ``"silence"``)."""
        with self._lock:
            self.drops.setdefault(operation, []).extend([mode] * times)

    def slow(self, operation: str, seconds: float) -> None:
        """Hold every answer to ``operation`` back ``seconds`` (the server has applied it)."""
        with self._lock:
            self.delays[operation] = seconds

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _fault(self, operation: str) -> str | None:
        with self._lock:
            self.forwarded[operation] += 1
            pending = self.drops.get(operation)
            if not pending:
                return None
            self.dropped[operation] += 1
            return pending.pop(0)

    def _relay(self, client_in: BinaryIO, client_out: BinaryIO) -> None:
        address = urlsplit(self.upstream)
        with socket.create_connection((address.hostname, address.port)) as upstream:
            server_in = upstream.makefile("rb")
            while True:
                request = _read_message(client_in)
                if request is None:
                    return
                upstream.sendall(request)
                response = _read_message(server_in)
                if response is None:
                    return
                operation = _target(request)
                fault = self._fault(operation)
                time.sleep(self.delays.get(operation, 0.0))
                if fault is not None:
                    # The server has applied the request; the client never learns how it went.
                    head = response.index(b"\r\n\r\n") + 4
                    cut = head + (len(response) - head) // 2 if fault == "cut" else 0
                    client_out.write(response[:cut])
                    client_out.flush()
                    return
                client_out.write(response)
                client_out.flush()
