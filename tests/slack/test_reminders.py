"""Daily reminders: `/ckad remind`, `flask slack remind`, at most one message a local day."""

from __future__ import annotations

import datetime as dt
import threading
from urllib.error import URLError

import pytest

from ckad_api.slack import reminders
from tests.conftest import Api
from tests.slack.conftest import labels, text_of

PARIS_0831 = dt.datetime(2027, 1, 12, 7, 31, tzinfo=dt.UTC)  # 08:31 in Paris (CET)


@pytest.fixture
def opted_in(slack, fake_slack, clock):
    """U1, in Paris on Slack, asked for reminders at 08:30."""
    clock.set(PARIS_0831 - dt.timedelta(hours=3))
    fake_slack.timezones["U1"] = "Europe/Paris"
    ack = slack.command("remind on 8:30")
    assert "Daily reminders are on" in text_of(ack)
    assert "*08:30* (Europe/Paris)" in text_of(ack)
    assert [c["user"] for c in fake_slack.api("users.info")] == ["U1"]
    fake_slack.reset()
    return slack.user()


def run(slack, *args: str):
    result = slack.app.test_cli_runner().invoke(args=["slack", "remind", *args])
    return result.exit_code, result.output


def sends(slack, learner_id):
    with slack.services.write_uow() as uow:
        return uow.slack.sends(learner_id)


def test_the_reminder_is_sent_at_the_local_time_once_a_day(slack, fake_slack, clock, opted_in):
    clock.set(PARIS_0831 - dt.timedelta(minutes=2))  # 08:29 in Paris
    assert run(slack) == (0, "sent 0, nothing due 0, failed 0, already done today 0\n")
    assert fake_slack.calls == []
    clock.set(PARIS_0831)
    assert run(slack)[1].startswith("sent 1,")
    assert fake_slack.api("conversations.open") == [{"users": "U1"}]
    message = fake_slack.api("chat.postMessage")[0]
    assert message["channel"] == "D1"
    assert "*7* new cards today" in text_of(message)
    assert labels(message) == ["Start"]
    # a second run the same day (or one overlapping it) sends nothing
    clock.advance(minutes=5)
    assert run(slack)[1] == "sent 0, nothing due 0, failed 0, already done today 1\n"
    assert len(fake_slack.api("chat.postMessage")) == 1
    # the next day it is sent again; too long after the chosen time it is not
    clock.advance(days=1)
    assert run(slack)[1].startswith("sent 1,")
    clock.advance(days=1, hours=4)  # 12:36: outside the 3-hour window
    assert run(slack)[1].startswith("sent 0,")
    assert run(slack, "--window", "300")[1].startswith("sent 1,")
    assert [s.status for s in sends(slack, opted_in.learner.id)] == ["sent", "sent", "sent"]


def test_remind_off_stops_it_and_nothing_due_sends_nothing(slack, fake_slack, clock, opted_in):
    ack = slack.command("remind off")
    assert "reminders are off" in text_of(ack)
    clock.set(PARIS_0831)
    assert run(slack)[1].startswith("sent 0,")
    slack.command("remind on")  # keeps 08:30
    slack.services.accounts.update_settings(opted_in.learner, {"new_cards_per_day": 0}, None)
    assert run(slack)[1] == "sent 0, nothing due 1, failed 0, already done today 0\n"
    assert fake_slack.api("chat.postMessage") == []
    assert [s.status for s in sends(slack, opted_in.learner.id)] == ["skipped"]


def test_overlapping_runs_send_once(slack, fake_slack, clock, opted_in):
    clock.set(PARIS_0831)
    sent = []
    inside, finish = threading.Event(), threading.Event()
    real = reminders.sender(slack.app.extensions["ckad_slack"].client)

    def slow_send(job):
        inside.set()
        assert finish.wait(10)  # the second run happens while this one is sending
        real(job)
        sent.append(job)

    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault("first", slack.services.slack.remind(slow_send))
    )
    first.start()
    assert inside.wait(10)
    results["second"] = slack.services.slack.remind(real)
    finish.set()
    first.join(10)
    assert results["first"]["sent"] == 1
    assert results["second"] == {"sent": 0, "skipped": 0, "failed": 0, "already": 1}
    assert len(fake_slack.api("chat.postMessage")) == 1
    # the database itself refuses a second row for the learner and day
    with slack.services.write_uow() as uow:
        assert uow.slack.claim_send(opted_in.learner.id, dt.date(2027, 1, 12), clock.now()) is None


def test_a_slack_error_is_recorded_and_not_retried(slack, fake_slack, clock, opted_in):
    clock.set(PARIS_0831)
    fake_slack.fail("chat.postMessage", "channel_not_found")
    code, output = run(slack)
    assert code == 1 and output.startswith("sent 0, nothing due 0, failed 1")
    [row] = sends(slack, opted_in.learner.id)
    assert row.status == "failed" and "channel_not_found" in row.detail
    fake_slack.faults.clear()
    assert run(slack)[1].endswith("already done today 1\n")


def test_a_send_that_never_left_is_retried_by_the_next_run(slack, fake_slack, clock, opted_in):
    clock.set(PARIS_0831)

    def unreachable(job):
        raise URLError(ConnectionRefusedError(111, "Connection refused"))

    counts = slack.services.slack.remind(unreachable, retryable=reminders.NOT_SENT)
    assert counts["failed"] == 1 and sends(slack, opted_in.learner.id) == []
    assert run(slack)[1].startswith("sent 1,")


def test_start_turns_the_reminder_into_a_quiz(slack, fake_slack, clock, opted_in):
    clock.set(PARIS_0831)
    run(slack)
    message = fake_slack.api("chat.postMessage")[0]
    quiz = slack.click(message, "Start")
    assert quiz["replace_original"] is True
    assert "*Question 1 of 5*" in text_of(quiz) and "Quiz time" in text_of(quiz)


def test_without_slack_the_command_says_so(app):
    result = app.test_cli_runner().invoke(args=["slack", "remind"])
    assert result.exit_code == 2 and "Slack is not configured" in result.output


def test_reminder_settings_through_the_api(slack, fake_slack, clock):
    web = Api(slack.http).auth("ada")
    get = slack.http.get("/api/v1/me/reminders", headers=web)
    assert get.get_json() == {
        "enabled": False,
        "time": "09:00",
        "timezone": "UTC",
        "slack_linked": False,
    }
    refused = slack.http.patch("/api/v1/me/reminders", headers=web, json={"enabled": True})
    assert refused.status_code == 409 and "link your Slack account" in refused.get_json()["detail"]
    code = slack.http.post("/api/v1/me/slack-link-code", headers=web).get_json()["code"]
    slack.command(f"link {code}")
    changed = slack.http.patch(
        "/api/v1/me/reminders",
        headers=web,
        json={"enabled": True, "time": "7:45", "timezone": "America/New_York"},
    )
    assert changed.status_code == 200
    assert changed.get_json() == {
        "enabled": True,
        "time": "07:45",
        "timezone": "America/New_York",
        "slack_linked": True,
    }
    for bad in ({"time": "7h45"}, {"timezone": "Mars/Olympus"}, {"enabled": "yes"}, {"x": 1}):
        response = slack.http.patch("/api/v1/me/reminders", headers=web, json=bad)
        assert response.status_code == 400, bad
    # 07:45 in New York on that day is 12:45 UTC
    clock.set(dt.datetime(2027, 1, 12, 12, 46, tzinfo=dt.UTC))
    assert run(slack)[1].startswith("sent 1,")
    assert fake_slack.api("conversations.open") == [{"users": "U1"}]
    ada = slack.user().learner
    assert [(s.status, s.local_date) for s in sends(slack, ada.id)] == [
        ("sent", dt.date(2027, 1, 12))
    ]
