"""Lab routes: list, read, verify, attempts and the solution."""

from __future__ import annotations

from flask.views import MethodView

from . import observability
from . import schemas as s
from .common import (
    Blueprint,
    auth_required,
    cached_content,
    current_learner,
    decode_cursor,
    json_response,
    page,
    services,
)
from .course import ETAG_HEADER, conditional

blp = Blueprint("labs", __name__, url_prefix="/api/v1", description="Hands-on labs")
_LAB = s.LabSchema()
_LABS = s.LabListSchema()
_ATTEMPT = s.AttemptSchema()


def attempt_dict(row) -> dict:
    """A stored attempt in the shape of a verification result."""
    return {
        "attempt_id": row.id,
        "lab_id": row.lab_id,
        "source": row.source,
        "namespace": row.namespace,
        "score": row.score,
        "passed": row.passed,
        "checks": row.results,
        "warnings": row.warnings,
        "created_at": row.created_at,
    }


@blp.route("/labs")
class Labs(MethodView):
    """Every lab."""

    @auth_required(blp)
    @blp.response(200, s.LabListSchema)
    def get(self):
        """Labs with the caller's attempts and best score."""
        return json_response(_LABS.dump({"items": services().labs.list(current_learner())}))


@blp.route("/labs/<string:lab_id>")
class Lab(MethodView):
    """One lab."""

    @auth_required(blp)
    @conditional
    @blp.response(200, s.LabSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, lab_id):
        """The task, its checks' titles and hints (never the solution)."""
        labs = services().labs
        view = services().content.view()
        return cached_content(view, ("lab", lab_id), _LAB, lambda: labs.get(lab_id))


@blp.route("/labs/<string:lab_id>/verify")
class Verify(MethodView):
    """Grade the learner's work."""

    @auth_required(blp)
    @observability.per_learner_verify
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Rate limit; see Retry-After")
    @blp.arguments(s.VerifyRequestSchema)
    @blp.response(200, s.AttemptSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="Another learner's namespace")
    @blp.alt_response(404, response="NOT_FOUND", description="Unknown lab or namespace")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="Manifests are not YAML")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE", description="Cluster unavailable")
    def post(self, body, lab_id):
        """Check the live namespace or pasted manifests against the lab's rubric."""
        result = services().labs.verify(
            current_learner(),
            lab_id,
            body["source"],
            manifests=body["manifests"],
            namespace=body["namespace"],
        )
        observability.VERIFICATIONS.labels(
            body["source"], "passed" if result["passed"] else "failed"
        ).inc()
        return json_response(_ATTEMPT.dump(result))


@blp.route("/labs/<string:lab_id>/attempts")
class Attempts(MethodView):
    """The caller's attempts at a lab."""

    @auth_required(blp)
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, s.AttemptPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, query, lab_id):
        """Attempts, newest first."""
        limit = query["limit"]
        before = decode_cursor(query["cursor"]) or None
        rows = services().labs.attempts(current_learner(), lab_id, before, limit + 1)
        return page([attempt_dict(r) for r in rows], limit, lambda a: a["attempt_id"])


@blp.route("/labs/<string:lab_id>/solution")
class Solution(MethodView):
    """The reference solution."""

    @auth_required(blp)
    @blp.response(200, s.SolutionSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="No attempt yet")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, lab_id):
        """The solution, after at least one attempt."""
        return services().labs.solution(current_learner(), lab_id)
