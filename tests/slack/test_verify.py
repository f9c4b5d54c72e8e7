"""`/ckad verify <lab>`: acknowledged at once, checked against the cluster afterwards."""

from __future__ import annotations

import pytest

from tests.api.test_labs import LIVE, load_namespace
from tests.fakekube import fake_kube  # noqa: F401 - a fixture
from tests.slack.conftest import text_of


@pytest.fixture
def slack_settings(fake_kube):  # noqa: F811 - the fixture above
    """The Slack app with a cluster to verify labs in (the fake Kubernetes API)."""
    return {"kubeconfig": str(fake_kube.kubeconfig), "kube_timeout": 2.0}


def test_a_lab_check_is_acknowledged_then_posted(slack, fake_slack, fake_kube):  # noqa: F811
    namespace = "ckad-s-t0ckad-u1"  # the Slack-only learner's namespace
    load_namespace(
        fake_kube, namespace, LIVE.replace("replicas: 2\n  selector", "replicas: 3\n  selector", 1)
    )
    fake_kube.delay(f"/api/v1/namespaces/{namespace}/pods", 0.3)  # a slow cluster
    ack = slack.command("verify web")
    # the acknowledgement comes before the cluster is read
    assert "⏳ Checking the *web* lab" in text_of(ack) and ack["response_type"] == "ephemeral"
    assert fake_slack.hooks(ack["_response_url"]) == []  # the cluster is still being read
    result = fake_slack.wait_hook(ack["_response_url"])
    assert result["response_type"] == "ephemeral"
    body = text_of(result)
    assert f"*web* lab in `{namespace}`: score" in body and "not passed yet" in body
    assert "❌ Deployment web runs 2 replicas: spec.replicas is 3, expected 2" in body
    assert "✅ The container runs nginx:1.27" in body
    # the attempt is stored for the learner, as on the web
    learner = slack.user().learner
    with slack.services.write_uow() as uow:
        assert uow.attempts.count(learner.id, "web") == 1


def test_an_unknown_lab_and_a_missing_namespace(slack, fake_slack, fake_kube):  # noqa: F811
    unknown = slack.command("verify underwater")
    assert "Which lab?" in text_of(fake_slack.wait_hook(unknown["_response_url"]))
    missing = slack.command("verify web")
    text = text_of(fake_slack.wait_hook(missing["_response_url"]))
    assert "couldn't check the *web* lab" in text and "does not exist" in text
