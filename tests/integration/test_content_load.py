"""Loading content: idempotent, transactional, upsert by id, retire, never touch learners."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from ckad_api.adapters.orm import LearnerRow, QuestionRow, SectionRow
from ckad_api.services.content import ContentProblems
from tests.conftest import FIXTURE_CONTENT


@pytest.fixture
def content_copy(tmp_path):
    """An editable copy of the fixture content."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, target)
    return target


def questions(services) -> dict[str, QuestionRow]:
    with services.engine.connect() as conn:
        return {r.id: r for r in conn.execute(select(QuestionRow))}


def test_load_is_idempotent(services):
    before = questions(services)
    counts = services.content.load(FIXTURE_CONTENT)
    assert counts["new_questions"] == 0 and counts["retired_questions"] == 0
    assert questions(services) == before


def test_removed_question_is_retired_not_deleted_and_learners_stay(api, services, content_copy):
    api.register("ada")
    qfile = content_copy / "chapters/01-basics/questions.yaml"
    text = qfile.read_text()
    start = text.index("- id: basics-pod-smallest")
    end = text.find("- id:", start + 1)
    qfile.write_text(text[:start] + (text[end:] if end > 0 else ""))
    counts = services.content.load(content_copy)
    assert counts["retired_questions"] == 1
    rows = questions(services)
    assert rows["basics-pod-smallest"].retired is True
    assert rows["basics-probe-traffic"].retired is False
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(LearnerRow)).scalar() == 1
    # Putting it back revives the same question: ids are forever.
    services.content.load(FIXTURE_CONTENT)
    assert questions(services)["basics-pod-smallest"].retired is False


def test_changed_answer_updates_in_place(services, content_copy):
    qfile = content_copy / "chapters/01-basics/questions.yaml"
    qfile.write_text(qfile.read_text().replace("  answer: 1\n", "  answer: 2\n", 1))
    services.content.load(content_copy)
    assert questions(services)["basics-probe-traffic"].answer == 2


def test_a_broken_file_loads_nothing(services, content_copy):
    chapter = content_copy / "chapters/01-basics/chapter.yaml"
    chapter.write_text(chapter.read_text().replace("Basics for tests", "Renamed"))
    qfile = content_copy / "chapters/01-basics/questions.yaml"
    qfile.write_text(qfile.read_text().replace("difficulty: 1", "difficulty: 7", 1))
    with pytest.raises(ContentProblems) as raised:
        services.content.load(content_copy)
    assert any(
        ":difficulty: must be 1, 2 or 3" in p.replace(" difficulty", "difficulty")
        for p in raised.value.problems
    ), raised.value.problems
    assert services.content.view().chapter("basics")["title"] == "Basics for tests"


def test_check_reports_file_line_field(app, content_copy):
    qfile = content_copy / "chapters/01-basics/questions.yaml"
    lines = qfile.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip() == "answer: 1")
    lines[index] = "  answer: 9"
    qfile.write_text("\n".join(lines) + "\n")
    section = content_copy / "chapters/01-basics/02-deployments.md"
    section.write_text(section.read_text().replace("design-build/workloads", "design-build/nope"))
    result = app.test_cli_runner().invoke(args=["content", "check", "--dir", str(content_copy)])
    assert result.exit_code == 1
    assert (
        f"content/chapters/01-basics/questions.yaml:{index + 1}: answer: must be the "
        "0-based index of one choice, got 9"
    ) in result.output
    assert "02-deployments.md:2: competencies: unknown competency 'design-build/nope'" in (
        result.output
    )


def test_bad_yaml_reports_its_line(app, content_copy):
    qfile = content_copy / "chapters/01-basics/questions.yaml"
    qfile.write_text(qfile.read_text() + "- id: broken\n  prompt: [unclosed\n")
    result = app.test_cli_runner().invoke(args=["content", "check", "--dir", str(content_copy)])
    assert result.exit_code == 1
    assert "questions.yaml:" in result.output and ": yaml: cannot be parsed" in result.output


def test_check_prints_coverage(app):
    result = app.test_cli_runner().invoke(args=["content", "check", "--partial"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("observability/probes"))
    assert line.split()[1:3] == ["1", "3"] and "single_choice 1" in line
    assert "1 chapters, 2 sections, 7 questions" in result.output


def test_retired_section_disappears_from_reads(services, content_copy):
    (content_copy / "chapters/01-basics/02-deployments.md").unlink()
    qfile = content_copy / "chapters/01-basics/questions.yaml"
    text = qfile.read_text()
    start, end = text.index("- id: basics-create-deployment"), text.index("- id: basics-pod-sm")
    tail = text.index("- id: basics-write-deployment")
    qfile.write_text(text[:start] + text[end:tail])
    services.content.load(content_copy)
    view = services.content.view()
    assert [s["id"] for s in view.chapter("basics")["sections"]] == ["basics-pods"]
    with services.engine.connect() as conn:
        row = conn.execute(select(SectionRow).where(SectionRow.id == "basics-deployments")).one()
    assert row.retired is True


def test_check_fails_below_the_course_minimums(app):
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "below minimum: design-build/images: no section teaches it" in result.output
    assert "below minimum: course: 7 questions, at least 250" in result.output
