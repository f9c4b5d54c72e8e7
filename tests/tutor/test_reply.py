"""The tutor's reply as stored data, and the passage it quotes."""

from __future__ import annotations

import dataclasses
import json

from ckad_api.domain import tutor as t

SECTION = """# Probes

A liveness probe restarts a container that stopped answering.

| probe | effect |
|---|---|
| readiness | traffic |

A readiness probe decides whether the pod receives traffic from its Service:
until it passes, the endpoints leave the pod out.

```yaml
readinessProbe:
  httpGet: {path: /ready, port: 8080}
```

Startup probes hold the other two back while a slow application starts."""


def test_to_dict_is_the_dataclass_as_plain_data():
    """`to_dict` is built by hand for speed; it must stay what `dataclasses.asdict` gives,
    field for field and in order, or stored replies (and Slack's copy of them) drift."""
    reply = t.Reply(
        "quiz",
        "**Question 1 of 2**",
        (t.Citation("basics-pods", "Pods", "basics"), t.Citation("b", "B", "c")),
        {"id": "q", "type": "single_choice", "prompt": "P?", "choices": ["x", "y"]},
        (t.Action("Hint", "hint"), t.Action("Skip", "skip")),
        {"correct": True, "rating": "good", "mode": "review"},
    )
    assert json.dumps(reply.to_dict()) == json.dumps(dataclasses.asdict(reply))
    bare = t.Reply("help", "text")
    assert json.dumps(bare.to_dict()) == json.dumps(dataclasses.asdict(bare))
    # A copy, not the reply's own dicts: changing the stored data leaves the reply alone.
    data = reply.to_dict()
    data["question"]["id"] = "other"
    data["result"]["correct"] = False
    assert reply.question["id"] == "q" and reply.result["correct"] is True


def test_the_passage_is_the_paragraph_with_most_topic_words_and_its_code():
    passage = t.best_passage(SECTION, ["readiness", "traffic"])
    assert passage.startswith("A readiness probe decides")
    assert passage.endswith("```") and "readinessProbe:" in passage  # the example follows
    # Headings and tables never are the passage, whatever words they hold.
    assert not t.best_passage(SECTION, ["probes", "effect"]).startswith(("#", "|"))
    assert t.best_passage(SECTION, ["liveness", "restarts"]).startswith("A liveness probe")
    # 5-letter stems match other forms of a word ("starts" -> "startup" shares "start").
    assert t.best_passage(SECTION, ["startup", "slow"]).startswith("Startup probes")
    assert t.best_passage("", ["anything"]) == ""


def test_a_changed_section_is_quoted_from_its_new_text():
    """Sections are split and tokenised once per text: a reload with new text must not
    serve the old paragraphs."""
    assert t.best_passage(SECTION, ["liveness"]).startswith("A liveness probe")
    changed = SECTION.replace("A liveness probe restarts", "The kubelet restarts")
    assert t.best_passage(changed, ["liveness"]) != t.best_passage(SECTION, ["liveness"])
    assert "liveness probe restarts" not in t.best_passage(changed, ["liveness"])


def test_long_passages_are_cut_at_a_line():
    long_block = "\n".join(f"line {i} about services and selectors" for i in range(200))
    passage = t.best_passage(long_block, ["services"], limit=100)
    assert passage.endswith("\n…") and len(passage) <= 202
