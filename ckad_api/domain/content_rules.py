"""Rules every piece of course content must follow, and coverage figures.

Pure functions over plain values: the file reader supplies raw mappings and turns the
(field, message) pairs returned here into `file:line: field: problem` lines.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .model import QUESTION_TYPES, Course

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
COMPETENCY_PATTERN = re.compile(r"^[a-z0-9-]+/[a-z0-9-]+$")
HANDS_ON_TYPES = ("kubectl", "manifest")

Problem = tuple[str, str]  # (field, message)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def id_problems(value: Any, field: str = "id") -> list[Problem]:
    """An id must be a lowercase slug, so it can live in URLs forever."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        return [(field, f"must be a lowercase slug of letters, digits and '-', got {value!r}")]
    return []


def question_problems(raw: dict[str, Any]) -> list[Problem]:
    """Check one raw question mapping: required fields, types, and the answer's shape."""
    problems: list[Problem] = id_problems(raw.get("id"))
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        problems.append(("type", f"must be one of {', '.join(QUESTION_TYPES)}, got {qtype!r}"))
    for field in ("prompt", "explanation"):
        if not _is_text(raw.get(field)):
            problems.append((field, "is required and must be non-empty text"))
    if not _is_text(raw.get("section")):
        problems.append(("section", "is required: the id of the section that teaches it"))
    comps = raw.get("competencies")
    if not isinstance(comps, list) or not comps or not all(isinstance(c, str) for c in comps):
        problems.append(("competencies", "is required: a non-empty list of competency ids"))
    difficulty = raw.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 3:
        problems.append(("difficulty", f"must be 1, 2 or 3, got {difficulty!r}"))
    if "hint" in raw and raw["hint"] is not None and not _is_text(raw["hint"]):
        problems.append(("hint", "must be non-empty text when given"))
    expected = raw.get("expected_seconds")
    if expected is not None and (not isinstance(expected, int) or not 5 <= expected <= 3600):
        problems.append(("expected_seconds", "must be an integer between 5 and 3600"))
    problems.extend(_answer_problems(qtype, raw.get("choices"), raw.get("answer")))
    return problems


def _answer_problems(qtype: Any, choices: Any, answer: Any) -> list[Problem]:
    choice_types = ("single_choice", "multi_choice")
    if qtype in choice_types:
        if not isinstance(choices, list) or len(choices) < 2:
            return [("choices", "must be a list of at least two choices")]
        for i, choice in enumerate(choices):
            if isinstance(choice, dict):
                return [
                    (
                        "choices",
                        f"choice {i} was read as a mapping: quote a choice that contains ': '",
                    )
                ]
            if not _is_text(choice):
                return [("choices", f"choice {i} must be non-empty text, got {choice!r}")]
        if len(set(choices)) != len(choices):
            return [("choices", "must not repeat a choice")]
    elif choices is not None:
        return [("choices", f"only choice questions have choices, not {qtype}")]

    def index_ok(i: Any) -> bool:
        return isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(choices)

    if qtype == "single_choice" and not index_ok(answer):
        return [("answer", f"must be the 0-based index of one choice, got {answer!r}")]
    if qtype == "multi_choice" and (
        not isinstance(answer, list)
        or not answer
        or not all(index_ok(i) for i in answer)
        or len(set(answer)) != len(answer)
    ):
        return [("answer", "must be a non-empty list of distinct 0-based choice indexes")]
    if qtype == "true_false" and not isinstance(answer, bool):
        return [("answer", f"must be true or false, got {answer!r}")]
    if qtype in ("short_answer", "kubectl"):
        if not isinstance(answer, list) or not answer or not all(_is_text(a) for a in answer):
            return [("answer", "must be a non-empty list of accepted answers")]
        if qtype == "kubectl":
            bad = [a for a in answer if a.split()[0] not in ("kubectl", "k", "helm")]
            if bad:
                return [("answer", f"every accepted command starts with kubectl: {bad[0]!r}")]
    if qtype == "flashcard" and not _is_text(answer):
        return [("answer", "must be the text of the back of the card")]
    if qtype == "manifest" and not isinstance(answer, (dict, list)):
        return [("answer", "must be the rubric checks for the manifest")]
    return []


def coverage(course: Course) -> dict[str, dict[str, Any]]:
    """Per competency: section count and question counts by type (retired content excluded)."""
    result: dict[str, dict[str, Any]] = {
        cid: {"sections": 0, "questions": Counter()} for cid in course.competency_ids()
    }
    for chapter in course.chapters:
        for section in chapter.sections:
            for cid in section.competencies:
                if cid in result:
                    result[cid]["sections"] += 1
        for question in chapter.questions:
            for cid in question.competencies:
                if cid in result:
                    result[cid]["questions"][question.type] += 1
    return result
