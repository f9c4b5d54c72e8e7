"""ckad-tutor: the application factory wires config, adapters, services and routes."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from typing import Any

import flask
from flask_cors import CORS

from .adapters import content_files, markdown, search
from .adapters.db import make_engine, make_session_factories
from .adapters.passwords import Argon2Hasher
from .adapters.repositories import SqlTokenLookup, SqlUnitOfWork
from .adapters.schema import SchemaProbe
from .config import Settings
from .domain.errors import DomainError
from .http.errors import ProblemApi, is_json_mimetype, problem
from .services.accounts import AccountService
from .services.content import ContentService
from .services.labs import LabService
from .services.ports import Clock, SystemClock
from .services.reviews import ReviewService
from .services.slack import SlackService
from .services.tutor import TutorService

API_VERSION = "1.0.0"


@dataclasses.dataclass
class Services:
    """Everything a view, a CLI command or a test needs, built once per app."""

    settings: Settings
    engine: Any
    clock: Clock
    read_uow: Any
    write_uow: Any
    accounts: AccountService
    content: ContentService
    reviews: ReviewService
    labs: LabService
    tutor: TutorService
    slack: SlackService
    schema: SchemaProbe


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, **overrides: Any
) -> flask.Flask:
    """Build the Flask app. `settings` defaults to the environment; `overrides` win."""
    if settings is None:
        settings = Settings.from_env(**overrides)
    elif overrides:
        settings = dataclasses.replace(settings, **overrides)
        settings.validate()
    app = _App(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TESTING=settings.env == "test",
        API_TITLE="ckad-tutor API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Course, reviews, labs and tutor for CKAD learners. Errors are "
                "RFC 9457 problem+json. Authenticate with `Authorization: Bearer <token>` from "
                "`POST /api/v1/auth/token`.",
            },
            "servers": [{"url": "/"}],
        },
    )
    app.json.sort_keys = False
    # The API is token-based: no cookie session is ever read or written, so skip the work.
    app.session_interface = _NoSessions()
    app.url_map.strict_slashes = True

    engine = make_engine(settings.database_url)
    read_factory, write_factory = make_session_factories(engine)
    clock = clock or SystemClock()

    def read_uow():
        return SqlUnitOfWork(read_factory)

    def write_uow():
        return SqlUnitOfWork(write_factory)

    content_service = ContentService(
        write_uow,
        read_uow,
        clock,
        content_files.read_content,
        markdown.render_markdown,
        search.SearchIndex.from_sections,
        settings.content_poll_seconds,
    )
    labs = LabService(
        write_uow,
        clock,
        content_service,
        cluster_reader=_cluster_reader(settings),
        namespace_pattern=settings.lab_namespace_pattern,
        read_uow=read_uow,
    )
    services = Services(
        settings=settings,
        engine=engine,
        clock=clock,
        read_uow=read_uow,
        write_uow=write_uow,
        accounts=AccountService(
            write_uow,
            Argon2Hasher(fast_for_tests=settings.env == "test"),
            clock,
            settings.token_ttl,
            SqlTokenLookup(engine).lookup,
            read_uow=read_uow,
        ),
        content=content_service,
        # Fuzzing spreads reviews out in real use; tests need exact, repeatable intervals.
        reviews=ReviewService(
            write_uow,
            clock,
            content_service,
            fuzz=settings.env != "test",
            manifest_grader=labs.grade_manifest_question,
            read_uow=read_uow,
        ),
        labs=labs,
        tutor=None,  # set below: the tutor uses the other services
        slack=None,  # set below: Slack uses the tutor
        schema=SchemaProbe(engine),
    )
    services.tutor = TutorService(
        write_uow, clock, content_service, services.reviews, labs, read_uow=read_uow
    )
    services.slack = SlackService(write_uow, clock, services.tutor, services.reviews)
    app.extensions["ckad"] = services

    _register_http(app, settings)
    from .http.observability import init_observability

    init_observability(app, settings)
    _register_slack(app, services)
    from . import cli

    cli.register(app)
    if settings.production:
        logging.getLogger("ckad_api").setLevel(logging.INFO)
    return app


class _App(flask.Flask):
    """Flask, remembering which callables are coroutines.

    Flask asks `inspect.iscoroutinefunction` of every hook and view on every request (about
    fifteen times per request here); the answer never changes for a given function.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._is_async: dict[Any, bool] = {}

    def ensure_sync(self, func):
        """`Flask.ensure_sync`, with the coroutine test cached per underlying function."""
        key = getattr(func, "__func__", func)  # bound methods are new objects every time
        known = self._is_async.get(key)
        if known is None:
            known = self._is_async[key] = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if known else func


class _NoSessions(flask.sessions.SecureCookieSessionInterface):
    """Flask's session machinery, switched off (no cookies on a bearer-token API)."""

    def open_session(self, app, request):
        return None

    def make_null_session(self, app):
        return flask.sessions.NullSession()

    def save_session(self, app, session, response):
        return None


def _cluster_reader(settings: Settings):
    """A factory for the shared cluster reader, or None when no cluster is configured."""
    import os

    if not settings.kubeconfig and not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    reader = None

    def get():
        nonlocal reader
        if reader is None:
            from .adapters.kube import ClusterReader

            reader = ClusterReader(
                settings.kubeconfig, settings.kube_context, timeout=settings.kube_timeout
            )
        return reader

    return get


def _register_slack(app: flask.Flask, services: Services) -> None:
    """`POST /slack/events` (404 unless the Slack settings are given)."""
    from . import slack
    from .slack import views

    slack.init_app(app, services)
    app.register_blueprint(views.blp)


def _register_http(app: flask.Flask, settings: Settings) -> None:
    from . import web
    from .http import accounts, chat, course, labs, reviews, service

    api = ProblemApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Token from /auth/token"}
    )
    for blp in (service.blp, accounts.blp, course.blp, reviews.blp, labs.blp, chat.blp):
        api.register_blueprint(blp)
    app.register_blueprint(service.assets)
    app.register_blueprint(web.bp)
    if settings.cors_origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": list(settings.cors_origins)}},
            expose_headers=["ETag"],
            max_age=600,
        )

    @app.before_request
    def _guard_body():
        request = flask.request._get_current_object()  # one context lookup, not one per use
        if request.method in ("POST", "PUT", "PATCH") and request.path.startswith("/api/"):
            length = request.content_length
            if length is not None and length > settings.max_body_bytes:
                flask.abort(413, f"the body is larger than {settings.max_body_bytes} bytes")
            has_body = bool(length) or request.headers.get("Transfer-Encoding") == "chunked"
            if has_body and not is_json_mimetype(request.mimetype):
                return problem(
                    415,
                    "Unsupported Media Type",
                    "the body must be JSON, sent with Content-Type: application/json",
                    "unsupported-media-type",
                )
        return None

    docs_policy = (
        # Swagger UI's page uses an inline bootstrap script and inline styles.
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:"
    )
    api_policy = "default-src 'none'; frame-ancestors 'none'"
    common = (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    )

    @app.after_request
    def _security_headers(response: flask.Response) -> flask.Response:
        # Runs on every response: one pass over the headers instead of one per setdefault.
        h = response.headers
        present = {name.lower() for name, _ in h.items()}
        for name, value in common:
            if name.lower() not in present:
                h.add(name, value)
        if "content-security-policy" not in present:
            path = flask.request.path
            if web.serves(path):
                h.add("Content-Security-Policy", web.CONTENT_SECURITY_POLICY)
            elif path.startswith("/docs"):
                h.add("Content-Security-Policy", docs_policy)
            else:
                h.add("Content-Security-Policy", api_policy)
        if response.status_code == 401 and "www-authenticate" not in present:
            h.add("WWW-Authenticate", 'Bearer realm="ckad-tutor"')
        return response


__all__ = ["DomainError", "Settings", "create_app"]
