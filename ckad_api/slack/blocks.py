"""Block Kit rendering of the tutor's channel-neutral replies (an adapter: Slack only here).

Slack's limits are kept by construction: at most 50 blocks a message, 3,000 characters a
section text, 75 a button label, 2,000 a button value, 10 checkbox options, and 24 a modal
title. Markdown becomes Slack's mrkdwn: `**bold**` is `*bold*`, links are `<url|text>`,
headings are bold lines, and `&`, `<`, `>` are escaped as Slack requires.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..domain import tutor as t

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_OPTIONS = 10
MAX_ACTIONS = 25
MAX_CONTEXT = 10
MAX_MODAL_TITLE = 24
MAX_FALLBACK = 300  # the notification text; the blocks carry the whole reply

# Replies to these texts are quiz controls: their buttons carry the open question, so a
# press on an old message never answers a newer question.
QUIZ_CONTROLS = frozenset({"hint", "skip", "stop", "show", "again", "hard", "good", "easy"})
FREE_TEXT = {
    "kubectl": ("kubectl command", False),
    "short_answer": ("Your answer", False),
    "manifest": ("Manifest (YAML)", True),
}

SLACK_HELP = (
    "*CKAD tutor commands*\n"
    "• `/ckad ask <question>`: an answer quoted from the course, with its source\n"
    "• `/ckad quiz [topic]`: a quiz, due cards first (add `share` to post it in the channel)\n"
    "• `/ckad due`: how many cards are due today\n"
    "• `/ckad progress`: exam readiness, streak, weakest area\n"
    "• `/ckad verify <lab>`: check a lab in your namespace\n"
    "• `/ckad link <code>`: use the account of the web or mobile app\n"
    "• `/ckad remind on [HH:MM]` or `/ckad remind off`: a daily direct message\n"
    "You can also write to me in a direct message: _quiz me on services_."
)


# -- text -------------------------------------------------------------------------------
_FENCE = re.compile(r"^\s*```")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![*\w])")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")


def escape(text: str) -> str:
    """Escape the three characters Slack reserves for its own markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(markdown: str) -> str:
    """Markdown as Slack mrkdwn. Code blocks and spans are kept as they are (escaped)."""
    out, in_code = [], False
    for line in (markdown or "").splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            out.append("```")
            continue
        if in_code:
            out.append(escape(line))
            continue
        out.append(_inline(line))
    if in_code:
        out.append("```")
    return "\n".join(out)


def _inline(line: str) -> str:
    quote = ""
    if line.startswith(">"):  # a quote: keep Slack's own quote marker unescaped
        quote, line = "> ", line[1:].lstrip()
    heading = _HEADING.match(line)
    if heading:
        line = f"**{heading.group(1)}**"
    line = _BULLET.sub(lambda m: f"{m.group(1)}• ", line)
    parts = _CODE_SPAN.split(line)
    return quote + "".join(escape(part) if i % 2 else _prose(part) for i, part in enumerate(parts))


def _prose(text: str) -> str:
    """Prose outside code: links, bold and italics in Slack's syntax, the rest escaped."""
    links: list[str] = []

    def keep_link(m: re.Match[str]) -> str:
        links.append(f"<{m.group(2)}|{escape(m.group(1))}>")
        return f"\x01{len(links) - 1}\x01"

    text = escape(_LINK.sub(keep_link, text))
    text = _BOLD.sub(lambda m: "\x02" + (m.group(1) or m.group(2)) + "\x02", text)
    text = _ITALIC_STAR.sub(r"_\1_", text).replace("\x02", "*")
    return re.sub("\x01(\\d+)\x01", lambda m: links[int(m.group(1))], text)


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """mrkdwn cut at line ends into pieces of at most `limit` characters; a code block cut
    in two is closed and reopened so that both pieces render."""
    budget = limit - 4  # room to close a code block ("\n```")
    lines: list[str] = []
    for line in text.splitlines():
        while len(line) > budget - 8:  # a line longer than a block: hard cut
            lines.append(line[: budget - 8])
            line = line[budget - 8 :]
        lines.append(line)
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    in_code = False

    def flush() -> None:
        nonlocal current, size
        body = "\n".join(current) + ("\n```" if in_code else "")
        if body.strip() and body.strip() != "```":
            pieces.append(body)
        current, size = (["```"], 4) if in_code else ([], 0)

    for line in lines:
        if current and size + len(line) + 1 > budget:
            flush()
        current.append(line)
        size += len(line) + 1
        if line.strip() == "```":
            in_code = not in_code
    flush()
    return pieces


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object, shortened to `limit` characters."""
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def clip(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters with an ellipsis."""
    text = " ".join(str(text).split()) if "\n" not in str(text) else str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def section(text: str) -> dict[str, Any]:
    """A section block of mrkdwn (the caller keeps it within 3,000 characters)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def text_blocks(markdown: str) -> list[dict[str, Any]]:
    """Markdown as as many section blocks as its length needs."""
    return [section(piece) for piece in chunks(mrkdwn(markdown))]


def value(**data: Any) -> str:
    """A button value: compact JSON, at most 2,000 characters."""
    encoded = json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))
    if len(encoded) > MAX_VALUE:
        raise ValueError("a button value is longer than Slack allows")
    return encoded


def parse_value(raw: str | None) -> dict[str, Any]:
    """A button value back as a dict (a foreign or broken value is empty)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def button(label: str, action_id: str, payload: str, style: str | None = None) -> dict[str, Any]:
    """A button element."""
    element = {
        "type": "button",
        "text": plain(label, MAX_BUTTON_TEXT),
        "action_id": action_id,
        "value": payload,
    }
    if style:
        element["style"] = style
    return element


def actions(elements: list[dict[str, Any]], block_id: str | None = None) -> dict[str, Any]:
    """An actions block of at most 25 elements."""
    block: dict[str, Any] = {"type": "actions", "elements": elements[:MAX_ACTIONS]}
    if block_id:
        block["block_id"] = block_id
    return block


def context(text: str) -> dict[str, Any]:
    """A small grey line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_TEXT]}]}


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most 50 blocks: text is dropped from the middle, the controls at the end stay."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = [b for b in blocks[-3:] if b["type"] == "actions"]
    room = MAX_BLOCKS - len(tail) - 1
    return [*blocks[:room], context("_…shortened to fit in Slack._"), *tail]


def message(blocks: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    """A message payload: the blocks and the notification text."""
    return {"text": clip(fallback, MAX_FALLBACK) or "CKAD tutor", "blocks": fit(blocks)}


# -- tutor replies ----------------------------------------------------------------------
def split_question(reply: t.Reply) -> tuple[str, dict[str, Any] | None]:
    """The reply's text before its question, and the question (rendered with controls)."""
    question = reply.question
    if question is None:
        return reply.text, None
    asked = t.question_text(question, question["number"], question["of"])
    before = reply.text[: -len(asked)] if reply.text.endswith(asked) else reply.text
    return before.rstrip(), question


def render(
    reply: t.Reply,
    *,
    owner: str,
    open_question: str | None = None,
    practice: bool = False,
    answered_message: int | None = None,
    question_only: bool = False,
) -> dict[str, Any]:
    """A tutor reply as a Slack message.

    - `answered_message`: the reply to an answer that also asks the next question: shows
      right or wrong and the explanation, with a Next button that shows the question.
    - `question_only`: just the question part (what Next shows).
    """
    before, question = split_question(reply)
    blocks: list[dict[str, Any]] = []
    if before and not question_only:
        blocks += text_blocks(before)
    if answered_message is not None and question is not None:
        blocks.append(
            actions(
                [
                    button(
                        "Next question ▶",
                        "ckad_next",
                        value(m=answered_message, o=owner),
                        "primary",
                    )
                ]
            )
        )
        return message(blocks, before)
    if question is not None:
        blocks += question_blocks(question, owner, offered=reply.intent == "ask")
        if practice:
            blocks.append(context("Practice: your schedule stays as it is."))
    guard = open_question if question is None else question["id"]
    if reply.actions and not (question_only and question is None):
        blocks.append(action_buttons(reply.actions, owner, guard))
    if reply.citations and not question_only:
        blocks.append(citations(reply.citations))
    fallback = before or (question or {}).get("prompt", "") or reply.text
    return message(blocks or text_blocks(reply.text or "…"), mrkdwn(fallback))


def question_blocks(question: dict[str, Any], owner: str, *, offered: bool) -> list[dict]:
    """A question: its prompt and choices, and a control per way of answering it."""
    qid, kind = question["id"], question["type"]
    title = "" if offered else f"*Question {question['number']} of {question['of']}*\n"
    body = title + mrkdwn(question["prompt"])
    choices = question.get("choices") or []
    if choices and kind != "true_false":
        body += "\n\n" + "\n".join(f"*{t.letter(i)})* {mrkdwn(c)}" for i, c in enumerate(choices))
    blocks = [section(piece) for piece in chunks(body)]
    if kind == "single_choice":
        blocks.append(
            actions(
                [
                    button(
                        f"{t.letter(i)}) {_plain(c)}",
                        f"ckad_say_{i}",
                        value(t=t.letter(i), q=qid, o=owner),
                    )
                    for i, c in enumerate(choices)
                ],
                block_id=f"choices-{qid}"[:255],
            )
        )
    elif kind == "true_false":
        blocks.append(
            actions(
                [
                    button("True", "ckad_say_0", value(t="true", q=qid, o=owner)),
                    button("False", "ckad_say_1", value(t="false", q=qid, o=owner)),
                ]
            )
        )
    elif kind == "multi_choice":
        options = [
            {"text": plain(f"{t.letter(i)}) {_plain(c)}", MAX_BUTTON_TEXT), "value": t.letter(i)}
            for i, c in enumerate(choices[:MAX_OPTIONS])
        ]
        blocks.append(
            actions(
                [
                    {"type": "checkboxes", "action_id": "ckad_picks", "options": options},
                    button("Check my picks", "ckad_submit", value(q=qid, o=owner), "primary"),
                ],
                block_id="picks",
            )
        )
    elif kind == "flashcard" and not offered:  # an offered card has no quiz to reveal it in
        blocks.append(
            actions([button("Show the answer", "ckad_say_0", value(t="show", q=qid, o=owner))])
        )
    elif kind in FREE_TEXT:
        blocks.append(
            actions(
                [button("Answer…", "ckad_open_answer", value(q=qid, o=owner, k=kind), "primary")]
            )
        )
    return blocks


def action_buttons(items, owner: str, open_question: str | None) -> dict[str, Any]:
    """Suggested next messages as buttons; quiz controls carry the open question."""
    elements = []
    for i, action in enumerate(items):
        guard = open_question if action.text.lower() in QUIZ_CONTROLS else None
        elements.append(
            button(action.label, f"ckad_act_{i}", value(t=action.text[:1000], q=guard, o=owner))
        )
    return actions(elements)


def citations(items) -> dict[str, Any]:
    """Where the answer comes from."""
    names = [f"📖 {escape(c.title)}" for c in items[:MAX_CONTEXT]]
    return context("Source: " + " · ".join(names))


def _plain(markdown: str) -> str:
    return re.sub(r"[`*_]", "", markdown)


# -- other messages ---------------------------------------------------------------------
def help_message() -> dict[str, Any]:
    """`/ckad help`."""
    return message(
        [section(SLACK_HELP), action_buttons(t.STARTERS, "", None)],
        "CKAD tutor commands",
    )


def note(markdown: str) -> dict[str, Any]:
    """A short message of text only."""
    return message(text_blocks(markdown), mrkdwn(markdown))


def slack_note(text: str) -> dict[str, Any]:
    """A short message already in Slack's syntax (mentions such as `<@U123>` kept)."""
    return message([section(text)], text)


def reminder(due: int, new: int) -> dict[str, Any]:
    """The daily reminder: what is waiting, and a Start button."""
    parts = []
    if due:
        parts.append(f"*{due}* card{'s' if due != 1 else ''} due")
    if new:
        parts.append(f"*{new}* new card{'s' if new != 1 else ''}")
    text = "Time for your CKAD review: " + " and ".join(parts) + " today."
    return message(
        [
            section(text),
            actions([button("Start", "ckad_start", value(t="quiz me"), "primary")]),
        ],
        text.replace("*", ""),
    )


def answer_modal(question: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """A form for a free-text answer (kubectl command, term, YAML manifest)."""
    label, multiline = FREE_TEXT.get(question["type"], ("Your answer", True))
    prompt = mrkdwn(question["prompt"])
    return {
        "type": "modal",
        "callback_id": "ckad_answer",
        "title": plain("Your answer", MAX_MODAL_TITLE),
        "submit": plain("Check", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": [
            *(section(piece) for piece in chunks(prompt)),
            {
                "type": "input",
                "block_id": "answer",
                "label": plain(label, 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": multiline,
                    "max_length": MAX_TEXT,
                },
            },
        ],
    }
