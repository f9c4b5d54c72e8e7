"""Review routes: due cards, answers, undo, history, export, progress and forecast."""

from __future__ import annotations

import json
import math
from typing import Any

import flask
from flask.views import MethodView

from ..services.reviews import CardView, log_dict
from . import observability
from . import schemas as s
from .common import (
    Blueprint,
    auth_required,
    current_learner,
    decode_cursor,
    json_response,
    page,
    services,
)
from .errors import register_dumper

blp = Blueprint("reviews", __name__, url_prefix="/api/v1", description="Spaced repetition")
# Argument schemas of the hot routes as instances: webargs builds a schema from a class on
# every request.
_DUE_QUERY = s.DueQuerySchema()
_ANSWER_REQUEST = s.AnswerRequestSchema()


# The two hot responses are dumped by hand: marshmallow took about a quarter of a due request.
# They produce exactly what `CardSchema`, `DueListSchema` and `AnswerResultSchema` would
# (same keys, same order, same values; tests compare the bytes), and the schemas stay the
# contract the OpenAPI document is generated from.
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # json_response's output, built once
# question id -> (the service's shared public dict, its JSON). The question text is most of a
# due list's JSON and changes only with the content: each is encoded once per course view.
_QUESTION_JSON: dict[str, tuple[dict[str, Any], str]] = {}


def _iso(value):
    return value.isoformat() if value is not None else None


def card_dict(card: CardView) -> dict[str, Any]:
    """A card as `CardSchema` dumps it."""
    return {
        "question_id": card.question_id,
        "state": card.state,
        "due": _iso(card.due),
        "last_review": _iso(card.last_review),
        "stability": card.stability,
        "difficulty": card.difficulty,
        "retrievability": card.retrievability,
        "reps": card.reps,
        "lapses": card.lapses,
        "version": card.version,
    }


def _question_json(question: dict[str, Any]) -> str:
    entry = _QUESTION_JSON.get(question["id"])
    if entry is None or entry[0] is not question:  # another course view: encode it anew
        entry = _QUESTION_JSON[question["id"]] = (question, _ENCODER.encode(question))
    return entry[1]


def _number(value: float | None) -> str:
    # A marshmallow Float dumps float(value); json writes a finite float as its repr.
    if value is None:
        return "null"
    value = float(value)
    return repr(value) if math.isfinite(value) else _ENCODER.encode(value)


def _time(value) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


def _card_json(card: CardView) -> str:
    """`card_dict(card)` encoded, written directly: twenty of them were a tenth of a due
    request through the encoder."""
    return (
        f'{{"question_id":{_ENCODER.encode(card.question_id)},"state":"{card.state}",'
        f'"due":{_time(card.due)},"last_review":{_time(card.last_review)},'
        f'"stability":{_number(card.stability)},"difficulty":{_number(card.difficulty)},'
        f'"retrievability":{_number(card.retrievability)},'
        f'"reps":{int(card.reps)},"lapses":{int(card.lapses)},"version":{int(card.version)}}}'
    )


def due_json(items: list[dict[str, Any]]) -> str:
    """Due items as the JSON of `DueListSchema` (questions as the service's public dicts)."""
    return (
        '{"items":['
        + ",".join(
            f'{{"question":{_question_json(i["question"])},'
            f'"new":{"true" if i["new"] else "false"},"card":{_card_json(i["card"])}}}'
            for i in items
        )
        + "]}"
    )


def answer_dict(result: dict[str, Any]) -> dict[str, Any]:
    """An answer result as `AnswerResultSchema` dumps it."""
    return {
        "question_id": result["question_id"],
        "mode": result["mode"],
        "correct": result["correct"],
        "expected": result["expected"],
        "explanation": result["explanation"],
        "feedback": result["feedback"],
        "details": result["details"],
        "rating": result["rating"],
        "card": card_dict(result["card"]),
        "next_due": _iso(result["next_due"]),
        "intervals": result["intervals"],
    }


register_dumper(CardView, card_dict)


@blp.route("/reviews/due")
class Due(MethodView):
    """Cards to review now."""

    @auth_required(blp)
    @blp.arguments(_DUE_QUERY, location="query")
    @blp.response(200, s.DueListSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown chapter or competency")
    def get(self, query):
        """Due cards, most at risk first, then new cards up to today's new-card limit."""
        items = services().reviews.due(
            current_learner(), query["limit"], query["chapter"], query["competency"]
        )
        return flask.current_app.response_class(due_json(items), mimetype="application/json")


@blp.route("/reviews/<string:question_id>/answer")
class Answer(MethodView):
    """Answer a question."""

    @auth_required(blp)
    @observability.per_learner_answer
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Rate limit; see Retry-After")
    @blp.arguments(_ANSWER_REQUEST)
    @blp.response(200, s.AnswerResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Stale version; carries `current`")
    @blp.alt_response(
        422, response="UNPROCESSABLE_ENTITY", description="A manifest answer is not YAML"
    )
    def post(self, body, question_id):
        """Grade the answer, schedule the card (unless practising) and log the review."""
        result = services().reviews.answer(current_learner(), question_id, **body)
        if result["mode"] == "review":
            observability.REVIEWS.labels(result["rating"]).inc()
        return json_response(answer_dict(result))


@blp.route("/reviews/<string:question_id>/undo")
class Undo(MethodView):
    """Undo the last answer on a card."""

    @auth_required(blp)
    @blp.arguments(s.UndoRequestSchema)
    @blp.response(200, s.CardSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, question_id):
        """Restore the card from the review log; the log is kept, marked undone."""
        return services().reviews.undo(current_learner(), question_id, body["version"])


@blp.route("/reviews/history")
class History(MethodView):
    """The learner's review log."""

    @auth_required(blp)
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, s.ReviewLogPageSchema)
    def get(self, query):
        """Reviews, newest first, paginated."""
        limit = query["limit"]
        before = decode_cursor(query["cursor"]) or None
        rows = services().reviews.history(current_learner(), before, limit + 1)
        return page([log_dict(r) for r in rows], limit, lambda entry: entry["id"])


@blp.route("/reviews/export")
class Export(MethodView):
    """Every review, as JSON lines."""

    @auth_required(blp)
    @blp.response(
        200,
        description="One JSON object per line (application/x-ndjson)",
        content_type="application/x-ndjson",
    )
    def get(self):
        """The learner's whole review history, oldest first, one JSON object per line."""
        schema = s.ReviewLogSchema()
        learner = current_learner()
        filename = f"ckad-reviews-{learner.username}.jsonl"
        lines = [
            json.dumps(schema.dump(entry), separators=(",", ":")) + "\n"
            for entry in services().reviews.export(learner)
        ]
        return flask.Response(
            "".join(lines),
            mimetype="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


@blp.route("/progress")
class Progress(MethodView):
    """The learner's progress."""

    @auth_required(blp)
    @blp.response(200, s.ProgressSchema)
    def get(self):
        """Mastery per domain and competency, streak, today, true retention, readiness."""
        return services().reviews.progress(current_learner())


@blp.route("/progress/forecast")
class Forecast(MethodView):
    """Due reviews ahead."""

    @auth_required(blp)
    @blp.arguments(s.ForecastQuerySchema, location="query")
    @blp.response(200, s.ForecastSchema)
    def get(self, query):
        """Due counts per day in the learner's timezone."""
        return {"items": services().reviews.forecast(current_learner(), query["days"])}


@blp.route("/admin/learners/<int:learner_id>/progress")
class LearnerProgress(MethodView):
    """A learner's progress, for admins."""

    @auth_required(blp)
    @blp.response(200, s.ProgressSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, learner_id):
        """The same figures the learner sees at /progress."""
        learner = services().accounts.get_learner(current_learner(), learner_id)
        return services().reviews.progress(learner)
