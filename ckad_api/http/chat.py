"""Tutor chat routes: start a conversation, send a message, read the messages."""

from __future__ import annotations

from flask.views import MethodView

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

blp = Blueprint("chat", __name__, url_prefix="/api/v1", description="The chat tutor")
_MESSAGE = s.ChatMessageSchema()


@blp.route("/chat/conversations")
class Conversations(MethodView):
    """Conversations with the tutor."""

    @auth_required(blp)
    @blp.response(201, s.ConversationSchema)
    def post(self):
        """Start a conversation; the tutor opens it with what it can do."""
        return services().tutor.start(current_learner())


@blp.route("/chat/conversations/<string:conversation_id>/messages")
class Messages(MethodView):
    """The messages of a conversation."""

    @auth_required(blp)
    @observability.per_learner_chat
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="Rate limit; see Retry-After")
    @blp.arguments(s.ChatSendSchema)
    @blp.response(200, s.ChatMessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Another message was answered first")
    def post(self, body, conversation_id):
        """Say something; the reply carries text, citations, a question and suggested actions."""
        message = services().tutor.send(current_learner(), conversation_id, body["text"])
        observability.INTENTS.labels(message["intent"] or "unknown").inc()
        return json_response(_MESSAGE.dump(message))

    @auth_required(blp)
    @blp.arguments(s.ChatPageQuerySchema, location="query")
    @blp.response(200, s.ChatPageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, query, conversation_id):
        """Messages, oldest first, paginated."""
        limit = query["limit"]
        items = services().tutor.messages(
            current_learner(), conversation_id, decode_cursor(query["cursor"]), limit + 1
        )
        return page(items, limit, lambda message: message["id"])
