"""WSGI entry point: `gunicorn wsgi:app`."""
from oncall import create_app

app = create_app()
