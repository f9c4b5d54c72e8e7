"""bench/floor.py, the benchmark's floor app: it must do the real endpoints' database work.

Its numbers bound what the service's hot endpoints can reach, so a floor that silently did
less (skipped the ranked query, wrote nothing, lost the version check) would make every
bound it prints a lie. These tests run it on the service's own database, beside the service.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bench import floor


@pytest.fixture
def floor_client(services):
    return floor.build(services).test_client()


@pytest.fixture
def learner(api):
    return api.auth("ada")


def _answer(client, headers, question_id, answer, version):
    return client.post(
        f"/api/v1/reviews/{question_id}/answer",
        headers=headers,
        json={"answer": answer, "version": version, "elapsed_ms": 8000},
    )


def _count(services, sql: str) -> int:
    with services.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_floor_refuses_a_bad_token(floor_client):
    response = floor_client.get(
        "/api/v1/reviews/due", headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401


def test_floor_chapter_serves_the_services_body_and_etag(client, floor_client, learner):
    service = client.get("/api/v1/chapters/basics", headers=learner)
    assert service.status_code == 200
    response = floor_client.get("/api/v1/chapters/basics", headers=learner)
    assert response.status_code == 200
    assert response.data == service.data and response.headers["ETag"] == service.headers["ETag"]

    again = floor_client.get(
        "/api/v1/chapters/basics",
        headers={**learner, "If-None-Match": service.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""


def test_floor_due_runs_the_services_ranked_query(client, floor_client, learner, clock):
    for question_id, answer in (("basics-probe-traffic", 0), ("basics-smallest-unit", "pod")):
        assert _answer(client, learner, question_id, answer, 0).status_code == 200
    clock.advance(days=2)  # both cards due (the token lives longer), ranked
    service = client.get("/api/v1/reviews/due?limit=20", headers=learner).get_json()
    reviewed = [i["question"]["id"] for i in service["items"] if not i["new"]]
    assert len(reviewed) == 2

    rows = floor_client.get("/api/v1/reviews/due", headers=learner).get_json()
    assert [r[0] for r in rows] == reviewed


def test_floor_answer_writes_the_card_and_a_log_in_one_transaction(
    client, floor_client, services, learner
):
    first = _answer(client, learner, "basics-probe-traffic", 1, 0).get_json()
    version = first["card"]["version"]
    logs = _count(services, "SELECT count(*) FROM review_logs")

    response = _answer(floor_client, learner, "basics-probe-traffic", 1, version)
    assert response.status_code == 200
    assert response.get_json()["card"] == {
        "question_id": "basics-probe-traffic",
        "version": version + 1,
    }
    assert _count(services, "SELECT count(*) FROM review_logs") == logs + 1
    assert _count(services, "SELECT max(version) FROM cards") == version + 1

    stale = _answer(floor_client, learner, "basics-probe-traffic", 1, version)
    assert stale.status_code == 409
    assert stale.get_json()["current"]["version"] == version + 1
    assert _count(services, "SELECT count(*) FROM review_logs") == logs + 1  # nothing written


def test_floor_chat_retrieves_and_stores_the_exchange(client, floor_client, services, learner):
    conversation = client.post("/api/v1/chat/conversations", headers=learner).get_json()["id"]
    messages = _count(services, "SELECT count(*) FROM conversation_messages")

    response = floor_client.post(
        f"/api/v1/chat/conversations/{conversation}/messages",
        headers=learner,
        json={"text": "which probe gates service traffic"},
    )
    assert response.status_code == 200
    assert response.get_json()["citations"][0] == "basics-pods"
    assert _count(services, "SELECT count(*) FROM conversation_messages") == messages + 2

    # The service still continues the conversation: the floor kept its version rule.
    follow = client.post(
        f"/api/v1/chat/conversations/{conversation}/messages",
        headers=learner,
        json={"text": "help"},
    )
    assert follow.status_code == 200

    other = floor_client.post(
        "/api/v1/chat/conversations/no-such-conversation/messages",
        headers=learner,
        json={"text": "probes"},
    )
    assert other.status_code == 404
