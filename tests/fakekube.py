"""A local fake Kubernetes API server for tests, and the `fake_kube` pytest fixture.

It serves objects loaded from YAML (or dicts) on the real REST paths, shaped as a real API
server shapes them: a LIST is `{"kind": "PodList", "apiVersion": "v1", "metadata":
{"resourceVersion": ...}, "items": [...]}` whose items carry no kind/apiVersion; a GET of one
object carries both; errors are `Status` bodies with the real reasons. Requests need a bearer
token the fake knows (else 401), and each is recorded (method, path, query, user) so a test
can assert what the client asked. Faults are injected per path pattern (fnmatch syntax on the
path): a status (401, 403, 404, 429, 500, 503), a delay, or `refuse()` (the server stops and
its port refuses connections).

Its table of resources is written from the Kubernetes API reference, independently of the
reader's, so a wrong group, version or plural in the reader shows up as a 404.

    def test_x(fake_kube):
        fake_kube.load_yaml(MANIFESTS)
        with ClusterReader(fake_kube.kubeconfig) as reader: ...
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import fnmatch
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.fakeserver import LoopbackFake, TrackedHandler

TUTOR_TOKEN = "tutor-token"
TUTOR_USER = "system:serviceaccount:ckad-tutor:ckad-tutor"
ROBOT_TOKEN = "robot-token"
ROBOT_USER = "system:serviceaccount:ci:robot"
CREATED = "2026-01-01T00:00:00Z"


@dataclasses.dataclass(frozen=True)
class Resource:
    """One served resource type."""

    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES: tuple[Resource, ...] = (
    Resource("Namespace", "", "v1", "namespaces", namespaced=False),
    Resource("Pod", "", "v1", "pods"),
    Resource("Service", "", "v1", "services"),
    Resource("Endpoints", "", "v1", "endpoints"),
    Resource("ConfigMap", "", "v1", "configmaps"),
    Resource("Secret", "", "v1", "secrets"),
    Resource("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims"),
    Resource("ServiceAccount", "", "v1", "serviceaccounts"),
    Resource("ResourceQuota", "", "v1", "resourcequotas"),
    Resource("LimitRange", "", "v1", "limitranges"),
    Resource("Event", "", "v1", "events"),
    Resource("Deployment", "apps", "v1", "deployments"),
    Resource("ReplicaSet", "apps", "v1", "replicasets"),
    Resource("StatefulSet", "apps", "v1", "statefulsets"),
    Resource("DaemonSet", "apps", "v1", "daemonsets"),
    Resource("Job", "batch", "v1", "jobs"),
    Resource("CronJob", "batch", "v1", "cronjobs"),
    Resource("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices"),
    Resource("Role", "rbac.authorization.k8s.io", "v1", "roles"),
    Resource("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings"),
    Resource("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies"),
    Resource("Ingress", "networking.k8s.io", "v1", "ingresses"),
    Resource("HorizontalPodAutoscaler", "autoscaling", "v2", "horizontalpodautoscalers"),
)
_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}
_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "AlreadyExists",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    user: str | None  # None: no or unknown token
    started: float  # time.monotonic() when the request arrived
    verb: str  # "list", "get" or "" (discovery, unknown paths)
    resource: str  # plural, "" for discovery


@dataclasses.dataclass
class _Fault:
    pattern: str
    method: str
    status: int | None
    delay: float
    message: str | None
    times: int | None  # None: every matching request


@dataclasses.dataclass(frozen=True)
class _Route:
    """What the apiserver would call the request: verb, resource, namespace, name."""

    verb: str
    resource: Resource | None
    namespace: str | None = None
    name: str | None = None
    discovery: Any = None  # a ready body for discovery paths


class FakeKube(LoopbackFake):
    """A fake API server on 127.0.0.1 with an ephemeral port. Use `start()`/`stop()`."""

    def __init__(
        self,
        objects: Iterable[dict[str, Any]] = (),
        *,
        namespaces: Iterable[str] = ("default",),
        tokens: dict[str, str] | None = None,
    ) -> None:
        self.tokens = dict(tokens or {TUTOR_TOKEN: TUTOR_USER, ROBOT_TOKEN: ROBOT_USER})
        self.requests: list[RecordedRequest] = []
        self.errors: list[Exception] = []  # exceptions the fake itself raised (bugs)
        self.kubeconfig: Path | None = None  # set by the fixture
        self._lock = threading.Lock()
        self._objects: dict[tuple[Resource, str | None, str], dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._resource_version = 1000
        self._stopping = threading.Event()
        self._init_server()
        for name in namespaces:
            self.add_namespace(name)
        self.add(*objects)

    # -- objects ---------------------------------------------------------------------------

    def add_namespace(self, name: str) -> None:
        """Create a namespace (objects' namespaces are created for them too)."""
        self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def add(self, *objects: dict[str, Any]) -> None:
        """Store objects as the server would after a create: uid, resourceVersion, defaults.

        A `List` (or `XList`) is expanded; a Secret's `stringData` is encoded into `data`.
        """
        for obj in objects:
            if obj is None:
                continue
            if str(obj.get("kind", "")).endswith("List") and "items" in obj:
                self.add(*(obj.get("items") or []))
                continue
            self._store(copy.deepcopy(obj))

    def load_yaml(self, text: str) -> None:
        """Store every document of a multi-document YAML string."""
        self.add(*yaml.safe_load_all(text))

    def load_files(self, *paths: str | Path) -> None:
        """Store the documents of YAML files, or of every *.yaml/*.yml in a directory."""
        for path in map(Path, paths):
            files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
            for file in files:
                self.load_yaml(file.read_text(encoding="utf-8"))

    def remove(self, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete one object (a Namespace by name alone)."""
        with self._lock:
            for key in list(self._objects):
                resource, ns, obj_name = key
                if resource.kind == kind and obj_name == name and ns == namespace:
                    del self._objects[key]

    def _store(self, obj: dict[str, Any]) -> None:
        resource = _BY_KIND.get((obj.get("apiVersion"), obj.get("kind")))
        if resource is None:
            raise ValueError(f"the fake does not serve {obj.get('apiVersion')} {obj.get('kind')}")
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise ValueError(f"a {resource.kind} without metadata.name")
        namespace = None
        if resource.namespaced:
            namespace = meta.setdefault("namespace", "default")
            if (_BY_KIND[("v1", "Namespace")], None, namespace) not in self._objects:
                self.add_namespace(namespace)
        if resource.kind == "Secret":
            _encode_string_data(obj)
        if resource.kind == "Namespace":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        with self._lock:
            self._resource_version += 1
            meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}")))
            meta["resourceVersion"] = str(self._resource_version)
            meta.setdefault("creationTimestamp", CREATED)
            self._objects[(resource, namespace, name)] = obj

    # -- faults ----------------------------------------------------------------------------

    def fail(
        self,
        pattern: str,
        status: int,
        *,
        message: str | None = None,
        times: int | None = None,
        method: str = "GET",
    ) -> None:
        """Answer requests whose path matches `pattern` (fnmatch) with `status` and a Status body.

        `times` limits how many requests fail (None: all). A 403's message is the apiserver's:
        `deployments.apps is forbidden: User "..." cannot list resource "deployments" in API
        group "apps" in the namespace "ckad-ada"`.
        """
        with self._lock:
            self._faults.append(_Fault(pattern, method, status, 0.0, message, times))

    def delay(
        self, pattern: str, seconds: float, *, times: int | None = None, method: str = "GET"
    ) -> None:
        """Hold matching requests for `seconds` before answering normally (cut short by stop)."""
        with self._lock:
            self._faults.append(_Fault(pattern, method, None, seconds, None, times))

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        with self._lock:
            self._faults.clear()

    def refuse(self) -> None:
        """Stop the server: its port now refuses connections (the kubeconfig still names it)."""
        self.stop()

    # -- what was asked --------------------------------------------------------------------

    def lists(self) -> list[RecordedRequest]:
        """The recorded LIST requests."""
        return [r for r in self.requests if r.verb == "list"]

    def list_paths(self) -> list[str]:
        """Paths of the recorded LIST requests, in arrival order."""
        return [r.path for r in self.lists()]

    def reset_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    # -- server ----------------------------------------------------------------------------

    thread_name = "fake-kube"

    def _on_start(self) -> None:
        self._stopping.clear()

    def _on_stop(self) -> None:
        self._stopping.set()  # wakes delayed handlers

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig for this server with contexts `fake` (current, the tutor's token),
        `fake-robot` (another known token) and `fake-bad-token` (an unknown token: 401)."""
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [
                {"name": "tutor", "user": {"token": TUTOR_TOKEN}},
                {"name": "robot", "user": {"token": ROBOT_TOKEN}},
                {"name": "stranger", "user": {"token": "not-a-known-token"}},
            ],
            "contexts": [
                {"name": "fake", "context": {"cluster": "fake", "user": "tutor"}},
                {"name": "fake-robot", "context": {"cluster": "fake", "user": "robot"}},
                {"name": "fake-bad-token", "context": {"cluster": "fake", "user": "stranger"}},
            ],
            "current-context": "fake",
            "preferences": {},
        }
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    # -- request handling (called from handler threads) ------------------------------------

    def _handle(self, handler: _Handler) -> tuple[int, dict[str, Any]]:
        split = urlsplit(handler.path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query)
        token = handler.headers.get("Authorization", "")
        user = self.tokens.get(token[7:]) if token.lower().startswith("bearer ") else None
        route = self._route(path)
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    handler.command,
                    path,
                    query,
                    user,
                    time.monotonic(),
                    route.verb if route else "",
                    route.resource.plural if route and route.resource else "",
                )
            )
            fault = self._take_fault(handler.command, path)
        if fault is not None and fault.delay and self._stopping.wait(fault.delay):
            raise ConnectionAbortedError("the fake is stopping")
        if fault is not None and fault.status is not None:
            return fault.status, self._fault_body(fault, route, user)
        if path in ("/version", "/healthz", "/readyz", "/livez"):
            return 200, _version() if path == "/version" else {"status": "ok"}
        if user is None:
            return 401, _status(401, "Unauthorized")
        if route is None:
            return 404, _status(404, "the server could not find the requested resource")
        if handler.command != "GET":
            return 405, _status(405, f"{handler.command} is not supported by the fake")
        if route.discovery is not None:
            return 200, route.discovery
        return self._serve(route)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and fnmatch.fnmatchcase(path, fault.pattern):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _fault_body(self, fault: _Fault, route: _Route | None, user: str | None) -> dict[str, Any]:
        status = fault.status or 500
        if fault.message:
            return _status(status, fault.message)
        resource = route.resource if route else None
        if status == 403 and route is not None and resource is not None:
            qualified = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
            subject = f'{qualified} "{route.name}"' if route.name else qualified
            namespace = route.namespace or (route.name if resource.kind == "Namespace" else None)
            scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            message = (
                f'{subject} is forbidden: User "{user or "system:anonymous"}" cannot '
                f'{route.verb} resource "{resource.plural}" in API group "{resource.group}"{scope}'
            )
            details = {"group": resource.group, "kind": resource.plural}
            if route.name:
                details["name"] = route.name
            return _status(403, message, details=details)
        if status == 404 and route is not None and resource is not None and route.name:
            return _status(
                404,
                f'{resource.plural} "{route.name}" not found',
                details={"name": route.name, "group": resource.group, "kind": resource.plural},
            )
        defaults = {
            401: "Unauthorized",
            404: "the server could not find the requested resource",
            429: "too many requests, please try again later",
            500: 'an error on the server ("injected by the fake") has prevented the request '
            "from succeeding",
            503: "the server is currently unable to handle the request",
        }
        return _status(status, defaults.get(status, "injected by the fake"))

    def _route(self, path: str) -> _Route | None:
        parts = [p for p in path.split("/") if p]
        if parts == ["api"]:
            return _Route("", None, discovery=_api_versions())
        if parts == ["apis"]:
            return _Route("", None, discovery=_api_groups())
        if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        if not rest:
            served = [r for r in RESOURCES if (r.group, r.version) == (group, version)]
            return (
                _Route("", None, discovery=_resource_list(group, version, served))
                if served
                else None
            )
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource = _BY_PATH.get((group, version, rest[0]))
        if resource is None or len(rest) > 2:
            return None
        if namespace is not None and not resource.namespaced:
            return None
        if len(rest) == 1:
            return _Route("list", resource, namespace)
        return _Route("get", resource, namespace, rest[1])

    def _serve(self, route: _Route) -> tuple[int, dict[str, Any]]:
        resource = route.resource
        assert resource is not None
        with self._lock:
            if route.verb == "get":
                obj = self._objects.get((resource, route.namespace, route.name))
                if obj is None:
                    return 404, _status(
                        404,
                        f'{resource.plural} "{route.name}" not found',
                        details={
                            "name": route.name,
                            "group": resource.group,
                            "kind": resource.plural,
                        },
                    )
                return 200, copy.deepcopy(obj)
            # As on a real server, a LIST in a missing namespace is an empty list, not a 404.
            items = [
                (ns or "", name, obj)
                for (res, ns, name), obj in self._objects.items()
                if res is resource and (route.namespace is None or ns == route.namespace)
            ]
            items.sort(key=lambda entry: entry[:2])
            body = {
                "kind": f"{resource.kind}List",
                "apiVersion": resource.api_version,
                "metadata": {"resourceVersion": str(self._resource_version)},
                "items": [_without_type(obj) for _, _, obj in items],
            }
        return 200, body


class _Handler(TrackedHandler):
    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        try:
            status, body = self.server.fake._handle(self)
        except ConnectionAbortedError:
            self.close_connection = True
            return
        except Exception as exc:  # noqa: BLE001 - a bug in the fake: answer, and keep it for asserts
            self.server.fake.errors.append(exc)
            status, body = 500, _status(500, f"the fake failed: {exc!r}")
        payload = json.dumps(body, separators=(",", ":")).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Audit-Id", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are recorded on the fake; nothing goes to stderr."""


FakeKube.handler = _Handler


def _status(code: int, message: str, *, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def _without_type(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("kind", "apiVersion")}


def _encode_string_data(secret: dict[str, Any]) -> None:
    string_data = secret.pop("stringData", None) or {}
    data = secret.setdefault("data", {}) if string_data else secret.get("data")
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    secret.setdefault("type", "Opaque")


def _version() -> dict[str, str]:
    return {
        "major": "1",
        "minor": "37",
        "gitVersion": "v1.37.0",
        "gitCommit": "fake",
        "gitTreeState": "clean",
        "buildDate": CREATED,
        "goVersion": "go1.25",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def _api_groups() -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for resource in RESOURCES:
        if resource.group and resource.version not in groups.setdefault(resource.group, []):
            groups[resource.group].append(resource.version)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                "preferredVersion": {
                    "groupVersion": f"{group}/{versions[0]}",
                    "version": versions[0],
                },
            }
            for group, versions in groups.items()
        ],
    }


def _resource_list(group: str, version: str, served: list[Resource]) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [
            {
                "name": r.plural,
                "singularName": r.kind.lower(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "list"],
            }
            for r in served
        ],
    }


@pytest.fixture
def fake_kube(tmp_path, monkeypatch) -> Iterator[FakeKube]:
    """A started FakeKube with namespace `default` and `fake.kubeconfig` written for it.

    Proxy variables are cleared so the client talks to 127.0.0.1 directly. Teardown stops the
    server (joining its threads) and fails the test if the fake itself raised.
    """
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    fake = FakeKube().start()
    try:
        fake.kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig")
        yield fake
    finally:
        fake.stop()
    assert not fake.errors, f"the fake itself failed: {fake.errors!r}"
