"""Read the course from `content/` into domain values, reporting `file:line: field: problem`.

The reader never stops at the first problem: it collects every one so an author fixes a
whole batch at once. A course with any problem is not loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import yaml

from ..domain import content_rules, rubric
from ..domain.model import (
    DEFAULT_EXPECTED_SECONDS,
    Chapter,
    Competency,
    Course,
    Domain,
    Lab,
    Question,
    Section,
)


class _LineDict(dict):
    """A mapping that remembers the line of each key (1-based) and of itself."""

    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are `_LineDict`s."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclasses.dataclass
class ReadResult:
    """What reading the content folder produced."""

    course: Course | None
    problems: list[str]
    checksum: str


class _Reader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []
        self.digest = hashlib.sha256()

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def problem(self, path: Path, line: int, field: str, message: str) -> None:
        self.problems.append(f"{self.rel(path)}:{line}: {field}: {message}")

    def load_yaml(self, path: Path, text: str | None = None, line_offset: int = 0) -> Any:
        if text is None:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                self.problem(path, 1, "file", f"cannot be read: {exc.strerror}")
                return None
            self.digest.update(self.rel(path).encode() + b"\0" + raw + b"\0")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.problem(path, 1, "file", "is not UTF-8")
                return None
        try:
            return yaml.load(text, Loader=_LineLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = (mark.line + 1 if mark else 1) + line_offset
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(path, line, "yaml", f"cannot be parsed: {reason}")
            return None

    def line_of(self, mapping: Any, field: str, offset: int = 0) -> int:
        if isinstance(mapping, _LineDict):
            return mapping.key_lines.get(field, mapping.line) + offset
        return 1 + offset

    def report(self, path: Path, mapping: Any, problems: list[tuple[str, str]], offset=0) -> None:
        for field, message in problems:
            self.problem(path, self.line_of(mapping, field, offset), field, message)

    def require_mapping(self, path: Path, data: Any, what: str) -> bool:
        if not isinstance(data, dict):
            self.problem(path, 1, what, "must be a mapping")
            return False
        return True

    # -- course.yaml -----------------------------------------------------------------------
    def read_course_meta(self) -> tuple[dict[str, Any], list[Domain]]:
        path = self.root / "course.yaml"
        data = self.load_yaml(path)
        if data is None or not self.require_mapping(path, data, "course"):
            return {}, []
        for field in ("id", "title", "version", "kubernetes_version"):
            if not isinstance(data.get(field), (str, int, float)) or str(data[field]).strip() == "":
                self.problem(path, self.line_of(data, field), field, "is required")
        domains: list[Domain] = []
        raw_domains = data.get("domains")
        if not isinstance(raw_domains, list) or not raw_domains:
            self.problem(path, self.line_of(data, "domains"), "domains", "must be a non-empty list")
            return data, []
        seen: set[str] = set()
        total_weight = 0
        c_pos = 0  # competencies are numbered across the course, in reading order
        for d_pos, raw in enumerate(raw_domains):
            if not self.require_mapping(path, raw, "domains[]"):
                continue
            self.report(path, raw, content_rules.id_problems(raw.get("id")))
            weight = raw.get("weight")
            if not isinstance(weight, int) or not 0 <= weight <= 100:
                self.problem(path, self.line_of(raw, "weight"), "weight", "must be 0..100")
                weight = 0
            total_weight += weight
            comps: list[Competency] = []
            for rc in raw.get("competencies") or []:
                if not self.require_mapping(path, rc, "competencies[]"):
                    continue
                cid = rc.get("id")
                if not isinstance(cid, str) or not content_rules.COMPETENCY_PATTERN.match(cid):
                    self.problem(path, self.line_of(rc, "id"), "id", f"bad competency id {cid!r}")
                    continue
                if not cid.startswith(f"{raw.get('id')}/"):
                    self.problem(path, self.line_of(rc, "id"), "id", "must start with its domain")
                if cid in seen:
                    self.problem(path, self.line_of(rc, "id"), "id", f"duplicate id {cid!r}")
                seen.add(cid)
                comps.append(Competency(cid, str(raw.get("id")), str(rc.get("title", "")), c_pos))
                c_pos += 1
            if not comps:
                self.problem(path, raw.line, "competencies", "a domain needs competencies")
            domains.append(
                Domain(str(raw.get("id")), str(raw.get("title", "")), weight, d_pos, tuple(comps))
            )
        if total_weight != 100:
            self.problem(path, self.line_of(data, "domains"), "weight", "weights must add to 100")
        return data, domains

    # -- chapters --------------------------------------------------------------------------
    def read_section(self, path: Path, chapter_id: str, position: int) -> Section | None:
        raw = path.read_bytes()
        self.digest.update(self.rel(path).encode() + b"\0" + raw + b"\0")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problem(path, 1, "file", "is not UTF-8")
            return None
        if not text.startswith("---\n"):
            self.problem(path, 1, "front matter", "a section starts with '---' and YAML")
            return None
        end = text.find("\n---", 4)
        if end < 0:
            self.problem(path, 1, "front matter", "is not closed by a '---' line")
            return None
        meta = self.load_yaml(path, text[4:end], line_offset=1)
        body = text[end + 4 :].lstrip("\n")
        if meta is None or not self.require_mapping(path, meta, "front matter"):
            return None
        problems = content_rules.id_problems(meta.get("id"))
        if not isinstance(meta.get("title"), str) or not meta["title"].strip():
            problems.append(("title", "is required"))
        comps = meta.get("competencies")
        if not isinstance(comps, list) or not comps:
            problems.append(("competencies", "is required: a non-empty list of competency ids"))
            comps = []
        if not body.strip():
            problems.append(("body", "the section has no text"))
        self.report(path, meta, problems, offset=1)
        if problems:
            return None
        return Section(
            id=meta["id"],
            chapter_id=chapter_id,
            position=position,
            title=meta["title"].strip(),
            competencies=tuple(str(c) for c in comps),
            body_md=body,
            source=self.rel(path),
        )

    def read_questions(self, path: Path, chapter_id: str) -> list[tuple[Question, _LineDict]]:
        if not path.exists():
            return []
        data = self.load_yaml(path)
        if data is None:
            return []
        if not isinstance(data, list):
            self.problem(path, 1, "questions", "must be a list of questions")
            return []
        result = []
        for position, raw in enumerate(data):
            if not isinstance(raw, dict):
                self.problem(path, 1, "questions[]", "each question must be a mapping")
                continue
            problems = content_rules.question_problems(raw)
            self.report(path, raw, problems)
            if problems:
                continue
            qtype = raw["type"]
            result.append(
                (
                    Question(
                        id=raw["id"],
                        chapter_id=chapter_id,
                        section_id=raw["section"],
                        position=position,
                        type=qtype,
                        prompt=raw["prompt"].strip(),
                        answer=_plain(raw["answer"]),
                        explanation=raw["explanation"].strip(),
                        competencies=tuple(raw["competencies"]),
                        difficulty=raw["difficulty"],
                        choices=tuple(raw["choices"]) if raw.get("choices") else None,
                        hint=raw.get("hint"),
                        expected_seconds=raw.get("expected_seconds")
                        or DEFAULT_EXPECTED_SECONDS[qtype],
                    ),
                    raw,
                )
            )
        return result

    def read_chapter(self, folder: Path):
        path = folder / "chapter.yaml"
        data = self.load_yaml(path)
        if data is None or not self.require_mapping(path, data, "chapter"):
            return None
        problems = content_rules.id_problems(data.get("id"))
        number = data.get("number")
        if not isinstance(number, int) or number < 0:
            problems.append(("number", f"must be a non-negative integer, got {number!r}"))
        for field in ("title", "summary"):
            if not isinstance(data.get(field), str) or not data[field].strip():
                problems.append((field, "is required"))
        objectives = data.get("objectives")
        if not isinstance(objectives, list) or not all(isinstance(o, str) for o in objectives):
            problems.append(("objectives", "must be a list of texts"))
            objectives = []
        self.report(path, data, problems)
        if problems:
            return None
        sections = []
        for position, md in enumerate(sorted(folder.glob("[0-9]*.md"))):
            section = self.read_section(md, data["id"], position)
            if section:
                sections.append(section)
        if not sections:
            self.problem(path, 1, "sections", "a chapter needs at least one section file")
        questions = self.read_questions(folder / "questions.yaml", data["id"])
        return data, sections, questions

    # -- labs ------------------------------------------------------------------------------
    def read_labs(self, competency_ids: set[str], chapter_ids: set[str]) -> list[Lab]:
        labs_dir = self.root / "labs"
        if not labs_dir.exists():
            return []
        labs = []
        for folder in sorted(p for p in labs_dir.iterdir() if p.is_dir()):
            lab = self.read_lab(folder, competency_ids, chapter_ids)
            if lab:
                labs.append(lab)
        return labs

    def read_text(self, path: Path) -> str | None:
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        self.digest.update(self.rel(path).encode() + b"\0" + raw + b"\0")
        return raw.decode("utf-8", "replace")

    def read_lab(self, folder: Path, competency_ids: set[str], chapter_ids: set[str]):
        path = folder / "lab.yaml"
        data = self.load_yaml(path)
        if data is None or not self.require_mapping(path, data, "lab"):
            return None
        problems = content_rules.lab_problems(data, folder.name, competency_ids, chapter_ids)
        checks, check_problems = rubric.compile_checks(data.get("checks") or [])
        self.report(path, data, problems)
        raw_checks = data.get("checks") if isinstance(data.get("checks"), list) else []
        for field, message in check_problems:
            self.problem(path, self._check_line(data, raw_checks, field), field, message)
        solution = self.read_text(folder / "solution.yaml")
        if solution is None:
            self.problem(folder / "solution.yaml", 1, "solution", "every lab needs a solution")
        start = self.read_text(folder / "start.yaml") if (folder / "start.yaml").exists() else None
        if problems or check_problems or solution is None:
            return None
        reads = set(data.get("reads") or []) | {c.target.kind for c in checks if c.target}
        return Lab(
            id=data["id"],
            title=data["title"].strip(),
            chapter_id=data["chapter"],
            competencies=tuple(data["competencies"]),
            difficulty=data["difficulty"],
            summary=data["summary"].strip(),
            instructions=data["instructions"].strip(),
            hints=tuple(data.get("hints") or ()),
            checks=tuple(checks),
            raw_checks=tuple(_plain(c) for c in raw_checks),
            reads=tuple(sorted(reads)),
            solution=solution,
            start=start,
            source=self.rel(path),
        )

    def _check_line(self, data: Any, raw_checks: list[Any], field: str) -> int:
        # Problems name `checks.<id>.<field>`: point at that check, or at `checks:`.
        parts = field.split(".")
        if len(parts) >= 2:
            for raw in raw_checks:
                if isinstance(raw, dict) and str(raw.get("id")) == parts[1]:
                    return self.line_of(raw, parts[2] if len(parts) > 2 else "id")
        return self.line_of(data, "checks")

    def read(self) -> ReadResult:
        meta, domains = self.read_course_meta()
        competency_ids = {c.id for d in domains for c in d.competencies}
        chapters: list[Chapter] = []
        section_ids: dict[str, str] = {}
        question_ids: dict[str, str] = {}
        chapter_ids: dict[str, str] = {}
        numbers: dict[int, str] = {}
        pending_questions = []
        chapters_dir = self.root / "chapters"
        folders = (
            sorted(p for p in chapters_dir.iterdir() if p.is_dir()) if chapters_dir.exists() else []
        )
        if not folders:
            self.problem(chapters_dir, 1, "chapters", "the course has no chapters")
        for folder in folders:
            read = self.read_chapter(folder)
            if read is None:
                continue
            data, sections, questions = read
            cpath = folder / "chapter.yaml"
            if data["id"] in chapter_ids:
                self.problem(
                    cpath,
                    self.line_of(data, "id"),
                    "id",
                    f"duplicate chapter id, also in {chapter_ids[data['id']]}",
                )
            chapter_ids[data["id"]] = self.rel(cpath)
            if data["number"] in numbers:
                self.problem(
                    cpath,
                    self.line_of(data, "number"),
                    "number",
                    f"duplicate chapter number, also in {numbers[data['number']]}",
                )
            numbers[data["number"]] = self.rel(cpath)
            for s in sections:
                if s.id in section_ids:
                    self.problem(
                        Path(s.source),
                        2,
                        "id",
                        f"duplicate section id, also in {section_ids[s.id]}",
                    )
                section_ids[s.id] = s.source
                for cid in s.competencies:
                    if cid not in competency_ids:
                        self.problem(
                            Path(s.source), 2, "competencies", f"unknown competency {cid!r}"
                        )
            qpath = folder / "questions.yaml"
            for q, raw in questions:
                if q.id in question_ids:
                    self.problem(
                        qpath,
                        self.line_of(raw, "id"),
                        "id",
                        f"duplicate question id, also in {question_ids[q.id]}",
                    )
                question_ids[q.id] = self.rel(qpath)
                for cid in q.competencies:
                    if cid not in competency_ids:
                        self.problem(
                            qpath,
                            self.line_of(raw, "competencies"),
                            "competencies",
                            f"unknown competency {cid!r}",
                        )
            pending_questions.append((qpath, questions))
            chapters.append(
                Chapter(
                    id=data["id"],
                    number=data["number"],
                    title=data["title"].strip(),
                    summary=data["summary"].strip(),
                    objectives=tuple(o.strip() for o in data["objectives"]),
                    sections=tuple(sections),
                    questions=tuple(q for q, _ in questions),
                )
            )
        labs = self.read_labs(competency_ids, set(chapter_ids))
        for qpath, questions in pending_questions:
            for q, raw in questions:
                if q.section_id not in section_ids:
                    self.problem(
                        qpath,
                        self.line_of(raw, "section"),
                        "section",
                        f"unknown section {q.section_id!r}",
                    )
        checksum = self.digest.hexdigest()
        if self.problems or not meta:
            return ReadResult(None, self.problems, checksum)
        chapters.sort(key=lambda c: c.number)
        course = Course(
            id=str(meta["id"]),
            title=str(meta["title"]),
            version=str(meta["version"]),
            kubernetes_version=str(meta["kubernetes_version"]),
            domains=tuple(domains),
            chapters=tuple(chapters),
            labs=tuple(labs),
        )
        return ReadResult(course, [], checksum)


def _plain(value: Any) -> Any:
    """Turn `_LineDict`s back into plain dicts (answers are stored as JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_content(root: Path) -> ReadResult:
    """Read and check every content file under `root`."""
    if not (root / "course.yaml").exists():
        return ReadResult(None, [f"{root}/course.yaml:1: file: not found"], "")
    return _Reader(root).read()
