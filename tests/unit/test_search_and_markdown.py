"""BM25 search ranking and snippets; Markdown rendering is sanitised."""

from __future__ import annotations

from ckad_api.adapters.markdown import plain_text, render_markdown
from ckad_api.adapters.search import SearchDoc, SearchIndex

DOCS = [
    SearchDoc(
        "probes",
        "build",
        "Health probes",
        "A readiness probe decides whether a Pod receives traffic. A liveness probe "
        "restarts a container that hangs.",
    ),
    SearchDoc(
        "services",
        "expose",
        "Services",
        "A Service gives a stable virtual IP to a set of Pods picked by a selector.",
        "kubectl expose deployment web --port=80",
    ),
    SearchDoc(
        "rollouts",
        "deploy",
        "Rolling updates",
        "A rolling update replaces Pods gradually; kubectl rollout undo goes back.",
    ),
]


def test_ranking_prefers_the_section_about_the_query():
    index = SearchIndex(DOCS)
    assert index.search("liveness probes", 5)[0].doc.section_id == "probes"
    assert index.search("roll back an update", 5)[0].doc.section_id == "rollouts"
    assert index.search("expose", 5)[0].doc.section_id == "services"  # found in code too


def test_no_match_and_stopwords_only_give_nothing():
    index = SearchIndex(DOCS)
    assert index.search("pizza", 5) == []
    assert index.search("the of and", 5) == []
    assert SearchIndex([]).search("pod", 5) == []


def test_snippet_marks_stemmed_matches_and_escapes_html():
    index = SearchIndex([SearchDoc("x", "c", "T", "Probes <b>probe</b> probing. Other text.")])
    snippet = index.search("probe", 1)[0].snippet_html
    assert "<mark>Probes</mark>" in snippet
    assert "&lt;b&gt;<mark>probe</mark>&lt;/b&gt;" in snippet
    assert "<b>" not in snippet


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "**bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```bash\nkubectl get pods\n```\n"
    )
    assert "<strong>bold</strong>" in html and "<table>" in html
    assert 'href="javascript' not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text, never as markup
    assert 'class="language-bash"' in html


def test_plain_text_separates_prose_and_code():
    prose, code = plain_text("Some *prose* here.\n\n```yaml\nkind: Pod\n```\n")
    assert prose == "Some prose here."
    assert code == "kind: Pod"
