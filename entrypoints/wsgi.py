"""WSGI entry point for production servers: ``gunicorn 'hotline.entrypoints.wsgi:app'``."""

from hotline.infra.bootstrap import bootstrap
from hotline.web import create_app

app = create_app(bootstrap())
