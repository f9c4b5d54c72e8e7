"""Reviews through the API: due, answer, conflicts, practice, undo, history, progress."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from tests.conftest import FIXTURE_QUESTIONS

ORDER = list(FIXTURE_QUESTIONS)
MANIFEST = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n"
    "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n"
    "      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n"
    "          image: docker.io/library/nginx:1.27\n"
)
RIGHT = {
    "basics-probe-traffic": {"answer": 1},
    "basics-create-deployment": {"answer": "k create deploy web --replicas 3 --image=nginx:1.27"},
    "basics-probe-kinds": {"answer": [2, 0, 1]},
    "basics-smallest-unit": {"answer": "pod"},
    "basics-liveness-card": {"rating": "good"},
    "basics-pod-smallest": {"answer": True},
    "basics-write-deployment": {"answer": MANIFEST},
}
WRONG = {
    "basics-probe-traffic": {"answer": 0},
    "basics-create-deployment": {"answer": "kubectl run web --image=nginx:1.27"},
    "basics-probe-kinds": {"answer": [0, 3]},
    "basics-smallest-unit": {"answer": "container"},
    "basics-liveness-card": {"rating": "again"},
    "basics-pod-smallest": {"answer": False},
    "basics-write-deployment": {"answer": MANIFEST.replace("replicas: 2", "replicas: 3")},
}


@pytest.fixture
def learner(api):
    return api.auth("ada")


def due(client, headers, **query):
    response = client.get("/api/v1/reviews/due", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def answer(client, headers, question_id, body, version=None, status=200):
    if version is None:
        item = next(
            i for i in due(client, headers, limit=200) if i["question"]["id"] == question_id
        )
        version = item["card"]["version"]
    response = client.post(
        f"/api/v1/reviews/{question_id}/answer",
        headers=headers,
        json={**body, "version": version, "elapsed_ms": 4000},
    )
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_new_cards_come_in_course_order_without_answers(client, learner):
    items = due(client, learner)
    assert [i["question"]["id"] for i in items] == ORDER
    assert all(i["new"] and i["card"]["version"] == 0 for i in items)
    text = json.dumps(items)
    assert "answer" not in items[0]["question"] and "explanation" not in text
    assert items[0]["question"]["choices"] == ["liveness", "readiness", "startup"]


def test_every_question_type_grades_right_and_wrong(client, learner):
    for question_id in ORDER:
        result = answer(client, learner, question_id, RIGHT[question_id])
        if question_id == "basics-liveness-card":
            assert result["correct"] is None and result["rating"] == "good"
        else:
            assert result["correct"] is True, (question_id, result)
            assert result["rating"] == "good"
        assert result["card"]["version"] == 1 and result["next_due"]
        assert set(result["intervals"]) == {"again", "hard", "good", "easy"}
        assert result["explanation"]
    for question_id in ORDER:
        version = 1
        result = answer(client, learner, question_id, WRONG[question_id], version=version)
        assert result["rating"] == "again"
        assert result["correct"] in (False, None)
        assert result["card"]["version"] == 2


def test_wrong_answer_feedback_says_what_differs(client, learner):
    multi = answer(client, learner, "basics-probe-kinds", WRONG["basics-probe-kinds"])
    assert multi["correct"] is False and multi["feedback"]
    manifest = answer(client, learner, "basics-write-deployment", WRONG["basics-write-deployment"])
    assert manifest["correct"] is False
    assert any("spec.replicas is 3, expected 2" in f for f in manifest["feedback"])
    bad_yaml = client.post(
        "/api/v1/reviews/basics-write-deployment/answer",
        headers=learner,
        json={"answer": "kind: [", "version": 1},
    )
    assert bad_yaml.status_code == 422
    assert {"line", "column"} <= set(bad_yaml.get_json())
    kubectl = answer(
        client,
        learner,
        "basics-create-deployment",
        {"answer": "kubectl create deployment web --image=nginx:1.27"},
    )
    assert kubectl["correct"] is False
    assert any("replicas" in f for f in kubectl["feedback"])


def test_answer_schedules_and_intervals_grow_with_rating(client, learner, clock):
    result = answer(client, learner, "basics-probe-traffic", RIGHT["basics-probe-traffic"])
    intervals = result["intervals"]
    assert intervals["again"] < intervals["hard"] <= intervals["good"] < intervals["easy"]
    next_due = dt.datetime.fromisoformat(result["next_due"])
    assert next_due - clock.now() == dt.timedelta(seconds=intervals["good"])
    assert result["card"]["state"] == "learning"


def test_slow_right_answer_rates_hard_and_learner_may_lower_not_raise(client, learner):
    slow = client.post(
        "/api/v1/reviews/basics-probe-traffic/answer",
        headers=learner,
        json={"answer": 1, "version": 0, "elapsed_ms": 10 * 60 * 1000},
    )
    assert slow.get_json()["rating"] == "hard"
    lowered = client.post(
        "/api/v1/reviews/basics-pod-smallest/answer",
        headers=learner,
        json={"answer": True, "version": 0, "rating": "again"},
    )
    assert lowered.get_json()["rating"] == "again"
    raised = client.post(
        "/api/v1/reviews/basics-smallest-unit/answer",
        headers=learner,
        json={"answer": "container", "version": 0, "rating": "easy"},
    )
    assert raised.get_json()["rating"] == "again"


def test_stale_version_is_409_with_current_card_and_changes_nothing(client, learner):
    answer(client, learner, "basics-probe-traffic", RIGHT["basics-probe-traffic"], version=0)
    stale = client.post(
        "/api/v1/reviews/basics-probe-traffic/answer",
        headers=learner,
        json={"answer": 0, "version": 0},
    )
    assert stale.status_code == 409
    assert stale.get_json()["current"]["version"] == 1
    history = client.get("/api/v1/reviews/history", headers=learner).get_json()["items"]
    assert len(history) == 1


def test_practice_mode_grades_but_leaves_the_schedule(client, learner):
    result = answer(
        client, learner, "basics-probe-traffic", {"answer": 0, "mode": "practice"}, version=0
    )
    assert result["correct"] is False and result["mode"] == "practice"
    assert result["card"]["version"] == 0 and result["card"]["state"] == "new"
    assert client.get("/api/v1/reviews/history", headers=learner).get_json()["items"] == []
    first = due(client, learner)[0]
    assert first["new"] and first["question"]["id"] == "basics-probe-traffic"


def test_bad_answers_are_400_naming_the_field(client, learner):
    cases = [
        ("basics-probe-traffic", {"answer": 7, "version": 0}),
        ("basics-probe-traffic", {"answer": "x" * 10, "version": 0}),
        ("basics-probe-kinds", {"answer": "0,1", "version": 0}),
        ("basics-probe-traffic", {"version": 0}),
        ("basics-liveness-card", {"version": 0}),
        ("basics-probe-traffic", {"answer": 1}),
        ("basics-probe-traffic", {"answer": 1, "version": 0, "rating": "perfect"}),
        ("basics-probe-traffic", {"answer": 1, "version": "0"}),
    ]
    for question_id, body in cases:
        response = client.post(f"/api/v1/reviews/{question_id}/answer", headers=learner, json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert response.get_json()["errors"], body
    assert client.get("/api/v1/reviews/history", headers=learner).get_json()["items"] == []
    missing = client.post(
        "/api/v1/reviews/no-such/answer", headers=learner, json={"answer": 1, "version": 0}
    )
    assert missing.status_code == 404


def test_undo_restores_the_card_and_keeps_the_log(client, learner):
    first = answer(client, learner, "basics-probe-traffic", RIGHT["basics-probe-traffic"])
    second = answer(
        client, learner, "basics-probe-traffic", WRONG["basics-probe-traffic"], version=1
    )
    assert second["card"]["version"] == 2
    undone = client.post("/api/v1/reviews/basics-probe-traffic/undo", headers=learner, json={})
    assert undone.status_code == 200
    card = undone.get_json()
    assert (card["state"], card["stability"], card["due"]) == (
        first["card"]["state"],
        first["card"]["stability"],
        first["card"]["due"],
    )
    assert card["version"] == 3
    again = client.post("/api/v1/reviews/basics-probe-traffic/undo", headers=learner, json={})
    assert again.get_json()["state"] == "new"
    nothing = client.post("/api/v1/reviews/basics-probe-traffic/undo", headers=learner, json={})
    assert nothing.status_code == 404
    history = client.get("/api/v1/reviews/history", headers=learner).get_json()["items"]
    assert len(history) == 2 and all(h["undone_at"] for h in history)
    # A card back to new is served as new again, with its current version.
    item = due(client, learner)[0]
    assert item["question"]["id"] == "basics-probe-traffic" and item["card"]["version"] == 4


def test_due_cards_come_back_most_at_risk_first(client, learner, clock):
    for question_id in ORDER[:3]:
        answer(client, learner, question_id, RIGHT[question_id])
    clock.advance(minutes=15)  # past the learning steps
    items = due(client, learner, limit=3)
    assert all(not i["new"] for i in items)
    risks = [i["card"]["retrievability"] for i in items]
    assert risks == sorted(risks)


def test_new_card_limit_counts_per_local_day(client, learner, clock):
    client.patch(
        "/api/v1/me", headers=learner, json={"new_cards_per_day": 2, "timezone": "Pacific/Auckland"}
    )
    clock.set(dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC))  # 22:00 in Auckland
    for question_id in ORDER[:2]:
        answer(client, learner, question_id, RIGHT[question_id])
    assert [i for i in due(client, learner) if i["new"]] == []
    clock.set(dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC))  # 23:30, same local day
    assert [i for i in due(client, learner) if i["new"]] == []
    clock.set(dt.datetime(2026, 3, 10, 11, 30, tzinfo=dt.UTC))  # 00:30 the next local day
    fresh = [i["question"]["id"] for i in due(client, learner) if i["new"]]
    assert fresh == ORDER[2:4]


def test_filters_by_chapter_and_competency(client, learner):
    probes = due(client, learner, competency="observability/probes")
    assert [i["question"]["id"] for i in probes] == [
        "basics-probe-traffic",
        "basics-probe-kinds",
        "basics-liveness-card",
    ]
    assert len(due(client, learner, chapter="basics")) == 7
    for query in ({"chapter": "nope"}, {"competency": "nope/nope"}):
        response = client.get("/api/v1/reviews/due", headers=learner, query_string=query)
        assert response.status_code == 404


def test_history_pages_and_export_is_json_lines(client, learner):
    for question_id in ORDER:
        answer(client, learner, question_id, RIGHT[question_id])
    page = client.get("/api/v1/reviews/history?limit=4", headers=learner).get_json()
    assert len(page["items"]) == 4 and page["next_cursor"]
    rest = client.get(
        f"/api/v1/reviews/history?limit=4&cursor={page['next_cursor']}", headers=learner
    ).get_json()
    assert len(rest["items"]) == 3 and rest["next_cursor"] is None
    ids = [h["id"] for h in page["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    export = client.get("/api/v1/reviews/export", headers=learner)
    assert export.mimetype == "application/x-ndjson"
    lines = [json.loads(x) for x in export.get_data(as_text=True).splitlines()]
    assert [x["question_id"] for x in lines] == ORDER
    assert lines[0]["answer"] == 1 and lines[0]["state_before"] is None


def test_learners_never_see_each_others_cards(api, client, learner):
    answer(client, learner, "basics-probe-traffic", RIGHT["basics-probe-traffic"])
    other = api.auth("bob")
    assert client.get("/api/v1/reviews/history", headers=other).get_json()["items"] == []
    assert due(client, other)[0]["card"]["version"] == 0
    undo = client.post("/api/v1/reviews/basics-probe-traffic/undo", headers=other, json={})
    assert undo.status_code == 404


def test_content_reload_keeps_history_and_retired_questions_are_not_due(
    app, client, learner, tmp_path
):
    import shutil

    from tests.conftest import FIXTURE_CONTENT

    answer(client, learner, "basics-pod-smallest", RIGHT["basics-pod-smallest"])
    edited = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, edited)
    qfile = edited / "chapters/01-basics/questions.yaml"
    text = qfile.read_text()
    qfile.write_text(text[: text.index("- id: basics-pod-smallest")])
    app.extensions["ckad"].content.load(edited)
    ids = [i["question"]["id"] for i in due(client, learner, limit=50)]
    assert "basics-pod-smallest" not in ids
    export = client.get("/api/v1/reviews/export", headers=learner).get_data(as_text=True)
    assert "basics-pod-smallest" in export
    app.extensions["ckad"].content.load(FIXTURE_CONTENT)


def test_two_racing_answers_give_one_review_and_one_409(app, learner):
    barrier = threading.Barrier(2)
    statuses = []

    def post():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/reviews/basics-probe-traffic/answer",
            headers=learner,
            json={"answer": 1, "version": version},
        )
        statuses.append(response.status_code)

    version = 0
    for _ in range(5):  # several rounds: a race that only sometimes happens still shows
        statuses.clear()
        version = due(app.test_client(), learner)[0]["card"]["version"]
        threads = [threading.Thread(target=post) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(statuses) == [200, 409], statuses
        client = app.test_client()
        client.post("/api/v1/reviews/basics-probe-traffic/undo", headers=learner, json={})
    history = (
        app.test_client()
        .get("/api/v1/reviews/history?limit=50", headers=learner)
        .get_json()["items"]
    )
    assert len(history) == 5


def test_progress_and_forecast_move_over_simulated_weeks(client, learner, clock):
    start = clock.now()
    empty = client.get("/api/v1/progress", headers=learner).get_json()
    assert empty["cards_seen"] == 0 and empty["streak_days"] == 0 and empty["readiness"] == 0
    for day in range(40):
        if day % 20 == 19:  # tokens live 30 days; sign in again as a learner would
            token = client.post(
                "/api/v1/auth/token", json={"username": "ada", "password": "correct-horse-1"}
            ).get_json()["access_token"]
            learner = {"Authorization": f"Bearer {token}"}
        for item in due(client, learner, limit=50):
            question_id = item["question"]["id"]
            answer(
                client, learner, question_id, RIGHT[question_id], version=item["card"]["version"]
            )
        clock.set(start + dt.timedelta(days=day + 1))
    # Review whatever falls due next, so the streak ends today.
    upcoming = client.get("/api/v1/progress/forecast?days=365", headers=learner).get_json()
    first_day = next(d["date"] for d in upcoming["items"] if d["due"])
    clock.set(dt.datetime.fromisoformat(first_day).replace(hour=23, tzinfo=dt.UTC))
    token = client.post(
        "/api/v1/auth/token", json={"username": "ada", "password": "correct-horse-1"}
    ).get_json()["access_token"]
    learner = {"Authorization": f"Bearer {token}"}
    for item in due(client, learner, limit=50):
        question_id = item["question"]["id"]
        answer(client, learner, question_id, RIGHT[question_id], version=item["card"]["version"])
    progress = client.get("/api/v1/progress", headers=learner).get_json()
    assert progress["cards_seen"] == 7
    assert progress["reviews_today"] >= 1
    probes = next(
        c
        for d in progress["domains"]
        for c in d["competencies"]
        if c["id"] == "observability/probes"
    )
    assert probes["seen"] == 3 and probes["mastered"] >= 1
    assert progress["streak_days"] >= 1
    assert progress["readiness"] > 0
    assert progress["true_retention"] in (None, 1.0)
    forecast = client.get("/api/v1/progress/forecast?days=60", headers=learner).get_json()
    assert len(forecast["items"]) == 60
    # The forecast agrees with the due dates the review log recorded last for each card.
    export = client.get("/api/v1/reviews/export", headers=learner).get_data(as_text=True)
    last = {}
    for line in export.splitlines():
        entry = json.loads(line)
        last[entry["question_id"]] = dt.datetime.fromisoformat(entry["state_after"]["due"])
    today = clock.now().date()
    horizon = today + dt.timedelta(days=365)
    expected = sum(1 for d in last.values() if d.date() < horizon)
    year = client.get("/api/v1/progress/forecast?days=365", headers=learner).get_json()
    assert sum(d["due"] for d in year["items"]) == expected >= 1
    bad = client.get("/api/v1/progress/forecast?days=0", headers=learner)
    assert bad.status_code == 400


def test_hot_responses_are_byte_for_byte_what_the_schemas_dump(app, client, learner, clock):
    """Due lists and answers are dumped by hand for speed: the bytes must stay exactly what
    the documented schemas (`DueListSchema`, `AnswerResultSchema`, `CardSchema`) give."""
    from ckad_api.http import schemas
    from ckad_api.http.reviews import answer_dict, card_dict, due_json
    from ckad_api.services.reviews import CardView

    def encoded(data):
        return json.dumps(data, separators=(",", ":"))

    services = app.extensions["ckad"]
    with services.read_uow() as uow:
        ada = uow.learners.by_username("ada")[0]
    results = []
    for question_id in ORDER:  # every question type: choices, kubectl, manifest, flashcard
        version = 0
        for body in (RIGHT[question_id], WRONG[question_id]):
            results.append(
                services.reviews.answer(ada, question_id, **body, elapsed_ms=3000, version=version)
            )
            version += 1
        results.append(
            services.reviews.answer(
                ada, question_id, **RIGHT[question_id], version=version, mode="practice"
            )
        )
    for _ in range(2):  # both reviews undone: the card is new again, with a version
        client.post("/api/v1/reviews/basics-pod-smallest/undo", headers=learner, json={})
    clock.advance(days=3, microseconds=250)
    answer_schema = schemas.AnswerResultSchema()
    for result in results:
        assert encoded(answer_dict(result)) == encoded(answer_schema.dump(result))
    items = services.reviews.due(ada, 50)
    assert {i["new"] for i in items} == {True, False}  # due cards and a card back to new
    assert due_json(items) == encoded(schemas.DueListSchema().dump({"items": items}))
    card_schema = schemas.CardSchema()
    for item in items:
        assert card_dict(item["card"]) == card_schema.dump(item["card"])
    # Numbers and times at the edges of their formats.
    odd = CardView(
        question_id="basics-probe-traffic",
        state="review",
        due=clock.now().replace(microsecond=0),
        last_review=None,
        stability=1e-05,
        difficulty=10.0,
        retrievability=1.0,
        reps=0,
        lapses=0,
        version=2**31 - 1,
    )
    edge = [{"question": items[0]["question"], "new": False, "card": odd}]
    assert due_json(edge) == encoded(schemas.DueListSchema().dump({"items": edge}))
    response = client.get("/api/v1/reviews/due?limit=50", headers=learner)
    assert response.mimetype == "application/json"
    assert response.get_data(as_text=True) == due_json(items)
