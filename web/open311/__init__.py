"""Open311 GeoReport v2 under /open311/v2/ (docs/open311.md).

``create_app`` registers ``bp`` and exempts it from CSRF: it is an API for machines, authenticated
by ``api_key`` on each POST, not by a browser session.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

from domain.api_keys import ApiKeyRegistry
from web.open311.catalogue import Open311Catalogue, load_catalogue
from web.open311.ratelimit import TokenBucketLimiter

PREFIX = "/open311/v2"

bp = Blueprint("open311", __name__, url_prefix=PREFIX)


@dataclass
class Open311State:
    """What the API keeps per app: its catalogue, the key registry and the POST rate limiter."""

    catalogue: Open311Catalogue
    keys: ApiKeyRegistry
    limiter: TokenBucketLimiter


@bp.record_once
def _set_up(state) -> None:
    services = state.app.extensions["hotline"]
    state.app.extensions["open311"] = Open311State(
        catalogue=load_catalogue(services.config.rules_dir, services.rules),
        keys=ApiKeyRegistry(services.app),
        limiter=TokenBucketLimiter(),
    )


from web.open311 import views  # noqa: E402,F401 - routes attach to bp on import
