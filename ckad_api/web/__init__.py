"""The reference web front end (issue 9): a single-page app served by the service at `/`.

Everything here is static: HTML, ES modules and CSS under `static/`, no build step and no
third-party host. The browser talks to the public `/api/v1` like any other client; this
module never reads the database or calls a service. Its pages get a Content-Security-Policy
that allows scripts, styles, images and fetches from this origin only (no inline code).
"""

from __future__ import annotations

from pathlib import Path

import flask

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/web"

# Only this origin, and nothing inline: the app builds its DOM with scripts loaded from
# /web and sets styles through classes (or the CSSOM, which CSP does not restrict).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

bp = flask.Blueprint("web", __name__, static_folder="static", static_url_path=STATIC_URL)


@bp.get("/")
def index() -> flask.Response:
    """The app's one HTML page; the hash router (`#/review`, `#/labs`, ...) does the rest."""
    return flask.send_from_directory(STATIC_DIR, "index.html")


@bp.after_request
def _revalidate(response: flask.Response) -> flask.Response:
    # Always revalidate (cheap 304s through the ETag): after an upgrade no browser keeps
    # an old module next to a new one.
    response.headers["Cache-Control"] = "no-cache"
    return response


def serves(path: str) -> bool:
    """True for the paths of the web app (its page and its static files)."""
    return path == "/" or path.startswith(STATIC_URL + "/")


__all__ = ["CONTENT_SECURITY_POLICY", "bp", "serves"]
