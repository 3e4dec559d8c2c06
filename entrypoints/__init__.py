"""Entry points: the ``hotline`` command line (a package, one module per command group) and the
WSGI app. Each builds the services through the composition root (``infra.bootstrap``) and serves."""
