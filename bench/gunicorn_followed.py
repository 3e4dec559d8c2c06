"""gunicorn settings for ``python -m bench pages_intake``: every worker's pages read the read models
as ``hotline serve``'s pages do while its runner follows the log (``ReadModels.follow``), because a
runner in another process (``hotline projections run``) keeps them up to date: a page waits only
for the user's own last write and never catches up in the request.

``entrypoints.wsgi`` has no setting for "a runner elsewhere follows the log" (it is what
``follow`` sets in its own process), so the benchmark sets it here, after the worker loaded the app.
"""

from __future__ import annotations


def post_worker_init(worker) -> None:
    worker.wsgi.extensions["hotline"].read_models.followed = True
