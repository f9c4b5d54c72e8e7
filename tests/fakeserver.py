"""The loopback HTTP server the test fakes (Kubernetes API, Slack API) are built on.

It serves in a thread on an ephemeral port of 127.0.0.1, tracks open keep-alive
connections, and on `stop()` cuts them and joins every thread, so a test leaves no thread
or socket behind (pytest runs with warnings as errors).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TrackedServer(ThreadingHTTPServer):
    """A threaded server whose handler threads are joined when it closes."""

    daemon_threads = False  # handler threads are joined by server_close()
    block_on_close = True
    fake: Any

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (timeout) or a stop mid-answer is expected: stay quiet."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class TrackedHandler(BaseHTTPRequestHandler):
    """Registers its connection with the fake so `stop()` can cut it."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real servers
    server: TrackedServer

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()


class LoopbackFake:
    """Start, stop and address of a fake; subclasses set `handler` and `thread_name`,
    create `_lock`, and call `_init_server()` in their constructor."""

    handler: type[TrackedHandler]
    thread_name = "fake-server"
    _lock: Any

    def _init_server(self) -> None:
        self._server: TrackedServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        assert self.port is not None, "the fake is not started"
        return f"http://127.0.0.1:{self.port}"

    def _on_start(self) -> None:
        """Hook: runs before the server starts."""

    def _on_stop(self) -> None:
        """Hook: runs before the server shuts down (wake handlers that wait)."""

    def start(self):
        """Listen on an ephemeral port of 127.0.0.1 and serve in a thread."""
        if self._server is not None:
            return self
        self._on_start()
        server = TrackedServer(("127.0.0.1", 0), self.handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=self.thread_name
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections, join every thread and close the socket."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self._on_stop()
        server.shutdown()
        if thread is not None:
            thread.join()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # unblocks handlers waiting on keep-alive
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()  # joins the handler threads (daemon_threads is off)
