"""The Block Kit renderer: Markdown to mrkdwn, and Slack's limits on any reply."""

from __future__ import annotations

from ckad_api.domain import tutor as t
from ckad_api.slack import blocks
from tests.slack import blockkit


def test_markdown_becomes_mrkdwn():
    text = (
        "## Probes\n"
        "From **Pods** (_basics_): a *readiness* probe & [docs](https://kubernetes.io/docs)\n"
        "- use `a<b>`\n"
        "> quoted **text** <script>\n"
        "```yaml\nkey: <value> **not bold**\n```"
    )
    assert blocks.mrkdwn(text) == (
        "*Probes*\n"
        "From *Pods* (_basics_): a _readiness_ probe &amp; <https://kubernetes.io/docs|docs>\n"
        "• use `a&lt;b&gt;`\n"
        "> quoted *text* &lt;script&gt;\n"
        "```\nkey: &lt;value&gt; **not bold**\n```"
    )


def test_long_text_is_cut_into_blocks_that_each_fit_and_code_stays_fenced():
    code = "\n".join(f"line {i}: " + "x" * 70 for i in range(150))
    pieces = blocks.chunks(blocks.mrkdwn(f"Intro\n\n```\n{code}\n```\n\nOutro"))
    assert len(pieces) > 3
    assert all(len(p) <= blockkit.SECTION_TEXT for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    one_line = blocks.chunks("y" * 10_000)
    assert all(len(p) <= blockkit.SECTION_TEXT for p in one_line)
    assert "".join(one_line) == "y" * 10_000


def test_any_reply_fits_slacks_limits():
    huge = "\n\n".join(f"Paragraph {i} " + "word " * 500 for i in range(80))
    reply = t.Reply(
        "ask",
        huge,
        citations=tuple(t.Citation(f"s{i}", f"Section {i} " + "t" * 100, "c") for i in range(30)),
        question={
            "id": "q" * 80,
            "type": "single_choice",
            "prompt": "P" * 5000,
            "choices": ["A very long choice " * 10] * 6,
            "number": 1,
            "of": 1,
        },
        actions=tuple(t.Action("A" * 200, "x" * 3000) for _ in range(3)),
    )
    rendered = blocks.render(reply, owner="U" * 20)
    assert len(rendered["blocks"]) <= blockkit.MESSAGE_BLOCKS
    assert blockkit.problems(rendered) == []
    assert rendered["blocks"][-1]["type"] in ("context", "actions")
    assert len(rendered["text"]) <= blocks.MAX_FALLBACK


def test_every_question_type_has_its_control():
    def render(kind, choices=None):
        question = {
            "id": "q1",
            "type": kind,
            "prompt": "Which?",
            "choices": choices,
            "number": 2,
            "of": 5,
        }
        text = t.question_text(question, 2, 5)
        out = blocks.render(t.Reply("quiz", "Intro\n\n" + text, question=question), owner="U1")
        assert blockkit.problems(out) == []
        assert "Answer with a letter" not in str(out)  # the chat's typing hints are not shown
        return [e for b in out["blocks"] if b["type"] == "actions" for e in b["elements"]]

    assert [e["action_id"] for e in render("single_choice", ["x", "y"])] == [
        "ckad_say_0",
        "ckad_say_1",
    ]
    assert [e["text"]["text"] for e in render("true_false")] == ["True", "False"]
    multi = render("multi_choice", [f"c{i}" for i in range(12)])
    assert multi[0]["type"] == "checkboxes" and len(multi[0]["options"]) == 10
    assert render("flashcard")[0]["text"]["text"] == "Show the answer"
    for kind in ("kubectl", "short_answer", "manifest"):
        assert render(kind)[0]["action_id"] == "ckad_open_answer"


def test_the_answer_form_and_the_reminder_fit():
    form = blocks.answer_modal({"type": "manifest", "prompt": "Write " * 2000}, {"q": "q1"})
    assert blockkit.problems(form) == []
    assert blockkit.problems(blocks.reminder(3, 0)) == []
    assert "*3* cards due today" in blocks.reminder(3, 0)["blocks"][0]["text"]["text"]
    assert "*1* card due and *1* new card" in blocks.reminder(1, 1)["blocks"][0]["text"]["text"]
