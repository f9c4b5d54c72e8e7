"""The cluster reader with the real `kubernetes` client against the fake API server."""

from __future__ import annotations

import base64
import http.client
import json
import os
import threading
import time
from pathlib import Path

import pytest
from kubernetes import client

from ckad_api.adapters.kube import KINDS, REDACTED, SUPPORTED_KINDS, ClusterReader
from ckad_api.domain.cluster_errors import ClusterForbidden, ClusterUnavailable, NamespaceNotFound
from ckad_api.domain.errors import DomainError
from tests.fakekube import ROBOT_USER, TUTOR_TOKEN, TUTOR_USER, FakeKube, fake_kube

__all__ = ["fake_kube"]  # the fixture, imported for pytest

NS = "ckad-ada"

ALL_KINDS_YAML = f"""
apiVersion: v1
kind: Pod
metadata: {{name: logger, namespace: {NS}}}
spec: {{containers: [{{name: app, image: busybox}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {NS}, labels: {{app: web}}}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: nginx, image: "nginx:1.27"}}]}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: web-5d4f, namespace: {NS}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: {NS}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: {NS}}}
---
apiVersion: batch/v1
kind: Job
metadata: {{name: pi, namespace: {NS}}}
spec: {{completions: 5, parallelism: 2, backoffLimit: 4}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly-report, namespace: {NS}}}
spec: {{schedule: "0 2 * * *", concurrencyPolicy: Forbid}}
---
apiVersion: v1
kind: Service
metadata: {{name: nginx, namespace: {NS}}}
spec: {{selector: {{app: nginx}}, ports: [{{port: 80, targetPort: 80}}]}}
---
apiVersion: v1
kind: Endpoints
metadata: {{name: nginx, namespace: {NS}}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: nginx-abcde, namespace: {NS}}}
addressType: IPv4
endpoints: []
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-config, namespace: {NS}}}
data: {{APP_MODE: production, APP_COLOR: blue}}
---
apiVersion: v1
kind: Secret
metadata: {{name: db-creds, namespace: {NS}}}
stringData: {{password: s3cr3t-Pa55}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data-claim, namespace: {NS}}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 200Mi}}}}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: app-reader, namespace: {NS}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: pod-reader, namespace: {NS}}}
rules: [{{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: app-reader-binding, namespace: {NS}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}}
subjects: [{{kind: ServiceAccount, name: app-reader, namespace: {NS}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: default-deny-ingress, namespace: {NS}}}
spec: {{podSelector: {{}}, policyTypes: [Ingress]}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web, namespace: {NS}}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {{name: team-quota, namespace: {NS}}}
spec: {{hard: {{requests.cpu: "2", requests.memory: 2Gi, pods: "10"}}}}
---
apiVersion: v1
kind: LimitRange
metadata: {{name: defaults, namespace: {NS}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: web, namespace: {NS}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: someone-else, namespace: ckad-bob}}
"""


def _socket_fds() -> set[str]:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():  # not Linux: nothing to compare
        return set()
    found = set()
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


@pytest.fixture(autouse=True)
def no_leaks():
    """Every test ends with the threads and sockets it started with (set up first, so this
    check runs after the reader and the fake are torn down)."""
    threads = set(threading.enumerate())
    sockets = _socket_fds()
    yield
    deadline = time.monotonic() + 2.0
    extra = [t for t in threading.enumerate() if t not in threads]
    while extra and time.monotonic() < deadline:
        extra[0].join(0.05)
        extra = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
    assert not extra, f"threads left behind: {extra}"
    assert _socket_fds() <= sockets, "sockets left open"


@pytest.fixture
def make_reader(fake_kube: FakeKube):
    """Readers on the fake's kubeconfig, closed at teardown."""
    readers: list[ClusterReader] = []

    def make(context: str | None = None, *, timeout: float = 2.0, **options) -> ClusterReader:
        kubeconfig = options.pop("kubeconfig", fake_kube.kubeconfig)
        reader = ClusterReader(kubeconfig, context, timeout=timeout, **options)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()


@pytest.fixture
def ada(fake_kube: FakeKube) -> FakeKube:
    """The fake with one object of every supported kind in ckad-ada (and one elsewhere)."""
    fake_kube.load_yaml(ALL_KINDS_YAML)
    return fake_kube


def _expected_path(kind: str, namespace: str = NS) -> str:
    info = KINDS[kind]
    prefix = f"/apis/{info.group}/{info.version}" if info.group else "/api/v1"
    return f"{prefix}/namespaces/{namespace}/{info.plural}"


# -- snapshots --------------------------------------------------------------------------------


def test_snapshot_returns_every_kind_with_kind_and_api_version(ada, make_reader):
    objects = make_reader().snapshot(NS, list(SUPPORTED_KINDS))

    found = {(o["kind"], o["apiVersion"]) for o in objects}
    assert found == {(info.kind, info.api_version) for info in KINDS.values()}
    assert len(objects) == len(KINDS)
    assert all(o["metadata"]["namespace"] == NS for o in objects)
    assert "someone-else" not in {o["metadata"]["name"] for o in objects}
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert list(deployment)[:2] == ["apiVersion", "kind"]
    assert deployment["apiVersion"] == "apps/v1"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert deployment["metadata"]["resourceVersion"]  # as the server sent it, untouched
    hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"


def test_snapshot_keeps_the_order_asked_and_only_the_kinds_asked(ada, make_reader):
    objects = make_reader().snapshot(NS, ["Service", "Deployment", "ConfigMap"])

    assert [o["kind"] for o in objects] == ["Service", "Deployment", "ConfigMap"]


def test_empty_kinds_and_empty_namespace(fake_kube, make_reader):
    fake_kube.add_namespace("ckad-empty")
    reader = make_reader()

    assert reader.snapshot("ckad-empty", []) == []
    assert reader.snapshot("ckad-empty", ["Pod", "Deployment"]) == []


def test_exactly_one_list_per_kind_after_one_namespace_get(ada, make_reader):
    kinds = [*SUPPORTED_KINDS, "Pod", "Deployment"]  # duplicates are listed once

    make_reader().snapshot(NS, kinds)

    first, *rest = ada.requests
    assert (first.method, first.path, first.verb) == ("GET", f"/api/v1/namespaces/{NS}", "get")
    assert all(r.verb == "list" and r.method == "GET" for r in rest), rest
    assert sorted(r.path for r in rest) == sorted(_expected_path(k) for k in SUPPORTED_KINDS)
    assert all(not r.query for r in rest)  # no limit/continue paging, no watch
    assert {r.user for r in ada.requests} == {TUTOR_USER}


def test_lists_run_concurrently(ada, make_reader):
    slow = ["Pod", "Deployment", "Service", "ConfigMap", "Job", "Ingress"]
    for kind in slow:
        ada.delay(_expected_path(kind), 0.4)
    reader = make_reader(timeout=3.0)

    started = time.monotonic()
    objects = reader.snapshot(NS, slow)
    elapsed = time.monotonic() - started

    assert len(objects) == len(slow)
    assert elapsed < 1.2, f"{elapsed:.2f} s: the {len(slow)} LISTs did not overlap"
    starts = [r.started for r in ada.lists()]
    assert max(starts) - min(starts) < 0.3  # all were in flight at once


def test_secret_values_never_leave_the_reader(fake_kube, make_reader):
    password = "s3cr3t-Pa55"
    encoded = base64.b64encode(password.encode()).decode()
    applied = json.dumps({"kind": "Secret", "data": {"password": encoded}})
    fake_kube.add(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "db-creds",
                "namespace": NS,
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied},
            },
            "data": {"password": encoded, "empty": ""},
            "type": "Opaque",
        }
    )

    (secret,) = make_reader().snapshot(NS, ["Secret"])

    assert secret["data"] == {"password": REDACTED, "empty": ""}
    assert secret["type"] == "Opaque"
    dumped = json.dumps(secret)
    assert password not in dumped and encoded not in dumped


# -- configuration ----------------------------------------------------------------------------


def test_context_selects_the_kubeconfig_user(ada, make_reader):
    make_reader().snapshot(NS, ["Pod"])
    assert {r.user for r in ada.requests} == {TUTOR_USER}  # the current context
    ada.reset_requests()

    make_reader("fake-robot").snapshot(NS, ["Pod"])
    assert {r.user for r in ada.requests} == {ROBOT_USER}


def test_unknown_context_or_missing_kubeconfig_is_unavailable(fake_kube, make_reader, tmp_path):
    with pytest.raises(ClusterUnavailable) as raised:
        make_reader("no-such-context").snapshot(NS, ["Pod"])
    assert raised.value.extra["cause"] == "configuration"
    assert "no-such-context" in raised.value.detail

    missing = tmp_path / "nope.yaml"
    with pytest.raises(ClusterUnavailable) as raised:
        make_reader(kubeconfig=missing).snapshot(NS, ["Pod"])
    assert str(missing) in raised.value.detail

    garbled = tmp_path / "garbled.yaml"
    garbled.write_text("clusters: [unclosed\n")
    with pytest.raises(ClusterUnavailable) as raised:
        make_reader(kubeconfig=garbled).snapshot(NS, ["Pod"])
    assert raised.value.extra["cause"] == "configuration"
    assert fake_kube.requests == []


def test_in_cluster_configuration(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    with ClusterReader() as reader, pytest.raises(ClusterUnavailable) as raised:
        reader.snapshot(NS, ["Pod"])
    assert raised.value.status == 503
    assert "in-cluster service account" in raised.value.detail

    from kubernetes.config import incluster_config

    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("in-cluster-token")
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    with ClusterReader(timeout=1.0) as reader:
        assert reader.host == "https://127.0.0.1:6443"
        auth = reader._client().configuration.auth_settings()["BearerToken"]
        assert auth["value"] == "bearer in-cluster-token"


def test_the_client_global_default_is_never_touched(ada, make_reader):
    before = (client.Configuration._default, client.ApiClient._default)

    make_reader("fake-robot").snapshot(NS, ["Pod"])

    assert (client.Configuration._default, client.ApiClient._default) == before


def test_unknown_kind_is_a_programming_error(fake_kube, make_reader):
    with pytest.raises(ValueError, match="Gadget"):
        make_reader().snapshot(NS, ["Pod", "Gadget"])
    with pytest.raises(TypeError):
        make_reader().snapshot(NS, "Pod")
    assert fake_kube.requests == []


# -- errors -----------------------------------------------------------------------------------


def _raises(reader: ClusterReader, error: type[DomainError], kinds=("Pod", "Deployment")):
    with pytest.raises(error) as raised:
        reader.snapshot(NS, list(kinds))
    return raised.value


def test_missing_namespace_is_404_and_lists_nothing(fake_kube, make_reader):
    error = _raises(make_reader(), NamespaceNotFound)

    assert (error.status, error.type_slug) == (404, "namespace-not-found")
    assert error.detail == f'namespace "{NS}" does not exist in the cluster'
    assert error.extra == {"namespace": NS}
    assert fake_kube.lists() == []


def test_invalid_namespace_name_is_404_without_a_request(fake_kube, make_reader):
    with pytest.raises(NamespaceNotFound) as raised:
        make_reader().snapshot("../kube-system", ["Pod"])
    assert "not a valid namespace name" in raised.value.detail
    assert fake_kube.requests == []


def test_forbidden_list_names_the_missing_permission(ada, make_reader):
    ada.fail(_expected_path("Deployment"), 403)

    error = _raises(make_reader(), ClusterForbidden)

    assert (error.status, error.type_slug) == (503, "cluster-forbidden")
    assert error.detail == (
        "the tutor's service account cannot list deployments.apps in namespace ckad-ada "
        '(RBAC: add "list" on "deployments" in group "apps")'
    )
    assert error.extra == {
        "verb": "list",
        "resource": "deployments",
        "group": "apps",
        "namespace": NS,
    }


def test_forbidden_core_kind_and_namespace_get(ada, make_reader):
    ada.fail(_expected_path("Pod"), 403)
    error = _raises(make_reader(), ClusterForbidden)
    assert error.detail == (
        "the tutor's service account cannot list pods in namespace ckad-ada "
        '(RBAC: add "list" on "pods" in group "" (core))'
    )

    ada.clear_faults()
    ada.fail(f"/api/v1/namespaces/{NS}", 403)
    error = _raises(make_reader(), ClusterForbidden)
    assert error.detail == (
        "the tutor's service account cannot get namespaces at cluster scope "
        '(RBAC: add "get" on "namespaces" in group "" (core))'
    )


def test_first_failure_in_the_order_asked_wins(ada, make_reader):
    ada.fail(_expected_path("Deployment"), 500)
    ada.fail(_expected_path("Service"), 403)

    error = _raises(make_reader(), ClusterForbidden, kinds=["Pod", "Service", "Deployment"])

    assert error.extra["resource"] == "services"
    assert len(ada.lists()) == 3  # the others still ran (and ended) before the error left


@pytest.mark.parametrize("bad_token", [True, False], ids=["bad-token", "injected"])
def test_unauthorized_is_cluster_unavailable(ada, make_reader, bad_token):
    if bad_token:
        reader = make_reader("fake-bad-token")
    else:
        ada.fail(_expected_path("Pod"), 401)
        reader = make_reader()

    error = _raises(reader, ClusterUnavailable)

    assert (error.status, error.type_slug) == (503, "cluster-unavailable")
    assert error.extra["cause"] == "unauthorized"
    assert "401 Unauthorized" in error.detail and "tutor's credentials" in error.detail


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_cluster_unavailable(ada, make_reader, status):
    ada.fail(_expected_path("Deployment"), status)

    error = _raises(make_reader(), ClusterUnavailable)

    assert (error.status, error.type_slug) == (503, "cluster-unavailable")
    assert error.extra["cause"] == "server-error"
    assert f"failed with {status}" in error.detail
    assert "list deployments.apps in namespace ckad-ada" in error.detail


def test_kind_not_served_is_cluster_unavailable(ada, make_reader):
    ada.fail(_expected_path("HorizontalPodAutoscaler"), 404)

    error = _raises(make_reader(), ClusterUnavailable, kinds=["HorizontalPodAutoscaler"])

    assert error.extra["cause"] == "not-served"
    assert "does not serve horizontalpodautoscalers.autoscaling/v2" in error.detail


def test_slow_api_times_out(ada, make_reader):
    ada.delay(_expected_path("Pod"), 5.0)  # cut short when the fake stops
    reader = make_reader(timeout=0.3)

    started = time.monotonic()
    error = _raises(reader, ClusterUnavailable)
    elapsed = time.monotonic() - started

    assert error.extra["cause"] == "timeout"
    assert error.detail == (
        "the Kubernetes API did not answer within 0.3 s (list pods in namespace ckad-ada)"
    )
    assert elapsed < 1.5  # one timeout, no retries


def test_slow_namespace_get_times_out_before_any_list(ada, make_reader):
    ada.delay(f"/api/v1/namespaces/{NS}", 5.0)

    error = _raises(make_reader(timeout=0.3), ClusterUnavailable)

    assert error.extra["cause"] == "timeout"
    assert ada.lists() == []


def test_refused_connection_is_cluster_unavailable(ada, make_reader):
    reader = make_reader()
    reader.snapshot(NS, ["Pod"])  # a pooled keep-alive connection exists
    ada.refuse()

    started = time.monotonic()
    error = _raises(reader, ClusterUnavailable)

    assert (error.status, error.type_slug) == (503, "cluster-unavailable")
    assert error.extra["cause"] == "unreachable"
    assert error.detail.startswith("cannot connect to the Kubernetes API")
    assert time.monotonic() - started < 1.0


def test_refused_on_first_contact(fake_kube, make_reader):
    fake_kube.refuse()

    error = _raises(make_reader(), ClusterUnavailable)

    assert error.detail == (
        "cannot connect to the Kubernetes API: connection refused (get namespace ckad-ada)"
    )


def test_a_closed_reader_cannot_be_used(fake_kube, make_reader):
    reader = make_reader()
    reader.close()
    with pytest.raises(RuntimeError):
        reader.snapshot(NS, ["Pod"])


# -- the fake itself --------------------------------------------------------------------------


def _fetch(fake: FakeKube, path: str, token: str | None = TUTOR_TOKEN) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_the_fake_answers_as_an_api_server(ada):
    status, pods = _fetch(ada, f"/api/v1/namespaces/{NS}/pods")
    assert status == 200
    assert (pods["kind"], pods["apiVersion"]) == ("PodList", "v1")
    assert pods["metadata"]["resourceVersion"]
    assert [set(item) & {"kind", "apiVersion"} for item in pods["items"]] == [set()]

    status, deployment = _fetch(ada, f"/apis/apps/v1/namespaces/{NS}/deployments/web")
    assert (status, deployment["kind"], deployment["apiVersion"]) == (200, "Deployment", "apps/v1")

    status, secret = _fetch(ada, f"/api/v1/namespaces/{NS}/secrets/db-creds")
    assert secret["data"] == {"password": base64.b64encode(b"s3cr3t-Pa55").decode()}

    status, missing = _fetch(ada, f"/apis/apps/v1/namespaces/{NS}/deployments/nope")
    assert (status, missing["kind"], missing["reason"]) == (404, "Status", "NotFound")
    status, unknown = _fetch(ada, "/apis/apps/v1/namespaces/x/gadgets")
    assert (status, unknown["reason"]) == (404, "NotFound")

    assert _fetch(ada, "/version", token=None)[1]["gitVersion"] == "v1.37.0"
    assert _fetch(ada, "/api")[1]["versions"] == ["v1"]
    groups = {g["name"] for g in _fetch(ada, "/apis")[1]["groups"]}
    assert {info.group for info in KINDS.values() if info.group} <= groups

    status, denied = _fetch(ada, f"/api/v1/namespaces/{NS}/pods", token="wrong")
    assert (status, denied["reason"], denied["code"]) == (401, "Unauthorized", 401)


def test_the_fake_forbids_with_a_real_status_body(ada):
    ada.fail("/apis/apps/v1/namespaces/*/deployments", 403)

    status, body = _fetch(ada, f"/apis/apps/v1/namespaces/{NS}/deployments")

    assert status == 403
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'deployments.apps is forbidden: User "{TUTOR_USER}" cannot list resource '
        f'"deployments" in API group "apps" in the namespace "{NS}"',
        "reason": "Forbidden",
        "details": {"group": "apps", "kind": "deployments"},
        "code": 403,
    }
