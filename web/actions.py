"""Running a command from a submitted form: the shared steps of every action endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import flash
from flask_wtf import FlaskForm

from domain.errors import DomainError

T = TypeVar("T")


@dataclass(frozen=True)
class Action:
    """One action a page offers on a case or a supervision item: who may take it, in which states,
    with which form, and the application command it runs."""

    title: str
    roles: tuple[str, ...]
    statuses: tuple[str, ...]
    form: type[FlaskForm]
    run: Callable[..., Any]  # (application, reference, actor, form, expected version) -> aggregate
    done: str
    when: Callable[[Any], bool] = lambda aggregate: True
    primary: bool = False  # the step that moves things on: the highlighted button

    def offered(self, aggregate: Any, has_role: Callable[..., bool]) -> bool:
        return has_role(*self.roles) and aggregate.status in self.statuses and self.when(aggregate)


def run_form(form: FlaskForm, command: Callable[[], T], done: str) -> T | None:
    """Validate the form and run the command; flash the outcome in Chinese.

    Returns the command's result, or None when the form or the domain refused (nothing stored)."""
    if not form.validate():
        flash("；".join(error for errors in form.errors.values() for error in errors), "error")
        return None
    try:
        result = command()
    except DomainError as error:
        flash(str(error), "error")
        return None
    flash(done, "success")
    return result
