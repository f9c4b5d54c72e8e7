"""The baseline: a bare Flask app with one route returning a small constant JSON object.

Served by the same gunicorn command as the service, it measures what gunicorn, Flask and the
loopback cost on this machine, so the service's numbers read as a fraction of that ceiling.
"""

import flask

PATH = "/ping"

app = flask.Flask(__name__)


@app.get(PATH)
def ping():
    """A constant small JSON object."""
    return {"status": "ok"}
