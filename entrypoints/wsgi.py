"""WSGI entry point for production servers: ``gunicorn 'hotline.entrypoints.wsgi:app'``.

It refuses to start, as ``hotline serve`` does, while a demo account is active (``HOTLINE_DEMO=1``
serves the demo anyway): the rule is ``infra.bootstrap.demo_refusal``.

The workers run no projection runner: run ``hotline projections run`` beside them (one process for
all workers). Its beat tells every worker, and pages then read the read models instead of catching
them up inside the request (projections/runner_beat.py); without it they catch up themselves."""

from hotline.infra.bootstrap import bootstrap, demo_refusal
from hotline.infra.config import ConfigError
from hotline.web import create_app

services = bootstrap()
if refused := demo_refusal(services, services.config.demo):
    services.close()
    raise ConfigError(refused)
app = create_app(services)
