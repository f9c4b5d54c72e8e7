"""Reads a learner's namespace from the Kubernetes API: the live snapshot a lab is graded on.

One `ClusterReader` owns one isolated `ApiClient` (the client's global default configuration is
never read or written), configured from a kubeconfig file (and optional context) or, when none
is given, from the in-cluster service account. A snapshot is one GET of the namespace and then
exactly one LIST per kind, run concurrently; items come back as the plain dicts the API sent
(JSON, not the client's typed models), with `kind` and `apiVersion` filled in as a LIST leaves
them out. Secret values never leave this module: each `data` value is replaced by `REDACTED`
(or "" when it was empty), so a check can still see which keys exist and are non-empty.

Every failure leaves as a DomainError from `ckad_api.domain.cluster_errors`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ..domain.cluster_errors import ClusterForbidden, ClusterUnavailable, NamespaceNotFound
from ..domain.errors import DomainError

log = logging.getLogger(__name__)

REDACTED = "<redacted>"
"""Stands in for every non-empty Secret value (and kubectl's last-applied annotation)."""

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DEFAULT_TIMEOUT = 5.0
DEFAULT_WORKERS = 8
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclasses.dataclass(frozen=True)
class KindInfo:
    """Where the API serves one kind."""

    kind: str
    group: str  # "" is the core group
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        """`apiVersion` as written in a manifest: `v1`, `apps/v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The resource as RBAC and kubectl name it: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_path(self) -> str:
        """The REST path of a namespaced LIST, with a `{namespace}` parameter."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"
        return f"{prefix}/namespaces/{{namespace}}/{self.plural}"


_KIND_LIST = [
    KindInfo("Pod", "", "v1", "pods"),
    KindInfo("Deployment", "apps", "v1", "deployments"),
    KindInfo("ReplicaSet", "apps", "v1", "replicasets"),
    KindInfo("StatefulSet", "apps", "v1", "statefulsets"),
    KindInfo("DaemonSet", "apps", "v1", "daemonsets"),
    KindInfo("Job", "batch", "v1", "jobs"),
    KindInfo("CronJob", "batch", "v1", "cronjobs"),
    KindInfo("Service", "", "v1", "services"),
    KindInfo("Endpoints", "", "v1", "endpoints"),
    KindInfo("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices"),
    KindInfo("ConfigMap", "", "v1", "configmaps"),
    KindInfo("Secret", "", "v1", "secrets"),
    KindInfo("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims"),
    KindInfo("ServiceAccount", "", "v1", "serviceaccounts"),
    KindInfo("Role", "rbac.authorization.k8s.io", "v1", "roles"),
    KindInfo("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings"),
    KindInfo("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies"),
    KindInfo("Ingress", "networking.k8s.io", "v1", "ingresses"),
    KindInfo("ResourceQuota", "", "v1", "resourcequotas"),
    KindInfo("LimitRange", "", "v1", "limitranges"),
    KindInfo("HorizontalPodAutoscaler", "autoscaling", "v2", "horizontalpodautoscalers"),
]

KINDS: dict[str, KindInfo] = {info.kind: info for info in _KIND_LIST}
"""Every kind the reader can list, by kind name. The RBAC manifest grants exactly these."""

SUPPORTED_KINDS: tuple[str, ...] = tuple(KINDS)


class ClusterReader:
    """Reads namespaces of one cluster. Thread-safe; call `close()` (or use `with`) when done.

    `kubeconfig` (with an optional `context`, else the file's current context) or, when it is
    None, the in-cluster service account. The configuration is loaded on first use, so an app
    starts without a cluster and grades submitted manifests; a configuration that cannot be
    loaded raises ClusterUnavailable then (and is tried again on the next call). `timeout` bounds
    each request in seconds; failed requests are not retried (the learner can verify again).
    """

    def __init__(
        self,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_workers: int = DEFAULT_WORKERS,
    ) -> None:
        if context is not None and kubeconfig is None:
            raise ValueError("a kubeconfig context needs a kubeconfig file")
        if timeout <= 0 or max_workers < 1:
            raise ValueError("timeout must be positive and max_workers at least 1")
        self.kubeconfig = os.fspath(kubeconfig) if kubeconfig is not None else None
        self.context = context
        self.timeout = float(timeout)
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._api_client: client.ApiClient | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ClusterReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections. The reader cannot be used afterwards."""
        with self._lock:
            self._closed = True
            api_client, self._api_client = self._api_client, None
        if api_client is None:
            return
        # urllib3 2's PoolManager.clear() (what ApiClient.close() calls) only forgets its pools,
        # leaving their idle sockets open until garbage collection: close each pool first.
        pools = api_client.rest_client.pool_manager.pools
        for key in list(pools.keys()):
            pool = pools.get(key)
            if pool is not None:
                pool.close()
        api_client.close()

    @property
    def host(self) -> str:
        """The API server's URL (loads the configuration)."""
        return self._client().configuration.host

    def _client(self) -> client.ApiClient:
        with self._lock:
            if self._closed:
                raise RuntimeError("this ClusterReader is closed")
            if self._api_client is None:
                self._api_client = client.ApiClient(self._load_configuration())
            return self._api_client

    def _load_configuration(self) -> client.Configuration:
        # A fresh Configuration: loading into it never touches Configuration's global default.
        configuration = client.Configuration()
        try:
            if self.kubeconfig is None:
                config.load_incluster_config(client_configuration=configuration)
            else:
                config.load_kube_config(
                    config_file=self.kubeconfig,
                    context=self.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
        except (ConfigException, yaml.YAMLError, OSError, ValueError, KeyError, TypeError) as exc:
            source = (
                "the in-cluster service account"
                if self.kubeconfig is None
                else f"kubeconfig {self.kubeconfig}"
                + (f" (context {self.context})" if self.context else "")
            )
            log.warning("cannot load the cluster configuration from %s: %s", source, exc)
            raise ClusterUnavailable(
                f"the tutor cannot load its cluster configuration from {source}: {exc}",
                cause="configuration",
            ) from None
        # No retries: a timed-out read retried would multiply the learner's wait.
        configuration.retries = urllib3.Retry(total=0, redirect=0, raise_on_status=False)
        configuration.connection_pool_maxsize = self.max_workers
        return configuration

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self, namespace: str, kinds: Iterable[str]) -> list[dict[str, Any]]:
        """Every object of `kinds` in `namespace`, as the API returns them, with kind/apiVersion.

        One GET of the namespace (NamespaceNotFound if it is missing), then one LIST per
        distinct kind, concurrently. Objects come kind by kind in the order asked, each kind's
        items in the API's order. Raises ValueError for a kind not in KINDS (a lab bug), and
        ClusterUnavailable or ClusterForbidden when the cluster cannot be read.
        """
        if isinstance(kinds, str):
            raise TypeError("kinds is a list of kind names, not one string")
        wanted = list(dict.fromkeys(kinds))
        unknown = [kind for kind in wanted if kind not in KINDS]
        if unknown:
            raise ValueError(
                f"unsupported kind(s) {', '.join(unknown)}; supported: {', '.join(KINDS)}"
            )
        if not _DNS_LABEL.match(namespace or ""):
            raise NamespaceNotFound(
                namespace,
                f'namespace "{namespace}" does not exist (it is not a valid namespace name)',
            )
        api_client = self._client()
        self._check_namespace(api_client, namespace)
        if not wanted:
            return []
        workers = min(self.max_workers, len(wanted))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kube-list") as pool:
            futures = [
                pool.submit(self._list, api_client, KINDS[kind], namespace) for kind in wanted
            ]
        # Every call has ended (each is bounded by the timeout); report the first failure in
        # the order asked, so the same cluster state always gives the same error.
        objects: list[dict[str, Any]] = []
        for future in futures:
            objects.extend(future.result())
        return objects

    def _check_namespace(self, api_client: client.ApiClient, namespace: str) -> None:
        action = _Action("get", "namespaces", "", None, f"get namespace {namespace}")
        self._get(
            api_client,
            "/api/v1/namespaces/{namespace}",
            namespace,
            action,
            not_found=lambda: NamespaceNotFound(namespace),
        )

    def _list(
        self, api_client: client.ApiClient, info: KindInfo, namespace: str
    ) -> list[dict[str, Any]]:
        action = _Action(
            "list",
            info.plural,
            info.group,
            namespace,
            f"list {info.resource} in namespace {namespace}",
        )
        body = self._get(
            api_client,
            info.list_path,
            namespace,
            action,
            # The namespace exists (checked first), so the API does not serve this kind.
            not_found=lambda: ClusterUnavailable(
                f"the cluster does not serve {info.resource}/{info.version} "
                f"(404 Not Found: {action.text})",
                cause="not-served",
            ),
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ClusterUnavailable(
                f"the Kubernetes API sent a malformed list ({action.text})", cause="bad-response"
            )
        return [_complete(item, info) for item in items if isinstance(item, dict)]

    def _get(
        self,
        api_client: client.ApiClient,
        path: str,
        namespace: str,
        action: _Action,
        not_found: Callable[[], DomainError],
    ) -> Any:
        """GET `path` and return its JSON body; every failure becomes a DomainError.

        This is what the client's typed methods (`list_namespaced_pod`, ...) do underneath,
        without importing their modules (seconds of start-up for pydantic models never used).
        """
        error: DomainError
        try:
            request = api_client.param_serialize(
                method="GET",
                resource_path=path,
                path_params={"namespace": namespace},
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            response = api_client.call_api(*request, _request_timeout=self.timeout)
            try:
                data = response.read()
            finally:
                response.response.release_conn()
            if not 200 <= response.status <= 299:
                ApiException.from_response(http_resp=response, body=None, data=None)  # raises
            return _parse_json(data)
        except ApiException as exc:
            error = not_found() if exc.status == 404 else self._api_error(exc, action)
        except (urllib3.exceptions.HTTPError, OSError, _NotJson) as exc:
            error = self._transport_error(exc, action)
        # Raised outside the handlers, the error keeps no reference to the client's exception,
        # whose traceback and `pool` would keep the connection pool and its sockets alive.
        raise error

    # -- errors ----------------------------------------------------------------------------

    def _api_error(self, exc: ApiException, action: _Action) -> DomainError:
        status = exc.status or 0
        message = _status_message(exc.body)
        log.warning(
            "Kubernetes API at %s answered %s to %s: %s",
            self._host_for_log(),
            status,
            action.text,
            message or exc.reason,
        )
        if status == 403:
            return ClusterForbidden(
                verb=action.verb,
                resource=action.plural,
                group=action.group,
                namespace=action.namespace,
            )
        if status == 401:
            return ClusterUnavailable(
                "the Kubernetes API rejected the tutor's credentials (401 Unauthorized: "
                f"{action.text}); check the tutor's service account token or kubeconfig",
                cause="unauthorized",
            )
        if status == 0:  # the client's own wrapping of a TLS failure
            return ClusterUnavailable(
                f"cannot reach the Kubernetes API: the TLS handshake failed ({action.text})",
                cause="tls",
            )
        reason = exc.reason or "error"
        return ClusterUnavailable(
            f"the Kubernetes API failed with {status} {reason} ({action.text})",
            cause="server-error" if status >= 500 else "unexpected-status",
            upstream_status=status,
        )

    def _transport_error(self, exc: Exception, action: _Action) -> ClusterUnavailable:
        reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
        log.warning(  # a string, not the exception: a log record must not keep the pool alive
            "Kubernetes API at %s failed to %s: %s", self._host_for_log(), action.text, repr(reason)
        )
        # NewConnectionError subclasses ConnectTimeoutError in urllib3: test it first.
        if isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionError):
            refused = "refused" in str(reason).lower()
            return ClusterUnavailable(
                "cannot connect to the Kubernetes API"
                + (": connection refused" if refused else "")
                + f" ({action.text})",
                cause="unreachable",
            )
        if isinstance(reason, urllib3.exceptions.TimeoutError | TimeoutError):
            return ClusterUnavailable(
                f"the Kubernetes API did not answer within {self.timeout:g} s ({action.text})",
                cause="timeout",
            )
        if isinstance(reason, _NotJson):
            return ClusterUnavailable(
                f"the Kubernetes API sent a response that is not JSON ({action.text})",
                cause="bad-response",
            )
        if isinstance(reason, urllib3.exceptions.SSLError):
            return ClusterUnavailable(
                f"cannot reach the Kubernetes API: the TLS handshake failed ({action.text})",
                cause="tls",
            )
        return ClusterUnavailable(
            f"the connection to the Kubernetes API failed ({action.text})", cause="unreachable"
        )

    def _host_for_log(self) -> str:
        api_client = self._api_client
        return api_client.configuration.host if api_client is not None else "?"


@dataclasses.dataclass(frozen=True)
class _Action:
    """What a request was doing, for error messages and RBAC advice."""

    verb: str
    plural: str
    group: str
    namespace: str | None
    text: str


class _NotJson(Exception):
    """A 2xx response whose body is not JSON."""


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise _NotJson(str(exc)) from None


def _status_message(body: str | None) -> str:
    """The `message` of a Kubernetes Status body, or "" (for logs only: it may name users)."""
    if not body:
        return ""
    try:
        status = json.loads(body)
    except ValueError:
        return body[:200]
    return str(status.get("message", "")) if isinstance(status, dict) else ""


def _complete(item: dict[str, Any], info: KindInfo) -> dict[str, Any]:
    """A LIST item with kind and apiVersion first (a LIST leaves them out); Secrets redacted."""
    rest = {k: v for k, v in item.items() if k not in ("apiVersion", "kind")}
    obj = {"apiVersion": info.api_version, "kind": info.kind, **rest}
    if info.kind == "Secret":
        _redact_secret(obj)
    return obj


def _redact_secret(obj: dict[str, Any]) -> None:
    """Keep a Secret's key names and whether each is non-empty; drop every value.

    `kubectl apply` stores the whole object, values included, in the last-applied annotation,
    so that goes too.
    """
    for field in ("data", "stringData"):
        values = obj.get(field)
        if isinstance(values, dict):
            obj[field] = {key: REDACTED if value else "" for key, value in values.items()}
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = REDACTED
