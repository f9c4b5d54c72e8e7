"""Fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

- SQLite: a template database is migrated and loaded once; each test gets a copy.
- PostgreSQL (CKAD_TEST_DATABASE_URL): a throwaway database is created for the run and
  dropped at the end, so the server is left as it was found; tables learners fill are
  emptied after each test, and the fixture content is reloaded if a test changed it.
  With CKAD_REQUIRE_POSTGRES=1 (CI), an unreachable server fails instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ckad_api import create_app
from ckad_api.config import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CONTENT = ROOT / "tests" / "fixtures" / "content"
# The fixture course's questions, in course order (written out: tests compare the API's
# order with it, so it must not come from the loader under test).
FIXTURE_QUESTIONS = (
    "basics-probe-traffic",
    "basics-create-deployment",
    "basics-probe-kinds",
    "basics-smallest-unit",
    "basics-liveness-card",
    "basics-pod-smallest",
    "basics-write-deployment",
)
REAL_CONTENT = ROOT / "content"
PG_ENV = "CKAD_TEST_DATABASE_URL"
LEARNER_TABLES = (
    "slack_reminder_sends",
    "slack_reminders",
    "slack_link_codes",
    "slack_identities",
    "conversation_messages",
    "conversations",
    "lab_attempts",
    "review_logs",
    "cards",
    "access_tokens",
    "learners",
)


def pg_admin_url() -> str | None:
    """The PostgreSQL server the suite may use, as a SQLAlchemy URL with psycopg."""
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def require_postgres() -> bool:
    """True in CI, where PostgreSQL tests must run rather than skip."""
    return os.environ.get("CKAD_REQUIRE_POSTGRES") == "1"


class PgServer:
    """Creates and drops throwaway databases on the configured server."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
        self.created: list[str] = []

    def create(self, prefix: str = "ckad_test") -> str:
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            with self.engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server, or a skip that says why."""
    url = pg_admin_url()
    if url is None:
        if require_postgres():
            pytest.fail(f"{PG_ENV} is not set but CKAD_REQUIRE_POSTGRES=1")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1/test)")
    server = PgServer(url)
    try:
        with server.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "unreachable"
        server.engine.dispose()
        if require_postgres():
            pytest.fail(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_ENV} is unreachable: {type(exc).__name__}")
    yield server
    server.close()


def settings_for(database_url: str, **overrides) -> Settings:
    """Settings for a test app."""
    # Rate limits and request logs are off unless a test turns them on to test them.
    values = dict(
        env="test",
        database_url=database_url,
        content_dir=FIXTURE_CONTENT,
        content_poll_seconds=0.0,
        rate_limits=False,
        request_logs=False,
    )
    values.update(overrides)
    return Settings(**values)


def prepare_database(url: str, content_dir: Path = FIXTURE_CONTENT) -> None:
    """Migrate to head and load `content_dir`."""
    app = create_app(settings_for(url, content_dir=content_dir))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["content", "load"])
    assert result.exit_code == 0, result.output
    app.extensions["ckad"].engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database with the fixture content, copied by each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    prepare_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database(pg_server) -> str:
    """A migrated PostgreSQL database with the fixture content, shared by the run."""
    url = pg_server.create()
    prepare_database(url)
    return url


def _reset_pg(app) -> None:
    services = app.extensions["ckad"]
    with services.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(LEARNER_TABLES)} RESTART IDENTITY CASCADE"))
    from ckad_api.adapters.content_files import read_content

    if services.content.loaded_checksum() != read_content(FIXTURE_CONTENT).checksum:
        with services.engine.begin() as conn:
            conn.execute(
                text(
                    "TRUNCATE question_competencies, section_competencies, questions, sections, "
                    "chapters, competencies, domains, content_state CASCADE"
                )
            )
        services.content.load(FIXTURE_CONTENT)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A database at head with the fixture content, private to this test's data."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_database")


class FakeClock:
    """A clock tests move by hand; starts at the real time so tokens behave normally."""

    def __init__(self, start: dt.datetime | None = None):
        self.current = start or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def now(self) -> dt.datetime:
        return self.current

    def set(self, moment: dt.datetime) -> None:
        self.current = moment

    def advance(self, **delta) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    """The injected clock of the test app."""
    return FakeClock()


@pytest.fixture
def app(database_url, clock):
    """A fresh app on this test's database."""
    application = create_app(settings_for(database_url), clock=clock)
    yield application
    if database_url.startswith("postgresql"):
        _reset_pg(application)
    application.extensions["ckad"].engine.dispose()


@pytest.fixture
def client(app):
    """A test client for `app`."""
    return app.test_client()


@pytest.fixture
def services(app):
    """The app's wired services."""
    return app.extensions["ckad"]


class Api:
    """A small helper over the test client for authenticated JSON calls."""

    def __init__(self, client):
        self.client = client

    def register(self, username: str = "ada", password: str = "correct-horse-1", **extra):
        response = self.client.post(
            "/api/v1/auth/register", json={"username": username, "password": password, **extra}
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def auth(self, username: str = "ada", password: str = "correct-horse-1") -> dict[str, str]:
        token = self.register(username, password)["access_token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(client) -> Api:
    """Helper for registering learners and calling the API."""
    return Api(client)


def make_admin(app, username: str = "root", password: str = "admin-password-1") -> dict[str, str]:
    """Create an admin through the CLI and return its auth header."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["learner", "create", username, "--admin", "--password", password])
    assert result.exit_code == 0, result.output
    response = app.test_client().post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def pytest_sessionfinish(session, exitstatus):
    """In CI, a run in which no PostgreSQL test passed is a failure, whatever else passed."""
    if not require_postgres() or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    passed = reporter.stats.get("passed", []) if reporter else []
    if not any("postgres" in report.keywords for report in passed):
        if reporter:
            reporter.write_line(
                "FAILED: CKAD_REQUIRE_POSTGRES=1 but no PostgreSQL test passed", red=True
            )
        session.exitstatus = 1
