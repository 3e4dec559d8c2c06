"""Hotspots (热点) and 集中诉求 over the case index (docs/reports.md; thresholds in rules/analysis.toml).

Rising topics. Each case's description is cut into words by the knowledge base's segmenter (the
same dictionary, stop words and synonyms). For every word: ``now`` = the cases of the last ``days``
that use it (whole days: the words table counts per day); its baseline = the cases that used it in
the ``baseline_days`` before, so its expected
count is its share of the baseline's cases applied to this period's cases:
``expected = baseline × cases_now ÷ cases_baseline``. A word is flagged when all three hold:
``now ≥ min_count``, ``now ≥ min_ratio × max(expected, 1)``, and the Poisson score
``z = (now − expected) ÷ √(expected + 1) ≥ min_z``. Each word is judged against its own past.

集中诉求 (clusters). The cases opened in the last ``cluster_days`` (not merged) are compared within
each (district, service): two are about the same matter when they are near each other (coordinates
within ``cluster_radius_m``, or the same street: the address less its house number) and their word
sets are similar (Jaccard ≥ ``cluster_similarity``). Linked cases form a cluster; a cluster counts
when at least ``cluster_min_callers`` different callers (by the keyed phone hash) are in it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from hotline.domain.analysis import HotspotRules
from hotline.domain.case import MERGED
from hotline.domain.workdays import CHINA_TZ, as_china_time
from hotline.projections.base import IN_CHUNK, stamp, unstamp
from hotline.projections.report_view import FACTS, OPENED, WORDS

if TYPE_CHECKING:
    from hotline.projections.read_models import ReadModels

HOUSE_NUMBER = re.compile(r"[0-9０-９]+.*$")  # the house number and what follows it
EARTH_RADIUS_M = 6_371_000


@dataclass(frozen=True)
class RisingTopic:
    word: str
    now: int
    baseline: int
    expected: float
    z: float

    @property
    def ratio(self) -> float:
        return self.now / max(self.expected, 1.0)


@dataclass(frozen=True)
class ClusterCase:
    ticket_no: str
    opened_at: datetime
    status: str
    department: str | None
    description: str
    address: str
    caller_key: str | None


@dataclass(frozen=True)
class Cluster:
    key: str  # the earliest ticket: stable while the cluster grows
    district: str
    service_code: str
    place: str
    words: tuple[str, ...]  # the words most of its cases share
    callers: int
    cases: tuple[ClusterCase, ...]  # earliest first

    @property
    def open_tickets(self) -> list[str]:
        return [c.ticket_no for c in self.cases if c.status != MERGED]


def street_of(address: str | None) -> str:
    """The address less its house number: 城东区解放路12号 → 城东区解放路."""
    return HOUSE_NUMBER.sub("", (address or "").strip()).strip()


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class Hotspots:
    def __init__(self, models: ReadModels):
        self.models = models
        self.view = models.recorder
        self.table = self.view.table("hv_cases")
        self.facts = self.view.table(FACTS.name)
        self.words = self.view.table(WORDS.name)
        self.segmenter = models.segmenter
        self.rules: HotspotRules = models.rules.analysis.hotspots

    def _cases(self, since: datetime, until: datetime, columns: str) -> list[dict[str, Any]]:
        return self.view.query(
            f"SELECT {columns} FROM {self.table} WHERE opened_at >= ? AND opened_at < ?",
            [stamp(since), stamp(until)],
        )

    def rising(self, until: datetime, days: int = 1) -> list[RisingTopic]:
        """Words rising above their own baseline in the ``days`` before ``until``, strongest first."""
        rules = self.rules
        # Whole days (Beijing time), as the words table counts them: the ``days`` ending with the day
        # ``until`` falls in (the day before, when ``until`` is its midnight), and the baseline before.
        last = as_china_time(until - timedelta(microseconds=1)).date()
        first_now = last - timedelta(days=days - 1)
        first_base = first_now - timedelta(days=rules.baseline_days)
        now: Counter[str] = Counter()
        before: Counter[str] = Counter()
        for row in self.view.query(
            f"SELECT day, word, n FROM {self.words} WHERE day >= ? AND day <= ?",
            [first_base.isoformat(), last.isoformat()],
        ):
            (now if row["day"] >= first_now.isoformat() else before)[row["word"]] += int(row["n"])

        def opened(first: date, end: date) -> int:
            bounds = [stamp(datetime.combine(day, time(0), CHINA_TZ)) for day in (first, end)]
            query = f"SELECT COUNT(*) AS n FROM {self.facts} WHERE kind = ? AND at >= ? AND at < ?"
            return int(self.view.query(query, [OPENED, *bounds])[0]["n"])

        cases_now = opened(first_now, last + timedelta(days=1))
        cases_before = opened(first_base, first_now)
        # The word's share of the baseline's cases, applied to this period's cases: a busier day
        # raises every word's expectation alike, so only words gaining share stand out.
        scale = cases_now / cases_before if cases_before else 0.0
        found = []
        for word, count in now.items():
            expected = before[word] * scale
            z = (count - expected) / math.sqrt(expected + 1)
            if count >= rules.min_count and count >= rules.min_ratio * max(expected, 1.0) and z >= rules.min_z:
                found.append(RisingTopic(word, count, before[word], round(expected, 2), round(z, 2)))
        return sorted(found, key=lambda t: (-t.z, -t.now, t.word))

    def clusters(self, until: datetime) -> list[Cluster]:
        """集中诉求 among the cases of the ``cluster_days`` before ``until``, largest first."""
        rules = self.rules
        # What the comparison needs, for every case of the window; the texts only for the cases found
        # in a cluster (below): a busy city's three days are tens of thousands of cases.
        rows = self.view.query(
            "SELECT c.id, c.ticket_no, c.opened_at, c.district, c.service_code, c.address, "
            f"c.lat, c.long, c.caller_key, f.words FROM {self.table} c "
            f"LEFT JOIN {self.facts} f ON f.id = c.id || ':opened' "
            "WHERE c.opened_at >= ? AND c.opened_at < ? AND c.status <> ?",
            [stamp(until - timedelta(days=rules.cluster_days)), stamp(until), MERGED],
        )
        words = [frozenset((row["words"] or "").split()) for row in rows]
        streets = [street_of(row["address"]) for row in rows]
        parent = list(range(len(rows)))

        def root(n: int) -> int:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        def link(a: int, b: int) -> None:
            if (
                root(a) != root(b)
                and self._near(rows[a], rows[b], streets[a], streets[b])
                and jaccard(words[a], words[b]) >= rules.cluster_similarity
            ):
                parent[root(a)] = root(b)

        # Only cases that could be near are compared: the same street, or neighbouring cells of a grid
        # as wide as the radius (within one district and service).
        cell = rules.cluster_radius_m / 111_000  # degrees of latitude; longitude cells twice as wide (safe to 60°)
        by_street: dict[tuple, list[int]] = {}
        by_cell: dict[tuple, list[int]] = {}
        for number, row in enumerate(rows):
            group = (row["district"] or "", row["service_code"])
            if row["lat"] is not None and row["long"] is not None:
                by_cell.setdefault((*group, int(row["lat"] // cell), int(row["long"] // (2 * cell))), []).append(number)
            if streets[number]:
                by_street.setdefault((*group, streets[number]), []).append(number)
        for members in by_street.values():
            # On one street, cases without coordinates and with the same words are the same matter at
            # once; one of each such group stands for it (a busy street's repeated wording stays cheap).
            alike: dict[frozenset[str], list[int]] = {}
            placed = []
            for n in members:
                if rows[n]["lat"] is None or rows[n]["long"] is None:
                    alike.setdefault(words[n], []).append(n)
                else:
                    placed.append(n)
            for group in alike.values():
                if words[group[0]]:  # the same non-empty words: similarity 1
                    for n in group[1:]:
                        parent[root(n)] = root(group[0])
            chosen = [group[0] for group in alike.values()] + placed
            for i, a in enumerate(chosen):
                for b in chosen[i + 1 :]:
                    link(a, b)
        for (district, service, y, x), members in by_cell.items():
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    others = by_cell.get((district, service, y + dy, x + dx), ())
                    for a in members:
                        for b in others:
                            if a < b:
                                link(a, b)
        linked: dict[int, list[int]] = {}
        for number in range(len(rows)):
            linked.setdefault(root(number), []).append(number)
        clustered = []
        for members in linked.values():
            callers = {rows[n]["caller_key"] for n in members if rows[n]["caller_key"]}
            if len(members) >= 2 and len(callers) >= rules.cluster_min_callers:
                clustered.append((members, callers))
        texts = self._texts([rows[n]["id"] for members, _ in clustered for n in members])
        found = []
        for members, callers in clustered:
            members.sort(key=lambda n: (rows[n]["opened_at"], rows[n]["ticket_no"]))
            shared = Counter(word for n in members for word in words[n])
            first = rows[members[0]]
            found.append(
                Cluster(
                    key=first["ticket_no"],
                    district=first["district"] or "",
                    service_code=first["service_code"],
                    place=Counter(streets[n] for n in members).most_common(1)[0][0],
                    words=tuple(w for w, c in shared.most_common(6) if c * 2 >= len(members)),
                    callers=len(callers),
                    cases=tuple(
                        ClusterCase(
                            rows[n]["ticket_no"],
                            unstamp(rows[n]["opened_at"]),  # type: ignore[arg-type]
                            texts[rows[n]["id"]]["status"],
                            texts[rows[n]["id"]]["department"],
                            texts[rows[n]["id"]]["description"] or "",
                            rows[n]["address"] or "",
                            rows[n]["caller_key"],
                        )
                        for n in members
                    ),
                )
            )
        return sorted(found, key=lambda c: (-c.callers, -len(c.cases), c.key))

    def _texts(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Status, department and description of the cases found in clusters, by id."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            for row in self.view.query(
                f"SELECT id, status, department, description FROM {self.table} "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                found[row["id"]] = row
        return found

    def cluster(self, key: str, until: datetime) -> Cluster | None:
        return next((c for c in self.clusters(until) if c.key == key), None)

    def _near(self, a: dict, b: dict, street_a: str, street_b: str) -> bool:
        if a["lat"] is not None and a["long"] is not None and b["lat"] is not None and b["long"] is not None:
            return metres((a["lat"], a["long"]), (b["lat"], b["long"])) <= self.rules.cluster_radius_m
        return bool(street_a) and street_a == street_b
