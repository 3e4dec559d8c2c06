"""The ``hotline`` command line (also ``python -m hotline.entrypoints.cli``).

One module per command group; each builds the services it needs through ``context``, and this
module only gathers them, so no command module imports another.
"""

from __future__ import annotations

import click

from hotline.entrypoints.cli.apikeys import apikey
from hotline.entrypoints.cli.audit import audit
from hotline.entrypoints.cli.cases import cases, deadline, demo, serve
from hotline.entrypoints.cli.intake import consume, produce_demo
from hotline.entrypoints.cli.keys import keys
from hotline.entrypoints.cli.knowledge import kb
from hotline.entrypoints.cli.migration import import_
from hotline.entrypoints.cli.month import month
from hotline.entrypoints.cli.notify import notify
from hotline.entrypoints.cli.privacy import privacy
from hotline.entrypoints.cli.projections import ledger, metrics, projections
from hotline.entrypoints.cli.reports import report
from hotline.entrypoints.cli.rules import rules
from hotline.entrypoints.cli.users import users


@click.group(help="12345 政务服务便民热线工单系统")
def main() -> None:
    pass


for command in (
    deadline,
    demo,
    cases,
    serve,
    rules,
    users,
    apikey,
    consume,
    produce_demo,
    projections,
    ledger,
    metrics,
    month,
    keys,
    audit,
    kb,
    import_,
    notify,
    report,
    privacy,
):
    main.add_command(command)

__all__ = ["main"]
