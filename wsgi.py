"""WSGI entry point from a checkout: `gunicorn wsgi:app` (an installed package: `gunicorn oncall.wsgi:app`)."""
from oncall.wsgi import app  # noqa: F401
