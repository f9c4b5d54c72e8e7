"""The real course: valid, current, in the project's own words, and big enough.

These tests read `content/` directly (no database): they guard what learners read.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from ckad_api.adapters.content_files import read_content
from ckad_api.domain.content_rules import MINIMUMS, OUTDATED_TERMS, coverage, outdated_passages
from tests.conftest import REAL_CONTENT, ROOT

SEED = ROOT.parent / "shared" / "seed"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)


@functools.cache
def course():
    result = read_content(REAL_CONTENT)
    assert result.problems == [], "\n".join(result.problems)
    return result.course


def all_sections():
    return [s for ch in course().chapters for s in ch.sections]


def all_questions():
    return [q for ch in course().chapters for q in ch.questions]


def test_content_has_no_problems():
    assert course() is not None


def test_minimum_coverage_per_competency_and_overall():
    cov = coverage(course())
    thin = {
        cid: row
        for cid, row in cov.items()
        if row["sections"] < MINIMUMS["sections_per_competency"]
        or sum(row["questions"].values()) < MINIMUMS["questions_per_competency"]
    }
    assert thin == {}
    questions = all_questions()
    types = Counter(q.type for q in questions)
    assert len(questions) >= MINIMUMS["questions"]
    assert len(types) >= MINIMUMS["question_types"]
    assert types["kubectl"] + types["manifest"] >= MINIMUMS["hands_on"]


def test_every_question_explains_and_points_at_a_teaching_section():
    sections = {s.id: s for s in all_sections()}
    for q in all_questions():
        assert len(q.explanation.split()) >= 12, f"{q.id}: the explanation is too thin"
        section = sections[q.section_id]
        assert set(q.competencies) & set(section.competencies) or q.competencies, q.id


def yaml_blocks():
    for section in all_sections():
        for match in FENCE.finditer(section.body_md):
            info = match.group(1).strip().split()
            if info and info[0] in ("yaml", "yml"):
                yield pytest.param(
                    section,
                    "partial" in info[1:],
                    match.group(2),
                    id=f"{section.id}@{section.body_md[: match.start()].count(chr(10))}",
                )


@pytest.mark.parametrize("section, partial, code", list(yaml_blocks()))
def test_yaml_examples_parse_and_validate_against_current_kubernetes(section, partial, code):
    docs = [d for d in yaml.safe_load_all(code) if d is not None]
    assert docs, f"{section.id}: empty YAML block"
    if partial:
        return
    version = f"{course().kubernetes_version}.0"
    for doc in docs:
        assert isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc, (
            f"{section.id}: a complete example needs apiVersion and kind; "
            "mark fragments ```yaml partial"
        )
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except (
            kubernetes_validate.ValidationError,
            kubernetes_validate.SchemaNotFoundError,
        ) as exc:
            pytest.fail(f"{section.id}: {doc['kind']} {doc.get('metadata', {}).get('name')}: {exc}")


def test_no_outdated_term_is_taught_as_current():
    found = []
    for section in all_sections():
        found += [f"{section.source}: {p}" for p in outdated_passages(section.body_md)]
    for q in all_questions():
        # A question is one passage: a deliberately wrong choice ("use --record") is fine
        # when the question or its explanation says the thing is deprecated or removed.
        text = " ".join([q.prompt, q.explanation, *(q.choices or ()), q.hint or ""])
        found += [f"question {q.id}: {p}" for p in outdated_passages(text)]
    assert found == [], "\n".join(found)


def test_outdated_term_detector_catches_and_allows():
    assert outdated_passages("Use `apiVersion: extensions/v1beta1` for a Deployment.")
    assert outdated_passages("Create a PodSecurityPolicy to restrict pods.")
    assert not outdated_passages(
        "PodSecurityPolicy was removed in 1.25; use Pod Security Admission."
    )
    assert outdated_passages("```yaml\napiVersion: extensions/v1beta1\nkind: Deployment\n```")
    assert len(OUTDATED_TERMS) >= 10


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


@functools.cache
def seed_ngrams(n: int = 12) -> frozenset:
    grams = set()
    for path in SEED.glob("*.txt"):
        words = _words(path.read_text(errors="replace"))
        grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return frozenset(grams)


@pytest.mark.skipif(not SEED.exists(), reason=f"the seed notes are not at {SEED}")
def test_text_shares_no_twelve_word_run_with_the_seed():
    grams = seed_ngrams()
    shared = []
    texts = [(s.source, FENCE.sub(" ", s.body_md)) for s in all_sections()]
    texts += [
        (f"question {q.id}", " ".join([q.prompt, q.explanation, *(q.choices or ())]))
        for q in all_questions()
    ]
    for where, text in texts:
        words = _words(text)
        for i in range(len(words) - 11):
            if tuple(words[i : i + 12]) in grams:
                shared.append(f"{where}: {' '.join(words[i : i + 12])}")
                break
    assert shared == [], "\n".join(shared)


KUBECTL = shutil.which("kubectl")


@functools.cache
def kubectl_flags(*verbs: str) -> frozenset[str] | None:
    """Flags `kubectl VERBS --help` documents (plus global options); None if not a command."""
    result = subprocess.run(
        [KUBECTL, *verbs, "--help"], capture_output=True, text=True, timeout=20, check=False
    )
    if result.returncode != 0:
        return None
    options = subprocess.run(
        [KUBECTL, "options"], capture_output=True, text=True, timeout=20, check=False
    ).stdout
    text = result.stdout + options
    return frozenset(re.findall(r"(?:^|\s)(--[a-z0-9-]+|-[A-Za-z])\b", text))


def kubectl_answers():
    for q in all_questions():
        if q.type == "kubectl":
            for answer in q.answer:
                yield pytest.param(answer, id=f"{q.id}:{answer[:40]}")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine")
@pytest.mark.parametrize("command", list(kubectl_answers()))
def test_kubectl_answers_use_real_commands_and_flags(command):
    import shlex

    for part in command.split("|"):
        check_kubectl_part(shlex.split(part), command)


PLUGINS = {"convert"}  # kubectl plugins a learner installs separately (kubectl-convert)


def check_kubectl_part(words: list[str], command: str) -> None:
    """One command of a pipeline: a known kubectl (sub)command with flags it documents."""
    if words[0] == "helm":
        pytest.skip("helm is not on this machine; helm answers are checked by the grader tests")
    assert words[0] in ("kubectl", "k"), command
    if len(words) > 1 and words[1] in PLUGINS:
        return
    args = words[1:]
    if "--" in args:
        args = args[: args.index("--")]
    positional = [a for a in args if not a.startswith("-")]
    # The longest prefix of words that kubectl knows as a (sub)command.
    verbs: tuple[str, ...] = ()
    for word in positional[:3]:
        if not re.fullmatch(r"[a-z][a-z-]*", word) or kubectl_flags(*verbs, word) is None:
            break
        verbs = (*verbs, word)
    assert verbs, f"not a kubectl command: {command}"
    known = kubectl_flags(*verbs)
    for arg in args:
        if arg.startswith("--"):
            flag = arg.split("=", 1)[0]
            assert flag in known, f"{command}: kubectl {' '.join(verbs)} has no flag {flag}"
        elif re.fullmatch(r"-[A-Za-z]+", arg):
            for letter in arg[1:]:
                assert f"-{letter}" in known, f"{command}: unknown short flag -{letter}"


def test_real_content_loads_into_a_database(tmp_path):
    from tests.conftest import prepare_database

    prepare_database(f"sqlite:///{tmp_path / 'real.db'}", REAL_CONTENT)


def test_two_real_chapters_are_served(tmp_path):
    """The foundation ships architecture and build; they are read through the API."""
    from ckad_api import create_app
    from tests.conftest import prepare_database, settings_for

    url = f"sqlite:///{tmp_path / 'real.db'}"
    prepare_database(url, REAL_CONTENT)
    app = create_app(settings_for(url, content_dir=REAL_CONTENT))
    try:
        client = app.test_client()
        token = client.post(
            "/api/v1/auth/register", json={"username": "reader", "password": "correct-horse-1"}
        ).get_json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for chapter_id in ("architecture", "build"):
            chapter = client.get(f"/api/v1/chapters/{chapter_id}", headers=headers).get_json()
            assert len(chapter["sections"]) >= 3
            first = client.get(
                f"/api/v1/sections/{chapter['sections'][0]['id']}", headers=headers
            ).get_json()
            assert len(first["html"]) > 500
        hits = client.get("/api/v1/search?q=kubelet", headers=headers).get_json()["items"]
        assert hits and hits[0]["chapter_id"] == "architecture"
    finally:
        app.extensions["ckad"].engine.dispose()


def test_section_files_are_within_their_chapter(tmp_path):
    for chapter_dir in (REAL_CONTENT / "chapters").iterdir():
        assert (chapter_dir / "chapter.yaml").exists(), chapter_dir
        assert Path(chapter_dir / "questions.yaml").exists(), chapter_dir
