"""Linking a Slack user to a web account with a one-time code, and merging the histories."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select

from ckad_api.adapters.orm import (
    CardRow,
    ConversationRow,
    LabAttemptRow,
    LearnerRow,
    ReviewLogRow,
    SlackLinkCodeRow,
)
from ckad_api.adapters.repositories import SqlLearnerMergeRepository
from ckad_api.services.slack import hash_code
from tests.conftest import FIXTURE_CONTENT, Api
from tests.slack.conftest import text_of

SOLUTION = (FIXTURE_CONTENT / "labs" / "web" / "solution.yaml").read_text()


@pytest.fixture
def web(slack):
    """A web learner `ada` and their auth header."""
    return Api(slack.http).auth("ada")


def link_code(slack, headers) -> str:
    response = slack.http.post("/api/v1/me/slack-link-code", headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["code"]


def answer_on_web(slack, headers, question_id, answer):
    version = 0
    card = slack.http.get("/api/v1/reviews/due?limit=50", headers=headers).get_json()
    for item in card["items"]:
        if item["question"]["id"] == question_id:
            version = item["card"]["version"]
    response = slack.http.post(
        f"/api/v1/reviews/{question_id}/answer",
        headers=headers,
        json={"answer": answer, "version": version},
    )
    assert response.status_code == 200, response.get_json()


def rows(slack, model, **where):
    with slack.services.write_uow() as uow:
        stmt = select(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return list(uow.session.scalars(stmt))


def test_the_code_route(slack, web, clock):
    response = slack.http.post("/api/v1/me/slack-link-code", headers=web)
    assert response.status_code == 201
    body = response.get_json()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", body["code"])
    assert body["command"] == f"/ckad link {body['code']}"
    assert body["expires_in"] == 900
    # only its hash is stored
    stored = rows(slack, SlackLinkCodeRow)
    assert [r.code_hash for r in stored] == [hash_code(body["code"])]
    assert stored[0].code_hash == hashlib.sha256(body["code"].replace("-", "").encode()).hexdigest()
    assert slack.http.post("/api/v1/me/slack-link-code").status_code == 401


def test_linking_merges_the_slack_history_without_losing_a_review(slack, web, clock):
    start = clock.now()
    # In Slack (a Slack-only learner): q1 right (the most recent review of q1), q2.
    slack_user = slack.user()
    clock.set(start + dt.timedelta(hours=1))
    first = slack.command("quiz 2")
    second = slack.click(slack.click(first, "b) readiness"), "Next question ▶")
    assert "*Question 2 of 2*" in text_of(second)
    slack.click(second, "Skip")
    slack.services.labs.verify(slack_user.learner, "web", "manifests", manifests=SOLUTION)
    # On the web, earlier: q1 wrong, and q3.
    clock.set(start)
    answer_on_web(slack, web, "basics-probe-traffic", 0)
    answer_on_web(slack, web, "basics-probe-kinds", [0, 1, 2])
    clock.set(start + dt.timedelta(hours=2))

    code = link_code(slack, web)
    ack = slack.command(f"link {code.lower().replace('-', ' ')}")  # case and dash do not matter
    assert "✅ Linked" in text_of(ack) and "*ada*" in text_of(ack)
    assert "Merged 1 card(s), 1 review(s) and 1 lab attempt(s)" in text_of(ack)

    ada = rows(slack, LearnerRow, username="ada")[0]
    assert rows(slack, LearnerRow, id=slack_user.learner.id) == []  # the Slack-only account
    cards = {c.question_id: c for c in rows(slack, CardRow, learner_id=ada.id)}
    assert set(cards) == {"basics-probe-traffic", "basics-probe-kinds"}
    # both had q1: Slack's review was the most recent, so Slack's card is kept
    assert cards["basics-probe-traffic"].last_review == start + dt.timedelta(hours=1)
    assert cards["basics-probe-traffic"].version == 2  # past both versions (1 and 1)
    logs = rows(slack, ReviewLogRow, learner_id=ada.id)
    assert len(logs) == 3  # two on the web, one in Slack: none lost
    assert {log.card_id for log in logs} <= {c.id for c in cards.values()}
    for log in logs:
        assert cards[log.question_id].id == log.card_id
    assert [a.learner_id for a in rows(slack, LabAttemptRow)] == [ada.id]
    assert {c.learner_id for c in rows(slack, ConversationRow)} == {ada.id}
    history = slack.http.get("/api/v1/reviews/history", headers=web).get_json()["items"]
    assert len(history) == 3
    # Slack now acts as ada, and the Slack conversation carries on
    assert slack.user().learner.id == ada.id
    assert "card(s) due" in text_of(slack.command("due"))


def test_where_the_web_card_is_newer_it_is_kept_and_slack_logs_move_to_it(slack, web, clock):
    start = clock.now()
    slack_user = slack.user()
    slack.click(slack.command("quiz 1"), "a) liveness")  # wrong, in Slack, first
    clock.set(start + dt.timedelta(hours=1))
    answer_on_web(slack, web, "basics-probe-traffic", 1)  # right, on the web, later
    web_card = rows(slack, CardRow, question_id="basics-probe-traffic")
    web_card = next(c for c in web_card if c.learner_id != slack_user.learner.id)
    slack.command(f"link {link_code(slack, web)}")
    cards = rows(slack, CardRow, question_id="basics-probe-traffic")
    assert [c.id for c in cards] == [web_card.id]
    assert cards[0].last_review == start + dt.timedelta(hours=1)
    logs = rows(slack, ReviewLogRow, question_id="basics-probe-traffic")
    assert len(logs) == 2 and {log.card_id for log in logs} == {web_card.id}
    assert [log.correct for log in sorted(logs, key=lambda log: log.id)] == [False, True]


def test_codes_are_single_use_expire_and_replace_each_other(slack, web, clock, fake_slack):
    slack.command("due")
    old = link_code(slack, web)
    code = link_code(slack, web)
    assert "wrong, expired or already used" in text_of(slack.command(f"link {old}"))
    assert "not a link code" in text_of(slack.command("link 1234"))
    assert "wrong, expired" in text_of(slack.command("link ABCD-EFGH"))
    clock.advance(minutes=16)
    assert "wrong, expired" in text_of(slack.command(f"link {code}"))
    fresh = link_code(slack, web)
    assert "✅ Linked" in text_of(slack.command(f"link {fresh}"))
    assert "wrong, expired or already used" in text_of(slack.command(f"link {fresh}", user="U2"))
    # linking the same account again is harmless; another account is refused
    assert "✅ Linked" in text_of(slack.command(f"link {link_code(slack, web)}"))
    bob = Api(slack.http).auth("bob")
    refused = slack.command(f"link {link_code(slack, bob)}")
    assert "already linked to another account" in text_of(refused)
    assert slack.user().learner.username == "ada"


def test_a_failed_merge_changes_nothing(slack, web, monkeypatch):
    slack_user = slack.user()
    slack.click(slack.command("quiz 1"), "b) readiness")
    code = link_code(slack, web)
    original = SqlLearnerMergeRepository.merge

    def merge_then_fail(self, source_id, target_id, now):
        original(self, source_id, target_id, now)
        raise RuntimeError("the database went away mid-merge")

    monkeypatch.setattr(SqlLearnerMergeRepository, "merge", merge_then_fail)
    with pytest.raises(RuntimeError):
        slack.services.slack.link(slack_user, code)
    monkeypatch.setattr(SqlLearnerMergeRepository, "merge", original)
    assert rows(slack, LearnerRow, id=slack_user.learner.id)
    assert [c.learner_id for c in rows(slack, CardRow)] == [slack_user.learner.id]
    assert slack.user().learner.id == slack_user.learner.id
    # the code was not used up either
    assert "✅ Linked" in text_of(slack.command(f"link {code}"))
