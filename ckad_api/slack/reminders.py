"""Sending the daily reminder: a direct message with the due count and a Start button."""

from __future__ import annotations

from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient

from ..services.slack import ReminderJob
from . import blocks

# Errors raised before Slack received the request (connecting or sending failed): the
# message certainly did not leave, so the day's claim is given back for the next run.
NOT_SENT = (URLError,)


def sender(client: WebClient) -> Callable[[ReminderJob], None]:
    """A `send(job)` for `SlackService.remind` that messages the learner on Slack."""

    def send(job: ReminderJob) -> None:
        channel = client.conversations_open(users=job.user_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, **blocks.reminder(job.due, job.new))

    return send
