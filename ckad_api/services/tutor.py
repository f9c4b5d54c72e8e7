"""The chat tutor: conversations stored in the database, replies from the course.

Each message is understood by the domain (`domain.tutor`), acted on with the other services
(search, reviews, progress, labs) and answered with a channel-neutral `Reply`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from ..domain import tutor as t
from ..domain.accounts import Learner
from ..domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from .ports import Clock, UnitOfWork

# Relevance, tuned on tests/fixtures/tutor_eval.yaml (tests/tutor/test_eval.py prints the
# figures): at least a third of the question's topic words are course terms, at least three
# quarters are words the course uses at all, and one of the three best sections (with its
# review questions) contains at least 60% of them.
MIN_COURSE_TERMS = 0.34
MIN_KNOWN = 0.75
MIN_COVERAGE = 0.6
QUIZ_HANDLERS = ("answer", "hint", "skip", "stop")


def new_state() -> dict[str, Any]:
    """A conversation with nothing going on."""
    return {"mode": "idle", "quiz": None, "offered": None}


class TutorService:
    """Use cases of the chat tutor."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        content,
        reviews,
        labs,
        *,
        read_uow: Callable[[], UnitOfWork] | None = None,
    ):
        self._uow = uow
        # Reads go through connections that take no write lock (SQLite: no BEGIN IMMEDIATE).
        self._read = read_uow or uow
        self._clock = clock
        self._content = content
        self._reviews = reviews
        self._labs = labs
        self._lexicon: tuple[str, frozenset[str]] = ("", frozenset())

    def lexicon(self) -> frozenset[str]:
        """The course's own terms, rebuilt when the content changes."""
        view = self._content.view()
        if self._lexicon[0] != view.checksum:
            titles = [s["title"] for s in view.sections.values()]
            titles += [c["title"] for c in view.chapters.values()]
            titles += [c["title"] for d in view.course["domains"] for c in d["competencies"]]
            bodies = [s["markdown"] for s in view.sections.values()]
            self._lexicon = (view.checksum, t.course_lexicon(titles, bodies))
        return self._lexicon[1]

    # -- conversations ------------------------------------------------------------------
    def start(self, learner: Learner) -> dict[str, Any]:
        """A new conversation, opened with a short greeting."""
        now = self._clock.now()
        reply = t.Reply("greeting", t.HELP_TEXT, actions=t.STARTERS)
        with self._uow() as uow:
            row = uow.conversations.create(secrets.token_hex(16), learner.id, new_state(), now)
            message = uow.conversations.add_message(
                row.id, "tutor", reply.text, reply.to_dict(), now
            )
            uow.commit()
            return {"id": row.id, "created_at": row.created_at, "messages": [message_dict(message)]}

    def messages(
        self, learner: Learner, conversation_id: str, after_id: int, limit: int
    ) -> list[dict[str, Any]]:
        """Messages of one of the learner's conversations, oldest first."""
        with self._read() as uow:
            if uow.conversations.get(conversation_id, learner.id) is None:
                raise NotFound(f"there is no conversation {conversation_id!r}")
            return [
                message_dict(m)
                for m in uow.conversations.messages(conversation_id, after_id, limit)
            ]

    def send(self, learner: Learner, conversation_id: str, text: str) -> dict[str, Any]:
        """Take the learner's message, act on it, store both and return the tutor's reply."""
        if not isinstance(text, str) or not text.strip():
            raise ValidationFailed("say something", errors={"text": ["must not be empty"]})
        # Read without the write lock: the state is saved below only if its version is
        # still the one read here.
        with self._read() as uow:
            found = uow.conversations.state(conversation_id, learner.id)
        if found is None:
            raise NotFound(f"there is no conversation {conversation_id!r}")
        reply, state = self.reply(learner, text, dict(found.state))
        now = self._clock.now()
        with self._uow() as uow:
            if not uow.conversations.save_state(conversation_id, found.version, state, now):
                raise Conflict(
                    "another message in this conversation was answered first; "
                    "reload the conversation"
                )
            uow.conversations.add_message(conversation_id, "learner", text, None, now)
            message = uow.conversations.add_message(
                conversation_id, "tutor", reply.text, reply.to_dict(), now
            )
            uow.commit()
        return message_dict(message)

    # -- understanding and acting ---------------------------------------------------------
    def reply(
        self, learner: Learner, text: str, state: dict[str, Any]
    ) -> tuple[t.Reply, dict[str, Any]]:
        """The reply to `text` and the conversation's next state (nothing stored)."""
        view = self._content.view()
        in_quiz = state.get("mode") == "quiz"
        intent = t.understand(text, in_quiz, view.labs.keys())
        offered = state.get("offered")
        if not in_quiz and offered and intent.kind == "ask":
            graded = self._try_offered(learner, text, offered)
            if graded is not None:
                return graded, {**state, "offered": None}
        state = {**state, "offered": None}
        handler = getattr(self, f"_on_{intent.kind}")
        reply, state = handler(learner, intent, state)
        if in_quiz and state.get("mode") == "quiz" and intent.kind not in (*QUIZ_HANDLERS, "quiz"):
            quiz = state["quiz"]
            reply = t.Reply(
                reply.intent,
                f"{reply.text}\n\n_Back to question "
                f"{quiz['index'] + 1} of {len(quiz['ids'])} when you are ready._",
                reply.citations,
                reply.question,
                reply.actions,
                reply.result,
            )
        return reply, state

    def _on_greeting(self, learner, intent, state):
        name = learner.display_name or learner.username
        return t.Reply("greeting", f"Hi {name}! " + t.HELP_TEXT, actions=t.STARTERS), state

    def _on_help(self, learner, intent, state):
        return t.Reply("help", t.HELP_TEXT, actions=t.STARTERS), state

    def rank(self, text: str, limit: int = 5) -> tuple[list[Any], list[str], bool]:
        """Sections for a question, its topic words, and whether the best one is relevant."""
        index = self._content.view().index
        _, topic = t.normalise_query(text, index.vocabulary)
        if not topic:
            return [], topic, False
        # Rank on the topic words alone: fillers ("what does", "whats the diff") only add noise.
        ranked = index.rank(" ".join(topic), limit, topic)
        relevant = (
            bool(ranked)
            and max(r.coverage for r in ranked[:3]) >= MIN_COVERAGE
            and index.known_share(topic) >= MIN_KNOWN
            and t.in_course_share(topic, self.lexicon()) >= MIN_COURSE_TERMS
        )
        return ranked, topic, relevant

    def _on_ask(self, learner, intent, state):
        view = self._content.view()
        ranked, topic, relevant = self.rank(intent.text)
        if not relevant:
            return self._refuse(view), state
        best = ranked[0][0]
        section = view.section(best.section_id)
        passage = t.best_passage(section["markdown"], topic)
        lines = [f"From **{section['title']}** ({section['chapter_title']}):", "", t.quote(passage)]
        citations = [t.Citation(section["id"], section["title"], section["chapter_id"])]
        if len(ranked) > 1 and ranked[1][1] >= 0.85 * ranked[0][1]:
            other = view.section(ranked[1][0].section_id)
            citations.append(t.Citation(other["id"], other["title"], other["chapter_id"]))
            lines += ["", f"See also **{other['title']}**."]
        related = self._related_question(view, section["id"])
        question, actions = None, [t.Action("Quiz me on this", f"quiz me on {section['title']}")]
        if related is not None:
            question = _public(related, 1, 1)
            lines += ["", "**Try this one:**", "", t.question_text(question, 1, 1)]
            state = {**state, "offered": related.id}
        return t.Reply("ask", "\n".join(lines), tuple(citations), question, tuple(actions)), state

    def _refuse(self, view) -> t.Reply:
        topics = [c["title"] for c in list(view.chapters.values())[1:6]]
        return t.Reply(
            "out_of_scope",
            "That's outside what this course covers, so I won't guess. I can help with the "
            "CKAD curriculum, for example: " + ", ".join(topics) + ".",
            actions=(
                t.Action("Quiz me", "quiz me"),
                t.Action("What should I study next?", "what should I study next"),
            ),
        )

    @staticmethod
    def _related_question(view, section_id: str):
        for q in view.questions.values():
            if q.section_id == section_id and q.type != "manifest":
                return q
        return None

    def _try_offered(self, learner, text, question_id) -> t.Reply | None:
        view = self._content.view()
        q = view.questions.get(question_id)
        if q is None or "?" in text:
            return None
        answer = _parse_answer(q, text, strict=True)
        if answer is None:
            return None
        result = self._record(learner, q, answer, practice=False)
        return t.Reply("answer", _verdict(q, result), result=_result(result))

    # -- quizzes --------------------------------------------------------------------------
    def _on_quiz(self, learner, intent, state):
        view = self._content.view()
        wanted = None
        if intent.topic:
            ranked, _, relevant = self.rank(intent.topic)
            if not relevant:
                return t.Reply(
                    "quiz",
                    f"I couldn't find **{intent.topic}** in the course. Try "
                    "a topic such as probes, services or configmaps.",
                    actions=(t.Action("Quiz me on anything", "quiz me"),),
                ), state
            sections = {r[0].section_id for r in ranked[:2]}
            comps = {c for s in sections for c in view.section(s)["competencies"]}
            wanted = [
                q.id
                for q in view.questions.values()
                if q.section_id in sections or set(q.competencies) & comps
            ]
        ids: list[str] = []
        for item in self._reviews.due(learner, 200):
            qid = item["question"]["id"]
            if wanted is None or qid in wanted:
                ids.append(qid)
            if len(ids) >= intent.count:
                break
        for qid in wanted or []:
            if len(ids) >= intent.count:
                break
            if qid not in ids:
                ids.append(qid)
        if not ids:
            return t.Reply(
                "quiz",
                "Nothing to quiz you on right now: you're all caught up. "
                "Ask me about a topic, or try `quiz me on services`.",
                actions=t.STARTERS,
            ), state
        quiz = {
            "ids": ids,
            "index": 0,
            "practice": intent.practice,
            "right": 0,
            "answered": 0,
            "revealed": False,
        }
        opening = (
            "Practice quiz (your schedule stays as it is)."
            if intent.practice
            else ("Quiz time: your answers count as reviews.")
        )
        return self._ask(view, quiz, opening), {**state, "mode": "quiz", "quiz": quiz}

    def _ask(self, view, quiz, before: str = "") -> t.Reply:
        q = view.question(quiz["ids"][quiz["index"]])
        public = _public(q, quiz["index"] + 1, len(quiz["ids"]))
        text = (before + "\n\n" if before else "") + t.question_text(
            public, quiz["index"] + 1, len(quiz["ids"])
        )
        return t.Reply(
            "quiz",
            text,
            question=public,
            actions=(t.Action("Hint", "hint"), t.Action("Skip", "skip"), t.Action("Stop", "stop")),
        )

    def _on_answer(self, learner, intent, state):
        view = self._content.view()
        quiz = dict(state["quiz"])
        q = view.question(quiz["ids"][quiz["index"]])
        if q.type == "flashcard" and not quiz["revealed"]:
            quiz["revealed"] = True
            return t.Reply(
                "answer",
                f"**Back of the card:** {q.answer}\n\nHow well did you "
                "know it? `again`, `hard`, `good` or `easy`.",
                actions=tuple(t.Action(r.title(), r) for r in ("again", "hard", "good", "easy")),
            ), {**state, "quiz": quiz}
        answer = _parse_answer(q, intent.text, strict=False)
        if answer is None:
            return t.Reply("answer", _how_to_answer(q)), state
        result = self._record(learner, q, answer, practice=quiz["practice"])
        quiz["answered"] += 1
        quiz["right"] += int(
            bool(result.get("correct")) or result.get("rating") in ("good", "easy")
        )
        return self._advance(view, quiz, state, _verdict(q, result), _result(result))

    def _advance(self, view, quiz, state, before: str, result=None):
        quiz["index"] += 1
        quiz["revealed"] = False
        if quiz["index"] >= len(quiz["ids"]):
            summary = (
                f"{before}\n\n**Quiz done:** {quiz['right']} of {quiz['answered']} answered right."
            )
            return (
                t.Reply("quiz_done", summary, result=result, actions=t.STARTERS),
                {**state, "mode": "idle", "quiz": None},
            )
        reply = self._ask(view, quiz, before)
        return t.Reply(
            reply.intent, reply.text, question=reply.question, actions=reply.actions, result=result
        ), {**state, "quiz": quiz}

    def _on_hint(self, learner, intent, state):
        q = self._content.view().question(state["quiz"]["ids"][state["quiz"]["index"]])
        text = f"**Hint:** {q.hint}" if q.hint else "No hint for this one; try your best guess."
        return t.Reply("hint", text), state

    def _on_skip(self, learner, intent, state):
        view = self._content.view()
        quiz = dict(state["quiz"])
        q = view.question(quiz["ids"][quiz["index"]])
        return self._advance(view, quiz, state, f"Skipped. The answer was: {_expected(q)}")

    def _on_stop(self, learner, intent, state):
        quiz = state["quiz"]
        return t.Reply(
            "stop",
            f"Quiz stopped: {quiz['right']} of {quiz['answered']} answered right.",
            actions=t.STARTERS,
        ), {**state, "mode": "idle", "quiz": None}

    def _record(self, learner, q, answer, *, practice: bool) -> dict[str, Any]:
        body = {"rating": answer} if q.type == "flashcard" else {"answer": answer}
        for _ in range(2):  # a card answered elsewhere meanwhile: take its version, try again
            version = self._reviews.card_version(learner, q.id)
            try:
                return self._reviews.answer(
                    learner,
                    q.id,
                    version=version,
                    mode="practice" if practice else "review",
                    **body,
                )
            except Conflict:
                continue
            except ValidationFailed as exc:
                return {
                    "correct": False,
                    "feedback": [exc.detail],
                    "expected": None,
                    "explanation": q.explanation,
                    "rating": "again",
                    "invalid": True,
                }
        raise Conflict("the card kept changing while answering; try again")

    # -- progress and labs ----------------------------------------------------------------
    def _on_progress(self, learner, intent, state):
        p = self._reviews.progress(learner)
        weakest = _weakest(p)
        lines = [
            f"**Exam readiness:** {p['readiness']}%",
            f"**Streak:** {p['streak_days']} day(s) · **reviews today:** "
            f"{p['reviews_today']} · **due today:** {p['due_today']}",
            f"**Cards seen:** {p['cards_seen']}",
        ]
        if p["true_retention"] is not None:
            lines.append(f"**True retention (30 days):** {round(100 * p['true_retention'])}%")
        if weakest:
            lines.append(f"**Weakest:** {weakest['title']}")
        return t.Reply(
            "progress",
            "\n".join(lines),
            actions=(
                t.Action("What should I study next?", "what should I study next"),
                t.Action("Quiz me", "quiz me"),
            ),
        ), state

    def _on_due(self, learner, intent, state):
        items = self._reviews.due(learner, 200)
        due = sum(1 for i in items if not i["new"])
        new = sum(1 for i in items if i["new"])
        text = (
            f"You have **{due}** card(s) due and **{new}** new card(s) ready for today."
            if due or new
            else "Nothing is due. Nice work!"
        )
        return t.Reply("due", text, actions=(t.Action("Quiz me", "quiz me"),)), state

    def _on_next(self, learner, intent, state):
        view = self._content.view()
        weakest = _weakest(self._reviews.progress(learner))
        if weakest is None:
            return t.Reply("next", "Start with the first chapter.", actions=t.STARTERS), state
        section_ids = next(
            (
                c["sections"]
                for d in view.course["domains"]
                for c in d["competencies"]
                if c["id"] == weakest["id"]
            ),
            [],
        )
        citations = ()
        text = f"Your weakest area is **{weakest['title']}**."
        if section_ids:
            s = view.section(section_ids[0])
            citations = (t.Citation(s["id"], s["title"], s["chapter_id"]),)
            text += f" Read **{s['title']}**, then take a short quiz on it."
        return t.Reply(
            "next",
            text,
            citations,
            actions=(t.Action("Quiz me on it", f"quiz me on {weakest['title']}"),),
        ), state

    def _on_verify(self, learner, intent, state):
        view = self._content.view()
        if intent.lab is None:
            names = ", ".join(f"`{lab_id}`" for lab_id in view.labs)
            return t.Reply(
                "verify", f"Which lab? Say e.g. `check my probes lab`. Labs: {names}."
            ), state
        try:
            result = self._labs.verify(learner, intent.lab, "cluster")
        except DomainError as exc:
            return t.Reply(
                "verify",
                f"I couldn't check the **{intent.lab}** lab: {exc.detail}. "
                "You can paste your manifests on the lab's page instead.",
            ), state
        marks = {"passed": "✅", "failed": "❌", "skipped": "⏭"}
        lines = [
            f"**{intent.lab}** lab in `{result['namespace']}`: score {result['score']}"
            f" — {'passed' if result['passed'] else 'not passed yet'}",
            "",
        ]
        for c in result["checks"]:
            line = f"{marks[c['status']]} {c['title']}"
            if c["status"] == "failed":
                line += f": {c['message']}"
            lines.append(f"- {line}")
        return t.Reply(
            "verify",
            "\n".join(lines),
            result={
                "attempt_id": result["attempt_id"],
                "score": result["score"],
                "passed": result["passed"],
            },
        ), state


def _weakest(progress: dict[str, Any]) -> dict[str, Any] | None:
    comps = [
        c
        for d in progress["domains"]
        if d["weight"] > 0
        for c in d["competencies"]
        if c["questions"]
    ]
    if not comps:
        return None
    return min(comps, key=lambda c: (c["score"], c["seen"]))


def _public(q, number: int, total: int) -> dict[str, Any]:
    return {
        "id": q.id,
        "type": q.type,
        "prompt": q.prompt,
        "choices": list(q.choices) if q.choices else None,
        "number": number,
        "of": total,
    }


def _parse_answer(q, text: str, *, strict: bool) -> Any:
    """The learner's text as an answer of the question's type, or None if it is not one."""
    text = text.strip()
    if q.type == "single_choice":
        return t.parse_choice(text, q.choices, multi=False)
    if q.type == "multi_choice":
        return t.parse_choice(text, q.choices, multi=True)
    if q.type == "true_false":
        return t.parse_true_false(text)
    if q.type == "kubectl":
        command = text.removeprefix("$ ").strip("` \n")
        if not command or (strict and command.split()[0] not in ("kubectl", "k", "helm")):
            return None
        return command
    if q.type == "manifest":
        body = text.strip("`\n ")
        body = body.removeprefix("yaml\n")
        return body if (not strict or "apiVersion" in body) else None
    if q.type == "flashcard":
        return t.parse_rating(text)
    if strict and (len(text.split()) > 4 or text.endswith("?")):
        return None
    return text


def _how_to_answer(q) -> str:
    if q.type in ("single_choice", "multi_choice"):
        return (
            "I didn't catch which choice you mean: answer with a letter (`b`), a number "
            "(`2`) or the choice's text."
        )
    if q.type == "true_false":
        return "Answer `true` or `false`."
    if q.type == "flashcard":
        return "Rate yourself: `again`, `hard`, `good` or `easy`."
    return "Type your answer, or say `hint`, `skip` or `stop`."


def _expected(q) -> str:
    if q.type in ("single_choice",):
        return q.choices[q.answer]
    if q.type == "multi_choice":
        return ", ".join(q.choices[i] for i in q.answer)
    if q.type in ("short_answer", "kubectl"):
        return f"`{q.answer[0]}`"
    return str(q.answer) if not isinstance(q.answer, dict) else "see the explanation"


def _verdict(q, result: dict[str, Any]) -> str:
    if result.get("invalid"):
        return f"I couldn't grade that: {result['feedback'][0]}"
    if result.get("correct") is None:
        head = f"Recorded as **{result['rating']}**."
    elif result["correct"]:
        head = "✅ Right!"
    else:
        head = f"❌ Not quite. The answer: {_expected(q)}"
    lines = [head]
    lines += [f"- {f}" for f in result.get("feedback", [])[:5]]
    lines += ["", q.explanation]
    return "\n".join(lines)


def _result(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result.get(k) for k in ("correct", "rating", "mode") if k in result}


def message_dict(row) -> dict[str, Any]:
    """A stored message as the API returns it."""
    payload = row.payload or {}
    return {
        "id": row.id,
        "role": row.role,
        "text": row.text,
        "created_at": row.created_at,
        "intent": payload.get("intent"),
        "citations": payload.get("citations", []),
        "question": payload.get("question"),
        "actions": payload.get("actions", []),
        "result": payload.get("result"),
    }
