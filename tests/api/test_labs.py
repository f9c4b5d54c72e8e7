"""Labs through the API: read, verify manifests or a namespace, attempts, solution, CLI."""

from __future__ import annotations

import pytest
import yaml

from ckad_api import create_app
from tests.conftest import FIXTURE_CONTENT, make_admin, settings_for
from tests.fakekube import fake_kube  # noqa: F401 - a fixture

LAB = FIXTURE_CONTENT / "labs" / "web"
SOLUTION = (LAB / "solution.yaml").read_text()


@pytest.fixture
def learner(api):
    return api.auth("ada")


def verify(client, headers, body, status=200):
    response = client.post("/api/v1/labs/web/verify", headers=headers, json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_list_and_read_a_lab_without_its_solution(client, learner):
    items = client.get("/api/v1/labs", headers=learner).get_json()["items"]
    assert [(i["id"], i["attempts"], i["best_score"]) for i in items] == [("web", 0, None)]
    lab = client.get("/api/v1/labs/web", headers=learner)
    body = lab.get_json()
    assert body["instructions"].startswith("Create a Deployment")
    assert [c["id"] for c in body["checks"]] == ["replicas", "image", "pods-ready"]
    assert body["checks"][2]["live"] is True
    assert "solution" not in body and "nginx:1.27\n" not in str(body.get("start"))
    again = client.get(
        "/api/v1/labs/web", headers={**learner, "If-None-Match": lab.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/api/v1/labs/nope", headers=learner).status_code == 404


def test_solution_passes_and_live_checks_are_skipped_on_manifests(client, learner):
    result = verify(client, learner, {"source": "manifests", "manifests": SOLUTION})
    statuses = {c["id"]: c["status"] for c in result["checks"]}
    assert statuses == {"replicas": "passed", "image": "passed", "pods-ready": "skipped"}
    assert result["passed"] is True and result["score"] == 100.0
    assert result["warnings"] == [] and result["attempt_id"] > 0
    skipped = next(c for c in result["checks"] if c["status"] == "skipped")
    assert "live cluster" in skipped["message"]


def test_failing_check_says_found_versus_expected_with_a_hint(client, learner):
    broken = SOLUTION.replace("replicas: 2", "replicas: 3")
    result = verify(client, learner, {"source": "manifests", "manifests": broken})
    replicas = next(c for c in result["checks"] if c["id"] == "replicas")
    assert replicas["status"] == "failed"
    assert replicas["message"] == "spec.replicas is 3, expected 2"
    assert replicas["hint"] == "Set spec.replicas to 2."
    assert result["passed"] is False and result["score"] == 50.0


def test_kubectl_get_output_in_a_list_is_accepted(client, learner):
    deployment = yaml.safe_load(SOLUTION)
    deployment["metadata"].update(uid="1", resourceVersion="9", managedFields=[{"manager": "k"}])
    deployment["status"] = {"replicas": 2, "readyReplicas": 0}
    listed = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [deployment]})
    result = verify(client, learner, {"source": "manifests", "manifests": listed})
    assert result["passed"] is True
    assert next(c for c in result["checks"] if c["id"] == "pods-ready")["status"] == "skipped"


def test_bad_yaml_is_422_with_line_and_column_and_stores_nothing(client, learner):
    body = client.post(
        "/api/v1/labs/web/verify",
        headers=learner,
        json={"source": "manifests", "manifests": "a: 1\nb: [\n  - x\nc: }\n"},
    )
    assert body.status_code == 422
    problem = body.get_json()
    assert problem["type"] == "/problems/invalid-manifests" and problem["line"] >= 2
    attempts = client.get("/api/v1/labs/web/attempts", headers=learner).get_json()
    assert attempts["items"] == []


def test_alias_bombs_and_missing_input_are_refused(client, learner):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    response = client.post(
        "/api/v1/labs/web/verify", headers=learner, json={"source": "manifests", "manifests": bomb}
    )
    assert response.status_code == 422
    missing = client.post("/api/v1/labs/web/verify", headers=learner, json={"source": "manifests"})
    assert missing.status_code == 400 and "manifests" in missing.get_json()["errors"]
    bad_source = client.post("/api/v1/labs/web/verify", headers=learner, json={"source": "ftp"})
    assert bad_source.status_code == 400 and "source" in bad_source.get_json()["errors"]


def test_schema_problems_are_warnings_next_to_the_results(client, learner):
    typo = SOLUTION.replace("      containers:", "      containerz: []\n      containers:")
    result = verify(client, learner, {"source": "manifests", "manifests": typo})
    assert any("Deployment web" in w and "containerz" in w for w in result["warnings"])


def test_attempts_and_solution_after_the_first_attempt(client, learner, api):
    locked = client.get("/api/v1/labs/web/solution", headers=learner)
    assert locked.status_code == 403
    verify(client, learner, {"source": "manifests", "manifests": SOLUTION.replace("2", "1")})
    verify(client, learner, {"source": "manifests", "manifests": SOLUTION})
    attempts = client.get("/api/v1/labs/web/attempts?limit=1", headers=learner).get_json()
    assert len(attempts["items"]) == 1 and attempts["items"][0]["passed"] is True
    assert attempts["next_cursor"]
    solution = client.get("/api/v1/labs/web/solution", headers=learner).get_json()
    assert solution["solution"] == SOLUTION
    items = client.get("/api/v1/labs", headers=learner).get_json()["items"]
    assert (items[0]["attempts"], items[0]["best_score"], items[0]["passed"]) == (2, 100.0, True)
    other = api.auth("bob")
    assert client.get("/api/v1/labs/web/attempts", headers=other).get_json()["items"] == []
    assert client.get("/api/v1/labs/web/solution", headers=other).status_code == 403


def test_each_attempt_is_stored_as_it_was_returned(client, learner, clock):
    typo = SOLUTION.replace("replicas: 2", "replicas: 3").replace(
        "      containers:", "      containerz: []\n      containers:"
    )
    first = verify(client, learner, {"source": "manifests", "manifests": typo})
    clock.advance(minutes=5)
    second = verify(client, learner, {"source": "manifests", "manifests": SOLUTION})
    assert first["warnings"] and first["passed"] is False and second["passed"] is True
    assert second["attempt_id"] > first["attempt_id"]
    listed = client.get("/api/v1/labs/web/attempts", headers=learner).get_json()["items"]
    assert listed == [second, first]


def test_cluster_source_without_a_cluster_is_503(client, learner, monkeypatch):
    response = client.post("/api/v1/labs/web/verify", headers=learner, json={"source": "cluster"})
    assert response.status_code == 503
    assert response.get_json()["type"] == "/problems/cluster-unavailable"


LIVE = (LAB / "live.yaml").read_text()


@pytest.fixture
def cluster_app(database_url, fake_kube, clock):  # noqa: F811 - the fixture above
    app = create_app(
        settings_for(database_url, kubeconfig=str(fake_kube.kubeconfig), kube_timeout=2.0),
        clock=clock,
    )
    yield app
    reader = app.extensions["ckad"].labs._cluster_reader
    if reader is not None:
        reader().close()
    from tests.conftest import _reset_pg

    if database_url.startswith("postgresql"):
        _reset_pg(app)
    app.extensions["ckad"].engine.dispose()


def load_namespace(fake, namespace: str, text: str) -> None:
    fake.add_namespace(namespace)
    for doc in yaml.safe_load_all(text):
        doc["metadata"]["namespace"] = namespace
        fake.add(doc)


def test_live_namespace_is_read_with_one_list_per_kind(cluster_app, fake_kube):  # noqa: F811
    client = cluster_app.test_client()
    token = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "correct-horse-1"}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    load_namespace(fake_kube, "ckad-ada", LIVE)
    fake_kube.reset_requests()
    result = verify(client, headers, {"source": "cluster"})
    assert result["namespace"] == "ckad-ada"
    assert {c["id"]: c["status"] for c in result["checks"]} == {
        "replicas": "passed",
        "image": "passed",
        "pods-ready": "passed",
    }
    assert sorted(r.path for r in fake_kube.lists()) == [
        "/api/v1/namespaces/ckad-ada/pods",
        "/apis/apps/v1/namespaces/ckad-ada/deployments",
    ]


def test_live_errors_are_clear_problems(cluster_app, fake_kube):  # noqa: F811
    client = cluster_app.test_client()
    token = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "correct-horse-1"}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    missing = client.post("/api/v1/labs/web/verify", headers=headers, json={"source": "cluster"})
    assert missing.status_code == 404
    assert missing.get_json()["type"] == "/problems/namespace-not-found"
    assert "ckad-ada" in missing.get_json()["detail"]
    load_namespace(fake_kube, "ckad-ada", LIVE)
    fake_kube.fail("/apis/apps/v1/namespaces/ckad-ada/deployments", 403)
    forbidden = client.post("/api/v1/labs/web/verify", headers=headers, json={"source": "cluster"})
    assert forbidden.status_code == 503
    assert (
        "list" in forbidden.get_json()["detail"]
        and "deployments" in (forbidden.get_json()["detail"])
    )
    fake_kube.clear_faults()
    other = client.post(
        "/api/v1/labs/web/verify",
        headers=headers,
        json={"source": "cluster", "namespace": "ckad-bob"},
    )
    assert other.status_code == 403
    fake_kube.refuse()
    down = client.post("/api/v1/labs/web/verify", headers=headers, json={"source": "cluster"})
    assert down.status_code == 503
    assert down.get_json()["type"] == "/problems/cluster-unavailable"
    attempts = client.get("/api/v1/labs/web/attempts", headers=headers).get_json()["items"]
    assert attempts == []


def test_admin_verifies_any_namespace(cluster_app, fake_kube):  # noqa: F811
    admin = make_admin(cluster_app)
    load_namespace(fake_kube, "team-a", LIVE)
    result = verify(cluster_app.test_client(), admin, {"source": "cluster", "namespace": "team-a"})
    assert result["namespace"] == "team-a" and result["passed"] is True


def test_cli_verifies_manifests_and_namespaces(app, tmp_path, fake_kube):  # noqa: F811
    runner = app.test_cli_runner()
    good = runner.invoke(args=["lab", "verify", "web", "--manifests", str(LAB / "solution.yaml")])
    assert good.exit_code == 0, good.output
    assert "replicas" in good.output and "passed" in good.output and "100.0" in good.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(SOLUTION.replace("replicas: 2", "replicas: 5"))
    bad = runner.invoke(args=["lab", "verify", "web", "--manifests", str(broken)])
    assert bad.exit_code == 1 and "spec.replicas is 5, expected 2" in bad.output
    load_namespace(fake_kube, "ckad-cli", LIVE)
    live = runner.invoke(
        args=[
            "lab",
            "verify",
            "web",
            "--namespace",
            "ckad-cli",
            "--kubeconfig",
            str(fake_kube.kubeconfig),
        ]
    )
    assert live.exit_code == 0, live.output
    assert "pods-ready" in live.output
