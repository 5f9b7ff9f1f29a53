"""How a command refuses: one line from the error catalogue, in the chosen language, exit 1."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from checkin.core.errors import DomainError, say


def fail(key: str, /, exit_code: int = 1, **params: Any) -> NoReturn:
    """Print catalogue entry `key` on one line of stderr (in `--lang`) and exit."""
    click.echo(" ".join(say(key, **params).render().split()), err=True)
    sys.exit(exit_code)


def fail_with(error: DomainError) -> NoReturn:
    """Print a raised catalogue error on one line of stderr (in `--lang`) and exit with 1."""
    click.echo(" ".join(error.message.split()), err=True)
    sys.exit(1)
