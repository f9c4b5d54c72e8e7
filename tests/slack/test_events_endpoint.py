"""`POST /slack/events`: Slack's signature check, and 404 without Slack settings."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from ckad_api.adapters.orm import LearnerRow, SlackIdentityRow
from tests.slack.conftest import SIGNING_SECRET


def learner_count(services) -> int:
    with services.write_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(LearnerRow))


def identity_count(services) -> int:
    with services.write_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(SlackIdentityRow))


def test_a_signed_command_is_answered(slack):
    ack = slack.command("help")
    assert ack["response_type"] == "ephemeral" and "/ckad quiz" in ack["blocks"][0]["text"]["text"]


def assert_refused(response):
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401 and "signature" in body["detail"]


def test_wrong_missing_and_stale_signatures_get_401_and_change_nothing(slack, fake_slack):
    body, _ = slack.command_body("ask what is a pod")
    before = learner_count(slack.services)
    now = int(time.time())
    # a signature made with another secret
    from slack_sdk.signature import SignatureVerifier

    forged = SignatureVerifier("not-" + SIGNING_SECRET).generate_signature(
        timestamp=str(now), body=body
    )
    assert_refused(slack.post(body, "application/x-www-form-urlencoded", signature=forged))
    # the right signature over a different body (tampered in transit)
    good = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=str(now), body=body)
    assert_refused(
        slack.post(body.replace("pod", "node"), "application/x-www-form-urlencoded", signature=good)
    )
    # no signature headers at all
    assert_refused(slack.post(body, "application/x-www-form-urlencoded", sign=False))
    # signed correctly, but 5 minutes and a second ago (replay)
    assert_refused(slack.post(body, "application/x-www-form-urlencoded", timestamp=now - 301))
    # and a timestamp from the future is no better
    assert_refused(slack.post(body, "application/x-www-form-urlencoded", timestamp=now + 301))
    assert learner_count(slack.services) == before
    assert identity_count(slack.services) == 0
    assert fake_slack.calls == []  # not even auth.test: nothing got past the check
    # a correctly signed request just inside the window is fine
    ok = slack.post(body, "application/x-www-form-urlencoded", timestamp=now - 290)
    assert ok.status_code == 200 and identity_count(slack.services) == 1


def test_events_url_verification_is_answered(slack):
    body = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aB", "token": "x"})
    response = slack.post(body, "application/json")
    assert response.status_code == 200 and response.get_json() == {"challenge": "3eZbrw1aB"}
    assert_refused(slack.post(body, "application/json", sign=False))


def test_without_slack_settings_the_route_answers_404(client):
    response = client.post("/slack/events", data="payload=%7B%7D")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "CKAD_SLACK_SIGNING_SECRET" in response.get_json()["detail"]
    assert client.get("/healthz").status_code == 200  # the service still runs
