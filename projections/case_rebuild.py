"""The set-based rebuild of the case index (``hv_cases``): the rows computed in SQL, not replayed.

The incremental path (``RowView.process_batch``) applies every event to its row in Python. A rebuild
from zero does not need that: every column of ``hv_cases`` is either set by the event that opens the
case, or is the value the *last* event writing that column gave it (a status, a deadline, a reset to
empty), or a count (``urge_count``). So, in one transaction on the views store:

1. The log is read in pages and decoded in Python (decryption and the per-case keys as everywhere).
   The event that opens a case (``Opened``, ``Migrated``) goes through the incremental path's own
   handler and its row is written to the new table (``hv_cases_rebuilt``) as it would be: this is
   where the personal columns are computed (the description without contacts, the public copy
   without names, the caller's keyed hashes), in Python, and written only where the read model
   keeps them.
2. Every later event becomes one row of a temporary staging table (``hv_stage_case_events``:
   ``CREATE TEMP TABLE``, on PostgreSQL ``ON COMMIT DROP``; SQLite drops it before the commit):
   the case, the event's notification id, its *effect* (a small number: which columns it writes,
   ``EFFECTS``) and the non-personal values it carries (deadlines, department, a reply already
   scrubbed of contacts and with the caller's name hidden, ...). No name, phone, address or
   description of a caller is ever written there.
3. One ``GROUP BY`` over the staging table gives, for every case and column, the value of the last
   event that wrote the column (``MAX`` over the notification id, zero-padded, followed by the
   value: ordered as text, in byte order); one ``UPDATE … FROM`` puts them into the opening rows.
4. The new table takes the old one's place (``DROP``, ``ALTER TABLE … RENAME``), its indexes are
   built once, and the view's position is set to the last notification read, all before the
   commit: a page reads the old rows until then and the new ones after, never a half-built table;
   the incremental runner carries on from that position.

The few columns that depend on what came before (the first hand-off made, the interim feedback
given first since it was last asked for, an extension's provisional deadline) are decided in
Python while staging, with a set of the few cases concerned; the staged effect then says what the
event wrote. ``tests/store/projections/test_set_based_rebuild.py`` proves the rows equal to the
incremental run's on both stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from hotline.domain.case import (
    ANSWERED,
    CALLED_BACK,
    CLOSED,
    DISPATCHED,
    MERGED,
    OPENED,
    REOPENED,
    REPLIED,
    RETURNED,
    SIGNED,
    UNCLASSIFIED,
    Case,
)
from hotline.domain.emergency import HANDED_OVER
from hotline.domain.privacy import ERASED, scrub, scrub_contacts
from hotline.projections.base import IN_CHUNK, index_statements, stamp
from hotline.projections.cases import CASES, CaseIndex

REBUILT = "hv_cases_rebuilt"
STAGE = "hv_stage_case_events"
SEQ_WIDTH = 12  # digits of the zero-padded notification id that orders a column's writers as text

# What the staging table holds for an event beside its case, notification id, effect, version and
# time: the values some effect writes. Nothing a caller said or is called.
STAGED = (
    "department",
    "category",
    "service_code",
    "sign_by",
    "reply_by",
    "moment",  # the event's own moment: a deadline it sets, the hand-off's time, the 派单时限 ...
    "flag",  # 0/1: provisional deadline, resolved
    "satisfaction",
    "merged_into",
    "article_no",
    "working_days",
    "reason",
)
STAGE_DDL = (
    "id TEXT NOT NULL, seq BIGINT NOT NULL, effect INTEGER NOT NULL, version INTEGER NOT NULL, at TEXT NOT NULL, "
    "department TEXT, category TEXT, service_code TEXT, sign_by TEXT, reply_by TEXT, moment TEXT, flag INTEGER, "
    "satisfaction TEXT, merged_into TEXT, article_no TEXT, "
    "working_days INTEGER, reason TEXT"
)
STAGE_COLUMNS = ("id", "seq", "effect", "version", "at", *STAGED)


@dataclass(frozen=True)
class Const:
    """A value an effect writes whatever the event says (a status, an empty column)."""

    value: str | int | None


NONE = Const(None)

# Each effect: the hv_cases columns it writes, from a staged column (by name) or a constant. Every
# effect also writes ``version`` and ``updated_at`` (the incremental path's ``touch``).
EFFECTS: dict[str, dict[str, str | Const]] = {
    "touch": {},
    "held": {"status": Const(UNCLASSIFIED)},
    "classified": {"status": Const(OPENED), "service_code": "service_code", "category": "category"},
    "answered": {
        "status": Const(ANSWERED),
        "closed_at": "at",
        "article_no": "article_no",
    },
    "emergency_flagged": {"emergency": Const(1), "handoff_by": "moment"},
    "handed_off": {"handed_off_at": "moment"},  # the first hand-off made only
    "interim_requested": {"interim_by": "moment", "interim_given_at": NONE},
    "interim_given": {"interim_given_at": "at"},  # the first since it was last asked for only
    "dispatched": {
        "status": Const(DISPATCHED),
        "department": "department",
        "dispatched_at": "at",
        "sign_by": "sign_by",
        "reply_by": "reply_by",
        "deadline_provisional": "flag",
        "signed_at": NONE,
        "return_requested_at": NONE,
        "return_rejection": NONE,
        "extension_pending": NONE,
        "interim_by": NONE,
        "interim_given_at": NONE,
    },
    "signed": {"status": Const(SIGNED), "signed_at": "at"},
    "returned": {
        "status": Const(RETURNED),
        "return_requested_at": NONE,
        "extension_pending": NONE,
        "dispatch_by": "moment",
    },
    "return_requested": {"return_requested_at": "at", "return_rejection": NONE, "return_reason": "reason"},
    "return_rejected": {"return_requested_at": NONE, "return_rejection": "reason"},
    "extension_requested": {"extension_pending": "working_days"},
    "extension_rejected": {"extension_pending": NONE},
    "extension_approved": {"reply_by": "reply_by", "extension_pending": NONE},
    # A provisional extension makes the deadline provisional; a firm one leaves it as it was.
    "extension_approved_provisional": {
        "reply_by": "reply_by",
        "extension_pending": NONE,
        "deadline_provisional": Const(1),
    },
    "urged": {},  # counted: urge_count
    "replied": {
        "status": Const(REPLIED),
        "return_requested_at": NONE,
        "extension_pending": NONE,
        "resolved": "flag",
        "replied_at": "at",
        "callback_by": "moment",
        "callback_provisional": Const(0),
    },
    # A reply whose recorded callback deadline rests on a year not published (暂定).
    "replied_provisional": {
        "status": Const(REPLIED),
        "return_requested_at": NONE,
        "extension_pending": NONE,
        "resolved": "flag",
        "replied_at": "at",
        "callback_by": "moment",
        "callback_provisional": Const(1),
    },
    "called_back": {"status": Const(CALLED_BACK), "satisfaction": "satisfaction", "resolved_per_caller": "flag"},
    "closed": {"status": Const(CLOSED), "closed_at": "at"},
    "reopened": {
        "status": Const(REOPENED),
        "closed_at": NONE,
        "satisfaction": NONE,
        "resolved_per_caller": NONE,
        "dispatch_by": "moment",
    },
    "merged": {"status": Const(MERGED), "closed_at": "at", "merged_into": "merged_into"},
    "marked_confidential": {"confidential": Const(1)},
    # The caller's words and address, and the keys that find the caller: gone from the view too.
    "erased": {
        "description": Const(ERASED),
        "public_description": Const(ERASED),
        "address": Const(ERASED),
        "caller_key": NONE,
        "caller_name_key": NONE,
        "erased": Const(1),
    },
}
EFFECT_NUMBER = {name: number for number, name in enumerate(EFFECTS)}
COUNTED = {"urge_count": "urged"}
INTEGER_COLUMNS = {
    "deadline_provisional",
    "resolved",
    "resolved_per_caller",
    "urge_count",
    "version",
    "emergency",
    "extension_pending",
    "confidential",
    "erased",
    "callback_provisional",
}
# The events that open a case: their rows come from the incremental path's own handlers.
OPENINGS = (Case.Opened, Case.Migrated)


SET_BASED = ("cases",)  # the views a rebuild computes in SQL; the others are replayed


def covers(view: Any) -> bool:
    """Whether every event the view handles has its effect here (a handler added to ``CaseIndex``
    without one here: the view is replayed instead, and the equality test says so)."""
    if not isinstance(view, CaseIndex):
        return False
    staged = CaseRebuild(view, log=None, mapper=None, batch_size=0).stagers
    return all(cls in OPENINGS or cls in staged for cls in view.handlers)


class Dialect:
    """The few places the SQL differs: padding a number, and text compared in byte order."""

    def __init__(self, name: str):
        self.name = name

    def padded(self, column: str) -> str:
        if self.name == "postgres":
            return f"lpad({column}::text, {SEQ_WIDTH}, '0')"
        return f"printf('%0{SEQ_WIDTH}d', {column})"

    def greatest(self, expression: str) -> str:
        # PostgreSQL compares text by the database's collation; the "C" collation is byte order.
        return f'MAX(({expression}) COLLATE "C")' if self.name == "postgres" else f"MAX({expression})"


def writers() -> dict[str, dict[str, list[int]]]:
    """For every column some effect writes: {source: [effect numbers]}, so that one CASE per column
    picks the value of whichever effect the event has."""
    found: dict[str, dict[str, list[int]]] = {}
    for name, writes in EFFECTS.items():
        for column, source in {**writes, "version": "version", "updated_at": "at"}.items():
            key = f"const:{source.value!r}" if isinstance(source, Const) else source
            found.setdefault(column, {}).setdefault(key, []).append(EFFECT_NUMBER[name])
    return found


def _literal(value: str | int) -> str:
    if isinstance(value, int):
        return f"'{value}'"
    return "'" + value.replace("'", "''") + "'"


def update_statement(dialect: Dialect, table: str, stage: str) -> str:
    """One UPDATE … FROM (GROUP BY): every column's last writer, decoded, over the opening rows."""
    aggregates, assignments = [], []
    consts = {
        f"const:{source.value!r}": source.value
        for w in EFFECTS.values()
        for source in w.values()
        if isinstance(source, Const)
    }
    width = SEQ_WIDTH
    for number, (column, sources) in enumerate(sorted(writers().items())):
        branches = []
        for source, effects in sources.items():
            if not source.startswith("const:"):
                encoded = f"p || COALESCE('v' || CAST({source} AS TEXT), 'n')"
            elif consts[source] is None:
                encoded = "p || 'n'"
            else:
                encoded = f"p || 'v' || {_literal(consts[source])}"
            branches.append(f"WHEN effect IN ({', '.join(map(str, effects))}) THEN {encoded}")
        aggregates.append(f"{dialect.greatest('CASE ' + ' '.join(branches) + ' END')} AS w{number}")
        kind = "INTEGER" if column in INTEGER_COLUMNS else "TEXT"
        assignments.append(
            f"{column} = CASE WHEN a.w{number} IS NULL THEN d.{column} "
            f"WHEN substr(a.w{number}, {width + 1}, 1) = 'n' THEN NULL "
            f"ELSE CAST(substr(a.w{number}, {width + 2}) AS {kind}) END"
        )
    for column, effect in COUNTED.items():
        aggregates.append(f"SUM(CASE WHEN effect = {EFFECT_NUMBER[effect]} THEN 1 ELSE 0 END) AS n_{column}")
        assignments.append(f"{column} = COALESCE(d.{column}, 0) + a.n_{column}")
    return (
        f"UPDATE {table} AS d SET {', '.join(assignments)} FROM "
        f"(SELECT id, {', '.join(aggregates)} FROM (SELECT *, {dialect.padded('seq')} AS p FROM {stage}) AS s "
        f"GROUP BY id) AS a WHERE d.id = a.id"
    )


class CaseRebuild:
    """One set-based rebuild of the case index (module docstring)."""

    def __init__(self, index: CaseIndex, log: Any, mapper: Any, batch_size: int):
        self.index = index
        self.view = index.view
        self.log = log
        self.mapper = mapper
        self.batch_size = batch_size
        self.dialect = Dialect(self.view.dialect)
        self.stagers = self._stagers()
        self.topics = {cls.TOPIC for cls in index.handlers}
        # The little state that decides an effect: cases whose hand-off is recorded, whose interim
        # feedback was given since last asked for, whose personal data is erased.
        self.handed_off: set[UUID] = set()
        self.interim_given: set[UUID] = set()
        self.erased: set[UUID] = set()

    # ---- the run --------------------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> tuple[int, Any]:
        """Rebuild ``hv_cases``; returns (notifications read, the last one read or None)."""
        view, index = self.view, self.index
        table, rebuilt, stage = view.table(CASES.name), view.table(REBUILT), STAGE
        read, last = 0, None
        with view.writing(None) as cursor:
            view.execute(cursor, f"DROP TABLE IF EXISTS {rebuilt}")
            view.execute(cursor, f"CREATE TABLE {rebuilt} ({CASES.ddl_columns})")
            # Never outlives the transaction: PostgreSQL drops it at the commit, SQLite below.
            tail = " ON COMMIT DROP" if view.dialect == "postgres" else ""
            view.execute(cursor, f"CREATE TEMPORARY TABLE {stage} ({STAGE_DDL}){tail}")
            start = 0
            while page := self.log.select_notifications(start, self.batch_size, inclusive_of_start=False):
                mine = [n for n in page if n.topic in self.topics]
                self._stage(cursor, mine, self._decode(mine))
                read += len(page)
                last, start = page[-1], page[-1].id
                if progress:
                    progress(len(page))
            view.execute(cursor, update_statement(self.dialect, rebuilt, stage))
            view.execute(cursor, f"DROP TABLE {stage}")
            # The swap: the old rows stay readable until the commit, the new ones from then on.
            view.lock_tables(cursor)  # not while another process creates its tables
            view.execute(cursor, f"DROP TABLE IF EXISTS {table}")
            view.execute(cursor, f"ALTER TABLE {rebuilt} RENAME TO {CASES.name}")
            if view.dialect == "postgres":
                for old, new in (
                    (f"{REBUILT}_pkey", f"{CASES.name}_pkey"),
                    (f"{REBUILT}_ticket_no_key", f"{CASES.name}_ticket_no_key"),
                ):
                    view.execute(cursor, f"ALTER TABLE {table} RENAME CONSTRAINT {old} TO {new}")
            for statement in index_statements(view, CASES):
                view.execute(cursor, statement)
            view.forget(cursor, index.tracking_name)
            if last is not None:
                view._insert_tracking(cursor, Tracking(index.tracking_name, last.id))  # type: ignore[attr-defined]
        return read, last

    def _decode(self, notifications: Sequence[Any]) -> list[Any]:
        decode_all = getattr(self.mapper, "to_domain_events", None)
        return decode_all(notifications) if decode_all else [self.mapper.to_domain_event(n) for n in notifications]

    def _stage(self, cursor: Any, notifications: Sequence[Any], events: Sequence[Any]) -> None:
        """The page's openings into the new table, the other events into the staging table, and the
        replies (a department's words, which may name the caller) straight into the new table."""
        view, handlers, stagers = self.view, self.index.handlers, self.stagers
        openings, staged = [], []
        replies: dict[UUID, str] = {}  # the case's last reply or answer in this page
        columns = CASES.columns
        as_tuple = itemgetter(*columns)
        for notification, event in zip(notifications, events, strict=True):
            kind = type(event)
            if kind in OPENINGS:
                row = dict.fromkeys(columns)
                row["id"] = str(event.originator_id)
                handlers[kind][1](row, event)
                openings.append(as_tuple(row))
                continue
            effect, values = stagers[kind](event)
            staged.append(
                (
                    str(event.originator_id),
                    notification.id,
                    EFFECT_NUMBER[effect],
                    event.originator_version,
                    stamp(event.timestamp),
                    *map(values.get, STAGED),
                )
            )
            if "reply" in values:
                replies[event.originator_id] = values["reply"]
        if openings:
            view.copy_rows(cursor, REBUILT, columns, openings)
        if replies:
            self._write_replies(cursor, replies)
        view.copy_rows(cursor, STAGE, STAGE_COLUMNS, staged, temporary=True)

    def _write_replies(self, cursor: Any, replies: dict[UUID, str]) -> None:
        """``reply_result`` and ``public_reply`` as the incremental path writes them: the reply without
        contacts, and the public copy with the caller's name hidden (found by its keyed hash, read back
        from the opening rows already written, as the incremental path reads its row). Written in log
        order, page after page: the last reply stands."""
        view = self.view
        table = view.table(REBUILT)
        wanted = sorted(str(case) for case in replies if case not in self.erased)
        keys: dict[str, str | None] = {}
        for begin in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[begin : begin + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            statement = f"SELECT id, caller_name_key FROM {table} WHERE id IN ({marks})"
            for row in view.select(cursor, statement, chunk):
                keys[row["id"]] = row["caller_name_key"]
        hide = self.index.caller_key.hide_name
        rows = []
        for case, reply in replies.items():
            key = str(case)
            rows.append((key, scrub_contacts(reply), hide(scrub(reply), keys.get(key))))
        view.update_rows(cursor, REBUILT, ("id", "reply_result", "public_reply"), rows)

    # ---- what each event writes ---------------------------------------------------------------------

    def _stagers(self) -> dict[type, Callable[[Any], tuple[str, dict[str, Any]]]]:
        index = self.index  # the deadlines as the incremental path reads them (recorded, or counted)

        def plain(name: str) -> Callable[[Any], tuple[str, dict[str, Any]]]:
            return lambda e: (name, {})

        def classified(e: Any) -> tuple[str, dict[str, Any]]:
            return "classified", {"service_code": e.service_code, "category": e.category}

        def answered(e: Any) -> tuple[str, dict[str, Any]]:
            return "answered", {
                "reply": e.answer,  # not staged: written to the new table (_write_replies)
                "article_no": getattr(e, "article_no", None),
            }

        def emergency_flagged(e: Any) -> tuple[str, dict[str, Any]]:
            return "emergency_flagged", {"moment": stamp(e.handoff_by)}

        def handed_off(e: Any) -> tuple[str, dict[str, Any]]:
            if e.outcome in HANDED_OVER and e.originator_id not in self.handed_off:
                self.handed_off.add(e.originator_id)
                return "handed_off", {"moment": stamp(e.handed_off_at)}
            return "touch", {}

        def interim_requested(e: Any) -> tuple[str, dict[str, Any]]:
            self.interim_given.discard(e.originator_id)
            return "interim_requested", {"moment": stamp(e.interim_by)}

        def interim_given(e: Any) -> tuple[str, dict[str, Any]]:
            if e.originator_id in self.interim_given:
                return "touch", {}
            self.interim_given.add(e.originator_id)
            return "interim_given", {}

        def dispatched(e: Any) -> tuple[str, dict[str, Any]]:
            self.interim_given.discard(e.originator_id)
            return "dispatched", {
                "department": e.department,
                "sign_by": stamp(e.sign_by),
                "reply_by": stamp(e.reply_by),
                "flag": int(e.provisional),
            }

        def returned(e: Any) -> tuple[str, dict[str, Any]]:
            return "returned", {"moment": index.dispatch_by(e)}

        def return_requested(e: Any) -> tuple[str, dict[str, Any]]:
            return "return_requested", {"reason": f"{e.reason}（依据：{e.basis}）"}

        def return_rejected(e: Any) -> tuple[str, dict[str, Any]]:
            return "return_rejected", {"reason": e.reason}

        def extension_requested(e: Any) -> tuple[str, dict[str, Any]]:
            return "extension_requested", {"working_days": e.working_days}

        def extension_approved(e: Any) -> tuple[str, dict[str, Any]]:
            name = "extension_approved_provisional" if e.provisional else "extension_approved"
            return name, {"reply_by": stamp(e.reply_by)}

        def replied(e: Any) -> tuple[str, dict[str, Any]]:
            callback_by, provisional = index.callback_by(e)
            return "replied_provisional" if provisional else "replied", {
                "reply": e.result,  # not staged: written to the new table (_write_replies)
                "flag": int(e.resolved),
                "moment": callback_by,
            }

        def called_back(e: Any) -> tuple[str, dict[str, Any]]:
            if not e.reached and not getattr(e, "unreachable", True):
                return "touch", {}  # an attempt that did not reach the caller: still to be called back
            return "called_back", {
                "satisfaction": e.satisfaction,
                "flag": None if e.resolved is None else int(e.resolved),
            }

        def reopened(e: Any) -> tuple[str, dict[str, Any]]:
            return "reopened", {"moment": index.dispatch_by(e)}

        def merged(e: Any) -> tuple[str, dict[str, Any]]:
            return "merged", {"merged_into": e.target_ticket_no}

        def erased(e: Any) -> tuple[str, dict[str, Any]]:
            self.erased.add(e.originator_id)
            return "erased", {}

        stagers: dict[type, Callable[[Any], tuple[str, dict[str, Any]]]] = {
            Case.MarkedConfidential: plain("marked_confidential"),
            Case.ContactRevealed: plain("touch"),
            Case.PersonalDataErased: erased,
            Case.HeldForClassification: plain("held"),
            Case.Classified: classified,
            Case.AnsweredDirectly: answered,
            Case.AnsweredFromArticle: answered,
            Case.Dispatched: dispatched,
            Case.Redispatched: dispatched,
            Case.Signed: plain("signed"),
            Case.Returned: returned,
            Case.ReturnApproved: returned,
            Case.ReturnRequested: return_requested,
            Case.ReturnRejected: return_rejected,
            Case.ExtensionRequested: extension_requested,
            Case.ExtensionApproved: extension_approved,
            Case.ExtensionRejected: plain("extension_rejected"),
            Case.Urged: plain("urged"),
            Case.Replied: replied,
            Case.CallbackRecorded: called_back,
            Case.CalledBack: called_back,
            Case.RehandlingWaived: plain("touch"),
            Case.Closed: plain("closed"),
            Case.Reopened: reopened,
            Case.Rehandled: reopened,
            Case.MergedInto: merged,
            Case.Escalated: plain("touch"),
            Case.CooperationAssigned: plain("touch"),
            Case.PartSigned: plain("touch"),
            Case.PartReported: plain("touch"),
            Case.EmergencyFlagged: emergency_flagged,
            Case.HandedOff: handed_off,
            Case.InterimFeedbackRequested: interim_requested,
            Case.InterimFeedbackGiven: interim_given,
        }
        return stagers
