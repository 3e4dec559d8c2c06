"""Demo data, in one place: cases in every state, supervision items and meetings, accounts, and
synthetic intake messages, all drawn from one vocabulary. ``hotline demo``, ``hotline
produce-demo`` and the benchmarks use it; nothing in the product depends on it."""

from hotline.infra.demo.accounts import DEMO_USERS, department_actor, ensure_demo_users
from hotline.infra.demo.calls import DemoCalls, DemoMessage
from hotline.infra.demo.cases import DemoLoader, DemoResult

__all__ = [
    "DEMO_USERS",
    "DemoCalls",
    "DemoLoader",
    "DemoMessage",
    "DemoResult",
    "department_actor",
    "ensure_demo_users",
]
