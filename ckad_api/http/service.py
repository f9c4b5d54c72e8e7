"""Service routes: liveness, readiness, and the local API docs assets."""

from __future__ import annotations

from pathlib import Path

import flask
import swagger_ui_bundle
from flask.views import MethodView

from ..domain.errors import Unavailable
from . import schemas as s
from .common import Blueprint, json_response, services

blp = Blueprint("service", __name__, description="Health of the service")
assets = flask.Blueprint("docs_assets", __name__)
_SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)


@blp.route("/healthz")
class Health(MethodView):
    """Liveness."""

    @blp.response(200, s.HealthSchema)
    def get(self):
        """The process is up and answering."""
        return json_response({"status": "ok"})


@blp.route("/readyz")
class Ready(MethodView):
    """Readiness."""

    @blp.response(200, s.HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """The database answers, is migrated and has course content; 503 otherwise."""
        try:
            schema, revision, head = services().schema.status()
            if schema != "ok":
                raise Unavailable(
                    f"the database schema is at {revision or 'no revision'}, this code needs "
                    f"{head}: run `flask db upgrade`",
                    checks={"database": "ok", "schema": schema},
                )
            checksum = services().content.loaded_checksum()
        except Unavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
            flask.current_app.logger.warning("readiness: database check failed: %s", exc)
            raise Unavailable(
                "the database does not answer", checks={"database": "failing"}
            ) from None
        if checksum is None:
            raise Unavailable(
                "no course content is loaded; run `flask content load`",
                checks={"database": "ok", "schema": "ok", "content": "missing"},
            )
        return json_response(
            {"status": "ok", "checks": {"database": "ok", "schema": "ok", "content": "ok"}}
        )


@assets.route("/docs/assets/<path:filename>")
def swagger_assets(filename: str):
    """Swagger UI's files, served from the installed package (no CDN)."""
    return flask.send_from_directory(_SWAGGER_DIR, filename, max_age=86400)
