"""The Slack app: a Bolt app mounted on the service at `POST /slack/events`.

`init_app` builds it when `CKAD_SLACK_SIGNING_SECRET` and `CKAD_SLACK_BOT_TOKEN` are set;
without them the route answers 404 and the rest of the service runs as before.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from . import listeners

EXTENSION = "ckad_slack"


class SlackApp:
    """The Bolt app, its Flask adapter, its Web API client and the lazy listeners' threads."""

    def __init__(
        self,
        services: Any,
        *,
        signing_secret: str,
        client: WebClient,
        executor: ThreadPoolExecutor | None = None,
    ):
        self.client = client
        self.executor = executor or ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack")
        self.bolt = App(
            name="ckad-tutor",
            signing_secret=signing_secret,
            client=client,
            # auth.test runs on the first request instead of at start-up: a worker or a CLI
            # command never waits for Slack just to start.
            token_verification_enabled=False,
            # The acknowledgement carries the reply (quick commands answer in it); long work
            # goes to lazy listeners, which run on `executor` after the response.
            process_before_response=True,
            listener_executor=self.executor,
        )
        listeners.register(self.bolt, services)
        self.handler = SlackRequestHandler(self.bolt)

    def handle(self, request: flask.Request) -> flask.Response:
        """Verify (Bolt's signature check) and dispatch one request from Slack."""
        return self.handler.handle(request)

    def close(self) -> None:
        """Wait for lazy listeners still running and stop their threads."""
        self.executor.shutdown(wait=True)


def init_app(
    app: flask.Flask,
    services: Any,
    *,
    client: WebClient | None = None,
    executor: ThreadPoolExecutor | None = None,
) -> SlackApp | None:
    """Build the Slack app for `app` (or None without Slack settings) and register it.

    `client` replaces the Web API client (tests point one at a fake Slack API).
    """
    previous = app.extensions.get(EXTENSION)
    if previous is not None:
        previous.close()
    settings = services.settings
    slack_app = None
    if settings.slack_signing_secret and settings.slack_bot_token:
        slack_app = SlackApp(
            services,
            signing_secret=settings.slack_signing_secret,
            client=client or WebClient(token=settings.slack_bot_token),
            executor=executor,
        )
    app.extensions[EXTENSION] = slack_app
    return slack_app


def slack_app(app: flask.Flask | None = None) -> SlackApp | None:
    """The app's Slack app, or None when Slack is not configured."""
    return (app or flask.current_app).extensions.get(EXTENSION)
