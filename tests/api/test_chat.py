"""The chat tutor through the API, on the fixture course."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ckad_api import create_app
from tests.conftest import settings_for


@pytest.fixture
def learner(api):
    return api.auth("ada")


@pytest.fixture
def conversation(client, learner):
    response = client.post("/api/v1/chat/conversations", headers=learner)
    assert response.status_code == 201
    body = response.get_json()
    assert body["messages"][0]["role"] == "tutor" and "quiz me" in body["messages"][0]["text"]
    return body["id"]


def say(client, headers, conversation, text, status=200):
    response = client.post(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=headers, json={"text": text}
    )
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_greeting_and_help(client, learner, conversation):
    assert say(client, learner, conversation, "hi")["intent"] == "greeting"
    reply = say(client, learner, conversation, "help")
    assert reply["intent"] == "help" and reply["actions"]


def test_course_question_quotes_a_section_with_citation(client, learner, conversation):
    reply = say(client, learner, conversation, "what does a readyness probe do")
    assert reply["intent"] == "ask"
    assert reply["citations"][0]["section_id"] == "basics-pods"
    assert "readiness probe" in reply["text"].lower() and "> " in reply["text"]
    assert reply["question"]["id"]  # a related question to try


def test_slang_and_fragments(client, learner, conversation):
    reply = say(client, learner, conversation, "k create deploy w/ replicas??")
    assert reply["citations"][0]["section_id"] == "basics-deployments"


def test_out_of_course_is_refused_without_citations(client, learner, conversation):
    reply = say(client, learner, conversation, "best pizza in naples")
    assert reply["intent"] == "out_of_scope"
    assert reply["citations"] == [] and reply["question"] is None


def test_offered_question_can_be_answered_in_place(client, learner, conversation):
    reply = say(client, learner, conversation, "readiness probe traffic")
    question = reply["question"]
    assert question["id"] == "basics-probe-traffic"
    graded = say(client, learner, conversation, "b")
    assert graded["intent"] == "answer" and graded["result"]["correct"] is True
    history = client.get("/api/v1/reviews/history", headers=learner).get_json()["items"]
    assert [h["question_id"] for h in history] == ["basics-probe-traffic"]


def test_a_whole_quiz_records_reviews(client, learner, conversation):
    first = say(client, learner, conversation, "quiz me 3 questions")
    assert first["intent"] == "quiz" and first["question"]["of"] == 3
    assert first["question"]["id"] == "basics-probe-traffic"
    second = say(client, learner, conversation, "the second one")
    assert second["result"]["correct"] is True
    assert second["question"]["id"] == "basics-create-deployment"
    hint = say(client, learner, conversation, "hint")
    assert "kubectl create" in hint["text"]
    third = say(
        client,
        learner,
        conversation,
        "kubectl create deployment web --image=nginx:1.27 --replicas=3",
    )
    assert third["result"]["correct"] is True
    assert third["question"]["type"] == "multi_choice"
    done = say(client, learner, conversation, "a, b and c")
    assert done["intent"] == "quiz_done" and "3 of 3" in done["text"]
    history = client.get("/api/v1/reviews/history", headers=learner).get_json()["items"]
    assert len(history) == 3


def test_practice_quiz_leaves_the_schedule(client, learner, conversation):
    say(client, learner, conversation, "quiz me on probes, practice")
    reply = say(client, learner, conversation, "2")
    assert reply["result"]["mode"] == "practice"
    assert client.get("/api/v1/reviews/history", headers=learner).get_json()["items"] == []


def test_unclear_answer_asks_again_and_skip_stop(client, learner, conversation):
    say(client, learner, conversation, "quiz me 2 questions")
    unclear = say(client, learner, conversation, "hmm maybe the thing")
    assert "letter" in unclear["text"]
    skipped = say(client, learner, conversation, "skip")
    assert "readiness" in skipped["text"]
    standing = say(client, learner, conversation, "how am i doing")
    assert standing["intent"] == "progress" and "Back to question 2 of 2" in standing["text"]
    stopped = say(client, learner, conversation, "stop")
    assert stopped["intent"] == "stop"
    assert say(client, learner, conversation, "whats due")["intent"] == "due"


def test_progress_due_next_and_labs(client, learner, conversation):
    assert "readiness" in say(client, learner, conversation, "how am i doing")["text"].lower()
    due = say(client, learner, conversation, "what's due")
    assert "new card" in due["text"]
    nxt = say(client, learner, conversation, "what should i study next")
    assert nxt["intent"] == "next"
    lab = say(client, learner, conversation, "check my web lab")
    assert lab["intent"] == "verify" and "couldn't check" in lab["text"]
    which = say(client, learner, conversation, "check my lab")
    assert "web" in which["text"]


def test_conversations_are_private_and_validated(api, client, learner, conversation):
    other = api.auth("bob")
    say(client, other, conversation, "hi", status=404)
    assert (
        client.get(f"/api/v1/chat/conversations/{conversation}/messages", headers=other).status_code
        == 404
    )
    say(client, learner, conversation, "   ", status=400)
    missing = client.post(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=learner, json={}
    )
    assert missing.status_code == 400


def test_any_instance_continues_a_conversation(app, database_url, client, learner, conversation):
    say(client, learner, conversation, "quiz me 2 questions")
    other_app = create_app(settings_for(database_url))
    try:
        reply = (
            other_app.test_client()
            .post(
                f"/api/v1/chat/conversations/{conversation}/messages",
                headers=learner,
                json={"text": "b"},
            )
            .get_json()
        )
        assert reply["result"]["correct"] is True and reply["question"]["number"] == 2
    finally:
        other_app.extensions["ckad"].engine.dispose()
    messages = client.get(
        f"/api/v1/chat/conversations/{conversation}/messages?limit=3", headers=learner
    ).get_json()
    assert [m["role"] for m in messages["items"]] == ["tutor", "learner", "tutor"]
    assert messages["next_cursor"]


def test_a_message_answered_meanwhile_gets_409_and_stores_nothing(
    services, client, learner, conversation, monkeypatch
):
    """The state is read without the write lock and saved only if its version is unchanged:
    a message answered while this one was being composed wins, this one is refused whole."""
    ada = services.accounts.authenticate(learner["Authorization"].split()[1])
    tutor = services.tutor
    compose = tutor.reply

    def meanwhile(who, text, state):
        if text == "quiz me 2 questions":  # another tab answers first, mid-composition
            tutor.send(ada, conversation, "readiness probe traffic")
        return compose(who, text, state)

    monkeypatch.setattr(tutor, "reply", meanwhile)
    response = client.post(
        f"/api/v1/chat/conversations/{conversation}/messages",
        headers=learner,
        json={"text": "quiz me 2 questions"},
    )
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert "answered first" in response.get_json()["detail"]
    items = client.get(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=learner
    ).get_json()["items"]
    assert [(m["role"], m["intent"]) for m in items] == [
        ("tutor", "greeting"),
        ("learner", None),
        ("tutor", "ask"),
    ]
    assert items[1]["text"] == "readiness probe traffic"
    # The winner's state stands: its offered question is still open, no quiz started.
    monkeypatch.undo()
    graded = say(client, learner, conversation, "b")
    assert graded["intent"] == "answer" and graded["result"]["correct"] is True


def test_replies_are_what_the_conversation_lists_byte_for_byte(client, learner, conversation):
    """The reply to a message is dumped by hand; it is exactly the stored message as the
    documented schema dumps it (same keys, order and values), with ids in message order."""
    texts = [
        "hi",
        "what does a readyness probe do",  # citations and an offered question with choices
        "best pizza in naples",  # refused: no citations, no question
        "quiz me 3 questions",
        "b",  # graded: a result
        "hint",
        "kubectl create deployment web --image=nginx:1.27 --replicas=3",  # kubectl: no choices
        "a, b and c",  # the quiz is done
    ]
    replies = []
    for text in texts:
        response = client.post(
            f"/api/v1/chat/conversations/{conversation}/messages",
            headers=learner,
            json={"text": text},
        )
        assert response.status_code == 200
        replies.append(response.get_json())
    assert {r["intent"] for r in replies} >= {"greeting", "ask", "out_of_scope", "quiz", "hint"}
    assert any(r["question"] and r["question"]["choices"] is None for r in replies)
    assert any(r["result"] for r in replies)
    items = client.get(
        f"/api/v1/chat/conversations/{conversation}/messages", headers=learner
    ).get_json()["items"]
    assert len(items) == 1 + 2 * len(texts)
    ids = [m["id"] for m in items]
    assert ids == sorted(set(ids))
    for i, (text, reply) in enumerate(zip(texts, replies, strict=True)):
        said, stored = items[1 + 2 * i], items[2 + 2 * i]
        assert (said["role"], said["text"], said["intent"]) == ("learner", text, None)
        assert json.dumps(reply) == json.dumps(stored)


def test_message_body_is_the_schema_dump():
    """`message_body` against `ChatMessageSchema` on the shapes a message can take."""
    from ckad_api.http.chat import message_body
    from ckad_api.http.schemas import ChatMessageSchema

    now = dt.datetime(2026, 11, 29, 16, 5, 7, 123456, tzinfo=dt.UTC)
    learner_said = {
        "id": 7,
        "role": "learner",
        "text": "b",
        "created_at": now,
        "intent": None,
        "citations": [],
        "question": None,
        "actions": [],
        "result": None,
    }
    tutor_said = {
        **learner_said,
        "id": 8,
        "role": "tutor",
        "intent": "quiz",
        "citations": ({"section_id": "s", "title": "T", "chapter_id": "c"},),
        "question": {
            "id": "q",
            "type": "single_choice",
            "prompt": "P?",
            "choices": ("x", "y"),
            "number": 2,
            "of": 3,
        },
        "actions": ({"label": "Hint", "text": "hint"},),
        "result": {"correct": False, "rating": "again", "mode": "review"},
    }
    schema = ChatMessageSchema()
    for message in (learner_said, tutor_said):
        assert json.dumps(message_body(message)) == json.dumps(schema.dump(message))
