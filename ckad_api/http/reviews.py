"""Review routes: due cards, answers, undo, history, export, progress and forecast."""

from __future__ import annotations

import json

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
_CARD = s.CardSchema()
_DUE = s.DueListSchema()
_ANSWER = s.AnswerResultSchema()
register_dumper(CardView, _CARD.dump)


@blp.route("/reviews/due")
class Due(MethodView):
    """Cards to review now."""

    @auth_required(blp)
    @blp.arguments(s.DueQuerySchema, location="query")
    @blp.response(200, s.DueListSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown chapter or competency")
    def get(self, query):
        """Due cards, most at risk first, then new cards up to today's new-card limit."""
        items = services().reviews.due(
            current_learner(), query["limit"], query["chapter"], query["competency"]
        )
        return json_response(_DUE.dump({"items": items}))


@blp.route("/reviews/<string:question_id>/answer")
class Answer(MethodView):
    """Answer a question."""

    @auth_required(blp)
    @observability.per_learner_answer
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Rate limit; see Retry-After")
    @blp.arguments(s.AnswerRequestSchema)
    @blp.response(200, s.AnswerResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Stale version; carries `current`")
    def post(self, body, question_id):
        """Grade the answer, schedule the card (unless practising) and log the review."""
        result = services().reviews.answer(current_learner(), question_id, **body)
        if result["mode"] == "review":
            observability.REVIEWS.labels(result["rating"]).inc()
        return json_response(_ANSWER.dump(result))


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
