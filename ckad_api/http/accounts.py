"""Accounts routes: register, token, logout, /me, and admin learner management."""

from __future__ import annotations

from flask.views import MethodView

from ..domain.accounts import Learner
from . import observability
from . import schemas as s
from .common import (
    Blueprint,
    auth_required,
    bearer_token,
    current_learner,
    decode_cursor,
    page,
    services,
)
from .errors import register_dumper

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts and tokens")
register_dumper(Learner, s.LearnerSchema().dump)


def _token_payload(token) -> dict:
    return {
        "access_token": token.access_token,
        "token_type": token.token_type,
        "expires_in": token.expires_in,
        "expires_at": token.expires_at,
    }


@blp.route("/auth/register")
class Register(MethodView):
    """Create a learner account."""

    @observability.per_ip_register
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Rate limit; see Retry-After")
    @blp.arguments(s.RegisterSchema)
    @blp.response(201, s.RegisteredSchema)
    @blp.alt_response(409, response="CONFLICT", description="The username is taken")
    def post(self, body):
        """Register a learner and get a first access token."""
        learner, token = services().accounts.register(**body)
        return {"learner": learner, **_token_payload(token)}


@blp.route("/auth/token")
class Token(MethodView):
    """Exchange credentials for an access token."""

    @observability.per_ip_token
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Rate limit; see Retry-After")
    @blp.arguments(s.TokenRequestSchema)
    @blp.response(200, s.TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, body):
        """Get an access token for a username and password."""
        return _token_payload(services().accounts.issue_token(body["username"], body["password"]))


@blp.route("/auth/logout")
class Logout(MethodView):
    """Revoke the presented token."""

    @auth_required(blp)
    @blp.response(204)
    def post(self):
        """Revoke the access token used for this request."""
        services().accounts.logout(bearer_token())


@blp.route("/me")
class Me(MethodView):
    """The caller's own account."""

    @auth_required(blp)
    @blp.response(200, s.LearnerSchema)
    def get(self):
        """The caller's account and settings."""
        return current_learner()

    @auth_required(blp)
    @blp.arguments(s.SettingsSchema)
    @blp.response(200, s.LearnerSchema)
    @blp.alt_response(409, response="CONFLICT", description="Stale version; carries `current`")
    def patch(self, body):
        """Change display name, timezone, desired retention, new cards per day, daily goal."""
        version = body.pop("version", None)
        return services().accounts.update_settings(current_learner(), body, version)


@blp.route("/admin/learners")
class AdminLearners(MethodView):
    """Learners, for admins."""

    @auth_required(blp)
    @blp.arguments(s.PageQuerySchema, location="query")
    @blp.response(200, s.LearnerPageSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self, query):
        """A page of learners ordered by id."""
        limit = query["limit"]
        items = services().accounts.list_learners(
            current_learner(), decode_cursor(query["cursor"]), limit + 1
        )
        return page(items, limit, lambda learner: learner.id)


@blp.route("/admin/learners/<int:learner_id>")
class AdminLearner(MethodView):
    """One learner, for admins."""

    @auth_required(blp)
    @blp.arguments(s.AdminLearnerChangeSchema)
    @blp.response(200, s.LearnerSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body, learner_id):
        """Change a learner's role or lab namespace binding."""
        version = body.pop("version", None)
        return services().accounts.admin_update(current_learner(), learner_id, body, version)


@blp.route("/me/slack-link-code")
class SlackLinkCode(MethodView):
    """Link a Slack user to this account."""

    @auth_required(blp)
    @blp.response(201, s.SlackLinkCodeSchema)
    def post(self):
        """A one-time code (15 minutes) for `/ckad link CODE` in Slack; earlier codes stop
        working. Linking merges the Slack user's history into this account."""
        learner = current_learner()
        code, expires_at = services().slack.link_code(learner)
        now = services().clock.now()
        return {
            "code": code,
            "command": f"/ckad link {code}",
            "expires_at": expires_at,
            "expires_in": int((expires_at - now).total_seconds()),
        }


@blp.route("/me/reminders")
class Reminders(MethodView):
    """The daily Slack reminder."""

    @auth_required(blp)
    @blp.response(200, s.ReminderSchema)
    def get(self):
        """Whether the daily reminder is on, at what local time, and whether Slack is linked."""
        return services().slack.reminder_settings(current_learner())

    @auth_required(blp)
    @blp.arguments(s.ReminderChangeSchema)
    @blp.response(200, s.ReminderSchema)
    @blp.alt_response(409, response="CONFLICT", description="No Slack user is linked yet")
    def patch(self, body):
        """Switch the reminder on or off, or change its time or timezone."""
        return services().slack.set_reminder(current_learner(), **body)
