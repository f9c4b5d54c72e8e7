"""deploy/rbac-verify.yaml validates for Kubernetes 1.37 and grants just what the reader reads."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from ckad_api.adapters.kube import KINDS

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "rbac-verify.yaml"
K8S_VERSION = "1.37.0"
READ_VERBS = {"get", "list"}


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    docs = [doc for doc in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")) if doc]
    by_kind = {doc["kind"]: doc for doc in docs}
    assert len(by_kind) == len(docs) == 3, [doc["kind"] for doc in docs]
    return by_kind


def test_every_document_validates_strictly(documents):
    for doc in documents.values():
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _grants(rules: list[dict]) -> set[tuple[str, str, str]]:
    """The effective (group, resource, verb) set, however the rules are split."""
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
        for verb in rule.get("verbs", [])
    }


def test_rules_are_exactly_the_reader_kinds(documents):
    rules = documents["ClusterRole"]["rules"]
    expected = {
        (info.group, info.plural, verb) for info in KINDS.values() for verb in sorted(READ_VERBS)
    } | {("", "namespaces", "get")}

    assert _grants(rules) == expected


def test_no_wildcard_no_write_no_extras(documents):
    for rule in documents["ClusterRole"]["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, rule  # no resourceNames/URLs
        values = [*rule["apiGroups"], *rule["resources"], *rule["verbs"]]
        assert not any("*" in value for value in values), rule
        assert set(rule["verbs"]) <= READ_VERBS, rule
        assert not any("/" in resource for resource in rule["resources"]), rule  # subresources
    assert "aggregationRule" not in documents["ClusterRole"]


def test_binding_ties_the_role_to_the_service_account(documents):
    account = documents["ServiceAccount"]["metadata"]
    role = documents["ClusterRole"]["metadata"]
    binding = documents["ClusterRoleBinding"]

    assert (account["name"], account["namespace"]) == ("ckad-tutor", "ckad-tutor")
    assert role["name"] == "ckad-tutor-verify"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "ckad-tutor-verify",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ckad-tutor", "namespace": "ckad-tutor"}
    ]
