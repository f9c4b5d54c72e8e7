"""Every `/ckad` subcommand, answered in the acknowledgement (a lab check: afterwards)."""

from __future__ import annotations

from tests.slack.conftest import labels, text_of


def test_help_lists_every_command_with_starter_buttons(slack):
    for text in ("help", ""):
        ack = slack.command(text)
        assert ack["response_type"] == "ephemeral"
        body = text_of(ack)
        for command in ("ask", "quiz", "due", "progress", "verify", "link", "remind"):
            assert f"/ckad {command}" in body
        assert labels(ack) == ["Quiz me", "What's due?", "How am I doing?"]


def test_ask_quotes_the_course_cites_it_and_offers_a_question(slack, fake_slack):
    ack = slack.command("ask what does a readyness probe do")
    assert ack["response_type"] == "ephemeral"
    body = text_of(ack)
    assert "From *" in body and "&gt; " not in body  # quotes stay Slack quotes
    assert "\n> " in body or body.startswith("> ") or "> " in body
    assert "readiness probe" in body.lower()
    assert "Source: 📖" in body
    assert labels(ack)[:3] == ["a) liveness", "b) readiness", "c) startup"]
    # the offered question is answered in place, and counts as a review
    answered = slack.click(ack, "b) readiness")
    assert answered["replace_original"] is True
    assert "✅ Right!" in text_of(answered)
    assert slack.review_count(slack.user().learner.id) == 1


def test_a_question_without_the_word_ask_is_asked(slack):
    ack = slack.command("how do i roll back a deployment")
    assert "Source: 📖" in text_of(ack) or "outside" in text_of(ack)
    refused = slack.command("ask best pizza in naples")
    assert "outside what this course covers" in text_of(refused)
    empty = slack.command("ask")
    assert "Ask me something" in text_of(empty)


def test_quiz_sends_the_first_question_in_the_acknowledgement(slack):
    ack = slack.command("quiz")
    assert ack["response_type"] == "ephemeral"
    body = text_of(ack)
    assert "Quiz time" in body and "*Question 1 of 5*" in body
    assert "Which probe decides" in body
    assert labels(ack) == ["a) liveness", "b) readiness", "c) startup", "Hint", "Skip", "Stop"]


def test_quiz_on_a_topic_and_shared_in_the_channel(slack):
    ack = slack.command("quiz 2 deployments share")
    assert ack["response_type"] == "in_channel"
    assert "*Question 1 of 2*" in text_of(ack)
    assert "Deployment" in text_of(ack)
    unknown = slack.command("quiz underwater basket weaving")
    assert "couldn't find" in text_of(unknown)
    assert unknown["response_type"] == "ephemeral"


def test_practice_quiz_says_so(slack):
    ack = slack.command("quiz practice")
    assert "Practice" in text_of(ack)


def test_due_and_progress(slack):
    due = slack.command("due")
    assert due["response_type"] == "ephemeral"
    assert "*0* card(s) due and *7* new card(s)" in text_of(due)
    assert labels(due) == ["Quiz me"]
    progress = slack.command("progress")
    assert "*Exam readiness:* 0.0%" in text_of(progress)
    assert "*Streak:*" in text_of(progress)


def test_verify_without_a_lab_lists_the_labs(slack, fake_slack):
    ack = slack.command("verify")
    assert "Which lab?" in text_of(ack) and "`web`" in text_of(ack)


def test_unknown_link_and_remind_usage(slack):
    assert "Make a code" in text_of(slack.command("link"))
    assert "Daily reminders are off" in text_of(slack.command("remind"))
    bad = slack.command("remind on 25:00")
    assert "⚠️" in text_of(bad) and "HH:MM" in text_of(bad)


def test_a_slack_user_gets_a_learner_on_first_use_keyed_by_workspace_and_user(slack):
    slack.command("due", user="U1", team="T0CKAD")
    slack.command("due", user="U1", team="T0CKAD")
    slack.command("due", user="U1", team="TOTHER")
    first, again = slack.user("U1", "T0CKAD"), slack.user("U1", "T0CKAD")
    other = slack.user("U1", "TOTHER")
    assert first.learner.id == again.learner.id != other.learner.id
    assert first.learner.username == "s-t0ckad-u1"
    assert first.learner.display_name == "ada"
