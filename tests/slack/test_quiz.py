"""A whole quiz in Slack, end to end: buttons, the answer form, Next, reviews recorded."""

from __future__ import annotations

import json

from tests.conftest import FIXTURE_CONTENT
from tests.slack.conftest import labels, text_of

MANIFEST = (FIXTURE_CONTENT / "labs" / "web" / "solution.yaml").read_text()


def open_form(slack, message, *, user="U1"):
    """Press "Answer…": the form Slack was asked to open, and the press's response_url."""
    before = len(slack.fake.api("views.open"))
    url = slack.press(message, "Answer…", user=user)
    call = slack.fake.wait(lambda: slack.fake.api("views.open")[before:])[0]
    assert call["trigger_id"].startswith("trigger-")
    return call["view"], url


def answer_in_form(slack, message, text):
    view, url = open_form(slack, message)
    response = slack.submit(view, text)
    assert response.status_code == 200 and not response.get_data()  # the form closes
    return slack.fake.wait_hook(url)


def assert_answered(message, verdict: str):
    """Right or wrong, the explanation, and a Next button (the next question waits)."""
    assert message["replace_original"] is True
    assert verdict in text_of(message)
    assert labels(message) == ["Next question ▶"]
    assert "Question" not in text_of(message)


def test_a_whole_quiz_of_every_question_type(slack, fake_slack):
    learner = slack.user().learner
    first = slack.command("quiz 7")
    assert "*Question 1 of 7*" in text_of(first)

    # 1. single choice: a button per choice
    answered = slack.click(first, "b) readiness")
    assert_answered(answered, "✅ Right!")
    assert "Readiness gates traffic" in text_of(answered)  # the explanation
    assert slack.review_count(learner.id) == 1

    # 2. kubectl: a hint on the side, then the answer form
    second = slack.click(answered, "Next question ▶")
    assert second["replace_original"] is True
    assert "*Question 2 of 7*" in text_of(second)
    assert labels(second) == ["Answer…", "Hint", "Skip", "Stop"]
    hint = slack.click(second, "Hint")
    assert hint["replace_original"] is False and hint["response_type"] == "ephemeral"
    assert "*Hint:* It starts with kubectl create." in text_of(hint)
    view, url = open_form(slack, second)
    assert view["callback_id"] == "ckad_answer" and view["title"]["text"] == "Your answer"
    assert view["blocks"][-1]["element"]["multiline"] is False
    empty = slack.submit(view, "   ")
    assert empty.get_json() == {
        "response_action": "errors",
        "errors": {"answer": "Type your answer first."},
    }
    slack.submit(view, "k create deploy web --replicas 3 --image nginx:1.27")
    answered = fake_slack.wait_hook(url)
    assert_answered(answered, "✅ Right!")

    # 3. multiple choice: checkboxes and "Check my picks"
    third = slack.click(answered, "Next question ▶")
    assert "*Question 3 of 7*" in text_of(third)
    picks = next(
        e
        for b in third["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "checkboxes"
    )
    assert [o["value"] for o in picks["options"]] == ["a", "b", "c", "d"]
    nothing = slack.click(third, "Check my picks", picks=[])
    assert "Tick at least one" in text_of(nothing) and nothing["replace_original"] is False
    answered = slack.click(third, "Check my picks", picks=["c", "a", "b"])
    assert_answered(answered, "✅ Right!")

    # 4. short answer, in the form
    fourth = slack.click(answered, "Next question ▶")
    assert "smallest unit" in text_of(fourth)
    assert_answered(answer_in_form(slack, fourth, "pod"), "✅ Right!")

    # 5. flashcard: show the back, then rate yourself
    fifth = slack.click(slack.fake.hooks()[-1], "Next question ▶")
    assert "failing liveness probe" in text_of(fifth)
    back = slack.click(fifth, "Show the answer")
    assert back["replace_original"] is True
    assert "*Back of the card:* The kubelet restarts the container." in text_of(back)
    assert labels(back) == ["Again", "Hard", "Good", "Easy"]
    assert_answered(slack.click(back, "Good"), "Recorded as *good*.")

    # 6. true or false
    sixth = slack.click(slack.fake.hooks()[-1], "Next question ▶")
    assert labels(sixth)[:2] == ["True", "False"]
    answered = slack.click(sixth, "True")
    assert_answered(answered, "✅ Right!")

    # 7. a manifest, pasted in a multi-line form
    seventh = slack.click(answered, "Next question ▶")
    view, url = open_form(slack, seventh)
    assert view["blocks"][-1]["element"]["multiline"] is True
    slack.submit(view, MANIFEST)
    done = fake_slack.wait_hook(url)
    assert "✅ Right!" in text_of(done) and "*Quiz done:* 7 of 7 answered right." in text_of(done)
    assert labels(done) == ["Quiz me", "What's due?", "How am I doing?"]

    assert slack.review_count(learner.id) == 7
    # every reply went through the fake as Slack would receive it
    assert all(h.get("blocks") for h in fake_slack.hooks())


def test_wrong_answers_skip_and_stop(slack):
    first = slack.command("quiz 3")
    wrong = slack.click(first, "a) liveness")
    assert_answered(wrong, "❌ Not quite. The answer: readiness")
    second = slack.click(wrong, "Next question ▶")
    skipped = slack.click(second, "Skip")
    assert_answered(skipped, "Skipped. The answer was:")
    third = slack.click(skipped, "Next question ▶")
    assert "*Question 3 of 3*" in text_of(third)
    stopped = slack.click(third, "Stop")
    assert "Quiz stopped: 0 of 1 answered right." in text_of(stopped)
    assert slack.review_count(slack.user().learner.id) == 1


def test_an_old_button_never_answers_a_newer_question(slack):
    first = slack.command("quiz 2")
    slack.click(first, "b) readiness")
    again = slack.click(first, "c) startup")  # the same message, pressed once more
    assert again["replace_original"] is False and again["response_type"] == "ephemeral"
    assert "no longer open" in text_of(again)
    stale_form = slack.click(first, "Hint")
    assert "no longer open" in text_of(stale_form)
    assert slack.review_count(slack.user().learner.id) == 1
    # a new quiz replaces the old one: the old quiz's buttons are closed too
    newer = slack.command("quiz 2")
    assert "no longer open" not in text_of(newer)


def test_a_form_for_a_closed_question_is_refused(slack, fake_slack):
    first = slack.command("quiz 2")
    second = slack.click(slack.click(first, "b) readiness"), "Next question ▶")
    view, _ = open_form(slack, second)
    slack.click(second, "Skip")
    refused = slack.submit(view, "kubectl create deployment web --image=nginx:1.27 --replicas=3")
    body = refused.get_json()
    assert body["response_action"] == "errors" and "no longer open" in body["errors"]["answer"]
    before = len(fake_slack.api("views.open"))
    url = slack.press(second, "Answer…")
    assert "no longer open" in text_of(fake_slack.wait_hook(url))
    assert len(fake_slack.api("views.open")) == before


def test_a_shared_quiz_answers_only_its_owner(slack):
    first = slack.command("quiz 1 share", user="U1")
    assert first["response_type"] == "in_channel"
    other = slack.click(first, "b) readiness", user="U2")
    assert other["replace_original"] is False and other["response_type"] == "ephemeral"
    assert "<@U1>'s quiz" in text_of(other)
    mine = slack.click(first, "b) readiness", user="U1")
    assert "✅ Right!" in text_of(mine) and mine["replace_original"] is True
    value = json.loads(
        next(e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"])["value"]
    )
    assert value["o"] == "U1" and value["q"] == "basics-probe-traffic"


def test_a_quiz_in_a_direct_message(slack, fake_slack):
    response = slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D1",
            "user": "U1",
            "text": "quiz me 1 question",
            "ts": "1.2",
        }
    )
    assert response.status_code == 200
    posted = fake_slack.wait(lambda: fake_slack.api("chat.postMessage"))[0]
    assert posted["channel"] == "D1" and "*Question 1 of 1*" in text_of(posted)
    # typing the answer in the DM works as in the web chat
    slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D1",
            "user": "U1",
            "text": "b",
            "ts": "1.3",
        }
    )
    reply = fake_slack.wait(lambda: fake_slack.api("chat.postMessage")[1:])[0]
    assert "✅ Right!" in text_of(reply) and "Quiz done" in text_of(reply)
    # the app's own messages and edits are ignored
    slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "channel": "D1",
            "user": "UB0T",
            "bot_id": "B0T",
            "text": "echo",
            "ts": "1.4",
        }
    )
    slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel_type": "im",
            "channel": "D1",
            "ts": "1.5",
        }
    )
    slack.app.extensions["ckad_slack"].close()  # wait for any lazy listener
    assert len(fake_slack.api("chat.postMessage")) == 2


def test_a_question_asked_during_a_quiz_leaves_the_quiz_waiting(slack):
    first = slack.command("quiz 2")
    asked = slack.command("ask what does a readyness probe do")
    assert "Source: 📖" in text_of(asked)
    # the quiz's question is still the open one: its button still answers it
    answered = slack.click(first, "b) readiness")
    assert_answered(answered, "✅ Right!")
    assert "*Question 2 of 2*" in text_of(slack.click(answered, "Next question ▶"))


def test_a_suggestion_button_starts_something_new_in_a_new_message(slack):
    quiz = slack.click(slack.command("help"), "Quiz me")
    assert quiz["replace_original"] is False and quiz["response_type"] == "ephemeral"
    assert "*Question 1 of 5*" in text_of(quiz)
    due = slack.click(quiz, "b) readiness")
    done = slack.click(slack.click(due, "Next question ▶"), "Stop")
    standing = slack.click(done, "How am I doing?")
    assert "*Exam readiness:*" in text_of(standing)


def test_ticking_a_checkbox_is_acknowledged_and_changes_nothing(slack, fake_slack):
    first = slack.command("quiz 3")
    second = slack.click(slack.click(first, "b) readiness"), "Next question ▶")
    third = slack.click(
        slack.click(second, "Skip"), "Next question ▶"
    )  # the multiple-choice question
    block = next(b for b in third["blocks"] if b.get("block_id") == "picks")
    before = len(fake_slack.calls)
    response = slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T0CKAD"},
            "user": {"id": "U1", "team_id": "T0CKAD"},
            "api_app_id": "A1",
            "response_url": fake_slack.response_url(),
            "trigger_id": "t",
            "actions": [
                {
                    "type": "checkboxes",
                    "action_id": "ckad_picks",
                    "block_id": block["block_id"],
                    "selected_options": [{"value": "a"}],
                    "action_ts": "1.1",
                }
            ],
        }
    )
    assert response.status_code == 200
    assert len(fake_slack.calls) == before  # nothing posted, nothing recorded
    assert slack.review_count(slack.user().learner.id) == 1
