"""The one configuration object: every setting comes from an environment variable.

Each field documents its variable and default. `Settings.from_env()` reads them; `create_app`
accepts a `Settings` (or overrides) so tests never touch the process environment.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

# Development-only secret. Clearly not a secret: production mode refuses to start with it.
DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"

ENVIRONMENTS = ("development", "production", "test")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe for the chosen environment."""


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'instance' / 'ckad.db'}"


@dataclasses.dataclass(frozen=True)
class Settings:
    """All settings of the service. Field comments name the environment variable."""

    env: str = "development"  # CKAD_ENV: development | production | test
    database_url: str = dataclasses.field(
        default_factory=_default_database_url
    )  # CKAD_DATABASE_URL
    secret_key: str = DEV_SECRET_KEY  # CKAD_SECRET_KEY (production refuses the default)
    token_ttl: int = 30 * 24 * 3600  # CKAD_TOKEN_TTL, seconds an access token lives
    cors_origins: tuple[str, ...] = ()  # CKAD_CORS_ORIGINS, comma-separated; empty = no CORS
    max_body_bytes: int = 1024 * 1024  # CKAD_MAX_BODY_BYTES, larger request bodies get 413
    content_dir: Path = PROJECT_ROOT / "content"  # CKAD_CONTENT_DIR
    # CKAD_CONTENT_POLL_SECONDS: how often a worker checks whether another process reloaded
    # the content (one tiny query at most this often, never per request).
    content_poll_seconds: float = 1.0
    kubeconfig: str | None = None  # CKAD_KUBECONFIG: kubeconfig for verifying namespaces
    kube_context: str | None = None  # CKAD_KUBE_CONTEXT: a context of that kubeconfig
    kube_timeout: float = 5.0  # CKAD_KUBE_TIMEOUT: seconds per Kubernetes API request
    # CKAD_LAB_NAMESPACE: the namespace bound to a learner by default
    lab_namespace_pattern: str = "ckad-{username}"
    slack_signing_secret: str | None = None  # CKAD_SLACK_SIGNING_SECRET (Slack app, later)
    slack_bot_token: str | None = None  # CKAD_SLACK_BOT_TOKEN (Slack app, later)
    redis_url: str | None = None  # CKAD_REDIS_URL: shared rate-limit counters (else in memory)
    rate_limits: bool = True  # CKAD_RATE_LIMITS=0 turns rate limiting off
    request_logs: bool = True  # CKAD_REQUEST_LOGS=0 turns the per-request JSON log line off

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from `environ` (default: the process environment), then `overrides`."""
        e = os.environ if environ is None else environ
        values: dict[str, object] = {}

        def text(var: str, field: str) -> None:
            if e.get(var):
                values[field] = e[var]

        def integer(var: str, field: str, minimum: int) -> None:
            if e.get(var):
                try:
                    number = int(e[var])
                except ValueError:
                    raise ConfigError(f"{var} must be an integer, got {e[var]!r}") from None
                if number < minimum:
                    raise ConfigError(f"{var} must be at least {minimum}, got {number}")
                values[field] = number

        text("CKAD_ENV", "env")
        text("CKAD_DATABASE_URL", "database_url")
        text("CKAD_SECRET_KEY", "secret_key")
        integer("CKAD_TOKEN_TTL", "token_ttl", 60)
        integer("CKAD_MAX_BODY_BYTES", "max_body_bytes", 1024)
        if e.get("CKAD_CORS_ORIGINS"):
            values["cors_origins"] = tuple(
                o.strip() for o in e["CKAD_CORS_ORIGINS"].split(",") if o.strip()
            )
        if e.get("CKAD_CONTENT_DIR"):
            values["content_dir"] = Path(e["CKAD_CONTENT_DIR"])
        if e.get("CKAD_CONTENT_POLL_SECONDS"):
            try:
                values["content_poll_seconds"] = float(e["CKAD_CONTENT_POLL_SECONDS"])
            except ValueError:
                raise ConfigError("CKAD_CONTENT_POLL_SECONDS must be a number") from None
        text("CKAD_KUBECONFIG", "kubeconfig")
        text("CKAD_KUBE_CONTEXT", "kube_context")
        text("CKAD_LAB_NAMESPACE", "lab_namespace_pattern")
        if e.get("CKAD_KUBE_TIMEOUT"):
            try:
                values["kube_timeout"] = float(e["CKAD_KUBE_TIMEOUT"])
            except ValueError:
                raise ConfigError("CKAD_KUBE_TIMEOUT must be a number of seconds") from None
        text("CKAD_SLACK_SIGNING_SECRET", "slack_signing_secret")
        text("CKAD_SLACK_BOT_TOKEN", "slack_bot_token")
        text("CKAD_REDIS_URL", "redis_url")
        for var, field in (
            ("CKAD_RATE_LIMITS", "rate_limits"),
            ("CKAD_REQUEST_LOGS", "request_logs"),
        ):
            if e.get(var):
                values[field] = e[var].lower() not in ("0", "false", "no", "off")
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse unknown environments and, in production, development secrets."""
        if self.env not in ENVIRONMENTS:
            raise ConfigError(
                f"CKAD_ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.env!r}"
            )
        if "{username}" not in self.lab_namespace_pattern:
            raise ConfigError("CKAD_LAB_NAMESPACE must contain {username}")
        if self.production:
            if self.secret_key == DEV_SECRET_KEY:
                raise ConfigError(
                    "CKAD_SECRET_KEY is the development default; production needs a real secret"
                )
            if len(self.secret_key) < 32:
                raise ConfigError("CKAD_SECRET_KEY must be at least 32 characters in production")
            if "*" in self.cors_origins:
                raise ConfigError("CKAD_CORS_ORIGINS may not be '*' in production")

    @property
    def production(self) -> bool:
        """True when running in production mode."""
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return self.database_url.startswith("sqlite")
