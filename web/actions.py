"""Running a command from a submitted form: the shared steps of every action endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash
from flask_wtf import FlaskForm

from domain.errors import DomainError

T = TypeVar("T")


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
