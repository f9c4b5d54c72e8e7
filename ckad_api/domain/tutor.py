"""The chat tutor's understanding and its replies, independent of any channel.

`understand(text, state)` turns what a learner typed into an `Intent`; the tutor service acts
on it and composes a `Reply`: plain data (Markdown text, citations, an optional question with
choices, suggested next actions) that a renderer turns into JSON or Slack blocks.
Pure functions: no clock, database or network.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

# Kubectl slang and short names, expanded so retrieval sees the words the course uses.
SLANG = {
    "k": "kubectl",
    "po": "pod",
    "pods": "pods",
    "deploy": "deployment",
    "deploys": "deployments",
    "svc": "service",
    "svcs": "services",
    "cm": "configmap",
    "cms": "configmaps",
    "ns": "namespace",
    "sa": "serviceaccount",
    "netpol": "networkpolicy",
    "netpols": "networkpolicies",
    "pvc": "persistentvolumeclaim",
    "pvcs": "persistentvolumeclaims",
    "pv": "persistentvolume",
    "cj": "cronjob",
    "ing": "ingress",
    "rs": "replicaset",
    "ds": "daemonset",
    "sts": "statefulset",
    "ep": "endpoints",
    "hpa": "horizontalpodautoscaler",
    "pdb": "poddisruptionbudget",
    "crd": "customresourcedefinition",
    "crds": "customresourcedefinitions",
    "sc": "storageclass",
    "rbac": "rbac role rolebinding",
    "psa": "pod security admission",
    "psp": "podsecuritypolicy",
    "qos": "qos class",
    "oom": "oomkilled memory limit",
    "cni": "cni network plugin",
    "cri": "container runtime",
    "env": "environment variable env",
    "rwo": "readwriteonce",
    "rwx": "readwritemany",
    "rox": "readonlymany",
    "rwop": "readwriteoncepod",
    "vars": "variables",
    "var": "variable",
    "img": "image",
    "imgs": "images",
    "repo": "repository",
    "ctx": "context",
    "rollback": "rollback rollout undo",
    "k8s": "kubernetes",
    "kube": "kubernetes",
    "yaml": "yaml manifest",
    "limits": "limits",
    "req": "requests",
    "w/": "with",
    "initcontainer": "init container",
    "sidecars": "sidecar",
    "liveness": "liveness",
    "readyness": "readiness",
    "probs": "probes",
    "secrect": "secret",
    "secrects": "secrets",
}
# Words that carry no topic; dropped before judging whether a question is about the course.
FILLER = frozenset(
    """
a an the is are was were be been do does did how what whats what's why when where which who
whom can could should would will i me my we you your it its this that these those there here
of in on at to for from with without by about into over under and or but not no yes
vs versus between difference differences between explain tell show give use using used work
works working way ways mean means meaning get set make makes thing things stuff pls please
hi hey ok okay just really actually need want know like some any one two
if then than out up down off am now right still after before got get gets never they them
their come comes came see seen all every goes go going call calls find keep long does doesnt
doesn't don't dont cant can't cannot wont won't isn't isnt happens happen happened why which
step steps bad good considered safe correct ages forever exactly including both most parts
also only very much more less same other another new old each per via anyway maybe thanks
thank something anything everything someone way whats whys hows ever yet again already
""".split()
)

GREETINGS = re.compile(
    r"^\s*(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|howdy|"
    r"sup|greetings)\b[\s!.?]*$",
    re.I,
)
HELP = re.compile(r"^\s*(help|\?|what can you do|how does this work|commands|menu)\W*$", re.I)
QUIZ = re.compile(
    r"\b(quiz|test)\s+me\b|\bgive me\s+(\d+|a|an|some|few|a few)?\s*(more\s+)?"
    r"(questions?|quiz(zes)?|flashcards?)\b|\b(start|begin|new)\s+(a\s+)?quiz\b|"
    r"\bask me\s+(\d+\s+)?(questions?|something)\b|^\s*quiz\b",
    re.I,
)
PRACTICE = re.compile(
    r"\b(practice|practise|cram|without (recording|saving)|don'?t (record|"
    r"save|count))\b",
    re.I,
)
PROGRESS = re.compile(
    r"\bhow (am i|'m i|im i) doing\b|\bmy (progress|stats|score|streak)\b|"
    r"^\s*(progress|stats|streak)\W*$|\bhow (ready|prepared) am i\b",
    re.I,
)
DUE = re.compile(
    r"\bwhat'?s due\b|\bwhat is due\b|\b(anything|cards?|reviews?)\s+due\b|"
    r"^\s*due\W*$|\bdue (today|now)\b|\bhow many (cards|reviews)\b",
    re.I,
)
NEXT = re.compile(
    r"\bwhat (should|do) i (study|learn|review|do) next\b|\bstudy next\b|"
    r"\bwhat next\b|\bweak(est)? (spot|topic|area|point)s?\b|"
    r"\bwhere (should i|to) (focus|start)\b",
    re.I,
)
VERIFY = re.compile(
    r"\b(check|verify|grade|test)\s+(my\s+)?(\w[\w-]*\s+)?lab\b|"
    r"\blab\s+(check|verification|verify)\b",
    re.I,
)
STOP = re.compile(r"^\s*(stop|quit|exit|end|cancel|enough|done|stop the quiz|end quiz)\W*$", re.I)
SKIP = re.compile(r"^\s*(skip|next|pass|next one|skip it|don'?t know|dunno|idk)\W*$", re.I)
HINT = re.compile(r"^\s*(hint|clue|help me|give me a hint|a hint)\W*$", re.I)
NUMBER = re.compile(r"\b(\d{1,2})\s+(questions?|quiz|cards?|more)\b|\bgive me (\d{1,2})\b", re.I)
WORD = re.compile(r"[a-z0-9][a-z0-9./:_-]*", re.I)
_LETTERS = re.compile(r"[a-z]+(?:-[a-z]+)*")
ORDINALS = {
    "first": 0,
    "second": 1,
    "third": 2,
    "fourth": 3,
    "fifth": 4,
    "sixth": 5,
    "1st": 0,
    "2nd": 1,
    "3rd": 2,
    "4th": 3,
    "5th": 4,
    "6th": 5,
    "last": -1,
}
RATING_WORDS = {
    "again": "again",
    "forgot": "again",
    "no": "again",
    "hard": "hard",
    "good": "good",
    "ok": "good",
    "okay": "good",
    "yes": "good",
    "easy": "easy",
}
MAX_TEXT = 4000
DEFAULT_QUIZ_LENGTH = 5
MAX_QUIZ_LENGTH = 20


@dataclasses.dataclass(frozen=True)
class Intent:
    """What the learner wants: `kind` and its details."""

    kind: str  # greeting help ask quiz answer hint skip stop progress due next verify
    text: str = ""
    topic: str = ""
    count: int = DEFAULT_QUIZ_LENGTH
    practice: bool = False
    lab: str | None = None


@dataclasses.dataclass(frozen=True)
class Citation:
    """A course section the reply is taken from."""

    section_id: str
    title: str
    chapter_id: str


@dataclasses.dataclass(frozen=True)
class Action:
    """A suggested next message (a button in Slack, a chip in the web app)."""

    label: str
    text: str


@dataclasses.dataclass(frozen=True)
class Reply:
    """The tutor's reply, channel-neutral."""

    intent: str
    text: str  # Markdown
    citations: tuple[Citation, ...] = ()
    question: dict[str, Any] | None = None  # id, type, prompt, choices, number, of
    actions: tuple[Action, ...] = ()
    result: dict[str, Any] | None = None  # a graded answer or a lab verification

    def to_dict(self) -> dict[str, Any]:
        """Plain data for storage and JSON (the keys of `dataclasses.asdict`, in its order).

        Built by hand: `asdict` deep-copies field by field, which cost about as much as
        storing the message. The question and result dicts are copied one level deep.
        """
        return {
            "intent": self.intent,
            "text": self.text,
            "citations": [
                {"section_id": c.section_id, "title": c.title, "chapter_id": c.chapter_id}
                for c in self.citations
            ],
            "question": None if self.question is None else dict(self.question),
            "actions": [{"label": a.label, "text": a.text} for a in self.actions],
            "result": None if self.result is None else dict(self.result),
        }


def understand(text: str, in_quiz: bool, lab_ids: Iterable[str] = ()) -> Intent:
    """Decide what the learner asked for. In a quiz, anything that is not a command is an answer.

    `lab_ids` are the known labs, so "check my probes lab" names one.
    """
    clean = text.strip()[:MAX_TEXT]
    if in_quiz:
        if STOP.match(clean):
            return Intent("stop", clean)
        if SKIP.match(clean):
            return Intent("skip", clean)
        if HINT.match(clean):
            return Intent("hint", clean)
        # Questions about the learner's standing are never answers; the quiz waits for them.
        for pattern, kind in ((PROGRESS, "progress"), (DUE, "due"), (NEXT, "next")):
            if pattern.search(clean):
                return Intent(kind, clean)
        if VERIFY.search(clean):
            return Intent("verify", clean, lab=_lab_named(clean, lab_ids))
        if not QUIZ.search(clean):
            return Intent("answer", clean)
    if GREETINGS.match(clean):
        return Intent("greeting", clean)
    if HELP.match(clean):
        return Intent("help", clean)
    if VERIFY.search(clean) or (
        re.search(r"\blab\b", clean, re.I) and re.search(r"\b(check|verify|grade)\b", clean, re.I)
    ):
        return Intent("verify", clean, lab=_lab_named(clean, lab_ids))
    if QUIZ.search(clean):
        return Intent(
            "quiz",
            clean,
            topic=_quiz_topic(clean),
            count=_quiz_count(clean),
            practice=bool(PRACTICE.search(clean)),
        )
    if PROGRESS.search(clean):
        return Intent("progress", clean)
    if NEXT.search(clean):
        return Intent("next", clean)
    if DUE.search(clean):
        return Intent("due", clean)
    return Intent("ask", clean)


def _quiz_count(text: str) -> int:
    match = NUMBER.search(text)
    if not match:
        return DEFAULT_QUIZ_LENGTH
    value = int(next(g for g in match.groups() if g and g.isdigit()))
    return max(1, min(MAX_QUIZ_LENGTH, value))


def _quiz_topic(text: str) -> str:
    match = re.search(r"\b(?:on|about|for|re|regarding|covering|over)\s+(.+)$", text, re.I)
    if not match:
        return ""
    topic = re.sub(
        r"\b(questions?|please|pls|practice|practise|quiz)\b", " ", match.group(1), flags=re.I
    )
    return " ".join(topic.split()).strip(" ?.!")


def _lab_named(text: str, lab_ids: Iterable[str]) -> str | None:
    words = {w.lower() for w in WORD.findall(text)}
    ids = list(lab_ids)
    for lab_id in ids:
        if lab_id in words or lab_id.replace("-", " ") in text.lower():
            return lab_id
    candidates = [w for w in words if len(w) >= 4 and w not in ("lab", "check", "verify", "my")]
    best = None
    for word in candidates:
        found = process.extractOne(word, ids, scorer=fuzz.ratio, score_cutoff=80)
        if found and (best is None or found[1] > best[1]):
            best = found
    return best[0] if best else None


def normalise_query(text: str, vocabulary: Mapping[str, int]) -> tuple[str, list[str]]:
    """Expand slang and fix typos against the course's own words.

    `vocabulary` maps the course's words to how often they occur. Returns the query for
    retrieval and its topic words (fillers dropped) for judging relevance. Words left as
    they are keep their case: `storageClassName` tells retrieval where its parts are.
    """
    words = []
    for raw in WORD.findall(text):
        raw = raw.strip(".:/_-")
        if not raw:
            continue
        lower = raw.lower()
        if lower in SLANG:
            words += SLANG[lower].split()
            continue
        corrected = correct_typo(lower, vocabulary)
        words.append(raw if corrected == lower else corrected)
    topic = [w for w in words if w.lower() not in FILLER and len(w) > 1]
    return " ".join(words), topic


def correct_typo(word: str, vocabulary: Mapping[str, int]) -> str:
    """The course word `word` is a typo of, or `word` itself.

    Only a word the course never uses, made of letters, of six letters or more, is
    corrected, and only to a word one edit away (a letter added, dropped, changed, or two
    swapped): a looser match turns everyday words into course terms ("weather" into
    "whether", "protection" into "production", "bored" into "ored") and out-of-course
    questions into course questions. Among equally close words the most frequent one wins.
    """
    if word in vocabulary or len(word) < 6 or not _LETTERS.fullmatch(word):
        return word
    found = process.extract(
        word, vocabulary.keys(), scorer=OSA.distance, score_cutoff=1, limit=None
    )
    if not found:
        return word
    return min(found, key=lambda f: (f[1], -vocabulary[f[0]], f[0]))[0]


def parse_choice(text: str, choices: Sequence[str], multi: bool) -> int | list[int] | None:
    """A choice typed as `b`, `B`, `2`, "the second one", or the choice's text.

    For multi choice: several of those separated by commas, spaces or "and".
    Returns None when nothing in the text names a choice.
    """
    clean = text.strip().lower().rstrip(".!")
    if multi:
        parts = [p for p in re.split(r"\s*(?:,|;|\band\b|&|\+|\s)\s*", clean) if p]
        picks = []
        for part in parts:
            index = _one_choice(part, choices)
            if index is None:
                whole = _one_choice(clean, choices)
                return [whole] if whole is not None else None
            picks.append(index)
        return sorted(set(picks)) or None
    return _one_choice(clean, choices)


def _one_choice(text: str, choices: Sequence[str]) -> int | None:
    text = re.sub(r"^(the|answer|option|choice|it'?s|it is|i think|maybe)\s+", "", text.strip())
    text = re.sub(r"\s+(one|option|choice)$", "", text).strip(" )(.")
    if len(text) == 1 and "a" <= text <= "z":
        index = ord(text) - ord("a")
        return index if index < len(choices) else None
    if text.isdigit():
        index = int(text) - 1
        return index if 0 <= index < len(choices) else None
    if text in ORDINALS:
        index = ORDINALS[text] % len(choices)
        return index
    plain = [re.sub(r"[`*_]", "", c).strip().lower() for c in choices]
    if text in plain:
        return plain.index(text)
    if len(text) >= 4:
        found = process.extractOne(text, plain, scorer=fuzz.ratio, score_cutoff=90)
        if found:
            return found[2]
    return None


def parse_true_false(text: str) -> bool | None:
    """true/false typed loosely."""
    word = text.strip().lower().rstrip(".!")
    if word in ("true", "t", "yes", "y", "correct", "right", "a", "1"):
        return True
    if word in ("false", "f", "no", "n", "wrong", "incorrect", "b", "2"):
        return False
    return None


def parse_rating(text: str) -> str | None:
    """A self-rating for a flashcard."""
    word = text.strip().lower().rstrip(".!")
    return RATING_WORDS.get(word)


def letter(index: int) -> str:
    """`a`, `b`, ... for choice lists."""
    return chr(ord("a") + index)


def question_text(question: dict[str, Any], number: int, total: int) -> str:
    """A quiz question as Markdown, with lettered choices and how to answer."""
    lines = [f"**Question {number} of {total}**", "", question["prompt"]]
    if question.get("choices"):
        lines.append("")
        lines += [f"{letter(i)}) {c}" for i, c in enumerate(question["choices"])]
    how = {
        "single_choice": "Answer with a letter, a number or the choice's text.",
        "multi_choice": "Pick every right choice, e.g. `a, c`.",
        "true_false": "Answer true or false.",
        "short_answer": "Type the term.",
        "kubectl": "Type the kubectl command.",
        "manifest": "Paste the YAML manifest.",
        "flashcard": "Think of the answer, then send anything to see the back of the card.",
    }[question["type"]]
    lines += ["", f"_{how} Say `hint`, `skip` or `stop`._"]
    return "\n".join(lines)


def best_passage(markdown: str, topic: Sequence[str], limit: int = 700) -> str:
    """The paragraph (with a following code block, if any) that best matches the topic words."""
    blocks = _blocks(markdown)
    if not blocks:
        return ""
    words = {w.lower() for w in topic}

    def score(i: int) -> float:
        block, found, stems = blocks[i]
        if found is None:  # code, a table or a heading: never the passage
            return -1.0
        return sum(1 for w in words if w in found or w[:5] in stems) + len(block) / 10_000

    best = max(range(len(blocks)), key=score)
    passage = blocks[best][0]
    following = blocks[best + 1][0] if best + 1 < len(blocks) else ""
    if following.startswith("```") and len(passage) < limit:
        passage = f"{passage}\n\n{following}"
    if len(passage) > limit * 2:
        passage = passage[: limit * 2].rsplit("\n", 1)[0] + "\n…"
    return passage


@functools.lru_cache(maxsize=256)
def _blocks(
    markdown: str,
) -> tuple[tuple[str, frozenset[str] | None, frozenset[str] | None], ...]:
    """A section's blocks, each with its lowercased words and their 5-letter stems (None for
    code, tables and headings). Cached: a section's text changes only with the content, and
    splitting and tokenising it was most of the cost of quoting it for every question."""
    out = []
    for raw in re.split(r"\n\s*\n", markdown):
        block = raw.strip()
        if not block:
            continue
        if block.startswith(("```", "|", "#")):
            out.append((block, None, None))
            continue
        found = frozenset(w.lower() for w in WORD.findall(block))
        out.append((block, found, frozenset(w[:5] for w in found)))
    return tuple(out)


def quote(passage: str) -> str:
    """A passage as a Markdown quote (code blocks kept as they are)."""
    out, in_code = [], False
    for line in passage.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            out.append(line)
        elif in_code:
            out.append(line)
        else:
            out.append(f"> {line}" if line.strip() else ">")
    return "\n".join(out)


HELP_TEXT = (
    "I'm your CKAD tutor. You can:\n"
    "- **ask** about the course: _liveness vs readiness?_, _how do i roll back a deploy_\n"
    "- **quiz me**, _quiz me on services_, _give me 5 questions about probes_ "
    "(add _practice_ to leave your schedule alone)\n"
    "- **how am I doing**, **what's due**, **what should I study next**\n"
    "- **check my probes lab** to verify a lab in your namespace"
)
STARTERS = (
    Action("Quiz me", "quiz me"),
    Action("What's due?", "what's due"),
    Action("How am I doing?", "how am I doing"),
)


_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.M)
_TOKEN = re.compile(r"[a-z][a-z0-9]+")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9.-]*$")
_FENCED = re.compile(r"^\s*(```|~~~).*?^\s*\1[^\n]*$", re.M | re.S)
_COMPOUND = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z]*\b")  # camelCase and PascalCase
_HUMP = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def course_lexicon(titles: Iterable[str], bodies: Iterable[str]) -> frozenset[str]:
    """The course's own terms: words of titles, headings, bold text and inline code, and the
    parts of those written in camelCase.

    Plain prose words ("list", "reverse", "best") are deliberately left out, so a question
    made only of everyday words is not taken for a course question because the words occur
    somewhere in the text.
    """
    words: set[str] = set()

    def add(text: str) -> None:
        # `CronJob` and `storageClassName` make "cron" and "storage class" course terms too.
        parts = [p for w in _COMPOUND.findall(text) for p in _HUMP.findall(w)]
        for word in _TOKEN.findall(" ".join([text, *parts]).lower()):
            if word not in FILLER:
                words.add(_root(word))

    for title in titles:
        add(title)
    for body in bodies:
        # Code blocks are left out: their comments would pass for headings.
        body = _FENCED.sub("\n", body)
        for pattern in (_BOLD, _HEADING):
            for match in pattern.findall(body):
                add(match)
        for span in _CODE_SPAN.findall(body):
            # Identifiers, kinds, fields and commands; not values such as image references,
            # paths or time zones (`python:3.12-slim`, `Europe/Berlin`).
            if _IDENTIFIER.match(span) or span.startswith(("kubectl ", "helm ")):
                add(span.replace(".", " "))
    for expansion in SLANG.values():
        add(expansion)
    return frozenset(words)


def in_course_share(topic: Sequence[str], lexicon: frozenset[str]) -> float:
    """The share of a question's topic words that are course terms (numbers aside)."""
    # `kube-controller-manager`, `status.phase`, `init:0/2`: a course term inside counts.
    # "400m", "8080" or "10%" say nothing about the subject: they count neither way.
    parts = [_TOKEN.findall(w.lower()) for w in topic]
    words = [p for p in parts if p]
    if not words:
        return 0.0
    return sum(1 for p in words if any(_root(x) in lexicon for x in p)) / len(words)


def _root(word: str) -> str:
    """Plural and singular as one word (`probes` and `probe`)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
