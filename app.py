"""WSGI entry point: `gunicorn app:app` and `flask` commands find the app here."""

from ckad_api import create_app

app = create_app()
