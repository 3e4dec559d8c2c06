"""Benchmark data: realistic calls, and large data sets (e.g. 1M events, 200k cases) written with
batched saves.

Cases are built with the domain's own commands (open, dispatch with the rules' deadlines, sign,
urge, extension, reply, callback, close) and saved a few hundred aggregates per ``save``: the same
events the application would store, written in a fraction of the time. Cases still being worked on
were opened in the last two weeks, finished ones over the last three months, so inboxes and the
deadline queue look like a busy city's, not like a backlog of years. Supervision items (the
督办台账) come through the application's own commands, one save each.

A generated PostgreSQL data set is kept in a schema named after its size (``bench_data_<events>_<cases>``)
with its keys under ``var/bench/<schema>/``, so that ``catchup`` and ``pages`` reuse it; ``--fresh``
makes it again.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import cast

from eventsourcing.persistence import StoredEvent

from bench.harness import PG_URL, PROJECT_DIR, Progress, create_schema, drop_schema, libpq, no_progress, schema_url
from hotline.application import HotlineApplication, SystemClock, clocked
from hotline.application.cases import TicketRecorder
from hotline.domain.actors import OPERATOR, SUPERVISOR, Actor
from hotline.domain.case import Call, Case
from hotline.domain.rules import Rules
from hotline.domain.tickets import TicketDay, format_ticket_no
from hotline.infra.config import Config
from hotline.infra.demo import department_actor
from hotline.infra.demo.vocabulary import CATEGORY_BY_SERVICE, DESCRIPTIONS, DISTRICTS, GIVEN, STREETS, SURNAMES

OPERATOR_ACTOR = Actor("op-bench", OPERATOR)
SUPERVISOR_ACTOR = Actor("sup-bench", SUPERVISOR)
BENCH_DATA_DIR = PROJECT_DIR / "var" / "bench"
OPEN_WINDOW_DAYS = 14
FINISHED_WINDOW_DAYS = 90
CASES_PER_ITEM = 100  # one supervision item per hundred cases

# ending: (steps after open+dispatch..., weight). Opened is the one event every case has.
ENDINGS: dict[str, tuple[tuple[str, ...], int]] = {
    "opened": ((), 3),
    "answered": (("answer",), 8),
    "dispatched": (("dispatch",), 8),
    "signed": (("dispatch", "sign"), 12),
    "urged": (("dispatch", "sign", "urge"), 4),
    "extension": (("dispatch", "sign", "extend", "approve"), 3),
    "replied": (("dispatch", "sign", "reply"), 8),
    "called_back": (("dispatch", "sign", "reply", "callback"), 6),
    "closed": (("dispatch", "sign", "reply", "callback", "close"), 48),
}
STILL_OPEN = {"opened", "dispatched", "signed", "urged", "extension", "replied"}


def rng_first(rng) -> bool:
    """Whether the department contacted the caller first, as callers answer it (mostly yes)."""
    return bool(rng.random() < 0.85)


def routable(rules: Rules) -> list[tuple[str, str]]:
    """(service, district) pairs the routing rules send to a known department."""
    return [
        (service, district)
        for service in DESCRIPTIONS
        for district in DISTRICTS
        if (rules.routing.route(service, district) or "") in rules.departments
    ]


def calls(rules: Rules, count: int, seed: int = 1, *, call_ids: bool = False, prefix: str = "bench") -> list[Call]:
    """Calls the routing rules place (so every case can be dispatched), with Chinese text."""
    rng = random.Random(seed)
    pairs = routable(rules)
    out = []
    for index in range(count):
        service, district = rng.choice(pairs)
        out.append(
            Call(
                channel="phone",
                category=CATEGORY_BY_SERVICE.get(service, "complaint"),
                service_code=service,
                description=f"{rng.choice(DESCRIPTIONS[service])}（第 {index} 件）",
                caller_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                caller_phone=f"13{rng.randint(0, 999_999_999):09d}",
                address=f"{district}{rng.choice(STREETS[district])}{rng.randint(1, 120)}号",
                district=district,
                call_id=f"{prefix}-{seed}-{index:07d}" if call_ids else None,
            )
        )
    return out


def _tilted_weights(target_steps: float) -> dict[str, float]:
    """The endings' weights tilted (w·e^(t·steps)) so that the mean steps per case is ``target_steps``."""
    lengths = {name: len(steps) for name, (steps, _) in ENDINGS.items()}
    low, high = -10.0, 10.0
    for _ in range(60):
        tilt = (low + high) / 2
        weights = {name: w * math.exp(tilt * lengths[name]) for name, (_, w) in ENDINGS.items()}
        mean = sum(weights[n] * lengths[n] for n in weights) / sum(weights.values())
        low, high = (tilt, high) if mean < target_steps else (low, tilt)
    return weights


@dataclass(frozen=True)
class _Planned:
    call: Call
    at: datetime
    steps: tuple[tuple[str, datetime], ...]


@dataclass
class Generated:
    cases: int
    events: int
    items: int


class Generator:
    """Writes ``cases`` cases and about ``events`` events into ``app``'s store."""

    def __init__(
        self,
        app: HotlineApplication,
        rules: Rules,
        *,
        seed: int = 7,
        reference: datetime | None = None,
        batch_cases: int = 500,
    ):
        self.app = app
        self.rules = rules
        self.rng = random.Random(seed)
        self.now = reference or SystemClock().now()
        self.batch_cases = batch_cases
        self.pairs = routable(rules)
        self.callers = [
            (self.rng.choice(SURNAMES) + self.rng.choice(GIVEN), f"13{self.rng.randint(0, 999_999_999):09d}")
            for _ in range(5000)
        ]

    def run(self, cases: int, events: int, progress: Progress = no_progress) -> Generated:
        items = max(1, cases // CASES_PER_ITEM)
        case_events = events - items * 2  # an item: registered, and about one follow-up
        written = 0
        batch: list[_Planned] = []
        for index in range(cases):
            if index % self.batch_cases == 0:
                # Re-aim every batch: steps that would fall after "now" are cut, so the mix drifts.
                per_case = (case_events - written) / (cases - index)
                weights = _tilted_weights(max(0.0, per_case - 1))
                endings, chances = list(weights), list(weights.values())
            ending = self.rng.choices(endings, chances)[0]
            batch.append(self._plan(ending))
            written += self._steps_taken(batch[-1])
            if len(batch) >= self.batch_cases:
                self._save(batch)
                progress(len(batch))
                batch = []
        if batch:
            self._save(batch)
            progress(len(batch))
        written += self._items(items)
        return Generated(cases=cases, events=written, items=items)

    def _save(self, batch: Sequence[_Planned]) -> None:
        """One transaction for the batch, numbered as the application numbers cases: the store
        raises each day's ticket row and the cases are made with the numbers it issued."""
        ordered = sorted(batch, key=lambda planned: planned.at)
        days = Counter(planned.at.date() for planned in ordered)

        def build(firsts: dict[str, int]) -> list[StoredEvent]:
            numbers = dict(firsts)
            stored = []
            for planned in ordered:
                day = planned.at.date().isoformat()
                case = self._case(format_ticket_no(planned.at.date(), numbers[day]), planned)
                numbers[day] += 1
                stored.extend(self.app.mapper.to_stored_event(e) for e in case.collect_events())
            return stored

        recorder = cast(TicketRecorder, self.app.recorder)
        recorder.insert_numbered([TicketDay.of(day, count) for day, count in sorted(days.items())], build)

    def _opened_at(self, ending: str) -> datetime:
        window = OPEN_WINDOW_DAYS if ending in STILL_OPEN else FINISHED_WINDOW_DAYS
        day = (self.now - timedelta(days=self.rng.randint(0, window))).date()
        moment = datetime.combine(day, time(self.rng.randint(7, 21), self.rng.randint(0, 59)), self.now.tzinfo)
        return min(moment, self.now - timedelta(minutes=self.rng.randint(30, 240)))

    def _plan(self, ending: str) -> _Planned:
        """A call and the moments of its steps (cut at "now"); numbered and made in ``_save``."""
        rng = self.rng
        service, district = rng.choice(self.pairs)
        if ending == "answered":
            service = rng.choice(["social_security", "school_enrollment", "household_registration", "housing_fund"])
        name, phone = rng.choice(self.callers)
        call = Call(
            channel=rng.choice(["phone", "phone", "phone", "wechat", "web", "app"]),
            category=CATEGORY_BY_SERVICE.get(service, "complaint"),
            service_code=service,
            description=rng.choice(DESCRIPTIONS[service]),
            caller_name=name,
            caller_phone=phone,
            urgency="urgent" if rng.random() < 0.05 else "normal",
            address=f"{district}{rng.choice(STREETS[district])}{rng.randint(1, 120)}号",
            district=district,
        )
        opened = at = self._opened_at(ending)
        steps = []
        for step in ENDINGS[ending][0]:
            at = at + timedelta(minutes=rng.randint(10, 60 * 20))
            if at >= self.now:
                break
            steps.append((step, at))
        return _Planned(call, opened, tuple(steps))

    @staticmethod
    def _steps_taken(planned: _Planned) -> int:
        return 1 + len(planned.steps)  # Opened, then one event per step

    def _case(self, ticket_no: str, planned: _Planned) -> Case:
        case = Case.open(ticket_no, planned.call, OPERATOR_ACTOR, at=planned.at)
        previous = planned.at
        for step, at in planned.steps:
            if step == "extend" and case.reply_by is not None and at >= case.reply_by:
                at = max(previous, case.reply_by - timedelta(minutes=30))  # an extension is asked within the limit
            self._step(case, step, at)
            previous = at
        return case

    def _step(self, case: Case, step: str, at: datetime) -> None:
        rules = self.rules
        if step == "answer":
            case.answer_directly(OPERATOR_ACTOR, "已按政策口径当场解答，来电人表示清楚。", at=at)
        elif step == "dispatch":
            department = rules.routing.route(case.service_code, case.district)
            deadlines = rules.time_limits.deadlines(rules.calendar, case.category, case.urgency, at)
            case.dispatch(
                OPERATOR_ACTOR,
                department,
                sign_by=deadlines.sign_by.at,
                reply_by=deadlines.reply_by.at,
                provisional=deadlines.provisional,
                note="按派单规则自动派单",
                at=at,
            )
        elif step == "sign":
            case.sign(department_actor(case.department), at=at)
        elif step == "urge":
            case.urge(SUPERVISOR_ACTOR, "请加快办理进度", at=at)
        elif step == "extend":
            case.request_extension(
                department_actor(case.department), 5, "需协调多个部门现场核查", max_days=30, max_total=30, at=at
            )
        elif step == "approve":
            reply_by = rules.calendar.add_working_days(case.reply_by or at, 5)
            case.approve_extension(
                SUPERVISOR_ACTOR,
                reply_by=reply_by.at,
                approvers=rules.handling.extension_approvers,
                provisional=reply_by.provisional,
                at=at,
            )
        elif step == "reply":
            resolved = self.rng.random() < 0.8
            case.reply(
                department_actor(case.department),
                "已安排工作人员现场核查并处理完毕"
                if resolved
                else "已现场核查，因涉及历史遗留问题暂无法解决，已向来电人解释",
                resolved,
                at=at,
            )
        elif step == "callback":
            satisfaction = self.rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], [70, 20, 10])[0]
            case.record_callback(
                OPERATOR_ACTOR,
                reached=True,
                rule=rules.handling.callback,
                contacted_first=rng_first(self.rng),
                satisfaction=satisfaction,
                resolved=satisfaction != "dissatisfied",
                note="已回访来电人",
                at=at,
            )
        elif step == "close":
            if case.needs_rehandling:  # the caller was not satisfied: a supervisor records why no 重办
                case.waive_rehandling(SUPERVISOR_ACTOR, "来电人诉求超出政策范围，已解释", at=at)
            case.close(OPERATOR_ACTOR, at=at)

    def _items(self, count: int) -> int:
        """督办台账 items through the application: registered over the last months, most with a
        weekly progress report, some completed."""
        departments = sorted({d for d in (self.rules.routing.route(s, di) for s, di in self.pairs) if d})
        year = self.now.year
        written = 0
        for number in range(count):
            registered = self.now - timedelta(days=self.rng.randint(1, 80), hours=self.rng.randint(0, 8))
            lead = departments[number % len(departments)]
            reference = f"督〔{year}〕B{number:05d}号"
            clocked(self.app, registered).register_instruction(
                reference,
                SUPERVISOR_ACTOR,
                leader="李市长",
                content=f"请{self.rules.department_name(lead)}"
                f"牵头督促落实第 {number} 项群众反映集中的问题，按期报告办理情况。",
                lead_department=lead,
                due=(registered + timedelta(days=self.rng.randint(20, 90))).date(),
            )
            written += 1
            roll = self.rng.random()
            later = min(registered + timedelta(days=self.rng.randint(1, 6)), self.now - timedelta(minutes=5))
            if roll < 0.7:
                clocked(self.app, later).report_progress(
                    reference, department_actor(lead), "已召开专题会议部署，正在逐项落实。"
                )
                written += 1
            elif roll < 0.9:
                clocked(self.app, later).report_completion(reference, department_actor(lead), "已全部整改到位。")
                written += 1
        return written


# ---- kept PostgreSQL data sets ---------------------------------------------------------------------


@dataclass(frozen=True)
class DataSet:
    schema: str
    url: str
    data_dir: Path
    events: int
    cases: int

    def config(self, **overrides) -> Config:
        return Config(database_url=self.url, data_dir=self.data_dir, cookie_secure=False, **overrides)


def dataset_schema(events: int, cases: int) -> str:
    return f"bench_data_{events}_{cases}"


MARKER = "bench_dataset"
FORMAT_SETTINGS = ("PERSISTENCE_MODULE", "CIPHER_TOPIC", "COMPRESSOR_TOPIC", "APPLICATION_RECORDER_TOPIC")


def store_format(config: Config) -> str:
    """How events are stored (cipher, compressor, recorder): a kept data set written another way
    cannot be read with today's settings and is generated again."""
    env = config.event_store_env()
    return ";".join(f"{name}={env.get(name, '')}" for name in FORMAT_SETTINGS)


def find_dataset(events: int, cases: int, url: str = PG_URL) -> DataSet | None:
    """The kept data set of this size, if it was generated completely (its marker row exists)."""
    import psycopg

    schema = dataset_schema(events, cases)
    data_dir = BENCH_DATA_DIR / schema
    with psycopg.connect(libpq(url), connect_timeout=5) as conn:
        exists = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s", (schema, MARKER)
        ).fetchone()
        if not exists or not (data_dir / "cipher.key").exists():
            return None
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (schema, MARKER),
            )
        }
        if "format" not in columns:
            return None
        row = conn.execute(f'SELECT events, cases, format FROM "{schema}".{MARKER}').fetchone()
    if not row:
        return None
    dataset = DataSet(schema, schema_url(schema, url), data_dir, int(row[0]), int(row[1]))
    return dataset if row[2] == store_format(dataset.config()) else None


def generate_dataset(
    events: int, cases: int, *, url: str = PG_URL, fresh: bool = False, seed: int = 7, progress: Progress = no_progress
) -> DataSet:
    """The kept PostgreSQL data set of this size: found, or (re)generated with the demo accounts."""
    from hotline.infra.bootstrap import bootstrap
    from hotline.infra.demo import ensure_demo_users

    if not fresh and (found := find_dataset(events, cases, url)):
        progress(cases)
        return found
    schema = dataset_schema(events, cases)
    drop_schema(schema, url)
    create_schema(schema, url)
    data_dir = BENCH_DATA_DIR / schema
    for old in ("cipher.key", "caller-hash.key", "flask-secret.key"):
        (data_dir / old).unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    dataset = DataSet(schema, schema_url(schema, url), data_dir, events, cases)
    services = bootstrap(dataset.config())
    try:
        ensure_demo_users(services.app, services.passwords)
        generated = Generator(services.app, services.rules, seed=seed).run(cases, events, progress)
        total = services.app.recorder.max_notification_id() or 0
    finally:
        services.close()
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            f'CREATE TABLE "{schema}".{MARKER} (events bigint, cases bigint, items bigint, made_at text, format text)'
        )
        conn.execute(
            f'INSERT INTO "{schema}".{MARKER} VALUES (%s, %s, %s, %s, %s)',
            (
                total,
                generated.cases,
                generated.items,
                datetime.now().astimezone().isoformat(),
                store_format(dataset.config()),
            ),
        )
    return DataSet(schema, dataset.url, data_dir, total, generated.cases)


@contextmanager
def temporary_dataset(
    events: int, cases: int, *, url: str = PG_URL, seed: int = 7, progress: Progress = no_progress
) -> Iterator[DataSet]:
    """A small data set in a fresh schema and a temp dir, dropped afterwards (smoke runs)."""
    from hotline.infra.bootstrap import bootstrap
    from hotline.infra.demo import ensure_demo_users

    schema = create_schema(url=url)
    directory = tempfile.TemporaryDirectory(prefix="bench-data-")
    dataset = DataSet(schema, schema_url(schema, url), Path(directory.name), events, cases)
    try:
        services = bootstrap(dataset.config())
        try:
            ensure_demo_users(services.app, services.passwords)
            generated = Generator(services.app, services.rules, seed=seed).run(cases, events, progress)
            total = services.app.recorder.max_notification_id() or 0
        finally:
            services.close()
        yield DataSet(schema, dataset.url, dataset.data_dir, total, generated.cases)
    finally:
        drop_schema(schema, url)
        directory.cleanup()
