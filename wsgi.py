"""WSGI entry point from a checkout: `gunicorn wsgi:app` (an installed package: `gunicorn 'oncall.wsgi:make_app()'`)."""
from oncall.wsgi import make_app

app = make_app()
