"""Labs: list and read them, verify a learner's work (cluster or manifests), keep attempts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain import manifests as manifest_rules
from ..domain import rubric
from ..domain.accounts import Learner
from ..domain.cluster_errors import ClusterUnavailable
from ..domain.errors import Forbidden, ValidationFailed
from .ports import Clock, UnitOfWork

SOURCES = ("cluster", "manifests")


def check_dicts(result: rubric.RubricResult) -> list[dict[str, Any]]:
    """Per-check outcomes as stored and returned; hints only where a check failed."""
    return [
        {
            "id": c.id,
            "title": c.title,
            "status": c.status,
            "message": c.message,
            "hint": c.hint if c.status == "failed" else None,
            "weight": c.weight,
        }
        for c in result.checks
    ]


class LabService:
    """Use cases of hands-on labs."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        content,
        *,
        cluster_reader: Callable[[], Any] | None,
        namespace_pattern: str,
        kubernetes_version: str = "1.37.0",
        read_uow: Callable[[], UnitOfWork] | None = None,
    ):
        self._uow = uow
        # Reads go through connections that take no write lock (SQLite: no BEGIN IMMEDIATE).
        self._read = read_uow or uow
        self._clock = clock
        self._content = content
        self._cluster_reader = cluster_reader
        self._pattern = namespace_pattern
        self._k8s = kubernetes_version

    def list(self, learner: Learner) -> list[dict[str, Any]]:
        """Every lab, with the learner's attempts and best score."""
        view = self._content.view()
        with self._read() as uow:
            summary = uow.attempts.summary(learner.id)
        items = []
        for lab in view.labs.values():
            attempts, best, passed = summary.get(lab.id, (0, None, False))
            r = lab.row
            items.append(
                {
                    "id": r.id,
                    "title": r.title,
                    "chapter_id": r.chapter_id,
                    "competencies": r.competencies,
                    "difficulty": r.difficulty,
                    "summary": r.summary,
                    "check_count": len(lab.checks),
                    "attempts": attempts,
                    "best_score": best,
                    "passed": passed,
                }
            )
        return items

    def get(self, lab_id: str) -> dict[str, Any]:
        """A lab's instructions and checks (titles and hints, never the solution)."""
        lab = self._content.view().lab(lab_id)
        r = lab.row
        return {
            "id": r.id,
            "title": r.title,
            "chapter_id": r.chapter_id,
            "competencies": r.competencies,
            "difficulty": r.difficulty,
            "summary": r.summary,
            "instructions": r.instructions_md,
            "instructions_html": r.instructions_html,
            "hints": r.hints,
            "start": r.start,
            "checks": [
                {"id": c.id, "title": c.title, "live": c.live, "weight": c.weight, "hint": c.hint}
                for c in lab.checks
            ],
        }

    def evaluate(
        self,
        lab_id: str,
        *,
        manifests: str | None = None,
        namespace: str | None = None,
        reader: Any = None,
    ) -> dict[str, Any]:
        """Grade manifests or a namespace without storing anything (the CLI's path)."""
        lab = self._content.view().lab(lab_id)
        snapshot, warnings = self._snapshot(lab, manifests, namespace, reader)
        result = rubric.evaluate(lab.checks, snapshot)
        return {
            "score": result.score,
            "passed": result.passed,
            "checks": check_dicts(result),
            "warnings": warnings,
        }

    def verify(
        self,
        learner: Learner,
        lab_id: str,
        source: str,
        *,
        manifests: str | None = None,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """Grade the learner's work and store the attempt."""
        lab = self._content.view().lab(lab_id)
        if source not in SOURCES:
            raise ValidationFailed(
                "unknown source", errors={"source": ["must be cluster or manifests"]}
            )
        target_ns = None
        if source == "manifests":
            if not manifests:
                raise ValidationFailed(
                    "paste the manifests to check",
                    errors={"manifests": ["is required for source manifests"]},
                )
        else:
            own = learner.lab_namespace(self._pattern)
            if namespace and namespace != own and not learner.is_admin:
                raise Forbidden(f"you can verify only your own namespace {own!r}")
            target_ns = namespace or own
        snapshot, warnings = self._snapshot(
            lab, manifests if source == "manifests" else None, target_ns
        )
        result = rubric.evaluate(lab.checks, snapshot)
        checks = check_dicts(result)
        now = self._clock.now()
        with self._uow() as uow:
            attempt_id = uow.attempts.add(
                learner_id=learner.id,
                lab_id=lab.id,
                source=source,
                namespace=target_ns,
                score=result.score,
                passed=result.passed,
                results=checks,
                warnings=warnings,
                created_at=now,
            )
            uow.commit()
        return {
            "attempt_id": attempt_id,
            "lab_id": lab.id,
            "source": source,
            "namespace": target_ns,
            "score": result.score,
            "passed": result.passed,
            "checks": checks,
            "warnings": warnings,
            "created_at": now,
        }

    def _snapshot(self, lab, manifests: str | None, namespace: str | None, reader: Any = None):
        if manifests is not None:
            parsed = manifest_rules.parse_manifests(manifests)
            warnings = manifest_rules.schema_warnings(parsed.objects, self._k8s)
            return rubric.Snapshot(objects=tuple(parsed.objects), source="manifests"), warnings
        if reader is not None:
            objects = reader.snapshot(namespace, lab.row.reads)
            return rubric.Snapshot(objects=tuple(objects), source="cluster"), []
        if self._cluster_reader is None:
            raise ClusterUnavailable(
                "no cluster is configured for lab verification (set CKAD_KUBECONFIG or run in a "
                "cluster); submit your manifests instead",
                cause="not-configured",
            )
        objects = self._cluster_reader().snapshot(namespace, lab.row.reads)
        return rubric.Snapshot(objects=tuple(objects), source="cluster"), []

    def attempts(
        self, learner: Learner, lab_id: str, before_id: int | None, limit: int
    ) -> list[Any]:
        """The learner's attempts at a lab, newest first."""
        self._content.view().lab(lab_id)
        with self._read() as uow:
            return uow.attempts.page(learner.id, lab_id, before_id, limit)

    def solution(self, learner: Learner, lab_id: str) -> dict[str, Any]:
        """The reference solution, once the learner has made an attempt."""
        lab = self._content.view().lab(lab_id)
        with self._read() as uow:
            if uow.attempts.count(learner.id, lab_id) == 0 and not learner.is_admin:
                raise Forbidden("the solution opens after your first attempt at this lab")
        return {"lab_id": lab.id, "solution": lab.row.solution}

    def grade_manifest_question(self, question, text: str) -> rubric.RubricResult:
        """The review grader's hook for `manifest` questions: the same engine and messages."""
        checks = _question_checks(question.id, question.answer)
        parsed = manifest_rules.parse_manifests(text)
        return rubric.evaluate(
            checks, rubric.Snapshot(objects=tuple(parsed.objects), source="manifests")
        )


_CHECK_CACHE: dict[tuple[str, int], tuple[Any, ...]] = {}


def _question_checks(question_id: str, answer: Any) -> tuple[Any, ...]:
    raw = answer if isinstance(answer, list) else answer.get("checks", [])
    key = (question_id, hash(repr(raw)))
    if key not in _CHECK_CACHE:
        checks, problems = rubric.compile_checks(raw)
        if problems:
            raise rubric.RubricBug(f"question {question_id}: {problems[0]}")
        _CHECK_CACHE[key] = tuple(checks)
    return _CHECK_CACHE[key]
