"""The call centre's figures through the real broker: the switch's messages (``hotline.telephony/1``)
sent to Tansu, read by a ``hotline consume`` process into this test's store, give the figures
computed by hand (the same hand-made feed as tests/store/projections/test_telephony.py, keyed by
call over three partitions as the switch sends it, one call's messages delivered twice and one
message that is not the switch's)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.intake.messages import Outgoing
from tests.broker.test_intake_pipeline import pipeline  # noqa: F401  (the fixture)
from tests.store.projections.test_telephony import DAY, FEED, message

pytestmark = pytest.mark.kafka


def test_the_figures_of_a_feed_sent_through_the_broker_equal_the_hand_computed_ones(pipeline, services):  # noqa: F811
    topics = pipeline.topics
    pipeline.create_topics(3)
    outgoing = [
        Outgoing(topics.telephony, call_id.encode(), message(kind, call_id, clock, extra))
        for kind, call_id, clock, extra in FEED
    ]
    outgoing += outgoing[:3]  # c1's messages delivered twice: nothing changes
    outgoing.append(Outgoing(topics.telephony, b"x", b'{"schema": "hotline.telephony/1", "event": "lost"}'))
    pipeline.produce(outgoing)
    consumer = pipeline.consumer("telephony", "--batch-size", "5")
    log = services.read_models.telephony
    day = (DAY, DAY + timedelta(days=1))
    now = DAY.replace(hour=18)

    def arrived() -> bool:
        f = log.figures(*day, now)
        return f.offered == 7 and len(f.seats) == 2 and f.callbacks_made_in_time == 1 and f.abandoned == 4

    pipeline.wait_for("the feed in the telephony log", arrived, [consumer])
    assert consumer.stop() == 0
    f = log.figures(*day, now)
    assert (f.offered, f.answered, f.answered_in_time, f.abandoned) == (7, 3, 2, 4)
    assert f.answer_rate == round(100 * 3 / 7, 2) == 42.86  # 接通率
    assert f.in_time_rate == round(100 * 2 / 7, 2) == 28.57  # 15 秒接通率
    assert f.average_wait_seconds == round((5 + 20 + 15) / 3, 1) == 13.3
    assert [(m.call_id, m.overdue) for m in f.callbacks_due] == [("c4", True), ("c5", True), ("c6", False)]
    seats = {s.seat: (s.answered, s.average_talk_seconds, s.transferred) for s in f.seats}
    assert seats == {"A01": (2, (180 + 120) / 2, 0), "A02": (1, 240, 1)}
    assert {h: (n, a) for h, n, a in f.by_hour} == {9: (3, 1), 10: (1, 1), 14: (2, 1), 17: (1, 1)}
    # Counted from the calls themselves (not the hourly totals) the same.
    totals, seats_counted, hours_counted = log.counted(*day)
    assert (totals["offered"], totals["answered"], totals["in_time"], totals["abandoned"]) == (7, 3, 2, 4)
    assert sorted(hours_counted) == sorted(f.by_hour) and len(seats_counted) == len(f.seats)
