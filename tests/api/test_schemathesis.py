"""Schemathesis against the committed `openapi.yaml`, run in process on the Flask app (WSGI).

Each documented operation gets schemathesis' phases (the document's examples, coverage's
boundary and missing/invalid values, then a fuzzing budget of MAX_EXAMPLES cases, valid and
invalid) from a fixed seed with deterministic generation, so CI replays the same cases every
run. Every response must:
- not be a 5xx (`not_a_server_error`);
- have a status the operation documents, with the documented content type, a body that matches
  the documented schema and the documented headers (`*_conformance`);
- refuse a request that breaks the document (`negative_data_rejection`), ignore no
  authentication (`ignored_auth`) and answer 405 with `Allow` to an undocumented method.

`positive_data_acceptance` is off: some rules cannot be written in the document (a cursor is
valid only if this API issued it, a timezone only if it is an IANA zone, an answer's shape
depends on the question's type, manifests must be YAML), so a schema-valid request may rightly
be refused; those refusals are still held to the documented 400/422 problems above.

The callers are real accounts: a learner, and an admin for the /admin routes. Lab verification
of a namespace reads a fake Kubernetes API server on 127.0.0.1 (tests/fakekube.py), the
learner's namespace loaded, so `source: cluster` is checked too. The Slack events endpoint is
not in the document (Slack signs its requests; tests/slack covers it).
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from ckad_api import create_app
from tests.conftest import FIXTURE_QUESTIONS, ROOT, _reset_pg, make_admin, settings_for
from tests.fakekube import FakeKube

MAX_EXAMPLES = 15
"""Fuzzing cases per operation (coverage adds its own): about 15 s of CPU per database."""

PASSWORD = "correct-horse-1"
CONVERSATION = "the-learners-conversation"
"""Stands for the learner's real conversation id, which exists only once the app runs."""

# Ids of the fixture content (tests/fixtures/content), mixed into the generated values so the
# cases reach real questions, labs, chapters and sections instead of 404s only.
DICTIONARIES = {
    "questions": list(FIXTURE_QUESTIONS),
    "labs": ["web"],
    "chapters": ["basics"],
    "sections": ["basics-pods", "basics-deployments"],
    "competencies": ["design-build/workloads", "foundations/architecture"],
    "conversations": [CONVERSATION],
    "learners": [1],  # the learner; never the admin, whom a PATCH could demote
    "versions": [0],  # a new card's version: an answer that gets graded, not a 409
}
BINDINGS = {
    "path.question_id": "questions",
    "path.lab_id": "labs",
    "path.chapter_id": "chapters",
    "path.section_id": "sections",
    "path.conversation_id": "conversations",
    "path.learner_id": "learners",
    "query.chapter": "chapters",
    "query.competency": "competencies",
    "body.version": "versions",
}

CONFIG = {
    "seed": 20260801,
    # Generation time depends on how busy the two shared cores are; the cases do not.
    "suppress-health-check": ["too_slow"],
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "checks": {"positive_data_acceptance": {"enabled": False}},
    "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
    "parameters": {key: {"dictionary": name, "probability": 0.5} for key, name in BINDINGS.items()},
}


class ServedApp:
    """The WSGI app under test. The schema is loaded at import, before any app exists (and
    schemathesis sends its own probes, such as the unauthenticated one, to the schema's app),
    so it holds this stand-in and the fixture points it at the module's app."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


SERVED = ServedApp()
schema = schemathesis.openapi.from_path(
    ROOT / "openapi.yaml", config=SchemathesisConfig.from_dict(CONFIG)
)
schema.app = SERVED


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def served(request, tmp_path_factory):
    """One app for the module's cases, its callers' headers and the learner's conversation."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("schemathesis") / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            patch.delenv(name, raising=False)  # the fake cluster is on 127.0.0.1
        cluster = FakeKube(namespaces=("default", "ckad-ada")).start()
        try:
            kubeconfig = cluster.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
            app = create_app(settings_for(url, kubeconfig=str(kubeconfig), kube_timeout=2.0))
            client = app.test_client()
            registered = client.post(
                "/api/v1/auth/register", json={"username": "ada", "password": PASSWORD}
            )
            assert registered.status_code == 201, registered.get_json()
            learner = {"Authorization": f"Bearer {registered.get_json()['access_token']}"}
            conversation = client.post("/api/v1/chat/conversations", headers=learner)
            SERVED.app = app
            yield {
                "app": app,
                "learner": learner,
                "admin": make_admin(app),
                "conversation": conversation.get_json()["id"],
            }
        finally:
            SERVED.app = None
            cluster.stop()
    assert not cluster.errors, f"the fake cluster itself failed: {cluster.errors!r}"
    if url.startswith("postgresql"):
        _reset_pg(app)  # the PostgreSQL database is shared by the run
    app.extensions["ckad"].engine.dispose()


def caller_headers(case, served) -> dict[str, str]:
    """The admin for /admin routes; a token of its own for logout (it revokes the token it
    is sent with); the learner everywhere else."""
    path = case.operation.path
    if path.startswith("/api/v1/admin/"):
        return served["admin"]
    if path == "/api/v1/auth/logout":
        token = (
            served["app"]
            .test_client()
            .post("/api/v1/auth/token", json={"username": "ada", "password": PASSWORD})
        )
        return {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    return served["learner"]


@schema.parametrize()
def test_every_operation_answers_as_documented(case, served):
    if case.path_parameters and case.path_parameters.get("conversation_id") == CONVERSATION:
        case.path_parameters["conversation_id"] = served["conversation"]
    case.call_and_validate(headers=caller_headers(case, served))
