"""The Open311 blueprint and what it keeps per app; the routes attach to it in views.py."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

from hotline.web.open311.ratelimit import SharedWindowLimiter, TokenBucketLimiter

PREFIX = "/open311/v2"

bp = Blueprint("open311", __name__, url_prefix=PREFIX)


@dataclass
class Open311State:
    """What the API keeps per app: the POST rate limiter (the catalogue is in the rules, the keys in
    the application)."""

    limiter: TokenBucketLimiter | SharedWindowLimiter


@bp.record_once
def _set_up(state) -> None:
    store = state.app.extensions["hotline"].limit_store
    limiter = SharedWindowLimiter(store) if store is not None else TokenBucketLimiter()
    state.app.extensions["open311"] = Open311State(limiter=limiter)
