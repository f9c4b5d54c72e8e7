"""Rules every piece of course content must follow, and coverage figures.

Pure functions over plain values: the file reader supplies raw mappings and turns the
(field, message) pairs returned here into `file:line: field: problem` lines.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from . import kubectl
from .errors import ValidationFailed
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
            for command in answer:
                # The grader's own grammar: an answer it cannot parse could never be matched.
                try:
                    kubectl.parse(command)
                except ValidationFailed as exc:
                    return [("answer", f"the grader cannot parse {command!r}: {exc.detail}")]
    if qtype == "flashcard" and not _is_text(answer):
        return [("answer", "must be the text of the back of the card")]
    if qtype == "manifest":
        raw = answer.get("checks") if isinstance(answer, dict) else answer
        if not isinstance(raw, list) or not raw:
            return [("answer", "must be the rubric checks for the manifest (answer.checks)")]
        from . import rubric  # the rubric compiler is heavy to import; only manifests need it

        _, problems = rubric.compile_checks(raw)
        return [("answer", f"{field}: {message}") for field, message in problems[:3]]
    return []


KNOWN_LAB_FIELDS = {
    "id",
    "title",
    "chapter",
    "competencies",
    "difficulty",
    "summary",
    "instructions",
    "hints",
    "checks",
    "reads",
}


def lab_problems(
    raw: dict[str, Any], folder: str, competency_ids: set[str], chapter_ids: set[str]
) -> list[Problem]:
    """Check a lab's own fields (its checks are checked by the rubric compiler)."""
    problems = id_problems(raw.get("id"))
    if raw.get("id") != folder:
        problems.append(("id", f"must equal its folder name {folder!r}"))
    for field in ("title", "summary", "instructions"):
        if not _is_text(raw.get(field)):
            problems.append((field, "is required and must be non-empty text"))
    if raw.get("chapter") not in chapter_ids:
        problems.append(("chapter", f"unknown chapter {raw.get('chapter')!r}"))
    comps = raw.get("competencies")
    if not isinstance(comps, list) or not comps or any(c not in competency_ids for c in comps):
        problems.append(("competencies", "must be a non-empty list of known competency ids"))
    difficulty = raw.get("difficulty")
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 3:
        problems.append(("difficulty", f"must be 1, 2 or 3, got {difficulty!r}"))
    hints = raw.get("hints", [])
    if not isinstance(hints, list) or not all(_is_text(h) for h in hints):
        problems.append(("hints", "must be a list of texts"))
    reads = raw.get("reads", [])
    if not isinstance(reads, list) or not all(isinstance(k, str) for k in reads):
        problems.append(("reads", "must be a list of kinds"))
    if not isinstance(raw.get("checks"), list) or not raw["checks"]:
        problems.append(("checks", "a lab needs at least one check"))
    unknown = set(raw) - KNOWN_LAB_FIELDS
    if unknown:
        problems.append((sorted(unknown)[0], "is not a lab field"))
    return problems


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


# What the course must reach (issue: the full course). `content check` fails below these.
MINIMUMS = {
    "sections_per_competency": 1,
    "questions_per_competency": 4,
    "questions": 250,
    "question_types": 5,
    "hands_on": 60,
}


def minimum_problems(course: Course) -> list[str]:
    """Where the course falls short of `MINIMUMS`, one line each."""
    problems = []
    for cid, row in coverage(course).items():
        total = sum(row["questions"].values())
        if row["sections"] < MINIMUMS["sections_per_competency"]:
            problems.append(f"{cid}: no section teaches it")
        if total < MINIMUMS["questions_per_competency"]:
            problems.append(
                f"{cid}: {total} questions, at least {MINIMUMS['questions_per_competency']} needed"
            )
    questions = [q for ch in course.chapters for q in ch.questions]
    types = Counter(q.type for q in questions)
    if len(questions) < MINIMUMS["questions"]:
        problems.append(f"course: {len(questions)} questions, at least {MINIMUMS['questions']}")
    if len(types) < MINIMUMS["question_types"]:
        problems.append(
            f"course: {len(types)} question types, at least {MINIMUMS['question_types']}"
        )
    hands_on = sum(types[t] for t in HANDS_ON_TYPES)
    if hands_on < MINIMUMS["hands_on"]:
        problems.append(f"course: {hands_on} hands-on questions, at least {MINIMUMS['hands_on']}")
    return problems


# Removed or renamed things a learner may meet in old material, and what is current.
OUTDATED_TERMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I if flags else 0), current)
    for pattern, current, flags in (
        (r"extensions/v1beta1", "apps/v1 and networking.k8s.io/v1 (removed in 1.16/1.22)", 0),
        (r"apps/v1beta[12]", "apps/v1 (removed in 1.16)", 0),
        (r"networking\.k8s\.io/v1beta1", "networking.k8s.io/v1 (removed in 1.22)", 0),
        (r"policy/v1beta1", "policy/v1 (removed in 1.25)", 0),
        (r"batch/v1beta1", "batch/v1 (removed in 1.25)", 0),
        (r"autoscaling/v2beta[12]", "autoscaling/v2 (removed in 1.25/1.26)", 0),
        (r"\bPodSecurityPolicy\b|\bPSPs?\b", "Pod Security Admission (PSP removed in 1.25)", 0),
        (r"\bPodPreset\b", "nothing (removed in 1.20)", 0),
        (r"--record\b", "the kubernetes.io/change-cause annotation (--record is deprecated)", 0),
        (r"k8s\.gcr\.io", "registry.k8s.io", 0),
        (r"\bdockershim\b", "containerd or CRI-O (dockershim removed in 1.24)", 1),
        (r"\bminions?\b", "worker node", 1),
        (r"\bmaster nodes?\b", "control plane node", 1),
        (r"\bRecycle\b", "dynamic provisioning (Recycle is deprecated)", 0),
        (r"--generator\b", "kubectl create (generators removed)", 0),
        (r"\brkt\b|\bfrakti\b", "containerd or CRI-O (rkt and frakti are archived)", 0),
        (r"\bifconfig\b|\bnet-tools\b", "the ip command from iproute2", 0),
        (r"kubectl run\b[^\n`]*--replicas", "kubectl create deployment --replicas", 0),
    )
)
_HISTORY = re.compile(
    r"\b(removed|remove|removal|deprecated|deprecation|old|older|replaced|replaces|no longer|"
    r"legacy|formerly|used to|archived|retired|renamed|superseded|obsolete|historical|history|"
    r"predecessor|outdated|gone|dropped|don't|do not|never|avoid|instead of)\b",
    re.I,
)
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)


def outdated_passages(markdown: str) -> list[str]:
    """Passages that name an outdated term without saying it is old.

    Prose is judged per paragraph (a table or list counts as one): naming the term is fine
    when the same paragraph says it is removed, deprecated, old, and so on. In code blocks
    every manifest or command line with the term must carry such a word in a comment;
    printed output (an error about a removed API) is not taught as current.
    """
    found = []
    for match in _FENCE.finditer(markdown):
        lang = (match.group(1).split() or [""])[0]
        for line in match.group(2).splitlines():
            # What a learner would copy: manifests, and commands (not printed output).
            stripped = line.strip().lstrip("$ ")
            is_input = lang in ("yaml", "yml") or stripped.startswith(("kubectl", "k ", "helm"))
            if not is_input:
                continue
            for pattern, current in OUTDATED_TERMS:
                if pattern.search(line) and not ("#" in line and _HISTORY.search(line)):
                    found.append(f"code `{line.strip()}`: use {current}")
    prose = _FENCE.sub("\n\n", markdown)
    for paragraph in re.split(r"\n\s*\n", prose):
        for pattern, current in OUTDATED_TERMS:
            hit = pattern.search(paragraph)
            if hit and not _HISTORY.search(paragraph):
                snippet = " ".join(paragraph.split())[:160]
                found.append(f"'{hit.group(0)}' in \"{snippet}\": use {current}")
    return found
