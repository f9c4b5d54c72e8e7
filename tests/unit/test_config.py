"""The settings object: defaults, parsing, and production safety."""

from __future__ import annotations

import pytest

from ckad_api.config import DEV_SECRET_KEY, ConfigError, Settings


def test_defaults_are_development_with_sqlite_under_instance():
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///") and "/instance/" in settings.database_url
    assert settings.secret_key == DEV_SECRET_KEY


def test_environment_variables_are_read():
    settings = Settings.from_env(
        {
            "CKAD_ENV": "test",
            "CKAD_DATABASE_URL": "sqlite:////tmp/x.db",
            "CKAD_TOKEN_TTL": "600",
            "CKAD_CORS_ORIGINS": "https://a.example, https://b.example",
            "CKAD_MAX_BODY_BYTES": "4096",
            "CKAD_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert settings.token_ttl == 600 and settings.max_body_bytes == 4096
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"CKAD_ENV": "staging"}, "CKAD_ENV must be one of"),
        ({"CKAD_TOKEN_TTL": "soon"}, "CKAD_TOKEN_TTL must be an integer"),
        ({"CKAD_TOKEN_TTL": "5"}, "CKAD_TOKEN_TTL must be at least 60"),
        ({"CKAD_ENV": "production"}, "development default"),
        ({"CKAD_ENV": "production", "CKAD_SECRET_KEY": "short"}, "at least 32 characters"),
        (
            {"CKAD_ENV": "production", "CKAD_SECRET_KEY": "x" * 40, "CKAD_CORS_ORIGINS": "*"},
            "may not be '*'",
        ),
    ],
)
def test_bad_or_unsafe_settings_are_refused(environ, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_production_starts_with_a_real_secret():
    settings = Settings.from_env({"CKAD_ENV": "production", "CKAD_SECRET_KEY": "k" * 48})
    assert settings.production


def test_create_app_refuses_the_dev_secret_in_production(monkeypatch):
    from ckad_api import create_app

    monkeypatch.setenv("CKAD_ENV", "production")
    monkeypatch.delenv("CKAD_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app()
