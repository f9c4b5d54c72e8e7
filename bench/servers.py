"""Start gunicorn on a free loopback port, wait until it answers, and always stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from .config import ROOT

HOST = "127.0.0.1"
READY_TIMEOUT = 60.0  # seconds from spawn to a 200 on the readiness path
STOP_TIMEOUT = 15.0  # seconds of graceful shutdown before SIGKILL


class ServerError(RuntimeError):
    """A server did not start or answer."""


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class GunicornServer:
    """One gunicorn master with `workers` sync workers serving `wsgi_app` on loopback."""

    def __init__(
        self,
        name: str,
        wsgi_app: str,
        ready_path: str,
        env: Mapping[str, str],
        workers: int,
        log_path: Path,
    ):
        self.name = name
        self.wsgi_app = wsgi_app
        self.ready_path = ready_path
        self.env = dict(env)
        self.workers = workers
        self.log_path = log_path
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The gunicorn master's process id, once started."""
        return None if self._proc is None else self._proc.pid

    def start(self) -> None:
        """Spawn gunicorn (the same flags `make run` uses, minus the access log)."""
        self.port = free_port()
        # No access log: writing a line per request would be measured as the service's cost.
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"{HOST}:{self.port}",
            "--graceful-timeout",
            "5",
            # gunicorn 27 opens ~/.gunicorn/gunicorn.ctl by default: two benchmark servers
            # (or a developer's `make run`) would take it from each other.
            "--no-control-socket",
            self.wsgi_app,
        ]
        log = self.log_path.open("wb")
        try:
            # Its own session, so a stuck worker can be killed with its master by group id.
            self._proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()  # the child holds its own descriptor

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll the readiness path until it answers 200; ServerError on exit or timeout."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise ServerError(f"{self.name}: gunicorn exited with {code}\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + self.ready_path, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise ServerError(
            f"{self.name}: {self.ready_path} not ready after {timeout:.0f}s ({last})\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM the master (it stops its workers), SIGKILL the group if it lingers."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # The group is the session this server was started in: only its own processes.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines gunicorn wrote, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(f"  | {line}" for line in text.splitlines()[-lines:])
