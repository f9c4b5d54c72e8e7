"""The pieces of the tutor's retrieval: typo correction, course terms and the search index."""

from __future__ import annotations

from collections import Counter

from ckad_api.adapters.search import SearchDoc, SearchIndex, split_at_headings
from ckad_api.domain import tutor as t

VOCABULARY = Counter({"namespace": 12, "secret": 7, "whether": 3, "probed": 9, "probes": 1})


def test_a_typo_one_edit_from_a_course_word_is_corrected():
    assert t.correct_typo("namspace", VOCABULARY) == "namespace"  # a letter dropped
    assert t.correct_typo("secert", VOCABULARY) == "secret"  # two letters swapped
    assert t.correct_typo("probex", VOCABULARY) == "probed"  # the more frequent of two


def test_real_words_short_words_and_identifiers_are_left_alone():
    assert t.correct_typo("weather", VOCABULARY) == "weather"  # two edits from "whether"
    assert t.correct_typo("secrt", VOCABULARY) == "secrt"  # too short to guess
    assert t.correct_typo("json6902", VOCABULARY) == "json6902"
    assert t.correct_typo("namespace", VOCABULARY) == "namespace"


def test_normalising_expands_slang_and_keeps_the_case_of_identifiers():
    _, topic = t.normalise_query(
        "whats the storageClassName of my pvc in this namspace", VOCABULARY
    )
    assert topic == ["storageClassName", "persistentvolumeclaim", "namespace"]


def test_numbers_count_neither_for_nor_against_the_course():
    lexicon = frozenset({"memory"})
    assert t.in_course_share(["memory", "400m"], lexicon) == 1.0
    assert t.in_course_share(["memory", "typo"], lexicon) == 0.5
    assert t.in_course_share(["10", "15"], lexicon) == 0.0


def test_the_lexicon_splits_kinds_and_skips_code_comments():
    body = "```bash\n# delete everything\nkubectl get pods\n```\n\n## Schedules\n\nText."
    lexicon = t.course_lexicon(["Jobs and CronJobs"], [body])
    assert {"cron", "cronjob", "job", "schedule"} <= lexicon
    assert "delete" not in lexicon and "everything" not in lexicon


def test_words_said_together_beat_the_same_words_apart():
    index = SearchIndex(
        [
            SearchDoc("pods", "c", "Pods", "Every Pod has a pause container for its namespace."),
            SearchDoc(
                "rollouts",
                "c",
                "Rollouts",
                "You can pause a rollout, change the container image, pause again, then "
                "resume. A container restarts when its image changes.",
            ),
        ]
    )
    assert [h.doc.section_id for h in index.search("pause container", 5)] == ["pods", "rollouts"]


def test_a_field_name_is_found_by_its_words_however_it_is_typed():
    index = SearchIndex(
        [
            SearchDoc("claims", "c", "Claims", "A claim asks for storage.", "storageClassName: x"),
            SearchDoc("pods", "c", "Pods", "A Pod runs containers."),
        ]
    )
    assert [h.doc.section_id for h in index.search("class name", 5)] == ["claims"]
    assert index.search("storageclassname", 5)[0].doc.section_id == "claims"


def test_review_questions_count_for_relevance_and_unknown_words_are_told():
    index = SearchIndex(
        [
            SearchDoc(
                "probes",
                "c",
                "Health probes",
                "A readiness probe decides whether a Pod receives traffic.",
                questions=(("Which probe restarts a container that hangs?", "liveness", ""),),
            ),
            SearchDoc("services", "c", "Services", "A Service has a stable virtual IP."),
        ]
    )
    best = index.rank("probe restarts hangs", 5)[0]
    assert best.doc.section_id == "probes" and best.coverage == 1.0
    assert index.known_share(["probe", "nespresso", "8080"]) == 0.5


def test_sections_are_cut_at_headings_outside_code_blocks():
    markdown = "Intro.\n\n## First\n\nOne.\n\n```bash\n## not a heading\n```\n\n### Second\n\nTwo."
    parts = split_at_headings(markdown)
    assert [heading for heading, _ in parts] == ["", "First", "Second"]
    assert "## not a heading" in parts[1][1]
