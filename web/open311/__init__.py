"""Open311 GeoReport v2 under /open311/v2/ (docs/open311.md).

``create_app`` registers ``bp`` and exempts it from CSRF: it is an API for machines, authenticated
by ``api_key`` on each POST, not by a browser session.
"""

from hotline.web.open311 import views  # noqa: F401 - the routes attach to bp on import
from hotline.web.open311.blueprint import PREFIX, bp

__all__ = ["PREFIX", "bp"]
