"""Tutor chat routes: start a conversation, send a message, read the messages."""

from __future__ import annotations

from typing import Any

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
# An instance: given a class, webargs builds the schema again on every message.
_SEND_REQUEST = s.ChatSendSchema()


def message_body(message: dict[str, Any]) -> dict[str, Any]:
    """`ChatMessageSchema().dump(message)`, field for field and in its order, built directly.

    Every chat message answers with one; marshmallow's nested dump cost about as much as
    storing the two messages. tests/api/test_chat.py checks both give the same JSON.
    """
    question = message["question"]
    result = message["result"]
    return {
        "id": message["id"],
        "role": message["role"],
        "text": message["text"],
        "intent": message["intent"],
        "citations": [
            {"section_id": c["section_id"], "title": c["title"], "chapter_id": c["chapter_id"]}
            for c in message["citations"]
        ],
        "question": None
        if question is None
        else {
            "id": question["id"],
            "type": question["type"],
            "prompt": question["prompt"],
            "choices": None if question["choices"] is None else list(question["choices"]),
            "number": question["number"],
            "of": question["of"],
        },
        "actions": [{"label": a["label"], "text": a["text"]} for a in message["actions"]],
        "result": None if result is None else dict(result),
        "created_at": message["created_at"].isoformat(),
    }


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
    @blp.arguments(_SEND_REQUEST)
    @blp.response(200, s.ChatMessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="Another message was answered first")
    def post(self, body, conversation_id):
        """Say something; the reply carries text, citations, a question and suggested actions."""
        message = services().tutor.send(current_learner(), conversation_id, body["text"])
        observability.INTENTS.labels(message["intent"] or "unknown").inc()
        return json_response(message_body(message))

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
