"""A local fake of the Slack Web API and of `response_url` webhooks, for tests.

`slack_sdk`'s `WebClient(base_url=fake.api_url)` talks to it on 127.0.0.1 as it would to
slack.com: `POST /api/<method>` (JSON or form-encoded, or GET with a query), a bearer token
(an unknown one gets `{"ok": false, "error": "invalid_auth"}`), answers shaped as Slack's.
Payloads posted to `fake.response_url()` (what Slack puts in interaction payloads) are
recorded too. Every recorded payload is checked against Block Kit's limits; the fixture
fails the test on any violation or any failure of the fake itself.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakeserver import LoopbackFake, TrackedHandler
from tests.slack import blockkit

BOT_TOKEN = "xoxb-test-bot-token"
TEAM_ID = "T0CKAD"
BOT_USER = "UB0T"


@dataclasses.dataclass
class Call:
    """One request the fake received."""

    kind: str  # "api" or "hook"
    method: str  # the Web API method, or the hook id
    body: dict[str, Any]
    token: str | None


class FakeSlack(LoopbackFake):
    """The fake server: start(), then point clients at `api_url` and `response_url()`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.errors: list[BaseException] = []
        self.violations: list[str] = []
        self.faults: dict[str, str] = {}  # method -> Slack error code to answer with
        self.timezones: dict[str, str] = {}
        self._lock = threading.Condition()
        self._init_server()
        self._counter = 0

    # -- what the tests use ---------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """`WebClient(base_url=...)` for this fake (the trailing slash matters)."""
        return f"{self.url}/api/"

    def response_url(self) -> str:
        """A fresh `response_url` as Slack puts in a command or an interaction payload."""
        return f"{self.url}/hooks/{uuid.uuid4().hex}"

    def api(self, method: str) -> list[dict[str, Any]]:
        """Bodies of the Web API calls of `method` so far."""
        with self._lock:
            return [c.body for c in self.calls if c.kind == "api" and c.method == method]

    def hooks(self, url: str | None = None) -> list[dict[str, Any]]:
        """Payloads posted to response URLs (all, or the one `url`)."""
        hook = url.rsplit("/", 1)[-1] if url else None
        with self._lock:
            return [
                c.body
                for c in self.calls
                if c.kind == "hook" and (hook is None or c.method == hook)
            ]

    def wait(self, predicate, timeout: float = 10.0) -> Any:
        """Block until `predicate()` is truthy (each request wakes it); fail after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the fake Slack API did not receive it in {timeout}s")
                self._lock.wait(left)

    def wait_hook(self, url: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """The `count`-th payload posted to `url`, waiting for it."""
        return self.wait(
            lambda: len(self.hooks(url)) >= count and self.hooks(url)[count - 1], timeout
        )

    def fail(self, method: str, error: str) -> None:
        """Answer `method` with `{"ok": false, "error": error}` from now on."""
        self.faults[method] = error

    def reset(self) -> None:
        """Forget the calls so far."""
        with self._lock:
            self.calls.clear()

    thread_name = "fake-slack"

    # -- answers --------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        found = [
            f"{call.method}: {p}"
            for payload in _payloads(call.body)
            for p in blockkit.problems(payload)
        ]
        with self._lock:
            self.violations += found
            self.calls.append(call)
            self._lock.notify_all()

    def _api(self, method: str, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        self._record(Call("api", method, body, token))
        if token != BOT_TOKEN:
            return {"ok": False, "error": "invalid_auth"}
        if method in self.faults:
            return {"ok": False, "error": self.faults[method]}
        with self._lock:
            self._counter += 1
            ts = f"1700000000.{self._counter:06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://ckad.slack.com/",
                "team": "CKAD",
                "user": "ckad-tutor",
                "team_id": TEAM_ID,
                "user_id": BOT_USER,
                "bot_id": "B0T",
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": body}
        if method == "conversations.open":
            user = str(body.get("users", "")).split(",")[0]
            return {"ok": True, "channel": {"id": "D" + user.lstrip("U")}}
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{self._counter}", **(body.get("view") or {})}}
        if method == "users.info":
            user = body.get("user")
            return {"ok": True, "user": {"id": user, "tz": self.timezones.get(user, "UTC")}}
        return {"ok": True}


def _payloads(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The Block Kit payloads in a request: the message itself, or a view."""
    found = []
    blocks = body.get("blocks")
    if isinstance(blocks, str):
        body = {**body, "blocks": json.loads(blocks)}
    if "blocks" in body:
        found.append(body)
    view = body.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    if isinstance(view, dict):
        found.append(view)
    return found


class _Handler(TrackedHandler):
    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        try:
            body = _body(raw, self.headers.get("Content-Type", ""), parts.query)
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() or body.get("token")
            if parts.path.startswith("/api/"):
                status, answer = 200, fake._api(parts.path[len("/api/") :], body, token)
            elif parts.path.startswith("/hooks/"):
                fake._record(Call("hook", parts.path.rsplit("/", 1)[-1], body, None))
                status, answer = 200, "ok"
            else:
                status, answer = 404, "not found"
        except Exception as exc:  # noqa: BLE001 - a bug in the fake: answer, keep it for asserts
            fake.errors.append(exc)
            status, answer = 500, {"ok": False, "error": f"the fake failed: {exc!r}"}
        payload = (json.dumps(answer) if isinstance(answer, dict) else answer).encode()
        try:
            self.send_response(status)
            kind = "application/json" if isinstance(answer, dict) else "text/plain"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Calls are recorded on the fake; nothing goes to stderr."""


FakeSlack.handler = _Handler


def _body(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        return json.loads(raw or b"{}")
    values = parse_qs(raw.decode() if raw else query, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in values.items()}
