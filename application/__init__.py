"""The application layer: the eventsourcing Application and its commands and queries.

``HotlineApplication`` combines the parts, each a class of its own on the typed base
(``application/base.py``): cases and routing, supervision, the knowledge base, outgoing messages,
accounts and API keys, callers' personal data (erasure, retention). The composition
root builds it with the rules, a clock and the store's settings; everything else receives it.
"""

from __future__ import annotations

from hotline.application.api_keys import ApiKeyCommands, IssuedKey
from hotline.application.cases import Opening
from hotline.application.clock import Clock, SimulatedClock, SystemClock, clocked
from hotline.application.knowledge import KnowledgeCommands
from hotline.application.months import MonthCommands
from hotline.application.notifications import NotificationCommands
from hotline.application.privacy import Erasure, PrivacyCommands, personal_record
from hotline.application.supervision import SupervisionCommands
from hotline.application.users import UserCommands


class HotlineApplication(
    SupervisionCommands,
    KnowledgeCommands,
    NotificationCommands,
    UserCommands,
    ApiKeyCommands,
    MonthCommands,
    PrivacyCommands,
):
    """Every aggregate of the hotline in one application, so that one notification log feeds all
    read models and one audit chain seals every event."""

    # The library names an application after its class unless told: the name is in the stores'
    # table names (hotline_events) and their settings, so it is pinned like the event topics.
    name = "hotline"


__all__ = [
    "Clock",
    "Erasure",
    "HotlineApplication",
    "IssuedKey",
    "Opening",
    "SimulatedClock",
    "SystemClock",
    "clocked",
    "personal_record",
]
