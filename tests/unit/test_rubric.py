"""The rubric engine: compiling checks, every fairness helper, and grading snapshots."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import cel
import pytest
import yaml

from ckad_api.domain.manifests import parse_manifests
from ckad_api.domain.rubric import (
    HELPERS,
    LIVE_SKIP_REASON,
    MAX_EXPRESSION_LENGTH,
    Check,
    Snapshot,
    Target,
    compile_checks,
    evaluate,
    with_defaults,
)


def run(expr: str, **variables: Any) -> Any:
    """Evaluate one CEL expression with the helpers, as a check would."""
    return cel.compile(expr).execute(cel.Context(variables=variables, functions=HELPERS))


def raw_check(**fields: Any) -> dict[str, Any]:
    base = {
        "id": "web-replicas",
        "title": "Deployment web runs 4 replicas",
        "target": {"kind": "Deployment", "name": "web"},
        "expr": "obj.spec.replicas == 4",
        "found": "obj.spec.replicas",
        "message": "spec.replicas is {found}, expected 4",
        "hint": "Set spec.replicas.",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def compiled(*raws: dict[str, Any]) -> list[Check]:
    checks, problems = compile_checks(list(raws))
    assert problems == []
    return checks


def deployment(name: str = "web", **spec: Any) -> dict[str, Any]:
    body = {
        "replicas": 4,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
        },
    }
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": body}


# -- compiling -----------------------------------------------------------------------------------


def test_a_valid_check_compiles_with_its_defaults():
    (check,) = compiled(raw_check())
    assert check.target == Target("Deployment", "web")
    assert (check.weight, check.live, check.found) == (1, False, "obj.spec.replicas")
    assert check.uses == frozenset({"obj"})


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"expr": "obj.spec.replicas =="}, "checks.web-replicas.expr", "is not valid CEL: 1:"),
        ({"expr": ""}, "checks.web-replicas.expr", "non-empty CEL expression"),
        ({"found": "obj.spec.("}, "checks.web-replicas.found", "is not valid CEL"),
        ({"expr": "quantity_equal(obj.x, '1')"}, "checks.web-replicas.expr", "quantity_eq?"),
        ({"expr": "objs.size() == 1"}, "checks.web-replicas.expr", "does not bind"),
        ({"expr": "learner.name == 'x'"}, "checks.web-replicas.expr", "unknown name `learner`"),
        ({"target": {"kind": "Deployment"}}, "checks.web-replicas.expr", "uses `obj`"),
        ({"target": None}, "checks.web-replicas.expr", "uses `obj`"),
        (
            {"expr": "obj.x == '" + "a" * MAX_EXPRESSION_LENGTH + "'"},
            "checks.web-replicas.expr",
            "characters long",
        ),
        ({"message": "replicas are wrong"}, "checks.web-replicas.message", "put {found} in it"),
        ({"found": None}, "checks.web-replicas.message", "no `found` expression"),
        ({"hint": ""}, "checks.web-replicas.hint", "non-empty text"),
        ({"title": None}, "checks.web-replicas.title", "non-empty text"),
        ({"weight": 0}, "checks.web-replicas.weight", "from 1 to 100"),
        ({"weight": True}, "checks.web-replicas.weight", "from 1 to 100"),
        ({"live": "yes"}, "checks.web-replicas.live", "true or false"),
        (
            {"target": {"kind": "deployment", "name": "web"}},
            "checks.web-replicas.target.kind",
            "Kubernetes kind",
        ),
        (
            {"target": {"kind": "Deployment", "nmae": "web"}},
            "checks.web-replicas.target.nmae",
            "not a target field",
        ),
        ({"target": "Deployment/web"}, "checks.web-replicas.target", "must be a mapping"),
        ({"weigth": 2}, "checks.web-replicas.weigth", "not a check field"),
        ({"id": "Web Replicas"}, "checks[0].id", "lowercase slug"),
    ],
)
def test_compile_problems_name_the_check_and_the_field(fields, field, says):
    checks, problems = compile_checks([raw_check(**fields)])
    assert checks == []
    assert any(f == field and says in message for f, message in problems), problems


def test_repeated_ids_and_non_mapping_checks_are_reported():
    checks, problems = compile_checks([raw_check(), raw_check(), "not a check"])
    assert [c.id for c in checks] == ["web-replicas"]
    assert ("checks[1].id", "repeats the id 'web-replicas' of an earlier check") in problems
    assert problems[-1][0] == "checks[2]"


@pytest.mark.parametrize("raw", [None, {}, [], "checks"])
def test_checks_must_be_a_non_empty_list(raw):
    assert compile_checks(raw) == ([], [("checks", "must be a non-empty list of checks")])


def test_macro_variables_and_every_binding_compile():
    checks = compiled(
        raw_check(
            id="kind-only",
            target={"kind": "Deployment"},
            expr="objs.all(d, d.spec.replicas > 0) && objects.exists(o, o.kind == 'Service')",
            found="objs.map(d, d.metadata.name)",
            message="replicas of {found}",
        ),
        raw_check(id="whole", target=None, expr="objects.size() > 0", found=None, message="x"),
    )
    assert [c.uses for c in checks] == [frozenset({"objs", "objects"}), frozenset({"objects"})]


# -- helpers: quantities -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("250m", "0.25"),
        ("0.25", "250m"),
        ("128Mi", "134217728"),
        ("128Mi", 134217728),
        ("1Gi", "1024Mi"),
        (1, "1000m"),
        ("2", 2),
        ("500m", "0.5"),
        ("1e3", "1k"),
    ],
)
def test_quantities_equal_by_value(actual, expected):
    assert run("quantity_eq(a, e)", a=actual, e=expected) is True


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("1Gi", "1G"),
        ("250m", "0.3"),
        ("128M", "128Mi"),
        ("abc", "1"),
        (None, "1"),
        (True, "1"),
        ("", "0"),
        ([], "1"),
    ],
)
def test_quantities_that_differ_or_are_not_quantities(actual, expected):
    assert run("quantity_eq(a, e)", a=actual, e=expected) is False


def test_quantity_comparisons_value_and_quota_aliases():
    assert run("quantity_ge('256Mi', '200Mi') && quantity_ge('1Gi', '200Mi')") is True
    assert run("quantity_ge('100Mi', '200Mi') || quantity_ge('lots', '1')") is False
    assert run("quantity_le('200M', '200Mi')") is True
    assert run("quantity_value('250m')") == 0.25
    assert run("quantity_value('x') == null") is True
    quota = {"spec": {"hard": {"cpu": "2", "requests.memory": "2Gi", "pods": "10"}}}
    assert run("quantity_eq(quota_hard(q, 'requests.cpu'), '2000m')", q=quota) is True
    assert run("quantity_eq(quota_hard(q, 'memory'), '2Gi')", q=quota) is True
    assert run("quota_hard(q, 'limits.cpu') == null", q=quota) is True


@pytest.mark.parametrize(
    ("value", "total", "round_up", "count"),
    [
        (1, 4, True, 1),
        ("25%", 4, True, 1),
        ("25%", 4, False, 1),
        ("30%", 4, True, 2),
        ("30%", 4, False, 1),
        ("0%", 4, False, 0),
        (0, 4, False, 0),
        ("x", 4, True, None),
        ("10", 4, True, None),
    ],
)
def test_int_or_percent_scales_like_kubernetes(value, total, round_up, count):
    assert run("int_or_percent(v, t, u)", v=value, t=total, u=round_up) == count


# -- helpers: ports ------------------------------------------------------------------------------

GOPROXY = {
    "name": "goproxy",
    "ports": [{"containerPort": 8080, "name": "proxy"}, {"containerPort": 9090, "name": "admin"}],
    "readinessProbe": {"tcpSocket": {"port": "proxy"}},
    "livenessProbe": {"httpGet": {"port": 8080, "path": "/"}},
    "startupProbe": {"exec": {"command": ["true"]}},
}


@pytest.mark.parametrize(
    ("port", "expected"),
    [(8080, 8080), ("proxy", 8080), ("proxy", "proxy"), (8080, "proxy"), ("admin", 9090)],
)
def test_ports_match_by_name_or_number(port, expected):
    assert run("port_matches(c, p, e)", c=GOPROXY, p=port, e=expected) is True


@pytest.mark.parametrize(
    ("port", "expected"),
    [(8081, 8080), ("admin", 8080), ("nope", 8080), ("8080", 8080), (None, 8080), (True, 1)],
)
def test_ports_that_are_different_or_unknown(port, expected):
    assert run("port_matches(c, p, e)", c=GOPROXY, p=port, e=expected) is False


def test_probe_ports_resolve_through_the_container():
    assert run("port_number(c, probe_port(c.readinessProbe))", c=GOPROXY) == 8080
    assert run("probe_port(c.livenessProbe)", c=GOPROXY) == 8080
    assert run("probe_port(c.startupProbe) == null", c=GOPROXY) is True
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "x"}, GOPROXY]}}
    assert run("pod_port_number(p, 'admin')", p=pod) == 9090


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (["cat", "/tmp/healthy"], "cat /tmp/healthy"),
        (["sh", "-c", "cat /tmp/healthy"], "cat /tmp/healthy"),
        (["/bin/sh", "-c", "  cat   /tmp/healthy "], "cat /tmp/healthy"),
        ({"exec": {"command": ["cat", "/tmp/healthy"]}}, "cat /tmp/healthy"),
        (["sh", "-x", "cat"], "sh -x cat"),
        ("cat /tmp/healthy", None),
    ],
)
def test_command_text_reads_a_command_however_it_is_wrapped(command, text):
    assert run("command_text(c)", c=command) == text


# -- helpers: env --------------------------------------------------------------------------------


def secret_ref(name="db-creds", key="password"):
    return {"valueFrom": {"secretKeyRef": {"name": name, "key": key}}}


def cm_ref(name="app-config", key="APP_MODE"):
    return {"valueFrom": {"configMapKeyRef": {"name": name, "key": key}}}


@pytest.mark.parametrize(
    "container",
    [
        {"env": [{"name": "APP_MODE", **cm_ref()}]},
        {"envFrom": [{"configMapRef": {"name": "app-config"}}]},
        {"envFrom": [{"secretRef": {"name": "x"}}, {"configMapRef": {"name": "app-config"}}]},
        {"envFrom": [{"prefix": "APP_", "configMapRef": {"name": "app-config"}}], "_key": "MODE"},
        {"env": [{"name": "APP_MODE", "value": "x"}, {"name": "APP_MODE", **cm_ref()}]},
    ],
    ids=["valueFrom", "envFrom", "envFrom-second", "envFrom-prefix", "last-entry-wins"],
)
def test_env_from_configmap_accepts_valuefrom_and_envfrom(container):
    key = container.pop("_key", "APP_MODE")
    assert run("env_from_configmap(c, 'APP_MODE', 'app-config', k)", c=container, k=key) is True


@pytest.mark.parametrize(
    "container",
    [
        {},
        {"env": [{"name": "APP_MODE", "value": "production"}]},
        {"env": [{"name": "APP_MODE", **cm_ref(name="other")}]},
        {"env": [{"name": "APP_MODE", **cm_ref(key="MODE")}]},
        {"env": [{"name": "APP_MODE", **secret_ref("app-config", "APP_MODE")}]},
        {"envFrom": [{"secretRef": {"name": "app-config"}}]},
        {"envFrom": [{"prefix": "X_", "configMapRef": {"name": "app-config"}}]},
        # An explicit env entry overrides envFrom, as in Kubernetes.
        {
            "env": [{"name": "APP_MODE", "value": "x"}],
            "envFrom": [{"configMapRef": {"name": "app-config"}}],
        },
    ],
    ids=[
        "nothing",
        "literal",
        "other-cm",
        "other-key",
        "secret",
        "envFrom-secret",
        "wrong-prefix",
        "env-overrides-envFrom",
    ],
)
def test_env_from_configmap_refuses_other_sources(container):
    assert run("env_from_configmap(c, 'APP_MODE', 'app-config', 'APP_MODE')", c=container) is False


def test_env_from_secret_env_value_and_env_source():
    container = {
        "env": [{"name": "DB_PASSWORD", **secret_ref()}, {"name": "LEVEL", "value": "debug"}],
        "envFrom": [{"secretRef": {"name": "all-secrets"}}, {"configMapRef": {"name": "cfg"}}],
    }
    assert run("env_from_secret(c, 'DB_PASSWORD', 'db-creds', 'password')", c=container) is True
    assert run("env_from_secret(c, 'TOKEN', 'all-secrets', 'TOKEN')", c=container) is True
    assert run("env_from_secret(c, 'DB_PASSWORD', 'db-creds', 'pass')", c=container) is False
    assert run("env_value(c, 'LEVEL')", c=container) == "debug"
    assert run("env_value(c, 'DB_PASSWORD') == null", c=container) is True
    assert run("env_source(c, 'DB_PASSWORD')", c=container) == "Secret db-creds key password"
    assert run("env_source(c, 'LEVEL')", c=container) == 'value "debug"'
    assert run("env_source(c, 'OTHER')", c=container) == (
        "Secret all-secrets or ConfigMap cfg (envFrom)"
    )
    assert run("env_source(c, 'X')", c={}) == "not set"


def test_env_source_names_an_unknown_value_from_the_same_way_every_time():
    # CEL hands maps to helpers in hash order; the message must not depend on it.
    container = {"env": [{"name": "APP_MODE", "valueFrom": {"name": "cfg", "key": "MODE"}}]}
    said = {run("env_source(c, 'APP_MODE')", c=container) for _ in range(40)}
    assert said == {"valueFrom key, name"}


def test_secret_has_key_reads_data_or_string_data_even_redacted():
    assert run("secret_has_key(s, 'password')", s={"data": {"password": "czNjcjN0"}}) is True
    assert run("secret_has_key(s, 'password')", s={"stringData": {"password": "s3cr3t"}}) is True
    assert run("secret_has_key(s, 'password')", s={"data": {"password": "<redacted>"}}) is True
    assert run("secret_has_key(s, 'password')", s={"data": {"password": ""}}) is False
    assert run("secret_has_key(s, 'password')", s={"data": {"user": "x"}}) is False


# -- helpers: containers, sidecars, volumes -------------------------------------------------------

APP = {
    "name": "app",
    "image": "busybox",
    "volumeMounts": [{"name": "logs", "mountPath": "/var/log/"}],
}
SHIPPER = {
    "name": "log-shipper",
    "image": "busybox",
    "volumeMounts": [{"name": "logs", "mountPath": "/logs"}],
}


def pod(containers=(), init=(), volumes=({"name": "logs", "emptyDir": {}},)):
    spec = {"containers": list(containers), "volumes": list(volumes)}
    if init:
        spec["initContainers"] = list(init)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "logger"}, "spec": spec}


CLASSIC = pod([APP, SHIPPER])
NATIVE = pod([APP], [{**SHIPPER, "restartPolicy": "Always"}])
PLAIN_INIT = pod([APP], [SHIPPER])
ALONE = pod([SHIPPER])


@pytest.mark.parametrize("subject", [CLASSIC, NATIVE], ids=["classic", "native"])
def test_a_sidecar_may_be_classic_or_native(subject):
    assert run("has_sidecar(p, 'log-shipper')", p=subject) is True
    assert run("container(p, 'log-shipper').name", p=subject) == "log-shipper"
    assert (
        run(
            "mounts(container(p, 'app'), 'logs') && mounts(container(p, 'log-shipper'), 'logs')",
            p=subject,
        )
        is True
    )
    assert run("has(volume(p, 'logs').emptyDir)", p=subject) is True


@pytest.mark.parametrize("subject", [PLAIN_INIT, ALONE, pod()], ids=["plain-init", "alone", "none"])
def test_not_a_sidecar(subject):
    assert run("has_sidecar(p, 'log-shipper')", p=subject) is False


def test_native_sidecars_are_told_apart_from_init_containers():
    assert run("is_native_sidecar(p, 'log-shipper')", p=NATIVE) is True
    assert run("is_native_sidecar(p, 'log-shipper')", p=CLASSIC) is False
    assert run("containers(p).map(c, c.name)", p=NATIVE) == ["app", "log-shipper"]
    assert run("init_containers(p).map(c, c.name)", p=PLAIN_INIT) == ["log-shipper"]
    assert run("init_containers(p).size()", p=NATIVE) == 0
    assert run("container(p, 'log-shipper') == null", p=PLAIN_INIT) is True
    assert run("mounts(container(p, 'missing'), 'logs')", p=CLASSIC) is False
    assert run("mount_path(container(p, 'app'), 'logs')", p=CLASSIC) == "/var/log"


def test_workloads_and_cronjobs_expose_their_pod_spec_and_labels():
    cronjob = {
        "kind": "CronJob",
        "spec": {
            "jobTemplate": {
                "spec": {
                    "template": {
                        "metadata": {"labels": {"job": "report"}},
                        "spec": {"containers": [{"name": "report"}]},
                    }
                }
            }
        },
    }
    assert run("containers(c)[0].name", c=cronjob) == "report"
    assert run("pod_labels(c)", c=cronjob) == {"job": "report"}
    assert run("pod_labels(d)", d=deployment()) == {"app": "web"}
    assert run("pod_spec(d).containers[0].image", d=deployment()) == "nginx:1.27"
    assert run("pod_spec(s) == null", s={"kind": "Service", "spec": {}}) is True


def test_mount_paths_of_finds_a_source_whatever_the_volume_is_called():
    workload = deployment(
        template={
            "spec": {
                "containers": [
                    {
                        "name": "a",
                        "volumeMounts": [
                            {"name": "cfg", "mountPath": "/etc/app-config/"},
                            {
                                "name": "one-file",
                                "mountPath": "/etc/other/APP_MODE",
                                "subPath": "APP_MODE",
                            },
                            {"name": "data", "mountPath": "/data"},
                        ],
                    }
                ],
                "volumes": [
                    {
                        "name": "cfg",
                        "projected": {"sources": [{"configMap": {"name": "app-config"}}]},
                    },
                    {"name": "one-file", "configMap": {"name": "app-config"}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "data-claim"}},
                ],
            }
        }
    )
    assert run("mount_paths_of(d, 'ConfigMap', 'app-config')", d=workload) == ["/etc/app-config"]
    assert (
        run("'/data' in mount_paths_of(d, 'PersistentVolumeClaim', 'data-claim')", d=workload)
        is True
    )
    assert run("mount_paths_of(d, 'Secret', 'app-config')", d=workload) == []


def test_field_reads_a_path_or_gives_the_default():
    obj = {
        "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
        "spec": {"ports": [{"port": 80}], "empty": None},
    }
    assert run("field(o, 'spec.ports.0.port', 0)", o=obj) == 80
    assert run("field(o, 'spec.ports.3.port', 0)", o=obj) == 0
    assert run("field(o, 'spec.empty.x', 'none')", o=obj) == "none"
    assert run("field(o, ['metadata', 'labels', 'app.kubernetes.io/name'], '')", o=obj) == "web"
    assert run("field(o, 'spec.nothing') == null", o=obj) is True


def test_effective_security_takes_the_container_value_else_the_pod_value():
    subject = pod(
        [{"name": "a", "securityContext": {"runAsUser": 1000}}, {"name": "b"}],
    )
    subject["spec"]["securityContext"] = {"runAsNonRoot": True, "runAsUser": 0, "fsGroup": 2000}
    expr = "containers(p).map(c, effective_security(p, c, f))"
    assert run(expr, p=subject, f="runAsUser") == [1000, 0]
    assert run(expr, p=subject, f="runAsNonRoot") == [True, True]
    # fsGroup is pod-only and allowPrivilegeEscalation container-only: no inheritance.
    assert run(expr, p=subject, f="fsGroup") == [None, None]
    assert run(expr, p=subject, f="allowPrivilegeEscalation") == [None, None]


# -- helpers: cron -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("0 2 * * *", "0 2 * * *"),
        ("00 02 * * *", "0 2 * * *"),
        ("0 2 * * 0-6", "0 2 * * *"),
        ("0 2 * * SUN-SAT", "0 2 * * *"),
        ("0 2 * * 0,1,2,3,4,5,6", "0 2 * * *"),
        ("0 2 */1 * *", "0 2 * * *"),
        ("0 2 ? * *", "0 2 * * *"),
        ("0 2 * JAN-DEC *", "0 2 * * *"),
        ("  0  2 * *  * ", "0 2 * * *"),
        ("0 2-2 * * *", "0 2 * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "@daily"),
        ("*/15 * * * *", "0,15,30,45 * * * *"),
        ("30,0 9 * * 1-5", "0,30 9 * * MON-FRI"),
        ("0 0 31 1,2 *", "0 0 31 1 *"),
    ],
)
def test_cron_schedules_equal_by_meaning(actual, expected):
    assert run("cron_equivalent(a, e)", a=actual, e=expected) is True


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("0 14 * * *", "0 2 * * *"),
        ("2 0 * * *", "0 2 * * *"),
        ("0 2 * * 1-5", "0 2 * * *"),
        ("0 2 * 1-11 *", "0 2 * * *"),
        ("0 2 1 * *", "0 2 * * *"),
        ("0 * * * *", "0 2 * * *"),
        ("0 2-2 * * *", "0 * * * *"),  # croniter alone reads `2-2` as every hour
        ("0 2 * * 7", "0 2 * * 0"),  # Kubernetes' cron parser refuses weekday 7
        ("0 0 2 * * *", "0 2 * * *"),  # six fields: refused by Kubernetes
        ("CRON_TZ=UTC 0 2 * * *", "0 2 * * *"),
        ("0 5-2 * * *", "0 2 * * *"),
        ("0 0 30 2 *", "0 0 31 2 *"),  # never fires
        ("H 2 * * *", "0 2 * * *"),
        ("", "0 2 * * *"),
        (None, "0 2 * * *"),
    ],
)
def test_cron_schedules_that_differ_or_kubernetes_refuses(actual, expected):
    assert run("cron_equivalent(a, e)", a=actual, e=expected) is False


# -- helpers: images -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("nginx:1.27", "nginx:1.27"),
        ("docker.io/library/nginx:1.27", "nginx:1.27"),
        ("index.docker.io/library/nginx:1.27", "nginx:1.27"),
        ("docker.io/nginx:1.27", "nginx:1.27"),
        ("nginx", "nginx:latest"),
        ("k8s.gcr.io/goproxy:0.1", "registry.k8s.io/goproxy:0.1"),
        ("nginx:1.27@sha256:" + "a" * 64, "nginx:1.27"),
        ("localhost:5000/app:v1", "localhost:5000/app:v1"),
        ("bitnami/nginx:1.27", "docker.io/bitnami/nginx:1.27"),
    ],
)
def test_image_references_equal_after_normalisation(actual, expected):
    assert run("image_is(a, e)", a=actual, e=expected) is True


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("nginx:1.25", "nginx:1.27"),
        ("nginx", "nginx:1.27"),
        ("bitnami/nginx:1.27", "nginx:1.27"),
        ("quay.io/nginx/nginx:1.27", "nginx:1.27"),
        ("nginx@sha256:" + "a" * 64, "nginx:1.27"),
        ("nginx:", "nginx:1.27"),
        ("", "nginx:1.27"),
        ("ngi nx:1.27", "nginx:1.27"),
        (None, "nginx:1.27"),
    ],
)
def test_image_references_that_differ(actual, expected):
    assert run("image_is(a, e)", a=actual, e=expected) is False


def test_any_tag_mode_and_image_parts():
    assert run("image_is_any_tag('nginx:1.25', 'docker.io/library/nginx')") is True
    assert run("image_is_any_tag('nginx@sha256:abc', 'nginx')") is True
    assert run("image_is_any_tag('httpd:2', 'nginx')") is False
    assert run("image_tag('registry.k8s.io/goproxy:0.1')") == "0.1"
    assert run("image_tag('nginx')") == "latest"
    assert run("image_name('nginx:1.27')") == "docker.io/library/nginx"
    assert run("image_name('localhost:5000/app')") == "localhost:5000/app"


# -- helpers: selectors --------------------------------------------------------------------------

LABELS = {"app": "api", "track": "canary", "tier": "backend"}


@pytest.mark.parametrize(
    "selector",
    [
        {},
        {"matchLabels": {"app": "api"}},
        {"matchLabels": {"app": "api", "track": "canary"}},
        {"matchExpressions": [{"key": "track", "operator": "In", "values": ["stable", "canary"]}]},
        {"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["stable"]}]},
        {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
        {"matchExpressions": [{"key": "debug", "operator": "DoesNotExist"}]},
    ],
)
def test_label_selectors_that_match(selector):
    assert run("selector_matches(s, l)", s=selector, l=LABELS) is True


@pytest.mark.parametrize(
    "selector",
    [
        None,
        {"matchLabels": {"app": "web"}},
        {"matchLabels": {"app": "api", "track": "stable"}},
        {"matchExpressions": [{"key": "track", "operator": "In", "values": ["stable"]}]},
        {"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]},
        {"matchExpressions": [{"key": "debug", "operator": "Exists"}]},
        {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
        {"matchExpressions": [{"key": "tier", "operator": "Near"}]},
    ],
)
def test_label_selectors_that_do_not_match(selector):
    assert run("selector_matches(s, l)", s=selector, l=LABELS) is False


@pytest.mark.parametrize(
    ("selector", "selects"),
    [
        ({"app": "api"}, True),
        ({"app": "api", "track": "canary"}, True),
        ({"app": "api", "track": "stable"}, False),
        ({"app": "web"}, False),
        ({}, False),  # a Service without a selector selects no pod
        (None, False),
    ],
)
def test_service_selector_against_pod_template_labels(selector, selects):
    service = {"kind": "Service", "spec": {"selector": selector}}
    workload = deployment("api")
    workload["spec"]["template"]["metadata"]["labels"] = LABELS
    assert run("service_selects(s, d)", s=service, d=workload) is selects
    assert (
        run("labels_include(l, {'app': 'api'}) && !labels_include(l, {'app': 'x'})", l=LABELS)
        is True
    )


# -- helpers: RBAC -------------------------------------------------------------------------------

POD_READER = ["get pods", "list pods", "watch pods"]


def role(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Role", "metadata": {"name": "pod-reader"}, "rules": list(rules)}


def rule(verbs, resources=("pods",), groups=("",), **extra):
    return {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs), **extra}


@pytest.mark.parametrize(
    "subject",
    [
        role(rule(["get", "list", "watch"])),
        role(rule(["watch", "get"]), rule(["list"])),
        role(rule(["get"]), rule(["list"]), rule(["watch"]), rule(["get", "list"])),
    ],
    ids=["one-rule", "split", "split-with-repeats"],
)
def test_rbac_effective_set_however_split(subject):
    assert run("rbac_grants_exactly(r, e)", r=subject, e=POD_READER) is True
    assert run("rbac_permissions(r)", r=subject) == sorted(POD_READER)


@pytest.mark.parametrize(
    ("subject", "extra"),
    [
        (role(rule(["*"])), ["* pods"]),
        (role(rule(["get", "list", "watch"], resources=["*"])), ["get *", "list *", "watch *"]),
        (role(rule(["get", "list", "watch"]), rule(["delete"])), ["delete pods"]),
        (
            role(rule(["get", "list", "watch"], resources=["pods", "pods/log"])),
            ["get pods/log", "list pods/log", "watch pods/log"],
        ),
        (
            role(rule(["get", "list", "watch"], groups=["", "apps"])),
            ["get pods.apps", "list pods.apps", "watch pods.apps"],
        ),
    ],
    ids=["star-verb", "star-resource", "extra-verb", "subresource", "extra-group"],
)
def test_rbac_extra_permissions_and_wildcards_are_refused(subject, extra):
    assert run("rbac_grants_exactly(r, e)", r=subject, e=POD_READER) is False
    assert run("rbac_extra(r, e)", r=subject, e=POD_READER) == extra


def test_rbac_missing_named_and_covering_permissions():
    partial = role(rule(["get", "list"]))
    assert run("rbac_missing(r, e)", r=partial, e=POD_READER) == ["watch pods"]
    named = role(rule(["get", "list", "watch"], resourceNames=["web"]))
    assert run("rbac_permissions(r)", r=named) == [
        "get pods named web",
        "list pods named web",
        "watch pods named web",
    ]
    assert run("rbac_grants(r, e)", r=named, e=POD_READER) is False
    assert run("rbac_grants(r, e)", r=role(rule(["*"], groups=["*"])), e=POD_READER) is True
    assert (
        run(
            "rbac_grants(r, ['list deployments.apps'])",
            r=role(rule(["list"], resources=["*"], groups=["apps"])),
        )
        is True
    )
    assert run("rbac_grants(r, e)", r=partial, e=POD_READER) is False
    assert run(
        "rbac_permissions(r)", r=role({"nonResourceURLs": ["/healthz"], "verbs": ["get"]})
    ) == ["get /healthz"]


# -- defaults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expr"),
    [
        (
            {"kind": "CronJob", "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {}}}},
            "obj.spec.successfulJobsHistoryLimit == 3 && obj.spec.concurrencyPolicy == 'Allow' "
            "&& obj.spec.jobTemplate.spec.backoffLimit == 6",
        ),
        (
            {"kind": "Service", "spec": {"ports": [{"port": 80}]}},
            "obj.spec.type == 'ClusterIP' && obj.spec.ports[0].protocol == 'TCP' "
            "&& obj.spec.ports[0].targetPort == 80",
        ),
        (
            {"kind": "NetworkPolicy", "spec": {"podSelector": {}}},
            "obj.spec.policyTypes == ['Ingress']",
        ),
        (
            {"kind": "NetworkPolicy", "spec": {"podSelector": {}, "egress": [{}]}},
            "obj.spec.policyTypes == ['Ingress', 'Egress']",
        ),
        (
            {"kind": "NetworkPolicy", "spec": {"ingress": [{"ports": [{"port": 6379}]}]}},
            "obj.spec.ingress[0].ports[0].protocol == 'TCP'",
        ),
        (
            deployment(),
            "obj.spec.strategy.type == 'RollingUpdate' "
            "&& obj.spec.strategy.rollingUpdate.maxSurge == '25%'",
        ),
        (
            deployment(
                template={
                    "spec": {
                        "containers": [
                            {
                                "name": "a",
                                "image": "nginx",
                                "ports": [{"containerPort": 80}],
                                "readinessProbe": {"httpGet": {"port": 80}},
                            }
                        ]
                    }
                }
            ),
            "obj.spec.template.spec.containers[0].ports[0].protocol == 'TCP' "
            "&& obj.spec.template.spec.containers[0].readinessProbe.periodSeconds == 10 "
            "&& obj.spec.template.spec.containers[0].imagePullPolicy == 'Always' "
            "&& obj.spec.template.spec.restartPolicy == 'Always'",
        ),
        (
            {"kind": "Job", "spec": {"template": {"spec": {"containers": []}}}},
            "obj.spec.completions == 1 && obj.spec.parallelism == 1 "
            "&& !has(obj.spec.template.spec.restartPolicy)",
        ),
        (
            {"kind": "Job", "spec": {"parallelism": 2}},
            "!has(obj.spec.completions) && obj.spec.parallelism == 2",
        ),
        ({"kind": "PersistentVolumeClaim", "spec": {}}, "obj.spec.volumeMode == 'Filesystem'"),
    ],
    ids=[
        "cronjob",
        "service",
        "netpol-ingress",
        "netpol-egress",
        "netpol-port",
        "deployment",
        "container",
        "job",
        "job-work-queue",
        "pvc",
    ],
)
def test_defaults_count_as_set(obj, expr):
    obj = {"apiVersion": "v1", "metadata": {"name": "x"}, **obj}
    assert run(expr, obj=with_defaults(obj)) is True


def test_defaults_are_filled_in_a_copy_and_the_input_is_not_changed():
    container = {
        "name": "app",
        "image": "nginx",
        "ports": [{"containerPort": 80}],
        "readinessProbe": {"httpGet": {"port": 80}},
    }
    pod_spec = {"containers": [container], "initContainers": [dict(container, name="init")]}
    objects = [
        deployment(template={"spec": copy.deepcopy(pod_spec)}),
        {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}},
        {"kind": "Service", "spec": {"ports": [{"port": 80}]}},
        {"kind": "NetworkPolicy", "spec": {"ingress": [{"ports": [{"port": 80}]}]}},
    ]
    original = copy.deepcopy(objects)
    deployment_, cronjob, service, policy = (with_defaults(o) for o in objects)
    assert objects == original
    filled = deployment_["spec"]["template"]["spec"]["containers"][0]
    assert filled["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert filled["imagePullPolicy"] == "Always"
    assert filled["readinessProbe"]["httpGet"] == {"port": 80, "scheme": "HTTP", "path": "/"}
    job_pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job_pod["initContainers"][0]["ports"][0]["protocol"] == "TCP"
    assert service["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    # Two gradings of one object share nothing either.
    again = with_defaults(objects[0])
    again["spec"]["template"]["spec"]["containers"][0]["ports"].clear()
    assert filled["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


def test_explicit_values_win_over_defaults_and_the_input_is_not_changed():
    service = {
        "kind": "Service",
        "spec": {
            "type": "NodePort",
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "UDP"}],
        },
    }
    original = copy.deepcopy(service)
    defaulted = with_defaults(service)
    assert defaulted["spec"]["type"] == "NodePort"
    assert defaulted["spec"]["ports"][0] == {"port": 80, "targetPort": 8080, "protocol": "UDP"}
    assert service == original
    recreate = with_defaults(deployment(strategy={"type": "Recreate"}))
    assert "rollingUpdate" not in recreate["spec"]["strategy"]
    assert with_defaults({"kind": "Deployment", "spec": "odd"}) == {
        "kind": "Deployment",
        "spec": "odd",
    }


# -- helpers: live state -------------------------------------------------------------------------


def live_objects() -> list[dict[str, Any]]:
    web = deployment("web")
    web["metadata"]["uid"] = "u-web"

    def replica_set(name, image, uid="u-web"):
        return {
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": uid}],
            },
            "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": image}]}}},
        }

    def a_pod(name, ready, waiting=None, labels=None):
        status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
        if waiting:
            status["containerStatuses"] = [{"state": {"waiting": {"reason": waiting}}}]
        return {
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": "web"}},
            "spec": {},
            "status": status,
        }

    return [
        web,
        replica_set("web-1", "nginx:1.25"),
        replica_set("web-2", "nginx:1.27"),
        replica_set("other", "nginx:1.25", uid="u-old"),
        a_pod("web-2-a", True),
        a_pod("web-2-b", False, "ImagePullBackOff"),
        a_pod("db-0", True, labels={"app": "db"}),
        {"kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}},
        {
            "kind": "EndpointSlice",
            "metadata": {"name": "web-x", "labels": {"kubernetes.io/service-name": "web"}},
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": True}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": False}},
                {"addresses": ["10.0.0.3"]},
            ],
        },
        {
            "kind": "Endpoints",
            "metadata": {"name": "db"},
            "subsets": [{"addresses": [{"ip": "10.0.1.1"}, {"ip": "10.0.1.2"}]}],
        },
    ]


def test_live_helpers_read_owners_pods_and_endpoints():
    objects = live_objects()
    web = objects[0]
    assert run(
        "objects.filter(o, o.kind == 'ReplicaSet' && owned_by(o, web)).map(r, "
        "r.spec.template.spec.containers[0].image)",
        objects=objects,
        web=web,
    ) == ["nginx:1.25", "nginx:1.27"]
    assert run("pods_for(objects, web).map(p, p.metadata.name)", objects=objects, web=web) == [
        "web-2-a",
        "web-2-b",
    ]
    assert (
        run("pods_for(objects, web).filter(p, pod_ready(p)).size()", objects=objects, web=web) == 1
    )
    assert run("pods_for(objects, web).map(p, waiting_reasons(p))", objects=objects, web=web) == [
        [],
        ["ImagePullBackOff"],
    ]
    service = objects[7]
    assert run("pods_for(objects, s).size()", objects=objects, s=service) == 2
    assert run("ready_endpoints(objects, s)", objects=objects, s=service) == 2
    assert run("ready_endpoints(objects, {'metadata': {'name': 'db'}})", objects=objects) == 2
    assert run("ready_endpoints(objects, {'metadata': {'name': 'none'}})", objects=objects) == 0


# -- evaluating ----------------------------------------------------------------------------------


def test_a_correct_object_passes_and_a_wrong_one_says_found_versus_expected():
    checks = compiled(raw_check())
    result = evaluate(checks, Snapshot([deployment(replicas=4)]))
    assert (result.score, result.passed, result.checks[0].status) == (100.0, True, "passed")
    assert result.checks[0].message == ""
    result = evaluate(checks, Snapshot([deployment(replicas=6)]))
    (failed,) = result.checks
    assert (failed.status, failed.message, failed.hint) == (
        "failed",
        "spec.replicas is 6, expected 4",
        "Set spec.replicas.",
    )
    assert (result.score, result.passed) == (0.0, False)


def test_a_missing_target_lists_what_was_found():
    checks = compiled(raw_check())
    snapshot = Snapshot([deployment("web-app"), deployment("api"), pod([APP])], "cluster")
    (result,) = evaluate(checks, snapshot).checks
    assert result.status == "failed"
    assert result.message.startswith(
        'Deployment "web" was not found in your namespace; the Deployments found: "web-app", "api"'
    )
    assert '"web-app" meant to be "web"' in result.message
    (result,) = evaluate(checks, Snapshot([{**CLASSIC, "metadata": {"name": "web"}}])).checks
    assert result.message == (
        'Deployment "web" was not found in the submitted manifests; no Deployment was found at '
        'all. Found "web" as a Pod: the task asks for a Deployment'
    )


def test_a_kind_target_with_no_object_of_that_kind_fails_with_a_message():
    checks = compiled(
        raw_check(
            target={"kind": "NetworkPolicy"},
            expr="objs.size() == 2",
            found="objs.size()",
            message="{found} policies, expected 2",
        )
    )
    (result,) = evaluate(checks, Snapshot([deployment()])).checks
    assert (result.status, result.message) == (
        "failed",
        "no NetworkPolicy was found in the submitted manifests; the task needs one",
    )


LIVE = raw_check(
    id="web-ready",
    live=True,
    expr="obj.status.readyReplicas == 4",
    found="obj.status.readyReplicas",
    message="{found} replicas ready, expected 4",
)


def test_live_checks_are_skipped_on_manifests_even_with_a_status():
    with_status = {**deployment(), "status": {"readyReplicas": 4}}
    checks = compiled(raw_check(), LIVE)
    result = evaluate(checks, Snapshot([with_status], "manifests"))
    assert [(c.status, c.message) for c in result.checks] == [
        ("passed", ""),
        ("skipped", LIVE_SKIP_REASON),
    ]
    assert (result.score, result.passed) == (100.0, True)
    result = evaluate(checks, Snapshot([with_status], "cluster"))
    assert [c.status for c in result.checks] == ["passed", "passed"]
    result = evaluate(checks, Snapshot([{**with_status, "status": {}}], "cluster"))
    assert (
        result.checks[1].message == "not set replicas ready, expected 4 (readyReplicas is not set)"
    )


def test_score_is_weighted_over_the_checks_that_applied():
    checks = compiled(
        raw_check(id="one", weight=1),
        raw_check(id="two", weight=2, expr="obj.spec.replicas == 5"),
        raw_check(id="three", weight=3, expr="obj.metadata.name == 'web'", found=None, message="x"),
        {**LIVE, "weight": 10},
    )
    result = evaluate(checks, Snapshot([deployment()]))
    assert [c.status for c in result.checks] == ["passed", "failed", "passed", "skipped"]
    assert [c.weight for c in result.checks] == [1, 2, 3, 10]
    assert (result.score, result.passed) == (66.7, False)


def test_only_skipped_checks_is_no_pass():
    result = evaluate(compiled(LIVE), Snapshot([deployment()]))
    assert (result.score, result.passed) == (0.0, False)
    assert evaluate([], Snapshot([])).checks == ()


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"template": {"spec": {"containers": [{"name": "x"}]}}}, "(readinessProbe is not set)"),
        ({"template": {"spec": {"containers": []}}}, "(a list has fewer items than the check"),
        ({"template": {"spec": {"containers": [{"readinessProbe": None}]}}}, "(a field is empty"),
        ({"template": {"spec": {"containers": [{"readinessProbe": "fast"}]}}}, "(a field is empty"),
        (
            {"template": {"spec": {"containers": [{"readinessProbe": {"periodSeconds": "5"}}]}}},
            "readinessProbe.periodSeconds is 5, expected 5 (exec",
        ),
        ({"template": "none"}, "(a field is empty"),
    ],
)
def test_an_expression_that_errors_on_learner_data_is_a_failure_with_a_message(spec, says):
    checks = compiled(
        raw_check(
            expr="obj.spec.template.spec.containers[0].readinessProbe.periodSeconds == 5",
            found="obj.spec.template.spec.containers[0].readinessProbe.periodSeconds",
            message="readinessProbe.periodSeconds is {found}, expected 5 (exec cat /tmp/healthy)",
        )
    )
    (result,) = evaluate(checks, Snapshot([deployment(**spec)])).checks
    assert result.status == "failed"
    assert says in result.message
    assert result.message.startswith("readinessProbe.periodSeconds is ")


def test_a_rule_that_does_not_give_a_bool_fails_as_a_rubric_bug():
    checks = compiled(raw_check(expr="obj.spec.replicas"))
    (result,) = evaluate(checks, Snapshot([deployment()])).checks
    assert result.status == "failed"
    assert "not true or false" in result.message


def test_a_helper_called_with_the_wrong_arguments_is_reported_as_a_rubric_bug():
    checks = compiled(raw_check(expr="quantity_eq(obj.spec.replicas)"))
    (result,) = evaluate(checks, Snapshot([deployment()])).checks
    assert result.status == "failed"
    assert "quantity_eq() takes 2 arguments, not 1 (a rubric bug: please report it)" in (
        result.message
    )


def test_found_values_are_shown_as_a_learner_reads_them():
    checks = compiled(
        raw_check(
            id="labels",
            expr="false",
            found="obj.spec.template.metadata.labels",
            message="labels are {found} on {kind} {name}",
        ),
        raw_check(id="list", expr="false", found="[1.0, true, null, '']", message="{found}"),
        raw_check(id="missing", expr="false", found="obj.spec.nothing", message="{found}"),
        raw_check(id="divide", expr="false", found="1 / 0", message="{found}"),
        raw_check(id="convert", expr="false", found="int(obj.metadata.name)", message="{found}"),
    )
    result = evaluate(checks, Snapshot([deployment()]))
    assert [c.message for c in result.checks] == [
        "labels are {app: web} on Deployment web",
        '[1, true, not set, ""]',
        "not set",
        "unreadable",
        "unreadable",
    ]


def test_odd_learner_data_never_raises():
    nasty = [
        {**deployment(), "spec": {"replicas": 2**70}},
        {"kind": "Deployment", "metadata": {"name": "deep"}, "spec": {"a": [[[[[[[[]]]]]]]]}},
        {"kind": "Deployment", "metadata": "web"},
        {"kind": ["Deployment"], "metadata": {"name": "web"}},
        "not an object",
        {"kind": "Deployment", "metadata": {"name": "web"}, "spec": None},
    ]
    checks = compiled(
        raw_check(),
        raw_check(id="quantity", expr="quantity_eq(obj.spec.replicas, '4')"),
        raw_check(
            id="all",
            target=None,
            expr="objects.all(o, o.kind != 'Secret')",
            found=None,
            message="a Secret is not expected",
        ),
        raw_check(
            id="kinds",
            target={"kind": "Deployment"},
            expr="objs.all(d, containers(d).size() == 1)",
            found="objs.size()",
            message="{found} deployments",
        ),
    )
    for obj in nasty:
        result = evaluate(checks, Snapshot([obj]))  # type: ignore[list-item]
        assert all(c.status in ("passed", "failed") for c in result.checks)
        assert all(c.message for c in result.checks if c.status == "failed")


def test_the_last_object_of_a_name_wins_and_snapshot_sources_are_checked():
    checks = compiled(raw_check())
    snapshot = Snapshot([deployment(replicas=1), deployment(replicas=4)])
    assert evaluate(checks, snapshot).passed is True
    assert len(snapshot.of_kind("Deployment")) == 1
    with pytest.raises(ValueError, match="source must be one of"):
        Snapshot([], "yaml")


def test_a_check_built_by_hand_compiles_itself():
    check = Check(id="x", title="t", expr="objects.size() == 0", message="m", hint="h")
    assert evaluate([check], Snapshot([])).passed is True


# -- a whole lab, as an author writes it ---------------------------------------------------------

CONFIG_LAB = """
- id: configmap-values
  title: ConfigMap app-config holds APP_MODE=production and APP_COLOR=blue
  target: {kind: ConfigMap, name: app-config}
  expr: >
    field(obj, 'data.APP_MODE', '') == 'production'
    && field(obj, 'data.APP_COLOR', '') == 'blue'
  found: "field(obj, 'data', {})"
  message: "app-config data is {found}, expected APP_MODE: production, APP_COLOR: blue"
  hint: kubectl create configmap app-config --from-literal=APP_MODE=production ...
- id: secret-password
  title: Secret db-creds has a non-empty key password
  target: {kind: Secret, name: db-creds}
  expr: secret_has_key(obj, 'password')
  message: Secret db-creds has no non-empty key password
  hint: kubectl create secret generic db-creds --from-literal=password=...
- id: env-db-password
  title: DB_PASSWORD comes from Secret db-creds key password
  target: {kind: Deployment, name: configured-app}
  expr: containers(obj).exists(c, env_from_secret(c, 'DB_PASSWORD', 'db-creds', 'password'))
  found: containers(obj).map(c, env_source(c, 'DB_PASSWORD'))
  message: DB_PASSWORD comes from {found}, expected Secret db-creds key password
  hint: env[].valueFrom.secretKeyRef
  weight: 2
- id: env-app-mode
  title: APP_MODE comes from ConfigMap app-config
  target: {kind: Deployment, name: configured-app}
  expr: containers(obj).exists(c, env_from_configmap(c, 'APP_MODE', 'app-config', 'APP_MODE'))
  found: containers(obj).map(c, env_source(c, 'APP_MODE'))
  message: APP_MODE comes from {found}, expected ConfigMap app-config
  hint: env[].valueFrom.configMapKeyRef or envFrom[].configMapRef
  weight: 2
- id: config-volume
  title: app-config is mounted at /etc/app-config
  target: {kind: Deployment, name: configured-app}
  expr: "'/etc/app-config' in mount_paths_of(obj, 'ConfigMap', 'app-config')"
  found: mount_paths_of(obj, 'ConfigMap', 'app-config')
  message: app-config is mounted at {found}, expected /etc/app-config
  hint: a configMap volume and a volumeMount
- id: pods-ready
  title: the pods are running and ready
  target: {kind: Deployment, name: configured-app}
  live: true
  expr: pods_for(objects, obj).size() > 0 && pods_for(objects, obj).all(p, pod_ready(p))
  found: pods_for(objects, obj).filter(p, !pod_ready(p)).map(p, p.metadata.name)
  message: "pods not ready: {found}"
  hint: kubectl get pods; kubectl describe pod
"""

CONFIG_SOLUTION = """
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {APP_MODE: production, APP_COLOR: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: db-creds}
stringData: {password: s3cr3t}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: configured-app}
spec:
  selector: {matchLabels: {app: configured}}
  template:
    metadata: {labels: {app: configured}}
    spec:
      containers:
      - name: app
        image: busybox:1.36
        env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db-creds, key: password}}
        envFrom:
        - configMapRef: {name: app-config}
        volumeMounts:
        - {name: config, mountPath: /etc/app-config/}
      volumes:
      - name: config
        configMap: {name: app-config}
"""


def test_a_whole_lab_grades_a_solution_and_a_broken_variant():
    checks, problems = compile_checks(yaml.safe_load(CONFIG_LAB))
    assert problems == []
    solution = parse_manifests(CONFIG_SOLUTION).objects
    result = evaluate(checks, Snapshot(solution))
    assert [c.status for c in result.checks] == ["passed"] * 5 + ["skipped"]
    assert (result.score, result.passed) == (100.0, True)

    broken = CONFIG_SOLUTION.replace("secretKeyRef: {name: db-creds", "configMapKeyRef: {name: db")
    broken = broken.replace("configMapRef: {name: app-config}", "secretRef: {name: app-config}")
    broken = broken.replace("mountPath: /etc/app-config/", "mountPath: /etc/config")
    result = evaluate(checks, Snapshot(parse_manifests(broken).objects))
    messages = {c.id: c.message for c in result.checks if c.status == "failed"}
    assert messages == {
        "env-db-password": "DB_PASSWORD comes from [ConfigMap db key password], expected Secret "
        "db-creds key password",
        "env-app-mode": "APP_MODE comes from [Secret app-config (envFrom)], expected ConfigMap "
        "app-config",
        "config-volume": "app-config is mounted at [/etc/config], expected /etc/app-config",
    }
    assert result.score == 28.6  # 2 of 7 weight points: configmap-values and secret-password

    pod_status = {"conditions": [{"type": "Ready", "status": "False"}]}
    live = [
        *solution,
        {
            "kind": "Pod",
            "metadata": {"name": "configured-app-1", "labels": {"app": "configured"}},
            "status": pod_status,
        },
    ]
    result = evaluate(checks, Snapshot(live, "cluster"))
    assert result.checks[-1].message == "pods not ready: [configured-app-1]"


# -- the documentation stays true ----------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "rubrics.md"


def test_every_helper_is_documented_in_the_helper_table():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)\(", text, re.MULTILINE))
    documented |= set(re.findall(r" / `(\w+)\(", text))
    assert documented == set(HELPERS)


def test_the_documented_example_check_compiles_and_grades():
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    checks, problems = compile_checks(yaml.safe_load(blocks[0]))
    assert problems == []
    goproxy = {
        "name": "goproxy",
        "image": "registry.k8s.io/goproxy:0.1",
        "ports": [{"containerPort": 8080, "name": "proxy"}],
        "readinessProbe": {
            "tcpSocket": {"port": "proxy"},
            "initialDelaySeconds": 15,
            "periodSeconds": 20,
        },
    }
    solution = deployment("try1", template={"spec": {"containers": [goproxy]}})
    assert evaluate(checks, Snapshot([solution])).passed is True
    goproxy["readinessProbe"]["periodSeconds"] = 10
    (result,) = evaluate(checks, Snapshot([solution])).checks
    assert result.message == (
        "goproxy's readinessProbe has port proxy, initialDelaySeconds 15, periodSeconds 10; "
        "expected tcpSocket 8080, initialDelaySeconds 15, periodSeconds 20"
    )
