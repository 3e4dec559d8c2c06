"""The ``hotline`` command run in-process (click's CliRunner): what a user sees, without a process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from hotline.entrypoints.cli import main

# Settings a test must not inherit from the environment it runs in.
ISOLATED = ("HOTLINE_DATABASE_URL", "HOTLINE_KAFKA_BOOTSTRAP", "HOTLINE_CIPHER_KEY", "HOTLINE_RULES_DIR")


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def hotline(
    *args: str, data_dir: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None
) -> Run:
    environment: dict[str, str | None] = dict.fromkeys(ISOLATED)
    if data_dir is not None:
        environment["HOTLINE_DATA_DIR"] = str(data_dir)
    environment.update(env or {})
    result = CliRunner().invoke(main, list(args), env=environment, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)
