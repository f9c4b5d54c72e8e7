"""Plain domain values of the course. No framework, no database: dataclasses only."""

from __future__ import annotations

import dataclasses
from typing import Any

QUESTION_TYPES = (
    "single_choice",
    "multi_choice",
    "true_false",
    "short_answer",
    "kubectl",
    "manifest",
    "flashcard",
)
ROLES = ("learner", "admin")


@dataclasses.dataclass(frozen=True)
class Competency:
    """One exam competency, identified as `<domain>/<slug>`."""

    id: str
    domain_id: str
    title: str
    position: int


@dataclasses.dataclass(frozen=True)
class Domain:
    """An exam domain with its weight in percent (0 = not weighted)."""

    id: str
    title: str
    weight: int
    position: int
    competencies: tuple[Competency, ...]


@dataclasses.dataclass(frozen=True)
class Section:
    """One teaching section of a chapter; `body_md` is the author's Markdown."""

    id: str
    chapter_id: str
    position: int
    title: str
    competencies: tuple[str, ...]
    body_md: str
    source: str = ""  # file the section came from, for error messages


@dataclasses.dataclass(frozen=True)
class Question:
    """A review question; `answer` has a shape that depends on `type`."""

    id: str
    chapter_id: str
    section_id: str
    position: int
    type: str
    prompt: str
    answer: Any
    explanation: str
    competencies: tuple[str, ...]
    difficulty: int
    choices: tuple[str, ...] | None = None
    hint: str | None = None
    expected_seconds: int | None = None


@dataclasses.dataclass(frozen=True)
class Chapter:
    """A chapter: ordered sections and the questions that test them."""

    id: str
    number: int
    title: str
    summary: str
    objectives: tuple[str, ...]
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]


@dataclasses.dataclass(frozen=True)
class Lab:
    """A hands-on task graded by a rubric; `checks` are compiled rubric checks."""

    id: str
    title: str
    chapter_id: str
    competencies: tuple[str, ...]
    difficulty: int
    summary: str
    instructions: str  # Markdown
    hints: tuple[str, ...]
    checks: tuple[Any, ...]
    raw_checks: tuple[dict[str, Any], ...]
    reads: tuple[str, ...]  # every kind the checks read (LISTed from a cluster)
    solution: str  # multi-document YAML, shown only after an attempt
    start: str | None = None  # a starting manifest, for labs that begin broken
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Course:
    """The whole course as authored: domains, competencies and chapters."""

    id: str
    title: str
    version: str
    kubernetes_version: str
    domains: tuple[Domain, ...]
    chapters: tuple[Chapter, ...]
    labs: tuple[Lab, ...] = ()

    def competency_ids(self) -> list[str]:
        """Every competency id in course order."""
        return [c.id for d in self.domains for c in d.competencies]


# How long a prepared learner needs per question type when the author gives no figure.
DEFAULT_EXPECTED_SECONDS = {
    "single_choice": 30,
    "multi_choice": 45,
    "true_false": 20,
    "short_answer": 30,
    "kubectl": 60,
    "manifest": 300,
    "flashcard": 20,
}
