"""`POST /slack/events`: slash commands, interactivity and events on one URL."""

from __future__ import annotations

import flask

from ..http.errors import problem
from . import slack_app

blp = flask.Blueprint("slack", __name__)


@blp.post("/slack/events")
def events() -> flask.Response:
    """Hand the request to Bolt; its refusals come back as problem+json like every error."""
    bolt = slack_app()
    if bolt is None:
        return problem(
            404,
            "Not Found",
            "the Slack app is not configured on this service "
            "(set CKAD_SLACK_SIGNING_SECRET and CKAD_SLACK_BOT_TOKEN)",
            "not-found",
        )
    response = bolt.handle(flask.request)
    if response.status_code == 401:
        return problem(
            401,
            "Unauthorized",
            "the request's Slack signature is missing, wrong or older than five minutes",
            "slack-signature",
        )
    if response.status_code == 404:
        return problem(404, "Not Found", "no listener handles this Slack request", "not-found")
    return response
