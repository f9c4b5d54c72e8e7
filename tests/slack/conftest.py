"""Fixtures for the Slack app: a fake Slack API, and a driver that signs requests as Slack.

Requests are signed with `slack_sdk`'s own signature code (HMAC-SHA256 over
`v0:timestamp:body` with the signing secret), exactly as Slack signs them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from ckad_api import create_app
from ckad_api.slack import init_app
from tests.conftest import _reset_pg, settings_for
from tests.slack import blockkit
from tests.slack.fakeslack import BOT_TOKEN, TEAM_ID, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture
def fake_slack(monkeypatch) -> Iterator[FakeSlack]:
    """A started fake Slack API; the test fails if a payload broke a Block Kit limit."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()
    assert not fake.errors, f"the fake Slack API failed: {fake.errors!r}"
    assert not fake.violations, f"Block Kit limits broken: {fake.violations}"


@pytest.fixture
def slack_settings() -> dict[str, Any]:
    """More settings for the Slack test app (a module may override this fixture)."""
    return {}


@pytest.fixture
def slack_app(database_url, clock, fake_slack, slack_settings):
    """The service with Slack configured, its Web API client pointed at the fake."""
    app = create_app(
        settings_for(
            database_url,
            slack_signing_secret=SIGNING_SECRET,
            slack_bot_token=BOT_TOKEN,
            **slack_settings,
        ),
        clock=clock,
    )
    services = app.extensions["ckad"]
    bolt = init_app(app, services, client=WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url))
    try:
        yield app
    finally:
        bolt.close()  # lazy listeners finish before the database goes
        reader = services.labs._cluster_reader
        if reader is not None:
            reader().close()
        if database_url.startswith("postgresql"):
            _reset_pg(app)
        services.engine.dispose()


@pytest.fixture
def slack(slack_app, fake_slack) -> SlackDriver:
    """Send Slack requests to the service as Slack would."""
    return SlackDriver(slack_app, fake_slack)


class SlackDriver:
    """Builds, signs and posts Slack's payloads; follows the app's answers on the fake."""

    def __init__(self, app, fake: FakeSlack):
        self.app = app
        self.fake = fake
        self.http = app.test_client()
        self.services = app.extensions["ckad"]

    # -- raw ------------------------------------------------------------------------------
    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        sign: bool = True,
    ):
        """POST /slack/events, signed like Slack unless told otherwise."""
        headers = {"Content-Type": content_type}
        if sign:
            ts = str(int(time.time()) if timestamp is None else timestamp)
            headers["X-Slack-Request-Timestamp"] = ts
            headers["X-Slack-Signature"] = signature or SignatureVerifier(
                SIGNING_SECRET
            ).generate_signature(timestamp=ts, body=body)
        return self.http.post("/slack/events", data=body.encode(), headers=headers)

    # -- slash commands -------------------------------------------------------------------
    def command_body(
        self, text: str, *, user: str = "U1", team: str = TEAM_ID, name: str = "ada"
    ) -> tuple[str, str]:
        """A `/ckad` form body as Slack posts it, and its response_url."""
        response_url = self.fake.response_url()
        form = {
            "token": "deprecated-verification-token",
            "team_id": team,
            "team_domain": "ckad",
            "channel_id": "C1",
            "channel_name": "study",
            "user_id": user,
            "user_name": name,
            "command": "/ckad",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"trigger-{uuid.uuid4().hex[:8]}",
        }
        return urlencode(form), response_url

    def command(self, text: str, **who: Any) -> dict[str, Any]:
        """`/ckad text`: the acknowledgement's JSON (checked against Block Kit's limits)."""
        body, response_url = self.command_body(text, **who)
        response = self.post(body, "application/x-www-form-urlencoded")
        assert response.status_code == 200, response.get_data(as_text=True)
        payload = response.get_json()
        assert not blockkit.problems(payload), blockkit.problems(payload)
        payload["_response_url"] = response_url
        return payload

    # -- interactivity --------------------------------------------------------------------
    def interaction(self, payload: dict[str, Any]):
        """An interactivity payload, form-encoded as Slack posts it."""
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    def press(
        self,
        message: dict[str, Any],
        label: str,
        *,
        user: str = "U1",
        team: str = TEAM_ID,
        picks: list[str] | None = None,
    ) -> str:
        """Press the button labelled `label` (prefix match) in `message`; the response_url."""
        block, element = find_button(message, label)
        response_url = self.fake.response_url()
        state: dict[str, Any] = {"values": {}}
        if picks is not None:
            state["values"][block.get("block_id", "b")] = {
                "ckad_picks": {
                    "type": "checkboxes",
                    "selected_options": [{"value": p} for p in picks],
                }
            }
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "ckad"},
            "user": {"id": user, "username": "ada", "name": "ada", "team_id": team},
            "api_app_id": "A1",
            "token": "deprecated-verification-token",
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
            "trigger_id": f"trigger-{uuid.uuid4().hex[:8]}",
            "channel": {"id": "C1", "name": "study"},
            "response_url": response_url,
            "state": state,
            "actions": [
                {
                    "type": element["type"],
                    "action_id": element["action_id"],
                    "block_id": block.get("block_id", "b"),
                    "text": element.get("text"),
                    "value": element.get("value"),
                    "action_ts": "1700000000.1",
                }
            ],
        }
        response = self.interaction(payload)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response_url

    def click(self, message: dict[str, Any], label: str, **kwargs: Any) -> dict[str, Any]:
        """Press a button and return the message the app posts back to its response_url."""
        url = self.press(message, label, **kwargs)
        return self.fake.wait_hook(url)

    def submit(self, view: dict[str, Any], text: str, *, user: str = "U1", team: str = TEAM_ID):
        """Submit the answer form `view` (as opened by views.open) with `text`."""
        payload = {
            "type": "view_submission",
            "team": {"id": team, "domain": "ckad"},
            "user": {"id": user, "username": "ada", "name": "ada", "team_id": team},
            "api_app_id": "A1",
            "token": "deprecated-verification-token",
            "trigger_id": "trigger-view",
            "view": {
                "id": "V1",
                "type": "modal",
                "team_id": team,
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "state": {
                    "values": {"answer": {"text": {"type": "plain_text_input", "value": text}}}
                },
            },
            "response_urls": [],
        }
        return self.interaction(payload)

    # -- events ---------------------------------------------------------------------------
    def event(self, event: dict[str, Any], *, team: str = TEAM_ID):
        """An Events API callback."""
        body = {
            "token": "deprecated-verification-token",
            "team_id": team,
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:8]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": "UB0T", "is_bot": True}],
        }
        return self.post(json.dumps(body), "application/json")

    # -- the database ---------------------------------------------------------------------
    def user(self, user: str = "U1", team: str = TEAM_ID):
        """The SlackUser (identity and learner) of a Slack user."""
        return self.services.slack.identify(team, user)

    def review_count(self, learner_id: int) -> int:
        with self.services.write_uow() as uow:
            return uow.reviews.count(learner_id)


def buttons(message: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (actions block, element) of a message."""
    return [
        (block, element)
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def labels(message: dict[str, Any]) -> list[str]:
    """The labels of a message's buttons."""
    return [e["text"]["text"] for _, e in buttons(message) if e["type"] == "button"]


def find_button(message: dict[str, Any], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The button whose label starts with `label` (a checkbox group is found as "picks")."""
    for block, element in buttons(message):
        if element["type"] == "button" and element["text"]["text"].startswith(label):
            return block, element
    raise AssertionError(f"no button {label!r} in {labels(message)}")


def text_of(message: dict[str, Any]) -> str:
    """Every text of a message's blocks, joined (for asserting on what the user reads)."""
    parts = []
    for block in message.get("blocks", []):
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if element.get("type") in ("mrkdwn", "plain_text"):
                parts.append(element["text"])
    return "\n".join(parts)
