"""Running a command from a submitted form: the shared steps of every action endpoint.

Which actions a page offers is the domain's answer (``aggregate.may``): an action names the
domain command(s) it runs, and is offered when the domain would accept one of them from this user
now. The form still carries the input; the command checks it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import abort, flash, g, request
from flask_wtf import FlaskForm

from hotline.application.failures import retrying
from hotline.domain.actors import Actor
from hotline.domain.errors import DomainError, NotPermitted
from hotline.web.auth import current_actor
from hotline.web.services import clock, hotline

T = TypeVar("T")


@dataclass(frozen=True)
class Action:
    """One action a page offers on a case or a supervision item: the domain command(s) behind it,
    its form, and the application call it runs."""

    title: str
    commands: tuple[str, ...]  # the domain's names (``PERMITS``); offered if any is allowed
    form: type[FlaskForm]
    run: Callable[..., Any]  # (application, reference, actor, form, expected version) -> aggregate
    done: str
    primary: bool = False  # the step that moves things on: the highlighted button
    # A rule from rules/ that narrows who may run it (the approvers of extensions), asked of the application.
    allowed: Callable[[Any, Actor], bool] | None = None
    # Offered only when the aggregate is in this condition (重办 rather than 重启 after an unhappy callback).
    when: Callable[[Any], bool] | None = None

    def offered(self, aggregate: Any, actor: Actor, moment: datetime) -> bool:
        if self.allowed is not None and not self.allowed(hotline(), actor):
            return False
        if self.when is not None and not self.when(aggregate):
            return False
        return any(aggregate.may(command, actor, moment) for command in self.commands)

    def forbidden(self, aggregate: Any, actor: Actor, moment: datetime) -> bool:
        """The actor may never run it here, whatever the state (HTTP 403 rather than a message)."""
        if self.allowed is not None and not self.allowed(hotline(), actor):
            return True
        refusals = [aggregate.refusal(command, actor, moment) for command in self.commands]
        return all(isinstance(refused, NotPermitted) for refused in refusals)


def run_form(form: FlaskForm, command: Callable[[], T], done: str) -> T | None:
    """Validate the form and run the command; flash the outcome in Chinese.

    Returns the command's result, or None when the form or the domain refused (nothing stored)."""
    if not form.validate():
        flash("；".join(error for errors in form.errors.values() for error in errors), "error")
        return None
    try:
        result = retrying(command)  # a lost race or a store blip is tried again; still failing: 503
    except DomainError as error:
        flash(str(error), "error")
        return None
    flash(done, "success")
    return result


def keep_typed(built: dict[str, Any], kept: dict[str, Any] | None, version: int) -> dict[str, Any]:
    """The page's action forms, with a refused one as the user filled it in place of a fresh one
    (its version brought up to the aggregate's: the page shows it as it is now, and it can be sent again)."""
    for name, form in (kept or {}).items():
        if name in built:
            form.version.data = str(version)
            built[name] = form
    return built


def take_action(
    actions: dict[str, Action],
    name: str,
    aggregate: Any,
    reference: str,
    build_form: Callable[..., Any],
    label: str,
) -> Any | None:
    """One POSTed action on a case or an item the user may see: 404 for an unknown action, 403 when
    the user may never take it, else the form is checked and the command run (see ``run_form``)."""
    action = actions.get(name)
    if action is None:
        abort(404)
    actor = current_actor()
    if action.forbidden(aggregate, actor, clock().now()):
        abort(403)
    form = build_form(name, data=request.form)
    result = run_form(
        form,
        lambda: action.run(hotline(), reference, actor, form, int(form.version.data)),
        f"{label}：{action.done}",
    )
    if result is None:
        g.refused_form = form  # a page may show it again with what was typed
    return result
