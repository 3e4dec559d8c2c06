"""The library's in-memory store with the days' ticket counters and the cases' personal-data keys:
for the in-memory tests (``PERSISTENCE_MODULE=hotline.infra.store.memory``). It keeps nothing after
the process ends."""

from __future__ import annotations

from eventsourcing import popo
from eventsourcing.persistence import ApplicationRecorder

from hotline.infra.store.personal_keys import MemoryPersonalKeys
from hotline.infra.store.tickets import MemoryTicketRows


class MemoryRecorder(MemoryPersonalKeys, MemoryTicketRows, popo.POPOApplicationRecorder):
    pass


class MemoryFactory(popo.POPOFactory):
    def application_recorder(self) -> ApplicationRecorder:
        return MemoryRecorder()
