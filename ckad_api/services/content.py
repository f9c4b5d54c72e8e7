"""Course content: load and check the files, and serve an in-memory view of what is loaded.

Reads are served from an immutable `CourseView` built from the database once per content
checksum. Each worker polls the checksum at most every `poll_seconds`, so a `content load`
run by another process reaches every worker within that time without a query per request.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..domain import content_rules, rubric
from ..domain.errors import NotFound, Unavailable
from ..domain.model import Course, Question
from .ports import Clock, UnitOfWork


@dataclasses.dataclass
class CheckReport:
    """Outcome of `content check`: problems (file:line: field: problem) and coverage."""

    problems: list[str]
    coverage: dict[str, dict[str, Any]]
    course: Course | None


@dataclasses.dataclass(frozen=True)
class LabView:
    """A loaded lab and its compiled checks."""

    row: Any
    checks: tuple[Any, ...]

    @property
    def id(self) -> str:
        """The lab id."""
        return self.row.id


class CourseView:
    """An immutable picture of the loaded course, shaped for the read routes."""

    def __init__(
        self,
        snap: dict[str, Any],
        make_index: Callable[[list[Any]], Any],
    ):
        state = snap["state"]
        self.checksum: str = state.checksum
        self.version: str = state.version
        self._make_index = make_index
        self._index = None
        self._index_lock = threading.Lock()
        # Bounded per view: a content reload starts a fresh cache with the fresh view.
        self._search_cached = functools.lru_cache(maxsize=512)(self._search)
        # Per-view cache of encoded responses; dies with the view when content changes.
        self.cache: dict[Any, Any] = {}

        sec_comps: dict[str, list[str]] = {}
        for section_id, comp_id in snap["section_competencies"]:
            sec_comps.setdefault(section_id, []).append(comp_id)
        qcounts: dict[str, int] = snap["question_counts"]
        by_chapter: dict[str, list[Any]] = {}
        for s in snap["sections"]:
            by_chapter.setdefault(s.chapter_id, []).append(s)
        comp_order = {c.id: i for i, c in enumerate(snap["competencies"])}

        def ordered(ids) -> list[str]:
            return sorted(set(ids), key=lambda c: comp_order.get(c, 1 << 30))

        comp_sections: dict[str, list[str]] = {}
        self.chapters: dict[str, dict[str, Any]] = {}
        self.sections: dict[str, dict[str, Any]] = {}
        self._search_rows = []
        for ch in snap["chapters"]:
            secs = sorted(by_chapter.get(ch.id, []), key=lambda s: s.position)
            chapter_comps = ordered(c for s in secs for c in sec_comps.get(s.id, []))
            section_items = []
            for i, s in enumerate(secs):
                comps = ordered(sec_comps.get(s.id, []))
                for c in comps:
                    comp_sections.setdefault(c, []).append(s.id)
                section_items.append(
                    {
                        "id": s.id,
                        "title": s.title,
                        "position": i,
                        "competencies": comps,
                        "question_count": qcounts.get(s.id, 0),
                    }
                )
                self.sections[s.id] = {
                    "id": s.id,
                    "chapter_id": ch.id,
                    "chapter_title": ch.title,
                    "title": s.title,
                    "position": i,
                    "competencies": comps,
                    "markdown": s.body_md,
                    "html": s.body_html,
                    "question_count": qcounts.get(s.id, 0),
                    "previous_section_id": secs[i - 1].id if i > 0 else None,
                    "next_section_id": secs[i + 1].id if i + 1 < len(secs) else None,
                }
                self._search_rows.append((s, ch.id))
            self.chapters[ch.id] = {
                "id": ch.id,
                "number": ch.number,
                "title": ch.title,
                "summary": ch.summary,
                "objectives": list(ch.objectives),
                "competencies": chapter_comps,
                "sections": section_items,
                "question_count": sum(x["question_count"] for x in section_items),
            }
        # Questions in course order, with their answers (never sent before an answer).
        qcomps: dict[str, list[str]] = {}
        for question_id, comp_id in snap.get("question_competencies", ()):
            qcomps.setdefault(question_id, []).append(comp_id)
        numbers = {ch.id: ch.number for ch in snap["chapters"]}
        self.questions: dict[str, Question] = {}
        for q in sorted(
            snap.get("questions", ()),
            key=lambda q: (numbers.get(q.chapter_id, 1 << 30), q.position),
        ):
            if q.chapter_id not in numbers:
                continue
            self.questions[q.id] = Question(
                id=q.id,
                chapter_id=q.chapter_id,
                section_id=q.section_id,
                position=q.position,
                type=q.type,
                prompt=q.prompt,
                answer=q.answer,
                explanation=q.explanation,
                competencies=tuple(ordered(qcomps.get(q.id, []))),
                difficulty=q.difficulty,
                choices=tuple(q.choices) if q.choices is not None else None,
                hint=q.hint,
                expected_seconds=q.expected_seconds,
            )
        self.question_order = list(self.questions)
        self.competency_domain = {c.id: c.domain_id for c in snap["competencies"]}
        # Labs with their rubric compiled once per content version (compiling is not free).
        self.labs: dict[str, LabView] = {}
        for row in snap.get("labs", ()):
            checks, problems = rubric.compile_checks(row.checks)
            if problems:  # content load refuses broken rubrics; a stale row must not serve
                continue
            self.labs[row.id] = LabView(row, tuple(checks))
        self.chapter_list = [
            {k: v for k, v in c.items() if k not in ("sections", "objectives")}
            | {"section_count": len(c["sections"])}
            for c in self.chapters.values()
        ]
        comps_by_domain: dict[str, list[dict[str, Any]]] = {}
        for c in snap["competencies"]:
            comps_by_domain.setdefault(c.domain_id, []).append(
                {"id": c.id, "title": c.title, "sections": comp_sections.get(c.id, [])}
            )
        self.course = {
            "id": state.course_id,
            "title": state.title,
            "version": state.version,
            "kubernetes_version": state.kubernetes_version,
            "loaded_at": state.loaded_at,
            "domains": [
                {
                    "id": d.id,
                    "title": d.title,
                    "weight": d.weight,
                    "competencies": comps_by_domain.get(d.id, []),
                }
                for d in snap["domains"]
            ],
        }

    def lab(self, lab_id: str) -> LabView:
        """A live lab, or NotFound."""
        try:
            return self.labs[lab_id]
        except KeyError:
            raise NotFound(f"there is no lab {lab_id!r}") from None

    def question(self, question_id: str) -> Question:
        """A live question, or NotFound."""
        try:
            return self.questions[question_id]
        except KeyError:
            raise NotFound(f"there is no question {question_id!r}") from None

    def chapter(self, chapter_id: str) -> dict[str, Any]:
        """One chapter with its sections, or NotFound."""
        try:
            return self.chapters[chapter_id]
        except KeyError:
            raise NotFound(f"there is no chapter {chapter_id!r}") from None

    def section(self, section_id: str) -> dict[str, Any]:
        """One section with Markdown and sanitised HTML, or NotFound."""
        try:
            return self.sections[section_id]
        except KeyError:
            raise NotFound(f"there is no section {section_id!r}") from None

    def search(self, query: str, limit: int) -> list[dict[str, Any]]:
        """Sections ranked by BM25 with highlighted snippets (repeated queries are cached)."""
        return self._search_cached(" ".join(query.split()).lower(), limit)

    @property
    def index(self):
        """The search index over the sections (built on first use)."""
        with self._index_lock:
            if self._index is None:
                # Review questions are indexed with their section: learners ask the way
                # they are written.
                asked: dict[str, list[tuple[str, str, str]]] = {}
                for q in self.questions.values():
                    asked.setdefault(q.section_id, []).append(
                        (q.prompt, q.hint or "", q.explanation or "")
                    )
                self._index = self._make_index(
                    [
                        (s.id, chapter_id, s.title, s.body_md, asked.get(s.id, []))
                        for s, chapter_id in self._search_rows
                    ]
                )
        return self._index

    def _search(self, query: str, limit: int) -> list[dict[str, Any]]:
        self.index  # noqa: B018 - build it
        return [
            {
                "section_id": h.doc.section_id,
                "chapter_id": h.doc.chapter_id,
                "title": h.doc.title,
                "score": round(h.score, 4),
                "snippet": h.snippet_html,
            }
            for h in self._index.search(query, limit)
        ]


class ContentService:
    """Load and check content files; hand out the current `CourseView`."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        read_uow: Callable[[], UnitOfWork],
        clock: Clock,
        read_content: Callable[[Path], Any],
        render: Callable[[str], str],
        make_index: Callable[[list[Any]], Any],
        poll_seconds: float = 1.0,
    ):
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock
        self._read = read_content
        self._render = render
        self._make_index = make_index
        self._poll = poll_seconds
        self._view: CourseView | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def check(self, root: Path) -> CheckReport:
        """Read and validate every file; nothing is written."""
        result = self._read(root)
        cov = content_rules.coverage(result.course) if result.course else {}
        return CheckReport(result.problems, cov, result.course)

    def load(self, root: Path) -> dict[str, int]:
        """Load the files in one transaction; any problem loads nothing and raises."""
        result = self._read(root)
        if result.problems:
            raise ContentProblems(result.problems)
        course: Course = result.course
        html = {s.id: self._render(s.body_md) for ch in course.chapters for s in ch.sections}
        html.update({f"lab:{lab.id}": self._render(lab.instructions) for lab in course.labs})
        with self._uow() as uow:
            counts = uow.content.replace_course(course, html, result.checksum, self._clock.now())
            uow.commit()
        self.invalidate()
        return counts

    def invalidate(self) -> None:
        """Forget the cached view so the next read rebuilds it."""
        with self._lock:
            self._view = None
            self._checked_at = float("-inf")

    def loaded_checksum(self) -> str | None:
        """The checksum of the content in the database (one query), or None."""
        with self._read_uow() as uow:
            state = uow.content.state()
            return state.checksum if state else None

    def view(self) -> CourseView:
        """The current course view; Unavailable (503) before any content is loaded."""
        now = time.monotonic()
        view = self._view
        if view is not None and now - self._checked_at < self._poll:
            return view
        with self._lock:
            if self._view is not None and now - self._checked_at < self._poll:
                return self._view
            checksum = self.loaded_checksum()
            if checksum is None:
                raise Unavailable("no course content is loaded; run `flask content load`")
            if self._view is None or self._view.checksum != checksum:
                self._view = self._build_view()
            self._checked_at = now
            return self._view

    def _build_view(self) -> CourseView:
        # The snapshot is several reads; a load committed between them would mix two
        # versions, so the checksum is read again afterwards and the snapshot retaken.
        for _ in range(5):
            with self._read_uow() as uow:
                snap = uow.content.snapshot()
            if snap is None:
                raise Unavailable("no course content is loaded")
            if self.loaded_checksum() == snap["state"].checksum:
                return CourseView(snap, self._make_index)
        raise Unavailable("the course content is being reloaded; try again")


class ContentProblems(Exception):
    """The content files have problems; nothing was loaded."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} content problem(s)")
        self.problems = problems
