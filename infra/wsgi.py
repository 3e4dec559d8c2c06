"""WSGI entry point for production servers: ``gunicorn 'infra.wsgi:app'``."""

from infra.bootstrap import bootstrap
from web import create_app

app = create_app(bootstrap())
