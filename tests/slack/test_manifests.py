"""The Slack app manifest, and the CronJob that runs `flask slack remind`."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from croniter import croniter

from ckad_api.services.slack import REMINDER_WINDOW
from tests.conftest import ROOT

MANIFEST = ROOT / "slack" / "manifest.yaml"
SLACK_CODE = ROOT / "ckad_api" / "slack"
K8S_VERSION = "1.37.0"
# The bot scope each Web API method the app calls needs (Slack's method reference).
SCOPES = {
    "chat_postMessage": "chat:write",
    "conversations_open": "im:write",
    "users_info": "users:read",
    "views_open": None,  # a trigger_id is the permission
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_the_manifest_follows_slacks_schema(manifest):
    """The limits of Slack's manifest schema (v1) for the fields used."""
    assert set(manifest) <= {
        "_metadata",
        "display_information",
        "features",
        "oauth_config",
        "settings",
    }
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35 and 1 <= len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])
    assert 1 <= len(manifest["features"]["bot_user"]["display_name"]) <= 80
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ckad"
    assert 1 <= len(command["description"]) <= 2000 and 1 <= len(command["usage_hint"]) <= 1000
    assert set(command) <= {"command", "url", "description", "usage_hint", "should_escape"}
    for word in ("ask", "quiz", "due", "progress", "verify", "link", "remind"):
        assert word in command["usage_hint"]


def test_commands_buttons_and_events_share_one_url(manifest):
    settings = manifest["settings"]
    urls = {
        manifest["features"]["slash_commands"][0]["url"],
        settings["interactivity"]["request_url"],
        settings["event_subscriptions"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False  # HTTP: Slack calls the service
    assert settings["event_subscriptions"]["bot_events"] == ["message.im"]


def test_the_scopes_are_exactly_what_the_code_uses(manifest):
    source = "\n".join(p.read_text() for p in SLACK_CODE.glob("*.py"))
    called = set(re.findall(r"client\.(\w+)\(", source))
    assert called == set(SCOPES), called
    needed = {scope for scope in SCOPES.values() if scope}
    needed |= {"commands", "im:history"}  # /ckad, and the message.im event
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def remind_cronjobs() -> list[tuple[Path, dict]]:
    found = []
    for path in sorted((ROOT / "deploy").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc or doc.get("kind") != "CronJob" or "jobTemplate" not in doc.get("spec", {}):
                continue
            containers = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
            if any(c.get("command") == ["flask", "slack", "remind"] for c in containers):
                found.append((path, doc))
    return found


def test_the_reminder_cronjob_validates_and_runs_often_enough():
    jobs = remind_cronjobs()
    assert jobs, "no CronJob in deploy/ runs `flask slack remind`"
    for path, doc in jobs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        container = next(
            c
            for c in doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
            if c.get("command") == ["flask", "slack", "remind"]
        )
        env = {e["name"] for e in container.get("env", [])}
        assert {"CKAD_SLACK_SIGNING_SECRET", "CKAD_SLACK_BOT_TOKEN"} <= env, path
        # No learner's time can fall between two runs: the longest gap between runs is
        # shorter than the window in which `flask slack remind` still sends.
        runs = croniter(doc["spec"]["schedule"], dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
        times = [runs.get_next(dt.datetime) for _ in range(24 * 12 + 1)]
        gap = max(b - a for a, b in itertools.pairwise(times))
        assert gap < REMINDER_WINDOW, (path, doc["spec"]["schedule"])
