"""Hostile input: every attack is refused with a clear problem and changes nothing.

Covers YAML alias bombs and unsafe tags in manifests, deeply nested JSON, bodies past the size
limit, invalid UTF-8 and unstorable text (NUL, lone surrogates) in bodies, query strings and
paths, SQL injection in search, chat, usernames and parameters, and CEL-looking values in
manifests. "Nothing changed" is checked on the database: the row counts of every table a
learner fills, and the learner's own row, are the same after the request as before.

Free text is data, not an attack: a search or a chat message that looks like SQL is answered as
the words it contains (and stored verbatim), never refused, and still changes nothing else.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.test_errors import assert_problem
from tests.api.test_labs import SOLUTION  # the fixture lab `web`'s reference solution
from tests.conftest import LEARNER_TABLES, make_admin

# "Billion laughs": nine levels of nine aliases each would expand to 9**9 strings.
ALIAS_BOMB = "\n".join(
    [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata: {name: lol}",
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "data: {bomb: *i}",
    ]
)
MERGE_BOMB = "\n".join(
    [
        "base: &base {x: 1}",
        *(f"l{i}: &l{i} {{<<: [*base, *base, *base]}}" for i in range(30)),
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata: {name: merge}",
    ]
)
PYTHON_TAG = "!!python/object/apply:os.system ['touch /tmp/ckad-pwned']\n"
DEEP_YAML = "a: " + "[" * 5000 + "]" * 5000 + "\n"

SQL_INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE learners; --",
    "1; DELETE FROM cards WHERE 1=1",
    '" UNION SELECT password_hash FROM learners --',
]


@pytest.fixture
def learner(api):
    return api.auth("ada")


def table_counts(services) -> dict[str, Any]:
    """Rows in every table learners fill, the learners' rows and every card's version."""
    with services.engine.connect() as conn:
        counts: dict[str, Any] = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in LEARNER_TABLES
        }
        counts["learner rows"] = conn.execute(
            text(
                "SELECT id, username, role, version, timezone, namespace FROM learners ORDER BY id"
            )
        ).all()
        counts["card versions"] = conn.execute(
            text("SELECT learner_id, question_id, version FROM cards ORDER BY id")
        ).all()
    return counts


class Unchanged:
    """`take()` before the hostile requests, `check()` after: the database must not move."""

    def __init__(self, services):
        self.services = services
        self.before: dict | None = None

    def take(self) -> None:
        self.before = table_counts(self.services)

    def check(self) -> None:
        assert table_counts(self.services) == self.before


@pytest.fixture
def unchanged(services) -> Unchanged:
    return Unchanged(services)


def post_json(client, path, headers, raw: bytes | str):
    return client.post(path, headers=headers, data=raw, content_type="application/json")


# -- YAML ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("manifests", "says"),
    [
        (ALIAS_BOMB, "alias"),
        (MERGE_BOMB, "alias"),
        (DEEP_YAML, "nest"),
        (PYTHON_TAG, "python/object"),
    ],
    ids=["alias-bomb", "merge-key-bomb", "5000-levels", "python-tag"],
)
def test_hostile_yaml_is_refused_in_labs_and_in_answers(
    client, learner, unchanged, manifests, says
):
    # A first answer makes the manifest card exist, so "unchanged" also covers its state.
    first = client.post(
        "/api/v1/reviews/basics-write-deployment/answer",
        headers=learner,
        json={"answer": SOLUTION, "version": 0},
    )
    assert first.status_code == 200
    unchanged.take()
    verify = client.post(
        "/api/v1/labs/web/verify",
        headers=learner,
        json={"source": "manifests", "manifests": manifests},
    )
    body = assert_problem(verify, 422)
    assert body["type"] == "/problems/invalid-manifests"
    assert says in body["detail"].lower(), body["detail"]
    answer = client.post(
        "/api/v1/reviews/basics-write-deployment/answer",
        headers=learner,
        json={"answer": manifests, "version": 1},
    )
    assert assert_problem(answer, 422)["type"] == "/problems/invalid-manifests"
    unchanged.check()
    history = client.get("/api/v1/reviews/history", headers=learner).get_json()["items"]
    assert len(history) == 1  # only the first, real answer


# -- JSON structure and size -------------------------------------------------------------------
BODY_ROUTES = [
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/token"),
    ("patch", "/api/v1/me"),
    ("post", "/api/v1/reviews/basics-probe-traffic/answer"),
    ("post", "/api/v1/labs/web/verify"),
    ("post", "/api/v1/chat/conversations/{conversation}/messages"),
]


@pytest.fixture
def conversation(client, learner):
    return client.post("/api/v1/chat/conversations", headers=learner).get_json()["id"]


def send(client, method, path, headers, conversation, **kwargs):
    return client.open(
        path.format(conversation=conversation), method=method.upper(), headers=headers, **kwargs
    )


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_deeply_nested_json_is_refused(client, learner, conversation, unchanged, method, path):
    unchanged.take()
    # Past the parser's own recursion limit: json.loads gives up, the request is refused.
    deep = "[" * 100_000 + "]" * 100_000
    body = assert_problem(
        send(
            client, method, path, learner, conversation, data=deep, content_type="application/json"
        ),
        400,
    )
    assert body["errors"] == {"body": ["is nested too deeply"]}
    # Parseable, but deeper than any real body: refused naming the field, before any handler
    # (grading, storing the answer as JSON) could recurse into it.
    nested = '{"answer": ' + "[" * 500 + "]" * 500 + "}"
    body = assert_problem(
        send(
            client,
            method,
            path,
            learner,
            conversation,
            data=nested,
            content_type="application/json",
        ),
        400,
    )
    assert list(body["errors"]) == ["answer"] and "nested too deeply" in body["detail"]
    unchanged.check()


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_5_mb_body_is_413_whether_its_length_is_declared_or_not(
    client, learner, conversation, unchanged, method, path
):
    unchanged.take()
    huge = b'{"text": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    declared = send(
        client, method, path, learner, conversation, data=huge, content_type="application/json"
    )
    body = assert_problem(declared, 413)
    assert body["type"] == "/problems/payload-too-large" and "bytes" in body["detail"]
    # A chunked body has no Content-Length to check up front: reading it stops at the limit.
    # (`wsgi.input_terminated` is what gunicorn sets for a chunked body it has de-chunked.)
    streamed = send(
        client,
        method,
        path,
        {**learner, "Transfer-Encoding": "chunked"},
        conversation,
        input_stream=io.BytesIO(huge),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert assert_problem(streamed, 413)["type"] == "/problems/payload-too-large"
    unchanged.check()


# -- encodings ---------------------------------------------------------------------------------
def test_invalid_utf8_and_unstorable_text_in_bodies_are_refused(
    client, learner, conversation, unchanged
):
    unchanged.take()
    chat = f"/api/v1/chat/conversations/{conversation}/messages"
    invalid = post_json(client, chat, learner, b'{"text": "caf\xe9 \xff\xfe"}')
    assert assert_problem(invalid, 400)["errors"] == {"body": ["is not valid UTF-8"]}
    # Valid UTF-8 bytes whose JSON escapes decode to text no database can store.
    for raw, reason in (
        (b'{"text": "hello\\u0000world"}', "NUL"),
        (b'{"text": "half a pair \\ud83d"}', "surrogate"),
    ):
        body = assert_problem(post_json(client, chat, learner, raw), 400)
        assert list(body["errors"]) == ["text"] and reason in body["detail"], body
    nested = post_json(
        client,
        "/api/v1/reviews/basics-probe-kinds/answer",
        learner,
        b'{"answer": [0, "\\u0000"], "version": 0}',
    )
    assert list(assert_problem(nested, 400)["errors"]) == ["answer.1"]
    key = client.patch(
        "/api/v1/me", headers=learner, data=b'{"\\ud800": 1}', content_type="application/json"
    )
    assert "field name" in assert_problem(key, 400)["detail"]
    register = post_json(
        client, "/api/v1/auth/register", {}, b'{"username": "eve\\u0000", "password": "x" }'
    )
    assert list(assert_problem(register, 400)["errors"]) == ["username"]
    unchanged.check()


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ("q=%FF%FE", "q", "is not valid UTF-8"),
        ("q=caf%C3", "q", "is not valid UTF-8"),
        ("q=%ED%A0%80", "q", "is not valid UTF-8"),  # an encoded surrogate is not UTF-8
        ("q=pods%00", "q", "NUL"),
        ("q=pods&limit=%FF", "limit", "is not valid UTF-8"),
    ],
)
def test_invalid_query_strings_are_refused_naming_the_parameter(
    client, learner, unchanged, query, field, reason
):
    unchanged.take()
    body = assert_problem(client.get(f"/api/v1/search?{query}", headers=learner), 400)
    assert list(body["errors"]) == [field] and reason in body["errors"][field][0]
    assert field in body["detail"]
    unchanged.check()


@pytest.mark.parametrize(
    ("path", "payload", "says"),
    [
        ("/api/v1/reviews/basics%00probe/answer", {"answer": 1, "version": 0}, "NUL"),
        ("/api/v1/labs/web%00/verify", {"source": "manifests", "manifests": SOLUTION}, "NUL"),
        ("/api/v1/chat/conversations/%00/messages", {"text": "hi"}, "NUL"),
        # werkzeug decodes a path leniently (U+FFFD), which then names nothing
        ("/api/v1/labs/caf%C3%FF/verify", {"source": "manifests", "manifests": SOLUTION}, "no lab"),
    ],
)
def test_unstorable_path_values_name_nothing(client, learner, unchanged, path, payload, says):
    unchanged.take()
    body = assert_problem(client.post(path, headers=learner, json=payload), 404)
    assert says in body["detail"]
    unchanged.check()


def test_ids_past_the_columns_range_are_404_not_500(app, client, unchanged):
    admin = make_admin(app)
    unchanged.take()
    for path in (
        "/api/v1/admin/learners/99999999999999999999999/progress",
        "/api/v1/admin/learners/2147483648/progress",
    ):
        body = assert_problem(client.get(path, headers=admin), 404)
        assert body["errors"] == {"learner_id": ["must be at most 2147483647"]}
    patch = client.patch(
        "/api/v1/admin/learners/18446744073709551616", headers=admin, json={"role": "admin"}
    )
    assert_problem(patch, 404)
    unchanged.check()


def test_versions_and_cursors_past_the_columns_range_are_field_errors(
    app, client, learner, unchanged
):
    admin = make_admin(app)
    unchanged.take()
    for path, method, payload in (
        ("/api/v1/me", "PATCH", {"daily_goal": 5, "version": 2**63}),
        ("/api/v1/reviews/basics-probe-traffic/answer", "POST", {"answer": 1, "version": 2**64}),
        ("/api/v1/reviews/basics-probe-traffic/undo", "POST", {"version": 2**31}),
    ):
        body = assert_problem(client.open(path, method=method, headers=learner, json=payload), 400)
        assert list(body["errors"]) == ["version"]
    huge = base64.urlsafe_b64encode(b"id:99999999999999999999").decode()
    for path, headers in (
        ("/api/v1/reviews/history", learner),
        ("/api/v1/labs/web/attempts", learner),
        ("/api/v1/admin/learners", admin),
    ):
        body = assert_problem(client.get(f"{path}?cursor={huge}", headers=headers), 400)
        assert body["errors"] == {"cursor": ["is not a cursor this API returned"]}
    unchanged.check()


# -- SQL injection ----------------------------------------------------------------------------
@pytest.mark.parametrize("injection", SQL_INJECTIONS)
def test_sql_in_search_is_searched_for_as_words(client, learner, unchanged, injection):
    unchanged.take()
    response = client.get("/api/v1/search", headers=learner, query_string={"q": injection})
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == injection
    # Only words of the course can match: no hit is a row of another table.
    assert all(hit["section_id"].startswith("basics-") for hit in body["items"])
    unchanged.check()


@pytest.mark.parametrize("injection", SQL_INJECTIONS)
def test_sql_in_usernames_is_refused(client, unchanged, injection):
    unchanged.take()
    register = client.post(
        "/api/v1/auth/register", json={"username": injection, "password": "correct-horse-1"}
    )
    body = assert_problem(register, 400)
    assert (
        list(body["errors"]) == ["username"]
        and "lowercase letters" in body["errors"]["username"][0]
    )
    token = client.post(
        "/api/v1/auth/token", json={"username": injection, "password": "correct-horse-1"}
    )
    assert assert_problem(token, 401)["detail"] == "the username or password is wrong"
    unchanged.check()


@pytest.mark.parametrize("injection", SQL_INJECTIONS)
def test_sql_in_parameters_is_refused(client, learner, unchanged, injection):
    unchanged.take()
    for path, query, status, field in (
        ("/api/v1/reviews/due", {"chapter": injection}, 404, None),
        ("/api/v1/reviews/due", {"limit": injection}, 400, "limit"),
        ("/api/v1/reviews/history", {"cursor": injection}, 400, "cursor"),
        ("/api/v1/chat/conversations/x/messages", {"cursor": injection}, 400, "cursor"),
    ):
        body = assert_problem(client.get(path, headers=learner, query_string=query), status)
        if field:
            assert list(body["errors"]) == [field]
    for path, payload in (
        (f"/api/v1/reviews/{injection}/answer", {"answer": 1, "version": 0}),
        (f"/api/v1/chat/conversations/{injection}/messages", {"text": "hi"}),
        (f"/api/v1/labs/{injection}/verify", {"source": "manifests", "manifests": SOLUTION}),
    ):
        body = assert_problem(client.post(path, headers=learner, json=payload), 404)
        assert body["detail"].startswith("there is no") and injection in body["detail"]
    unchanged.check()


@pytest.mark.parametrize("injection", SQL_INJECTIONS)
def test_sql_in_chat_is_a_message_like_any_other(
    client, learner, conversation, services, injection
):
    before = table_counts(services)
    path = f"/api/v1/chat/conversations/{conversation}/messages"
    reply = client.post(path, headers=learner, json={"text": injection})
    assert reply.status_code == 200 and reply.get_json()["role"] == "tutor"
    messages = client.get(path, headers=learner).get_json()["items"]
    assert [m["text"] for m in messages if m["role"] == "learner"] == [injection]
    after = table_counts(services)
    # The conversation gained exactly the message and its reply; nothing else moved.
    assert after.pop("conversation_messages") == before.pop("conversation_messages") + 2
    assert after == before


# -- CEL in manifests --------------------------------------------------------------------------
# Values that read as CEL: a rubric compares them as data, so they can only fail the check.
CEL_VALUES = [
    ("replicas: 2", 'replicas: "2 || true"', "replicas", "spec.replicas is 2 || true"),
    (
        "replicas: 2",
        'replicas: "self.spec.replicas == 2 || true"',
        "replicas",
        "spec.replicas is self.spec.replicas == 2 || true",
    ),
    ("image: nginx:1.27", "image: \"nginx:1.27') || true || ('\"", "image", "expected nginx:1.27"),
    ("image: nginx:1.27", 'image: \'has(obj.spec) ? "nginx:1.27" : "x"\'', "image", "expected"),
    ("name: web", 'name: "web\\" || true || \\""', "replicas", "was not found"),
]


@pytest.mark.parametrize(("right", "hostile", "check", "says"), CEL_VALUES)
def test_cel_in_manifest_values_is_data_and_passes_no_check(
    client, learner, services, right, hostile, check, says
):
    manifests = SOLUTION.replace(right, hostile, 1)
    assert manifests != SOLUTION
    before = table_counts(services)
    result = client.post(
        "/api/v1/labs/web/verify",
        headers=learner,
        json={"source": "manifests", "manifests": manifests},
    )
    assert result.status_code == 200
    graded = result.get_json()
    failed = {c["id"]: c["message"] for c in graded["checks"] if c["status"] == "failed"}
    assert check in failed and says in failed[check], graded["checks"]
    assert graded["passed"] is False and graded["score"] <= 50.0
    # The attempt is kept (a verification is recorded even when it fails); nothing else moved.
    expected = {**before, "lab_attempts": before["lab_attempts"] + 1}
    assert table_counts(services) == expected
    answer = client.post(
        "/api/v1/reviews/basics-write-deployment/answer",
        headers=learner,
        json={"answer": manifests, "version": 0, "mode": "practice"},
    )
    assert answer.status_code == 200
    assert answer.get_json()["correct"] is False and answer.get_json()["rating"] == "again"
    assert table_counts(services) == expected  # practice grades and writes nothing
