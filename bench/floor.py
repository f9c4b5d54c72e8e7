"""The floor: each hot endpoint's database and retrieval work, with nothing else around it.

`make bench` serves this app under the same gunicorn command as the service and the bare
app, on the same database, and loads it with the same requests as the `due`, `answer` and
`chat` scenarios, and as the two chapter reads (`floor-chapter`, ...). Each route does only what no
implementation of its endpoint can skip, through the service's own hot-path statements
(`Prepared`, run straight on a pooled driver connection, without a SQLAlchemy session):

- every route authenticates the bearer token with the service's token lookup (one query);
- `chapter` serves the chapter as the service's view does (`chapter_response`: the per-view
  cache of encoded bodies, its ETag and 304);
- `due` runs the service's ranked due query and returns the rows: no question text, no
  retrievability, no new cards, no validation of the query string;
- `answer` reads the card, compare-and-sets it and appends a review log in one write
  transaction: no grading, no FSRS scheduling, no interval preview, no rate limit;
- `chat` reads the conversation, ranks the course's sections for the message with the
  tutor's retrieval, then compare-and-sets the conversation and appends the two messages in
  one write transaction: no intent parsing, no reply, no rate limit.

None of the hooks the service adds to Flask (request ids, logs, metrics, security headers,
body guards, flask-smorest's argument parsing and response wrapping) runs here. A floor's
ratio to the bare app is therefore an upper bound for the real endpoint on this stack
(Flask, gunicorn sync workers, this database and schema): a target above it cannot be met by
tuning the service, only by changing the stack or the work the endpoint must do.

A measuring instrument, never served to learners: it validates nothing beyond what keeps a
benchmark request from failing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import flask

from ckad_api.adapters.repositories import SqlConversationRepository
from ckad_api.adapters.reviews_repo import SqlReviewRepository
from ckad_api.domain.errors import DomainError
from ckad_api.http.common import json_response
from ckad_api.http.course import chapter_response
from ckad_api.services.ports import CardConflict

PATH = "/ping"  # readiness, as the bare app's
DUE_LIMIT = 20  # the `due` scenario's ?limit=20


class _Driver:
    """What `Prepared` reads off a session's connection: the dialect, and the driver's own
    connection as `.connection`."""

    def __init__(self, dialect: Any, dbapi: Any) -> None:
        self.dialect = dialect
        self.connection = dbapi


class _Session:
    """A pooled driver connection where the repositories expect a session. Their hot-path
    statements only call `connection()`: no session, Core execution or result processing
    runs."""

    def __init__(self, dialect: Any, dbapi: Any) -> None:
        self._driver = _Driver(dialect, dbapi)

    def connection(self) -> _Driver:
        return self._driver


def build(services: Any) -> flask.Flask:
    """The floor app over a service container (`app.extensions["ckad"]`)."""
    engine = services.engine
    app = flask.Flask(__name__)

    @contextlib.contextmanager
    def driver(*, write: bool) -> Iterator[_Session]:
        dbapi = engine.raw_connection()
        try:
            if write and engine.dialect.name == "sqlite":
                # The service's writers take SQLite's write lock up front too.
                dbapi.cursor().execute("BEGIN IMMEDIATE")
            yield _Session(engine.dialect, dbapi)
            if write:
                dbapi.commit()
        finally:
            dbapi.close()  # back to the pool, rolled back when not committed

    def learner():
        token = flask.request.headers.get("Authorization", "").partition(" ")[2]
        return services.accounts.authenticate(token)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> flask.Response:
        return json_response({"detail": str(exc)}, exc.status)

    @app.get(PATH)
    def ping():
        return {"status": "ok"}

    @app.get("/api/v1/chapters/<chapter_id>")
    def chapter(chapter_id: str):
        learner()
        return chapter_response(services.content.view(), chapter_id)

    @app.get("/api/v1/reviews/due")
    def due():
        who = learner()
        with driver(write=False) as session:
            rows = SqlReviewRepository(session).due(who.id, services.clock.now(), DUE_LIMIT)
        return json_response([[r.question_id, r.card.state, r.card.due.isoformat()] for r in rows])

    @app.post("/api/v1/reviews/<question_id>/answer")
    def answer(question_id: str):
        who = learner()
        body = flask.request.get_json()
        now = services.clock.now()
        with driver(write=True) as session:
            reviews = SqlReviewRepository(session)
            row = reviews.card(who.id, question_id)
            current = {"question_id": question_id, "version": row.version if row else 0}
            if row is None or row.version != body["version"]:
                return json_response({"current": current}, 409)
            try:
                version = reviews.save(row.id, row.version, row.card, now)
            except CardConflict:
                return json_response({"current": current}, 409)
            state = row.card.to_dict()
            reviews.log(
                learner_id=who.id,
                card_id=row.id,
                question_id=question_id,
                rating=3,
                answer=body["answer"],
                correct=True,
                elapsed_ms=body.get("elapsed_ms"),
                reviewed_at=now,
                state_before=state,
                state_after=state,
                undone_at=None,
            )
        return json_response({"card": {"question_id": question_id, "version": version}})

    @app.post("/api/v1/chat/conversations/<conversation_id>/messages")
    def chat(conversation_id: str):
        who = learner()
        text = flask.request.get_json()["text"]
        with driver(write=False) as session:
            found = SqlConversationRepository(session).state(conversation_id, who.id)
        if found is None:
            return json_response({"detail": "no such conversation"}, 404)
        ranked, _, _ = services.tutor.rank(text)
        cited = [r.doc.section_id for r in ranked[:3]]
        now = services.clock.now()
        with driver(write=True) as session:
            conversations = SqlConversationRepository(session)
            if not conversations.save_state(conversation_id, found.version, found.state, now):
                return json_response({"detail": "another message was answered first"}, 409)
            conversations.add_message(conversation_id, "learner", text, None, now)
            conversations.add_message(
                conversation_id, "tutor", " ".join(cited), {"citations": cited}, now
            )
        return json_response({"role": "tutor", "citations": cited})

    return app


def create() -> flask.Flask:
    """gunicorn's entry point (`bench.floor:create()`): the floor over the service's
    container, configured from the environment as the service is."""
    from ckad_api import create_app

    return build(create_app().extensions["ckad"])
