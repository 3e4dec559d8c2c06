"""Hotspots and 集中诉求 on a labelled sample built from the demo generator: the ordinary demo cases
(no matter shared by design), a planted burst water main called in by eight different callers, and
a planted rising topic. The planted cluster is found whole, the planted topic is flagged, and the
clusters' pairwise precision over the whole sample is at least the figure docs/reports.md gives."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import combinations

import pytest

from hotline.application import SimulatedClock
from hotline.domain.workdays import CHINA_TZ
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import DemoLoader
from hotline.infra.demo.hotspots import BIKES, WATER_MAIN, plant_rising_topic, plant_water_main
from hotline.projections.hotspots import Hotspots, jaccard, street_of

NOW = datetime(2026, 11, 30, 18, 0, tzinfo=CHINA_TZ)
REPORTED_PRECISION = 0.9  # docs/reports.md


@pytest.fixture
def sample(tmp_path):
    clock = SimulatedClock(NOW)
    services = bootstrap(Config(data_dir=tmp_path), clock=clock)
    DemoLoader(services.app, seed=2026).load(400)
    water = plant_water_main(services.app, NOW - timedelta(hours=6))
    bikes = plant_rising_topic(services.app, NOW - timedelta(hours=10))
    clock.set(NOW)
    services.read_models.catch_up()
    yield services, water, bikes
    services.close()


def label_of(ticket: str, water: list[str]) -> str:
    """The matter a case is about, by construction: the water main, or its own."""
    return "water-main" if ticket in water else ticket


def test_the_planted_cluster_is_found_whole_and_the_clusters_are_precise(sample):
    services, water, _ = sample
    clusters = Hotspots(services.read_models).clusters(NOW)
    main = next(c for c in clusters if set(water) & {case.ticket_no for case in c.cases})
    assert [case.ticket_no for case in main.cases] == water and main.callers == 8
    assert main.district == "城东区" and main.service_code == "water_supply" and "爆裂" in main.words
    pairs = [pair for cluster in clusters for pair in combinations([c.ticket_no for c in cluster.cases], 2)]
    right = sum(1 for a, b in pairs if label_of(a, water) == label_of(b, water))
    assert pairs and right / len(pairs) >= REPORTED_PRECISION, (right, len(pairs), clusters)


def test_the_planted_topic_rises_above_its_own_baseline(sample):
    services, _water, bikes = sample
    topics = {t.word: t for t in Hotspots(services.read_models).rising(NOW, days=1)}
    assert "单车" in topics and topics["单车"].now == len(bikes) and topics["单车"].baseline == 0
    assert "爆裂" in topics  # the burst main is a rising topic too
    planted = {word for text in (*WATER_MAIN, *BIKES) for word in services.read_models.segmenter.distinct(text)}
    assert set(topics) <= planted  # no word of the ordinary calls is flagged


def test_nearness_and_similarity():
    assert street_of("城东区解放路12号") == street_of("城东区解放路 130 号3单元") == "城东区解放路"
    assert jaccard(frozenset({"水管", "爆裂"}), frozenset({"水管", "积水"})) == pytest.approx(1 / 3)
