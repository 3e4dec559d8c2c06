"""Monthly feedback (每月反馈) for a month that has not started is refused: filed ahead, it would
push the next due date out and hide the months that were missed."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.domain.actors import DEPARTMENT, SUPERVISOR, Actor
from hotline.domain.errors import InvalidInput

SUPERVISOR_ACTOR = Actor("sup-1", SUPERVISOR)
HBJ = Actor("hbj-1", DEPARTMENT, "HBJ")


def test_feedback_for_a_future_month_is_refused_and_this_months_is_taken(app, clock):
    reference = "督〔2025〕7号"
    app.register_instruction(
        reference, SUPERVISOR_ACTOR, leader="李市长", content="整治噪声", lead_department="HBJ", due=date(2025, 12, 31)
    )
    with pytest.raises(InvalidInput, match="2025-12 尚未开始，不能提前反馈"):
        app.submit_feedback(reference, HBJ, "2025-12", "提前写好的反馈")
    due_before = app.get_item(reference).feedback_due

    item = app.submit_feedback(reference, HBJ, f"{clock.now():%Y-%m}", "本月已整改 8 家")
    assert item.feedback_months == ["2025-10"] and item.feedback_due > due_before
