"""Failures of reading a learner's namespace from the Kubernetes cluster.

Each is a DomainError, so the HTTP layer maps it to problem+json with no special case. The
split follows whose fault it is: the learner can fix a missing namespace (404), only the
operator can fix an unreachable cluster or the tutor's own missing RBAC permission (503).
"""

from __future__ import annotations

from .errors import NotFound, Unavailable


class ClusterUnavailable(Unavailable):
    """The cluster cannot be read now: unreachable, too slow, failing, or the tutor's
    credentials were rejected (401). `cause` in `extra` says which."""

    status = 503
    type_slug = "cluster-unavailable"
    title = "Cluster unavailable"


class ClusterForbidden(Unavailable):
    """The tutor's own identity lacks an RBAC permission (a 403 from the API).

    A 503 rather than a 403: the learner did nothing wrong and cannot fix it; the detail
    names the rule an operator must add.
    """

    status = 503
    type_slug = "cluster-forbidden"
    title = "The tutor lacks a cluster permission"

    def __init__(
        self,
        *,
        verb: str,
        resource: str,
        group: str,
        namespace: str | None = None,
        detail: str | None = None,
        **extra,
    ):
        if detail is None:
            qualified = f"{resource}.{group}" if group else resource
            where = f"in namespace {namespace}" if namespace else "at cluster scope"
            group_text = f'"{group}"' if group else '"" (core)'
            detail = (
                f"the tutor's service account cannot {verb} {qualified} {where} "
                f'(RBAC: add "{verb}" on "{resource}" in group {group_text})'
            )
        super().__init__(
            detail, verb=verb, resource=resource, group=group, namespace=namespace, **extra
        )


class NamespaceNotFound(NotFound):
    """The learner's namespace does not exist in the cluster."""

    status = 404
    type_slug = "namespace-not-found"
    title = "Namespace not found"

    def __init__(self, namespace: str, detail: str | None = None, **extra):
        if detail is None:
            detail = f'namespace "{namespace}" does not exist in the cluster'
        super().__init__(detail, namespace=namespace, **extra)
