"""The sandbox's HTTP/1.1 request handler: keep-alive connections, one write per response.

Werkzeug's development server answers every request with ``Connection: close`` (it cannot tell where
an unread body ends), so an SDK client pays a new TCP connection and a new server thread per call. The
sandbox's guards read every body before any handler runs (``guards.BODY_READ`` marks that), so here a
connection stays open for the next request unless the body was left unread (a refusal, a body over
the cap), the client asked to close, or the application said ``Connection: close``. Headers and body
leave in one buffered write with ``TCP_NODELAY``, so a kept-alive connection never waits on a delayed
ACK. ``OpenConnections`` lets ``Sandbox.stop()`` end idle kept-alive connections at once.

A request's arrival, from which the injected latency is counted, is when the kernel received its bytes
(``SO_TIMESTAMPNS``, Linux), not when a handler thread got round to reading them: the wait for a thread
to be scheduled and to get the interpreter is the service's own time, inside its response time.
"""

from __future__ import annotations

import contextlib
import io
import logging
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from bedrock_rft_provider.sandbox.guards import ARRIVED, BODY_READ

log = logging.getLogger(__name__)

_DROPPED = (ConnectionError, socket.timeout)
_WRITE_BUFFER = 1 << 16
_INTERNAL_ERROR = b'{"message": "bedrock-rft sandbox: internal server error"}'
# Linux's SO_TIMESTAMPNS (the socket module does not name it): each read reports, as ancillary data,
# the wall-clock time (seconds, nanoseconds) at which the kernel received the last bytes it returns.
_SO_TIMESTAMPNS = 35
_TIMESTAMP = struct.Struct("@ll")  # struct timespec: time_t seconds, long nanoseconds
_ANCILLARY_SPACE = socket.CMSG_SPACE(_TIMESTAMP.size) if hasattr(socket, "CMSG_SPACE") else 0


class _StampedReader(io.RawIOBase):
    """A connection's reads, noting when the kernel received the bytes last read (wall clock)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.received: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.received = None  # never a stale stamp: a read without one falls back to the reading time
        size, ancillary, _, _ = self._sock.recvmsg_into([buffer], _ANCILLARY_SPACE)
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESTAMP.size:
                seconds, nanoseconds = _TIMESTAMP.unpack_from(data)
                self.received = seconds + nanoseconds / 1e9
        return int(size)


class OpenConnections:
    """The sockets of connections being served, so that stopping the server can end them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def close_all(self) -> None:
        """Shut every open connection down: a thread waiting for a next request sees EOF and ends."""
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)


def stamp_arrivals(sock: socket.socket) -> bool:
    """Have the kernel stamp the time it receives each packet on ``sock`` (Linux); False if it cannot.

    Set on the listening socket too, so that a connection's first request, which may be in before its
    handler thread starts, is stamped as well (accepted sockets inherit the option).
    """
    if not (sys.platform.startswith("linux") and _ANCILLARY_SPACE):
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def handler_class(read_timeout_s: float, connections: OpenConnections) -> type[Any]:
    """A request handler class for ``werkzeug.serving.make_server`` with this socket timeout."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class KeepAliveHandler(MotoRequestHandler):
        protocol_version = "HTTP/1.1"
        # Socket timeout for every read and write, the wait for a next request included: a client that
        # connects and goes quiet (half-open, or a body that never arrives) is dropped after it.
        timeout = read_timeout_s
        wbufsize = _WRITE_BUFFER
        disable_nagle_algorithm = True

        arrived: float | None = None
        _stamps: _StampedReader | None = None

        def setup(self) -> None:
            super().setup()
            connections.add(self.connection)
            if stamp_arrivals(self.connection):
                self._stamps = _StampedReader(self.connection)
                self.rfile.close()
                self.rfile = io.BufferedReader(self._stamps)

        def parse_request(self) -> bool:
            # The request line is in: the service's response time started when its bytes reached the
            # kernel, so the wait for this thread and the interpreter, and header parsing, count towards
            # the injected latency instead of adding to it (as a remote service's own work does).
            now = time.monotonic()
            received = self._stamps.received if self._stamps is not None else None
            self.arrived = now if received is None else min(now, now - (time.time() - received))
            return bool(super().parse_request())

        def finish(self) -> None:
            connections.discard(self.connection)
            with contextlib.suppress(OSError):  # the client went away with bytes still buffered for it
                super().finish()

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            log.debug("%s %s", self.requestline, code)

        def log_error(self, format: str, *args: Any) -> None:
            log.debug("sandbox connection: " + format, *args)

        def run_wsgi(self) -> None:
            serve(self)

    return KeepAliveHandler


def serve(handler: Any) -> None:
    """Answer the request ``handler`` has parsed with its server's WSGI application."""
    if handler.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
        handler.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        handler.wfile.flush()
    handler.environ = environ = handler.make_environ()
    if handler.arrived is not None:
        environ[ARRIVED] = handler.arrived
    response = _Response(handler, environ)
    try:
        body = handler.server.app(environ, response.start)
        try:
            response.send(body)
        finally:
            close: Callable[[], None] | None = getattr(body, "close", None)
            if close is not None:
                close()
    except _DROPPED:
        handler.close_connection = True
        return
    except Exception:
        log.exception("sandbox: unhandled error answering %s", handler.requestline)
        handler.close_connection = True
        if response.sent:
            return
        response.start("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")])
        response.send([_INTERNAL_ERROR])
    if not environ.get(BODY_READ):
        handler.close_connection = True
        _drain(handler)


class _Response:
    """WSGI ``start_response``/``write`` for one request; chunked only when there is no length."""

    def __init__(self, handler: Any, environ: dict[str, Any]) -> None:
        self.handler = handler
        self.environ = environ
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.sent = False
        self.chunked = False

    def start(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., None]:
        if exc_info is not None and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self.write

    def send(self, body: Iterable[bytes]) -> None:
        for data in body:
            self.write(data)
        if not self.sent:
            self.write(b"")
        if self.chunked:
            self.handler.wfile.write(b"0\r\n\r\n")
        self.handler.wfile.flush()

    def write(self, data: bytes) -> None:
        handler = self.handler
        if not self.sent:
            self.sent = True
            code, _, reason = self.status.partition(" ")
            handler.send_response(int(code), reason)
            names = set()
            for name, value in self.headers:
                handler.send_header(name, value)  # "Connection: close" here ends the connection
                names.add(name.lower())
            self.chunked = not (
                "content-length" in names
                or self.environ["REQUEST_METHOD"] == "HEAD"
                or int(code) < 200
                or int(code) in (204, 304)
            )
            if self.chunked:
                handler.send_header("Transfer-Encoding", "chunked")
            # Say so when this answer ends the connection: the client asked, or the body went unread.
            closing = handler.close_connection or not self.environ.get(BODY_READ)
            if closing and "connection" not in names:
                handler.send_header("Connection", "close")
            handler.end_headers()
        if data:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data)
            handler.wfile.flush()  # a streamed answer goes out piece by piece


def _drain(handler: Any) -> None:
    """Read what is left of an unread body before closing, so the client gets the answer, not a reset."""
    total = 0
    with selectors.DefaultSelector() as selector:
        selector.register(handler.connection, selectors.EVENT_READ)
        # Bounded: 10 ms without data ends it, and at most 10 MB is read.
        while total < 10_000_000 and selector.select(timeout=0.01):
            try:
                data = handler.rfile.read1(1 << 20)
            except OSError:
                return
            if not data:
                return
            total += len(data)
