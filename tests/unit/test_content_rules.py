"""Question rules: every answer shape per type, accepted and refused."""

from __future__ import annotations

import pytest

from ckad_api.domain.content_rules import question_problems


def base(**changes):
    question = {
        "id": "q-1",
        "type": "single_choice",
        "prompt": "Which?",
        "choices": ["a", "b"],
        "answer": 0,
        "explanation": "Because.",
        "section": "s-1",
        "competencies": ["networking/services"],
        "difficulty": 2,
    }
    question.update(changes)
    return question


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"type": "multi_choice", "answer": [0, 1]},
        {"type": "true_false", "choices": None, "answer": False},
        {"type": "short_answer", "choices": None, "answer": ["NodePort"]},
        {"type": "kubectl", "choices": None, "answer": ["kubectl get pods -n web"]},
        {"type": "flashcard", "choices": None, "answer": "The back of the card"},
        {"hint": "Think about traffic", "expected_seconds": 40},
    ],
)
def test_valid_questions_have_no_problems(changes):
    question = base(**changes)
    if question.get("choices") is None:
        question.pop("choices")
    assert question_problems(question) == []


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"id": "Has Spaces"}, "id"),
        ({"type": "essay"}, "type"),
        ({"prompt": " "}, "prompt"),
        ({"explanation": None}, "explanation"),
        ({"section": ""}, "section"),
        ({"competencies": []}, "competencies"),
        ({"difficulty": 0}, "difficulty"),
        ({"difficulty": True}, "difficulty"),
        ({"answer": 2}, "answer"),
        ({"answer": True}, "answer"),
        ({"choices": ["only one"]}, "choices"),
        ({"choices": ["same", "same"]}, "choices"),
        ({"choices": [{"a": "b"}, "c"]}, "choices"),
        ({"type": "multi_choice", "answer": [0, 0]}, "answer"),
        ({"type": "multi_choice", "answer": []}, "answer"),
        ({"type": "true_false", "choices": None, "answer": "yes"}, "answer"),
        ({"type": "short_answer", "choices": None, "answer": "NodePort"}, "answer"),
        ({"type": "kubectl", "choices": None, "answer": ["get pods"]}, "answer"),
        ({"type": "kubectl", "choices": None, "answer": ["kubectl get pods 'unclosed"]}, "answer"),
        ({"type": "flashcard", "choices": None, "answer": ""}, "answer"),
        ({"type": "true_false", "answer": True}, "choices"),
        ({"expected_seconds": 1}, "expected_seconds"),
    ],
)
def test_invalid_questions_name_the_field(changes, field):
    question = base(**changes)
    if "choices" in changes and changes["choices"] is None:
        question.pop("choices")
    assert field in [f for f, _ in question_problems(question)]
