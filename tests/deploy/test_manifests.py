"""deploy/: both Kustomize overlays render, validate for Kubernetes 1.37 and pass the tutor's
own rubric engine.

Each overlay is rendered with `kubectl kustomize`, read with the tutor's manifest parser,
validated strictly against the Kubernetes 1.37 schemas (`kubernetes_validate`), and its
workloads are graded with `compile_checks`/`evaluate` on checks written here: probes on the
right paths, requests and limits on every container, the restricted security context.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from ckad_api.domain.manifests import parse_manifests
from ckad_api.domain.rubric import Snapshot, compile_checks, evaluate

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("single", "scaled")
K8S_VERSION = "1.37.0"
NAMESPACE = "ckad-tutor"
IMAGE = "ghcr.io/example/ckad-tutor:0.1.0"
SECRET = "ckad-tutor"
SECRET_KEYS = {"secret-key", "database-url", "redis-url", "slack-signing-secret", "slack-bot-token"}
# Settings that are secret: never in a ConfigMap, always from the Secret (and so is
# CKAD_DATABASE_URL in `scaled`; `single`'s is a SQLite path).
SECRET_SETTINGS = {
    "CKAD_SECRET_KEY",
    "CKAD_REDIS_URL",
    "CKAD_SLACK_SIGNING_SECRET",
    "CKAD_SLACK_BOT_TOKEN",
}
SERVER_LABELS = {"app.kubernetes.io/name": "ckad-tutor", "app.kubernetes.io/component": "server"}
# (kind, name, container) of every workload the overlays run.
WORKLOADS = (
    ("Deployment", "ckad-tutor", "ckad-tutor"),
    ("Job", "ckad-tutor-migrate", "migrate"),
    ("CronJob", "ckad-tutor-slack-remind", "slack-remind"),
)

Obj = dict[str, Any]


# -- rendering ----------------------------------------------------------------------------------


@functools.cache
def _render(overlay: str) -> tuple[Obj, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the overlays are rendered with `kubectl kustomize`")
    result = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return parse_manifests(result.stdout).objects


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def objs(overlay: str) -> list[Obj]:
    return copy.deepcopy(list(_render(overlay)))


def _get(objs: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} rendered"
    return found[0]


def _of_kind(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o["kind"] == kind]


def _pod_spec(obj: Mapping[str, Any]) -> Obj:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def _container(objs: list[Obj], kind: str, name: str, container: str) -> Obj:
    (found,) = [
        c for c in _pod_spec(_get(objs, kind, name))["containers"] if c["name"] == container
    ]
    return found


def _env(container: Mapping[str, Any]) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env", [])}


def _configmap(objs: list[Obj]) -> Obj:
    (configmap,) = _of_kind(objs, "ConfigMap")
    return configmap


# -- schemas and inventory ----------------------------------------------------------------------


def test_every_object_validates_strictly(objs):
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']} {obj['metadata']['name']}: {exc}")


COMMON = {
    ("Namespace", NAMESPACE),
    ("ServiceAccount", "ckad-tutor"),
    ("ClusterRole", "ckad-tutor-verify"),
    ("ClusterRoleBinding", "ckad-tutor-verify"),
    ("Deployment", "ckad-tutor"),
    ("Service", "ckad-tutor"),
    ("Ingress", "ckad-tutor"),
    ("NetworkPolicy", "ckad-tutor"),
    ("Job", "ckad-tutor-migrate"),
    ("CronJob", "ckad-tutor-slack-remind"),
}
EXPECTED = {
    "single": COMMON | {("PersistentVolumeClaim", "ckad-tutor-data")},
    "scaled": COMMON
    | {("HorizontalPodAutoscaler", "ckad-tutor"), ("PodDisruptionBudget", "ckad-tutor")},
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def test_each_overlay_renders_exactly_its_objects(overlay, objs):
    names = {(o["kind"], o["metadata"]["name"]) for o in objs if o["kind"] != "ConfigMap"}
    assert names == EXPECTED[overlay]
    # One generated ConfigMap, its name hashed so that a change of settings rolls the pods.
    assert re.fullmatch(r"ckad-tutor-config-[a-z0-9]{10}", _configmap(objs)["metadata"]["name"])
    for obj in objs:
        namespace = obj["metadata"].get("namespace")
        assert namespace == (None if obj["kind"] in CLUSTER_SCOPED else NAMESPACE), obj["kind"]


def test_no_secret_is_rendered_or_written_in_plain_text(objs):
    assert _of_kind(objs, "Secret") == [], "secrets are created by the operator, never rendered"
    data = _configmap(objs)["data"]
    for key, value in data.items():
        assert key not in SECRET_SETTINGS and not re.search(r"SECRET|PASSWORD|_TOKEN$", key), key
        assert not re.search(r"://[^/@\s]*:[^/@\s]*@", value), f"{key} holds credentials"
    # Only SQLite's path may be a plain setting; a PostgreSQL URL carries a password.
    assert data.get("CKAD_DATABASE_URL", "sqlite:").startswith("sqlite:")
    for kind, name, container in WORKLOADS:
        for env in _env(_container(objs, kind, name, container)).values():
            assert "value" not in env, f"{kind} {name}: {env['name']} is written in the manifest"
            ref = env["valueFrom"].get("secretKeyRef")
            if env["name"] in SECRET_SETTINGS:
                assert ref is not None, f"{kind} {name}: {env['name']} is not from the Secret"
            if ref is not None:
                assert ref["name"] == SECRET and ref["key"] in SECRET_KEYS, ref


def test_every_secret_reference_is_to_a_documented_key(overlay, objs):
    required = set()
    for kind, name, container in WORKLOADS:
        for env in _env(_container(objs, kind, name, container)).values():
            ref = env["valueFrom"]["secretKeyRef"]
            if not ref.get("optional", False):
                required.add(ref["key"])
    expected = {"single": {"secret-key"}, "scaled": {"secret-key", "database-url", "redis-url"}}
    assert required == expected[overlay]


def test_settings_come_from_the_generated_configmap(objs):
    configmap = _configmap(objs)
    assert configmap["data"]["CKAD_ENV"] == "production"
    for kind, name, container in WORKLOADS:
        spec = _container(objs, kind, name, container)
        assert spec["envFrom"] == [{"configMapRef": {"name": configmap["metadata"]["name"]}}]


def test_every_workload_runs_the_one_image(objs):
    for kind, name, container in WORKLOADS:
        assert _container(objs, kind, name, container)["image"] == IMAGE, kind


def test_rbac_is_the_verify_role_of_deploy_rbac_verify(objs):
    expected = [d for d in yaml.safe_load_all((DEPLOY / "rbac-verify.yaml").read_text()) if d]
    rendered = [o for o in objs if (o["kind"], o["metadata"]["name"]) in _names(expected)]
    key = _kind_and_name
    assert sorted(rendered, key=key) == sorted(expected, key=key)


def _kind_and_name(obj: Mapping[str, Any]) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _names(objs: list[Obj]) -> set[tuple[str, str]]:
    return {_kind_and_name(o) for o in objs}


def test_base_rbac_is_a_copy_of_rbac_verify():
    """Kustomize cannot include ../rbac-verify.yaml from deploy/base, so the base copies it."""
    copied = [d for d in yaml.safe_load_all((DEPLOY / "base" / "rbac.yaml").read_text()) if d]
    original = [d for d in yaml.safe_load_all((DEPLOY / "rbac-verify.yaml").read_text()) if d]
    assert copied == original


# -- overlay specifics --------------------------------------------------------------------------


def test_single_runs_one_replica_on_sqlite_on_a_volume():
    objs = list(_render("single"))
    deployment = _get(objs, "Deployment", "ckad-tutor")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pvc = _get(objs, "PersistentVolumeClaim", "ckad-tutor-data")
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert _configmap(objs)["data"]["CKAD_DATABASE_URL"] == "sqlite:////data/ckad.db"
    for kind, name, container in WORKLOADS:
        volumes = {v["name"]: v for v in _pod_spec(_get(objs, kind, name))["volumes"]}
        assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "ckad-tutor-data"}
        mounts = _container(objs, kind, name, container)["volumeMounts"]
        assert {"name": "data", "mountPath": "/data"} in mounts, kind
    assert not _of_kind(objs, "HorizontalPodAutoscaler")
    assert not _of_kind(objs, "PodDisruptionBudget")


def test_scaled_runs_three_replicas_on_postgresql_and_redis():
    objs = list(_render("scaled"))
    deployment = _get(objs, "Deployment", "ckad-tutor")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert "CKAD_DATABASE_URL" not in _configmap(objs)["data"]
    assert not _of_kind(objs, "PersistentVolumeClaim")
    database = {"secretKeyRef": {"name": SECRET, "key": "database-url"}}
    for kind, name, container in WORKLOADS:
        env = _env(_container(objs, kind, name, container))
        assert env["CKAD_DATABASE_URL"]["valueFrom"] == database, kind
        volumes = _pod_spec(_get(objs, kind, name))["volumes"]
        assert [v["name"] for v in volumes] == ["tmp"], kind
    server_env = _env(_container(objs, "Deployment", "ckad-tutor", "ckad-tutor"))
    redis = {"secretKeyRef": {"name": SECRET, "key": "redis-url"}}
    assert server_env["CKAD_REDIS_URL"]["valueFrom"] == redis

    hpa = _get(objs, "HorizontalPodAutoscaler", "ckad-tutor")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "ckad-tutor",
    }
    assert hpa["spec"]["minReplicas"] == 3 < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"

    pdb = _get(objs, "PodDisruptionBudget", "ckad-tutor")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 2
    assert pdb["spec"]["selector"] == {"matchLabels": SERVER_LABELS}


def _egress_ports(policy: Mapping[str, Any]) -> set[tuple[str, int]]:
    return {(p["protocol"], p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}


def test_network_policy_admits_the_ingress_controller_and_needed_egress_only(overlay, objs):
    policy = _get(objs, "NetworkPolicy", "ckad-tutor")
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "ckad-tutor"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                    }
                }
            ],
            "ports": [{"protocol": "TCP", "port": 8000}],
        }
    ]
    dns = spec["egress"][0]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    expected = {("UDP", 53), ("TCP", 53), ("TCP", 443), ("TCP", 6443)}
    if overlay == "scaled":
        expected |= {("TCP", 5432), ("TCP", 6379)}
    assert _egress_ports(policy) == expected


def test_service_and_ingress_reach_the_server(objs):
    service = _get(objs, "Service", "ckad-tutor")
    assert service["spec"]["selector"] == SERVER_LABELS
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    ingress = _get(objs, "Ingress", "ckad-tutor")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert path["backend"] == {"service": {"name": "ckad-tutor", "port": {"name": "http"}}}


def test_jobs_run_the_migrations_and_the_reminders(objs):
    migrate = _get(objs, "Job", "ckad-tutor-migrate")
    assert _pod_spec(migrate)["restartPolicy"] == "Never"
    command = _container(objs, "Job", "ckad-tutor-migrate", "migrate")["command"]
    assert command == ["sh", "-c", "flask db upgrade && flask content load"]
    cronjob = _get(objs, "CronJob", "ckad-tutor-slack-remind")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    remind = _container(objs, "CronJob", "ckad-tutor-slack-remind", "slack-remind")
    assert remind["command"] == ["flask", "slack", "remind"]
    for kind, name, _ in WORKLOADS:
        pod = _pod_spec(_get(objs, kind, name))
        assert pod["serviceAccountName"] == "ckad-tutor"
        # Only the server reads the cluster; the jobs get no API token.
        assert pod["automountServiceAccountToken"] is (kind == "Deployment"), kind


# The README's rollout: apply everything but the new code, wait for the migrate Job, apply all.
PRE_ROLLOUT_SELECTOR = (
    "app.kubernetes.io/component!=server,app.kubernetes.io/component!=slack-remind"
)


def _selects(selector: str, labels: Mapping[str, str]) -> bool:
    """kubectl's equality-based label selector (`-l`): every `k=v` / `k!=v` must hold."""
    for requirement in selector.split(","):
        key, op, value = re.fullmatch(r"([^!=]+)(!=|==|=)(.*)", requirement).groups()
        if (labels.get(key) == value) != (op != "!="):
            return False
    return True


def test_the_pre_rollout_apply_holds_what_the_migration_needs_and_no_new_code(overlay, objs):
    first = {
        _kind_and_name(o)
        for o in objs
        if _selects(PRE_ROLLOUT_SELECTOR, o["metadata"].get("labels", {}))
    }
    later = {
        ("Deployment", "ckad-tutor"),
        ("Service", "ckad-tutor"),
        ("Ingress", "ckad-tutor"),
        ("CronJob", "ckad-tutor-slack-remind"),
    }
    if overlay == "scaled":
        later |= {("HorizontalPodAutoscaler", "ckad-tutor"), ("PodDisruptionBudget", "ckad-tutor")}
    assert _names(objs) - first == later
    job = _get(objs, "Job", "ckad-tutor-migrate")
    needs = {("Job", "ckad-tutor-migrate"), ("ServiceAccount", "ckad-tutor")}
    needs.add(("ConfigMap", _configmap(objs)["metadata"]["name"]))
    needs |= {
        ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"])
        for v in _pod_spec(job)["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert needs <= first
    assert job["spec"].get("parallelism", 1) == 1 and job["spec"].get("completions", 1) == 1


# -- graded by the tutor's own rubric engine ----------------------------------------------------


def _workload_checks(kind: str, name: str, container: str) -> list[Obj]:
    """Requests and limits on every container and the restricted security context."""
    slug = {"Deployment": "server", "Job": "migrate", "CronJob": "remind"}[kind]
    target = {"kind": kind, "name": name}

    def check(suffix: str, title: str, expr: str, found: str, message: str) -> Obj:
        return {
            "id": f"{slug}-{suffix}",
            "title": f"{kind} {name}: {title}",
            "target": target,
            "expr": expr,
            "found": found,
            "message": message,
            "hint": "See deploy/base and the restricted Pod Security Standard.",
        }

    every = "(containers(obj) + init_containers(obj)).all(c, {})"
    each = "(containers(obj) + init_containers(obj)).map(c, {})"
    return [
        check(
            "resources",
            "every container has cpu and memory requests and limits (requests <= limits)",
            every.format(
                "['cpu', 'memory'].all(r, quantity_le(field(c, ['resources', 'requests', r], ''),"
                " field(c, ['resources', 'limits', r], '')))"
            ),
            each.format("field(c, 'resources', {})"),
            "resources are {found}; expected cpu and memory requests and limits",
        ),
        check(
            "non-root",
            "runs as non-root",
            every.format("effective_security(obj, c, 'runAsNonRoot') == true"),
            each.format("effective_security(obj, c, 'runAsNonRoot')"),
            "runAsNonRoot is {found}; expected true",
        ),
        check(
            "no-privilege-escalation",
            "no privilege escalation",
            every.format("effective_security(obj, c, 'allowPrivilegeEscalation') == false"),
            each.format("effective_security(obj, c, 'allowPrivilegeEscalation')"),
            "allowPrivilegeEscalation is {found}; expected false",
        ),
        check(
            "read-only-root",
            "read-only root filesystem",
            every.format("effective_security(obj, c, 'readOnlyRootFilesystem') == true"),
            each.format("effective_security(obj, c, 'readOnlyRootFilesystem')"),
            "readOnlyRootFilesystem is {found}; expected true",
        ),
        check(
            "drop-all-capabilities",
            "every capability dropped, none added",
            every.format(
                "'ALL' in field(c, 'securityContext.capabilities.drop', [])"
                " && size(field(c, 'securityContext.capabilities.add', [])) == 0"
            ),
            each.format("field(c, 'securityContext.capabilities', {})"),
            "capabilities are {found}; expected drop [ALL]",
        ),
        check(
            "seccomp",
            "seccomp profile RuntimeDefault",
            every.format(
                "field(effective_security(obj, c, 'seccompProfile'), 'type', '')"
                " == 'RuntimeDefault'"
            ),
            each.format("effective_security(obj, c, 'seccompProfile')"),
            "seccompProfile is {found}; expected type RuntimeDefault",
        ),
        check(
            "tmp-emptydir",
            "an emptyDir is mounted at /tmp (the root filesystem is read-only)",
            f"has(volume(obj, 'tmp').emptyDir) && '/tmp' in mount_paths(container(obj, "
            f"'{container}'), 'tmp')",
            f"mount_paths(container(obj, '{container}'), 'tmp')",
            "volume tmp is mounted at {found}; expected an emptyDir at /tmp",
        ),
    ]


def _probe_check(probe: str, path: str) -> Obj:
    c = "container(obj, 'ckad-tutor')"
    return {
        "id": f"server-{probe.removesuffix('Probe')}-probe",
        "title": f"the server has a {probe} on {path}, port http (8000)",
        "target": {"kind": "Deployment", "name": "ckad-tutor"},
        "expr": f"has({c}.{probe}) && has({c}.{probe}.httpGet)"
        f" && {c}.{probe}.httpGet.path == '{path}'"
        f" && port_matches({c}, probe_port({c}.{probe}), 8000)",
        "found": f"field({c}, '{probe}.httpGet', 'not set')",
        "message": f"{probe}.httpGet is {{found}}; expected path {path} on port http (8000)",
        "hint": "Startup and liveness probes on /healthz, readiness on /readyz.",
    }


def _server_checks(configmap: str) -> list[Obj]:
    c = "container(obj, 'ckad-tutor')"
    target = {"kind": "Deployment", "name": "ckad-tutor"}
    return [
        _probe_check("startupProbe", "/healthz"),
        _probe_check("livenessProbe", "/healthz"),
        _probe_check("readinessProbe", "/readyz"),
        {
            "id": "server-config-from-configmap",
            "title": "settings come from the generated ConfigMap",
            "target": target,
            "expr": f"env_from_configmap({c}, 'CKAD_ENV', '{configmap}', 'CKAD_ENV')",
            "found": f"env_source({c}, 'CKAD_ENV')",
            "message": "CKAD_ENV comes from {found}; expected the ConfigMap",
            "hint": "envFrom the ConfigMap of kustomization.yaml",
        },
        {
            "id": "server-secret-key-from-secret",
            "title": "CKAD_SECRET_KEY comes from the Secret",
            "target": target,
            "expr": f"env_from_secret({c}, 'CKAD_SECRET_KEY', '{SECRET}', 'secret-key')",
            "found": f"env_source({c}, 'CKAD_SECRET_KEY')",
            "message": "CKAD_SECRET_KEY comes from {found}; expected Secret ckad-tutor",
            "hint": "secretKeyRef, never a literal value",
        },
        {
            "id": "server-service-account",
            "title": "the server runs as ServiceAccount ckad-tutor, bound to the verify role",
            "target": target,
            "expr": "pod_spec(obj).serviceAccountName == 'ckad-tutor' && objects.exists(b,"
            " b.kind == 'ClusterRoleBinding' && b.roleRef.kind == 'ClusterRole'"
            " && b.roleRef.name == 'ckad-tutor-verify' && b.subjects.exists(s,"
            " s.kind == 'ServiceAccount' && s.name == 'ckad-tutor'"
            " && s.namespace == 'ckad-tutor'))",
            "message": "the pod's ServiceAccount is not bound to ClusterRole ckad-tutor-verify",
            "hint": "deploy/base/rbac.yaml",
        },
        {
            "id": "verify-role-read-only",
            "title": "the verify ClusterRole only reads",
            "target": {"kind": "ClusterRole", "name": "ckad-tutor-verify"},
            "expr": "rbac_permissions(obj).all(p, p.startsWith('get ') || p.startsWith('list '))",
            "found": "rbac_permissions(obj).filter(p, !p.startsWith('get ')"
            " && !p.startsWith('list '))",
            "message": "the role grants {found}; expected only get and list",
            "hint": "Copy deploy/rbac-verify.yaml.",
        },
        {
            "id": "service-selects-server",
            "title": "the Service selects the server pods and reaches port 8000",
            "target": {"kind": "Service", "name": "ckad-tutor"},
            "expr": "objects.exists(d, d.kind == 'Deployment' && d.metadata.name == 'ckad-tutor'"
            " && service_selects(obj, d)"
            " && obj.spec.ports.all(p, pod_port_number(d, p.targetPort) == 8000))",
            "message": "Service ckad-tutor does not reach the server's port 8000",
            "hint": "selector and targetPort http",
        },
        {
            "id": "network-policy-selects-server",
            "title": "the NetworkPolicy applies to the server pods",
            "target": {"kind": "NetworkPolicy", "name": "ckad-tutor"},
            "expr": "objects.exists(d, d.kind == 'Deployment' && d.metadata.name == 'ckad-tutor'"
            " && selector_matches(obj.spec.podSelector, pod_labels(d)))",
            "message": "NetworkPolicy ckad-tutor does not select the server pods",
            "hint": "podSelector app.kubernetes.io/name: ckad-tutor",
        },
        {
            "id": "migrate-command",
            "title": "the migrate Job upgrades the database, then loads the content",
            "target": {"kind": "Job", "name": "ckad-tutor-migrate"},
            "expr": "command_text(container(obj, 'migrate').command)"
            " == 'flask db upgrade && flask content load'",
            "found": "command_text(container(obj, 'migrate').command)",
            "message": "the Job runs {found}",
            "hint": "sh -c 'flask db upgrade && flask content load'",
        },
    ]


OVERLAY_CHECKS = {
    "single": [
        {
            "id": "single-recreate",
            "title": "one replica, replaced (never two writers on one SQLite file)",
            "target": {"kind": "Deployment", "name": "ckad-tutor"},
            "expr": "obj.spec.replicas == 1 && obj.spec.strategy.type == 'Recreate'",
            "found": "string(obj.spec.replicas) + ' replicas, ' + obj.spec.strategy.type",
            "message": "{found}; expected 1 replica, Recreate",
            "hint": "deploy/overlays/single/deployment-patch.yaml",
        },
        {
            "id": "single-data-volume",
            "title": "the database volume is mounted at /data",
            "target": {"kind": "Deployment", "name": "ckad-tutor"},
            "expr": "'/data' in mount_paths_of(obj, 'PersistentVolumeClaim', 'ckad-tutor-data')",
            "found": "mount_paths_of(obj, 'PersistentVolumeClaim', 'ckad-tutor-data')",
            "message": "PersistentVolumeClaim ckad-tutor-data is mounted at {found}",
            "hint": "a volume for the claim and a mount at /data",
        },
    ],
    "scaled": [
        {
            "id": "scaled-rolling-update",
            "title": "3 replicas, rolling update adding one and never removing one first",
            "target": {"kind": "Deployment", "name": "ckad-tutor"},
            "expr": "obj.spec.replicas == 3 && obj.spec.strategy.type == 'RollingUpdate'"
            " && int_or_percent(obj.spec.strategy.rollingUpdate.maxSurge, 3, true) == 1"
            " && int_or_percent(obj.spec.strategy.rollingUpdate.maxUnavailable, 3, false) == 0",
            "found": "obj.spec.strategy",
            "message": "the strategy is {found}; expected maxSurge 1, maxUnavailable 0",
            "hint": "deploy/overlays/scaled/deployment-patch.yaml",
        },
        {
            "id": "scaled-database-from-secret",
            "title": "the PostgreSQL and Redis URLs come from the Secret",
            "target": {"kind": "Deployment", "name": "ckad-tutor"},
            "expr": "env_from_secret(container(obj, 'ckad-tutor'), 'CKAD_DATABASE_URL',"
            f" '{SECRET}', 'database-url') && env_from_secret(container(obj, 'ckad-tutor'),"
            f" 'CKAD_REDIS_URL', '{SECRET}', 'redis-url')",
            "found": "env_source(container(obj, 'ckad-tutor'), 'CKAD_DATABASE_URL')",
            "message": "CKAD_DATABASE_URL comes from {found}",
            "hint": "secretKeyRef database-url and redis-url",
        },
        {
            "id": "scaled-pdb-selects-server",
            "title": "the PodDisruptionBudget keeps 2 server pods",
            "target": {"kind": "PodDisruptionBudget", "name": "ckad-tutor"},
            "expr": "obj.spec.minAvailable == 2 && objects.exists(d, d.kind == 'Deployment'"
            " && selector_matches(obj.spec.selector, pod_labels(d)))",
            "message": "the PodDisruptionBudget does not keep 2 server pods",
            "hint": "minAvailable 2, the server's labels",
        },
    ],
}


def _checks(overlay: str, objs: list[Obj]) -> list[Obj]:
    raw = _server_checks(_configmap(objs)["metadata"]["name"]) + OVERLAY_CHECKS[overlay]
    for workload in WORKLOADS:
        raw += _workload_checks(*workload)
    return raw


def _grade(overlay: str, objs: list[Obj]) -> dict[str, Any]:
    checks, problems = compile_checks(_checks(overlay, objs))
    assert problems == []
    result = evaluate(checks, Snapshot(objects=tuple(objs), source="manifests"))
    return {r.id: r for r in result.checks}


def test_the_workloads_pass_the_tutors_own_rubric(overlay, objs):
    results = _grade(overlay, objs)
    assert len(results) == len(_checks(overlay, objs)) > 30
    failed = {i: r.message for i, r in results.items() if r.status != "passed"}
    assert failed == {}


def _server(objs: list[Obj]) -> Obj:
    return _container(objs, "Deployment", "ckad-tutor", "ckad-tutor")


def _drop_liveness(objs: list[Obj]) -> None:
    del _server(objs)["livenessProbe"]


def _readiness_on_healthz(objs: list[Obj]) -> None:
    _server(objs)["readinessProbe"]["httpGet"]["path"] = "/healthz"


def _drop_cpu_limit(objs: list[Obj]) -> None:
    del _container(objs, "Job", "ckad-tutor-migrate", "migrate")["resources"]["limits"]["cpu"]


def _writable_root(objs: list[Obj]) -> None:
    _server(objs)["securityContext"]["readOnlyRootFilesystem"] = False


def _root_allowed(objs: list[Obj]) -> None:
    del _pod_spec(_get(objs, "CronJob", "ckad-tutor-slack-remind"))["securityContext"][
        "runAsNonRoot"
    ]


def _escalation(objs: list[Obj]) -> None:
    del _server(objs)["securityContext"]["allowPrivilegeEscalation"]


def _net_raw(objs: list[Obj]) -> None:
    _server(objs)["securityContext"]["capabilities"] = {"drop": ["ALL"], "add": ["NET_RAW"]}


def _unconfined(objs: list[Obj]) -> None:
    _pod_spec(_get(objs, "Deployment", "ckad-tutor"))["securityContext"]["seccompProfile"] = {
        "type": "Unconfined"
    }


def _literal_secret(objs: list[Obj]) -> None:
    _env(_server(objs))["CKAD_SECRET_KEY"].pop("valueFrom")
    _env(_server(objs))["CKAD_SECRET_KEY"]["value"] = "not-a-secret-" * 4


@pytest.mark.parametrize(
    ("breakage", "check_id", "says"),
    [
        (_drop_liveness, "server-liveness-probe", "livenessProbe.httpGet is not set"),
        (_readiness_on_healthz, "server-readiness-probe", "path: /healthz"),
        (_drop_cpu_limit, "migrate-resources", "expected cpu and memory"),
        (_writable_root, "server-read-only-root", "readOnlyRootFilesystem is [false]"),
        (_root_allowed, "remind-non-root", "runAsNonRoot is [not set]"),
        (_escalation, "server-no-privilege-escalation", "allowPrivilegeEscalation is [not set]"),
        (_net_raw, "server-drop-all-capabilities", "NET_RAW"),
        (_unconfined, "server-seccomp", "Unconfined"),
        (_literal_secret, "server-secret-key-from-secret", 'value "not-a-secret-'),
    ],
)
def test_a_broken_copy_fails_the_matching_check(
    overlay, objs, breakage: Callable[[list[Obj]], None], check_id: str, says: str
):
    broken = copy.deepcopy(objs)
    breakage(broken)
    results = _grade(overlay, broken)
    failed = {i: r for i, r in results.items() if r.status != "passed"}
    assert list(failed) == [check_id]
    assert says in failed[check_id].message, failed[check_id].message
    assert _grade(overlay, objs)[check_id].status == "passed"  # the copy, not the original
