"""The benchmark's data set is written the way the application writes cases: numbered by the
store's day rows (no TicketCounter aggregates), gapless per day, and a call logged afterwards
takes the next number of its day."""

from __future__ import annotations

from collections import defaultdict

from bench.dataset import OPERATOR_ACTOR, Generator, calls


def test_a_generated_store_numbers_its_cases_like_the_application(services):
    app = services.app
    generated = Generator(app, services.rules, seed=3, batch_cases=120).run(cases=300, events=1500)
    assert generated.cases == 300

    numbers_by_day: dict[str, list[int]] = defaultdict(list)
    for case in app.all_cases():
        day, number = case.ticket_no.split("-")
        numbers_by_day[day].append(int(number))
    assert sum(map(len, numbers_by_day.values())) == 300
    for day, numbers in numbers_by_day.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), day  # gapless, no repeats

    topics = {event.topic for event in app.recorder.select_notifications(1, 100_000)}
    assert not any(topic.startswith("hotline:TicketCounter") for topic in topics)
    written = app.recorder.max_notification_id()
    assert abs(written - 1500) <= 150  # steered to the size asked for (one Opened per case, then its steps)
    assert abs(written - generated.events) <= 0.05 * written

    today = app.now().date().strftime("%Y%m%d")
    opening = app.open_case(calls(services.rules, 1, seed=9)[0], OPERATOR_ACTOR)
    assert opening.ticket_no == f"{today}-{len(numbers_by_day.get(today, [])) + 1:06d}"
